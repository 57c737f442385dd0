/**
 * The simulated network: nodes in every region, each with its own service-time distribution
 * (lognormal: per-node median and tail), concurrency capacity, background error rate, a drift
 * of its speed over time (stable, degrading or recovering), failure windows (fast errors or
 * black-holed calls that time out), and an on-chain reputation that is an informative but noisy
 * prior (it does not see drift, and is missing for some nodes).
 *
 * The network is stateless in time: the simulation owns the in-flight counts and passes them in.
 * A call's latency = true RTT between the caller's and the node's region (with jitter) + a
 * service-time draw x drift x queueing factor, where the queueing factor is max(1, n / capacity)
 * for n calls in flight at the node including this one (processor sharing: past its capacity a
 * node serves each call proportionally slower, so load-blind routing piles latency on weak nodes).
 * Policies only ever see Candidate (id, region, reputationBps) and Outcomes; the true parameters
 * below are read by the simulation and by the oracle alone.
 */
import { seededRng } from "../../sdk/routing/rng.js";
import type { Candidate, Outcome, Rng } from "../../sdk/routing/types.js";
import type { Scenario } from "./options.js";
import { REGIONS, RTT_TABLE } from "./regions.js";
import { chance, lognormal, normal, randomInt, uniform } from "./sampling.js";

/** A call not answered by then is abandoned by the caller and counted as an error. */
export const TIMEOUT_MS = 1500;
/** Chance a call fails while its node is in a failure window. */
const FAILING_ERROR_RATE = 0.9;
/** Failure windows per node per virtual hour. */
const FAILURES_PER_NODE_HOUR = 1.5;
/** Log-space jitter of the network RTT. */
const RTT_JITTER = 0.1;

export type DriftKind = "stable" | "degrading" | "recovering";

/** Speed multiplier over time: `from` before `start`, `to` after `end`, linear in between. */
export interface Drift {
  readonly kind: DriftKind;
  readonly start: number;
  readonly end: number;
  readonly from: number;
  readonly to: number;
}

export interface Failure {
  readonly start: number;
  readonly end: number;
  /** "errors": fast 5xx answers; "blackhole": no answer, the call times out. */
  readonly mode: "errors" | "blackhole";
}

export interface SimNode {
  readonly id: string;
  readonly region: number;
  readonly capacity: number;
  readonly serviceMedianMs: number;
  readonly sigma: number;
  readonly baseErrorRate: number;
  readonly drift: Drift;
  readonly failures: readonly Failure[];
  readonly reputationBps: number | undefined;
}

export class Network {
  readonly candidates: readonly Candidate[];

  constructor(readonly nodes: readonly SimNode[]) {
    this.candidates = nodes.map((n) =>
      n.reputationBps === undefined
        ? { id: n.id, region: REGIONS[n.region]!.code }
        : { id: n.id, region: REGIONS[n.region]!.code, reputationBps: n.reputationBps },
    );
  }

  driftAt(node: number, t: number): number {
    const d = this.nodes[node]!.drift;
    if (t <= d.start) return d.from;
    if (t >= d.end) return d.to;
    return d.from + ((d.to - d.from) * (t - d.start)) / (d.end - d.start);
  }

  failureAt(node: number, t: number): Failure | undefined {
    return this.nodes[node]!.failures.find((f) => t >= f.start && t < f.end);
  }

  /** Samples the outcome of a call from `region` to `node` sent at `t` with `inflight` calls there (this one included). */
  sample(node: number, region: number, t: number, inflight: number, rng: Rng): Outcome {
    const n = this.nodes[node]!;
    const rtt = RTT_TABLE[region]![n.region]! * Math.exp(RTT_JITTER * normal(rng));
    const failure = this.failureAt(node, t);
    if (failure !== undefined && chance(rng, FAILING_ERROR_RATE)) {
      return failure.mode === "errors"
        ? { latencyMs: rtt + uniform(rng, 1, 8), ok: false }
        : { latencyMs: TIMEOUT_MS, ok: false };
    }
    const service =
      lognormal(rng, n.serviceMedianMs, n.sigma) * this.driftAt(node, t) * Math.max(1, inflight / n.capacity);
    const latencyMs = rtt + service;
    if (latencyMs >= TIMEOUT_MS) return { latencyMs: TIMEOUT_MS, ok: false };
    // A background error is answered after part of the work.
    if (chance(rng, n.baseErrorRate)) return { latencyMs: rtt + service * uniform(rng, 0.1, 1), ok: false };
    return { latencyMs, ok: true };
  }

