/**
 * The relayer's configuration: read from the environment once at start, validated with zod,
 * with defaults that run against `npm start`'s local network.
 */
import { z } from "zod";
import { deploymentPath } from "../deploy/deployments.js";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const amount = z
  .string()
  .regex(/^\d+$/, "must be a whole number of token base units")
  .transform((v) => BigInt(v));
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/** Hardhat dev account 2: the demo node operator `npm start` registers. */
const DEMO_OPERATOR_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

export const relayerEnvSchema = z.object({
  MESHGATE_RELAYER_HOST: z.string().default("127.0.0.1"),
  MESHGATE_RELAYER_PORT: port.default(8787),
  MESHGATE_RPC_URL: z.url().default("http://127.0.0.1:8545"),
  MESHGATE_DEPLOYMENT: z.string().default(deploymentPath("localhost")),
  /** The staked operator's key: signs forwarded calls (RFC 9421) and settlement transactions. */
  MESHGATE_OPERATOR_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits")
    .default(DEMO_OPERATOR_KEY),
  MESHGATE_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379"),
  /** Refuse to start on a Redis without an append-only file unless this is set (tests, benchmarks). */
  MESHGATE_ALLOW_VOLATILE_REDIS: z.stringbool().default(false),
  /** Namespace of every Redis key and queue, so several nodes can share one Redis. */
  MESHGATE_REDIS_PREFIX: z
    .string()
    .regex(/^[\w:-]+$/)
    .default("mg"),
  MESHGATE_MAX_BODY_BYTES: positiveInt.default(1_048_576),
  MESHGATE_UPSTREAM_TIMEOUT_MS: positiveInt.default(30_000),
  MESHGATE_UPSTREAM_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
  /** Extra attempts for idempotent methods when the upstream cannot be reached. */
  MESHGATE_UPSTREAM_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  MESHGATE_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  MESHGATE_CACHE_MAX_ENTRY_BYTES: positiveInt.default(1024 * 1024),
  /**
   * Predictive pre-caching (relayer/http/prefetcher.ts): refresh hot cached GET responses before they go
   * stale, when the forecast expects them to be asked for again while fresh. Needs the cache.
   */
  MESHGATE_PREFETCH: z.stringbool().default(true),
  /** How often refreshes are planned; a hot copy is refreshed within this long of going stale. */
  MESHGATE_PREFETCH_TICK_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
  /** Most responses refreshed per tick. */
  MESHGATE_PREFETCH_TOP_K: z.coerce.number().int().min(1).max(1_000).default(16),
  /** Half-life of a response's request-rate estimate. */
  MESHGATE_PREFETCH_HALF_LIFE_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  /** Least requests expected while a refreshed copy is fresh; higher saves upstream calls, lower gains hits. */
  MESHGATE_PREFETCH_MIN_EXPECTED_HITS: z.coerce.number().positive().max(1_000).default(1),
  /** Settle a token's vouchers once their unsettled value reaches this many base units... */
  MESHGATE_SETTLE_MIN_VALUE: amount.default(1_000_000n),
  /** ...or once the oldest unsettled voucher is this old. */
  MESHGATE_SETTLE_MAX_AGE_MS: positiveInt.default(60_000),
  MESHGATE_SETTLE_SCAN_MS: positiveInt.default(5_000),
  MESHGATE_SETTLE_BATCH_SIZE: z.coerce.number().int().min(1).max(200).default(50),
  MESHGATE_KEEPER_INTERVAL_MS: positiveInt.default(60_000),
  MESHGATE_TX_BUMP_AFTER_MS: positiveInt.default(15_000),
  MESHGATE_TX_MAX_FEE_GWEI: positiveInt.default(500),
  MESHGATE_CHAIN_POLL_MS: positiveInt.default(1_000),
  /** Blocks a log must be buried under before the relayer acts on it (reorg safety). */
  MESHGATE_CONFIRMATIONS: z.coerce.number().int().min(0).max(64).default(0),
  /** How long an on-chain price quote (USD feed, staker discount) is trusted. */
  MESHGATE_PRICE_TTL_MS: positiveInt.default(15_000),
  MESHGATE_SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  /** Adaptive throttling (relayer/traffic/anomaly.ts) on top of the on-chain rate limits; per process. */
  MESHGATE_ADAPTIVE_THROTTLE: z.stringbool().default(true),
  /** The detector's least reference rate, calls per second per payer. */
  MESHGATE_ADAPTIVE_RATE_FLOOR: z.coerce.number().positive().default(1),
  /** Share of a payer's on-chain sustained rate limit that is also a least reference rate (0 to ignore the limit). */
  MESHGATE_ADAPTIVE_LIMIT_SHARE: z.coerce.number().min(0).max(1).default(0.4),
  /** Time constant of a payer's current rate; Retry-After is derived from it. */
  MESHGATE_ADAPTIVE_RATE_TAU_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /**
   * Time constant of a payer's (and the population's) baseline rate. For about this long after a start
   * the detector fails open (nothing has history yet), so a restart never throttles its first traffic.
   */
  MESHGATE_ADAPTIVE_BASELINE_TAU_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  /** Calls per second this process is sized for, against the forecast (default: the node's registered capacity). */
  MESHGATE_CAPACITY_RPS: z.coerce.number().positive().optional(),
  /** Bucket width of the per-API load forecast (Holt-Winters, one season = one day of buckets). */
  MESHGATE_FORECAST_BUCKET_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  MESHGATE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  /** Validator mode: probe the other nodes, sign and submit Reputation attestations (needs a Validator node). */
  MESHGATE_VALIDATOR: z.stringbool().default(false),
  /** How often a validator probes every active node. */
  MESHGATE_VALIDATOR_PROBE_MS: positiveInt.default(30_000),
  /** A probe without a complete answer after this long counts as failed. */
  MESHGATE_VALIDATOR_PROBE_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(5_000),
  /** Latency samples kept per node (and API) per epoch: a uniform reservoir of that size. */
  MESHGATE_VALIDATOR_SAMPLES: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /** Most nodes probed and reported per epoch (an attestation's gas grows with its reports). */
  MESHGATE_VALIDATOR_MAX_NODES: z.coerce.number().int().min(1).max(1_000).default(100),
  /** The node endpoint a health probe calls (relayer/http/server.ts). */
  MESHGATE_VALIDATOR_HEALTH_PATH: z
    .string()
    .regex(/^\/[^\s]*$/, "must be a path starting with /")
    .default("/readyz"),
  /** How often a validator checks whether the last epoch's attestation is due. */
  MESHGATE_VALIDATOR_ATTEST_SCAN_MS: positiveInt.default(60_000),
  /** Paid probes: the API called through each node (with a voucher from this operator's funded channel). */
  MESHGATE_VALIDATOR_PROBE_API_ID: z
    .string()
    .regex(/^\d+$/, "must be an API id")
    .transform((v) => BigInt(v))
    .optional(),
  /** Paid probes: the token of the channels they pay from. */
  MESHGATE_VALIDATOR_PROBE_TOKEN: address.optional(),
  /** Paid probes: the path (and query) after /{apiId}. */
  MESHGATE_VALIDATOR_PROBE_API_PATH: z
    .string()
    .regex(/^\/[^\s]*$/, "must be a path starting with /")
    .default("/"),
  /** Paid probes are skipped while one call costs more than this (token base units). */
  MESHGATE_VALIDATOR_PROBE_MAX_PRICE: amount.default(1_000_000n),
  /** Reputation and reward upkeep of this node (finalize, commit, claim). */
  MESHGATE_REWARDS_UPKEEP: z.stringbool().default(true),
  MESHGATE_REWARDS_SCAN_MS: positiveInt.default(60_000),
  /** How many past epochs the upkeep looks at for unclaimed rewards. */
  MESHGATE_REWARDS_LOOKBACK_EPOCHS: z.coerce.number().int().min(1).max(64).default(8),
});

