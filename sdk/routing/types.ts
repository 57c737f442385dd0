/**
 * The routing contract shared by the consumer SDK (pick a node for a call) and the relayer (pick
 * among an API's upstream replicas), and by the evaluation harness (bench/routing). A policy
 * sees the candidates of one call, picks one, and learns from what happens to the calls it
 * routed. Time is passed in (milliseconds, any monotonic origin) so simulations run on virtual
 * time and results are deterministic for a seed.
 */

/** A node (or upstream replica) a call can go to. */
export interface Candidate {
  /** Stable identity: the node's operator address, or the replica's URL. */
  readonly id: string;
  /** Region code the node registered (NodeStaking region), e.g. "eu-west". */
  readonly region: string;
  /** On-chain reputation (Reputation's smoothed score), basis points; undefined when unscored. */
  readonly reputationBps?: number;
}

/** What happened to one routed call. */
export interface Outcome {
  /** Time from send to the end of the answer (or to the failure), milliseconds. */
  readonly latencyMs: number;
  /** False for a transport error, timeout or 5xx answer. */
  readonly ok: boolean;
}

/** Where the caller is, for the geo prior. */
export interface CallContext {
  /** The caller's region code (same vocabulary as Candidate.region). */
  readonly region: string;
}

/** A routing policy: picks one candidate per call and learns from outcomes. */
export interface RoutingPolicy {
  readonly name: string;
  /** Picks one of `candidates` (non-empty) for a call starting at `now`. */
  pick(candidates: readonly Candidate[], context: CallContext, now: number): Candidate;
  /** A call routed to `id` started (in-flight + 1). */
  onStart(id: string, now: number): void;
  /** A call routed to `id` ended (in-flight - 1) with `outcome`. */
  onResult(id: string, outcome: Outcome, now: number): void;
}

/** A source of uniform numbers in [0, 1): seeded in tests and simulations. */
export interface Rng {
  next(): number;
}
