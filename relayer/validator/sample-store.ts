/**
 * A validator's measurements, per epoch and subject, in Redis (durable with the append-only
 * file, so a restart keeps them): counters in a hash and latency samples in a list that is a
 * uniform reservoir of at most `maxSamples` (Algorithm R: the n-th sample replaces a random slot
 * with probability max/n), so memory per subject and epoch is bounded however long the epoch.
 * Also keeps the attestation built for an epoch, so a restart re-sends the same one and the
 * upkeep knows which subjects this validator reported. Keys expire after `ttlSeconds`.
 */
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Attestation } from "./attestation.js";
import type { SubjectKey, SubjectStats } from "./qos.js";

// KEYS: stats hash, latency list, subjects set. ARGV: subject, attempts, successes, reachable
// (0/1), max samples, ttl seconds, then (latency, u) pairs with u uniform in [0, 1) from the caller
// (script randomness is not available on every Redis version).
const RECORD = `
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'rounds', 1)
redis.call('HINCRBY', KEYS[1], 'attempts', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'successes', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'reachable', ARGV[4])
local max = tonumber(ARGV[5])
for i = 7, #ARGV, 2 do
  local seen = redis.call('HINCRBY', KEYS[1], 'seen', 1)
  if seen <= max then
    redis.call('RPUSH', KEYS[2], ARGV[i])
  else
    local j = math.floor(tonumber(ARGV[i + 1]) * seen)
    if j < max then redis.call('LSET', KEYS[2], j, ARGV[i]) end
  end
end
local ttl = tonumber(ARGV[6])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ttl) end
return 1
`;

type Scripts = { mgRecordProbe(...args: (string | number)[]): Promise<number> };

/** One subject's results in one probe round. */
export interface RoundRecord {
  subject: SubjectKey;
  attempts: number;
  successes: number;
  /** Whether the subject answered at all this round. */
  reachable: boolean;
  /** Latencies of the successful probes, microseconds. */
  latencies: number[];
}

/** An attestation as built and signed for an epoch. */
export interface SignedAttestation {
  attestation: Attestation;
  signature: string;
}

const signedSchema = z.object({
  attestation: z.object({
    epoch: z.number().int().nonnegative(),
    nodes: z.array(
      z.object({
        node: z.string(),
        qos: z.object({
          p50Micros: z.number().int(),
          p99Micros: z.number().int(),
          successBps: z.number().int(),
          availabilityBps: z.number().int(),
        }),
      }),
    ),
    apis: z.array(
      z.object({
        apiId: z.string().regex(/^\d+$/),
        qos: z.object({
          p50Micros: z.number().int(),
          p99Micros: z.number().int(),
          successBps: z.number().int(),
          availabilityBps: z.number().int(),
        }),
      }),
    ),
  }),
  signature: z.string(),
});

export class SampleStore {
  private readonly redis: Redis & Scripts;

  constructor(
    redis: Redis,
    /** The node's key prefix (`<MESHGATE_REDIS_PREFIX>:<node>`). */
    private readonly prefix: string,
    private readonly opts: { maxSamples: number; ttlSeconds: number; random?: () => number },
  ) {
    if (!("mgRecordProbe" in redis)) redis.defineCommand("mgRecordProbe", { numberOfKeys: 3, lua: RECORD });
    this.redis = redis as Redis & Scripts;
  }

  private key(epoch: number, rest: string): string {
    return `${this.prefix}:val:${epoch}:${rest}`;
  }

  /** Adds one round's results for one subject (atomically). */
  async record(epoch: number, r: RoundRecord): Promise<void> {
    const random = this.opts.random ?? Math.random;
    const pairs = r.latencies.flatMap((l) => [Math.round(l), random()]);
    await this.redis.mgRecordProbe(
      this.key(epoch, r.subject),
      this.key(epoch, `${r.subject}:lat`),
      this.key(epoch, "subjects"),
      r.subject,
      r.attempts,
      r.successes,
      r.reachable ? 1 : 0,
      this.opts.maxSamples,
      this.opts.ttlSeconds,
      ...pairs,
    );
  }

  /** Everything recorded in `epoch`, by subject. */
  async read(epoch: number): Promise<Map<SubjectKey, SubjectStats>> {
    const subjects = (await this.redis.smembers(this.key(epoch, "subjects"))) as SubjectKey[];
    const out = new Map<SubjectKey, SubjectStats>();
    if (subjects.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const s of subjects) {
      pipeline.hgetall(this.key(epoch, s));
      pipeline.lrange(this.key(epoch, `${s}:lat`), 0, -1);
    }
    const results = (await pipeline.exec()) ?? [];
    subjects.forEach((s, i) => {
      const [hashError, hash] = results[2 * i] ?? [];
      const [listError, list] = results[2 * i + 1] ?? [];
      if (hashError || listError) throw hashError ?? listError;
      const h = hash as Record<string, string>;
      const n = (field: string) => Number(h[field] ?? 0);
      out.set(s, {
        attempts: n("attempts"),
        successes: n("successes"),
        rounds: n("rounds"),
        reachable: n("reachable"),
        latencies: (list as string[]).map(Number),
      });
    });
    return out;
  }

  /** Keeps the attestation signed for its epoch. */
  async saveAttestation(signed: SignedAttestation): Promise<void> {
    const { attestation: a, signature } = signed;
    const json = JSON.stringify({
      attestation: { ...a, apis: a.apis.map((r) => ({ ...r, apiId: r.apiId.toString() })) },
      signature,
    });
    await this.redis.set(this.key(a.epoch, "attestation"), json, "EX", this.opts.ttlSeconds);
  }

  /** The attestation signed for `epoch`, if any. */
  async loadAttestation(epoch: number): Promise<SignedAttestation | undefined> {
    const raw = await this.redis.get(this.key(epoch, "attestation"));
    if (raw === null) return undefined;
    const parsed = signedSchema.parse(JSON.parse(raw));
    return {
      attestation: {
        ...parsed.attestation,
        apis: parsed.attestation.apis.map((r) => ({ ...r, apiId: BigInt(r.apiId) })),
      },
      signature: parsed.signature,
    };
  }
}
