/**
 * The operator's only nonce manager. Every on-chain transaction of the node (voucher redemption
 * batches, keeper upkeeps) goes through one TxSender, called from a BullMQ queue with global
 * concurrency 1: at most one send runs at a time across all relayer processes. That assumption is
 * what lets a send take the account's "pending" nonce without a lock; a transaction sent from
 * the operator key by anything else is tolerated (its nonce is detected as taken) but not planned for.
 */
import {
  type BaseWallet,
  type Interface,
  isError,
  JsonRpcApiProvider,
  keccak256,
  type TransactionReceipt,
} from "ethers";
import { type Redis } from "ioredis";
import { z } from "zod";
import type { Logger } from "../log.js";

/** What to send: a contract call without value. Without `gasLimit` the gas is estimated (+20%, + `gasMargin`). */
export interface TxRequest {
  to: string;
  data: string;
  gasLimit?: bigint;
  /** Gas added to the estimate for state the estimate cannot see (e.g. a write that starts with the next block). */
  gasMargin?: bigint;
}

const decimal = z.string().regex(/^\d+$/);

/** One signed version of the pending transaction: same nonce, its own fees and hash. */
const broadcastSchema = z.object({
  hash: z.string().regex(/^0x[0-9a-f]{64}$/),
  maxFeePerGas: decimal,
  maxPriorityFeePerGas: decimal,
  /** When it was first sent (ms since the epoch): the bump timer resumes from here after a restart. */
  at: z.number().int(),
});

/**
 * The Redis record of the transaction in flight (JSON under the sender's key). It is written
 * before each broadcast and deleted once the nonce is final, so a crash at any point leaves
 * enough to finish the transaction without sending it twice.
 */
const pendingSchema = z.object({
  label: z.string(),
  from: z.string(),
  chainId: decimal,
  nonce: z.number().int().nonnegative(),
  to: z.string(),
  data: z.string(),
  gasLimit: decimal,
  /** Oldest first; the last one has the highest fees. */
  broadcasts: z.array(broadcastSchema).min(1),
});

/** The pending-transaction record as stored in Redis. */
export type PendingTx = z.infer<typeof pendingSchema>;
type Broadcast = PendingTx["broadcasts"][number];

interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** Estimates before inclusion can be low when state changes in between (a batch grows a slot). */
const GAS_HEADROOM_PERCENT = 20n;
/** Nodes (geth's default price bump, Hardhat) refuse a replacement that raises a fee by less. */
const MIN_REPLACEMENT_PERCENT = 10n;

/** The transaction was mined and reverted: its nonce is spent, the job decides what to do. */
export class TxReverted extends Error {
  readonly hash: string;
  constructor(
    readonly label: string,
    readonly receipt: TransactionReceipt,
  ) {
    super(`${label} reverted in transaction ${receipt.hash}`);
    this.name = "TxReverted";
    this.hash = receipt.hash;
  }
}

/** Gas estimation says the transaction would revert; nothing was signed or sent. */
export class TxWouldRevert extends Error {
  constructor(
    readonly label: string,
    /** The decoded revert, e.g. `ERC20InsufficientBalance(0x…, 0, 1)` or `Error(paused)`, when known. */
    readonly reason: string | undefined,
    /** The raw revert data, when the node returned it. */
    readonly data: string | undefined,
    cause: unknown,
  ) {
    super(`${label} would revert${reason ? `: ${reason}` : data ? ` with data ${data.slice(0, 10)}` : ""}`, { cause });
    this.name = "TxWouldRevert";
  }
}

/** A TxSender's settings. */
export interface TxSenderOptions {
  /** The operator key, connected to a JSON-RPC provider. */
  wallet: BaseWallet;
  redis: Redis;
  /** Where the pending-transaction record lives; one key per operator account. */
  key?: string;
  /** Replace a transaction that has no receipt after this long. */
  bumpAfterMs?: number;
  /** How much each replacement raises both EIP-1559 fees (at least 10, what nodes require). */
  bumpPercent?: number;
  /** No version is ever signed with a higher maxFeePerGas; bumping stops there (with a warning). */
  maxFeePerGasCap: bigint;
  /** A receipt counts once it has this many confirmations. */
  confirmations?: number;
  /** How often receipts are polled. */
  pollMs?: number;
  /** Interfaces whose custom errors TxWouldRevert should decode (e.g. the escrow's). */
  errors?: Interface[];
  log?: Pick<Logger, "info" | "warn">;
}

