/**
 * The routing and traffic evaluation in one call: generate the seeded trace and network, run
 * every routing policy through the simulation, replay the trace through the caches, the
 * forecaster and the anomaly detector. Used by bench/routing.ts and by the CI test
 * (test/mocha/routing/harness.test.ts, short size).
 */
import { leastRequest } from "../../sdk/routing/policies/least-request.js";
import { peakEwma } from "../../sdk/routing/policies/peak-ewma.js";
import { randomPolicy } from "../../sdk/routing/policies/random.js";
import { roundRobin } from "../../sdk/routing/policies/round-robin.js";
import { seededRng } from "../../sdk/routing/rng.js";
import { evaluateAnomaly, type AnomalyResult } from "./anomaly.js";
import { evaluateCaches, type CacheResult } from "./caching.js";
import { evaluateForecast, type ForecastResult } from "./forecast.js";
import { generateNetwork, type Network } from "./network.js";
import { scenarioOf, type HarnessOptions } from "./options.js";
import { OraclePolicy, simulate, type PolicyFactory } from "./simulate.js";
import { summarize, type LatencySummary } from "./stats.js";
import { generateTrace, type Trace } from "./traces.js";

export interface HarnessResult {
  readonly options: HarnessOptions;
  readonly trace: Trace;
  readonly network: Network;
  /** One row per policy, in POLICIES order. */
  readonly policies: readonly (LatencySummary & { sameRegionShare: number })[];
  readonly router: LatencySummary;
  readonly roundRobin: LatencySummary;
  readonly random: LatencySummary;
  readonly oracle: LatencySummary;
  readonly cache: CacheResult;
  readonly forecast: ForecastResult;
  readonly anomaly: AnomalyResult;
  readonly elapsedMs: number;
}

/** The router under evaluation: sdk/routing's peak-EWMA policy with its default options. */
export const ROUTER = "peak-ewma";

/** Policies in table order; each factory is called once per caller region (see simulate.ts). */
function policies(seed: number): [string, PolicyFactory][] {
  // Each instance its own seeded stream: random and the P2C draws replay exactly.
  const rngFor = (policy: number, region: number) => seededRng(seed * 16 + 4 + policy * 1000 + region);
  return [
    ["round-robin", () => roundRobin()],
    ["random", (s) => randomPolicy(rngFor(1, s.region))],
    ["least-request", (s) => leastRequest(rngFor(2, s.region))],
    [ROUTER, (s) => peakEwma(rngFor(3, s.region))],
    ["oracle", (s) => new OraclePolicy(s)],
  ];
}

export function runHarness(options: HarnessOptions): HarnessResult {
  const started = performance.now();
  const scenario = scenarioOf(options);
  const trace = generateTrace(scenario);
  const network = generateNetwork(scenario);
  const rows = policies(scenario.seed).map(([, factory]) => {
    const run = simulate(trace, network, factory);
    return { ...summarize(run), sameRegionShare: run.sameRegionShare };
  });
  const byName = (name: string) => {
    const row = rows.find((r) => r.name === name);
    if (row === undefined) throw new Error(`no policy named ${name}`);
    return row;
  };
  return {
    options,
    trace,
    network,
    policies: rows,
    router: byName(ROUTER),
    roundRobin: byName("round-robin"),
    random: byName("random"),
    oracle: byName("oracle"),
    cache: evaluateCaches(trace),
    forecast: evaluateForecast(trace),
    anomaly: evaluateAnomaly(trace),
    elapsedMs: performance.now() - started,
  };
}