/** Cross-variable rules. */
const checkedEnvSchema = relayerEnvSchema.superRefine((e, ctx) => {
  if (e.MESHGATE_ADAPTIVE_BASELINE_TAU_MS <= e.MESHGATE_ADAPTIVE_RATE_TAU_MS) {
    ctx.addIssue({
      code: "custom",
      path: ["MESHGATE_ADAPTIVE_BASELINE_TAU_MS"],
      message: "must be longer than MESHGATE_ADAPTIVE_RATE_TAU_MS (a baseline outlasts the current rate)",
    });
  }
  if (e.MESHGATE_VALIDATOR_PROBE_API_ID !== undefined && e.MESHGATE_VALIDATOR_PROBE_TOKEN === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["MESHGATE_VALIDATOR_PROBE_TOKEN"],
      message: "is required when MESHGATE_VALIDATOR_PROBE_API_ID is set (the token of the probe channels)",
    });
  }
  if (e.MESHGATE_VALIDATOR_PROBE_TOKEN !== undefined && e.MESHGATE_VALIDATOR_PROBE_API_ID === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["MESHGATE_VALIDATOR_PROBE_API_ID"],
      message: "is required when MESHGATE_VALIDATOR_PROBE_TOKEN is set (the API paid probes call)",
    });
  }
});

