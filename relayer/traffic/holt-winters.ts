/**
 * Additive Holt-Winters (triple exponential smoothing) over fixed-size time buckets, and a per-key
 * request-rate forecaster built on it. Pure: time is passed in (ms), so simulations run on virtual time.
 */

/** Smoothing parameters, each in [0, 1]. */
export interface HoltWintersOptions {
  /** Season length in buckets (m), e.g. 288 five-minute buckets for a daily cycle. Required, >= 1. */
  readonly period: number;
  /**
   * Level smoothing. Default 0.3: the level follows a shift in load within a few buckets while one
   * noisy bucket moves it by under a third of its deviation.
   */
  readonly alpha?: number;
  /**
   * Trend smoothing. Default 0.02: request counts are noisy and a spike must not be extrapolated into
   * a runaway trend; the trend only picks up growth sustained over many buckets.
   */
  readonly beta?: number;
  /**
   * Seasonal smoothing. Default 0.3: each seasonal index is updated once per period, so it has to move
   * fast enough to learn a changed daily shape within a few periods.
   */
  readonly gamma?: number;
}

const DEFAULT_ALPHA = 0.3;
const DEFAULT_BETA = 0.02;
const DEFAULT_GAMMA = 0.3;

function checkUnit(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  return value;
}

/**
 * Additive Holt-Winters, updated once per bucket with {@link observe}. Equations (Winters 1960, additive
 * form as in NIST's handbook, seasonal updated against the new level):
 *
 *   L_t = α (x_t − s_{t−m}) + (1 − α)(L_{t−1} + b_{t−1})
 *   b_t = β (L_t − L_{t−1}) + (1 − β) b_{t−1}
 *   s_t = γ (x_t − L_t) + (1 − γ) s_{t−m}
 *   ŷ_{t+h} = L_t + h b_t + s_{t+h−m⌈h/m⌉}
 *
 * Initialisation needs two full seasons (2m buckets): L = mean of season 1, b = mean over i of
 * (x_{m+i} − x_i) / m (the average per-bucket change between the seasons), s_i = x_i − L for season 1.
 * That state stands at the end of season 1; season 2 is then replayed through the update equations, so
 * after 2m observations the model is as if it had smoothed season 2 online. Before that, {@link forecast}
 * is the mean of the buckets seen so far (0 with none): flat, but never wild.
 */
export class HoltWinters {
  readonly period: number;
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  private readonly warmup: number[] = [];
  private levelValue = 0;
  private trendValue = 0;
  /** Indexed by phase (t mod m): the latest seasonal index of that phase. */
  private readonly seasonalValues: number[];
  private observed = 0;

  constructor(options: HoltWintersOptions) {
    if (!Number.isInteger(options.period) || options.period < 1) {
      throw new RangeError(`period must be a positive integer, got ${options.period}`);
    }
    this.period = options.period;
    this.alpha = checkUnit("alpha", options.alpha ?? DEFAULT_ALPHA);
    this.beta = checkUnit("beta", options.beta ?? DEFAULT_BETA);
    this.gamma = checkUnit("gamma", options.gamma ?? DEFAULT_GAMMA);
    this.seasonalValues = new Array<number>(this.period).fill(0);
  }

  /** True once two seasons have been observed and the smoothing state is initialised. */
  get ready(): boolean {
    return this.observed >= 2 * this.period;
  }

  /** Buckets observed so far. */
  get count(): number {
    return this.observed;
  }

  /** Current level L_t (0 before {@link ready}). */
  get level(): number {
    return this.levelValue;
  }

  /** Current trend b_t per bucket (0 before {@link ready}). */
  get trend(): number {
    return this.trendValue;
  }

  /** Seasonal indices by phase: entry p belongs to buckets t with t mod m = p (all 0 before {@link ready}). */
  get seasonal(): readonly number[] {
    return this.seasonalValues;
  }

  /** Adds the count of the next bucket. */
  observe(count: number): void {
    if (!Number.isFinite(count)) throw new RangeError(`count must be finite, got ${count}`);
    if (this.ready) {
      this.update(this.observed, count);
      this.observed++;
      return;
    }
    this.warmup.push(count);
    this.observed++;
    if (this.ready) this.initialise();
  }

  /** Forecast of the bucket h ahead of the last observed one (h = 1: the next), clamped at 0. */
  forecast(h = 1): number {
    if (!Number.isInteger(h) || h < 1) throw new RangeError(`h must be a positive integer, got ${h}`);
    if (!this.ready) {
      const sum = this.warmup.reduce((a, b) => a + b, 0);
      return this.warmup.length === 0 ? 0 : Math.max(0, sum / this.warmup.length);
    }
    const phase = (this.observed - 1 + h) % this.period;
    // Counts are never negative; a falling trend extrapolated far enough would say otherwise.
    return Math.max(0, this.levelValue + h * this.trendValue + (this.seasonalValues[phase] ?? 0));
  }

