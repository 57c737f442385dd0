/**
 * Outlier ejection with half-open probing (Envoy's outlier detection, a circuit breaker) for one
 * candidate. Healthy -> ejected after `consecutiveFailures` failures in a row, or on a failure
 * that leaves the error rate at or above `errorRate` once `minSamples` outcomes back it (Envoy's
 * success-rate request volume, so two early failures cannot eject). An ejection lasts
 * baseMs * 2^(ejections - 1), capped at maxMs; the count restarts once a candidate has stayed
 * restored for maxMs (Envoy decays its ejection multiplier the same way). When the backoff ends
 * the candidate is "probe-ready": exactly one call is let through ("probing"); its success
 * restores the candidate, its failure ejects it again for a doubled backoff.
 */
export interface EjectionOptions {
  readonly consecutiveFailures: number;
  readonly errorRate: number;
  readonly minSamples: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export type Health = "healthy" | "ejected" | "probe-ready" | "probing";

/** What an outcome did to the candidate's health. */
export type Transition = "none" | "ejected" | "restored";

export class Ejection {
  private failuresInARow = 0;
  private ejections = 0;
  private ejectedUntil: number | undefined;
  private probing = false;
  private restoredAt: number | undefined;

  constructor(private readonly options: EjectionOptions) {}

  health(now: number): Health {
    if (this.ejectedUntil === undefined) return "healthy";
    if (this.probing) return "probing";
    return now >= this.ejectedUntil ? "probe-ready" : "ejected";
  }

  /** The probe call was handed out; no other call goes to the candidate until it returns. */
  startProbe(): void {
    this.probing = true;
  }

  /**
   * Records an outcome; `errorRate` and `samples` are the error estimate after it. While
   * ejected, only the probe's outcome counts: results of calls started before the ejection
   * carry no news about whether the node has recovered.
   */
  onResult(ok: boolean, now: number, errorRate: number, samples: number): Transition {
    if (this.ejectedUntil !== undefined) {
      if (!this.probing) return "none";
      this.probing = false;
      if (!ok) return this.eject(now);
      this.ejectedUntil = undefined;
      this.restoredAt = now;
      return "restored";
    }
    if (ok) {
      this.failuresInARow = 0;
      return "none";
    }
    this.failuresInARow += 1;
    const tooManyInARow = this.failuresInARow >= this.options.consecutiveFailures;
    const tooManyOverall = samples >= this.options.minSamples && errorRate >= this.options.errorRate;
    return tooManyInARow || tooManyOverall ? this.eject(now) : "none";
  }

  private eject(now: number): Transition {
    if (this.restoredAt !== undefined && now - this.restoredAt >= this.options.maxMs) this.ejections = 0;
    this.ejections += 1;
    const backoff = Math.min(this.options.baseMs * 2 ** (this.ejections - 1), this.options.maxMs);
    this.ejectedUntil = now + backoff;
    this.failuresInARow = 0;
    return "ejected";
  }
}