export type RelayerEnv = z.infer<typeof relayerEnvSchema>;

/** The validated configuration the relayer runs with. */
export interface RelayerConfig {
  host: string;
  port: number;
  rpcUrl: string;
  deploymentFile: string;
  operatorKey: string;
  redisUrl: string;
  allowVolatileRedis: boolean;
  redisPrefix: string;
  maxBodyBytes: number;
  upstream: { timeoutMs: number; connectTimeoutMs: number; retries: number };
  cache: { maxBytes: number; maxEntryBytes: number };
  prefetch: { enabled: boolean; tickMs: number; topK: number; halfLifeMs: number; minExpectedHits: number };
  settlement: { minValue: bigint; maxAgeMs: number; scanMs: number; batchSize: number };
  keeperIntervalMs: number;
  tx: { bumpAfterMs: number; maxFeePerGas: bigint };
  chain: { pollMs: number; confirmations: number; priceTtlMs: number };
  shutdownGraceMs: number;
  logLevel: RelayerEnv["MESHGATE_LOG_LEVEL"];
  adaptive: { enabled: boolean; rateFloorPerSec: number; limitShare: number; rateTauMs: number; baselineTauMs: number };
  forecast: { bucketMs: number; capacityRps: number | undefined };
  validator: ValidatorConfig;
  rewards: { enabled: boolean; scanMs: number; lookbackEpochs: number };
}

/** Validator mode (relayer/validator/). */
export interface ValidatorConfig {
  enabled: boolean;
  probeMs: number;
  probeTimeoutMs: number;
  samples: number;
  maxNodes: number;
  healthPath: string;
  attestScanMs: number;
  /** Paid probes through each node, when configured. */
  paidProbe: { apiId: bigint; token: string; path: string; maxPrice: bigint } | undefined;
}

export class ConfigError extends Error {}