  private initialise(): void {
    const m = this.period;
    const season1 = this.warmup.slice(0, m);
    const season2 = this.warmup.slice(m, 2 * m);
    this.levelValue = season1.reduce((a, b) => a + b, 0) / m;
    this.trendValue = season2.reduce((acc, x, i) => acc + (x - (season1[i] ?? 0)) / m, 0) / m;
    season1.forEach((x, i) => (this.seasonalValues[i] = x - this.levelValue));
    season2.forEach((x, i) => this.update(m + i, x));
    this.warmup.length = 0;
  }

  private update(t: number, x: number): void {
    const phase = t % this.period;
    const previousSeason = this.seasonalValues[phase] ?? 0;
    const previousLevel = this.levelValue;
    this.levelValue = this.alpha * (x - previousSeason) + (1 - this.alpha) * (previousLevel + this.trendValue);
    this.trendValue = this.beta * (this.levelValue - previousLevel) + (1 - this.beta) * this.trendValue;
    this.seasonalValues[phase] = this.gamma * (x - this.levelValue) + (1 - this.gamma) * previousSeason;
  }
}

/** Options of a {@link RateForecaster}; the Holt-Winters parameters apply to every key. */
export interface RateForecasterOptions {
  /** Bucket width in ms. Default 300_000 (5 minutes): wide enough that per-API counts are not mostly noise. */
  readonly bucketMs?: number;
  /** Holt-Winters parameters; `period` defaults to one day of buckets (288 at the default width). */
  readonly holtWinters?: Partial<HoltWintersOptions>;
}

const DEFAULT_BUCKET_MS = 300_000;
const DAY_MS = 86_400_000;

/**
 * Buckets raw request timestamps per key (an API: a small, bounded set; not per-URL keys) into counts and
 * feeds one {@link HoltWinters} per key. A bucket closes when the first timestamp of a later bucket arrives
 * (or {@link advance} is called past it); every key then observes its count, 0 if it had no requests, so
 * idle APIs forecast idleness. A key's model starts at the bucket of its first request.
 */
export class RateForecaster {
  readonly bucketMs: number;
  private readonly modelOptions: HoltWintersOptions;
  private readonly models = new Map<string, HoltWinters>();
  /** Requests per key in the open bucket. */
  private readonly open = new Map<string, number>();
  /** Index (floor(now / bucketMs)) of the open bucket; undefined before the first timestamp. */
  private bucket: number | undefined;

  constructor(options: RateForecasterOptions = {}) {
    this.bucketMs = options.bucketMs ?? DEFAULT_BUCKET_MS;
    if (!(this.bucketMs > 0)) throw new RangeError(`bucketMs must be positive, got ${this.bucketMs}`);
    this.modelOptions = {
      ...options.holtWinters,
      period: options.holtWinters?.period ?? Math.max(1, Math.round(DAY_MS / this.bucketMs)),
    };
  }

  /** Counts one request for `key` at `now` (ms, non-decreasing across calls). */
  record(key: string, now: number): void {
    this.advance(now);
    if (!this.models.has(key)) this.models.set(key, new HoltWinters(this.modelOptions));
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
  }

  /** Closes every bucket that ended at or before `now`. */
  advance(now: number): void {
    const target = Math.floor(now / this.bucketMs);
    if (this.bucket === undefined) {
      this.bucket = target;
      return;
    }
    for (; this.bucket < target; this.bucket++) {
      for (const [key, model] of this.models) model.observe(this.open.get(key) ?? 0);
      this.open.clear();
    }
  }

  /**
   * Forecast request rate (per second) of `key` for the bucket h ahead of the last closed one, as of
   * `now`: h = 1 is the bucket containing `now`. 0 for a key never seen.
   */
  forecastRate(key: string, now: number, h = 1): number {
    this.advance(now);
    const model = this.models.get(key);
    return model === undefined ? 0 : model.forecast(h) / (this.bucketMs / 1000);
  }

  /** The model of `key`, if it has had a request (for inspection and forecast-error accounting). */
  model(key: string): HoltWinters | undefined {
    return this.models.get(key);
  }

  /**
   * The scale-up signal: keys whose forecast rate (per second, h buckets ahead as in {@link forecastRate})
   * exceeds `capacityPerSec`, highest forecast first.
   */
  scaleUp(capacityPerSec: number, now: number, h = 1): { key: string; ratePerSec: number }[] {
    this.advance(now);
    const over: { key: string; ratePerSec: number }[] = [];
    for (const key of this.models.keys()) {
      const ratePerSec = this.forecastRate(key, now, h);
      if (ratePerSec > capacityPerSec) over.push({ key, ratePerSec });
    }
    return over.sort((a, b) => b.ratePerSec - a.ratePerSec || (a.key < b.key ? -1 : 1));
  }
}
