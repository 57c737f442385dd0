/**
 * Redis connections. The request path fails fast while Redis is down (the call gets 503 and
 * nothing is stored or forwarded); BullMQ's connections wait and reconnect instead.
 */
import { Redis } from "ioredis";

/** A connection for the hot path: commands fail at once while disconnected. */
export function hotPathRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    lazyConnect: true,
  });
}

/** A connection for BullMQ queues and workers (they require maxRetriesPerRequest: null). */
export function queueRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  });
}

/**
 * Whether Redis keeps an append-only file: without one, a Redis crash loses the vouchers it
 * acknowledged, so the relayer refuses to start on it unless told otherwise.
 */
export async function hasAppendOnlyFile(redis: Redis): Promise<boolean> {
  const info = await redis.info("persistence");
  return /^aof_enabled:1\r?$/m.test(info);
}
