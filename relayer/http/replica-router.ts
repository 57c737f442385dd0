/**
 * Picks the upstream replica of each call when a provider lists several base URLs for an API, with
 * the consumer SDK's router (sdk/routing): the learned peak-EWMA policy where the Developer DAO's
 * `routing.peak-ewma` flag covers this node (its bucket is the node's address, as FeatureFlags'
 * isEnabledFor computes it), round-robin elsewhere. Each API has its own policy (replicas of
 * different APIs share nothing); a changed replica list or flag starts that learning afresh.
 * An API with one upstream never touches a policy: the single-replica hot path is unchanged.
 */
import { randomInt } from "node:crypto";
import {
  routingPolicyFor,
  seededRng,
  type Candidate,
  type RolloutFlag,
  type RoutingPolicy,
} from "../../sdk/routing/index.js";
import type { ApiEntry } from "../chain/api-catalog.js";

/** The replica chosen for one call; `end` must be called once, when the call's answer ended or failed. */
export interface ReplicaLease {
  readonly url: URL;
  /** Reports the call's outcome: not ok for a transport failure, a timeout or a 5xx answer. */
  end(ok: boolean): void;
}

interface ApiPolicy {
  /** The replica list the policy learned on (hrefs joined). */
  readonly key: string;
  readonly policy: RoutingPolicy;
  readonly candidates: readonly Candidate[];
  readonly urls: ReadonlyMap<string, URL>;
}

/**
 * Replicas carry no region. Caller and replicas share one pseudo-region, so every replica starts with
 * the same optimistic prior (the same-region round trip, a few ms) and is tried before measurements
 * rank it: a pessimistic prior would let the first replica that answers faster than it keep every call.
 */
const REPLICA_REGION = "upstream-replica";
const CONTEXT = { region: REPLICA_REGION };

export class ReplicaRouter {
  private flag: RolloutFlag;
  private readonly policies = new Map<bigint, ApiPolicy>();
  private readonly now: () => number;

  constructor(
    private readonly opts: {
      /** The node's address: its rollout bucket decides the policy. */
      node: string;
      flag: RolloutFlag;
      now?: () => number;
      /** Seed of the policies' tie-breaks (random per process by default). */
      seed?: number;
    },
  ) {
    this.flag = opts.flag;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The policy now in use for APIs with several replicas ("peak-ewma" or "round-robin"). */
  get policyName(): string {
    return routingPolicyFor(this.flag, this.opts.node, seededRng(0)).name;
  }

  /** Applies a change of the rollout flag: every API's policy starts afresh under it. */
  setFlag(flag: RolloutFlag): void {
    if (flag.enabled === this.flag.enabled && flag.rolloutBps === this.flag.rolloutBps) return;
    this.flag = flag;
    this.policies.clear();
  }

  /**
   * The replica of `api` for a call, among those not in `exclude` (hrefs of replicas that already
   * failed this call); undefined when every replica is excluded.
   */
  pick(api: ApiEntry, exclude?: ReadonlySet<string>): ReplicaLease | undefined {
    const { upstreams } = api;
    if (upstreams.length === 1) {
      const only = upstreams[0]!;
      return exclude?.has(only.href) ? undefined : { url: only, end: () => undefined };
    }
    const entry = this.policyOf(api);
    const candidates =
      exclude === undefined || exclude.size === 0
        ? entry.candidates
        : entry.candidates.filter((c) => !exclude.has(c.id));
    if (candidates.length === 0) return undefined;
    const start = this.now();
    const chosen = entry.policy.pick(candidates, CONTEXT, start);
    entry.policy.onStart(chosen.id, start);
    let ended = false;
    return {
      url: entry.urls.get(chosen.id)!,
      end: (ok) => {
        if (ended) return;
        ended = true;
        const end = this.now();
        entry.policy.onResult(chosen.id, { latencyMs: end - start, ok }, end);
      },
    };
  }

  private policyOf(api: ApiEntry): ApiPolicy {
    const key = api.upstreams.map((u) => u.href).join(" ");
    const current = this.policies.get(api.id);
    if (current?.key === key) return current;
    const seed = this.opts.seed ?? randomInt(2 ** 31);
    const entry: ApiPolicy = {
      key,
      policy: routingPolicyFor(this.flag, this.opts.node, seededRng(seed)),
      candidates: api.upstreams.map((u) => ({ id: u.href, region: REPLICA_REGION })),
      urls: new Map(api.upstreams.map((u) => [u.href, u])),
    };
    this.policies.set(api.id, entry);
    return entry;
  }
}
