/**
 * Cache evaluation: the trace's GET stream (every GET, the abusive client's scan included, as a
 * relayer's response cache would see it) replayed through relayer/traffic's PredictiveCache and
 * its plain LRU baseline (LruKeyCache), with the same capacity (entries) and the same freshness
 * (a response is fresh for TTL_MS; a stale entry is a miss). Both are ticked every TICK_MS;
 * the predictive cache's prefetches are counted as fetches, never as hits. Hit rate = hits /
 * GET requests.
 */
import { LruKeyCache, type KeyCache } from "../../relayer/traffic/key-cache.js";
import { PredictiveCache } from "../../relayer/traffic/predictive-cache.js";
import type { Trace } from "./traces.js";

/** Entries either cache holds (the trace has 8 x 2,000 ordinary paths, plus spike and scan keys). */
export const CACHE_CAPACITY = 1000;
/** Freshness of a cached response, virtual ms (a call-scale constant: the same in the short run). */
export const TTL_MS = 60_000;
const TICK_MS = 1000;

export interface CacheRun {
  readonly name: string;
  readonly requests: number;
  readonly hits: number;
  readonly hitRate: number;
  readonly prefetches: number;
  readonly evictions: number;
}

export interface CacheResult {
  readonly predictive: CacheRun;
  readonly lru: CacheRun;
}

function replay(trace: Trace, cache: KeyCache): CacheRun {
  let nextTick = 0;
  let requests = 0;
  for (const call of trace.calls) {
    for (; nextTick <= call.t; nextTick += TICK_MS) cache.tick(nextTick);
    if (!call.get) continue;
    requests++;
    cache.access(call.key, call.t);
  }
  const { hits, prefetches, evictions } = cache.stats;
  return { name: cache.name, requests, hits, hitRate: hits / requests, prefetches, evictions };
}

export function evaluateCaches(trace: Trace): CacheResult {
  return {
    predictive: replay(trace, new PredictiveCache({ capacity: CACHE_CAPACITY, ttlMs: TTL_MS })),
    lru: replay(trace, new LruKeyCache({ capacity: CACHE_CAPACITY, ttlMs: TTL_MS })),
  };
}
