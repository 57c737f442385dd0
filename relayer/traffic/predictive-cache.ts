/**
 * A cache policy that ranks keys by a forecast of their request rate, for predictive pre-caching of hot GET
 * responses. Same interface and capacity semantics as the LRU baseline ({@link LruKeyCache}).
 */
import { type KeyCache, type KeyCacheOptions, type KeyCacheStats } from "./key-cache.js";
import { MinHeap } from "./min-heap.js";

/** Options of a {@link PredictiveCache}. */
export interface PredictiveCacheOptions extends KeyCacheOptions {
  /**
   * Half-life of a request's weight in a key's rate forecast. Default 300_000 (5 minutes): long enough to
   * average a Zipf tail's sparse requests, short enough that yesterday's hot key (or a spike's) fades within
   * tens of minutes. Small values make the policy behave like LRU, large ones like LFU.
   */
  readonly halfLifeMs?: number;
  /**
   * Keys remembered outside the cache (their forecasts), so a key evicted or refused admission keeps its
   * history, as TinyLFU's sketch does. Default 10_000; the least recently requested is forgotten first.
   */
  readonly trackedKeys?: number;
  /** At most this many keys prefetched per {@link PredictiveCache.tick}. Default 16. */
  readonly prefetchTopK?: number;
}

interface Entry {
  /** Forward-decayed log score: log Σ e^{tᵢ/τ} over the key's request times tᵢ. */
  p: number;
  size: number;
}

interface CachedEntry extends Entry {
  expiresAt: number;
}

/** log(e^a + e^b) without overflow. */
function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  const max = Math.max(a, b);
  return max + Math.log1p(Math.exp(Math.min(a, b) - max));
}

/**
 * Forecast-ranked cache (decayed LFU with TinyLFU-style admission and forecast-driven prefetch).
 *
 * Forecast: a key's request rate is an exponentially decayed count of its requests (an EWMA rate with the
 * given half-life), which mixes frequency (many requests) and recency (recent ones weigh more) in one
 * number. It is kept as p = log Σ e^{tᵢ/τ} ("forward decay"): the rate at `now` is e^{p − now/τ}/τ, and
 * since every key decays by the same factor, the order of keys by p never changes between requests. So
 * the coldest cached key is the minimum of a heap keyed by p, with no rescoring as time passes. (Per-key
 * Holt-Winters would also see daily cycles, but per-URL series are too sparse to fit one; it forecasts
 * per-API volume in {@link RateForecaster} instead.)
 *
 * Eviction: the cached key with the lowest forecast goes first; stale entries go first regardless.
 *
 * Admission: a fetched key is kept only if its forecast beats that of every entry it would displace.
 * Under Zipf popularity this keeps one-hit wonders from flushing the hot set, which is where plain LRU
 * loses; a key that really becomes hot (a spike) is admitted after a few requests, because its history is
 * remembered while it is not cached.
 *
 * Prefetch (on {@link tick}): the hottest keys that are not cached, or whose entry goes stale before the
 * next tick (ticks are assumed regular, so "next" is one tick interval ahead), are fetched ahead of their
 * next request, at most prefetchTopK per tick, and only when the forecast expects at least one request
 * within a freshness lifetime (rate × ttl ≥ 1: otherwise the prefetch would cost more than the miss it
 * saves). A prefetched key not yet cached still has to pass admission. Hot keys are in effect pinned: they
 * are the last to be evicted and are refreshed before they go stale.
 */
export class PredictiveCache implements KeyCache {
  readonly name = "predictive";
  private readonly capacity: number;
  private readonly ttlMs: number;
  /** τ in ms: half-life / ln 2. */
  private readonly tauMs: number;
  private readonly trackedKeys: number;
  private readonly prefetchTopK: number;

  private readonly cache = new Map<string, CachedEntry>();
  /** Keys not cached, with their forecasts; insertion order is recency order (a request re-inserts). */
  private readonly ghosts = new Map<string, Entry>();
  /** (p, key) per cached key; lazily invalidated: an item is live while the cache holds the key with that p. */
  private readonly heap = new MinHeap<{ p: number; key: string }>((a, b) => a.p < b.p);
  private lastTick: number | undefined;
  private used = 0;
  private hits = 0;
  private misses = 0;
  private prefetches = 0;
  private evictions = 0;

  constructor(options: PredictiveCacheOptions) {
    this.capacity = options.capacity;
    this.ttlMs = options.ttlMs ?? Infinity;
    this.tauMs = (options.halfLifeMs ?? 300_000) / Math.LN2;
    this.trackedKeys = options.trackedKeys ?? 10_000;
    this.prefetchTopK = options.prefetchTopK ?? 16;
  }