/** Reads the configuration; a bad variable throws a ConfigError naming it and the fix. */
export function loadRelayerConfig(env: NodeJS.ProcessEnv = process.env): RelayerConfig {
  const parsed = checkedEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`bad relayer environment:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  return {
    host: e.MESHGATE_RELAYER_HOST,
    port: e.MESHGATE_RELAYER_PORT,
    rpcUrl: e.MESHGATE_RPC_URL,
    deploymentFile: e.MESHGATE_DEPLOYMENT,
    operatorKey: e.MESHGATE_OPERATOR_KEY,
    redisUrl: e.MESHGATE_REDIS_URL,
    allowVolatileRedis: e.MESHGATE_ALLOW_VOLATILE_REDIS,
    redisPrefix: e.MESHGATE_REDIS_PREFIX,
    maxBodyBytes: e.MESHGATE_MAX_BODY_BYTES,
    upstream: {
      timeoutMs: e.MESHGATE_UPSTREAM_TIMEOUT_MS,
      connectTimeoutMs: e.MESHGATE_UPSTREAM_CONNECT_TIMEOUT_MS,
      retries: e.MESHGATE_UPSTREAM_RETRIES,
    },
    cache: { maxBytes: e.MESHGATE_CACHE_MAX_BYTES, maxEntryBytes: e.MESHGATE_CACHE_MAX_ENTRY_BYTES },
    prefetch: {
      enabled: e.MESHGATE_PREFETCH,
      tickMs: e.MESHGATE_PREFETCH_TICK_MS,
      topK: e.MESHGATE_PREFETCH_TOP_K,
      halfLifeMs: e.MESHGATE_PREFETCH_HALF_LIFE_MS,
      minExpectedHits: e.MESHGATE_PREFETCH_MIN_EXPECTED_HITS,
    },
    settlement: {
      minValue: e.MESHGATE_SETTLE_MIN_VALUE,
      maxAgeMs: e.MESHGATE_SETTLE_MAX_AGE_MS,
      scanMs: e.MESHGATE_SETTLE_SCAN_MS,
      batchSize: e.MESHGATE_SETTLE_BATCH_SIZE,
    },
    keeperIntervalMs: e.MESHGATE_KEEPER_INTERVAL_MS,
    tx: { bumpAfterMs: e.MESHGATE_TX_BUMP_AFTER_MS, maxFeePerGas: BigInt(e.MESHGATE_TX_MAX_FEE_GWEI) * 1_000_000_000n },
    chain: {
      pollMs: e.MESHGATE_CHAIN_POLL_MS,
      confirmations: e.MESHGATE_CONFIRMATIONS,
      priceTtlMs: e.MESHGATE_PRICE_TTL_MS,
    },
    shutdownGraceMs: e.MESHGATE_SHUTDOWN_GRACE_MS,
    logLevel: e.MESHGATE_LOG_LEVEL,
    adaptive: {
      enabled: e.MESHGATE_ADAPTIVE_THROTTLE,
      rateFloorPerSec: e.MESHGATE_ADAPTIVE_RATE_FLOOR,
      limitShare: e.MESHGATE_ADAPTIVE_LIMIT_SHARE,
      rateTauMs: e.MESHGATE_ADAPTIVE_RATE_TAU_MS,
      baselineTauMs: e.MESHGATE_ADAPTIVE_BASELINE_TAU_MS,
    },
    forecast: { bucketMs: e.MESHGATE_FORECAST_BUCKET_MS, capacityRps: e.MESHGATE_CAPACITY_RPS },
    validator: {
      enabled: e.MESHGATE_VALIDATOR,
      probeMs: e.MESHGATE_VALIDATOR_PROBE_MS,
      probeTimeoutMs: e.MESHGATE_VALIDATOR_PROBE_TIMEOUT_MS,
      samples: e.MESHGATE_VALIDATOR_SAMPLES,
      maxNodes: e.MESHGATE_VALIDATOR_MAX_NODES,
      healthPath: e.MESHGATE_VALIDATOR_HEALTH_PATH,
      attestScanMs: e.MESHGATE_VALIDATOR_ATTEST_SCAN_MS,
      paidProbe:
        e.MESHGATE_VALIDATOR_PROBE_API_ID !== undefined && e.MESHGATE_VALIDATOR_PROBE_TOKEN !== undefined
          ? {
              apiId: e.MESHGATE_VALIDATOR_PROBE_API_ID,
              token: e.MESHGATE_VALIDATOR_PROBE_TOKEN,
              path: e.MESHGATE_VALIDATOR_PROBE_API_PATH,
              maxPrice: e.MESHGATE_VALIDATOR_PROBE_MAX_PRICE,
            }
          : undefined,
    },
    rewards: {
      enabled: e.MESHGATE_REWARDS_UPKEEP,
      scanMs: e.MESHGATE_REWARDS_SCAN_MS,
      lookbackEpochs: e.MESHGATE_REWARDS_LOOKBACK_EPOCHS,
    },
  };
}
