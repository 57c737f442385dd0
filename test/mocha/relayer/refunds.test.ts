import { expect } from "chai";
import { Wallet, id } from "ethers";
import type { PaidClient } from "../../../sdk/client.js";
import { channelId } from "../../../sdk/vouchers.js";
import type { Relayer } from "../../../relayer/relayer.js";
import { DEMO_PRICE, demoClient, followedBy, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";
import { serve, type Served } from "../helpers/serve.js";
import { sleep } from "../helpers/wait.js";

/** An upstream that answers /ok, fails /fail with a 503 (after ?delay= ms), and hangs up on /hangup. */
function failingUpstream(): Promise<Served> {
  return serve((req, res) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    const delay = Number(url.searchParams.get("delay") ?? 0);
    setTimeout(() => {
      if (url.pathname === "/hangup") return req.socket.destroy();
      const ok = url.pathname === "/ok";
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ ok }));
    }, delay);
  });
}

describe("relayer: calls the upstream fails are not charged (real chain, Redis, HTTP)", function () {
  this.timeout(120_000);
  let net: TestNetwork;
  let upstream: Served;
  let relayer: Relayer;

  before(async () => {
    net = await startTestNetwork();
    upstream = await failingUpstream();
    // No retries: a hung-up connection fails the call at once. Vouchers are settled once a second old.
    relayer = await net.startRelayer({ MESHGATE_UPSTREAM_RETRIES: "0", MESHGATE_SETTLE_MAX_AGE_MS: "1000" });
    await followedBy(
      relayer,
      net.protocol.registry.connect(net.accounts.provider).updateUpstream(net.seed.apiId, upstream.url),
    );
  });
  after(async () => {
    await upstream?.close();
    await net?.stop();
  });

  async function payer(
    label: string,
  ): Promise<{ client: PaidClient; wallet: Wallet; accepted: () => Promise<bigint> }> {
    const wallet = new Wallet(id(label), net.provider);
    await net.fundPayer(wallet, 10_000_000n);
    const cid = channelId(wallet.address, net.seed.operator, net.seed.apiId, net.seed.stablecoin);
    const accepted = async () =>
      BigInt(
        ((await (await fetch(`${relayer.url}/_meshgate/channels/${cid}`)).json()) as { cumulativeAmount: string })
          .cumulativeAmount,
      );
    return { client: demoClient(net, relayer.url, wallet), wallet, accepted };
  }

  const refunded = async () => (await relayer.metrics.refundedValue.get()).values.reduce((sum, v) => sum + v.value, 0);
  const staleRefusals = async () =>
    (await relayer.metrics.rejections.get()).values.find((v) => v.labels.code === "stale_voucher")?.value ?? 0;

  it("takes back the voucher of a 5xx answer and of a call with no answer; the next voucher follows on", async () => {
    const { client, accepted } = await payer("refund payer");
    const staleBefore = await staleRefusals();
    const statuses: [number, string | null][] = [];
    for (const path of ["/ok", "/fail", "/ok", "/hangup", "/ok", "/fail"]) {
      const res = await client.call(path);
      await res.arrayBuffer();
      statuses.push([res.status, res.headers.get("meshgate-cumulative")]);
    }
    const p = (n: number) => String(BigInt(n) * DEMO_PRICE);
    // Each failed call reports the amount restored; each later call pays one price on top of it.
    expect(statuses).to.deep.equal([
      [200, p(1)],
      [503, p(1)],
      [200, p(2)],
      [502, p(2)],
      [200, p(3)],
      [503, p(3)],
    ]);
    expect(await accepted()).to.equal(3n * DEMO_PRICE);
    expect(await refunded()).to.equal(Number(3n * DEMO_PRICE));
    // The client never had to resynchronize: no voucher was refused as stale.
    expect(await staleRefusals()).to.equal(staleBefore);
  });

  it("keeps a failed call charged when a later call on the channel was accepted while it waited", async () => {
    const { client: slow, wallet, accepted } = await payer("overlap payer");
    // A second client of the same payer and channel (another process of the consumer, say).
    const fast = demoClient(net, relayer.url, wallet);
    await slow.sync();
    const refundedBefore = await refunded();
    // The slow call's voucher (1 price) is accepted, then its upstream fails after 500 ms; meanwhile the
    // other client of the same payer pays 2 prices for a call that succeeds.
    const failing = slow.call("/fail?delay=500");
    await sleep(200);
    await fast.sync();
    const served = await fast.call("/ok");
    await served.arrayBuffer();
    expect(served.status).to.equal(200);
    const failed = await failing;
    await failed.arrayBuffer();
    expect(failed.status).to.equal(503);
    // Not refunded: the later voucher's amount includes it. The header tells the client its voucher stands.
    expect(failed.headers.get("meshgate-cumulative")).to.equal(String(DEMO_PRICE));
    expect(await accepted()).to.equal(2n * DEMO_PRICE);
    expect(await refunded()).to.equal(refundedBefore);
  });

  it("settles only what was served", async () => {
    const { client, accepted } = await payer("settled payer");
    for (const path of ["/ok", "/fail", "/ok"]) await (await client.call(path)).arrayBuffer();
    expect(await accepted()).to.equal(2n * DEMO_PRICE);
    const cid = await client.channelId();
    const deadline = Date.now() + 30_000;
    let redeemed = 0n;
    while (Date.now() < deadline && redeemed < 2n * DEMO_PRICE) {
      redeemed = (await net.protocol.escrow.channels(cid)).redeemed;
      await sleep(250);
    }
    expect(redeemed).to.equal(2n * DEMO_PRICE);
  });
});
