import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { getAddress, parseEther, parseUnits } from "ethers";
import { Redis } from "ioredis";
import { ConfigError, loadRelayerConfig } from "../../../relayer/config.js";
import type { Relayer } from "../../../relayer/relayer.js";
import type { Attestation } from "../../../relayer/validator/attestation.js";
import { probe } from "../../../relayer/validator/prober.js";
import {
  apiSubject,
  buildAttestation,
  nodeSubject,
  percentile,
  qosOf,
  ratioBps,
  type SubjectStats,
} from "../../../relayer/validator/qos.js";
import { SampleStore } from "../../../relayer/validator/sample-store.js";
import { startRedis, type RedisServer } from "../../../scripts/dev/redis-server.js";
import { DevStablecoin__factory } from "../../../types/ethers-contracts/index.js";
import { freePort } from "../helpers/processes.js";
import { startTestNetwork, type TestNetwork } from "../helpers/relayer.js";
import {
  advanceTime,
  advanceToEpoch,
  chainEpoch,
  NodeType,
  probesTo,
  registerNode,
  setNodeUrl,
  startFaultProxy,
  SubjectKind,
  type FaultProxy,
  type FundedKey,
} from "../helpers/validator-net.js";
import { sleep, waitFor } from "../helpers/wait.js";

const stats = (s: Partial<SubjectStats>): SubjectStats => ({
  attempts: 0,
  successes: 0,
  rounds: 0,
  reachable: 0,
  latencies: [],
  ...s,
});

