import { Ejection, type EjectionOptions } from "../ejection.js";
import { DecayingEwma } from "../ewma.js";
import { expectedRttMs } from "../geo.js";
import { InFlight } from "../in-flight.js";
import { powerOfTwoChoices } from "../p2c.js";
import type { Candidate, CallContext, Outcome, RoutingPolicy, Rng } from "../types.js";

/** Every tunable of the peak-EWMA policy; `DEFAULT_PEAK_EWMA_OPTIONS` documents the defaults. */
export interface PeakEwmaOptions {
  /** Time constant of the latency estimate, ms. */
  readonly latencyDecayMs: number;
  /** Time constant of the error-rate estimate, ms. */
  readonly errorDecayMs: number;
  /** Time constant of both estimates' relaxation towards their priors while a candidate gets no calls, ms. */
  readonly restMs: number;
  /** How many samples each prior (geo latency, reputation error rate) is worth during warm-up. */
  readonly priorWeight: number;
  /**
   * Finagle's peak jump for the latency estimate: any sample above the estimate replaces it.
   * Off by default (a time-decayed mean; see the defaults for why).
   */
  readonly latencyPeak: boolean;
  /**
   * Cost multiplier per call in flight: cost x (1 + inFlightWeight x inFlight). 1 is Finagle's
   * latency x (inFlight + 1), right for a node that serves one call at a time; a node serving k
   * calls concurrently slows by about 1/k per extra call, so 1/k fits it better.
   */
  readonly inFlightWeight: number;
  /** Cost multiplier per unit of error rate: cost x (1 + errorPenalty x errorRate). */
  readonly errorPenalty: number;
  /** Error rate assumed for a candidate with zero reputation; scales down linearly to 0 at 10,000 bps. */
  readonly maxPriorErrorRate: number;
  /** Reputation assumed for a candidate the chain has not scored yet, basis points. */
  readonly unscoredReputationBps: number;
  /**
   * The two choices are drawn among healthy candidates whose cost is within this factor of the
   * cheapest one; Infinity gives plain power of two choices over all healthy candidates.
   */
  readonly choiceCostFactor: number;
  /** Outlier ejection and half-open probing (see ejection.ts). */
  readonly ejection: EjectionOptions;
}

/**
 * Defaults. The decay times follow Finagle (10 s latency decay); errors are rarer, so their
 * average spans longer. An idle candidate's estimates relax to its priors over minutes
 * (restMs 120 s), not Finagle's 10 s: in a simulation of heterogeneous drifting nodes the faster
 * re-exploration cost about 2x in p99, and drift is still picked up within minutes.
 * inFlightWeight 0.25 models nodes serving about 4 calls at once (Finagle's 1 assumes one at a
 * time and spread calls onto nodes twice as slow as needed in the same simulation). An error
 * rate of 0.1 doubles a candidate's cost (errorPenalty 10): a failed call costs the caller a
 * timeout and a retry, far more than a slow one. Reputation 0 bps means a prior error rate of
 * 20%, 5,000 bps (unscored) 10%, 10,000 bps none. Ejection follows Envoy's outlier detection
 * (5 consecutive failures; a 50% error rate over >= 10 outcomes) with a 10 s base and a 5 minute
 * cap.
 * latencyPeak is off: with the peak jump the estimate is roughly the largest sample of the last
 * decay period, and the largest of n samples grows with n, so the nodes that get the most calls
 * look the slowest (a node with 100 calls per 10 s shows its p99, one with 5 its p80). On
 * heavy-tailed nodes that bias pushed calls off the best in-region nodes onto rarely used far
 * ones (in the simulation only ~58% of calls stayed in the caller's region against the oracle's
 * 88%, and p99 was 1.44x the oracle's); the time-decayed mean ranks nodes on their expected
 * latency, like the oracle, and stays unbiased however many calls a node gets. A slow-down still
 * shows within the decay time, and the in-flight term reacts to load at once.
 * choiceCostFactor 1: with an unbiased estimate the cheapest node is the right one, so only
 * candidates tied for the cheapest cost are drawn (power of two choices breaks the ties); the
 * in-flight term, not randomness, spreads calls once the best node has calls queued. Any wider
 * draw sends a share of calls to a node known to be slower, which sets the p99.
 */
export const DEFAULT_PEAK_EWMA_OPTIONS: PeakEwmaOptions = {
  latencyDecayMs: 10_000,
  errorDecayMs: 30_000,
  restMs: 120_000,
  priorWeight: 1,
  latencyPeak: false,
  inFlightWeight: 0.25,
  errorPenalty: 10,
  maxPriorErrorRate: 0.2,
  unscoredReputationBps: 5_000,
  choiceCostFactor: 1,
  ejection: { consecutiveFailures: 5, errorRate: 0.5, minSamples: 10, baseMs: 10_000, maxMs: 300_000 },
};

