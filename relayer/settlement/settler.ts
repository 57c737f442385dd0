/**
 * Voucher settlement: decides when a token's unsettled vouchers are worth redeeming (value or
 * age threshold, or at once when a payer starts withdrawing or revokes a signer), and redeems
 * the oldest channels in one `redeemBatch`. Idempotent by construction: the escrow skips a
 * voucher at or below its channel's redeemed total, and after every attempt the redeemed totals
 * are read back from the chain before a channel leaves the unsettled set.
 */
import type { TransactionReceipt } from "ethers";
import type { PaymentEscrow } from "../../types/ethers-contracts/index.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import type { StoredVoucher, VoucherStore } from "../store/voucher-store.js";
import { TxWouldRevert, type TxSender } from "./tx-sender.js";

export interface SettlementPolicy {
  minValue: bigint;
  maxAgeMs: number;
  batchSize: number;
}

/** How many unsettled channels one scan looks at (oldest first). */
const SCAN_WINDOW = 1_000;
/**
 * The first redemption of a node in an epoch also archives its previous epoch's served value
 * (a fresh storage slot, ~22k gas). An estimate made in the last block of an epoch does not see
 * that write while the transaction may land in the next epoch: without this margin a small
 * batch then runs out of gas.
 */
const EPOCH_ROLLOVER_GAS = 25_000n;

export class Settler {
  private urgent = false;

  constructor(
    private readonly opts: {
      node: string;
      escrow: PaymentEscrow;
      store: VoucherStore;
      sender: TxSender;
      policy: SettlementPolicy;
      metrics: RelayerMetrics;
      log: Logger;
      /** Told of every token about to be redeemed in (reward commits count value per token). */
      onRedeemed?: (token: string) => Promise<void>;
    },
  ) {}

  /** Settle everything at the next scan, whatever the thresholds say. */
  markUrgent(): void {
    this.urgent = true;
  }

  /** The tokens whose unsettled vouchers are due for redemption now. */
  async dueTokens(now = Date.now()): Promise<string[]> {
    const urgent = this.urgent;
    this.urgent = false;
    const vouchers = await this.opts.store.read(await this.opts.store.unsettled(SCAN_WINDOW));
    this.opts.metrics.unsettledChannels.set(await this.opts.store.unsettledCount());
    const byToken = new Map<string, { value: bigint; oldest: number }>();
    for (const v of vouchers) {
      const t = byToken.get(v.token) ?? { value: 0n, oldest: v.unsettledSince };
      t.value += v.cumulativeAmount - v.settled;
      t.oldest = Math.min(t.oldest, v.unsettledSince);
      byToken.set(v.token, t);
    }
    const { minValue, maxAgeMs } = this.opts.policy;
    return [...byToken]
      .filter(([, t]) => urgent || t.value >= minValue || now - t.oldest >= maxAgeMs)
      .map(([token]) => token);
  }

  /**
   * Redeems the oldest unsettled vouchers in `token`, up to the batch size. Returns how many
   * channels are settled afterwards. Throws (for the job to retry) when the chain cannot be
   * reached; nothing is removed from the store until the chain shows it paid.
   */
  async redeem(token: string): Promise<number> {
    const { escrow, store, log } = this.opts;
    const candidates = (await store.read(await store.unsettled(SCAN_WINDOW))).filter((v) => v.token === token);
    const pending: StoredVoucher[] = [];
    for (const v of candidates) {
      if (pending.length === this.opts.policy.batchSize) break;
      const { redeemed } = await escrow.channels(v.channelId);
      if (redeemed >= v.cumulativeAmount) await store.markSettled(v.channelId, redeemed);
      else pending.push(v);
    }
    if (pending.length === 0) return 0;
    // Before sending: a retry after a failure finds nothing pending and would not get here.
    await this.opts.onRedeemed?.(token);
    // Vouchers of one API adjacent: the escrow credits each API's earnings once per run.
    pending.sort((a, b) => (a.apiId < b.apiId ? -1 : a.apiId > b.apiId ? 1 : 0));

    let batch = pending;
    let receipt: TransactionReceipt;
    for (;;) {
      try {
        receipt = await this.opts.sender.send("redeemBatch", {
          to: await escrow.getAddress(),
          gasMargin: EPOCH_ROLLOVER_GAS,
          data: escrow.interface.encodeFunctionData("redeemBatch", [
            this.opts.node,
            token,
            batch.map((v) => ({
              payer: v.payer,
              apiId: v.apiId,
              cumulativeAmount: v.cumulativeAmount,
              signature: v.signature,
            })),
          ]),
        });
        break;
      } catch (error) {
        if (!(error instanceof TxWouldRevert)) throw error;
        // One unredeemable voucher (e.g. its signer's revocation took effect) reverts the whole
        // batch: find it, set it aside for an operator, and redeem the rest.
        const bad = await this.findUnredeemable(batch);
        if (bad.length === 0) throw error;
        for (const { voucher, reason } of bad) {
          log.error({ channelId: voucher.channelId, reason }, "voucher cannot be redeemed; set aside");
          await store.quarantine(voucher, reason);
        }
        batch = batch.filter((v) => !bad.some((b) => b.voucher.channelId === v.channelId));
        if (batch.length === 0) return 0;
      }
    }

    let paid = 0n;
    for (const entry of receipt.logs) {
      const parsed = escrow.interface.parseLog(entry);
      if (parsed?.name === "Redeemed") paid += parsed.args.paid as bigint;
    }
    this.opts.metrics.settledValue.inc({ token }, Number(paid));
    let settled = 0;
    for (const v of batch) {
      const { redeemed } = await escrow.channels(v.channelId);
      if (await store.markSettled(v.channelId, redeemed)) settled++;
    }
    log.info({ token, vouchers: batch.length, paid: paid.toString(), tx: receipt.hash }, "vouchers redeemed");
    return settled;
  }

  private async findUnredeemable(batch: StoredVoucher[]): Promise<{ voucher: StoredVoucher; reason: string }[]> {
    const { escrow } = this.opts;
    const bad: { voucher: StoredVoucher; reason: string }[] = [];
    for (const v of batch) {
      try {
        await escrow.redeem.staticCall(
          {
            payer: v.payer,
            node: this.opts.node,
            apiId: v.apiId,
            token: v.token,
            cumulativeAmount: v.cumulativeAmount,
          },
          v.signature,
        );
      } catch (error) {
        const data = (error as { data?: string }).data;
        const reason = data ? (escrow.interface.parseError(data)?.name ?? "revert") : undefined;
        // NothingToRedeem is not a bad voucher (it was paid meanwhile); no reason: the RPC failed.
        if (reason !== undefined && reason !== "NothingToRedeem") bad.push({ voucher: v, reason });
      }
    }
    return bad;
  }
}
