import { expect } from "chai";
import { runHarness, type HarnessResult } from "../../../bench/routing/harness.js";
import { summaryJson } from "../../../bench/routing/report.js";

/**
 * The short version of `npm run bench:routing` (same scenario shapes, days of one virtual
 * minute): asserts the orderings on the seeded trace, never timings.
 */
describe("routing evaluation harness (short)", function () {
  this.timeout(120_000);
  let result: HarnessResult;

  before(function () {
    result = runHarness({ seed: 20250901, size: "short" });
  });

  it("is deterministic for a seed", function () {
    const again = runHarness({ seed: 20250901, size: "short" });
    expect(summaryJson(again)).to.deep.equal(summaryJson(result));
  });

  it("the router's p99 is at most half round-robin's and near the oracle's", function () {
    expect(result.router.p99).to.be.lessThan(result.roundRobin.p99);
    expect(result.router.p99).to.be.at.most(0.5 * result.roundRobin.p99);
    // The oracle knows the true latencies: the router cannot beat it. The 1.1x bound is
    // the full run's figure (npm run bench:routing); the short trace compresses a day into a
    // virtual minute, so nodes drift ~10x faster than the router's 10 s estimates follow, and it
    // gets a guard band here: closer to the oracle than to any baseline.
    expect(result.oracle.p99).to.be.at.most(result.router.p99);
    expect(result.router.p99).to.be.at.most(1.5 * result.oracle.p99);
    const leastRequest = result.policies.find((p) => p.name === "least-request")!;
    expect(result.router.p99).to.be.lessThan(leastRequest.p99);
  });

  it("the router's error rate is below random's and round-robin's", function () {
    expect(result.router.errorRate).to.be.lessThan(result.random.errorRate);
    expect(result.router.errorRate).to.be.lessThan(result.roundRobin.errorRate);
  });

  it("the predictive cache hits more than an LRU of the same size", function () {
    expect(result.cache.predictive.hitRate).to.be.greaterThan(result.cache.lru.hitRate);
  });

  it("the anomaly detector catches the abusive client with recall and precision >= 0.9", function () {
    expect(result.anomaly.recall).to.be.at.least(0.9);
    expect(result.anomaly.precision).to.be.at.least(0.9);
  });

  it("ends its report with the issue's JSON keys", function () {
    expect(Object.keys(summaryJson(result)).slice(0, 7)).to.deep.equal([
      "p99VsRoundRobin",
      "p99VsOracle",
      "cacheHitRate",
      "lruHitRate",
      "forecastMape",
      "anomalyPrecision",
      "anomalyRecall",
    ]);
  });
});
