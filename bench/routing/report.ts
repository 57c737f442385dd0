/**
 * The harness's printed report: the scenario, one latency/error row per routing policy, the
 * cache, forecast and anomaly rows next to their baselines, the issue's targets with whether
 * this run met them, and last one JSON line. Every figure comes from the run.
 */
import type { HarnessResult } from "./harness.js";
import { CACHE_CAPACITY, TTL_MS } from "./caching.js";
import { TIMEOUT_MS } from "./network.js";

/** The last line's object: the issue's keys first, then context. */
export function summaryJson(r: HarnessResult): Record<string, number | string> {
  return {
    p99VsRoundRobin: round(r.router.p99 / r.roundRobin.p99, 3),
    p99VsOracle: round(r.router.p99 / r.oracle.p99, 3),
    cacheHitRate: round(r.cache.predictive.hitRate, 4),
    lruHitRate: round(r.cache.lru.hitRate, 4),
    forecastMape: round(r.forecast.mape, 2),
    anomalyPrecision: round(r.anomaly.precision, 4),
    anomalyRecall: round(r.anomaly.recall, 4),
    routerP99Ms: round(r.router.p99, 1),
    roundRobinP99Ms: round(r.roundRobin.p99, 1),
    oracleP99Ms: round(r.oracle.p99, 1),
    routerErrorRate: round(r.router.errorRate, 5),
    randomErrorRate: round(r.random.errorRate, 5),
    roundRobinErrorRate: round(r.roundRobin.errorRate, 5),
    seasonalNaiveMape: round(r.forecast.seasonalNaiveMape, 2),
    seed: r.options.seed,
    size: r.options.size,
  };
}

export interface Target {
  readonly name: string;
  readonly met: boolean;
  readonly figure: string;
}

export function targets(r: HarnessResult): Target[] {
  const j = summaryJson(r);
  return [
    {
      name: "router p99 <= 0.5x round-robin's",
      met: r.router.p99 <= 0.5 * r.roundRobin.p99,
      figure: `${j.p99VsRoundRobin}x`,
    },
    { name: "router p99 <= 1.1x oracle's", met: r.router.p99 <= 1.1 * r.oracle.p99, figure: `${j.p99VsOracle}x` },
    {
      name: "router error rate below random's and round-robin's",
      met: r.router.errorRate < r.random.errorRate && r.router.errorRate < r.roundRobin.errorRate,
      figure: `${pct(r.router.errorRate)} vs ${pct(r.random.errorRate)}, ${pct(r.roundRobin.errorRate)}`,
    },
    {
      name: "predictive cache hit rate above LRU's",
      met: r.cache.predictive.hitRate > r.cache.lru.hitRate,
      figure: `${pct(r.cache.predictive.hitRate)} vs ${pct(r.cache.lru.hitRate)}`,
    },
    {
      name: "anomaly recall >= 0.9 at precision >= 0.9",
      met: r.anomaly.recall >= 0.9 && r.anomaly.precision >= 0.9,
      figure: `recall ${r.anomaly.recall.toFixed(3)}, precision ${r.anomaly.precision.toFixed(3)}`,
    },
  ];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function pct(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)}%`;
}

/** A markdown table with right-aligned numeric columns (all but the first). */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)];
}

export function report(r: HarnessResult): string {
  const { trace, network } = r;
  const s = trace.scenario;
  const abusive = trace.calls.filter((c) => c.abusive).length;
  const out: string[] = [];
  out.push(
    `Routing harness, seed ${s.seed}, ${r.options.size}: ${trace.calls.length.toLocaleString("en-US")} calls over ` +
      `${s.days} simulated days of ${s.dayMs / 1000} s, ${network.nodes.length} nodes in 6 regions, ` +
      `${trace.clients.length} client identities (${abusive.toLocaleString("en-US")} abusive calls); ` +
      `one policy instance per caller region; timeout ${TIMEOUT_MS} ms.`,
    "",
    "Routing (latency over all calls, failures included at their time to error or timeout):",
    "",
    ...table(
      ["policy", "p50 ms", "p95 ms", "p99 ms", "error rate", "to failing nodes", "same region"],
      r.policies.map((p) => [
        p.name,
        p.p50.toFixed(0),
        p.p95.toFixed(0),
        p.p99.toFixed(0),
        pct(p.errorRate),
        pct(p.failingNodeShare),
        pct(p.sameRegionShare, 1),
      ]),
    ),
    "",
    `Caching (GET stream, ${r.cache.lru.requests.toLocaleString("en-US")} requests, capacity ${CACHE_CAPACITY} entries, ` +
      `TTL ${TTL_MS / 1000} s):`,
    "",
    ...table(
      ["cache", "hit rate", "hits", "prefetches", "evictions"],
      [r.cache.predictive, r.cache.lru].map((c) => [
        c.name,
        pct(c.hitRate),
        c.hits.toLocaleString("en-US"),
        c.prefetches.toLocaleString("en-US"),
        c.evictions.toLocaleString("en-US"),
      ]),
    ),
    "",
    `Forecast (per-API calls per bucket of 1/${s.bucketsPerDay} day, one step ahead, days 3-${s.days}: ` +
      `${r.forecast.scored} (API, bucket) pairs):`,
    "",
    ...table(
      ["forecaster", "MAPE"],
      [
        ["Holt-Winters (RateForecaster)", `${r.forecast.mape.toFixed(2)}%`],
        ["seasonal naive (same bucket yesterday)", `${r.forecast.seasonalNaiveMape.toFixed(2)}%`],
      ],
    ),
    "",
    "Anomaly (per call: throttled abusive calls / throttled calls, / abusive calls):",
    "",
    ...table(
      ["detector", "precision", "recall", "throttled", "abusive", "legit ids throttled", "in flash crowd", "delay"],
      [
        [
          "AnomalyDetector",
          r.anomaly.precision.toFixed(4),
          r.anomaly.recall.toFixed(4),
          r.anomaly.throttled.toLocaleString("en-US"),
          `${r.anomaly.throttledAbusive.toLocaleString("en-US")}/${r.anomaly.abusiveCalls.toLocaleString("en-US")}`,
          `${r.anomaly.legitIdentitiesThrottled}/${r.anomaly.identities - 1}`,
          r.anomaly.throttledInSpike.toLocaleString("en-US"),
          `${(r.anomaly.detectionDelayMs / 1000).toFixed(2)} s`,
        ],
      ],
    ),
    "",
    "Targets:",
    ...targets(r).map((t) => `  ${t.met ? "met   " : "MISSED"} ${t.name}: ${t.figure}`),
    "",
    `(${(r.elapsedMs / 1000).toFixed(1)} s)`,
    JSON.stringify(summaryJson(r)),
  );
  return out.join("\n");
}