describe("validator: measurement aggregation", () => {
  it("takes nearest-rank percentiles (lower median for even counts)", () => {
    expect(percentile([10, 20, 30, 40], 50)).to.equal(20);
    expect(percentile([10, 20, 30, 40], 99)).to.equal(40);
    expect(percentile([1, 2, 3, 4, 5], 50)).to.equal(3);
    expect(percentile([7], 50)).to.equal(7);
    expect(percentile([7], 99)).to.equal(7);
    const hundred = Array.from({ length: 100 }, (_, i) => (i + 1) * 1_000);
    expect(percentile(hundred, 50)).to.equal(50_000);
    expect(percentile(hundred, 99)).to.equal(99_000);
    const thousand = Array.from({ length: 1_000 }, (_, i) => i + 1);
    expect(percentile(thousand, 99)).to.equal(990);
    expect(() => percentile([], 50)).to.throw(RangeError);
  });

  it("computes ratios in basis points, rounded down", () => {
    expect(ratioBps(2, 3)).to.equal(6_666);
    expect(ratioBps(1, 3)).to.equal(3_333);
    expect(ratioBps(3, 3)).to.equal(10_000);
    expect(ratioBps(0, 5)).to.equal(0);
    expect(ratioBps(0, 0)).to.equal(0);
    expect(ratioBps(7, 4)).to.equal(10_000);
  });

  it("turns an epoch's counters and samples into a Qos", () => {
    // 8 probes, 6 answered correctly; 4 rounds, reachable in 3; latencies shuffled.
    const latencies = [40_000, 10_000, 30_000, 20_000, 60_000, 50_000];
    expect(qosOf(stats({ attempts: 8, successes: 6, rounds: 4, reachable: 3, latencies }), 5_000_000)).to.deep.equal({
      p50Micros: 30_000,
      p99Micros: 60_000,
      successBps: 7_500,
      availabilityBps: 7_500,
    });
    // No successful probe: latency "at least the timeout"; never probed: nothing to report.
    expect(qosOf(stats({ attempts: 3, rounds: 3, reachable: 0 }), 5_000_000)).to.deep.equal({
      p50Micros: 5_000_000,
      p99Micros: 5_000_000,
      successBps: 0,
      availabilityBps: 0,
    });
    expect(qosOf(stats({}), 5_000_000)).to.equal(undefined);
  });

  it("builds the attestation in canonical order, without itself or unprobed subjects", () => {
    const self = "0x00000000000000000000000000000000000000cc";
    const a = "0x00000000000000000000000000000000000000AA";
    const b = "0x00000000000000000000000000000000000000bb";
    const d = "0x00000000000000000000000000000000000000dd";
    const s = stats({ attempts: 2, successes: 1, rounds: 2, reachable: 2, latencies: [1_000] });
    const map = new Map([
      [nodeSubject(b), s],
      [nodeSubject(self), s],
      [nodeSubject(a), s],
      [nodeSubject(d), stats({})],
      [apiSubject(2n), s],
      [apiSubject(1n), s],
    ]);
    const q = { p50Micros: 1_000, p99Micros: 1_000, successBps: 5_000, availabilityBps: 10_000 };
    expect(buildAttestation(7, map, self.toUpperCase().replace("0X", "0x"), 9)).to.deep.equal({
      epoch: 7,
      nodes: [
        { node: getAddress(a), qos: q },
        { node: getAddress(b), qos: q },
      ],
      apis: [
        { apiId: 1n, qos: q },
        { apiId: 2n, qos: q },
      ],
    });
    expect(buildAttestation(7, new Map([[nodeSubject(self), s]]), self, 9)).to.equal(undefined);
  });

  it("validates its environment, naming the variable", () => {
    expect(() => loadRelayerConfig({ MESHGATE_VALIDATOR: "maybe" }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/MESHGATE_VALIDATOR/);
    expect(() => loadRelayerConfig({ MESHGATE_VALIDATOR_PROBE_API_ID: "1" }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/MESHGATE_VALIDATOR_PROBE_TOKEN/);
    expect(() => loadRelayerConfig({ MESHGATE_VALIDATOR_PROBE_TIMEOUT_MS: "0" }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/MESHGATE_VALIDATOR_PROBE_TIMEOUT_MS/);
    const token = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const c = loadRelayerConfig({
      MESHGATE_VALIDATOR: "true",
      MESHGATE_VALIDATOR_PROBE_API_ID: "3",
      MESHGATE_VALIDATOR_PROBE_TOKEN: token,
    });
    expect(c.validator).to.deep.include({ enabled: true, probeMs: 30_000, probeTimeoutMs: 5_000, samples: 1_000 });
    expect(c.validator.paidProbe).to.deep.equal({ apiId: 3n, token, path: "/", maxPrice: 1_000_000n });
    expect(loadRelayerConfig({}).validator).to.deep.include({ enabled: false, paidProbe: undefined });
    expect(loadRelayerConfig({}).rewards).to.deep.equal({ enabled: true, scanMs: 60_000, lookbackEpochs: 8 });
  });
});

describe("validator: sample store (real Redis) and probes (real HTTP)", function () {
  this.timeout(30_000);
  let redisServer: RedisServer;
  let redis: Redis;
  const servers: Server[] = [];

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
  });
  after(async () => {
    redis?.disconnect();
    await redisServer?.stop();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it("keeps a bounded reservoir of latencies and adds up counters per round", async () => {
    // u = 0 always picks slot 0: after samples 1..50 with room for 10, the list is [50, 2..10].
    const store = new SampleStore(redis, "t1", { maxSamples: 10, ttlSeconds: 600, random: () => 0 });
    const subject = nodeSubject("0x00000000000000000000000000000000000000aa");
    const latencies = Array.from({ length: 50 }, (_, i) => i + 1);
    await store.record(3, { subject, attempts: 50, successes: 50, reachable: true, latencies });
    await store.record(3, { subject, attempts: 2, successes: 0, reachable: false, latencies: [] });
    const read = await store.read(3);
    expect(read.get(subject)).to.deep.equal({
      attempts: 52,
      successes: 50,
      rounds: 2,
      reachable: 1,
      latencies: [50, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    });
    expect((await store.read(4)).size).to.equal(0);
    expect(await redis.ttl(`t1:val:3:${subject}`)).to.be.within(590, 600);

    // u close to 1 never replaces (j >= max): the first 10 stay.
    const keep = new SampleStore(redis, "t2", { maxSamples: 10, ttlSeconds: 600, random: () => 0.999 });
    await keep.record(1, { subject, attempts: 1, successes: 1, reachable: true, latencies });
    expect(((await keep.read(1)).get(subject) as SubjectStats).latencies).to.deep.equal(latencies.slice(0, 10));
  });

  it("keeps samples and the signed attestation across a Redis crash (append-only file)", async () => {
    const store = new SampleStore(redis, "t3", { maxSamples: 100, ttlSeconds: 600 });
    const subject = apiSubject(12n);
    await store.record(9, { subject, attempts: 3, successes: 2, reachable: true, latencies: [1_500, 2_500] });
    const attestation: Attestation = {
      epoch: 9,
      nodes: [],
      apis: [{ apiId: 12n, qos: { p50Micros: 1, p99Micros: 2, successBps: 3, availabilityBps: 4 } }],
    };
    await store.saveAttestation({ attestation, signature: "0x1234" });
    const before = await store.read(9);
    await redisServer.restart();
    await waitFor(
      "redis back",
      () => redis.ping().catch(() => "down"),
      (v) => v === "PONG",
    );
    expect(await store.read(9)).to.deep.equal(before);
    expect(await store.loadAttestation(9)).to.deep.equal({ attestation, signature: "0x1234" });
    expect(await store.loadAttestation(8)).to.equal(undefined);
  });

  it("classifies probes: 2xx, other status, timeout (also mid-body), refused", async () => {
    const listen = async (handler: Parameters<typeof createServer>[1]) => {
      const server = createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const ok = await listen((_req, res) => setTimeout(() => res.end("ok"), 30));
    const failing = await listen((_req, res) => res.writeHead(503).end("down"));
    const slow = await listen((_req, res) => setTimeout(() => res.end("late"), 1_000));
    const slowBody = await listen((_req, res) => {
      res.writeHead(200);
      res.write("start");
      setTimeout(() => res.end("end"), 1_000);
    });
    const refused = `http://127.0.0.1:${await freePort()}`;

    const good = await probe({ url: ok, timeoutMs: 500 });
    expect(good).to.deep.include({ outcome: "ok", answered: true, status: 200 });
    expect(good.latencyMicros).to.be.within(25_000, 500_000);
    expect(await probe({ url: failing, timeoutMs: 500 })).to.deep.include({
      outcome: "status",
      answered: true,
      status: 503,
    });
    expect(await probe({ url: slow, timeoutMs: 200 })).to.deep.include({ outcome: "timeout", answered: false });
    expect(await probe({ url: slowBody, timeoutMs: 200 })).to.deep.include({ outcome: "timeout", answered: true });
    expect(await probe({ url: refused, timeoutMs: 500 })).to.deep.include({ outcome: "error", answered: false });
  });
});

describe("validator mode in the relayer (real chain, Redis, HTTP)", function () {
  this.timeout(120_000);
  const PROXY_DELAY_MS = 40;
  const TIMEOUT_MS = 1_000;
  let net: TestNetwork;
  let proxy: FaultProxy;
  let validatorKey: FundedKey;
  let dead: FundedKey;
  let validator: Relayer;
  let serving: Relayer;
  let redis: Redis;
  let store: SampleStore;
  let epoch: number;
  let validatorEnv: Record<string, string>;

  before(async () => {
    net = await startTestNetwork({ params: { epochLength: 300 } });
    const { protocol, seed } = net;
    // The serving node (the seed's operator) behind a proxy that adds a known delay.
    serving = await net.startRelayer({ MESHGATE_REWARDS_SCAN_MS: "300" });
    proxy = await startFaultProxy();
    proxy.setTarget(serving.url);
    proxy.setDelay(PROXY_DELAY_MS);
    await setNodeUrl(net, net.accounts.operator, proxy.url);
    // A node nobody answers for (connection refused).
    dead = await registerNode(net, {
      nodeType: NodeType.Edge,
      stake: parseEther("1000"),
      url: `http://127.0.0.1:${await freePort()}`,
    });

    // The validator, with a funded channel to the serving node for paid probes of the demo API.
    validatorKey = await registerNode(net, {
      nodeType: NodeType.Validator,
      stake: parseEther("10000"),
      url: "http://127.0.0.1:1",
    });
    const coin = DevStablecoin__factory.connect(seed.stablecoin, net.accounts.payer);
    const deposit = parseUnits("10", 6);
    await (await coin.transfer(validatorKey.address, deposit)).wait();
    await (await coin.connect(validatorKey.signer).approve(await protocol.escrow.getAddress(), deposit)).wait();
    await (
      await protocol.escrow.connect(validatorKey.signer).deposit(seed.operator, seed.apiId, seed.stablecoin, deposit)
    ).wait();

    validatorEnv = {
      MESHGATE_OPERATOR_KEY: validatorKey.key,
      MESHGATE_VALIDATOR: "true",
      MESHGATE_VALIDATOR_PROBE_MS: "150",
      MESHGATE_VALIDATOR_PROBE_TIMEOUT_MS: String(TIMEOUT_MS),
      MESHGATE_VALIDATOR_ATTEST_SCAN_MS: "200",
      MESHGATE_REWARDS_SCAN_MS: "300",
      MESHGATE_VALIDATOR_PROBE_API_ID: seed.apiId.toString(),
      MESHGATE_VALIDATOR_PROBE_TOKEN: seed.stablecoin,
      MESHGATE_VALIDATOR_PROBE_API_PATH: "/v1/forecast?city=Probe",
    };
    validator = await net.startRelayer(validatorEnv);
    await waitFor(
      "the validator to join the validator set",
      () => protocol.reputation.isValidator(validatorKey.address),
      (v) => v,
    );
    redis = new Redis(net.redis.url);
    store = new SampleStore(redis, `mg:${validatorKey.address.toLowerCase()}`, {
      maxSamples: 1_000,
      ttlSeconds: 3_600,
    });
    // A fresh epoch, measured from its start.
    epoch = (await chainEpoch(net)).current + 1;
    await advanceToEpoch(net, epoch);
  });
  after(async () => {
    redis?.disconnect();
    await proxy?.close();
    await net?.stop();
  });

  const seedNode = () => net.seed.operator;

  it("refuses validator mode on a node that is not a Validator node", async () => {
    let error: unknown;
    await net.startRelayer({ MESHGATE_VALIDATOR: "true" }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(
      /MESHGATE_VALIDATOR is set but node 0x[0-9a-fA-F]{40} is not a Validator node/,
    );
  });

  it("probes every other node over real HTTP and keeps the samples across relayer and Redis restarts", async () => {
    const rounds = async () => (await store.read(epoch)).get(nodeSubject(seedNode()))?.rounds ?? 0;
    await waitFor("three probe rounds", rounds, (n) => n >= 3);
    expect(await probesTo(validator, seedNode())).to.be.at.least(3);
    await validator.stop();
    const before = await store.read(epoch);
    const node = before.get(nodeSubject(seedNode()))!;
    const deadStats = before.get(nodeSubject(dead.address))!;
    const api = before.get(apiSubject(net.seed.apiId))!;
    expect(before.has(nodeSubject(validatorKey.address)), "never itself").to.equal(false);
    // The serving node: every health probe and paid call fine, each health latency over the proxy's delay.
    expect(node.rounds).to.be.at.least(3);
    expect(node.reachable).to.equal(node.rounds);
    expect(node.attempts).to.equal(2 * node.rounds);
    expect(node.successes).to.equal(node.attempts);
    expect(node.latencies).to.have.length(node.rounds);
    for (const l of node.latencies) expect(l).to.be.within(PROXY_DELAY_MS * 1_000, TIMEOUT_MS * 1_000);
    // The dead node: probed every round, never reachable, and never paid.
    expect(deadStats).to.deep.include({ attempts: deadStats.rounds, successes: 0, reachable: 0, latencies: [] });
    expect(api.attempts).to.equal(node.rounds);
    expect(api.successes).to.equal(api.attempts);
    expect(api.latencies).to.have.length(api.attempts);

    // Redis crashes (SIGKILL) and comes back from its append-only file; the validator restarts.
    await net.redis.restart();
    expect(await store.read(epoch)).to.deep.equal(before);
    // The serving node shares this Redis: it is not ready (and would rightly fail probes) until it reconnects.
    await waitFor(
      "the serving node ready again",
      () => fetch(`${serving.url}/readyz`).then((r) => r.status),
      (status) => status === 200,
    );
    validator = await net.startRelayer(validatorEnv);
    await waitFor("two more rounds", rounds, (n) => n >= node.rounds + 2);
    const after = (await store.read(epoch)).get(nodeSubject(seedNode()))!;
    expect(after.rounds).to.be.at.least(node.rounds + 2);
    expect(after.latencies.slice(0, node.latencies.length)).to.deep.equal(node.latencies);
  });

  it("signs and submits the ended epoch's attestation as measured, exactly once", async () => {
    const { reputation } = net.protocol;
    const firstBlock = (await net.provider.getBlockNumber()) + 1;
    await advanceToEpoch(net, epoch + 1);
    await waitFor(
      "the attestation",
      () => reputation.hasAttested(epoch, validatorKey.address),
      (v) => v,
    );
    const measured = buildAttestation(epoch, await store.read(epoch), validatorKey.address, TIMEOUT_MS * 1_000)!;

    // What went on-chain is exactly what the samples give.
    const events = await reputation.queryFilter(reputation.filters.Attested(validatorKey.address, epoch), firstBlock);
    expect(events).to.have.length(1);
    const tx = (await net.provider.getTransaction(events[0]!.transactionHash))!;
    const [sent] = reputation.interface.decodeFunctionData("attest", tx.data) as unknown as [
      { epoch: bigint; nodes: { node: string; qos: bigint[] }[]; apis: { apiId: bigint; qos: bigint[] }[] },
    ];
    const plain = {
      epoch: Number(sent.epoch),
      nodes: sent.nodes.map((r) => ({ node: r.node, qos: qosObject(r.qos) })),
      apis: sent.apis.map((r) => ({ apiId: r.apiId, qos: qosObject(r.qos) })),
    };
    expect(plain).to.deep.equal(measured);
    expect((await store.loadAttestation(epoch))?.attestation).to.deep.equal(measured);

    // Hand-checked: the serving node perfect, the dead one unreachable, the API answered every paid call.
    expect(measured.nodes).to.have.length(2);
    const served = measured.nodes.find((r) => r.node === seedNode())!;
    expect(served.qos).to.deep.include({ successBps: 10_000, availabilityBps: 10_000 });
    expect(served.qos.p50Micros).to.be.at.least(PROXY_DELAY_MS * 1_000);
    expect(measured.nodes.find((r) => r.node !== seedNode())).to.deep.equal({
      node: dead.address,
      qos: { p50Micros: TIMEOUT_MS * 1_000, p99Micros: TIMEOUT_MS * 1_000, successBps: 0, availabilityBps: 0 },
    });
    expect(measured.apis).to.have.length(1);
    expect(measured.apis[0]!.qos).to.deep.include({ successBps: 10_000, availabilityBps: 10_000 });
    expect(await reputation.reportCount(SubjectKind.Node, seedNode(), epoch)).to.equal(1n);

    // More scans, a restart, even the kept attestation gone: the chain says it is done, nothing is re-sent.
    const kept = (await store.loadAttestation(epoch))!;
    const metrics = await validator.metrics.attestations.get();
    expect(metrics.values[0]?.value).to.equal(1);
    await sleep(800);
    await validator.stop();
    await redis.del(`mg:${validatorKey.address.toLowerCase()}:val:${epoch}:attestation`);
    validator = await net.startRelayer(validatorEnv);
    await sleep(1_000);
    expect(await attestTransactions(firstBlock)).to.equal(1);
    await store.saveAttestation(kept);
  });

  it("finalizes what it reported during the epoch after, taking turns with the nodes", async () => {
    const { reputation } = net.protocol;
    await advanceToEpoch(net, epoch + 2);
    const score = (kind: number, id: bigint | string) => () => reputation.scoreOf(kind, id);
    const final = (s: { finalized: boolean; epoch: bigint }) => s.finalized && s.epoch === BigInt(epoch);
    // At once: the serving node finalizes itself, the validator (designated: the only one) the API.
    const node = await waitFor("node score", score(SubjectKind.Node, seedNode()), final);
    const api = await waitFor("API score", score(SubjectKind.Api, net.seed.apiId), final);
    await sleep(1_000);
    expect((await reputation.scoreOf(SubjectKind.Node, dead.address)).finalized, "the dead node's own turn").to.equal(
      false,
    );
    // From half the window, the validator finalizes the nodes it reported that did not do it themselves.
    await advanceTime(net, 160);
    const deadScore = await waitFor("dead node score", score(SubjectKind.Node, dead.address), final);
    // Fast enough (p99 under the 250 ms target) and always right: perfect; the dead node: zero.
    expect(node.epochScore).to.equal(10_000n);
    expect(deadScore.epochScore).to.equal(0n);
    expect(api.epochScore).to.equal(10_000n);
  });

  async function attestTransactions(fromBlock: number): Promise<number> {
    const reputation = await net.protocol.reputation.getAddress();
    const selector = net.protocol.reputation.interface.getFunction("attest")!.selector;
    let count = 0;
    for (let n = fromBlock; n <= (await net.provider.getBlockNumber()); n++) {
      const block = await net.provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from === validatorKey.address && tx.to === reputation && tx.data.startsWith(selector)) count++;
      }
    }
    return count;
  }
});

function qosObject(q: bigint[]) {
  return {
    p50Micros: Number(q[0]),
    p99Micros: Number(q[1]),
    successBps: Number(q[2]),
    availabilityBps: Number(q[3]),
  };
}
