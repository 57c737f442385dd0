import { type Redis } from "ioredis";

/**
 * A tier's policy as `RateLimitPolicy.policyOf` returns it: at most `requestsPerWindow` calls per
 * payer per `windowSeconds`, with bursts of up to `burst` calls above the steady rate.
 */
export interface Policy {
  requestsPerWindow: number;
  windowSeconds: number;
  burst: number;
}

/** Whether a call may proceed; a refused one says when to retry (the `Retry-After` header). */
export type RateLimitResult = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/** Redis failed (down, timed out, reconnecting): the limiter fails closed, the relayer answers 503. */
export class RateLimiterUnavailable extends Error {
  constructor(cause: unknown) {
    super(`rate limiter unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "RateLimiterUnavailable";
  }
}

/**
 * GCRA over one key holding the theoretical arrival time (TAT) in microseconds of Redis' clock,
 * as a Lua function other scripts can embed (the voucher store checks the limit and stores the
 * voucher in one round trip). gcra(key, T, τ): T = emission interval (µs), τ = burst tolerance
 * (µs). A call is allowed iff now >= max(TAT, now) - τ; it then moves TAT by T. TIME makes every
 * relayer agree on "now" whatever its own clock; Redis 7 replicates the script's effects, not the
 * script, so the non-deterministic TIME is safe. The key expires when TAT passes, i.e. when it is
 * idle long enough to be indistinguishable from a fresh one.
 * Returns 1, remaining or 0, retry after in µs.
 */
export const GCRA_LUA_FUNCTION = `
local function gcra(key, interval, tolerance)
  local t = redis.call("TIME")
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tat = tonumber(redis.call("GET", key) or now)
  if tat < now then tat = now end
  local allowAt = tat - tolerance
  if now < allowAt then return 0, allowAt - now end
  local newTat = tat + interval
  redis.call("SET", key, string.format("%.0f", newTat), "PX", math.ceil((newTat - now) / 1000))
  return 1, math.floor((now - allowAt) / interval)
end
`;

// KEYS[1] = bucket; ARGV[1] = T (µs); ARGV[2] = τ (µs). Returns {allowed, value}.
const GCRA = `${GCRA_LUA_FUNCTION}
local allowed, value = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return {allowed, value}
`;

/** One subject's bucket under one policy: what the GCRA function takes. */
export interface GcraBucket {
  key: string;
  intervalMicros: number;
  toleranceMicros: number;
}

const MICROS = 1_000_000;

interface GcraCommands {
  meshgateGcra(key: string, intervalMicros: string, toleranceMicros: string): Promise<[number, number]>;
}

/**
 * Per-(API, subject) rate limiter shared by every relayer process through one Redis: each `take`
 * is one atomic Lua call (GCRA, equivalent to a token bucket), so concurrent relayers never
 * overshoot a policy.
 *
 * Semantics, from `IRateLimitPolicy.Policy`: tokens refill at `requestsPerWindow / windowSeconds`
 * (emission interval T = windowSeconds / requestsPerWindow) and the bucket holds `burst + 1`
 * tokens (burst tolerance τ = burst·T). So an idle subject may make `burst + 1` calls back to
 * back, then one per T; any window of `windowSeconds` admits at most `requestsPerWindow + burst`
 * calls, and the sustained rate is `requestsPerWindow` per window. Time resolution is 1 µs, so
 * rates above 10^6 calls per second per subject are capped there.
 *
 * There is no "unlimited" policy: RateLimitPolicy rejects `requestsPerWindow == 0` and
 * `windowSeconds == 0` (`InvalidPolicy`), and an all-zero policy only means an unset tier, which
 * `policyOf` never returns. `take` therefore throws a RangeError on such a policy rather than
 * guessing (a caller bug, not a caller's free pass).
 *
 * Redis errors fail closed: `take` throws {@link RateLimiterUnavailable} and the relayer should
 * answer 503. How long a call waits for a reconnecting Redis is the client's business
 * (`maxRetriesPerRequest`, `commandTimeout`, `enableOfflineQueue`); ioredis reconnects by itself
 * and reloads the script after a server restart (NOSCRIPT fallback).
 */
export class RateLimiter {
  private readonly redis: Redis & GcraCommands;

  constructor(
    redis: Redis,
    private readonly prefix = "mg:rl",
  ) {
    // defineCommand is idempotent per client, so several limiters may share one connection.
    if (!("meshgateGcra" in redis)) redis.defineCommand("meshgateGcra", { numberOfKeys: 1, lua: GCRA });
    this.redis = redis as Redis & GcraCommands;
  }

  /** Spends one call of `key`'s bucket under `policy`, or says how long to wait. */
  async take(key: { apiId: bigint; subject: string }, policy: Policy): Promise<RateLimitResult> {
    const bucket = this.bucket(key, policy);
    let reply: [number, number];
    try {
      reply = await this.redis.meshgateGcra(bucket.key, String(bucket.intervalMicros), String(bucket.toleranceMicros));
    } catch (error) {
      throw new RateLimiterUnavailable(error);
    }
    return gcraResult(reply[0], reply[1]);
  }

  /** The bucket of `key` under `policy`, for a script that embeds {@link GCRA_LUA_FUNCTION}. */
  bucket(key: { apiId: bigint; subject: string }, policy: Policy): GcraBucket {
    const { requestsPerWindow, windowSeconds, burst } = policy;
    if (
      !Number.isInteger(requestsPerWindow) ||
      !Number.isInteger(windowSeconds) ||
      !Number.isInteger(burst) ||
      requestsPerWindow <= 0 ||
      windowSeconds <= 0 ||
      burst < 0
    ) {
      throw new RangeError(`invalid rate-limit policy ${JSON.stringify(policy)}`);
    }
    const interval = Math.max(1, Math.round((windowSeconds * MICROS) / requestsPerWindow));
    return { key: this.keyOf(key), intervalMicros: interval, toleranceMicros: burst * interval };
  }

  private keyOf({ apiId, subject }: { apiId: bigint; subject: string }): string {
    // Addresses are case-insensitive: a checksummed and a lowercase spelling share one bucket.
    const normalized = /^0x[0-9a-f]+$/i.test(subject) ? subject.toLowerCase() : subject;
    return `${this.prefix}:${apiId}:${normalized}`;
  }
}

/** The result of a GCRA call: `value` is the remaining burst, or the wait in µs when refused. */
function gcraResult(allowed: number, value: number): RateLimitResult {
  return allowed === 1
    ? { allowed: true, remaining: value }
    : { allowed: false, retryAfterSeconds: retryAfterSeconds(value) };
}

/** A refused call's Retry-After: whole seconds, at least 1. */
export function retryAfterSeconds(waitMicros: number): number {
  return Math.max(1, Math.ceil(waitMicros / MICROS));
}
