/** Latency summaries of a policy's run. */
import type { PolicyRun } from "./simulate.js";

/** Percentiles and error rate of one policy's calls: what every table of the harness reports. */
export interface CallsSummary {
  readonly name: string;
  readonly calls: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Failed calls (errors and timeouts) / calls. */
  readonly errorRate: number;
}

export interface LatencySummary extends CallsSummary {
  /** Calls sent to a node inside a failure window / calls. */
  readonly failingNodeShare: number;
}

/** Nearest-rank percentile (q in (0, 1]) of ascending `sorted`. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The summary of `latencies` (ms, one per call, in any order) of which `errors` failed. */
export function summarizeCalls(name: string, latencies: ArrayLike<number>, errors: number): CallsSummary {
  const sorted = Float64Array.from(latencies).sort();
  return {
    name,
    calls: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    errorRate: errors / sorted.length,
  };
}

export function summarize(run: PolicyRun): LatencySummary {
  return {
    ...summarizeCalls(run.name, run.latencies, run.errors),
    failingNodeShare: run.callsToFailingNodes / run.calls,
  };
}