const BPS = 10_000;

/**
 * The cost a candidate is compared on:
 *   latency x (1 + inFlightWeight x inFlight) x (1 + errorPenalty x errorRate),
 * expected latency scaled by the calls it would queue behind (Finagle/Linkerd peak-EWMA's
 * latency x (inFlight + 1) when inFlightWeight is 1) and by its error rate.
 */
export function peakEwmaCost(
  latencyMs: number,
  inFlight: number,
  errorRate: number,
  options: Pick<PeakEwmaOptions, "inFlightWeight" | "errorPenalty">,
): number {
  return latencyMs * (1 + options.inFlightWeight * inFlight) * (1 + options.errorPenalty * errorRate);
}

/** The prior error rate for a reputation (basis points, clamped to 0..10,000; undefined = unscored). */
export function reputationErrorPrior(reputationBps: number | undefined, options: PeakEwmaOptions): number {
  const bps = Math.min(BPS, Math.max(0, reputationBps ?? options.unscoredReputationBps));
  return options.maxPriorErrorRate * (1 - bps / BPS);
}

/** What the policy has learned about one candidate. */
interface Estimates {
  readonly latency: DecayingEwma;
  errors: DecayingEwma;
  readonly errorPrior: number;
  readonly ejection: Ejection;
}

/** The learned policy: EWMA latency (optionally peak-EWMA), error EWMA, in-flight load, priors, P2C, ejection. */
export function peakEwma(rng: Rng, overrides: Partial<PeakEwmaOptions> = {}): RoutingPolicy {
  const options: PeakEwmaOptions = { ...DEFAULT_PEAK_EWMA_OPTIONS, ...overrides };
  const errorEwma = (prior: number) =>
    new DecayingEwma(prior, {
      decayMs: options.errorDecayMs,
      restMs: options.restMs,
      priorWeight: options.priorWeight,
      peak: false,
    });
  const known = new Map<string, Estimates>();
  const inFlight = new InFlight();

  // Priors are fixed when a candidate is first seen: the geo prior from this call's region.
  const estimatesOf = (c: Candidate, context: CallContext): Estimates => {
    let e = known.get(c.id);
    if (e === undefined) {
      const errorPrior = reputationErrorPrior(c.reputationBps, options);
      e = {
        latency: new DecayingEwma(expectedRttMs(context.region, c.region), {
          decayMs: options.latencyDecayMs,
          restMs: options.restMs,
          priorWeight: options.priorWeight,
          peak: options.latencyPeak,
        }),
        errors: errorEwma(errorPrior),
        errorPrior,
        ejection: new Ejection(options.ejection),
      };
      known.set(c.id, e);
    }
    return e;
  };

  return {
    name: "peak-ewma",
    pick(candidates: readonly Candidate[], context: CallContext, now: number): Candidate {
      if (candidates.length === 0) throw new RangeError("peak-ewma needs at least one candidate");
      const scored = candidates.map((c) => {
        const e = estimatesOf(c, context);
        const cost = peakEwmaCost(e.latency.value(now), inFlight.of(c.id), e.errors.value(now), options);
        return { c, e, cost, health: e.ejection.health(now) };
      });
      // A candidate whose backoff has ended gets its single probe call before anything else:
      // otherwise its inflated cost would keep it from ever being re-tested.
      const probe = scored.find((s) => s.health === "probe-ready");
      if (probe !== undefined) {
        probe.e.ejection.startProbe();
        return probe.c;
      }
      const healthy = scored.filter((s) => s.health === "healthy");
      // Every candidate ejected (or probing): never fail the call, use the least bad one.
      if (healthy.length === 0) return scored.reduce((a, b) => (b.cost < a.cost ? b : a)).c;
      const cheapest = Math.min(...healthy.map((s) => s.cost));
      const choices = healthy.filter((s) => s.cost <= cheapest * options.choiceCostFactor);
      return powerOfTwoChoices(choices, (s) => s.cost, rng).c;
    },
    onStart(id: string) {
      inFlight.start(id);
    },
    onResult(id: string, outcome: Outcome, now: number) {
      inFlight.end(id);
      const e = known.get(id);
      // Never picked by this policy: there is no prior (region) to learn from.
      if (e === undefined) return;
      // A failure never makes a node look faster (a fast 5xx must not attract traffic); a slow
      // failure (a timeout) still raises the latency estimate.
      if (outcome.ok || outcome.latencyMs > e.latency.value(now)) e.latency.observe(outcome.latencyMs, now);
      e.errors.observe(outcome.ok ? 0 : 1, now);
      const transition = e.ejection.onResult(outcome.ok, now, e.errors.value(now), e.errors.samples);
      // A restored candidate starts over from its reputation prior, so the failures that got it
      // ejected do not eject it again on its first new failure.
      if (transition === "restored") e.errors = errorEwma(e.errorPrior);
    },
  };
}
