import { HOP_BY_HOP } from "./headers.js";
import { LRUCache } from "lru-cache";
import { compressBuffer, type ContentCoding, type HeaderMap } from "./compression.js";

/** How long a response may be served from the shared cache. */
export interface CachePolicy {
  readonly ttlMs: number;
}

/** A stored response. Headers are filtered (see {@link ResponseCache.store}); the body is the upstream's bytes. */
export interface CacheEntry {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  /** The `now` passed to store (ms). */
  readonly storedAt: number;
  /** First instant (ms) at which the entry is stale. */
  readonly expiresAt: number;
  /** The upstream's Age (seconds) when stored, so the Age served includes time spent in caches upstream. */
  readonly initialAge: number;
}

/** A fresh entry found by {@link ResponseCache.lookup}, with its current Age in seconds to send as `Age`. */
export interface CacheHit {
  readonly key: string;
  readonly entry: CacheEntry;
  readonly age: number;
}

/** Counters for the relayer's metrics; `entries` and `bytes` are the current occupancy. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly stores: number;
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
}

/** Request header names paired with the request's (normalized) values, sorted by name: the Vary part of a key. */
export type VaryValues = readonly (readonly [name: string, value: string | null])[];

// RFC 9110 §15.1: statuses cacheable by default. Only those with explicit freshness are stored (no heuristics).
const CACHEABLE_STATUSES = new Set([200, 203, 204, 300, 301, 404, 405, 410, 414, 501]);

// RFC 9111 §1.2.2: delta-seconds beyond 2^31 are capped there.
const MAX_DELTA_SECONDS = 2 ** 31;

// RFC 9111 §3.1: hop-by-hop fields are not stored; plus Set-Cookie (per-client), Age (recomputed on lookup) and
// Content-Length (the relayer derives it from the stored body, which may be served re-encoded).
const UNSTORED_HEADERS = new Set([...HOP_BY_HOP, "set-cookie", "age", "content-length"]);

// Bookkeeping per entry (key, header objects, timestamps), so even empty bodies weigh something in the LRU.
const ENTRY_OVERHEAD_BYTES = 256;

// IMF-fixdate (RFC 9110 §5.6.7). The obsolete formats are treated as invalid, which fails safe: an invalid
// Expires means already expired, an invalid Date falls back to the receipt time.
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** One header as a single string: repeated field lines joined per RFC 9110 §5.3. Names must be lowercase. */
function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Splits a comma-separated field value, keeping commas inside quoted strings. */
function splitList(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

/**
 * Cache-Control directives by lowercase name, value unquoted ("" when absent). A directive repeated with
 * different values gets the invalid value "" (RFC 9111 §4.2.1 allows treating the response as stale then).
 */
function parseCacheControl(value: string | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of splitList(value ?? "")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    let arg = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"')) arg = arg.slice(1, -1);
    const previous = directives.get(name);
    directives.set(name, previous === undefined || previous === arg ? arg : "");
  }
  return directives;
}

/** delta-seconds (RFC 9111 §1.2.2), or undefined when malformed. */
function parseDeltaSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Math.min(Number(value), MAX_DELTA_SECONDS);
}

function parseHttpDate(value: string | undefined): number | undefined {
  return value !== undefined && IMF_FIXDATE.test(value.trim()) ? Date.parse(value) : undefined;
}

/** The Age header in seconds; a missing or malformed one counts as 0 (RFC 9111 §5.1: ignore it). */
function parseAge(headers: HeaderMap): number {
  const value = headers.age;
  const first = Array.isArray(value) ? value[0] : value;
  return parseDeltaSeconds(first?.trim()) ?? 0;
}

/** Lowercase, deduplicated, sorted field names of a Vary header. */
export function parseVary(headers: HeaderMap): string[] {
  const names = splitList(headerValue(headers, "vary") ?? "").map((name) => name.toLowerCase());
  return [...new Set(names)].sort();
}

