import { expect } from "chai";
import type { CallInit } from "../../../sdk/client.js";
import { RoutedClient, RoutedTimeoutError, type NodeCaller } from "../../../sdk/routed-client.js";
import type { Candidate, Outcome, RoutingPolicy } from "../../../sdk/routing/index.js";
import { serve, type Served } from "../helpers/serve.js";

/**
 * RoutedClient's routing, timeout and outcome logic against real HTTP servers on loopback. The
 * node clients are plain fetch callers (NodeCaller), not PaidClients: no chain, no vouchers (the
 * loopback harness test, test/mocha/routing/loopback.test.ts, runs it with PaidClients against
 * real relayers).
 */

/** A server answering `/status/N` with N after `?delay=ms`, tracking its peak concurrency. */
async function startServer(): Promise<Served & { peak: () => number }> {
  let inFlight = 0;
  let peak = 0;
  const served = await serve((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    const url = new URL(req.url!, "http://x");
    const status = Number(url.pathname.split("/")[2] ?? 200);
    let done = false;
    const end = () => {
      if (!done) inFlight--;
      done = true;
    };
    // An aborted call (the client's timeout) ends here, not when its delay is over.
    res.on("close", end);
    setTimeout(
      () => {
        if (done) return;
        end();
        res.writeHead(status, { "content-type": "text/plain" }).end(`status ${status}`);
      },
      Number(url.searchParams.get("delay") ?? 0),
    );
  });
  return { ...served, peak: () => peak };
}

const caller = (base: string): NodeCaller => ({
  call: (path: string, init: CallInit = {}) => fetch(base + path, init.signal ? { signal: init.signal } : {}),
});

/** Always picks `target()`; records every onStart/onResult. */
function scripted(target: () => string): RoutingPolicy & { log: string[]; outcomes: [string, Outcome][] } {
  const log: string[] = [];
  const outcomes: [string, Outcome][] = [];
  return {
    name: "scripted",
    log,
    outcomes,
    pick: (candidates: readonly Candidate[]) => {
      const id = target();
      return candidates.find((c) => c.id === id)!;
    },
    onStart: (id) => log.push(`start ${id}`),
    onResult: (id, outcome) => {
      log.push(`end ${id}`);
      outcomes.push([id, outcome]);
    },
  };
}

describe("RoutedClient", function () {
  this.timeout(20_000);
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>;
  let closedUrl: string;

  before(async () => {
    a = await startServer();
    b = await startServer();
    const c = await startServer();
    closedUrl = c.url;
    await c.close();
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const client = (policy: RoutingPolicy, timeoutMs = 2_000) =>
    new RoutedClient({
      nodes: [
        { candidate: { id: "a", region: "eu-west" }, client: caller(a.url) },
        { candidate: { id: "b", region: "us-east", reputationBps: 9_000 }, client: caller(b.url) },
        { candidate: { id: "down", region: "eu-west" }, client: caller(closedUrl) },
      ],
      policy,
      context: { region: "eu-west" },
      timeoutMs,
    });

  it("reports 2xx and 4xx as ok, 5xx and transport errors as not ok, with the answer or the error", async () => {
    let target = "a";
    const policy = scripted(() => target);
    const c = client(policy);
    const ok = await c.call("/status/200?delay=30");
    expect(ok.node).to.equal("a");
    expect(ok.status).to.equal(200);
    expect(new TextDecoder().decode(ok.body)).to.equal("status 200");
    expect(ok.outcome.ok).to.equal(true);
    expect(ok.outcome.latencyMs).to.be.within(25, 1_000);
    expect((await c.call("/status/404")).outcome.ok).to.equal(true);
    const failed = await c.call("/status/503");
    expect([failed.status, failed.outcome.ok]).to.deep.equal([503, false]);
    target = "down";
    const down = await c.call("/status/200");
    expect(down.outcome.ok).to.equal(false);
    expect(down.status).to.equal(undefined);
    expect(down.error).to.be.instanceOf(Error);
    expect(policy.outcomes.map(([id, o]) => [id, o.ok])).to.deep.equal([
      ["a", true],
      ["a", true],
      ["a", false],
      ["down", false],
    ]);
    expect(policy.outcomes[0]![1]).to.deep.equal(ok.outcome);
  });

  it("times a slow call out: not ok, latency about the timeout, a RoutedTimeoutError", async () => {
    const policy = scripted(() => "b");
    const r = await client(policy, 150).call("/status/200?delay=1000");
    expect(r.outcome.ok).to.equal(false);
    expect(r.outcome.latencyMs).to.be.within(140, 600);
    expect(r.error).to.be.instanceOf(RoutedTimeoutError);
    expect(policy.log).to.deep.equal(["start b", "end b"]);
  });

  it("serializes calls on one node's channel, runs calls to different nodes concurrently", async () => {
    const targets = ["a", "a", "a", "b", "b"];
    let i = 0;
    const policy = scripted(() => targets[i++]!);
    const c = client(policy);
    const peakA = a.peak();
    const start = performance.now();
    const results = await Promise.all(targets.map(() => c.call("/status/200?delay=100")));
    const wall = performance.now() - start;
    expect(results.map((r) => r.node)).to.deep.equal(targets);
    expect(a.peak()).to.equal(Math.max(peakA, 1));
    expect(b.peak()).to.equal(1);
    // a's three calls queue (~300 ms), b's two run meanwhile; every call counts its queue wait.
    expect(wall).to.be.within(280, 1_500);
    expect(results.map((r) => r.outcome.latencyMs).sort((x, y) => x - y)[4]).to.be.greaterThan(280);
    // Every call was in flight from its pick: five starts before the first end.
    expect(policy.log.slice(0, 5).every((l) => l.startsWith("start"))).to.equal(true);
  });

  it("counts a call that timed out waiting for its channel as failed without sending it", async () => {
    const policy = scripted(() => "a");
    const c = client(policy, 400);
    const [first, second] = await Promise.all([c.call("/status/200?delay=200"), c.call("/status/200?delay=0")]);
    expect(first.outcome.ok).to.equal(true);
    // The second waited ~200 ms for the channel, then was sent and answered within 400 ms.
    expect(second.outcome.ok).to.equal(true);
    const [slow, queued] = await Promise.all([c.call("/status/200?delay=800"), c.call("/status/200?delay=0")]);
    expect(slow.error).to.be.instanceOf(RoutedTimeoutError);
    expect(queued.error).to.be.instanceOf(RoutedTimeoutError);
  });

  it("rejects an empty or duplicate node list", () => {
    const policy = scripted(() => "a");
    expect(() => new RoutedClient({ nodes: [], policy, context: { region: "" }, timeoutMs: 1 })).to.throw(RangeError);
    const n = { candidate: { id: "a", region: "" }, client: caller(a.url) };
    expect(() => new RoutedClient({ nodes: [n, n], policy, context: { region: "" }, timeoutMs: 1 })).to.throw(
      RangeError,
    );
  });
});
