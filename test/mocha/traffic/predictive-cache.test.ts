import { expect } from "chai";
import { LruKeyCache, type KeyCache } from "../../../relayer/traffic/key-cache.js";
import { PredictiveCache } from "../../../relayer/traffic/predictive-cache.js";
import { seededRng } from "../../../sdk/routing/rng.js";
import { expectNear } from "../helpers/near.js";

/** A seeded uniform source in [0, 1) (the routing SDK's generator). */
function prng(seed: number): () => number {
  const rng = seededRng(seed);
  return () => rng.next();
}

/** `n` keys drawn with probability ∝ 1 / (rank + 1)^s. */
function zipfTrace(keys: number, s: number, n: number, random: () => number): string[] {
  const cdf: number[] = [];
  let acc = 0;
  for (let i = 0; i < keys; i++) cdf.push((acc += 1 / (i + 1) ** s));
  return Array.from({ length: n }, () => {
    const u = random() * acc;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return `/k${lo}`;
  });
}

const hitRate = (cache: KeyCache) => cache.stats.hits / (cache.stats.hits + cache.stats.misses);

describe("LruKeyCache", function () {
  it("evicts the least recently requested entry", function () {
    const lru = new LruKeyCache({ capacity: 2 });
    expect([lru.access("a", 0), lru.access("b", 1), lru.access("a", 2), lru.access("c", 3)]).to.deep.equal([
      false,
      false,
      true,
      false,
    ]);
    expect([lru.has("a", 3), lru.has("b", 3), lru.has("c", 3)]).to.deep.equal([true, false, true]);
    expect(lru.stats).to.deep.equal({ hits: 1, misses: 3, prefetches: 0, evictions: 1, entries: 2, used: 2 });
    expect(lru.tick()).to.deep.equal([]);
  });

  it("bounds by size and treats stale entries as misses", function () {
    const lru = new LruKeyCache({ capacity: 3, ttlMs: 100 });
    lru.access("a", 0, 2);
    lru.access("b", 1, 2); // 4 > 3: a goes
    lru.access("huge", 2, 4); // larger than the cache: not kept
    expect([lru.has("a", 2), lru.has("b", 2), lru.has("huge", 2)]).to.deep.equal([false, true, false]);
    expect(lru.access("b", 101, 2)).to.be.false; // stored at 1, stale from 101
    expect(lru.access("b", 150)).to.be.true;
    expect(lru.stats).to.include({ hits: 1, misses: 4, evictions: 1, used: 2 });
  });
});

describe("PredictiveCache", function () {
  it("evicts the key with the lowest decayed frequency and admits only keys that beat it", function () {
    // A half-life far beyond the test: scores are plain request counts, later requests breaking ties.
    const cache = new PredictiveCache({ capacity: 2, halfLifeMs: 1e12 });
    for (let t = 0; t < 3; t++) cache.access("a", t);
    cache.access("b", 3);
    expect(cache.access("c", 4)).to.be.false; // c (1, newer) beats b (1): b evicted, a (3) stays
    expect([cache.has("a", 4), cache.has("b", 4), cache.has("c", 4)]).to.deep.equal([true, false, true]);
    expect(cache.access("b", 5)).to.be.false; // b remembered: 2 requests beat c's 1
    expect([cache.has("b", 5), cache.has("c", 5)]).to.deep.equal([true, false]);
    expectNear(cache.forecast("b", 5), (2 * 1000 * Math.LN2) / 1e12, 1e-15);
    expect(cache.access("a", 6)).to.be.true;
    expect(cache.stats).to.deep.equal({ hits: 3, misses: 4, prefetches: 0, evictions: 2, entries: 2, used: 2 });
  });

  it("refuses a one-off key rather than evict a hotter one", function () {
    const cache = new PredictiveCache({ capacity: 1, halfLifeMs: 1e12 });
    for (let t = 0; t < 3; t++) cache.access("hot", t);
    expect(cache.access("once", 3)).to.be.false;
    expect([cache.has("hot", 3), cache.has("once", 3), cache.stats.evictions]).to.deep.equal([true, false, 0]);
  });

  it("lets old popularity decay so recency wins", function () {
    const cache = new PredictiveCache({ capacity: 1, halfLifeMs: 1000 });
    for (let t = 0; t < 3; t++) cache.access("old", t);
    cache.access("new", 10_000); // 1 request now against 3 ten half-lives ago (3 / 1024)
    expect([cache.has("old", 10_000), cache.has("new", 10_000)]).to.deep.equal([false, true]);
  });

  it("refreshes hot entries that would go stale before the next tick, not cold ones", function () {
    const cache = new PredictiveCache({ capacity: 2, ttlMs: 1000, halfLifeMs: 10_000 });
    for (let t = 0; t < 30; t++) cache.access("hot", t);
    cache.access("cold", 30);
    expect(cache.tick(100)).to.deep.equal([]); // first tick: nothing stale yet
    // Next tick assumed 500 ms on: both expire by then, but only hot's forecast (~2/s, since 30 requests
    // decayed over tau = 14.4 s) expects a request within one freshness lifetime (cold's ~0.07/s does not).
    expect(cache.tick(600)).to.deep.equal(["hot"]);
    expect([cache.has("hot", 1500), cache.has("cold", 1500)]).to.deep.equal([true, false]);
    expect(cache.stats.prefetches).to.equal(1);
  });

  it("prefetches a hot remembered key in place of a colder one", function () {
    const cache = new PredictiveCache({ capacity: 1, ttlMs: 1000, halfLifeMs: 10_000 });
    for (let t = 0; t < 30; t++) cache.access("a", t);
    for (let t = 30; t < 70; t++) cache.access("b", t); // admitted once its count passes a's
    expect([cache.has("a", 70), cache.has("b", 70)]).to.deep.equal([false, true]);
    cache.access("c", 1100); // b is stale: evicted regardless of its score, c admitted
    expect(cache.has("c", 1100)).to.be.true;
    // b is the hottest key not cached: it replaces c; a (colder than b) is refused.
    expect(cache.tick(1200)).to.deep.equal(["b"]);
    expect([cache.has("b", 1200), cache.has("c", 1200)]).to.deep.equal([true, false]);
    expect(cache.stats).to.include({ prefetches: 1, entries: 1 });
  });

  it("beats LRU of the same size on a seeded Zipf trace", function () {
    const trace = zipfTrace(1000, 0.9, 20_000, prng(42));
    for (const ttlMs of [Infinity, 30_000]) {
      const lru = new LruKeyCache({ capacity: 50, ttlMs });
      const predictive = new PredictiveCache({ capacity: 50, ttlMs });
      trace.forEach((key, i) => {
        const now = 10 * i; // 100 requests per second
        if (now % 5000 === 0) predictive.tick(now);
        lru.access(key, now);
        predictive.access(key, now);
      });
      expect(predictive.stats.hits + predictive.stats.misses).to.equal(trace.length);
      expect(hitRate(predictive), `ttl ${ttlMs}`).to.be.above(hitRate(lru) + 0.05);
      if (ttlMs !== Infinity) expect(predictive.stats.prefetches).to.be.above(0);
    }
  });
});