/**
 * Sends transactions from one key, one at a time, so that none is lost or sent twice:
 * - the record of a transaction (nonce, payload, every signed version's hash and fees) is saved
 *   in Redis before it is broadcast;
 * - a send (or `recover()`) first finishes a record left by a crashed or failed earlier send:
 *   mined → done; nonce taken by another transaction → dropped; else broadcast again and waited
 *   for. If that record is the same send (same label, target and data: a job retried after a
 *   crash), its receipt is the answer and no second nonce is used;
 * - a transaction without a receipt after `bumpAfterMs` is replaced at the same nonce with both
 *   fees raised by `bumpPercent`, up to `maxFeePerGasCap`; the receipt of any version ends it;
 * - RPC errors while sending or waiting are thrown after the record is saved: the job retries and
 *   the next send resumes the same nonce.
 * A crash after the record is deleted but before the job is acknowledged resends the payload
 * with a new nonce (labels such as "performUpkeep" are reused, so completed sends are not
 * remembered); the calls sent here are idempotent on chain or fail gas estimation when repeated.
 */
export class TxSender {
  private readonly key: string;
  private readonly bumpAfterMs: number;
  private readonly bumpPercent: bigint;
  private readonly confirmations: number;
  private readonly pollMs: number;
  private readonly provider: JsonRpcApiProvider;

  constructor(private readonly opts: TxSenderOptions) {
    const { wallet, bumpPercent = 15, confirmations = 1 } = opts;
    if (!(wallet.provider instanceof JsonRpcApiProvider)) {
      throw new TypeError("the operator wallet must be connected to a JSON-RPC provider");
    }
    if (!Number.isInteger(bumpPercent) || bumpPercent < MIN_REPLACEMENT_PERCENT) {
      throw new RangeError(`bumpPercent must be an integer >= ${MIN_REPLACEMENT_PERCENT}: nodes refuse smaller bumps`);
    }
    if (!Number.isInteger(confirmations) || confirmations < 1) throw new RangeError("confirmations must be >= 1");
    this.provider = wallet.provider;
    this.key = opts.key ?? "mg:tx:pending";
    this.bumpAfterMs = opts.bumpAfterMs ?? 15_000;
    this.bumpPercent = BigInt(bumpPercent);
    this.confirmations = confirmations;
    this.pollMs = opts.pollMs ?? 1_000;
  }

  /**
   * Sends `tx` and resolves to its receipt once mined with enough confirmations. A transaction
   * left pending by an earlier send is finished first. Throws TxWouldRevert (nothing sent),
   * TxReverted (mined, reverted) or, for RPC and Redis failures, the underlying error: calling
   * `send` again with the same arguments resumes the same transaction.
   */
  async send(label: string, tx: TxRequest): Promise<TransactionReceipt> {
    const earlier = await this.load();
    if (earlier) {
      const receipt = await this.settle(earlier, true);
      if (earlier.label === label && sameHex(earlier.to, tx.to) && sameHex(earlier.data, tx.data)) {
        if (receipt) return this.outcome(earlier, receipt);
        // Its nonce went to another transaction: this send was never mined, so send it anew.
      }
    }
    const record = await this.prepare(label, tx);
    const receipt = await this.settle(record, false);
    if (!receipt) {
      throw new Error(`${label}: nonce ${record.nonce} was taken by another transaction from the operator key; retry`);
    }
    return this.outcome(record, receipt);
  }

  /**
   * Finishes the transaction an earlier process left pending, if any (call it at startup).
   * Resolves to its receipt (reverted or not: that outcome belonged to the earlier job), or
   * undefined when there was none or its nonce went to another transaction.
   */
  async recover(): Promise<TransactionReceipt | undefined> {
    const earlier = await this.load();
    if (!earlier) return undefined;
    return (await this.settle(earlier, true)) ?? undefined;
  }

  private outcome(record: PendingTx, receipt: TransactionReceipt): TransactionReceipt {
    if (receipt.status === 0) throw new TxReverted(record.label, receipt);
    return receipt;
  }

