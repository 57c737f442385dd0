/**
 * Harness options: the seed and the size of the run. `full` is what BENCHMARKS.md records
 * (four simulated days of 10 virtual minutes each); `short` is the CI version (four days of one
 * virtual minute each, same shapes, a tenth of the calls). Four days: Holt-Winters needs two
 * seasons to initialise, its forecasts are scored on days 3 and 4. Read from CLI flags or env:
 *   npm run bench:routing -- --seed 7 --short        (or ROUTING_SEED=7 ROUTING_SIZE=short)
 */

export interface HarnessOptions {
  readonly seed: number;
  readonly size: "full" | "short";
}

/** The scenario's sizes, derived from the options. */
export interface Scenario {
  readonly seed: number;
  /** Length of one simulated day, virtual ms (the seasonal period). */
  readonly dayMs: number;
  readonly days: number;
  /** Mean call rate of the well-behaved population (before diurnal and spike), calls per virtual second. */
  readonly baseRps: number;
  /** Forecast buckets per day (Holt-Winters season length). */
  readonly bucketsPerDay: number;
  readonly nodes: number;
  readonly clients: number;
}

export const DEFAULT_SEED = 20250901;

export function scenarioOf(options: HarnessOptions): Scenario {
  const dayMs = options.size === "full" ? 600_000 : 60_000;
  return { seed: options.seed, dayMs, days: 4, baseRps: 250, bucketsPerDay: 24, nodes: 24, clients: 300 };
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): HarnessOptions {
  let seed = env.ROUTING_SEED !== undefined ? Number(env.ROUTING_SEED) : DEFAULT_SEED;
  let size: HarnessOptions["size"] = env.ROUTING_SIZE === "short" ? "short" : "full";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--short") size = "short";
    else if (arg === "--full") size = "full";
    else if (arg === "--seed") seed = Number(argv[++i]);
    else if (arg.startsWith("--seed=")) seed = Number(arg.slice("--seed=".length));
    else throw new Error(`unknown option ${arg} (use --seed N, --short, --full)`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error("--seed must be a non-negative integer");
  return { seed, size };
}
