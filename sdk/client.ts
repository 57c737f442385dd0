/**
 * A consumer's pay-per-call client: signs a voucher for every call (the channel's cumulative
 * amount so far plus the call's price) and sends it to a relayer in the Meshgate-Voucher header.
 * On a `stale_voucher` refusal (another process of the payer spent on the channel meanwhile)
 * it resynchronizes from the relayer and retries once.
 */
import { getAddress, type Signer } from "ethers";
import { channelId, escrowDomain, signVoucher, type Voucher } from "./vouchers.js";

export interface RelayerInfo {
  node: string;
  chainId: string;
  escrow: string;
}

export interface PaidClientOptions {
  relayerUrl: string;
  /** The payer's key, or a hot key the payer authorized on the escrow. */
  signer: Signer;
  payer: string;
  apiId: bigint;
  token: string;
  /** The API's current per-call price for this payer (PriceQuoter.quoteCall). */
  pricePerCall: bigint;
}

/** Base64url JSON of a signed voucher, as the Meshgate-Voucher header carries it. */
export function encodeVoucher(voucher: Voucher, signature: string): string {
  return Buffer.from(
    JSON.stringify({
      payer: voucher.payer,
      node: voucher.node,
      apiId: voucher.apiId.toString(),
      token: voucher.token,
      cumulativeAmount: voucher.cumulativeAmount.toString(),
      signature,
    }),
  ).toString("base64url");
}

/** One call's request: method (GET by default), headers, body, and an optional abort signal. */
export interface CallInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export class PaidClient {
  private info: RelayerInfo | undefined;
  private cumulative: bigint | undefined;

  constructor(private readonly opts: PaidClientOptions) {}

  async relayerInfo(): Promise<RelayerInfo> {
    this.info ??= (await (await fetch(new URL("/_meshgate/info", this.opts.relayerUrl))).json()) as RelayerInfo;
    return this.info;
  }

  /** The channel this client pays from. */
  async channelId(): Promise<string> {
    const info = await this.relayerInfo();
    return channelId(this.opts.payer, info.node, this.opts.apiId, this.opts.token);
  }

  /** The cumulative amount the relayer last accepted on this channel (or the chain redeemed). */
  async sync(): Promise<bigint> {
    const res = await fetch(new URL(`/_meshgate/channels/${await this.channelId()}`, this.opts.relayerUrl));
    const body = (await res.json()) as { cumulativeAmount: string };
    this.cumulative = BigInt(body.cumulativeAmount);
    return this.cumulative;
  }

  /**
   * Calls `path` (after /{apiId}) through the relayer, paying one call's price. `signal` aborts
   * the request (a caller's timeout); a voucher the relayer accepted before the abort is picked
   * up by the next call's `stale_voucher` resync.
   */
  async call(path: string, init: CallInit = {}): Promise<Response> {
    if (this.cumulative === undefined) await this.sync();
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(path, init);
      if (res.status === 409 && attempt === 0) {
        await res.body?.cancel();
        await this.sync();
        continue;
      }
      return res;
    }
  }

  private async send(path: string, init: CallInit): Promise<Response> {
    const info = await this.relayerInfo();
    const voucher: Voucher = {
      payer: getAddress(this.opts.payer),
      node: getAddress(info.node),
      apiId: this.opts.apiId,
      token: getAddress(this.opts.token),
      cumulativeAmount: this.cumulative! + this.opts.pricePerCall,
    };
    const signature = await signVoucher(this.opts.signer, escrowDomain(BigInt(info.chainId), info.escrow), voucher);
    const res = await fetch(
      new URL(`/${this.opts.apiId}${path.startsWith("/") ? path : `/${path}`}`, this.opts.relayerUrl),
      {
        method: init.method ?? "GET",
        headers: { ...init.headers, "meshgate-voucher": encodeVoucher(voucher, signature) },
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal !== undefined ? { signal: init.signal } : {}),
      },
    );
    if (res.ok || res.headers.get("meshgate-cumulative") === voucher.cumulativeAmount.toString()) {
      this.cumulative = voucher.cumulativeAmount;
    }
    return res;
  }
}
