/**
 * Paid probes: a validator calls an API through a node like any consumer, with a voucher from its
 * own funded channel to that node (payer = the validator's operator key), so the API is measured
 * end to end and the node is seen serving a real paid call.
 *
 * The validator is the only signer of its channels, so it tracks each channel's cumulative amount
 * itself, in Redis, and trusts no node for it. The new total is saved before the voucher is sent:
 * after a crash the call counts as paid (at worst one price too much), and a voucher amount is
 * never signed twice. A refusal the relayer answers before storing a voucher (payment checks,
 * rate limit, dependencies down) gives the amount back.
 */
import type { Signer, TypedDataDomain } from "ethers";
import type { Redis } from "ioredis";
import { encodeVoucher } from "../../sdk/client.js";
import { channelId, signVoucher } from "../../sdk/vouchers.js";
import type { PaymentEscrow, PriceQuoter } from "../../types/ethers-contracts/index.js";
import type { ErrorCode } from "../errors.js";
import type { Logger } from "../log.js";
import type { DirectoryNode } from "./node-directory.js";
import { joinUrl, probe, type ProbeOutcome } from "./prober.js";

export interface PaidProbeConfig {
  apiId: bigint;
  token: string;
  /** Path and query after /{apiId}. */
  path: string;
  /** No paid probe while a call costs more (token base units). */
  maxPrice: bigint;
}

/** How one paid probe went, for the node and for the API. */
export type PaidProbeResult =
  | { kind: "skipped"; reason: string }
  | {
      kind: "probed";
      outcome: ProbeOutcome;
      /** The node did its part: forwarded the call (whatever the API answered). */
      nodeOk: boolean;
      /** How the API did, when the call reached it; undefined when the node failed first. */
      apiOk: boolean | undefined;
      /** Time to the complete answer, microseconds (when one arrived). */
      latencyMicros: number | undefined;
    };

/** Refusals a relayer answers before it stores the voucher (nothing charged). */
const NOT_CHARGED = new Set<string>([
  "bad_path",
  "unknown_api",
  "api_paused",
  "api_gone",
  "method_not_allowed",
  "body_too_large",
  "bad_request",
  "payment_required",
  "bad_voucher",
  "wrong_node",
  "wrong_api",
  "token_not_accepted",
  "pay_per_call_not_offered",
  "invalid_signature",
  "signer_not_authorized",
  "stale_voucher",
  "underpaid",
  "insufficient_balance",
  "rate_limited",
  "adaptive_throttle",
  "price_unavailable",
  "chain_unavailable",
  "store_unavailable",
  "not_ready",
] satisfies ErrorCode[]);
/** Refusals that are the node's failure (the rest of NOT_CHARGED are ours, the payer's, or the API's state). */
const NODE_FAILURES = new Set<string>([
  "not_ready",
  "chain_unavailable",
  "store_unavailable",
  "internal_error",
] satisfies ErrorCode[]);
/** The node forwarded the call and the upstream failed. */
const UPSTREAM_FAILURES = new Set<string>(["upstream_error", "upstream_timeout"] satisfies ErrorCode[]);
/** After a stale_voucher, a node's claimed total is adopted only if at most this many calls above ours. */
const MAX_RESYNC_CALLS = 10n;

export interface PaidProberOptions {
  /** The validator's operator key: the payer, and the voucher signer. */
  signer: Signer;
  self: string;
  escrow: PaymentEscrow;
  quoter: PriceQuoter;
  domain: TypedDataDomain;
  redis: Redis;
  prefix: string;
  config: PaidProbeConfig;
  timeoutMs: number;
  log: Logger;
}

export class PaidProber {
  /** The last reason paid probes were off (logged once, not every round). */
  private off = "";

  constructor(private readonly opts: PaidProberOptions) {}

  get apiId(): bigint {
    return this.opts.config.apiId;
  }

