/**
 * The cache-policy interface the evaluation harness drives, and the plain LRU baseline. A policy tracks
 * keys and sizes only: the relayer keeps response bodies in its own store, and a simulation has none.
 * Capacity is in caller-chosen units (entries with the default size 1, or bytes), the same for every
 * policy, so hit rates compare like with like.
 */

/** Counters since construction; `entries` and `used` are current occupancy. */
export interface KeyCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Fetches the policy initiated itself (on {@link KeyCache.tick}): a fetch cost, never a hit. */
  readonly prefetches: number;
  /** Entries removed to make room (not counting expiry). */
  readonly evictions: number;
  readonly entries: number;
  /** Capacity units in use. */
  readonly used: number;
}

/** Options common to every policy. */
export interface KeyCacheOptions {
  /** Capacity in units (entries when every size is 1). */
  readonly capacity: number;
  /** Freshness of a fetched entry in ms; a stale entry is a miss. Default Infinity (never stale). */
  readonly ttlMs?: number;
}

/** A cache policy on virtual time. */
export interface KeyCache {
  readonly name: string;
  /**
   * A request for `key` at `now` (ms, non-decreasing). True on a fresh hit; on a miss the caller fetches
   * the response and the policy decides whether to keep it. `size`: units the entry occupies (default 1).
   */
  access(key: string, now: number, size?: number): boolean;
  /** A refresh tick: the keys the caller should prefetch now (each already counted in `prefetches`). */
  tick(now: number): readonly string[];
  /** Whether `key` is cached and fresh at `now`, without counting a request. */
  has(key: string, now: number): boolean;
  readonly stats: KeyCacheStats;
}

interface LruEntry {
  readonly size: number;
  readonly expiresAt: number;
}

/** Least-recently-used: keeps every fetched entry that fits, evicting the least recently requested. */
export class LruKeyCache implements KeyCache {
  readonly name = "lru";
  private readonly capacity: number;
  private readonly ttlMs: number;
  /** Insertion order is recency order: a hit re-inserts. */
  private readonly entries = new Map<string, LruEntry>();
  private used = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: KeyCacheOptions) {
    this.capacity = options.capacity;
    this.ttlMs = options.ttlMs ?? Infinity;
  }

  get stats(): KeyCacheStats {
    const { hits, misses, evictions, used } = this;
    return { hits, misses, prefetches: 0, evictions, entries: this.entries.size, used };
  }

  has(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > now;
  }

  access(key: string, now: number, size = 1): boolean {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.remove(key, entry);
    if (entry !== undefined && entry.expiresAt > now) {
      this.entries.set(key, entry);
      this.used += entry.size;
      this.hits++;
      return true;
    }
    this.misses++;
    if (size > this.capacity) return false;
    for (const [victim, victimEntry] of this.entries) {
      if (this.used + size <= this.capacity) break;
      this.remove(victim, victimEntry);
      this.evictions++;
    }
    this.entries.set(key, { size, expiresAt: now + this.ttlMs });
    this.used += size;
    return false;
  }

  /** LRU never prefetches. */
  tick(): readonly string[] {
    return [];
  }

  private remove(key: string, entry: LruEntry): void {
    this.entries.delete(key);
    this.used -= entry.size;
  }
}
