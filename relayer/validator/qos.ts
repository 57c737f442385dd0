/**
 * From a validator's measurements of an epoch to the attestation it signs: percentiles of the
 * latency samples, success and availability ratios in basis points, subjects in the order the
 * contract requires. Pure functions (no I/O), so the arithmetic is tested against hand-computed
 * values.
 */
import { getAddress } from "ethers";
import { canonicalAttestation, type ApiReport, type Attestation, type NodeReport, type Qos } from "./attestation.js";

export const BPS = 10_000;
const UINT32_MAX = 2 ** 32 - 1;

/** What a validator recorded about one subject (a node, or an API through the nodes) over one epoch. */
export interface SubjectStats {
  /** Probes sent. */
  attempts: number;
  /** Probes answered correctly (2xx within the timeout). */
  successes: number;
  /** Probe rounds that included the subject. */
  rounds: number;
  /** Rounds in which the subject answered at all (any HTTP response within the timeout). */
  reachable: number;
  /** Latency samples of successful probes, microseconds, any order (a bounded reservoir). */
  latencies: number[];
}

/** Subjects as the sample store names them: `node:<lowercase address>` or `api:<decimal id>`. */
export type SubjectKey = `node:${string}` | `api:${string}`;

export const nodeSubject = (node: string): SubjectKey => `node:${node.toLowerCase()}`;
export const apiSubject = (apiId: bigint): SubjectKey => `api:${apiId.toString()}`;

/**
 * The nearest-rank percentile of ascending `sorted`: the smallest sample such that at least `p`%
 * of the samples are at or below it (p50 of an even count is the lower median, as the contract's
 * aggregation). Throws on an empty list.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("no samples");
  if (!(p > 0 && p <= 100)) throw new RangeError("p must be in (0, 100]");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]!;
}

/** `part / whole` in basis points, rounded down; 0 when `whole` is 0. */
export function ratioBps(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.floor((Math.min(part, whole) * BPS) / whole);
}

/**
 * The Qos of one subject, or undefined when it was never probed. Without a single successful
 * probe there is no latency to report: p50 and p99 are then `noAnswerMicros` (the probe timeout,
 * "at least this slow"), which does not matter for the score (success is 0) but keeps the report
 * honest.
 */
export function qosOf(stats: SubjectStats, noAnswerMicros: number): Qos | undefined {
  if (stats.attempts === 0 && stats.rounds === 0) return undefined;
  const sorted = [...stats.latencies].sort((a, b) => a - b);
  const clamp = (v: number) => Math.min(Math.max(Math.round(v), 0), UINT32_MAX);
  const p50 = sorted.length > 0 ? clamp(percentile(sorted, 50)) : clamp(noAnswerMicros);
  const p99 = sorted.length > 0 ? clamp(percentile(sorted, 99)) : clamp(noAnswerMicros);
  return {
    p50Micros: p50,
    p99Micros: Math.max(p50, p99),
    successBps: ratioBps(stats.successes, stats.attempts),
    availabilityBps: ratioBps(stats.reachable, stats.rounds),
  };
}

/**
 * The attestation of `epoch` from everything recorded in it, in canonical order; undefined when
 * nothing was measured (the contract refuses an empty attestation). `self` is left out (the
 * contract refuses a validator's report on itself).
 */
export function buildAttestation(
  epoch: number,
  stats: ReadonlyMap<string, SubjectStats>,
  self: string,
  noAnswerMicros: number,
): Attestation | undefined {
  const nodes: NodeReport[] = [];
  const apis: ApiReport[] = [];
  for (const [key, s] of stats) {
    const qos = qosOf(s, noAnswerMicros);
    if (!qos) continue;
    if (key.startsWith("node:")) {
      const node = key.slice(5);
      if (node === self.toLowerCase()) continue;
      nodes.push({ node: getAddress(node), qos });
    } else if (key.startsWith("api:")) {
      apis.push({ apiId: BigInt(key.slice(4)), qos });
    }
  }
  if (nodes.length + apis.length === 0) return undefined;
  return canonicalAttestation({ epoch, nodes, apis });
}
