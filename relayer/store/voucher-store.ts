/**
 * The latest voucher of every channel, in Redis: written atomically (compare-and-set on the
 * cumulative amount) before the call is answered, read by the settlement job. Several relayer
 * processes of one node share it, so two calls racing on one channel cannot both be accepted
 * for the same increase. Amounts are stored as 40-digit zero-padded decimals so Lua can
 * compare uint128 values as strings.
 */
import type { Redis } from "ioredis";
import { GCRA_LUA_FUNCTION, retryAfterSeconds, type GcraBucket } from "./rate-limiter.js";

const DIGITS = 40;
const pad = (v: bigint) => v.toString().padStart(DIGITS, "0");

// KEYS: channel hash, dirty set. ARGV: cum, floor (cum - price), sig, payer, apiId, token,
// signer, now (ms), channelId, redeemed on-chain. Accepts when the last accepted amount (the
// stored one, or the chain's redeemed total if higher) is <= floor and < cum. The voucher it
// replaces is kept (p* fields; pcum '' when there was none) so that REFUND can restore it.
const ACCEPT = `
local old = redis.call('HMGET', KEYS[1], 'cum', 'sig', 'signer', 'at')
local prev = old[1]
local last = prev
if not last or ARGV[10] > last then last = ARGV[10] end
if last > ARGV[2] or last >= ARGV[1] then return {0, last} end
redis.call('HSET', KEYS[1], 'cum', ARGV[1], 'sig', ARGV[3], 'payer', ARGV[4], 'api', ARGV[5],
  'token', ARGV[6], 'signer', ARGV[7], 'at', ARGV[8],
  'pcum', prev or '', 'psig', old[2] or '', 'psigner', old[3] or '', 'pat', old[4] or '')
redis.call('ZADD', KEYS[2], 'NX', ARGV[8], ARGV[9])
return {1, prev or ''}
`;
// As ACCEPT, after spending one call of the payer's rate-limit bucket (KEYS[3], ARGV[11] = T,
// ARGV[12] = τ in µs): one round trip for both. A limited call stores nothing: {2, wait µs}.
const ACCEPT_LIMITED = `${GCRA_LUA_FUNCTION}
local allowed, value = gcra(KEYS[3], tonumber(ARGV[11]), tonumber(ARGV[12]))
if allowed == 0 then return {2, value} end
${ACCEPT}`;

