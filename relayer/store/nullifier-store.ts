/**
 * The RLN nullifiers the relayer has accepted, in Redis shared by all of its processes. Each
 * accepted proof stores its share (x, y) under (apiId, epoch, nullifier). A second proof with
 * the same nullifier is either the same request again (a replay) or another request with the
 * same message index: the identity called more than its per-epoch limit, and the two shares
 * reveal its secret (sdk/zk/shares.ts recoverSecret), which the store records durably for a
 * slasher before refusing the call.
 */
import type { Redis } from "ioredis";

/** A point of the member's RLN line, as a proof reveals it. */
export interface Share {
  x: bigint;
  y: bigint;
}

/** One accepted proof's nullifier and share. */
export interface NullifierShare extends Share {
  apiId: bigint;
  epoch: bigint;
  nullifier: bigint;
}

/**
 * fresh: first use, now recorded. replayed: the same nullifier at the same x (the same
 * request). limit_exceeded: the same nullifier at another x; both shares were recorded as evidence.
 */
export type NullifierOutcome = "fresh" | "replayed" | "limit_exceeded";

/** Two shares of one nullifier: enough for recoverSecret, then AccessGroups.commitSlash / slash. */
export interface LimitEvidence {
  apiId: bigint;
  epoch: bigint;
  nullifier: bigint;
  shares: [Share, Share];
}

/**
 * The Redis hash of limit evidence (`mg:zk:evidence` with the default prefix "mg" of config.redisPrefix): field
 * `${apiId}:${epoch}:${nullifier}` (decimal), value the JSON of a LimitEvidence with decimal
 * strings. No expiry: a slasher deletes (HDEL) what it slashed.
 */
export const evidenceKey = (prefix: string): string => `${prefix}:zk:evidence`;

const OUTCOMES: readonly NullifierOutcome[] = ["fresh", "replayed", "limit_exceeded"];

// KEYS: nullifier key, evidence hash. ARGV: x, y, ttl ms, evidence field, apiId, epoch, nullifier.
// Returns the index of the outcome in OUTCOMES. One script, so two processes racing on one
// nullifier cannot both see it fresh, and evidence is never lost between the read and the write.
// HSETNX keeps the first pair of shares of a nullifier: one pair reveals the secret, and a
// member repeating the overuse cannot grow the hash.
const RECORD = `
local share = ARGV[1] .. ':' .. ARGV[2]
local prev = redis.call('GET', KEYS[1])
if not prev then
  redis.call('SET', KEYS[1], share, 'PX', ARGV[3])
  return 0
end
local sep = string.find(prev, ':', 1, true)
local prevX = string.sub(prev, 1, sep - 1)
if prevX == ARGV[1] then
  return 1
end
local evidence = cjson.encode({
  apiId = ARGV[5],
  epoch = ARGV[6],
  nullifier = ARGV[7],
  shares = { { x = prevX, y = string.sub(prev, sep + 1) }, { x = ARGV[1], y = ARGV[2] } },
})
redis.call('HSETNX', KEYS[2], ARGV[4], evidence)
return 2
`;

type Scripts = {
  mgRecordNullifier(...args: string[]): Promise<number>;
};

export class NullifierStore {
  private readonly redis: Redis & Scripts;

  /**
   * @param redis A client of the Redis every relayer process of this node shares. Not a
   *        Cluster: the script touches a nullifier key and the evidence hash, which must live
   *        on one server.
   * @param prefix Namespace of the keys (config.redisPrefix): `${prefix}:zk:nf:…` and evidenceKey(prefix).
   */
  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand("mgRecordNullifier", { numberOfKeys: 2, lua: RECORD });
    this.redis = redis as Redis & Scripts;
  }

  /**
   * Records the nullifier's share unless the nullifier is already known. `ttlMs` must outlast
   * the time a proof of `epoch` is still accepted (after that the epoch check refuses it).
   */
  async record(share: NullifierShare, ttlMs: number): Promise<NullifierOutcome> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive integer: ${ttlMs}`);
    const [apiId, epoch, nullifier] = [share.apiId.toString(), share.epoch.toString(), share.nullifier.toString()];
    const field = `${apiId}:${epoch}:${nullifier}`;
    const index = await this.redis.mgRecordNullifier(
      `${this.prefix}:zk:nf:${field}`,
      evidenceKey(this.prefix),
      share.x.toString(),
      share.y.toString(),
      String(ttlMs),
      field,
      apiId,
      epoch,
      nullifier,
    );
    const outcome = OUTCOMES[index];
    if (outcome === undefined) throw new Error(`nullifier script returned ${index}`);
    return outcome;
  }
}

interface StoredEvidence {
  apiId: string;
  epoch: string;
  nullifier: string;
  shares: [{ x: string; y: string }, { x: string; y: string }];
}

/** Every recorded limit evidence (for a slasher: recoverSecret on the two shares, then slash). */
export async function readLimitEvidence(redis: Redis, prefix: string): Promise<LimitEvidence[]> {
  const entries = await redis.hgetall(evidenceKey(prefix));
  return Object.values(entries).map((json) => {
    const e = JSON.parse(json) as StoredEvidence;
    const share = (s: { x: string; y: string }): Share => ({ x: BigInt(s.x), y: BigInt(s.y) });
    return {
      apiId: BigInt(e.apiId),
      epoch: BigInt(e.epoch),
      nullifier: BigInt(e.nullifier),
      shares: [share(e.shares[0]), share(e.shares[1])],
    };
  });
}
