/**
 * Sends a call to one of its API's upstream replicas: the replica the router picks, and when it
 * cannot be reached and the request may be replayed (idempotent, body buffered), another one, until
 * each was tried once. A single-replica API makes one attempt, as before replicas existed.
 */
import type { ApiEntry } from "../chain/api-catalog.js";
import type { RelayerMetrics } from "../metrics.js";
import type { ReplicaLease, ReplicaRouter } from "./replica-router.js";
import { UpstreamClient, UpstreamUnreachable, type UpstreamRequest, type UpstreamResponse } from "./upstream.js";

/** The answer and the replica it came from: end the lease when its body has ended (or failed). */
export interface Dispatched {
  response: UpstreamResponse;
  lease: ReplicaLease;
}

export class UpstreamDispatcher {
  constructor(private readonly deps: { upstream: UpstreamClient; replicas: ReplicaRouter; metrics: RelayerMetrics }) {}

  /** Sends `request(replica)` to a replica of `api`; throws the last replica's GatewayError when none answered. */
  async send(api: ApiEntry, request: (replica: URL) => UpstreamRequest): Promise<Dispatched> {
    const tried = new Set<string>();
    for (;;) {
      // Never undefined: a replica joins `tried` only when another one is left.
      const lease = this.deps.replicas.pick(api, tried)!;
      const req = request(lease.url);
      // While other replicas are left, fail over at once rather than retry an unreachable one.
      const retries = tried.size + 1 < api.upstreams.length ? 0 : undefined;
      try {
        return { response: await this.deps.upstream.forward(req, retries === undefined ? {} : { retries }), lease };
      } catch (error) {
        lease.end(false);
        tried.add(lease.url.href);
        const another = tried.size < api.upstreams.length;
        if (!(error instanceof UpstreamUnreachable && another && UpstreamClient.replayable(req))) throw error;
        this.deps.metrics.upstreamFailovers.inc({ api: api.id.toString() });
      }
    }
  }
}