/**
 * Whether, and for how long, a shared cache may store a response (RFC 9111 §3, §4.2.1), for a relayer that
 * never revalidates. Not stored: anything but GET (a HEAD may be answered from the GET entry); a request with
 * `Cache-Control: no-store`; statuses outside the cacheable-by-default set; responses with `no-store`,
 * `private` or `no-cache` (the qualified `private="field"`/`no-cache="field"` forms too: honouring them would
 * need per-field stripping or revalidation, so they simply are not stored); Set-Cookie; `Vary: *`; requests
 * with Authorization unless the response says `public`, `s-maxage` or `must-revalidate` (§3.5). Freshness must
 * be explicit: `s-maxage`, else `max-age`, else `Expires` minus `Date` (the receipt time `now` when Date is
 * missing); the upstream's `Age` is subtracted. Apparent age from Date is not used, so an upstream with a
 * slow clock does not make every response uncacheable. Malformed or conflicting values mean not stored.
 * Header names must be lowercase (as node:http and undici deliver them).
 */
export function cachePolicy(
  request: { method: string; headers: HeaderMap },
  response: { status: number; headers: HeaderMap },
  now: number,
): CachePolicy | undefined {
  if (request.method !== "GET") return undefined;
  if (parseCacheControl(headerValue(request.headers, "cache-control")).has("no-store")) return undefined;
  if (!CACHEABLE_STATUSES.has(response.status)) return undefined;
  if (response.headers["set-cookie"] !== undefined) return undefined;
  if (parseVary(response.headers).includes("*")) return undefined;

  const cc = parseCacheControl(headerValue(response.headers, "cache-control"));
  if (cc.has("no-store") || cc.has("private") || cc.has("no-cache")) return undefined;
  if (
    request.headers.authorization !== undefined &&
    !cc.has("public") &&
    !cc.has("s-maxage") &&
    !cc.has("must-revalidate")
  ) {
    return undefined;
  }

  let lifetimeMs: number;
  if (cc.has("s-maxage") || cc.has("max-age")) {
    const seconds = parseDeltaSeconds(cc.get("s-maxage") ?? cc.get("max-age"));
    if (seconds === undefined) return undefined;
    lifetimeMs = seconds * 1000;
  } else {
    const expires = parseHttpDate(headerValue(response.headers, "expires"));
    if (expires === undefined) return undefined;
    lifetimeMs = expires - (parseHttpDate(headerValue(response.headers, "date")) ?? now);
  }
  const ttlMs = lifetimeMs - parseAge(response.headers) * 1000;
  return ttlMs > 0 ? { ttlMs } : undefined;
}

/**
 * The cache key for a response: the API, the method, the request target exactly as received after the
 * `/{apiId}` segment (query string verbatim, so `?a=1&b=2` and `?b=2&a=1` are distinct) and the Vary values.
 * A JSON tuple cannot collide across parts: apiId 1 + "1/a" and apiId 11 + "/a" give different keys.
 */
export function cacheKey(apiId: bigint, method: string, target: string, varyValues: VaryValues): string {
  return JSON.stringify([apiId.toString(), method, target, varyValues]);
}

/** Request header values for the given Vary names; an absent header is null, distinct from an empty one. */
function varyValues(names: readonly string[], headers: HeaderMap): VaryValues {
  return names.map((name) => [name, headerValue(headers, name)?.trim() ?? null] as const);
}

function storableHeaders(headers: HeaderMap): Record<string, string | string[]> {
  // RFC 9110 §7.6.1: fields named in Connection are hop-by-hop too.
  const connection = new Set(splitList(headerValue(headers, "connection") ?? "").map((name) => name.toLowerCase()));
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && !UNSTORED_HEADERS.has(lower) && !connection.has(lower)) out[lower] = value;
  }
  return out;
}

function headersSize(headers: Readonly<Record<string, string | string[]>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) size += name.length + v.length + 4;
  }
  return size;
}

// What the LRU holds: the public entry plus bookkeeping. `encoded` memoizes compressed bodies per coding.
interface StoredRecord {
  readonly entry: CacheEntry;
  readonly baseKey: string;
  readonly size: number;
  readonly encoded: ReadonlyMap<ContentCoding, Buffer>;
}

// The Vary names last seen for an (api, target), and the keys of its stored variants.
interface VariantIndex {
  readonly varyNames: readonly string[];
  readonly keys: Set<string>;
}

