/**
 * A time-decayed exponentially weighted moving average that starts from a prior: the estimator
 * behind peak-EWMA's latency (with `peak`) and its error rate (without).
 *
 * With `v` the current value (see `value`), `dt` the time since the previous sample, `n` the
 * samples seen including this one and `k` = priorWeight, a sample `x` updates the estimate to
 *   x                                  if peak and x > v   (Finagle: jump to a new peak at once)
 *   v + a * (x - v),  a = max(1 - exp(-dt / decayMs), 1 / (k + n))   otherwise.
 * The time weight `1 - exp(-dt / decayMs)` makes the average forget at a fixed rate in time
 * whatever the call rate (Finagle's PeakEwma). The floor `1 / (k + n)` is a warm-up: until
 * samples have covered about one time constant the estimate is the plain mean of the prior
 * (counted as k samples) and the samples, so the prior's weight decays as samples arrive instead
 * of lingering because samples came close together.
 *
 * Between samples the value relaxes back towards the prior:
 *   value(now) = prior + (estimate - prior) * exp(-(now - lastSample) / restMs).
 * Evidence that is not refreshed goes stale; this is Finagle's decay-on-read (which decays
 * towards zero, at decayMs) with the prior as the resting point and its own, slower time
 * constant. It is what re-explores a node that got no calls because it looked bad: its cost
 * drifts back to the prior, it wins a choice again and gets re-measured. Each such exploration
 * sends calls to a node that is probably still bad, so restMs trades tail latency against how
 * soon a node that got faster is noticed.
 */
export interface EwmaOptions {
  /** Time constant, ms: a sample `decayMs` old has weight 1/e of a fresh one. */
  readonly decayMs: number;
  /** Time constant of the relaxation towards the prior while no samples arrive, ms. */
  readonly restMs: number;
  /** The prior counts as this many samples during the warm-up. */
  readonly priorWeight: number;
  /** Jump to any sample above the current value (latency); plain average otherwise (errors). */
  readonly peak: boolean;
}

export class DecayingEwma {
  private estimate: number;
  private lastSampleAt: number | undefined;
  private count = 0;

  constructor(
    private readonly prior: number,
    private readonly options: EwmaOptions,
  ) {
    this.estimate = prior;
  }

  /** Samples observed so far. */
  get samples(): number {
    return this.count;
  }

  /** The estimate at `now`, relaxed towards the prior for the time since the last sample. */
  value(now: number): number {
    return this.prior + (this.estimate - this.prior) * this.sinceLastSample(now, this.options.restMs);
  }

  observe(sample: number, now: number): void {
    const current = this.value(now);
    this.count += 1;
    if (this.options.peak && sample > current) {
      this.estimate = sample;
    } else {
      const timeWeight = 1 - this.sinceLastSample(now, this.options.decayMs);
      const weight = Math.max(timeWeight, 1 / (this.options.priorWeight + this.count));
      this.estimate = current + weight * (sample - current);
    }
    this.lastSampleAt = now;
  }

  /** exp(-dt / tauMs) for the time since the last sample; 1 before the first (a prior does not age). */
  private sinceLastSample(now: number, tauMs: number): number {
    if (this.lastSampleAt === undefined) return 1;
    return Math.exp(-Math.max(0, now - this.lastSampleAt) / tauMs);
  }
}
