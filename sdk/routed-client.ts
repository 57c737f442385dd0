/**
 * A consumer's routed pay-per-call client: several nodes serving the same API, each reached
 * through its own relayer URL and payment channel (a PaidClient; the payer funded a channel to
 * every node), and a RoutingPolicy (sdk/routing) that picks the node of every call and learns
 * from the outcomes this client measures.
 *
 * Outcome of a call, as the policy sees it: latency from the call's start (including any wait
 * for the node's channel, below) to the end of the answer's body, or to the failure; not ok for
 * a transport error, the per-call timeout or a 5xx answer. A 4xx answer is ok for routing: the
 * node answered, the request (or its payment) was the caller's problem.
 *
 * One channel carries one call at a time: a voucher's cumulative amount must grow call by call,
 * so calls routed to the same node are serialized (in the order they were routed). Calls to
 * different nodes run concurrently. The policy counts a call in flight from its pick, so a
 * node's queue counts as its load. Several RoutedClients (one per payer) may share one policy,
 * which then learns from all of them.
 *
 * `call` never throws for a failed call: the result carries the outcome and either the answer
 * or the error, so the caller decides whether to retry (on another node: the policy has
 * already learned from the failure).
 */
import type { CallInit } from "./client.js";
import type { CallContext, Candidate, Outcome, RoutingPolicy } from "./routing/types.js";

/** What a node's client must do: one paid call (PaidClient fits). */
export interface NodeCaller {
  call(path: string, init?: CallInit): Promise<Response>;
}

/** A node the client can route to. */
export interface RoutedNode {
  /**
   * The node as the policy sees it: id (its operator address), region (NodeStaking's region
   * code) and reputation (Reputation's smoothed score, undefined when unscored), read by the
   * caller from the chain.
   */
  readonly candidate: Candidate;
  /** The node's paid client (its relayer URL and the payer's channel to it). */
  readonly client: NodeCaller;
}

export interface RoutedClientOptions {
  readonly nodes: readonly RoutedNode[];
  readonly policy: RoutingPolicy;
  /** Where the caller is (its region code), for the policy's geo prior. */
  readonly context: CallContext;
  /** Per-call timeout, ms: covers the wait for the node's channel, the call and reading the body. */
  readonly timeoutMs: number;
  /** Monotonic clock in ms (performance.now by default). */
  readonly now?: () => number;
}

/** The result of one routed call. */
export interface RoutedResult {
  /** The chosen node's id. */
  readonly node: string;
  readonly outcome: Outcome;
  /** The answer's status, when one arrived in time. */
  readonly status?: number;
  readonly headers?: Headers;
  /** The whole answer's body, when it arrived in time. */
  readonly body?: Uint8Array;
  /** The transport error or timeout, when no full answer arrived. */
  readonly error?: Error;
}

/** Raised (in RoutedResult.error) when a call exceeds the per-call timeout. */
export class RoutedTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`routed call timed out after ${timeoutMs} ms`);
    this.name = "RoutedTimeoutError";
  }
}

export class RoutedClient {
  private readonly byId = new Map<string, RoutedNode>();
  private readonly candidates: readonly Candidate[];
  /** Per node: the end of the last call routed there (the channel's queue). */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly opts: RoutedClientOptions) {
    if (opts.nodes.length === 0) throw new RangeError("RoutedClient needs at least one node");
    if (!(opts.timeoutMs > 0)) throw new RangeError("timeoutMs must be positive");
    for (const n of opts.nodes) {
      if (this.byId.has(n.candidate.id)) throw new RangeError(`duplicate node ${n.candidate.id}`);
      this.byId.set(n.candidate.id, n);
    }
    this.candidates = opts.nodes.map((n) => n.candidate);
    this.now = opts.now ?? (() => performance.now());
  }

  get policy(): RoutingPolicy {
    return this.opts.policy;
  }

  /** Routes one paid call of `path` (after /{apiId}) to the node the policy picks. */
  async call(path: string, init: Omit<CallInit, "signal"> = {}): Promise<RoutedResult> {
    const { policy, context, timeoutMs } = this.opts;
    const start = this.now();
    const chosen = policy.pick(this.candidates, context, start);
    const node = this.byId.get(chosen.id);
    if (node === undefined) throw new Error(`policy ${policy.name} picked unknown node ${chosen.id}`);
    policy.onStart(chosen.id, start);

    const controller = new AbortController();
    const timeout = new RoutedTimeoutError(timeoutMs);
    const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
    const previous = this.tails.get(chosen.id) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(chosen.id, mine);

    let result: Omit<RoutedResult, "node" | "outcome">;
    let ok: boolean;
    try {
      await Promise.race([previous, aborted(controller.signal)]);
      controller.signal.throwIfAborted();
      const res = await node.client.call(path, { ...init, signal: controller.signal });
      const body = new Uint8Array(await res.arrayBuffer());
      result = { status: res.status, headers: res.headers, body };
      ok = res.status < 500;
    } catch (error) {
      const e = controller.signal.aborted ? timeout : error instanceof Error ? error : new Error(String(error));
      result = { error: e };
      ok = false;
    } finally {
      clearTimeout(timer);
      // The next call on this channel waits for this one to end, not for the ones before it to
      // (they ended before this one started, or this one timed out waiting and never sent).
      void previous.then(release);
      void mine.then(() => {
        if (this.tails.get(chosen.id) === mine) this.tails.delete(chosen.id);
      });
    }
    const end = this.now();
    const outcome: Outcome = { latencyMs: end - start, ok };
    policy.onResult(chosen.id, outcome, end);
    return { node: chosen.id, outcome, ...result };
  }
}

/**
 * A promise rejected with the signal's reason once it aborts (never settles otherwise); its
 * rejection is marked handled, since it usually fires after the race it joined has settled.
 */
function aborted(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
  p.catch(() => undefined);
  return p;
}
