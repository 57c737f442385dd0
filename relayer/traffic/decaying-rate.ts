/**
 * An exponentially decaying event rate (a time-based EWMA): each event adds weight/τ and everything decays
 * by e^{−Δt/τ}. For a steady stream of r events per second the estimate converges to r (after a few τ);
 * one event alone reads 1/τ. Unlike a per-event EWMA of inter-arrival gaps, it also falls while nothing
 * happens, which is what a rate seen at an arbitrary `now` should do.
 */
export class DecayingRate {
  /** Σ weight · e^{−(t − tᵢ)/τ} as of `at`: decayed events, dimensionless. */
  private mass = 0;
  private at = -Infinity;

  /** `tauMs`: time constant in ms (the mean age of the events the estimate reflects). */
  constructor(readonly tauMs: number) {
    if (!(tauMs > 0)) throw new RangeError(`tauMs must be positive, got ${tauMs}`);
  }

  /** Adds `weight` events at `now` (ms; non-decreasing across calls, an earlier `now` counts as the last). */
  add(now: number, weight = 1): void {
    this.mass = this.decayed(now) + weight;
    this.at = Math.max(this.at, now);
  }

  /** The rate at `now`, in events per second. */
  perSecond(now: number): number {
    return (this.decayed(now) * 1000) / this.tauMs;
  }

  private decayed(now: number): number {
    return this.mass === 0 ? 0 : this.mass * Math.exp(-Math.max(0, now - this.at) / this.tauMs);
  }
}
