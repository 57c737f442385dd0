/**
 * Streaming per-identity (payer or ZK identity) anomaly detection feeding adaptive throttling on top of the
 * on-chain rate limits. Each identity keeps a few O(1) estimators; a request yields a decision with an
 * explanation naming the signals that fired and their values, for logs and metrics.
 */
import { DecayingRate } from "./decaying-rate.js";
import { PathEntropy } from "./path-entropy.js";

/** Detector settings; every field has a default. Rates are per second, times in ms. */
export interface AnomalyOptions {
  /** Time constant of the current request rate. Default 10_000: reacts to a burst within seconds. */
  readonly rateTauMs?: number;
  /**
   * Time constant of an identity's own baseline rate. Default 600_000 (10 minutes): long against a burst,
   * short against the daily cycle, so the baseline follows diurnal load.
   */
  readonly baselineTauMs?: number;
  /**
   * Least reference rate. Default 1/s: below it a rate estimate from a handful of requests is mostly noise
   * (a client at 0.1/s reading 0.3/s is not an anomaly), so no rate signal fires under rateFactor × floor.
   */
  readonly rateFloorPerSec?: number;
  /**
   * The rate signal fires at this multiple of the reference (see {@link AnomalyDetector}). Default 5: a
   * well-behaved client's rate stays within about 2x its reference (Poisson noise of the 10 s estimate,
   * shared ramps that the surge factor absorbs), an abusive one is typically 10x or more.
   */
  readonly rateFactor?: number;
  /**
   * The entropy signals (hammering, scanning) need the rate at this multiple of the reference. Default 2.5:
   * a degenerate path mix alone is normal (a client polling one endpoint), only combined with an elevated
   * rate does it mark a bot.
   */
  readonly elevatedFactor?: number;
  /** Paths in the entropy window. Default 64: fills within seconds for a bot, max entropy 6 bits. */
  readonly entropyWindow?: number;
  /**
   * Hammering: window entropy at or below this. Default 0.5 bits: one path at ≥ ~90 % of the window. A Zipf
   * mix over even a few endpoints stays well above 1 bit.
   */
  readonly lowEntropyBits?: number;
  /**
   * Scanning: window entropy at or above this. Default 5.8 bits (of log2 64 = 6): at most about six repeats
   * in 64 paths. A Zipf(s = 1) client over 1000 endpoints measures 4.3 to 5.7 bits (median 5.1) in 64
   * requests; a flatter mix over many more endpoints could reach the threshold, but only an elevated rate
   * makes that a signal.
   */
  readonly highEntropyBits?: number;
  /**
   * Requests the error EWMA spans: weight 2/(N+1) per request (the usual span-N EWMA). Default 20.
   */
  readonly errorWindow?: number;
  /**
   * The error-burst signal fires when the error EWMA reaches this. Default 0.5: from 0 it takes 7
   * consecutive errors (weight 2/21) to get there, while a client with a 10 % error rate hovers near 0.1.
   */
  readonly errorRatio?: number;
  /**
   * Time constant (ms) of the error average's decay towards 0 while no outcome arrives. Default 60_000.
   * A client throttled for errors alone gets no admitted calls, so no outcomes: without the decay it
   * would stay throttled as long as it kept calling. With it, the signal ends τ·ln(score) after the last
   * error (at most ~25 s from a full burst at the default ratio), and Retry-After can say when.
   */
  readonly errorDecayMs?: number;
  /**
   * An identity counts as active for the population mean while its last request is this recent. Default
   * 60_000: six rate time constants, after which its decayed rate is negligible.
   */
  readonly activeWindowMs?: number;
  /** State of an identity idle this long is dropped. Default 1_800_000 (30 minutes, three baseline τ). */
  readonly idleMs?: number;
  /** At most this many identities are tracked; the least recently seen goes first. Default 100_000. */
  readonly maxIdentities?: number;
}

/** The signals a decision can name. */
export type AnomalySignal = "rate" | "errors" | "hammer" | "scan";

/** What to do with an identity's request. */
export interface AnomalyDecision {
  readonly throttle: boolean;
  /**
   * Strength of the strongest signal as a multiple of its threshold: ≥ 1 exactly when `throttle`. Lets a
   * harness sweep the operating point without re-running.
   */
  readonly score: number;
  /** The signals at or over their threshold, in the order of {@link explanation}. */
  readonly signals: readonly AnomalySignal[];
  /** Each fired signal with its values, "; "-separated (empty when not throttled). */
  readonly explanation: string;
}

interface IdentityState {
  readonly rate: DecayingRate;
  readonly baseline: DecayingRate;
  /** Current rate over unthrottled requests only: this identity's share of the population's calm rate. */
  readonly calmRate: DecayingRate;
  readonly paths: PathEntropy;
  /** EWMA of the caller-attributable error flag over recent requests, as of `errorsAt`. */
  errors: number;
  errorsAt: number;
  lastSeen: number;
}

const fmt = (x: number): string => x.toFixed(1);