  get stats(): KeyCacheStats {
    const { hits, misses, prefetches, evictions, used } = this;
    return { hits, misses, prefetches, evictions, entries: this.cache.size, used };
  }

  has(key: string, now: number): boolean {
    const entry = this.cache.get(key);
    return entry !== undefined && entry.expiresAt > now;
  }

  /** The forecast request rate of `key` at `now`, per second (0 for a key not remembered). */
  forecast(key: string, now: number): number {
    const entry = this.cache.get(key) ?? this.ghosts.get(key);
    return entry === undefined ? 0 : this.rate(entry.p, now) * 1000;
  }

  access(key: string, now: number, size = 1): boolean {
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresAt > now) {
      cached.p = logAddExp(cached.p, now / this.tauMs);
      this.push(key, cached.p);
      this.hits++;
      return true;
    }
    this.misses++;
    if (cached !== undefined) this.uncache(key, cached);
    const previous = cached ?? this.ghosts.get(key);
    this.ghosts.delete(key);
    const entry = { p: logAddExp(previous?.p ?? -Infinity, now / this.tauMs), size };
    if (!this.admit(key, entry, now)) this.remember(key, entry);
    return false;
  }

  tick(now: number): readonly string[] {
    const ahead = this.lastTick === undefined ? 0 : now - this.lastTick;
    this.lastTick = now;
    const candidates: [string, Entry][] = [...this.ghosts];
    for (const [key, entry] of this.cache) if (entry.expiresAt <= now + ahead) candidates.push([key, entry]);
    candidates.sort(([, a], [, b]) => b.p - a.p);
    const fetched: string[] = [];
    for (const [key, entry] of candidates) {
      if (fetched.length === this.prefetchTopK || this.rate(entry.p, now) * this.ttlMs < 1) break;
      const cached = this.cache.get(key);
      if (cached !== undefined) cached.expiresAt = now + this.ttlMs;
      else if (this.admit(key, entry, now)) this.ghosts.delete(key);
      else continue;
      fetched.push(key);
    }
    this.prefetches += fetched.length;
    return fetched;
  }

  /** Rate per ms at `now` of a key with log score p. */
  private rate(p: number, now: number): number {
    return Math.exp(p - now / this.tauMs) / this.tauMs;
  }

  /** Caches `key` if room can be made by evicting only colder (or stale) entries; false if refused. */
  private admit(key: string, entry: Entry, now: number): boolean {
    if (entry.size > this.capacity) return false;
    const victims: { p: number; key: string }[] = [];
    let freed = 0;
    while (this.used - freed + entry.size > this.capacity) {
      const victim = this.popLive();
      if (victim === undefined) break;
      victims.push(victim);
      const victimEntry = this.cache.get(victim.key) as CachedEntry;
      if (victimEntry.expiresAt > now && victimEntry.p >= entry.p) {
        for (const v of victims) this.heap.push(v);
        return false;
      }
      freed += victimEntry.size;
    }
    if (this.used - freed + entry.size > this.capacity) {
      for (const v of victims) this.heap.push(v);
      return false;
    }
    for (const victim of victims) {
      const victimEntry = this.cache.get(victim.key) as CachedEntry;
      this.uncache(victim.key, victimEntry);
      this.remember(victim.key, victimEntry);
      this.evictions++;
    }
    this.cache.set(key, { p: entry.p, size: entry.size, expiresAt: now + this.ttlMs });
    this.used += entry.size;
    this.push(key, entry.p);
    return true;
  }

  private push(key: string, p: number): void {
    this.heap.push({ p, key });
    // Each hit leaves a dead item behind; rebuild once they outnumber the live ones.
    if (this.heap.size > 2 * this.cache.size + 64) {
      this.heap.clear();
      for (const [k, e] of this.cache) this.heap.push({ p: e.p, key: k });
    }
  }

  /** Pops heap items until one is live (undefined if none). */
  private popLive(): { p: number; key: string } | undefined {
    for (let item = this.heap.pop(); item !== undefined; item = this.heap.pop()) {
      if (this.cache.get(item.key)?.p === item.p) return item;
    }
    return undefined;
  }

  private uncache(key: string, entry: CachedEntry): void {
    this.cache.delete(key);
    this.used -= entry.size;
  }

  /** Keeps a key's forecast while it is not cached, forgetting the least recently requested beyond the bound. */
  private remember(key: string, entry: Entry): void {
    this.ghosts.set(key, { p: entry.p, size: entry.size });
    for (const oldest of this.ghosts.keys()) {
      if (this.ghosts.size <= this.trackedKeys) break;
      this.ghosts.delete(oldest);
    }
  }
}
