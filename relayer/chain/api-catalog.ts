/**
 * The relayer's view of the API registry and the Security DAO's rate-limit policy: every
 * listed API with its upstream, price list, status and policy. Loaded once at start, then
 * refreshed only for the APIs that registry or policy events name.
 */
import type { Log } from "ethers";
import type { ApiRegistry, RateLimitPolicy } from "../../types/ethers-contracts/index.js";
import type { Logger } from "../log.js";

export const ApiStatus = { None: 0, Active: 1, Paused: 2, Retired: 3, Delisted: 4 } as const;
/** Pricing.models bit of pay-per-call. */
export const MODEL_PAY_PER_CALL = 1;

export interface RatePolicy {
  requestsPerWindow: number;
  windowSeconds: number;
  burst: number;
}

export interface ApiEntry {
  id: bigint;
  provider: string;
  status: number;
  /**
   * The provider's upstream base URLs (its replicas, in listing order; at least one): a call goes to
   * one replica's origin, under that replica's path.
   */
  upstreams: readonly URL[];
  /** The token vouchers for this API are paid in (the payment token of token-priced APIs). */
  paymentToken: string;
  priceUnit: number;
  models: number;
  tier: number;
  policy: RatePolicy;
}

export class ApiCatalog {
  private readonly apis = new Map<bigint, ApiEntry>();

  constructor(
    private readonly registry: ApiRegistry,
    private readonly policy: RateLimitPolicy,
    private readonly log: Logger,
  ) {}

  get(apiId: bigint): ApiEntry | undefined {
    return this.apis.get(apiId);
  }

  get size(): number {
    return this.apis.size;
  }

  /**
   * Reads every API listed so far (in pages of parallel reads); entries beyond the registry's count
   * (listed in blocks a reorganization dropped) are forgotten.
   */
  async load(): Promise<void> {
    const count = await this.registry.apiCount();
    for (let start = 1n; start <= count; start += 32n) {
      const ids: bigint[] = [];
      for (let id = start; id <= count && id < start + 32n; id++) ids.push(id);
      await Promise.all(ids.map((id) => this.refresh(id)));
    }
    for (const id of this.apis.keys()) if (id > count) this.apis.delete(id);
    this.log.info({ apis: this.apis.size }, "API catalogue loaded");
  }

  /** Applies registry and policy logs: each one names the APIs (or tier) to re-read. */
  async apply(logs: Log[]): Promise<void> {
    const apiIds = new Set<bigint>();
    const tiers = new Set<number>();
    const registryAddress = this.registry.target.toString().toLowerCase();
    for (const log of logs) {
      if (log.address.toLowerCase() === registryAddress) {
        const parsed = this.registry.interface.parseLog(log);
        // Every per-API event's first argument is the apiId.
        if (parsed && parsed.fragment.inputs[0]?.name === "apiId") apiIds.add(parsed.args[0] as bigint);
      } else {
        const parsed = this.policy.interface.parseLog(log);
        if (parsed?.name === "ApiTierSet") apiIds.add(parsed.args.apiId as bigint);
        if (parsed?.name === "PolicySet") tiers.add(Number(parsed.args.tier));
      }
    }
    for (const entry of this.apis.values()) if (tiers.has(entry.tier)) apiIds.add(entry.id);
    await Promise.all([...apiIds].map((id) => this.refresh(id)));
  }

  private async refresh(apiId: bigint): Promise<void> {
    const [api, [tier, policy]] = await Promise.all([this.registry.getApi(apiId), this.policy.policyOf(apiId)]);
    if (Number(api.status) === ApiStatus.None) {
      this.apis.delete(apiId);
      return;
    }
    const upstreams = parseUpstreams(api.upstreamUrl);
    if (upstreams === undefined) {
      this.log.warn(
        { apiId: apiId.toString(), upstream: api.upstreamUrl },
        "API has an unusable upstream URL; skipped",
      );
      this.apis.delete(apiId);
      return;
    }
    this.apis.set(apiId, {
      id: apiId,
      provider: api.provider,
      status: Number(api.status),
      upstreams,
      paymentToken: api.pricing.paymentToken,
      priceUnit: Number(api.pricing.unit),
      models: Number(api.pricing.models),
      tier: Number(tier),
      policy: {
        requestsPerWindow: Number(policy.requestsPerWindow),
        windowSeconds: Number(policy.windowSeconds),
        burst: Number(policy.burst),
      },
    });
  }
}

/** Most replicas a listing may name: more add nothing to availability and cost a router's bookkeeping. */
export const MAX_UPSTREAM_REPLICAS = 16;

/**
 * The replicas of a registry upstream field: one or more absolute http(s) base URLs separated by
 * whitespace (a URL cannot contain a space, so one URL is read as before). Duplicates count once.
 * Undefined when any part is not an http(s) URL or there are more than MAX_UPSTREAM_REPLICAS: a listing
 * half of whose replicas are typos is refused whole rather than served by the other half.
 */
export function parseUpstreams(field: string): URL[] | undefined {
  const parts = field
    .trim()
    .split(/\s+/)
    .filter((p) => p !== "");
  if (parts.length === 0 || parts.length > MAX_UPSTREAM_REPLICAS) return undefined;
  const urls = new Map<string, URL>();
  for (const part of parts) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      return undefined;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    urls.set(url.href, url);
  }
  return [...urls.values()];
}
