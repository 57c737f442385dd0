import { expect } from "chai";
import { HoltWinters, RateForecaster } from "../../../relayer/traffic/holt-winters.js";

describe("HoltWinters (additive)", function () {
  it("forecasts the mean of the buckets seen before two seasons are in", function () {
    const hw = new HoltWinters({ period: 2 });
    expect(hw.forecast()).to.equal(0);
    hw.observe(1);
    hw.observe(3);
    hw.observe(3);
    expect(hw.ready).to.be.false;
    expect(hw.forecast(5)).to.equal(7 / 3);
  });

  it("initialises from two seasons and replays the second through the updates (hand-computed)", function () {
    const hw = new HoltWinters({ period: 2, alpha: 0.5, beta: 0.5, gamma: 0.5 });
    for (const x of [1, 3, 3, 5]) hw.observe(x);
    // Init: L = (1 + 3) / 2 = 2, b = ((3 - 1)/2 + (5 - 3)/2) / 2 = 1, s = [1 - 2, 3 - 2] = [-1, 1].
    // t=2 (x=3, phase 0): L = .5(3 + 1) + .5(2 + 1) = 3.5; b = .5(1.5) + .5(1) = 1.25; s0 = .5(3 - 3.5) + .5(-1) = -0.75.
    // t=3 (x=5, phase 1): L = .5(5 - 1) + .5(3.5 + 1.25) = 4.375; b = .5(0.875) + .5(1.25) = 1.0625;
    //                     s1 = .5(5 - 4.375) + .5(1) = 0.8125.
    expect(hw.ready).to.be.true;
    expect(hw.level).to.equal(4.375);
    expect(hw.trend).to.equal(1.0625);
    expect(hw.seasonal).to.deep.equal([-0.75, 0.8125]);
    expect(hw.forecast(1)).to.equal(4.375 + 1.0625 - 0.75); // next bucket has phase 0
    expect(hw.forecast(2)).to.equal(4.375 + 2 * 1.0625 + 0.8125);
    expect(hw.forecast(3)).to.equal(4.375 + 3 * 1.0625 - 0.75);

    hw.observe(5); // t=4, phase 0
    // L = .5(5 + 0.75) + .5(4.375 + 1.0625) = 5.59375; b = .5(1.21875) + .5(1.0625) = 1.140625;
    // s0 = .5(5 - 5.59375) + .5(-0.75) = -0.671875.
    expect(hw.level).to.equal(5.59375);
    expect(hw.trend).to.equal(1.140625);
    expect(hw.seasonal).to.deep.equal([-0.671875, 0.8125]);
    expect(hw.count).to.equal(5);
  });

  it("reproduces a purely seasonal series exactly", function () {
    const hw = new HoltWinters({ period: 3 });
    for (let i = 0; i < 12; i++) hw.observe([10, 20, 30][i % 3] as number);
    expect([1, 2, 3, 4].map((h) => hw.forecast(h))).to.deep.equal([10, 20, 30, 10]);
  });

  it("clamps forecasts at zero", function () {
    const hw = new HoltWinters({ period: 1, alpha: 0.5, beta: 0.5, gamma: 0 });
    for (const x of [10, 8, 6, 4]) hw.observe(x);
    expect(hw.trend).to.be.below(0);
    expect(hw.forecast(1)).to.be.above(0);
    expect(hw.forecast(10)).to.equal(0);
  });

  it("rejects invalid parameters", function () {
    expect(() => new HoltWinters({ period: 0 })).to.throw(RangeError);
    expect(() => new HoltWinters({ period: 2, alpha: 1.5 })).to.throw(RangeError);
    expect(() => new HoltWinters({ period: 2 }).forecast(0)).to.throw(RangeError);
    expect(() => new HoltWinters({ period: 2 }).observe(NaN)).to.throw(RangeError);
  });
});

describe("RateForecaster", function () {
  const options = { bucketMs: 1000, holtWinters: { period: 1, alpha: 0.5, beta: 0.5, gamma: 0 } };

  it("buckets timestamps per key, closing empty buckets as zeros", function () {
    const f = new RateForecaster(options);
    for (const t of [0, 900, 1000, 1200, 1400, 1999]) f.record("a", t);
    f.record("b", 1500);
    f.record("a", 3500); // closes buckets 1 and 2: a saw [2, 4, 0], b saw [1, 0]
    // a: init L = 2, b = 2; x=4: L = .5(4) + .5(2 + 2) = 4, b = .5(2) + .5(2) = 2;
    //    x=0: L = .5(0) + .5(4 + 2) = 3, b = .5(3 - 4) + .5(2) = 0.5. Forecast 3.5 per 1 s bucket.
    expect(f.model("a")?.count).to.equal(3);
    expect(f.forecastRate("a", 3500)).to.equal(3.5);
    // b: init L = 1, b = -1; x=0: L = .5(0) + .5(1 - 1) = 0, b = -1: clamped to 0.
    expect(f.forecastRate("b", 3500)).to.equal(0);
    expect(f.forecastRate("unknown", 3500)).to.equal(0);
    // Two buckets ahead: 3 + 2(0.5) = 4 per second.
    expect(f.forecastRate("a", 3500, 2)).to.equal(4);
  });

  it("signals scale-up for keys forecast over capacity, highest first", function () {
    const f = new RateForecaster(options);
    for (let bucket = 0; bucket < 4; bucket++) {
      for (let i = 0; i < 10; i++) f.record("hot", bucket * 1000 + i);
      for (let i = 0; i < 3; i++) f.record("warm", bucket * 1000 + i);
      f.record("cold", bucket * 1000);
    }
    // Constant series: level = count, trend 0, so the forecasts are 10/s, 3/s and 1/s.
    expect(f.scaleUp(2, 4000)).to.deep.equal([
      { key: "hot", ratePerSec: 10 },
      { key: "warm", ratePerSec: 3 },
    ]);
    expect(f.scaleUp(10, 4000)).to.deep.equal([]);
  });

  it("defaults the season to one day of buckets", function () {
    const f = new RateForecaster({ bucketMs: 3_600_000 });
    f.record("a", 0);
    expect(f.model("a")?.period).to.equal(24);
  });
});