  /** Estimates gas, takes the next nonce and current fees, signs, and saves the record. */
  private async prepare(label: string, tx: TxRequest): Promise<PendingTx> {
    const from = this.opts.wallet.address;
    let gasLimit = tx.gasLimit;
    if (gasLimit === undefined) {
      try {
        // Uncached: ethers shares an identical request made within 250 ms, so a second send of the
        // same call right after the first was mined would get the first's estimate and revert.
        gasLimit = BigInt(await this.provider.send("eth_estimateGas", [{ from, to: tx.to, data: tx.data }]));
      } catch (error) {
        if (!isError(error, "CALL_EXCEPTION")) throw error;
        const data = error.data ?? undefined;
        throw new TxWouldRevert(label, this.decodeRevert(error.revert, data), data, error);
      }
      gasLimit += (gasLimit * GAS_HEADROOM_PERCENT) / 100n + (tx.gasMargin ?? 0n);
    }
    const [network, nonce, fees] = await Promise.all([
      this.provider.getNetwork(),
      this.nonce("pending"),
      this.currentFees(),
    ]);
    const record: PendingTx = {
      label,
      from,
      chainId: network.chainId.toString(),
      nonce,
      to: tx.to,
      data: tx.data,
      gasLimit: gasLimit.toString(),
      broadcasts: [],
    };
    record.broadcasts.push(await this.sign(record, fees));
    await this.save(record);
    return record;
  }

