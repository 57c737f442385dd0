import { expect } from "chai";
import { Wallet, id } from "ethers";
import { PaidClient } from "../../../sdk/client.js";
import { channelId } from "../../../sdk/vouchers.js";
import { start, type Spawned } from "../helpers/processes.js";
import { DEMO_PRICE, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";
import { startRpcProxy, type RpcProxy } from "../helpers/rpc-proxy.js";
import { sleep } from "../helpers/wait.js";

/** One payer calling in a loop; it counts calls served and calls whose outcome it cannot know. */
class Consumer {
  served = 0;
  /** Network errors and 503s while a dependency restarts: maybe charged, never served. */
  unknown = 0;
  refused = new Map<string, number>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private client: PaidClient | undefined;
  private url = "";

  constructor(
    readonly wallet: Wallet,
    private readonly relayerUrl: () => string,
    private readonly net: TestNetwork,
  ) {}

  /** A client for the current relayer process (it moves ports when restarted); it resyncs on its first call. */
  private current(): PaidClient {
    const url = this.relayerUrl();
    if (!this.client || url !== this.url) {
      this.url = url;
      this.client = new PaidClient({
        relayerUrl: url,
        signer: this.wallet,
        payer: this.wallet.address,
        apiId: this.net.seed.apiId,
        token: this.net.seed.stablecoin,
        pricePerCall: DEMO_PRICE,
      });
    }
    return this.client;
  }

  start(): void {
    this.loop = (async () => {
      let i = 0;
      while (!this.stopped) {
        try {
          const res = await this.current().call(`/v1/forecast?city=C${i++}`);
          await res.arrayBuffer();
          if (res.status === 200) this.served++;
          else {
            const code = res.status === 503 ? "503" : String(res.status);
            this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
            if (res.status === 503) this.unknown++;
            // A refused voucher may still be the relayer's latest (stored, then the reply was lost): resync.
            await this.current()
              .sync()
              .catch(() => undefined);
            await sleep(50);
          }
        } catch {
          this.unknown++;
          await sleep(100);
          await this.current()
            .sync()
            .catch(() => undefined);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

describe("relayer fault tolerance: every served call paid exactly once", function () {
  this.timeout(240_000);
  let net: TestNetwork;
  let rpc: RpcProxy;
  let relayer: Spawned | undefined;
  let relayerUrl = "";

  const launch = async () => {
    // node itself, not the tsx CLI: SIGKILL must hit the relayer, not a wrapper that leaves it running.
    relayer = start(process.execPath, ["--import", "tsx", "relayer/main.ts"], {
      ...net.env({ MESHGATE_RPC_URL: rpc.url, MESHGATE_SETTLE_MAX_AGE_MS: "300", MESHGATE_LOG_LEVEL: "warn" }),
    });
    await relayer.waitFor(/serving on http:\/\/\S+/, 60_000);
    relayerUrl = /serving on (http:\/\/\S+)/.exec(relayer.output())![1]!;
  };

  before(async () => {
    net = await startTestNetwork();
    rpc = await startRpcProxy(net.rpcUrl);
  });
  after(async () => {
    await relayer?.stop();
    await rpc?.close();
    await net?.stop();
  });

  it("survives a killed relayer, a Redis restart and an RPC outage under load", async () => {
    const wallets = [1, 2, 3].map((i) => new Wallet(id(`fault payer ${i}`)));
    for (const w of wallets) await net.fundPayer(w, 10_000_000n);
    await launch();
    const consumers = wallets.map((w) => new Consumer(w, () => relayerUrl, net));
    for (const c of consumers) c.start();

    await sleep(1_500);
    // 1. The relayer dies without warning (SIGKILL) and a new process takes over.
    relayer!.child.kill("SIGKILL");
    await sleep(300);
    await launch();
    await sleep(1_500);
    // 2. Redis dies (SIGKILL) and comes back from its append-only file.
    await net.redis.kill();
    await sleep(500);
    await net.redis.start();
    await sleep(1_500);
    // 3. The RPC endpoint fails for three seconds.
    rpc.setDown(true);
    await sleep(3_000);
    rpc.setDown(false);
    await sleep(1_500);
    for (const c of consumers) await c.stop();

    const served = consumers.reduce((n, c) => n + c.served, 0);
    expect(served, "calls served under faults").to.be.greaterThan(30);
    expect(rpc.refused(), "the RPC outage was felt").to.be.greaterThan(0);

    // Settlement catches up: each channel's on-chain redeemed total equals the latest voucher the relayer holds.
    const { escrow } = net.protocol;
    for (const c of consumers) {
      const cid = channelId(c.wallet.address, net.seed.operator, net.seed.apiId, net.seed.stablecoin);
      const deadline = Date.now() + 60_000;
      let latest: bigint;
      let redeemed: bigint;
      for (;;) {
        latest = BigInt(
          ((await (await fetch(`${relayerUrl}/_meshgate/channels/${cid}`)).json()) as { cumulativeAmount: string })
            .cumulativeAmount,
        );
        redeemed = (await escrow.channels(cid)).redeemed;
        if (redeemed === latest || Date.now() > deadline) break;
        await sleep(250);
      }
      // The relayer's warnings tell why settlement stalled, should it.
      const warnings = relayer!.output().split("\n").slice(-20).join("\n");
      expect(redeemed, `settled == latest voucher; the relayer's last output:\n${warnings}`).to.equal(latest);
      // Every served call is paid; nothing is charged beyond calls the payer signed for.
      expect(redeemed >= BigInt(c.served) * DEMO_PRICE, "each served call paid").to.be.true;
      expect(redeemed <= BigInt(c.served + c.unknown) * DEMO_PRICE, "no call charged twice").to.be.true;
    }
    // Paid exactly once: the sum of Redeemed payments equals the sum of the channels' redeemed totals.
    const events = await escrow.queryFilter(escrow.filters.Redeemed(), 0);
    const paid = events.reduce((sum, e) => sum + e.args.paid, 0n);
    let total = 0n;
    for (const c of consumers) {
      total += (
        await escrow.channels(channelId(c.wallet.address, net.seed.operator, net.seed.apiId, net.seed.stablecoin))
      ).redeemed;
    }
    expect(paid).to.equal(total);
  });
});
