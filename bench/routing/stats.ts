/** Latency summaries of a policy's run. */
import type { PolicyRun } from "./simulate.js";

export interface LatencySummary {
  readonly name: string;
  readonly calls: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Failed calls (errors and timeouts) / calls. */
  readonly errorRate: number;
  /** Calls sent to a node inside a failure window / calls. */
  readonly failingNodeShare: number;
}

/** Nearest-rank percentile (q in (0, 1]) of ascending `sorted`. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(run: PolicyRun): LatencySummary {
  const sorted = Float64Array.from(run.latencies).sort();
  return {
    name: run.name,
    calls: run.calls,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    errorRate: run.errors / run.calls,
    failingNodeShare: run.callsToFailingNodes / run.calls,
  };
}
