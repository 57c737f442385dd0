import { expect } from "chai";
import { parseEther, parseUnits } from "ethers";
import { Redis } from "ioredis";
import type { Relayer } from "../../../relayer/relayer.js";
import { nodeSubject } from "../../../relayer/validator/qos.js";
import { SampleStore } from "../../../relayer/validator/sample-store.js";
import { PaidClient } from "../../../sdk/client.js";
import { channelId } from "../../../sdk/vouchers.js";
import { DevStablecoin__factory } from "../../../types/ethers-contracts/index.js";
import { DEMO_PRICE, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";
import {
  advanceToEpoch,
  chainEpoch,
  NodeType,
  registerNode,
  setNodeUrl,
  startFaultProxy,
  SubjectKind,
  type FaultProxy,
  type FundedKey,
} from "../helpers/validator-net.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Three serving nodes behind HTTP proxies (one passes through, one adds half a second to every
 * answer, one answers 503), three validators probing them over real HTTP (health and paid
 * calls), consumers paying each node directly, over three epochs of 5 minutes moved by chain
 * time. Every relayer runs its own upkeep: attest, finalize, commit, claim.
 */
describe("reputation end to end: validators score nodes and rewards follow", function () {
  this.timeout(180_000);
  const SLOW_MS = 500;
  const CALLS_PER_EPOCH = 5;
  const MEASURED_EPOCHS = 3;
  const FUNDING = parseEther("500000");

  let net: TestNetwork;
  let redis: Redis;
  const proxies: FaultProxy[] = [];
  const nodes: Record<"healthy" | "slow" | "failing", string> = { healthy: "", slow: "", failing: "" };
  const clients: Record<keyof typeof nodes, PaidClient | undefined> = {
    healthy: undefined,
    slow: undefined,
    failing: undefined,
  };
  const validators: { key: FundedKey; relayer: Relayer; store: SampleStore }[] = [];
  let first: number;

  before(async () => {
    net = await startTestNetwork({ params: { epochLength: 300 } });
    redis = new Redis(net.redis.url);
    const { protocol, seed, accounts } = net;
    const coin = DevStablecoin__factory.connect(seed.stablecoin, accounts.payer);
    const escrow = await protocol.escrow.getAddress();
    const serving = {
      MESHGATE_SETTLE_MAX_AGE_MS: "300",
      MESHGATE_SETTLE_MIN_VALUE: "1000000000",
      MESHGATE_REWARDS_SCAN_MS: "300",
    };

    // Serving nodes: the seed's operator (healthy) and two new Edge nodes, each behind its proxy.
    const [healthyProxy, slowProxy, failingProxy] = [
      await startFaultProxy(),
      await startFaultProxy(),
      await startFaultProxy(),
    ];
    proxies.push(healthyProxy!, slowProxy!, failingProxy!);
    slowProxy!.setDelay(SLOW_MS);
    failingProxy!.setFailStatus(503);
    await setNodeUrl(net, accounts.operator, healthyProxy!.url);
    const healthy = await net.startRelayer(serving);
    healthyProxy!.setTarget(healthy.url);
    nodes.healthy = seed.operator;
    const relayerUrls: Record<string, string> = { healthy: healthy.url };
    for (const [name, proxy] of [
      ["slow", slowProxy!],
      ["failing", failingProxy!],
    ] as const) {
      const k = await registerNode(net, { nodeType: NodeType.Edge, stake: parseEther("1000"), url: proxy.url });
      const relayer = await net.startRelayer({ ...serving, MESHGATE_OPERATOR_KEY: k.key });
      proxy.setTarget(relayer.url);
      nodes[name] = k.address;
      relayerUrls[name] = relayer.url;
    }

    // Consumers pay every node directly (not through the proxies): all three serve paid calls.
    for (const name of ["slow", "failing"] as const) {
      await (await coin.approve(escrow, parseUnits("100", 6))).wait();
      await (
        await protocol.escrow
          .connect(accounts.payer)
          .deposit(nodes[name], seed.apiId, seed.stablecoin, parseUnits("100", 6))
      ).wait();
    }
    for (const name of Object.keys(nodes) as (keyof typeof nodes)[]) {
      clients[name] = new PaidClient({
        relayerUrl: relayerUrls[name]!,
        signer: accounts.payer,
        payer: seed.payer,
        apiId: seed.apiId,
        token: seed.stablecoin,
        pricePerCall: DEMO_PRICE,
      });
    }

    // Rewards: funded from the treasury; dUSDC counts one point per base unit.
    const rewards = protocol.rewards.connect(accounts.deployer);
    await (await protocol.token.connect(accounts.deployer).approve(await rewards.getAddress(), FUNDING)).wait();
    await (await rewards.fund(FUNDING)).wait();
    await (await rewards.setRewardToken(seed.stablecoin, 1)).wait();

    // Three validators, each with a funded probe channel to every serving node.
    for (let i = 0; i < 3; i++) {
      const key = await registerNode(net, {
        nodeType: NodeType.Validator,
        stake: parseEther("10000"),
        url: "http://127.0.0.1:1",
      });
      await (await coin.transfer(key.address, parseUnits("30", 6))).wait();
      await (await coin.connect(key.signer).approve(escrow, parseUnits("30", 6))).wait();
      for (const node of Object.values(nodes)) {
        await (
          await protocol.escrow.connect(key.signer).deposit(node, seed.apiId, seed.stablecoin, parseUnits("10", 6))
        ).wait();
      }
      const relayer = await net.startRelayer({
        MESHGATE_OPERATOR_KEY: key.key,
        MESHGATE_VALIDATOR: "true",
        MESHGATE_VALIDATOR_PROBE_MS: "250",
        MESHGATE_VALIDATOR_PROBE_TIMEOUT_MS: "2000",
        MESHGATE_VALIDATOR_ATTEST_SCAN_MS: "300",
        MESHGATE_REWARDS_SCAN_MS: "300",
        MESHGATE_VALIDATOR_PROBE_API_ID: seed.apiId.toString(),
        MESHGATE_VALIDATOR_PROBE_TOKEN: seed.stablecoin,
        MESHGATE_VALIDATOR_PROBE_API_PATH: "/v1/forecast?city=Probe",
      });
      await setNodeUrl(net, key.signer, relayer.url);
      validators.push({
        key,
        relayer,
        store: new SampleStore(redis, `mg:${key.address.toLowerCase()}`, { maxSamples: 1_000, ttlSeconds: 3_600 }),
      });
    }
    for (const v of validators) {
      await waitFor(
        "validators in the set",
        () => protocol.reputation.isValidator(v.key.address),
        (x) => x,
      );
    }
    first = (await chainEpoch(net)).current + 1;
    await advanceToEpoch(net, first);
  });

  after(async () => {
    redis?.disconnect();
    for (const p of proxies) await p.close();
    await net?.stop();
  });

  const measured = (e: number) => e >= first && e < first + MEASURED_EPOCHS;

  /**
   * Waits for what the relayers owe in epoch `c`: attestations of c-1, finalizations of c-2
   * (nodes and the API), commits of c-3, claims of c-4.
   */
  async function upkeepOf(c: number): Promise<void> {
    const { reputation, rewards } = net.protocol;
    if (measured(c - 1)) {
      for (const v of validators) {
        await waitFor(
          `attestation of ${c - 1}`,
          () => reputation.hasAttested(c - 1, v.key.address),
          (x) => x,
        );
      }
    }
    if (measured(c - 2)) {
      // Every node finalizes itself (validators are scored too: they probe each other).
      for (const node of [...Object.values(nodes), ...validators.map((v) => v.key.address)]) {
        await waitFor(
          `finalization of ${c - 2}`,
          () => reputation.nodeScoreAt(node, c - 2),
          (s) => s.finalized,
        );
      }
      await waitFor(
        `API finalization of ${c - 2}`,
        () => reputation.scoreOf(SubjectKind.Api, net.seed.apiId),
        (s) => s.finalized && s.epoch === BigInt(c - 2),
      );
    }
    if (measured(c - 3)) {
      for (const node of [nodes.healthy, nodes.slow]) {
        await waitFor(
          `commit of ${c - 3}`,
          () => rewards.weightOf(c - 3, node),
          (w) => w > 0n,
        );
      }
    }
    if (measured(c - 4)) {
      for (const node of [nodes.healthy, nodes.slow]) {
        await waitFor(
          `claim of ${c - 4}`,
          () => rewards.claimed(c - 4, node),
          (x) => x,
        );
      }
    }
  }

  it("orders scores healthy > slow > failing and pays rewards in the same order, each epoch's pool exactly", async () => {
    const { protocol, seed } = net;
    const served = { healthy: 0n, slow: 0n, failing: 0n };
    for (let c = first; c < first + MEASURED_EPOCHS + 4; c++) {
      if (c > first) {
        await advanceToEpoch(net, c);
        await upkeepOf(c);
      }
      if (!measured(c)) continue;
      // Paid traffic, settled within the epoch.
      for (const name of Object.keys(nodes) as (keyof typeof nodes)[]) {
        for (let i = 0; i < CALLS_PER_EPOCH; i++) {
          const res = await clients[name]!.call(`/v1/forecast?city=E${c}-${i}`);
          expect(res.status, await res.clone().text()).to.equal(200);
          await res.arrayBuffer();
        }
        served[name] += BigInt(CALLS_PER_EPOCH) * DEMO_PRICE;
        const id = channelId(seed.payer, nodes[name], seed.apiId, seed.stablecoin);
        await waitFor(
          "settlement",
          async () => (await protocol.escrow.channels(id)).redeemed,
          (r) => r === served[name],
        );
      }
      // A few probe rounds of every validator in this epoch.
      for (const v of validators) {
        await waitFor(
          "probe rounds",
          async () => (await v.store.read(c)).get(nodeSubject(nodes.slow))?.rounds ?? 0,
          (n) => n >= 3,
        );
      }
    }

    // Scores: every measured epoch, and the latest smoothed score.
    for (let e = first; e < first + MEASURED_EPOCHS; e++) {
      const [h, s, f] = await Promise.all(Object.values(nodes).map((n) => protocol.reputation.nodeScoreAt(n, e)));
      expect(h!.smoothed, `epoch ${e}`).to.be.greaterThan(s!.smoothed);
      expect(s!.smoothed, `epoch ${e}`).to.be.greaterThan(f!.smoothed);
      expect(f!.smoothed).to.equal(0n);
    }
    const latest = await Promise.all(Object.values(nodes).map((n) => protocol.reputation.scoreOf(SubjectKind.Node, n)));
    expect(new Set(latest.map((s) => s.epoch)).size, "all finalized for the same epoch").to.equal(1);
    expect(latest[0]!.smoothed).to.be.greaterThan(latest[1]!.smoothed);
    expect(latest[1]!.smoothed).to.be.greaterThan(latest[2]!.smoothed);
    expect(latest[0]!.epochScore).to.equal(10_000n);
    expect(latest[1]!.epochScore).to.be.within(1n, 5_000n); // p99 over 500 ms against a 250 ms target
    expect(latest[2]!.epochScore).to.equal(0n);

    // Rewards: per epoch, healthy > slow > failing (nothing to commit), claims summing to the pool.
    const claims = await protocol.rewards.queryFilter(protocol.rewards.filters.RewardClaimed(), 0);
    const emission = await protocol.rewards.emissionPerEpoch();
    const totals = new Map<string, bigint>();
    for (let e = first; e < first + MEASURED_EPOCHS; e++) {
      const ofEpoch = claims.filter((c) => Number(c.args.epoch) === e);
      const paid = (node: string) =>
        ofEpoch.filter((c) => c.args.node === node).reduce((sum, c) => sum + c.args.amount, 0n);
      const [h, s, f] = [paid(nodes.healthy), paid(nodes.slow), paid(nodes.failing)];
      expect(h, `epoch ${e}`).to.be.greaterThan(s);
      expect(s, `epoch ${e}`).to.be.greaterThan(0n);
      expect(f).to.equal(0n);
      expect(await protocol.rewards.weightOf(e, nodes.failing)).to.equal(0n);
      const pool = await protocol.rewards.poolOf(e);
      expect(pool.pool).to.equal(emission);
      expect(pool.paid).to.equal(pool.pool);
      expect(ofEpoch.reduce((sum, c) => sum + c.args.amount, 0n)).to.equal(pool.pool);
    }
    // The nodes staked all their MESH: what they hold now is exactly what they claimed (any epoch).
    for (const c of claims) totals.set(c.args.node, (totals.get(c.args.node) ?? 0n) + c.args.amount);
    for (const node of Object.values(nodes)) {
      expect(await protocol.token.balanceOf(node)).to.equal(totals.get(node) ?? 0n);
    }
    // The probes went through each node's proxy (real HTTP), the failing one answered 503.
    for (const p of proxies) expect(p.requests()).to.be.greaterThan(3 * MEASURED_EPOCHS);
  });
});
