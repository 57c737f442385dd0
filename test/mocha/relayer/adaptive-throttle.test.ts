import { expect } from "chai";
import { Wallet, id } from "ethers";
import type { PaidClient } from "../../../sdk/client.js";
import { channelId } from "../../../sdk/vouchers.js";
import { ERROR_CODES } from "../../../relayer/errors.js";
import type { Relayer } from "../../../relayer/relayer.js";
import { DEMO_PRICE, demoClient, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";

/** Calls to one path, back to back: far above the well-behaved client. */
const HAMMER_CALLS = 90;
const POLITE_CALLS = 20;

describe("adaptive throttling (real chain, Redis, HTTP)", function () {
  this.timeout(180_000);
  let net: TestNetwork;

  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => net?.stop());

  async function client(relayer: Relayer, label: string): Promise<{ client: PaidClient; payer: string }> {
    const wallet = new Wallet(id(label), net.provider);
    await net.fundPayer(wallet, 10_000_000n);
    return { client: demoClient(net, relayer.url, wallet), payer: wallet.address };
  }

  async function accepted(relayer: Relayer, payer: string): Promise<bigint> {
    const cid = channelId(payer, net.seed.operator, net.seed.apiId, net.seed.stablecoin);
    const res = await fetch(new URL(`/_meshgate/channels/${cid}`, relayer.url));
    return BigInt(((await res.json()) as { cumulativeAmount: string }).cumulativeAmount);
  }

  /**
   * The polite client: ten calls over ~4 s with varied queries (the detector's history, at the test's
   * short time constants); then the hammer: one path back to back.
   */
  async function traffic(relayer: Relayer, label: string) {
    const polite = await client(relayer, `${label} polite`);
    const hammer = await client(relayer, `${label} hammer`);
    const upstreamBefore = net.demo.calls();
    const politeStatuses: number[] = [];
    for (let i = 0; i < POLITE_CALLS / 2; i++) {
      const res = await polite.client.call(`/v1/forecast?city=Polite${i}`);
      politeStatuses.push(res.status);
      await res.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    const hammered: { status: number; code?: string; retryAfter: string | null }[] = [];
    for (let i = 0; i < HAMMER_CALLS; i++) {
      const res = await hammer.client.call(`/v1/forecast?city=Same${i}`);
      const text = await res.text();
      hammered.push({
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        ...(res.status === 200 ? {} : { code: (JSON.parse(text) as { error: { code: string } }).error.code }),
      });
    }
    // The polite client keeps going while the hammer is throttled.
    for (let i = POLITE_CALLS / 2; i < POLITE_CALLS; i++) {
      const res = await polite.client.call(`/v1/forecast?city=Polite${i}`);
      politeStatuses.push(res.status);
      await res.arrayBuffer();
    }
    const upstream = net.demo.calls() - upstreamBefore;
    return { polite, hammer, politeStatuses, hammered, upstream };
  }

  it("throttles a client hammering one path, charges nothing for it and spares the polite client", async () => {
    // Share 0: the on-chain limit (10/s) adds no floor, so the test-scale rates are compared with each
    // other. Time constants of 0.5 s and 3 s (defaults 10 s and 10 min): the detector fails open for
    // about one baseline time constant after a start, which the polite phase outlasts.
    const relayer = await net.startRelayer({
      MESHGATE_ADAPTIVE_LIMIT_SHARE: "0",
      MESHGATE_ADAPTIVE_RATE_TAU_MS: "500",
      MESHGATE_ADAPTIVE_BASELINE_TAU_MS: "3000",
      MESHGATE_FORECAST_BUCKET_MS: "1000",
    });
    const t = await traffic(relayer, "adaptive on");

    expect(t.politeStatuses).to.deep.equal(new Array<number>(POLITE_CALLS).fill(200));
    const throttled = t.hammered.filter((h) => h.code === "adaptive_throttle");
    const served = t.hammered.filter((h) => h.status === 200);
    expect(throttled.length, JSON.stringify(t.hammered.slice(-3))).to.be.greaterThan(0);
    expect(served.length + throttled.length).to.equal(HAMMER_CALLS);
    // Throttled from the first refusal on: the detector keeps counting the calls it refuses.
    const first = t.hammered.findIndex((h) => h.code === "adaptive_throttle");
    expect(t.hammered.slice(first).every((h) => h.code === "adaptive_throttle")).to.equal(true);
    for (const h of throttled) {
      expect(h.status).to.equal(ERROR_CODES.adaptive_throttle.status);
      expect(Number(h.retryAfter)).to.be.within(1, 60);
    }

    // The upstream saw only the served calls, and only their vouchers are stored.
    expect(t.upstream).to.equal(POLITE_CALLS + served.length);
    expect(await accepted(relayer, t.hammer.payer)).to.equal(BigInt(served.length) * DEMO_PRICE);
    expect(await accepted(relayer, t.polite.payer)).to.equal(BigInt(POLITE_CALLS) * DEMO_PRICE);

    // Counted by signal (never by identity); the forecast is published per API.
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // close a forecast bucket
    const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
    const counted = [...metrics.matchAll(/^meshgate_relayer_adaptive_throttles_total\{signal="(\w+)"\} (\d+)/gm)];
    expect(counted.length).to.be.greaterThan(0);
    for (const [, signal] of counted) expect(["rate", "hammer", "scan", "errors"]).to.include(signal);
    expect(Math.max(...counted.map((m) => Number(m[2])))).to.equal(throttled.length);
    expect(metrics).to.match(/^meshgate_rejections_total\{code="adaptive_throttle"\} \d+/m);
    expect(metrics).to.match(new RegExp(`^meshgate_relayer_forecast_rps\\{api="${net.seed.apiId}"\\} [1-9]`, "m"));
    expect(metrics).to.match(/^meshgate_relayer_scale_up 0$/m);
    expect(metrics).to.match(/^meshgate_relayer_capacity_rps \d+/m);
    await relayer.stop();
  });

  it("leaves the same traffic alone with MESHGATE_ADAPTIVE_THROTTLE=false", async () => {
    const relayer = await net.startRelayer({ MESHGATE_ADAPTIVE_THROTTLE: "false", MESHGATE_ADAPTIVE_LIMIT_SHARE: "0" });
    const t = await traffic(relayer, "adaptive off");
    expect(t.politeStatuses).to.deep.equal(new Array<number>(POLITE_CALLS).fill(200));
    expect(t.hammered.map((h) => h.status)).to.deep.equal(new Array<number>(HAMMER_CALLS).fill(200));
    expect(t.upstream).to.equal(POLITE_CALLS + HAMMER_CALLS);
    expect(await accepted(relayer, t.hammer.payer)).to.equal(BigInt(HAMMER_CALLS) * DEMO_PRICE);
    const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
    expect(metrics).not.to.match(/^meshgate_relayer_adaptive_throttles_total\{/m);
    await relayer.stop();
  });

  it("does not throttle a lone client using its on-chain allowance on one path (default settings)", async () => {
    const relayer = await net.startRelayer();
    const lone = await client(relayer, "lone");
    const statuses: number[] = [];
    // Within the default policy's burst (100) and at about its sustained rate afterwards.
    for (let i = 0; i < 60; i++) {
      const res = await lone.client.call(`/v1/forecast?city=Lone${i}`);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).to.deep.equal(new Array<number>(60).fill(200));
    await relayer.stop();
  });
});
