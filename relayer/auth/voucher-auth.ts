/**
 * Pay-per-call authorization: checks a voucher exactly as PaymentEscrow.redeem would pay it
 * (signature, authorized and unrevoked signer, channel balance less pending withdrawals), that
 * it pays at least the API's current price over the last accepted voucher, and the payer's
 * rate limit; then stores it durably as the channel's latest. Only then may the call be served.
 */
import { getAddress, ZeroAddress } from "ethers";
import { MODEL_PAY_PER_CALL, type ApiEntry } from "../chain/api-catalog.js";
import { QuoteError, type ChannelState } from "../chain/channel-state.js";
import { GatewayError, orUnavailable } from "../errors.js";
import type { RateLimiter } from "../store/rate-limiter.js";
import type { VoucherStore } from "../store/voucher-store.js";
import { parseVoucherHeader } from "./voucher-header.js";
import type { VoucherSigner } from "./voucher-signer.js";

const NOT_ACCEPTED = new Set(["TokenNotAccepted", "NoFeed", "UnsupportedDecimals"]);

/** A signer whose revocation takes effect within this margin is refused: its vouchers could not be redeemed in time. */
const REVOCATION_MARGIN_SECONDS = 300n;

export interface PaidCall {
  payer: string;
  channelId: string;
  token: string;
  cumulativeAmount: bigint;
  /** What this call added to the channel's latest voucher. */
  increase: bigint;
}

/**
 * Called once a call's payer is authenticated and before anything is stored: `subject` is who the on-chain
 * rate limit counts (the payer, or an access proof's nullifier), `limitPerSec` that limit's sustained rate.
 * Throws (a GatewayError) to refuse the call with nothing charged.
 */
export type Admit = (subject: string, limitPerSec: number) => void;

export interface VoucherAuthOptions {
  node: string;
  signer: VoucherSigner;
  state: ChannelState;
  store: VoucherStore;
  limiter: RateLimiter;
  /** Chain time in seconds (the later of the wall clock and the last block seen). */
  now: () => bigint;
}

export class VoucherAuthenticator {
  private readonly node: string;

  constructor(private readonly opts: VoucherAuthOptions) {
    this.node = getAddress(opts.node);
  }

  async authorize(api: ApiEntry, header: string, admit?: Admit): Promise<PaidCall> {
    const v = parseVoucherHeader(header);
    if (v.node !== undefined && getAddress(v.node) !== this.node) throw new GatewayError("wrong_node");
    if (v.apiId !== api.id) throw new GatewayError("wrong_api", `the path names API ${api.id}, the voucher ${v.apiId}`);
    if ((api.models & MODEL_PAY_PER_CALL) === 0) throw new GatewayError("pay_per_call_not_offered");
    const payer = getAddress(v.payer);
    if (payer === ZeroAddress) throw new GatewayError("signer_not_authorized", "the payer cannot be the zero address");
    const token = getAddress(v.token);
    if (api.priceUnit === 0 && token !== getAddress(api.paymentToken)) throw new GatewayError("token_not_accepted");

    const hashing = this.opts.signer;
    const signer = hashing.recover(hashing.digest(payer, this.node, v.apiId, token, v.cumulativeAmount), v.signature);
    if (signer === undefined) throw new GatewayError("invalid_signature");
    if (signer !== payer) {
      const record = await orUnavailable(this.opts.state.signer(signer), "chain_unavailable");
      if (record.payer !== payer) throw new GatewayError("signer_not_authorized");
      if (record.revokedAt !== 0n && this.opts.now() + REVOCATION_MARGIN_SECONDS >= record.revokedAt) {
        throw new GatewayError("signer_not_authorized", "the signer's revocation takes effect too soon to redeem");
      }
    }

    let price: bigint;
    try {
      price = await this.opts.state.pricePerCall(v.apiId, token, payer);
    } catch (error) {
      // A token the API is not priced in, or one the USD oracle has no usable feed for.
      if (error instanceof QuoteError && NOT_ACCEPTED.has(error.reason)) throw new GatewayError("token_not_accepted");
      throw new GatewayError("price_unavailable", error instanceof QuoteError ? error.reason : undefined);
    }
    if (price === 0n) throw new GatewayError("pay_per_call_not_offered");

    const channelId = hashing.channelId(payer, this.node, v.apiId, token);
    const channel = await orUnavailable(this.opts.state.channel(channelId), "chain_unavailable");
    if (v.cumulativeAmount <= channel.redeemed) {
      throw new GatewayError("stale_voucher", `already redeemed on-chain: ${channel.redeemed}`);
    }
    if (v.cumulativeAmount < price) throw new GatewayError("underpaid", `price per call ${price}`);
    const available = channel.balance - channel.withdrawing;
    if (v.cumulativeAmount - channel.redeemed > available) {
      throw new GatewayError("insufficient_balance", `available ${available}, redeemed ${channel.redeemed}`);
    }

    admit?.(payer, api.policy.requestsPerWindow / api.policy.windowSeconds);
    // The rate limit and the voucher are checked and stored by one Redis script (one round trip).
    const stored = await orUnavailable(
      this.opts.store.accept(
        {
          channelId,
          payer,
          apiId: v.apiId,
          token,
          signer,
          cumulativeAmount: v.cumulativeAmount,
          signature: v.signature,
        },
        price,
        channel.redeemed,
        { limit: this.opts.limiter.bucket({ apiId: api.id, subject: payer }, api.policy) },
      ),
      "store_unavailable",
    );
    if ("rateLimited" in stored) {
      throw new GatewayError("rate_limited", undefined, { "retry-after": String(stored.retryAfterSeconds) });
    }
    if (!stored.accepted) {
      const code = stored.current >= v.cumulativeAmount ? "stale_voucher" : "underpaid";
      throw new GatewayError(code, `latest accepted cumulative amount ${stored.current}; price per call ${price}`, {
        "meshgate-cumulative": stored.current.toString(),
      });
    }
    const base =
      stored.previous !== undefined && stored.previous > channel.redeemed ? stored.previous : channel.redeemed;
    return { payer, channelId, token, cumulativeAmount: v.cumulativeAmount, increase: v.cumulativeAmount - base };
  }

  /**
   * Takes back an accepted call's voucher when the upstream failed it (see VoucherStore.refund): resolves
   * to the channel's latest accepted amount afterwards, or undefined when the call stays charged.
   */
  async refund(call: PaidCall): Promise<bigint | undefined> {
    return this.opts.store.refund(call.channelId, call.cumulativeAmount);
  }
}