  /** This round's price per call for the validator, or undefined when paid probes must wait. */
  async price(): Promise<bigint | undefined> {
    const { apiId, token, maxPrice } = this.opts.config;
    let price: bigint;
    try {
      price = await this.opts.quoter.quoteCall(apiId, token, this.opts.self);
    } catch (error) {
      this.turnOff("quote", { apiId, err: (error as Error).message }, "cannot quote the probe API; no paid probes");
      return undefined;
    }
    if (price === 0n || price > maxPrice) {
      this.turnOff(
        `price:${price}`,
        { apiId, price: price.toString(), maxPrice: maxPrice.toString() },
        "probe API price is 0 or above MESHGATE_VALIDATOR_PROBE_MAX_PRICE; no paid probes",
      );
      return undefined;
    }
    if (this.off !== "") this.opts.log.info({ apiId, price: price.toString() }, "paid probes resumed");
    this.off = "";
    return price;
  }

  /** One paid call through `node`. */
  async probe(node: DirectoryNode, price: bigint): Promise<PaidProbeResult> {
    const { apiId, token, path } = this.opts.config;
    const { self, redis } = this.opts;
    const id = channelId(self, node.operator, apiId, token);
    const channel = await this.opts.escrow.channels(id);
    const key = `${this.opts.prefix}:val:spent:${id}`;
    const stored = BigInt((await redis.get(key)) ?? "0");
    const last = stored > channel.redeemed ? stored : channel.redeemed;
    const next = last + price;
    if (next - channel.redeemed > channel.balance) return { kind: "skipped", reason: "channel not funded" };

    await redis.set(key, next.toString());
    const voucher = { payer: self, node: node.operator, apiId, token, cumulativeAmount: next };
    const signature = await signVoucher(this.opts.signer, this.opts.domain, voucher);
    const r = await probe({
      url: joinUrl(node.url, `/${apiId}${path}`),
      timeoutMs: this.opts.timeoutMs,
      // no-cache: a node's response cache must not answer for the API being measured.
      headers: { "meshgate-voucher": encodeVoucher(voucher, signature), "cache-control": "no-cache" },
    });
    if (r.outcome === "ok")
      return { kind: "probed", outcome: "ok", nodeOk: true, apiOk: true, latencyMicros: r.latencyMicros };
    if (!r.answered)
      return { kind: "probed", outcome: r.outcome, nodeOk: false, apiOk: undefined, latencyMicros: undefined };

    const forwarded = r.headers?.get("meshgate-call-id") != null;
    const code = forwarded ? undefined : errorCode(r.body);
    if (code !== undefined && NOT_CHARGED.has(code)) {
      // Stored nothing: the amount is ours again (unless something else moved the key meanwhile).
      if ((await redis.get(key)) === next.toString()) await redis.set(key, last.toString());
      if (code === "stale_voucher") await this.resync(key, last, price, r.headers?.get("meshgate-cumulative"));
      if (!NODE_FAILURES.has(code)) return { kind: "skipped", reason: code };
    }
    const failedUpstream = forwarded || (code !== undefined && UPSTREAM_FAILURES.has(code));
    return {
      kind: "probed",
      outcome: r.outcome,
      nodeOk: failedUpstream,
      apiOk: failedUpstream ? false : undefined,
      latencyMicros: r.latencyMicros,
    };
  }

  private turnOff(reason: string, fields: Record<string, unknown>, message: string): void {
    if (this.off !== reason) this.opts.log.warn(fields, message);
    this.off = reason;
  }

  /**
   * The node holds a later voucher of ours than Redis remembers (Redis lost a write): adopt its
   * total when it is close to ours, so probes continue; a larger claim is not trusted.
   */
  private async resync(key: string, last: bigint, price: bigint, claimed: string | null | undefined): Promise<void> {
    const total = claimed && /^\d+$/.test(claimed) ? BigInt(claimed) : undefined;
    if (total !== undefined && total > last && total <= last + MAX_RESYNC_CALLS * price) {
      await this.opts.redis.set(key, total.toString());
      this.opts.log.warn({ key, from: last.toString(), to: total.toString() }, "probe channel resynchronized");
    } else {
      this.opts.log.error(
        { key, ours: last.toString(), claimed },
        "a node refuses the probe voucher as stale and its total is not adopted; check the probe channel",
      );
    }
  }
}

/** The relayer's error code in a refusal body, if it is one. */
function errorCode(body: Buffer | undefined): string | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}
