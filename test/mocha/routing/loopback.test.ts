import { expect } from "chai";
import { runLoopback, type LoopbackResult } from "../../../bench/routing/loopback.js";

/**
 * The routing harness's loopback mode, short: real relayers on a real local chain (paid calls,
 * vouchers, Redis), behind seeded proxies that make two nodes heavy-tailed and one fail with 503
 * a fifth of the time. The peak-EWMA router, through the SDK's RoutedClient, must beat
 * round-robin on p99 and error rate. Orderings only: the timings themselves vary by machine.
 */
describe("routing loopback mode: the router beats round-robin against real relayers", function () {
  this.timeout(120_000);
  let r: LoopbackResult;

  before(async () => {
    r = await runLoopback({ seed: 20250901, calls: 300, lanes: 8 });
  });

  it("answers every policy's calls (errors only from the failing node's 503s and timeouts)", () => {
    for (const s of [r.roundRobin, r.random, r.router]) {
      expect(s.calls).to.equal(300);
      expect(Object.values(s.share).reduce((a, b) => a + b, 0)).to.equal(300);
    }
    // Round-robin sends a fifth of the calls to the node failing 20% of them.
    expect(r.roundRobin.errorRate).to.be.greaterThan(0.01);
  });

  it("gives the router a lower p99 and a lower error rate than round-robin", () => {
    expect(r.router.p99).to.be.lessThan(r.roundRobin.p99);
    expect(r.router.errorRate).to.be.lessThan(r.roundRobin.errorRate);
  });

  it("moves the router's calls off the failing and the slow heavy-tailed node", () => {
    expect(r.router.share.flaky!).to.be.lessThan(r.roundRobin.share.flaky!);
    expect(r.router.share["slow-tail"]!).to.be.lessThan(r.roundRobin.share["slow-tail"]!);
  });
});
