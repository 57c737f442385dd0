import { expect } from "chai";
import { PrefetchPlanner } from "../../../relayer/traffic/prefetch-planner.js";
import { expectNear } from "../helpers/near.js";

// Half-life 1 s: τ = 1000 / ln 2 ms, so one request reads ln 2 per second at once and half that 1 s later.
const HALF_LIFE_MS = 1_000;

function hot(planner: PrefetchPlanner, key: string, requests: number, at = 0, api = "1"): void {
  for (let i = 0; i < requests; i++) planner.request(api, key, at);
}

describe("PrefetchPlanner", function () {
  it("forecasts a key's rate as its exponentially decayed request count (hand-computed)", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS });
    hot(planner, "k", 1);
    expectNear(planner.forecast("k", 0), Math.LN2, 1e-12);
    expectNear(planner.forecast("k", 1_000), Math.LN2 / 2, 1e-12);
    hot(planner, "k", 1, 1_000);
    expectNear(planner.forecast("k", 1_000), 1.5 * Math.LN2, 1e-12);
    expect(planner.forecast("never", 0)).to.equal(0);
  });

  it("refreshes a stored hot key once its copy goes stale before the next tick, and only once", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS });
    hot(planner, "hot", 10);
    planner.stored("hot", 0, 1_000);
    // Fresh past the next tick (1,000 > 500 + 400): not yet.
    expect(planner.due(500, 400)).to.deep.equal([]);
    // 10 ln2 x 2^-0.7 = 4.27 requests per second x 1 s of freshness >= 1.
    expect(planner.due(700, 400)).to.deep.equal(["hot"]);
    expect(planner.due(800, 400), "in flight").to.deep.equal([]);
    planner.stored("hot", 900, 1_000);
    expect(planner.due(1_500, 400)).to.deep.equal(["hot"]);
  });

  it("leaves alone a key not expected to be asked for while a refreshed copy is fresh", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS });
    hot(planner, "cold", 1);
    planner.stored("cold", 0, 1_000);
    // ln 2 x 1 s = 0.69 expected requests < 1.
    expect(planner.due(900, 400)).to.deep.equal([]);
    // The same rate with a 2 s copy: 1.39 >= 1 (at t = 0 a copy stale by 400 ms).
    planner.stored("cold", -1_700, 2_000);
    expect(planner.due(0, 400)).to.deep.equal(["cold"]);
  });

  it("never plans a key no copy was stored for, nor one dropped, until it is stored again", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS });
    hot(planner, "unstored", 50);
    expect(planner.due(0, 10_000)).to.deep.equal([]);
    planner.stored("unstored", 0, 1_000);
    planner.drop("unstored");
    expect(planner.due(900, 400)).to.deep.equal([]);
    planner.stored("unstored", 0, 1_000);
    expect(planner.due(900, 400)).to.deep.equal(["unstored"]);
    planner.stored("unknown", 0, 1_000);
    expect(planner.size).to.equal(1);
  });

  it("refreshes the hottest keys first, at most topK per tick", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS, topK: 2 });
    for (const [key, n] of [
      ["a", 5],
      ["b", 20],
      ["c", 10],
    ] as const) {
      hot(planner, key, n);
      planner.stored(key, 0, 1_000);
    }
    expect(planner.due(900, 400)).to.deep.equal(["b", "c"]);
    expect(planner.due(900, 400)).to.deep.equal(["a"]);
  });

  it("scales key rates by the API's forecast over its current rate, within [1/4, 4]", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS });
    hot(planner, "x", 1, 0, "api");
    planner.stored("x", -700, 1_000);
    const current = Math.LN2; // the API's decayed rate: its one request
    expectNear(
      planner.forecast("x", 0, () => 2 * current),
      2 * Math.LN2,
      1e-12,
    );
    expectNear(
      planner.forecast("x", 0, () => 100 * current),
      4 * Math.LN2,
      1e-12,
    );
    expectNear(
      planner.forecast("x", 0, () => 0),
      Math.LN2 / 4,
      1e-12,
    );
    expectNear(
      planner.forecast("x", 0, () => undefined),
      Math.LN2,
      1e-12,
    );
    // 0.69 expected requests alone; a forecast of twice the current load makes it 1.39: refreshed.
    expect(planner.due(0, 400, () => undefined)).to.deep.equal([]);
    expect(planner.due(0, 400, () => 2 * current)).to.deep.equal(["x"]);
  });

  it("remembers at most trackedKeys keys, forgetting the least recently requested", function () {
    const planner = new PrefetchPlanner({ halfLifeMs: HALF_LIFE_MS, trackedKeys: 2 });
    hot(planner, "first", 1);
    hot(planner, "second", 1);
    hot(planner, "first", 1);
    hot(planner, "third", 1);
    expect(planner.size).to.equal(2);
    expect(planner.forecast("second", 0)).to.equal(0);
    expect(planner.forecast("first", 0)).to.be.greaterThan(0);
  });

  it("refuses non-positive settings", function () {
    for (const bad of [{ halfLifeMs: 0 }, { trackedKeys: 0 }, { topK: 0 }, { minExpectedHits: -1 }])
      expect(() => new PrefetchPlanner(bad)).to.throw(RangeError);
  });
});