/**
 * Per-identity detector. Per request ({@link request}) it updates:
 * - the identity's current rate (EWMA, τ = rateTauMs) and its baseline (EWMA, τ = baselineTauMs);
 * - the path-entropy window;
 * and compares the rate with a reference: the largest of the identity's baseline times the other identities'
 * surge (their current rate over their long-run rate, at least 1), the mean current rate of the other active
 * identities, and a floor. The surge keeps a shared rise (flash crowd, diurnal ramp) from flagging
 * everyone; the population mean keeps a client's first minutes, before it has a baseline, from looking
 * anomalous. Errors arrive later, through {@link outcome}.
 *
 * Signals (throttle when any fires):
 * - rate: current rate ≥ rateFactor × reference;
 * - hammer: full window, entropy ≤ lowEntropyBits, rate ≥ elevatedFactor × reference;
 * - scan: full window, entropy ≥ highEntropyBits, rate ≥ elevatedFactor × reference;
 * - errors: error EWMA (decaying with time while no outcome arrives) ≥ errorRatio.
 *
 * The baseline only learns from requests that were not throttled, so a sustained abuser cannot teach the
 * detector that abuse is normal. The flip side: a client that is legitimately at rateFactor × the population
 * from its first request stays throttled until it slows down.
 *
 * Memory is bounded: identities idle for idleMs are dropped, and beyond maxIdentities the least recently
 * seen one is. Maps keep insertion order and an identity is re-inserted on each request, so both trims
 * work from the front in amortised O(1).
 */
export class AnomalyDetector {
  private readonly rateTauMs: number;
  private readonly baselineTauMs: number;
  private readonly rateFloorPerSec: number;
  private readonly rateFactor: number;
  private readonly elevatedFactor: number;
  private readonly entropyWindow: number;
  private readonly lowEntropyBits: number;
  private readonly highEntropyBits: number;
  private readonly errorWeight: number;
  private readonly errorRatio: number;
  private readonly errorDecayMs: number;
  private readonly activeWindowMs: number;
  private readonly idleMs: number;
  private readonly maxIdentities: number;

  private readonly identities = new Map<string, IdentityState>();
  /** Identity → last request, for those within activeWindowMs (oldest first). */
  private readonly active = new Map<string, number>();
  /** Sum over identities of their current rates: all share τ, so the sum decays like one rate. */
  private readonly population: DecayingRate;
  /** Population rate over unthrottled requests, current (rateTauMs) and long-run (baselineTauMs). */
  private readonly calmRate: DecayingRate;
  private readonly calmBaseline: DecayingRate;

  constructor(options: AnomalyOptions = {}) {
    this.rateTauMs = options.rateTauMs ?? 10_000;
    this.baselineTauMs = options.baselineTauMs ?? 600_000;
    this.rateFloorPerSec = options.rateFloorPerSec ?? 1;
    this.rateFactor = options.rateFactor ?? 5;
    this.elevatedFactor = options.elevatedFactor ?? 2.5;
    this.entropyWindow = options.entropyWindow ?? 64;
    this.lowEntropyBits = options.lowEntropyBits ?? 0.5;
    this.highEntropyBits = options.highEntropyBits ?? 5.8;
    this.errorWeight = 2 / ((options.errorWindow ?? 20) + 1);
    this.errorRatio = options.errorRatio ?? 0.5;
    this.errorDecayMs = options.errorDecayMs ?? 60_000;
    this.activeWindowMs = options.activeWindowMs ?? 60_000;
    this.idleMs = options.idleMs ?? 1_800_000;
    this.maxIdentities = options.maxIdentities ?? 100_000;
    this.population = new DecayingRate(this.rateTauMs);
    this.calmRate = new DecayingRate(this.rateTauMs);
    this.calmBaseline = new DecayingRate(this.baselineTauMs);
  }

  /** Identities currently tracked. */
  get size(): number {
    return this.identities.size;
  }

  /** Whether `identity` still has state (not expired). */
  has(identity: string): boolean {
    return this.identities.has(identity);
  }

  /**
   * Records a request of `identity` for `path` at `now` (ms, non-decreasing) and decides on it.
   * `floorPerSec`, when above the configured rateFloorPerSec, raises the least reference rate for this
   * request: context the caller has about what rate is normal for it (the relayer passes a share of the
   * identity's on-chain rate limit, so a client alone on a node, with no population to compare with, is
   * not anomalous merely for using its allowance).
   */
  request(identity: string, path: string, now: number, floorPerSec = 0): AnomalyDecision {
    this.expire(now);
    let state = this.identities.get(identity);
    if (state === undefined) {
      state = {
        rate: new DecayingRate(this.rateTauMs),
        baseline: new DecayingRate(this.baselineTauMs),
        calmRate: new DecayingRate(this.rateTauMs),
        paths: new PathEntropy(this.entropyWindow),
        errors: 0,
        errorsAt: now,
        lastSeen: now,
      };
    }
    this.identities.delete(identity);
    this.identities.set(identity, state);
    this.active.delete(identity);
    this.active.set(identity, now);
    if (this.identities.size > this.maxIdentities) this.drop(this.identities.keys().next().value as string);
    state.lastSeen = now;
    state.rate.add(now);
    state.paths.push(path);
    this.population.add(now);

    const decision = this.decide(state, now, Math.max(this.rateFloorPerSec, floorPerSec));
    if (!decision.throttle) {
      state.baseline.add(now);
      state.calmRate.add(now);
      this.calmRate.add(now);
      this.calmBaseline.add(now);
    }
    return decision;
  }

