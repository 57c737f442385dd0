/**
 * Which cached GET responses to fetch again before they go stale (predictive pre-caching). A hot key
 * whose copy expires is otherwise a miss for the next caller, who waits for the upstream; refreshing it
 * a moment before it expires keeps it a hit.
 *
 * Forecast of a key's request rate: its own exponentially decayed rate (recency-weighted frequency,
 * as in {@link PredictiveCache}), scaled by where its API's load is heading: the API's Holt-Winters
 * forecast for the coming bucket over the API's current decayed rate, clamped to [1/4, 4] so one
 * noisy forecast cannot make the planner refresh everything or nothing. Ahead of a daily peak the
 * keys of an API get refreshed at lower current rates than after it.
 *
 * A key is refreshed when its copy expires before the next planning tick and the forecast expects at
 * least `minExpectedHits` requests while the refreshed copy stays fresh (rate × freshness lifetime).
 * A refresh saves at most one miss (the first request after the old copy expired), and only if a
 * request comes while the new copy is fresh: for Poisson arrivals with m expected requests, with
 * probability 1 − e^−m, 63% at the default m ≥ 1. So each refresh costs the upstream one call for at
 * least 0.63 misses saved in expectation; a higher threshold trades hit rate for upstream load. Hottest
 * first, at most `topK` per tick. Only keys the cache has stored are considered (their freshness lifetime is known, and the
 * upstream has shown it answers them cacheably).
 */
import { DecayingRate } from "./decaying-rate.js";

export interface PrefetchPlannerOptions {
  /** Half-life of a key's (and an API's) request-rate estimate. Default 300_000 (5 minutes). */
  readonly halfLifeMs?: number;
  /** Keys remembered; the least recently requested is forgotten first. Default 10_000. */
  readonly trackedKeys?: number;
  /** At most this many keys refreshed per tick. Default 16. */
  readonly topK?: number;
  /** Least expected requests while a refreshed copy is fresh. Default 1. */
  readonly minExpectedHits?: number;
}

/** The API-level forecast: requests per second expected over the coming bucket, undefined before it has history. */
export type ApiForecast = (api: string, now: number) => number | undefined;

interface TrackedKey {
  readonly api: string;
  readonly rate: DecayingRate;
  /** When the stored copy goes stale (ms), and how long a fresh copy lasts; undefined until stored. */
  expiresAt: number | undefined;
  ttlMs: number;
}

/** Bounds of the API forecast's scaling of key rates. */
const MIN_SCALE = 0.25;
const MAX_SCALE = 4;

export class PrefetchPlanner {
  private readonly tauMs: number;
  private readonly trackedKeys: number;
  private readonly topK: number;
  private readonly minExpectedHits: number;
  /** Insertion order is recency order: a request re-inserts. */
  private readonly keys = new Map<string, TrackedKey>();
  private readonly apis = new Map<string, DecayingRate>();

  constructor(options: PrefetchPlannerOptions = {}) {
    this.tauMs = (options.halfLifeMs ?? 300_000) / Math.LN2;
    this.trackedKeys = options.trackedKeys ?? 10_000;
    this.topK = options.topK ?? 16;
    this.minExpectedHits = options.minExpectedHits ?? 1;
    if (!(this.tauMs > 0) || !(this.trackedKeys > 0) || !(this.topK > 0) || !(this.minExpectedHits > 0)) {
      throw new RangeError("halfLifeMs, trackedKeys, topK and minExpectedHits must be positive");
    }
  }

  /** Keys remembered now. */
  get size(): number {
    return this.keys.size;
  }

  /** A request for `key` (a cacheable GET target of `api`) at `now`, hit or miss. */
  request(api: string, key: string, now: number): void {
    let tracked = this.keys.get(key);
    if (tracked === undefined) {
      tracked = { api, rate: new DecayingRate(this.tauMs), expiresAt: undefined, ttlMs: 0 };
    } else this.keys.delete(key);
    this.keys.set(key, tracked);
    tracked.rate.add(now);
    let apiRate = this.apis.get(api);
    if (apiRate === undefined) this.apis.set(api, (apiRate = new DecayingRate(this.tauMs)));
    apiRate.add(now);
    for (const oldest of this.keys.keys()) {
      if (this.keys.size <= this.trackedKeys) break;
      this.keys.delete(oldest);
    }
  }

  /** The cache stored a copy of `key`, fresh for `ttlMs` from `now`. A key never requested is ignored. */
  stored(key: string, now: number, ttlMs: number): void {
    const tracked = this.keys.get(key);
    if (tracked === undefined) return;
    tracked.expiresAt = now + ttlMs;
    tracked.ttlMs = ttlMs;
  }

  /** Stops refreshing `key` (its answer was not cacheable, failed, or was invalidated) until it is stored again. */
  drop(key: string): void {
    const tracked = this.keys.get(key);
    if (tracked !== undefined) tracked.expiresAt = undefined;
  }

  /** The forecast request rate of `key` at `now`, per second (0 for a key not remembered). */
  forecast(key: string, now: number, apiForecast?: ApiForecast): number {
    const tracked = this.keys.get(key);
    return tracked === undefined ? 0 : tracked.rate.perSecond(now) * this.scale(tracked.api, now, apiForecast);
  }

  /**
   * The keys to refresh at `now`, hottest first: stored copies that go stale within `horizonMs` (the time
   * to the next tick) and are expected to be requested at least minExpectedHits times while a refreshed
   * copy is fresh. Each returned key is treated as refreshed (it will not be returned again until
   * {@link stored} or {@link drop} tells how the refresh went, or the horizon passes).
   */
  due(now: number, horizonMs: number, apiForecast?: ApiForecast): string[] {
    const scales = new Map<string, number>();
    const candidates: { key: string; tracked: TrackedKey; rate: number }[] = [];
    for (const [key, tracked] of this.keys) {
      if (tracked.expiresAt === undefined || tracked.expiresAt > now + horizonMs) continue;
      let scale = scales.get(tracked.api);
      if (scale === undefined) scales.set(tracked.api, (scale = this.scale(tracked.api, now, apiForecast)));
      const rate = tracked.rate.perSecond(now) * scale;
      if ((rate * tracked.ttlMs) / 1000 >= this.minExpectedHits) candidates.push({ key, tracked, rate });
    }
    candidates.sort((a, b) => b.rate - a.rate);
    const chosen = candidates.slice(0, this.topK);
    // In flight: not due again before its answer arrives or one more horizon has passed.
    for (const { tracked } of chosen) tracked.expiresAt = now + horizonMs + tracked.ttlMs;
    return chosen.map((c) => c.key);
  }

  /** The API's forecast over its current rate, clamped; 1 without a forecast. */
  private scale(api: string, now: number, apiForecast: ApiForecast | undefined): number {
    const forecast = apiForecast?.(api, now);
    const current = this.apis.get(api)?.perSecond(now) ?? 0;
    if (forecast === undefined || !(current > 0)) return 1;
    return Math.min(MAX_SCALE, Math.max(MIN_SCALE, forecast / current));
  }
}
