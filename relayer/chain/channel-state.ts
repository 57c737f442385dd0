/**
 * On-chain state the voucher check needs, cached and kept fresh by escrow events: channel
 * balances and redeemed totals, pending withdrawals, signer records, and per-call price quotes
 * (which move with the USD feed and staker discounts, so they expire after a TTL instead).
 */
import { getAddress, Interface, type Log } from "ethers";
import {
  PriceQuoter__factory,
  UsdPriceOracle__factory,
  type PaymentEscrow,
  type PriceQuoter,
} from "../../types/ethers-contracts/index.js";

export interface ChannelSnapshot {
  balance: bigint;
  redeemed: bigint;
  /** Leaving the channel once thawed: not available to new vouchers. */
  withdrawing: bigint;
}

export interface SignerSnapshot {
  payer: string;
  /** When the revocation takes effect (seconds; 0: never). */
  revokedAt: bigint;
}

/** Why a price cannot be quoted: the contract's error name (TokenNotAccepted, StalePrice, ...). */
export class QuoteError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A cache whose entries an event can invalidate while a read is in flight. */
class VersionedCache<K, V> {
  private readonly values = new Map<K, V>();
  private readonly versions = new Map<K, number>();
  private readonly loading = new Map<K, Promise<V>>();
  /** Bumped by clear(): a read started before it must not be kept. */
  private generation = 0;

  constructor(
    private readonly loadValue: (key: K) => Promise<V>,
    private readonly maxEntries: number,
  ) {}

  async get(key: K): Promise<V> {
    const cached = this.values.get(key);
    if (cached !== undefined) return cached;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const version = this.versions.get(key) ?? 0;
    const generation = this.generation;
    const load = this.loadValue(key).then(
      (value) => {
        this.loading.delete(key);
        // An event arrived during the read: the value may predate it, so do not keep it.
        if ((this.versions.get(key) ?? 0) === version && this.generation === generation) {
          if (this.values.size >= this.maxEntries) this.values.delete(this.values.keys().next().value as K);
          this.values.set(key, value);
        }
        return value;
      },
      (error: unknown) => {
        this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, load);
    return load;
  }

  invalidate(key: K): void {
    this.values.delete(key);
    this.loading.delete(key);
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
  }

  /** Drops every value, and the reads in flight. */
  clear(): void {
    this.values.clear();
    this.loading.clear();
    this.generation++;
  }
}

/** The quoter's own errors and the oracle's, which it lets bubble up. */
const QUOTE_ERRORS = new Interface(
  [...PriceQuoter__factory.createInterface().fragments, ...UsdPriceOracle__factory.createInterface().fragments].filter(
    (f) => f.type === "error",
  ),
);

const CHANNEL_EVENTS = new Set(["Deposited", "WithdrawalStarted", "WithdrawalCancelled", "Withdrawn", "Redeemed"]);
const SIGNER_EVENTS = new Set(["SignerAuthorized", "SignerRevocationStarted"]);

export class ChannelState {
  private readonly channels: VersionedCache<string, ChannelSnapshot>;
  private readonly signers: VersionedCache<string, SignerSnapshot>;
  private readonly quotes = new Map<string, { perCall: bigint; expiresAt: number } | Promise<bigint>>();
  /** Called for channels whose payer started a withdrawal or whose signer is being revoked. */
  onUrgent: (reason: string) => void = () => undefined;

  constructor(
    private readonly escrow: PaymentEscrow,
    private readonly quoter: PriceQuoter,
    private readonly priceTtlMs: number,
    maxEntries = 100_000,
  ) {
    this.channels = new VersionedCache(async (id) => {
      const [channel, withdrawal] = await Promise.all([escrow.channels(id), escrow.withdrawals(id)]);
      return { balance: channel.balance, redeemed: channel.redeemed, withdrawing: withdrawal.amount };
    }, maxEntries);
    this.signers = new VersionedCache(async (signer) => {
      const info = await escrow.signers(signer);
      return { payer: getAddress(info.payer), revokedAt: info.revokedAt };
    }, maxEntries);
  }

  channel(id: string): Promise<ChannelSnapshot> {
    return this.channels.get(id);
  }

  signer(address: string): Promise<SignerSnapshot> {
    return this.signers.get(address);
  }

  /** The per-call price of `apiId` for `payer` in `token` base units (0: pay-per-call not offered). */
  async pricePerCall(apiId: bigint, token: string, payer: string): Promise<bigint> {
    const key = `${apiId}:${token}:${payer}`;
    const cached = this.quotes.get(key);
    if (cached instanceof Promise) return cached;
    if (cached && cached.expiresAt > Date.now()) return cached.perCall;
    const read = this.quoter.quoteCall(apiId, token, payer).then(
      (perCall) => {
        if (this.quotes.size >= 100_000) this.quotes.clear();
        this.quotes.set(key, { perCall, expiresAt: Date.now() + this.priceTtlMs });
        return perCall;
      },
      (error: unknown) => {
        this.quotes.delete(key);
        throw new QuoteError(QUOTE_ERRORS.parseError(revertData(error) ?? "0x")?.name ?? "QuoteFailed");
      },
    );
    this.quotes.set(key, read);
    return read;
  }

  /** A price list changed: quotes are read again. */
  clearQuotes(): void {
    this.quotes.clear();
  }

  /** Forgets everything read from the chain (it reorganized: any value may have come from an orphaned block). */
  reset(): void {
    this.channels.clear();
    this.signers.clear();
    this.quotes.clear();
  }

  /** Drops whatever escrow events make stale. */
  apply(logs: Log[]): void {
    for (const log of logs) {
      const parsed = this.escrow.interface.parseLog(log);
      if (!parsed) continue;
      if (CHANNEL_EVENTS.has(parsed.name)) {
        this.channels.invalidate(parsed.args[0] as string);
        if (parsed.name === "WithdrawalStarted") this.onUrgent("withdrawal started");
      } else if (SIGNER_EVENTS.has(parsed.name)) {
        this.signers.invalidate(getAddress(parsed.args.signer as string));
        if (parsed.name === "SignerRevocationStarted") this.onUrgent("signer revocation started");
      }
    }
  }
}

function revertData(error: unknown): string | undefined {
  const data = (error as { data?: unknown }).data;
  return typeof data === "string" ? data : undefined;
}