// KEYS: channel hash, dirty set. ARGV: redeemed on-chain, channelId. Leaves the dirty set once
// the chain has paid the latest voucher.
const SETTLED = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 1
end
redis.call('HSET', KEYS[1], 'settled', ARGV[1])
local cum = redis.call('HGET', KEYS[1], 'cum')
if cum <= ARGV[1] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 1
end
return 0
`;

// KEYS: channel hash, dirty set. ARGV: the refunded voucher's cum, channelId. Restores the voucher
// ACCEPT replaced, if the refunded one is still the latest, not yet paid on-chain, and its
// predecessor is known (a restored voucher has none: it cannot be refunded in turn, or a voucher
// between would be lost).
// Returns the restored cum ('' for none: the channel is forgotten), or false when refused.
const REFUND = `
local cur = redis.call('HMGET', KEYS[1], 'cum', 'pcum', 'psig', 'psigner', 'pat', 'settled')
if cur[1] ~= ARGV[1] or not cur[2] then return false end
if cur[6] and cur[6] >= ARGV[1] then return false end
if cur[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return ''
end
redis.call('HSET', KEYS[1], 'cum', cur[2], 'sig', cur[3], 'signer', cur[4], 'at', cur[5])
redis.call('HDEL', KEYS[1], 'pcum', 'psig', 'psigner', 'pat')
if cur[6] and cur[2] <= cur[6] then redis.call('ZREM', KEYS[2], ARGV[2]) end
return cur[2]
`;

type Scripts = {
  mgAcceptVoucher(...args: string[]): Promise<[number, string]>;
  mgAcceptVoucherLimited(...args: string[]): Promise<[number, string | number]>;
  mgMarkSettled(...args: string[]): Promise<number>;
  mgRefundVoucher(...args: string[]): Promise<string | null>;
};

export interface StoredVoucher {
  channelId: string;
  payer: string;
  apiId: bigint;
  token: string;
  signer: string;
  cumulativeAmount: bigint;
  signature: string;
  /** The highest total the chain is known to have paid on this channel. */
  settled: bigint;
  /** When this node first held an unsettled voucher on the channel (ms). */
  unsettledSince: number;
}

export type AcceptResult =
  | { accepted: true; previous: bigint | undefined }
  | { accepted: false; current: bigint }
  | { accepted: false; rateLimited: true; retryAfterSeconds: number };

export class VoucherStore {
  private readonly redis: Redis & Scripts;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand("mgAcceptVoucher", { numberOfKeys: 2, lua: ACCEPT });
    redis.defineCommand("mgAcceptVoucherLimited", { numberOfKeys: 3, lua: ACCEPT_LIMITED });
    redis.defineCommand("mgMarkSettled", { numberOfKeys: 2, lua: SETTLED });
    redis.defineCommand("mgRefundVoucher", { numberOfKeys: 2, lua: REFUND });
    this.redis = redis as Redis & Scripts;
  }

  private channelKey(id: string): string {
    return `${this.prefix}:ch:${id}`;
  }

  private get dirtyKey(): string {
    return `${this.prefix}:dirty`;
  }

  /**
   * Stores `voucher` as the channel's latest if it exceeds the last accepted amount (the stored
   * voucher's, or `redeemed` on-chain if higher) by at least `price`; otherwise returns that amount.
   * With `limit`, first spends one call of that rate-limit bucket in the same script; a refused
   * call stores nothing.
   */
  async accept(
    voucher: Omit<StoredVoucher, "settled" | "unsettledSince">,
    price: bigint,
    redeemed: bigint,
    opts: { now?: number; limit?: GcraBucket } = {},
  ): Promise<AcceptResult> {
    if (voucher.cumulativeAmount < price) throw new RangeError("a voucher below one price is never accepted");
    const keys = [this.channelKey(voucher.channelId), this.dirtyKey];
    const args = [
      pad(voucher.cumulativeAmount),
      pad(voucher.cumulativeAmount - price),
      voucher.signature,
      voucher.payer,
      voucher.apiId.toString(),
      voucher.token,
      voucher.signer,
      String(opts.now ?? Date.now()),
      voucher.channelId,
      pad(redeemed),
    ];
    const { limit } = opts;
    const [code, value] = limit
      ? await this.redis.mgAcceptVoucherLimited(
          ...keys,
          limit.key,
          ...args,
          String(limit.intervalMicros),
          String(limit.toleranceMicros),
        )
      : await this.redis.mgAcceptVoucher(...keys, ...args);
    if (code === 2) return { accepted: false, rateLimited: true, retryAfterSeconds: retryAfterSeconds(Number(value)) };
    const prev = String(value);
    if (code === 1) return { accepted: true, previous: prev === "" ? undefined : BigInt(prev) };
    return { accepted: false, current: BigInt(prev) };
  }

  /**
   * Takes back the channel's latest voucher, `cumulativeAmount`, for a call the upstream failed: the
   * voucher it replaced becomes the latest again. Refused (undefined) when a later voucher was accepted
   * meanwhile, when settlement already recorded it as paid, or when the voucher's predecessor is unknown
   * because it was itself restored by a refund.
   * Returns the restored latest amount (0 when the refunded voucher was the channel's first).
   */
  async refund(channelId: string, cumulativeAmount: bigint): Promise<bigint | undefined> {
    const restored = await this.redis.mgRefundVoucher(
      this.channelKey(channelId),
      this.dirtyKey,
      pad(cumulativeAmount),
      channelId,
    );
    if (restored === null) return undefined;
    return restored === "" ? 0n : BigInt(restored);
  }

  /** The latest accepted cumulative amount of a channel (0 if none). */
  async latest(channelId: string): Promise<bigint> {
    const cum = await this.redis.hget(this.channelKey(channelId), "cum");
    return cum === null ? 0n : BigInt(cum);
  }

  /** Channels with unsettled vouchers, oldest first, with the time they became unsettled. */
  async unsettled(limit: number): Promise<{ channelId: string; since: number }[]> {
    const flat = await this.redis.zrange(this.dirtyKey, "0", String(limit - 1), "WITHSCORES");
    const out: { channelId: string; since: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ channelId: flat[i]!, since: Number(flat[i + 1]) });
    return out;
  }

  async unsettledCount(): Promise<number> {
    return this.redis.zcard(this.dirtyKey);
  }

  /** The stored vouchers of `channelIds` (missing ones are left out). */
  async read(channelIds: { channelId: string; since: number }[]): Promise<StoredVoucher[]> {
    const pipeline = this.redis.pipeline();
    for (const { channelId } of channelIds) pipeline.hgetall(this.channelKey(channelId));
    const results = (await pipeline.exec()) ?? [];
    const out: StoredVoucher[] = [];
    results.forEach(([error, value], i) => {
      const h = value as Record<string, string> | null;
      if (error || !h || h.cum === undefined) return;
      const entry = channelIds[i]!;
      out.push({
        channelId: entry.channelId,
        payer: h.payer!,
        apiId: BigInt(h.api!),
        token: h.token!,
        signer: h.signer!,
        cumulativeAmount: BigInt(h.cum),
        signature: h.sig!,
        settled: BigInt(h.settled ?? "0"),
        unsettledSince: entry.since,
      });
    });
    return out;
  }

  /**
   * Moves a voucher the escrow refuses out of the unsettled set into a quarantine hash an
   * operator can inspect (nothing is deleted).
   */
  async quarantine(voucher: StoredVoucher, reason: string): Promise<void> {
    await this.redis
      .multi()
      .hset(
        `${this.prefix}:quarantine`,
        voucher.channelId,
        JSON.stringify({
          ...voucher,
          apiId: voucher.apiId.toString(),
          cumulativeAmount: voucher.cumulativeAmount.toString(),
          settled: voucher.settled.toString(),
          reason,
        }),
      )
      .zrem(this.dirtyKey, voucher.channelId)
      .exec();
  }

  /** Records what the chain has paid on a channel; returns whether it is now fully settled. */
  async markSettled(channelId: string, redeemedOnChain: bigint): Promise<boolean> {
    return (
      (await this.redis.mgMarkSettled(this.channelKey(channelId), this.dirtyKey, pad(redeemedOnChain), channelId)) === 1
    );
  }
}