  /**
   * Broadcasts the record's newest version (again: after a crash it may never have left), then
   * polls for a receipt of any version, replacing it with higher fees every `bumpAfterMs`.
   * Deletes the record and resolves to the receipt, or to null when another transaction took the
   * nonce. Errors leave the record in place.
   */
  private async settle(record: PendingTx, resumed: boolean): Promise<TransactionReceipt | null> {
    const log = this.opts.log;
    const context = { label: record.label, nonce: record.nonce };
    // A record always has a version: prepare signs one before saving, and the schema requires it.
    let latest = record.broadcasts.at(-1) as Broadcast;
    await this.broadcast(record, latest);
    log?.info(
      { ...context, hash: latest.hash, ...feeFields(latest) },
      resumed ? "transaction resumed" : "transaction sent",
    );
    let capped = false;
    for (;;) {
      const receipt = await this.receipt(record);
      if (receipt) {
        if (this.confirmations <= 1 || (await receipt.confirmations()) >= this.confirmations) {
          await this.opts.redis.del(this.key);
          log?.info({ ...context, hash: receipt.hash, status: receipt.status }, "transaction mined");
          return receipt;
        }
      } else if (await this.nonceTaken(record)) {
        await this.opts.redis.del(this.key);
        log?.warn(context, "the nonce was used by another transaction; dropped");
        return null;
      } else if (!capped && Date.now() - latest.at >= this.bumpAfterMs) {
        const fees = await this.bumpedFees(latest);
        if (fees) {
          latest = await this.sign(record, fees);
          record.broadcasts.push(latest);
          await this.save(record);
          await this.broadcast(record, latest);
          log?.info({ ...context, hash: latest.hash, ...feeFields(latest) }, "transaction replaced with higher fees");
        } else {
          // The cap is fixed, so no later bump can pass either.
          capped = true;
          log?.warn(
            { ...context, cap: this.opts.maxFeePerGasCap.toString(), ...feeFields(latest) },
            "not mined and the fee cap allows no further bump; waiting",
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** Fees for the replacement of `last`: +bumpPercent (or the network's, if higher), capped; undefined at the cap. */
  private async bumpedFees(last: Broadcast): Promise<Fees | undefined> {
    const network = await this.currentFees();
    const raise = (fee: bigint) => (fee * (100n + this.bumpPercent) + 99n) / 100n;
    const lastMax = BigInt(last.maxFeePerGas);
    const lastPriority = BigInt(last.maxPriorityFeePerGas);
    const maxFeePerGas = min(max(raise(lastMax), network.maxFeePerGas), this.opts.maxFeePerGasCap);
    const maxPriorityFeePerGas = min(max(raise(lastPriority), network.maxPriorityFeePerGas), maxFeePerGas);
    const replaces = (next: bigint, prev: bigint) => next * 100n >= prev * (100n + MIN_REPLACEMENT_PERCENT);
    if (!replaces(maxFeePerGas, lastMax) || !replaces(maxPriorityFeePerGas, lastPriority)) return undefined;
    return { maxFeePerGas, maxPriorityFeePerGas };
  }

  /** The network's suggested EIP-1559 fees, capped. */
  private async currentFees(): Promise<Fees> {
    const data = await this.provider.getFeeData();
    if (data.maxFeePerGas === null || data.maxPriorityFeePerGas === null) {
      throw new Error("the chain does not support EIP-1559 fees");
    }
    const maxFeePerGas = min(data.maxFeePerGas, this.opts.maxFeePerGasCap);
    return { maxFeePerGas, maxPriorityFeePerGas: min(data.maxPriorityFeePerGas, maxFeePerGas) };
  }

  /** Signs the record's transaction with `fees`. Signatures are deterministic: re-signing gives the same hash. */
  private async sign(record: PendingTx, fees: Fees): Promise<Broadcast> {
    const signed = await this.signed(record, fees);
    return {
      hash: keccak256(signed),
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      at: Date.now(),
    };
  }

  private signed(record: PendingTx, fees: Fees): Promise<string> {
    return this.opts.wallet.signTransaction({
      type: 2,
      chainId: BigInt(record.chainId),
      nonce: record.nonce,
      to: record.to,
      data: record.data,
      value: 0n,
      gasLimit: BigInt(record.gasLimit),
      ...fees,
    });
  }

  private async broadcast(record: PendingTx, version: Broadcast): Promise<void> {
    const fees = {
      maxFeePerGas: BigInt(version.maxFeePerGas),
      maxPriorityFeePerGas: BigInt(version.maxPriorityFeePerGas),
    };
    try {
      await this.provider.broadcastTransaction(await this.signed(record, fees));
    } catch (error) {
      // Mined already (nonce too low), outbid by our own newer version, or known to the node
      // (already pending; Hardhat also reports a revert on submission yet mines the transaction):
      // the wait decides. Anything else (RPC down, no funds) is thrown with the record kept.
      if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED")) return;
      if ((await this.provider.send("eth_getTransactionByHash", [version.hash])) !== null) return;
      throw error;
    }
  }

  /** The receipt of any version, newest first. */
  private async receipt(record: PendingTx): Promise<TransactionReceipt | null> {
    for (const { hash } of [...record.broadcasts].reverse()) {
      const receipt = await this.provider.getTransactionReceipt(hash);
      if (receipt) return receipt;
    }
    return null;
  }

  /**
   * Whether the nonce was used, by none of our versions. Read past ethers' request cache: a
   * receipt cached as missing a moment before the nonce moved must not pass for "dropped".
   */
  private async nonceTaken(record: PendingTx): Promise<boolean> {
    if ((await this.nonce("latest")) <= record.nonce) return false;
    for (const { hash } of record.broadcasts) {
      if ((await this.provider.send("eth_getTransactionReceipt", [hash])) !== null) return false;
    }
    return true;
  }

  /** The operator's transaction count, uncached (ethers shares identical requests for 250 ms). */
  private async nonce(blockTag: "latest" | "pending"): Promise<number> {
    return Number(await this.provider.send("eth_getTransactionCount", [this.opts.wallet.address, blockTag]));
  }

  private async load(): Promise<PendingTx | undefined> {
    const raw = await this.opts.redis.get(this.key);
    if (raw === null) return undefined;
    const record = pendingSchema.parse(JSON.parse(raw));
    if (!sameHex(record.from, this.opts.wallet.address)) {
      throw new Error(`the pending transaction at ${this.key} is from ${record.from}, not the operator key`);
    }
    return record;
  }

  private async save(record: PendingTx): Promise<void> {
    await this.opts.redis.set(this.key, JSON.stringify(record));
  }

  private decodeRevert(revert: { name: string; args: readonly unknown[] } | null, data: string | undefined) {
    if (revert) return `${revert.name}(${revert.args.map(String).join(", ")})`;
    if (!data) return undefined;
    for (const iface of this.opts.errors ?? []) {
      try {
        const parsed = iface.parseError(data);
        if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
      } catch {
        // A known selector with malformed arguments: still a revert, just not decodable.
      }
    }
    return undefined;
  }
}

function feeFields(b: Broadcast): { maxFeePerGas: string; maxPriorityFeePerGas: string } {
  return { maxFeePerGas: b.maxFeePerGas, maxPriorityFeePerGas: b.maxPriorityFeePerGas };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const sameHex = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
