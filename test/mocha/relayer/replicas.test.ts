import { expect } from "chai";
import { Wallet, id } from "ethers";
import type { PaidClient } from "../../../sdk/client.js";
import { PEAK_EWMA_FLAG } from "../../../sdk/routing/index.js";
import type { Relayer } from "../../../relayer/relayer.js";
import { forwardTo } from "../helpers/forward.js";
import { freePort } from "../helpers/processes.js";
import { serve } from "../helpers/serve.js";
import { demoClient, followedBy, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";

/** A replica of the demo API: a proxy to it that counts the calls it serves and may answer late. */
interface Replica {
  url: string;
  readonly calls: number;
  close(): Promise<void>;
}

async function replica(demoUrl: string, delayMs: number): Promise<Replica> {
  let calls = 0;
  const served = await serve((req, res) => {
    calls++;
    setTimeout(() => forwardTo(new URL(demoUrl), req, res), delayMs);
  });
  return {
    url: served.url,
    get calls() {
      return calls;
    },
    close: served.close,
  };
}

describe("relayer: routing among an API's upstream replicas (real chain, Redis, HTTP)", function () {
  this.timeout(120_000);
  let net: TestNetwork;
  let relayer: Relayer;
  let fast: Replica;
  let slow: Replica;
  let dead: string;
  let client: PaidClient;
  let call = 0;

  const listUpstreams = (...urls: string[]) =>
    followedBy(
      relayer,
      net.protocol.registry.connect(net.accounts.provider).updateUpstream(net.seed.apiId, urls.join(" ")),
    );

  /** Distinct queries: the demo's answers are cacheable, and a cache hit reaches no replica. */
  async function calls(n: number, method = "GET"): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await client.call(`/v1/forecast?city=R${call++}`, { method });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    return statuses;
  }

  const failovers = async () =>
    (await relayer.metrics.upstreamFailovers.get()).values.reduce((sum, v) => sum + v.value, 0);

  before(async () => {
    net = await startTestNetwork();
    fast = await replica(net.demo.url, 0);
    slow = await replica(net.demo.url, 40);
    dead = `http://127.0.0.1:${await freePort()}`;
    relayer = await net.startRelayer();
    const wallet = new Wallet(id("replica payer"), net.provider);
    await net.fundPayer(wallet, 10_000_000n);
    client = demoClient(net, relayer.url, wallet);
  });
  after(async () => {
    await fast?.close();
    await slow?.close();
    await net?.stop();
  });

  it("round-robins over the listed replicas while the Developer DAO's flag is off", async function () {
    await listUpstreams(fast.url, slow.url);
    const before = [fast.calls, slow.calls];
    expect(await calls(20)).to.deep.equal(Array(20).fill(200));
    expect([fast.calls - before[0]!, slow.calls - before[1]!]).to.deep.equal([10, 10]);
  });

  it("fails a replayable call over to another replica when one is unreachable; a POST is not replayed", async function () {
    await listUpstreams(fast.url, dead);
    const before = { fast: fast.calls, failovers: await failovers() };
    expect(await calls(20)).to.deep.equal(Array(20).fill(200));
    expect(fast.calls - before.fast).to.equal(20);
    // Round-robin sends at least every other call to the dead replica first (a failover's second pick also
    // moves its cursor); each of those was failed over, none failed.
    const failedOver = (await failovers()) - before.failovers;
    expect(failedOver).to.be.within(10, 20);

    // A POST may have reached the upstream before the connection broke: never sent twice. The demo answers
    // 405 to a POST; the calls routed to the dead replica get the relayer's 502.
    const posts = await calls(6, "POST");
    expect(posts.filter((s) => s === 405)).to.have.length(3);
    expect(posts.filter((s) => s === 502)).to.have.length(3);
    expect((await failovers()) - before.failovers).to.equal(failedOver);
  });

  it("learns the faster replica once the flag rolls peak-EWMA out to this node", async function () {
    await listUpstreams(fast.url, slow.url);
    await followedBy(relayer, net.protocol.flags.connect(net.accounts.deployer).setFlag(PEAK_EWMA_FLAG, true, 10_000));
    const before = [fast.calls, slow.calls];
    expect(await calls(40)).to.deep.equal(Array(40).fill(200));
    const [toFast, toSlow] = [fast.calls - before[0]!, slow.calls - before[1]!];
    expect(toFast + toSlow).to.equal(40);
    // Round-robin would send 20 to each; the learned policy sends nearly all to the replica 40 ms faster.
    expect(toFast).to.be.at.least(36);
  });

  it("refuses calls to an API whose upstream list has a malformed entry, and serves it again once fixed", async function () {
    await listUpstreams(fast.url, "ftp://files.example/");
    const [status] = await calls(1);
    expect(status).to.equal(404);
    await listUpstreams(fast.url);
    expect(await calls(2)).to.deep.equal([200, 200]);
  });
});
