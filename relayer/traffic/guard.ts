/**
 * The relayer's use of the pure traffic models: adaptive throttling (AnomalyDetector) on top of the
 * on-chain rate limits, and per-API load forecasting (RateForecaster) for the scale-up signal. State is per
 * relayer process: each process learns the traffic it serves.
 */
import { GatewayError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import { AnomalyDetector, type AnomalyOptions } from "./anomaly.js";
import { RateForecaster } from "./holt-winters.js";

/** Retry-After upper bound (s). */
const MAX_RETRY_AFTER_S = 60;
/** At most one warn log per identity per this long (a throttled abuser keeps calling). */
const LOG_EVERY_MS = 10_000;
const MAX_LOGGED_IDENTITIES = 10_000;

export interface AdaptiveThrottleOptions {
  /** Least reference rate (per second) of the detector. */
  rateFloorPerSec: number;
  /**
   * Share of the identity's on-chain sustained rate limit (calls per second) used as its least reference
   * rate: a client alone on the node has no population to be compared with, and using its allowance is
   * not an anomaly. With the default detector factors (rate 5x, hammer/scan 2.5x) and share 0.4, a client
   * is only throttled on rate above 2x its on-chain sustained rate (a burst), or hammering/scanning at
   * its sustained rate or above, unless other clients' rates make a lower rate stand out.
   */
  limitShare: number;
  /** Time constant of an identity's current rate: Retry-After is computed from it. */
  rateTauMs: number;
  /** Time constant of the baselines (identity and population). */
  baselineTauMs: number;
  metrics: RelayerMetrics;
  log: Logger;
  detector?: Omit<AnomalyOptions, "rateFloorPerSec" | "rateTauMs" | "baselineTauMs">;
  now?: () => number;
}

export class AdaptiveThrottle {
  private readonly detector: AnomalyDetector;
  private readonly now: () => number;
  private readonly logged = new Map<string, number>();

  constructor(private readonly opts: AdaptiveThrottleOptions) {
    this.detector = new AnomalyDetector({
      ...opts.detector,
      rateFloorPerSec: opts.rateFloorPerSec,
      rateTauMs: opts.rateTauMs,
      baselineTauMs: opts.baselineTauMs,
    });
    this.now = opts.now ?? Date.now;
  }

  /**
   * Records a call of an authenticated `identity` (one rate-limit subject of one API) to `path`; throws
   * adaptive_throttle (429 with Retry-After) when the detector says throttle. `limitPerSec`: the
   * identity's on-chain sustained rate limit.
   */
  admit(identity: string, path: string, limitPerSec: number): void {
    const now = this.now();
    const decision = this.detector.request(identity, path, now, this.opts.limitShare * limitPerSec);
    if (!decision.throttle) return;
    const { metrics } = this.opts;
    for (const signal of decision.signals) {
      metrics.adaptiveThrottles.inc({ signal });
      metrics.adaptiveLastThrottle.set({ signal }, now / 1000);
    }
    const last = this.logged.get(identity);
    if (last === undefined || now - last >= LOG_EVERY_MS) {
      if (this.logged.size >= MAX_LOGGED_IDENTITIES) this.logged.clear();
      this.logged.set(identity, now);
      this.opts.log.warn(
        { identity, path, signals: decision.signals, score: decision.score, explanation: decision.explanation },
        "adaptive throttle",
      );
    }
    // Rate-based signals fall below their thresholds after τ·ln(score) without calls.
    // Each fired signal falls below its threshold after its time constant x ln(strength) without new
    // evidence; the score bounds every strength, so this wait is never too short.
    const decayMs = Math.max(...decision.signals.map((signal) => this.detector.decayMs(signal)));
    const retryAfter = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((decayMs / 1000) * Math.log(decision.score))));
    throw new GatewayError("adaptive_throttle", `signals: ${decision.signals.join(", ")}`, {
      "retry-after": String(retryAfter),
    });
  }

  /**
   * Reports how an admitted call ended: 4xx other than 429 is the caller's fault (bad voucher state,
   * unknown path, rejected input); 429s are the limiters' business, 5xx the upstream's or the relayer's.
   */
  outcome(identity: string, status: number): void {
    this.detector.outcome(identity, status >= 400 && status < 500 && status !== 429, this.now());
  }
}

export interface TrafficForecastOptions {
  bucketMs: number;
  capacityRps: number;
  metrics: RelayerMetrics;
  log: Logger;
  now?: () => number;
}

/** Per-API Holt-Winters forecasts of accepted calls, published on /metrics scrapes. */
export class TrafficForecast {
  private readonly forecaster: RateForecaster;
  private readonly apis: string[] = [];
  private readonly now: () => number;
  private scalingUp = false;

  constructor(private readonly opts: TrafficForecastOptions) {
    this.forecaster = new RateForecaster({ bucketMs: opts.bucketMs });
    this.now = opts.now ?? Date.now;
    opts.metrics.capacityRps.set(opts.capacityRps);
    opts.metrics.scaleUp.set(0);
  }

  /** Counts one accepted call of `api`: amortised O(1) (a bucket close touches each API once). */
  record(api: string): void {
    if (this.forecaster.model(api) === undefined) this.apis.push(api);
    this.forecaster.record(api, this.now());
  }

  /**
   * The forecast rate (per second) of `api` for the bucket containing `now`, once its Holt-Winters model
   * has its two seasons of history; undefined before (a warm-up average is no forecast of a coming peak).
   */
  forecastRate(api: string, now: number): number | undefined {
    return this.forecaster.model(api)?.ready ? this.forecaster.forecastRate(api, now) : undefined;
  }

  /** Updates the forecast and scale-up gauges (on each /metrics scrape). */
  publish(): void {
    const now = this.now();
    let total = 0;
    for (const api of this.apis) {
      const rate = this.forecaster.forecastRate(api, now);
      this.opts.metrics.forecastRps.set({ api }, rate);
      total += rate;
    }
    const over = total > this.opts.capacityRps;
    this.opts.metrics.scaleUp.set(over ? 1 : 0);
    if (over !== this.scalingUp) {
      this.scalingUp = over;
      this.opts.log.warn(
        { forecastRps: total, capacityRps: this.opts.capacityRps },
        over ? "forecast load exceeds capacity: scale up" : "forecast load back within capacity",
      );
    }
  }
}
