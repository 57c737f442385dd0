import { expect } from "chai";
import { Wallet, id } from "ethers";
import { PaidClient } from "../../../sdk/client.js";
import { channelId, escrowDomain, signSignerAuthorization } from "../../../sdk/vouchers.js";
import { DevStablecoin__factory } from "../../../types/ethers-contracts/index.js";
import { DEMO_PRICE, demoClient, followedBy, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";
import { freePort } from "../helpers/processes.js";
import type { Relayer } from "../../../relayer/relayer.js";
import { waitFor } from "../helpers/wait.js";

const BPS = 10_000n;

describe("relayer end to end (real chain, Redis, HTTP)", function () {
  this.timeout(120_000);
  let net: TestNetwork;
  let relayer: Relayer;

  before(async () => {
    net = await startTestNetwork();
    // Settle as soon as any voucher is half a second old.
    relayer = await net.startRelayer({ MESHGATE_SETTLE_MAX_AGE_MS: "500", MESHGATE_SETTLE_MIN_VALUE: "1000000000" });
  });
  after(async () => net?.stop());

  it("serves paid calls from two payers, settles them in batches and splits the revenue exactly", async () => {
    const { protocol, seed } = net;
    const token = seed.stablecoin;
    const coin = DevStablecoin__factory.connect(token, net.provider);

    // Payer A signs its own vouchers; payer B authorizes a hot key.
    const payerB = new Wallet(Wallet.createRandom().privateKey, net.provider);
    const hotKey = new Wallet(id("e2e hot key"));
    const payerBSigner = await net.fundPayer(payerB, 50_000n);
    const domain = escrowDomain(net.deployment.chainId, await protocol.escrow.getAddress());
    const deadline = BigInt((await net.provider.getBlock("latest"))!.timestamp + 3600);
    const proof = await signSignerAuthorization(hotKey, domain, payerB.address, deadline);
    await (await protocol.escrow.connect(payerBSigner).authorizeSigner(hotKey.address, deadline, proof)).wait();

    const clients = [
      new PaidClient({
        relayerUrl: relayer.url,
        signer: net.accounts.payer,
        payer: seed.payer,
        apiId: seed.apiId,
        token,
        pricePerCall: DEMO_PRICE,
      }),
      new PaidClient({
        relayerUrl: relayer.url,
        signer: hotKey,
        payer: payerB.address,
        apiId: seed.apiId,
        token,
        pricePerCall: DEMO_PRICE,
      }),
    ];
    const N = 15;
    const upstreamBefore = net.demo.calls();
    for (let i = 0; i < N; i++) {
      for (const [c, client] of clients.entries()) {
        const res = await client.call(`/v1/forecast?city=City${c}-${i}`);
        expect(res.status, await res.clone().text()).to.equal(200);
        const body = (await res.json()) as { city: string; days: unknown[] };
        expect(body.city).to.equal(`City${c}-${i}`);
        expect(res.headers.get("meshgate-cumulative")).to.equal(String(BigInt(i + 1) * DEMO_PRICE));
      }
    }
    expect(net.demo.calls() - upstreamBefore).to.equal(2 * N);

    // Settlement redeems both channels on its own.
    const ids = [seed.payer, payerB.address].map((p) => channelId(p, seed.operator, seed.apiId, token));
    for (const cid of ids) {
      await waitFor(
        "redemption",
        async () => (await protocol.escrow.channels(cid)).redeemed,
        (r) => r === BigInt(N) * DEMO_PRICE,
      );
    }

    // Every Redeemed event's payment split by the governed basis points, summed.
    const split = await protocol.escrow.revenueSplit();
    const events = await protocol.escrow.queryFilter(protocol.escrow.filters.Redeemed(), 0);
    let nodeShare = 0n;
    let protocolShare = 0n;
    let total = 0n;
    for (const e of events) {
      const paid = e.args.paid;
      total += paid;
      nodeShare += (paid * split.nodeBps) / BPS;
      protocolShare += (paid * split.protocolBps) / BPS;
    }
    expect(total).to.equal(2n * BigInt(N) * DEMO_PRICE);
    const providerShare = total - nodeShare - protocolShare;

    // Claims move exactly those amounts to provider, node and treasury.
    const treasury = net.deployment.treasury;
    const before = await Promise.all([seed.provider, seed.operator, treasury].map((a) => coin.balanceOf(a)));
    await (await protocol.escrow.connect(net.accounts.provider).claimProviderEarnings(seed.apiId, token)).wait();
    await (await protocol.escrow.connect(net.accounts.operator).claimNodeEarnings(token)).wait();
    await (await protocol.escrow.connect(net.accounts.deployer).collectProtocolFees(token, [seed.apiId])).wait();
    const after = await Promise.all([seed.provider, seed.operator, treasury].map((a) => coin.balanceOf(a)));
    const gasFree = [after[0]! - before[0]!, after[1]! - before[1]!, after[2]! - before[2]!];
    expect(gasFree).to.deep.equal([providerShare, nodeShare, protocolShare]);
    expect(providerShare).to.equal((total * 8000n) / BPS);
  });

  it("exposes metrics, health and readiness", async () => {
    const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
    expect(metrics).to.match(/meshgate_requests_total\{api="1",auth="voucher",status="200"\} \d+/);
    expect(metrics).to.match(/meshgate_settled_value_total\{token="0x[0-9a-fA-F]{40}"\} [1-9]/);
    expect(metrics).to.include("meshgate_queue_jobs");
    expect((await fetch(`${relayer.url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${relayer.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({ ready: true });
  });

  // Last: the reorganization rewinds the chain under the test network's nonce managers.
  it("forgets what an orphaned block changed once the chain reorganizes", async () => {
    const wallet = new Wallet(id("reorg payer"), net.provider);
    await net.fundPayer(wallet, 10_000_000n);
    const client = demoClient(net, relayer.url, wallet);
    const status = async (city: string) => {
      const res = await client.call(`/v1/forecast?city=${city}`);
      await res.arrayBuffer();
      return res.status;
    };
    expect(await status("BeforeFork")).to.equal(200);
    const reorgs = async () => (await relayer.metrics.chainReorgs.get()).values[0]?.value ?? 0;
    expect(await reorgs()).to.equal(0);

    const snapshot = (await net.provider.send("evm_snapshot", [])) as string;
    // In the blocks about to be orphaned, the provider points the API at an upstream that is not there.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await followedBy(
      relayer,
      net.protocol.registry.connect(net.accounts.provider).updateUpstream(net.seed.apiId, nowhere),
    );
    expect(await status("OnTheFork")).to.equal(502);

    // The chain drops those blocks and grows past them.
    expect(await net.provider.send("evm_revert", [snapshot])).to.equal(true);
    for (let i = 0; i < 3; i++) await net.provider.send("evm_mine", []);
    await waitFor("the relayer to see the reorganization", reorgs, (n) => n >= 1);
    expect(await status("AfterReorg")).to.equal(200);
  });
});