/**
 * The relayer's shared response cache: an in-memory LRU bounded by total bytes (bodies, headers, compressed
 * copies and a fixed per-entry overhead). Responses are keyed by {@link cacheKey}; Vary is handled with an
 * index of the Vary names per (api, target), whose request values join the key, so a request with other
 * values misses. Freshness uses the caller's clock (`now`, ms), not lru-cache's ttl, so policy and lookup
 * share one clock; stale entries are dropped when looked up and otherwise leave under LRU pressure.
 * Only GET responses are stored; lookups serve GET and HEAD.
 */
export class ResponseCache {
  /** Largest entry stored, overhead included; also the limit to give {@link BodyCapture}. */
  readonly maxEntryBytes: number;
  readonly #lru: LRUCache<string, StoredRecord>;
  readonly #index = new Map<string, VariantIndex>();
  #hits = 0;
  #misses = 0;
  #stores = 0;
  #evictions = 0;

  constructor(options: { maxBytes: number; maxEntryBytes: number }) {
    const { maxBytes, maxEntryBytes } = options;
    if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new RangeError("maxBytes must be a positive integer");
    if (!(Number.isSafeInteger(maxEntryBytes) && maxEntryBytes > 0 && maxEntryBytes <= maxBytes)) {
      throw new RangeError("maxEntryBytes must be a positive integer no larger than maxBytes");
    }
    this.maxEntryBytes = maxEntryBytes;
    this.#lru = new LRUCache<string, StoredRecord>({
      maxSize: maxBytes,
      sizeCalculation: (record) => record.size,
      dispose: (record, key, reason) => {
        if (reason === "evict") this.#evictions++;
        // A "set" replaces the record under the same key (same api, target and Vary names): the index holds.
        if (reason !== "set") this.#unindex(record.baseKey, key);
      },
    });
  }

  /** Counters since construction and current occupancy. */
  get stats(): CacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      stores: this.#stores,
      evictions: this.#evictions,
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
    };
  }

  /**
   * A fresh stored response for a GET or HEAD (other methods: undefined, not counted). A request with
   * `Cache-Control: no-cache`, or a `max-age` the entry's age exceeds, misses: the relayer cannot revalidate,
   * so it fetches anew. `target` is the path and query after the `/{apiId}` segment, verbatim.
   */
  lookup(apiId: bigint, method: string, target: string, requestHeaders: HeaderMap, now: number): CacheHit | undefined {
    if (method !== "GET" && method !== "HEAD") return undefined;
    const hit = this.#find(apiId, target, requestHeaders, now);
    if (hit === undefined) this.#misses++;
    else this.#hits++;
    return hit;
  }

  #find(apiId: bigint, target: string, requestHeaders: HeaderMap, now: number): CacheHit | undefined {
    const requestCc = parseCacheControl(headerValue(requestHeaders, "cache-control"));
    if (requestCc.has("no-cache")) return undefined;
    const index = this.#index.get(cacheKey(apiId, "GET", target, []));
    if (index === undefined) return undefined;
    const key = cacheKey(apiId, "GET", target, varyValues(index.varyNames, requestHeaders));
    const record = this.#lru.get(key);
    if (record === undefined) return undefined;
    const { entry } = record;
    if (now >= entry.expiresAt) {
      this.#lru.delete(key);
      return undefined;
    }
    const age = entry.initialAge + Math.floor(Math.max(0, now - entry.storedAt) / 1000);
    const maxAge = requestCc.has("max-age") ? parseDeltaSeconds(requestCc.get("max-age")) : undefined;
    if (maxAge !== undefined && age > maxAge) return undefined;
    return { key, entry, age };
  }

  /**
   * Stores a complete GET response that {@link cachePolicy} allowed, `policy` and `now` being what it was given
   * (the response's receipt time). Hop-by-hop headers (and those named in Connection), Set-Cookie, Age and
   * Content-Length are not stored. Returns false, storing nothing, when the entry would exceed maxEntryBytes.
   * A response whose Vary names differ from those stored for the same target replaces all its variants.
   */
  store(
    apiId: bigint,
    target: string,
    requestHeaders: HeaderMap,
    response: { status: number; headers: HeaderMap; body: Buffer },
    policy: CachePolicy,
    now: number,
  ): boolean {
    const baseKey = cacheKey(apiId, "GET", target, []);
    const varyNames = parseVary(response.headers);
    const key = cacheKey(apiId, "GET", target, varyValues(varyNames, requestHeaders));
    const headers = storableHeaders(response.headers);
    const size = ENTRY_OVERHEAD_BYTES + 2 * (key.length + baseKey.length) + headersSize(headers) + response.body.length;
    if (size > this.maxEntryBytes) return false;

    const index = this.#index.get(baseKey);
    if (index !== undefined && index.varyNames.join() !== varyNames.join()) {
      for (const stale of [...index.keys]) this.#lru.delete(stale);
    }
    const entry: CacheEntry = {
      status: response.status,
      headers,
      body: response.body,
      storedAt: now,
      expiresAt: now + policy.ttlMs,
      initialAge: parseAge(response.headers),
    };
    this.#put(key, { entry, baseKey, size, encoded: new Map() }, varyNames);
    this.#stores++;
    return true;
  }

  /**
   * The hit's body in `encoding`, compressed once per entry and coding: the copy is kept with the entry (and
   * counted in its size) while that entry stays cached and the total fits maxEntryBytes.
   */
  async encodedBody(hit: CacheHit, encoding: ContentCoding): Promise<Buffer> {
    const memo = this.#lru.peek(hit.key);
    const cached = memo?.entry === hit.entry ? memo.encoded.get(encoding) : undefined;
    if (cached !== undefined) return cached;
    const encoded = await compressBuffer(encoding, hit.entry.body);
    // Re-read: the entry may have been replaced or evicted while compressing.
    const record = this.#lru.peek(hit.key);
    if (record?.entry === hit.entry && !record.encoded.has(encoding)) {
      const size = record.size + encoded.length;
      if (size <= this.maxEntryBytes) {
        const index = this.#index.get(record.baseKey);
        const encodings = new Map(record.encoded).set(encoding, encoded);
        if (index !== undefined) this.#put(hit.key, { ...record, size, encoded: encodings }, index.varyNames);
      }
    }
    return encoded;
  }

  /**
   * Drops every stored variant of a target. Call it after a non-error response to an unsafe method (POST, PUT,
   * PATCH, DELETE) on that target (RFC 9111 §4.4), so the next GET does not serve what the write changed.
   */
  invalidate(apiId: bigint, target: string): void {
    const index = this.#index.get(cacheKey(apiId, "GET", target, []));
    if (index !== undefined) for (const key of [...index.keys]) this.#lru.delete(key);
  }

  #put(key: string, record: StoredRecord, varyNames: readonly string[]): void {
    this.#lru.set(key, record);
    const index = this.#index.get(record.baseKey);
    if (index === undefined) this.#index.set(record.baseKey, { varyNames, keys: new Set([key]) });
    else index.keys.add(key);
  }

  #unindex(baseKey: string, key: string): void {
    const index = this.#index.get(baseKey);
    if (index === undefined) return;
    index.keys.delete(key);
    if (index.keys.size === 0) this.#index.delete(baseKey);
  }
}

/**
 * Collects an upstream body for the cache while it streams to the client. Once more than `limit` bytes
 * arrive it drops what it holds and ignores the rest: the capture is abandoned, never the response. Push the
 * upstream (identity, pre-compression) chunks; call result() only after the body ended without error.
 */
export class BodyCapture {
  readonly limit: number;
  #chunks: Uint8Array[] | undefined = [];
  #length = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Uint8Array): void {
    if (this.#chunks === undefined) return;
    this.#length += chunk.length;
    if (this.#length > this.limit) this.#chunks = undefined;
    else this.#chunks.push(chunk);
  }

  /** The whole body, or undefined if it outgrew the limit. */
  result(): Buffer | undefined {
    return this.#chunks === undefined ? undefined : Buffer.concat(this.#chunks, this.#length);
  }
}
