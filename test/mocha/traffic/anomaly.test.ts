import { expect } from "chai";
import { AnomalyDetector, type AnomalyDecision } from "../../../relayer/traffic/anomaly.js";
import { DecayingRate } from "../../../relayer/traffic/decaying-rate.js";
import { PathEntropy } from "../../../relayer/traffic/path-entropy.js";
import { seededRng } from "../../../sdk/routing/rng.js";
import { expectNear } from "../helpers/near.js";

/** A seeded uniform source in [0, 1) (the routing SDK's generator). */
function prng(seed: number): () => number {
  const rng = seededRng(seed);
  return () => rng.next();
}

/** Index in [0, n) drawn with probability ∝ 1 / (i + 1)^s. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cdf: number[] = [];
  let acc = 0;
  for (let i = 0; i < n; i++) cdf.push((acc += 1 / (i + 1) ** s));
  return () => {
    const u = random() * acc;
    const i = cdf.findIndex((c) => c >= u);
    return i < 0 ? n - 1 : i;
  };
}

describe("DecayingRate", function () {
  it("decays by e^(-dt/tau) and adds 1/tau per event (hand-computed)", function () {
    const r = new DecayingRate(1000);
    expect(r.perSecond(0)).to.equal(0);
    r.add(0);
    expect(r.perSecond(0)).to.equal(1); // one event over tau = 1 s
    r.add(1000);
    expectNear(r.perSecond(1000), 1 + Math.exp(-1), 1e-12);
    expectNear(r.perSecond(2000), (1 + Math.exp(-1)) * Math.exp(-1), 1e-12);
  });

  it("converges on a steady stream to 1 / (tau (1 - e^(-gap/tau)))", function () {
    const r = new DecayingRate(10_000);
    for (let t = 0; t <= 600_000; t += 200) r.add(t); // 5/s for 10 minutes (60 tau)
    expectNear(r.perSecond(600_000), 1000 / (10_000 * (1 - Math.exp(-200 / 10_000))), 1e-9);
    expectNear(r.perSecond(600_000), 5, 0.06);
  });
});

describe("PathEntropy", function () {
  it("computes Shannon entropy of the window in bits (hand-computed)", function () {
    const e = new PathEntropy(4);
    expect(e.bits).to.equal(0);
    for (const p of ["a", "a", "b", "c"]) e.push(p);
    // p = (1/2, 1/4, 1/4): H = 1/2 * 1 + 2 * 1/4 * 2 = 1.5 bits.
    expectNear(e.bits, 1.5, 1e-12);
    expect(e.full).to.be.true;
    e.push("d"); // drops the first "a": a, b, c, d
    expectNear(e.bits, 2, 1e-12);
    for (const p of ["z", "z", "z", "z"]) e.push(p);
    expect(e.bits).to.equal(0);
    expect(e.size).to.equal(4);
  });

  it("keeps partial windows honest", function () {
    const e = new PathEntropy(64);
    e.push("a");
    e.push("b");
    expectNear(e.bits, 1, 1e-12);
    expect(e.full).to.be.false;
  });
});

describe("AnomalyDetector", function () {
  const ok: AnomalyDecision = { throttle: false, score: 0, signals: [], explanation: "" };

  it("does not flag well-behaved Zipf clients at diurnal load with a shared spike", function () {
    const random = prng(7);
    const detector = new AnomalyDetector();
    const hour = 3_600_000;
    // 30 clients, 0.2/s to 3/s, Zipf(1) over 1000 paths, load x(1 ± 0.8) over the run and x4 for 5 minutes.
    const events: { t: number; id: string; path: string; error: boolean }[] = [];
    for (let c = 0; c < 30; c++) {
      const path = zipf(1000, 1, random);
      const base = 0.2 * Math.exp(random() * Math.log(15));
      for (let t = random() * 1000; t < 2 * hour;) {
        const load = (1 + 0.8 * Math.sin((Math.PI * t) / hour)) * (t > hour && t < hour + 300_000 ? 4 : 1);
        t += (-Math.log(1 - random()) / (base * load)) * 1000;
        events.push({ t, id: `client${c}`, path: `/p${path()}`, error: random() < 0.05 });
      }
    }
    events.sort((a, b) => a.t - b.t);
    let worst = 0;
    for (const e of events) {
      const decision = detector.request(e.id, e.path, e.t);
      expect(decision.throttle, decision.explanation).to.be.false;
      worst = Math.max(worst, decision.score);
      detector.outcome(e.id, e.error, e.t);
    }
    expect(events.length).to.be.above(100_000);
    expect(worst).to.be.below(1);
  });

  it("flags a hammering burst on the floor, then on its entropy too (hand-computed)", function () {
    const detector = new AnomalyDetector({ rateTauMs: 1000 });
    // All at t = 0: the k-th request reads k events / 1 s = k/s; alone, the reference is the 1/s floor.
    const decisions = Array.from({ length: 64 }, () => detector.request("bot", "/a", 0));
    expect(decisions.slice(0, 4).map((d) => d.throttle)).to.deep.equal([false, false, false, false]);
    expect(decisions[0]?.score).to.equal(1 / 5);
    expect(decisions[4]).to.deep.equal({
      throttle: true,
      score: 1,
      signals: ["rate"],
      explanation: "rate 5.0/s is 5.0x the floor 1.0/s",
    });
    // Four unthrottled requests taught the baseline 4/600 per second: still the floor.
    expect(decisions[63]).to.deep.equal({
      throttle: true,
      score: 64 / 2.5, // the hammer signal's strength: rate over elevatedFactor x reference
      signals: ["rate", "hammer"],
      explanation: "rate 64.0/s is 64.0x the floor 1.0/s; path entropy 0.0 bits over 64 paths (hammering)",
    });
  });

  it("flags a client bursting over its own baseline", function () {
    const detector = new AnomalyDetector();
    const paths = ["/a", "/b", "/a", "/c", "/a", "/d", "/b", "/e"];
    // Four neighbours and the client at 1/s for an hour, then the client at 20/s.
    let t = 0;
    for (; t < 3_600_000; t += 1000) {
      for (let n = 0; n < 4; n++) expect(detector.request(`n${n}`, paths[n % 8] as string, t + n).throttle).to.be.false;
      expect(detector.request("client", paths[(t / 1000) % 8] as string, t + 500).throttle).to.be.false;
    }
    let decision = ok;
    for (let i = 0; !decision.throttle && i < 1000; i++)
      decision = detector.request("client", paths[i % 8] as string, t + 50 * i);
    expect(decision.signals).to.deep.equal(["rate"]);
    const [, rate, ratio, baseline] =
      /^rate (\d+\.\d)\/s is (\d+\.\d)x its baseline (\d+\.\d)\/s$/.exec(decision.explanation) ?? [];
    // ~1/s from the hour, plus the burst's requests before it crossed the threshold (each adds 1/600 per second).
    expect(Number(baseline)).to.be.within(1, 1.2);
    expectNear(Number(rate), 5 * Number(baseline), 0.15);
    expect(Number(ratio)).to.be.within(5, 5.1);
  });

  it("flags an error burst with its share of failures", function () {
    // Weight 2 / (3 + 1) = 0.5; no decay with time here (the next test has it).
    const detector = new AnomalyDetector({ errorWindow: 3, errorDecayMs: Infinity });
    detector.request("x", "/a", 0);
    detector.outcome("x", true, 0); // 0.5
    detector.request("x", "/a", 10_000);
    detector.outcome("x", true, 10_000); // 0.75
    expect(detector.request("x", "/a", 20_000)).to.deep.equal({
      throttle: true,
      score: 1.5,
      signals: ["errors"],
      explanation: "errors 75% of recent requests",
    });
    detector.outcome("x", false, 20_000); // 0.375
    expect(detector.request("x", "/a", 30_000).throttle).to.be.false;
    detector.outcome("nobody", true, 30_000); // unknown identities are ignored
    expect(detector.has("nobody")).to.be.false;
  });

  it("lets an error burst decay with time, so a client throttled for errors alone gets admitted again", function () {
    const detector = new AnomalyDetector({ errorWindow: 3, errorDecayMs: 10_000, rateTauMs: 2_000 });
    detector.request("x", "/a", 0);
    detector.outcome("x", true, 0); // 0.5
    detector.outcome("x", true, 0); // 0.75
    // 0.75 e^{-t/10 s} falls to the ratio 0.5 at t = 10 s x ln 1.5 = 4,055 ms; no outcome arrives meanwhile.
    const at4000 = detector.request("x", "/a", 4_000);
    expect(at4000.signals).to.deep.equal(["errors"]);
    expectNear(at4000.score, 1.5 * Math.exp(-0.4), 1e-12);
    expect(at4000.explanation).to.equal("errors 50% of recent requests");
    expect(detector.request("x", "/a", 4_100).throttle).to.be.false;
    // An outcome first decays the average to its time: 0.75 e^{-0.5} = 0.455, then one more error -> 0.727.
    detector.outcome("x", true, 5_000);
    expectNear(detector.request("x", "/a", 5_000).score, (0.75 * Math.exp(-0.5) + 1) / 2 / 0.5, 1e-12);
    expect(detector.decayMs("errors")).to.equal(10_000);
    expect(detector.decayMs("rate")).to.equal(2_000);
  });

  it("flags a scanner by its entropy at an elevated rate", function () {
    const detector = new AnomalyDetector({ rateTauMs: 1000, rateFactor: 100 });
    let decision = ok;
    for (let i = 0; i < 64; i++) decision = detector.request("scanner", `/probe/${i}`, 0);
    expect(decision.signals).to.deep.equal(["scan"]);
    expect(decision.explanation).to.equal(
      "path entropy 6.0 bits over 64 paths (scanning) at rate 64.0/s is 64.0x the floor 1.0/s",
    );
  });

  it("forgets idle identities and bounds how many it tracks", function () {
    const idle = new AnomalyDetector({ idleMs: 1000 });
    idle.request("a", "/", 0);
    idle.request("b", "/", 500);
    idle.request("c", "/", 1200);
    expect([idle.has("a"), idle.has("b"), idle.has("c"), idle.size]).to.deep.equal([false, true, true, 2]);

    const bounded = new AnomalyDetector({ maxIdentities: 2 });
    bounded.request("x", "/", 0);
    bounded.request("y", "/", 1);
    bounded.request("x", "/", 2); // x is now the most recent
    bounded.request("z", "/", 3);
    expect([bounded.has("x"), bounded.has("y"), bounded.has("z"), bounded.size]).to.deep.equal([true, false, true, 2]);
  });
});