  /**
   * The true expected latency of a call (mean of the distribution, at the current drift and with
   * `inflight` calls there including it); a failing node costs what its failures cost the caller
   * (a timeout, or a fast error that must be retried elsewhere, counted as a timeout too).
   * Only the oracle and reports use this.
   */
  expectedLatency(node: number, region: number, t: number, inflight: number): number {
    const n = this.nodes[node]!;
    if (this.failureAt(node, t) !== undefined) return TIMEOUT_MS;
    const meanService = n.serviceMedianMs * Math.exp((n.sigma * n.sigma) / 2);
    return (
      RTT_TABLE[region]![n.region]! * Math.exp((RTT_JITTER * RTT_JITTER) / 2) +
      meanService * this.driftAt(node, t) * Math.max(1, inflight / n.capacity)
    );
  }
}

/** Builds the seeded network: `scenario.nodes` nodes spread round-robin over the regions. */
export function generateNetwork(scenario: Scenario): Network {
  const rng = seededRng(scenario.seed * 16 + 2);
  const durationMs = scenario.dayMs * scenario.days;
  const nodes: SimNode[] = [];
  const failuresOf: Failure[][] = Array.from({ length: scenario.nodes }, () => []);
  for (let i = 0; i < scenario.nodes; i++) {
    const region = i % REGIONS.length;
    // A few fast nodes, many middling ones, a few slow ones; tails from tight to heavy.
    const serviceMedianMs = lognormal(rng, 45, 0.5);
    const sigma = uniform(rng, 0.2, 0.9);
    const capacity = 2 + randomInt(rng, 5);
    const baseErrorRate = chance(rng, 0.15) ? uniform(rng, 0.03, 0.06) : uniform(rng, 0.001, 0.01);
    const roll = rng.next();
    const start = uniform(rng, 0.1, 0.8) * durationMs;
    const end = start + uniform(rng, 0.1, 0.4) * scenario.dayMs;
    const drift: Drift =
      roll < 0.5
        ? { kind: "stable", start, end, from: 1, to: 1 }
        : roll < 0.75
          ? { kind: "degrading", start, end, from: 1, to: uniform(rng, 2.5, 4) }
          : { kind: "recovering", start, end, from: uniform(rng, 2.5, 4), to: 1 };
    // Reputation: long-run quality (speed, errors, capacity) plus noise; blind to drift; 1 in 8 unscored.
    const quality = 9000 - 40 * (serviceMedianMs - 30) - 40_000 * baseErrorRate + 150 * (capacity - 4);
    const reputationBps = chance(rng, 0.125)
      ? undefined
      : Math.round(Math.min(10_000, Math.max(0, quality + 1200 * normal(rng))));
    nodes.push({
      id: `node-${String(i).padStart(2, "0")}-${REGIONS[region]!.code}`,
      region,
      capacity,
      serviceMedianMs,
      sigma,
      baseErrorRate,
      drift,
      failures: failuresOf[i]!,
      reputationBps,
    });
  }
  // Failure windows: FAILURES_PER_NODE_HOUR per node and virtual hour over the fleet, each on a
  // random node, 5-30 s long (a crash and restart, a bad deploy rolled back): an event on the
  // scale of calls, so the short run (whose days are compressed) has proportionally fewer.
  const windows = Math.round((FAILURES_PER_NODE_HOUR * scenario.nodes * durationMs) / 3_600_000);
  for (let w = 0; w < windows; w++) {
    const start = uniform(rng, 0.02, 0.98) * durationMs;
    const end = start + uniform(rng, 5_000, 30_000);
    const mode = chance(rng, 0.5) ? "errors" : "blackhole";
    failuresOf[randomInt(rng, nodes.length)]!.push({ start, end, mode });
  }
  for (const failures of failuresOf) failures.sort((a, b) => a.start - b.start);
  return new Network(nodes);
}
