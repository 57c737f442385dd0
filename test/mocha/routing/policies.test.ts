import { expect } from "chai";
import {
  leastRequest,
  peakEwma,
  randomPolicy,
  roundRobin,
  seededRng,
  type Candidate,
  type RoutingPolicy,
} from "../../../sdk/routing/index.js";

const EU = { region: "eu-west" };
const node = (id: string, region = "eu-west", reputationBps?: number): Candidate => ({ id, region, reputationBps });
const A = node("a");
const B = node("b");
const C = node("c");

/** Picks, starts and immediately ends a call with the outcome `result` gives the picked node. */
function call(p: RoutingPolicy, cs: readonly Candidate[], now: number, result: (id: string) => [number, boolean]) {
  const c = p.pick(cs, EU, now);
  p.onStart(c.id, now);
  const [latencyMs, ok] = result(c.id);
  p.onResult(c.id, { latencyMs, ok }, now + latencyMs);
  return c.id;
}

describe("routing policies", () => {
  describe("round-robin", () => {
    it("cycles through the candidates in order and follows a changed list", () => {
      const p = roundRobin();
      expect([0, 1, 2, 3].map((t) => p.pick([A, B, C], EU, t).id)).to.deep.equal(["a", "b", "c", "a"]);
      expect(p.pick([A, B], EU, 4).id).to.equal("a"); // call 4 mod 2
      expect(() => p.pick([], EU, 5)).to.throw(RangeError);
    });
  });

  describe("random", () => {
    it("is reproducible for a seed and spreads over all candidates", () => {
      const picks = (seed: number) => {
        const p = randomPolicy(seededRng(seed));
        return Array.from({ length: 300 }, (_, t) => p.pick([A, B, C], EU, t).id);
      };
      expect(picks(5)).to.deep.equal(picks(5));
      for (const id of ["a", "b", "c"]) expect(picks(5).filter((x) => x === id).length).to.be.within(70, 130);
    });
  });

  describe("least-request", () => {
    it("sends the call to the less loaded of the two drawn nodes", () => {
      const p = leastRequest(seededRng(1));
      p.onStart("a", 0);
      p.onStart("a", 0);
      p.onStart("b", 0);
      // Two candidates: both are always drawn, the idle one wins.
      for (let t = 0; t < 20; t++) expect(p.pick([A, C], EU, t).id).to.equal("c");
      // Three: never "a", the most loaded (distinct draws).
      for (let t = 0; t < 50; t++) expect(p.pick([A, B, C], EU, t).id).to.not.equal("a");
      p.onResult("a", { latencyMs: 1, ok: true }, 1);
      p.onResult("a", { latencyMs: 1, ok: true }, 1);
      p.onResult("a", { latencyMs: 1, ok: true }, 1); // an extra end floors at zero
      expect(p.pick([A, B], EU, 2).id).to.equal("a");
    });
  });

  describe("peak-EWMA", () => {
    // Finagle's load term and plain P2C, so the costs below are easy to compute by hand.
    const plain = { inFlightWeight: 1, choiceCostFactor: Infinity };

    it("prefers the geo-closer node before any sample (prior: 2 ms in-region vs 130 ms to ap)", () => {
      for (const seed of [1, 2, 3]) {
        const p = peakEwma(seededRng(seed), plain);
        expect(p.pick([node("far", "ap-northeast"), node("near", "eu-west")], EU, 0).id).to.equal("near");
      }
    });

    it("prefers the reputable node before any sample (cost 2 x (1 + 10 x 0.2) = 6 vs 2)", () => {
      const p = peakEwma(seededRng(1), plain);
      expect(p.pick([node("low", "eu-west", 0), node("high", "eu-west", 10_000)], EU, 0).id).to.equal("high");
    });

    it("learns to avoid a slow node, counting the load it already has", () => {
      const p = peakEwma(seededRng(1), plain);
      // Both start at the 2 ms prior; a is measured at 100 ms, b at 20 ms. With the default mean
      // (no peak jump), a's single sample at 1.1 s is averaged with the prior (warm-up weight 1/2):
      // 2 + (100 - 2) / 2 = 51 ms; b takes every later call and climbs towards 20 ms.
      const lat: Record<string, number> = { a: 100, b: 20 };
      for (let t = 0; t < 10; t++) call(p, [A, B], t * 1_000, (id) => [lat[id]!, true]);
      expect(p.pick([A, B], EU, 10_000).id).to.equal("b");
      // At 10 s, a: 2 + 49 x exp(-8.9 / 120) = ~47.5 ms (relaxing towards its prior) x ~1.54 (error
      // 0.1 - 0.05 x exp(-8.9 / 120) = ~0.054) = ~73; b: ~17.5 ms x ~1.14 (error ~0.014) = ~20:
      // seven calls in flight on b (x 8, ~159) tip the choice to a.
      for (let i = 0; i < 7; i++) p.onStart("b", 10_000);
      expect(p.pick([A, B], EU, 10_000).id).to.equal("a");
    });

    it("a fast failure does not make a node look fast; errors raise its cost", () => {
      const p = peakEwma(seededRng(1), plain);
      // a: 50 ms successes; b: 50 ms successes, then 1 ms failures.
      for (let t = 0; t < 4; t++) call(p, [A, B], t * 100, () => [50, true]);
      const seen = new Set<string>();
      for (let t = 4; t < 8; t++) seen.add(call(p, [A, B], t * 100, (id) => (id === "b" ? [1, false] : [50, true])));
      expect(seen.has("b")).to.be.true;
      for (let t = 8; t < 30; t++) expect(p.pick([A, B], EU, t * 100).id).to.equal("a");
    });

    it("ejects after consecutive failures, probes once after the backoff, restores on success", () => {
      const ejection = { consecutiveFailures: 2, errorRate: 1, minSamples: 1_000, baseMs: 1_000, maxMs: 8_000 };
      const p = peakEwma(seededRng(1), { ...plain, ejection });
      // Only a is offered until it has failed twice at 10 ms.
      call(p, [A], 0, () => [10, false]);
      call(p, [A], 100, () => [10, false]); // ejected at 110 until 1110
      // a is ejected: b gets every call until the backoff ends, even though a's prior is cheaper.
      for (let t = 200; t < 1_110; t += 100) expect(p.pick([A, B], EU, t).id).to.equal("b");
      // Backoff over: the single probe goes to a first; while it is out, a gets nothing else.
      expect(p.pick([A, B], EU, 1_110).id).to.equal("a");
      p.onStart("a", 1_110);
      expect(p.pick([A, B], EU, 1_111).id).to.equal("b");
      // The probe fails: re-ejected for 2 s (until 3120).
      p.onResult("a", { latencyMs: 10, ok: false }, 1_120);
      expect(p.pick([A, B], EU, 3_119).id).to.equal("b");
      expect(p.pick([A, B], EU, 3_120).id).to.equal("a");
      p.onStart("a", 3_120);
      p.onResult("a", { latencyMs: 10, ok: true }, 3_130);
      // Restored: a (10 ms) takes the calls again once b is measured slower (50 ms).
      const picks = Array.from({ length: 40 }, (_, i) =>
        call(p, [A, B], 3_200 + i * 100, (id) => (id === "b" ? [50, true] : [10, true])),
      );
      expect(picks.filter((id) => id === "a").length).to.be.above(30);
    });

    it("falls back to the least bad node when every node is ejected, never throwing", () => {
      const ejection = { consecutiveFailures: 1, errorRate: 1, minSamples: 1_000, baseMs: 60_000, maxMs: 60_000 };
      const p = peakEwma(seededRng(1), { ...plain, ejection });
      call(p, [A], 0, () => [30, false]);
      call(p, [B], 0, () => [300, false]);
      expect(p.pick([A, B], EU, 1_000).id).to.equal("a");
      expect(p.pick([B, A], EU, 1_000).id).to.equal("a");
    });

    it("with the defaults, draws only among the cheapest nodes (choiceCostFactor 1)", () => {
      const p = peakEwma(seededRng(4));
      // Fully reputable (no error prior), so only the latencies differ.
      const [a, b, c, d] = ["a", "b", "c", "d"].map((id) => node(id, "eu-west", 10_000)) as [
        Candidate,
        Candidate,
        Candidate,
        Candidate,
      ];
      const lat: Record<string, number> = { a: 20, b: 21, c: 200, d: 22 };
      // Warm up all four: one sample each, averaged with the 2 ms prior (warm-up weight 1/2): a 11,
      // b 11.5, c 101, d 12 ms. Then c (10x slower) never gets a call; each call goes to the
      // cheapest node, and as a's estimate climbs from 11 towards its 20 ms (the prior's warm-up
      // weight fading), b becomes the cheapest and takes calls too.
      for (const n of [a, b, c, d]) {
        p.pick([n], EU, 0);
        p.onStart(n.id, 0);
        p.onResult(n.id, { latencyMs: lat[n.id]!, ok: true }, 1);
      }
      const picks = Array.from({ length: 200 }, (_, i) => call(p, [a, b, c, d], 10 + i, (id) => [lat[id]!, true]));
      expect(picks).to.not.include("c");
      expect(picks).to.include.members(["a", "b"]);
    });

    it("is deterministic for a seed: the same scenario gives the same picks", () => {
      const run = (seed: number) => {
        const p = peakEwma(seededRng(seed));
        const env = seededRng(99);
        const cs = [A, B, C, node("d", "us-east", 8_000), node("e", "eu-central")];
        const base: Record<string, number> = { a: 40, b: 60, c: 20, d: 90, e: 30 };
        return Array.from({ length: 400 }, (_, i) =>
          call(p, cs, i * 50, (id) => [base[id]! * (0.5 + env.next()), env.next() > 0.05]),
        );
      };
      expect(run(11)).to.deep.equal(run(11));
      expect(run(11)).to.not.deep.equal(run(12));
    });
  });
});
