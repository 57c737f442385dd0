import { expect } from "chai";
import {
  DEFAULT_PEAK_EWMA_OPTIONS,
  DecayingEwma,
  Ejection,
  peakEwmaCost,
  powerOfTwoChoices,
  reputationErrorPrior,
  seededRng,
} from "../../../sdk/routing/index.js";
import { expectNear } from "../helpers/near.js";

const EPS = 1e-9;

describe("routing estimators", () => {
  describe("peak-EWMA latency", () => {
    // Prior 100 ms, decay 10 s, relaxation 100 s, the prior worth one sample.
    const latency = () => new DecayingEwma(100, { decayMs: 10_000, restMs: 100_000, priorWeight: 1, peak: true });

    it("holds the prior until the first sample, whatever the time", () => {
      expect(latency().value(1e9)).to.equal(100);
    });

    it("follows the hand-computed sequence: peak jump, warm-up mean, time-weighted decay, relaxation", () => {
      const e = latency();
      // t=1 s: 300 > 100, jump to the peak.
      e.observe(300, 1_000);
      expect(e.value(1_000)).to.equal(300);
      // t=3 s: v = 100 + 200 e^(-2/100) = 296.03973; 100 < v; weight max(1 - e^(-0.2), 1/3) = 1/3
      // (warm-up): 296.03973 + (100 - 296.03973) / 3 = 230.69316.
      e.observe(100, 3_000);
      expectNear(e.value(3_000), 230.6931564409, EPS);
      // t=63 s: v = 100 + 130.69316 e^(-0.6) = 171.72315; weight max(1 - e^(-6), 1/4) = 0.99752125;
      // 171.72315 + 0.99752125 (50 - 171.72315) = 50.30173.
      e.observe(50, 63_000);
      expectNear(e.value(63_000), 50.3017284016, EPS);
      // 100 s without samples: relaxes to 100 + (50.30173 - 100) e^(-1) = 81.71703.
      expectNear(e.value(163_000), 81.7170276172, EPS);
    });

    it("a sample above the current value always wins at once, even right after another", () => {
      const e = latency();
      e.observe(120, 0);
      e.observe(500, 1);
      expect(e.value(1)).to.equal(500);
      expect(e.samples).to.equal(2);
    });
  });

  describe("error-rate EWMA", () => {
    it("follows the hand-computed sequence (no peak, time-weighted after the warm-up)", () => {
      const e = new DecayingEwma(0.1, { decayMs: 30_000, restMs: 300_000, priorWeight: 1, peak: false });
      // A failure: weight 1/2 (warm-up) -> (0.1 + 1) / 2 = 0.55.
      e.observe(1, 0);
      expectNear(e.value(0), 0.55, EPS);
      // 30 s later a success: v = 0.1 + 0.45 e^(-0.1) = 0.50717723; weight max(1 - e^(-1), 1/3) =
      // 0.63212056; 0.50717723 (1 - 0.63212056) = 0.18657993.
      e.observe(0, 30_000);
      expectNear(e.value(30_000), 0.1865799318, EPS);
    });

    it("becomes the plain mean of prior and samples while samples come close together", () => {
      const e = new DecayingEwma(0, { decayMs: 30_000, restMs: 300_000, priorWeight: 1, peak: false });
      [1, 0, 1, 1].forEach((x, i) => e.observe(x, i));
      // (0 + 1 + 0 + 1 + 1) / 5, up to the 1 ms relaxations.
      expectNear(e.value(3), 0.6, 1e-4);
    });
  });

  describe("cost and priors", () => {
    it("cost = latency x (1 + inFlightWeight x inFlight) x (1 + errorPenalty x errorRate)", () => {
      expectNear(peakEwmaCost(200, 3, 0.1, { inFlightWeight: 0.25, errorPenalty: 10 }), 700, EPS);
      // Finagle's latency x (inFlight + 1) with inFlightWeight 1.
      expectNear(peakEwmaCost(200, 3, 0.1, { inFlightWeight: 1, errorPenalty: 10 }), 1600, EPS);
      expect(peakEwmaCost(40, 0, 0, DEFAULT_PEAK_EWMA_OPTIONS)).to.equal(40);
    });

    it("reputation prior: 20% errors at 0 bps, none at 10,000, 10% when unscored, clamped", () => {
      const o = DEFAULT_PEAK_EWMA_OPTIONS;
      expectNear(reputationErrorPrior(0, o), 0.2, EPS);
      expectNear(reputationErrorPrior(7_500, o), 0.05, EPS);
      expect(reputationErrorPrior(10_000, o)).to.equal(0);
      expectNear(reputationErrorPrior(undefined, o), 0.1, EPS);
      expect(reputationErrorPrior(20_000, o)).to.equal(0);
      expectNear(reputationErrorPrior(-5, o), 0.2, EPS);
    });
  });

  describe("power of two choices", () => {
    const items = ["a", "b", "c", "d"];
    const cost: Record<string, number> = { a: 4, b: 3, c: 2, d: 1 };

    it("compares the two distinct items a fixed seed draws (hand-computed from its draws)", () => {
      // seededRng(42) draws 0.97057, 0.84572, 0.84761, 0.31414:
      // pick 1: i = floor(0.97057 x 4) = 3 (d), second = floor(0.84572 x 3) = 2 (c) -> d (cost 1);
      // pick 2: i = floor(0.84761 x 4) = 3 (d), second = floor(0.31414 x 3) = 0 (a) -> d.
      const rng = seededRng(42);
      const expensiveD: Record<string, number> = { ...cost, d: 9 };
      expect(powerOfTwoChoices(items, (x) => cost[x]!, rng)).to.equal("d");
      expect(powerOfTwoChoices(items, (x) => expensiveD[x]!, rng)).to.equal("a");
    });

    it("never draws the same item twice, so the most expensive item never wins", () => {
      const rng = seededRng(3);
      for (let k = 0; k < 500; k++) expect(powerOfTwoChoices(items, (x) => cost[x]!, rng)).to.not.equal("a");
    });

    it("keeps the first drawn on a tie, returns a single item without drawing, rejects none", () => {
      let draws = 0;
      const counting = { next: () => (draws++ === 0 ? 0.9 : 0.1) };
      // First draw: index floor(0.9 x 2) = 1 ("y"), second the other one ("x"); equal cost -> "y".
      expect(powerOfTwoChoices(["x", "y"], () => 1, counting)).to.equal("y");
      draws = 0;
      expect(powerOfTwoChoices(["only"], () => 1, counting)).to.equal("only");
      expect(draws).to.equal(0);
      expect(() => powerOfTwoChoices([], () => 1, counting)).to.throw(RangeError);
    });
  });

  describe("ejection", () => {
    const options = { consecutiveFailures: 3, errorRate: 0.5, minSamples: 10, baseMs: 1_000, maxMs: 4_000 };

    it("follows the hand-computed timeline: eject, half-open probe, doubling capped backoff, restore", () => {
      const e = new Ejection(options);
      expect(e.onResult(false, 0, 0.3, 1)).to.equal("none");
      expect(e.onResult(true, 1, 0.2, 2)).to.equal("none"); // a success resets the run
      expect(e.onResult(false, 2, 0.3, 3)).to.equal("none");
      expect(e.onResult(false, 3, 0.4, 4)).to.equal("none");
      expect(e.onResult(false, 4, 0.45, 5)).to.equal("ejected"); // 3 in a row: out until 4 + 1000
      expect(e.health(4)).to.equal("ejected");
      expect(e.health(1_003)).to.equal("ejected");
      // A call started before the ejection reports late: no news about recovery.
      expect(e.onResult(true, 500, 0.4, 6)).to.equal("none");
      expect(e.health(1_004)).to.equal("probe-ready");
      e.startProbe();
      expect(e.health(1_004)).to.equal("probing");
      expect(e.onResult(false, 1_010, 0.5, 7)).to.equal("ejected"); // 2nd: 2000 ms, until 3010
      expect(e.health(3_009)).to.equal("ejected");
      expect(e.health(3_010)).to.equal("probe-ready");
      e.startProbe();
      expect(e.onResult(false, 3_020, 0.5, 8)).to.equal("ejected"); // 3rd: 4000 ms, until 7020
      expect(e.health(7_019)).to.equal("ejected");
      e.startProbe();
      expect(e.onResult(false, 7_020, 0.5, 9)).to.equal("ejected"); // 4th: 8000 capped to 4000
      expect(e.health(11_019)).to.equal("ejected");
      expect(e.health(11_020)).to.equal("probe-ready");
      e.startProbe();
      expect(e.onResult(true, 11_030, 0.4, 10)).to.equal("restored");
      expect(e.health(11_030)).to.equal("healthy");
      // Failing again soon after: the 5th ejection keeps the capped backoff.
      for (const t of [11_100, 11_101]) expect(e.onResult(false, t, 0.3, 11)).to.equal("none");
      expect(e.onResult(false, 11_102, 0.3, 12)).to.equal("ejected");
      expect(e.health(15_101)).to.equal("ejected");
      expect(e.health(15_102)).to.equal("probe-ready");
      e.startProbe();
      expect(e.onResult(true, 15_200, 0.3, 13)).to.equal("restored");
      // Healthy for maxMs (4 s) after the restore: the backoff starts over at baseMs.
      for (const t of [19_200, 19_201]) e.onResult(false, t, 0.3, 14);
      expect(e.onResult(false, 19_202, 0.3, 15)).to.equal("ejected");
      expect(e.health(20_201)).to.equal("ejected");
      expect(e.health(20_202)).to.equal("probe-ready");
    });

    it("ejects on the error rate only once minSamples outcomes back it", () => {
      const e = new Ejection(options);
      expect(e.onResult(false, 0, 0.9, 9)).to.equal("none");
      expect(e.onResult(true, 1, 0.6, 10)).to.equal("none"); // successes never eject
      expect(e.onResult(false, 2, 0.49, 11)).to.equal("none");
      expect(e.onResult(false, 3, 0.5, 12)).to.equal("ejected");
    });
  });
});