  /**
   * Reports whether a forwarded request of `identity` failed for a reason attributable to the caller (4xx:
   * bad voucher, unknown path, rejected input). Upstream 5xx and timeouts say nothing about the caller and
   * should be reported as `false` (or not at all); throttled requests should not be reported.
   */
  outcome(identity: string, error: boolean, now: number): void {
    this.expire(now);
    const state = this.identities.get(identity);
    if (state === undefined) return;
    const errors = this.errorsOf(state, now);
    state.errors = errors + this.errorWeight * ((error ? 1 : 0) - errors);
    state.errorsAt = Math.max(state.errorsAt, now);
  }

  /** Time constants (ms) by signal: how fast each one's strength decays without new evidence. */
  decayMs(signal: AnomalySignal): number {
    return signal === "errors" ? this.errorDecayMs : this.rateTauMs;
  }

  /** The identity's error average decayed to `now`. */
  private errorsOf(state: IdentityState, now: number): number {
    return state.errors * Math.exp(-Math.max(0, now - state.errorsAt) / this.errorDecayMs);
  }

  private decide(state: IdentityState, now: number, floor: number): AnomalyDecision {
    const rate = state.rate.perSecond(now);
    const baseline = state.baseline.perSecond(now);
    // Other identities' mean: the population sum minus this identity's share (same τ, so exact).
    const others =
      this.active.size > 1 ? Math.max(0, this.population.perSecond(now) - rate) / (this.active.size - 1) : 0;
    // How far the other identities are above their long-run rate (a flash crowd, a steep diurnal ramp): the
    // identity's baseline is scaled by it. Unthrottled requests only, so abusers do not feed it; never below
    // 1, so a lull does not make everyone suspicious; 1 when there are no others (up to rounding).
    // For the first minutes after a start the 10 s sums fill faster than the 10 min ones, so the surge
    // reads high (up to τ_baseline/τ_rate) and the detector fails open: no identity has history yet,
    // and throttling a restart's first traffic (a flash crowd included) would be worse than waiting.
    const othersBaseline = this.calmBaseline.perSecond(now) - baseline;
    const othersCalm = this.calmRate.perSecond(now) - state.calmRate.perSecond(now);
    const surge = othersBaseline > 1e-9 ? Math.max(1, othersCalm / othersBaseline) : 1;
    let reference = floor;
    let referenceText = `the floor ${fmt(reference)}/s`;
    if (others > reference) [reference, referenceText] = [others, `the population's ${fmt(others)}/s`];
    if (baseline * surge > reference) {
      reference = baseline * surge;
      referenceText =
        `its baseline ${fmt(baseline)}/s` + (fmt(surge) === fmt(1) ? "" : ` x population surge ${fmt(surge)}`);
    }
    const ratio = rate / reference;
    const rateText = `rate ${fmt(rate)}/s is ${fmt(ratio)}x ${referenceText}`;

    const errors = this.errorsOf(state, now);
    const bits = state.paths.bits;
    const degenerate = state.paths.full && (bits <= this.lowEntropyBits || bits >= this.highEntropyBits);
    const strengths: [AnomalySignal, number][] = [
      ["rate", ratio / this.rateFactor],
      [bits <= this.lowEntropyBits ? "hammer" : "scan", degenerate ? ratio / this.elevatedFactor : 0],
      ["errors", errors / this.errorRatio],
    ];
    const score = Math.max(...strengths.map(([, s]) => s));
    const fired = strengths.filter(([, s]) => s >= 1).map(([signal]) => signal);
    const parts = fired.map((signal) => {
      switch (signal) {
        case "rate":
          return rateText;
        case "hammer":
        case "scan": {
          const kind = signal === "hammer" ? "hammering" : "scanning";
          const entropy = `path entropy ${fmt(bits)} bits over ${state.paths.size} paths (${kind})`;
          // The rate is already spelled out when the rate signal fired too.
          return fired.includes("rate") ? entropy : `${entropy} at ${rateText}`;
        }
        case "errors":
          return `errors ${Math.round(100 * errors)}% of recent requests`;
      }
    });
    return { throttle: fired.length > 0, score, signals: fired, explanation: parts.join("; ") };
  }

  private expire(now: number): void {
    for (const [identity, state] of this.identities) {
      if (state.lastSeen > now - this.idleMs) break;
      this.drop(identity);
    }
    for (const [identity, lastSeen] of this.active) {
      if (lastSeen > now - this.activeWindowMs) break;
      this.active.delete(identity);
    }
  }

  private drop(identity: string): void {
    this.identities.delete(identity);
    this.active.delete(identity);
  }
}
