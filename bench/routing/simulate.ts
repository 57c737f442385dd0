/**
 * Event-driven simulation on virtual time. The trace's calls are replayed in time order against
 * the network for one policy: before each call, every call that completed by then is reported
 * (onResult, in completion order); then the policy picks a node, onStart, and the call's outcome
 * is drawn from the network given the node's in-flight count at that moment; the call occupies
 * the node until its completion (or its timeout). Each policy replays the same trace with the
 * same seed for the network's draws.
 *
 * Deployment: one policy instance per caller region, as every caller region runs its own SDK or
 * relayer process: an instance learns from the calls of its region only (the policies keep one
 * estimate per node, and peak-EWMA fixes a node's geo prior from the first caller region it
 * sees, so a single instance shared by all regions would blend RTTs from everywhere). In-flight
 * counts are therefore per instance too; the network's queueing sees the sum.
 *
 * The oracle lives here: the only policy that reads the network's truth (expected latency at the
 * current drift and load, failure windows), to bound what any router could do.
 */
import { seededRng } from "../../sdk/routing/rng.js";
import type { Candidate, CallContext, Outcome, RoutingPolicy } from "../../sdk/routing/types.js";
import type { Network } from "./network.js";
import { REGIONS, regionIndex } from "./regions.js";
import type { Trace } from "./traces.js";

/** What the simulation shares with a policy factory: the network and the load only for the oracle. */
export interface SimState {
  /** The caller region (index in REGIONS) the instance serves. */
  readonly region: number;
  readonly network: Network;
  /** Calls in flight per node (index as in network.nodes). */
  readonly inflight: Int32Array;
}

export type PolicyFactory = (state: SimState) => RoutingPolicy;

export interface PolicyRun {
  readonly name: string;
  /** Calls served by a node in the caller's own region / calls. */
  readonly sameRegionShare: number;
  /** Latency of every call (failures included: time to the error or the timeout), ms. */
  readonly latencies: Float64Array;
  readonly errors: number;
  readonly calls: number;
  /** Calls that hit a node inside one of its failure windows. */
  readonly callsToFailingNodes: number;
}

/** Picks the node with the least true expected latency for this caller, at the current load. */
export class OraclePolicy implements RoutingPolicy {
  readonly name = "oracle";
  private readonly index = new Map<string, number>();

  constructor(private readonly state: SimState) {
    state.network.nodes.forEach((n, i) => this.index.set(n.id, i));
  }

  pick(candidates: readonly Candidate[], context: CallContext, now: number): Candidate {
    const region = regionIndex(context.region);
    let best = candidates[0]!;
    let bestCost = Infinity;
    for (const c of candidates) {
      const i = this.index.get(c.id)!;
      const cost = this.state.network.expectedLatency(i, region, now, this.state.inflight[i]! + 1);
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
    }
    return best;
  }

  onStart(): void {}
  onResult(): void {}
}

interface Completion {
  readonly node: number;
  /** Caller region: whose policy instance hears of it. */
  readonly region: number;
  readonly outcome: Outcome;
}

/** Min-heap of pending completions keyed by time. */
class Completions {
  private times: number[] = [];
  private items: Completion[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times[0]!;
  }

  push(time: number, item: Completion): void {
    const { times, items } = this;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  pop(): Completion & { time: number } {
    const { times, items } = this;
    const top = { time: times[0]!, ...items[0]! };
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    if (times.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= times.length) break;
        const r = l + 1;
        const c = r < times.length && times[r]! < times[l]! ? r : l;
        if (times[c]! >= lastTime) break;
        times[i] = times[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }
}

export function simulate(trace: Trace, network: Network, factory: PolicyFactory): PolicyRun {
  const rng = seededRng(trace.scenario.seed * 16 + 3);
  const inflight = new Int32Array(network.nodes.length);
  const policies = REGIONS.map((_, region) => factory({ region, network, inflight }));
  const name = policies[0]!.name;
  const index = new Map<string, number>();
  network.nodes.forEach((n, i) => index.set(n.id, i));
  const contexts: CallContext[] = REGIONS.map((r) => ({ region: r.code }));
  const candidates = network.candidates;
  const completions = new Completions();
  const latencies = new Float64Array(trace.calls.length);
  let errors = 0;
  let callsToFailingNodes = 0;
  let sameRegion = 0;

  const complete = (until: number): void => {
    while (completions.size > 0 && completions.peekTime() <= until) {
      const done = completions.pop();
      inflight[done.node]!--;
      policies[done.region]!.onResult(network.nodes[done.node]!.id, done.outcome, done.time);
    }
  };

  trace.calls.forEach((call, k) => {
    complete(call.t);
    const policy = policies[call.region]!;
    const picked = policy.pick(candidates, contexts[call.region]!, call.t);
    const node = index.get(picked.id);
    if (node === undefined) throw new Error(`${name} picked an unknown node ${picked.id}`);
    inflight[node]!++;
    policy.onStart(picked.id, call.t);
    if (network.nodes[node]!.region === call.region) sameRegion++;
    if (network.failureAt(node, call.t) !== undefined) callsToFailingNodes++;
    const outcome = network.sample(node, call.region, call.t, inflight[node]!, rng);
    latencies[k] = outcome.latencyMs;
    if (!outcome.ok) errors++;
    completions.push(call.t + outcome.latencyMs, { node, region: call.region, outcome });
  });
  complete(Infinity);
  const calls = trace.calls.length;
  return { name, latencies, errors, calls, callsToFailingNodes, sameRegionShare: sameRegion / calls };
}
