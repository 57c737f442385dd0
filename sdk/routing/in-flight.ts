/** Calls started and not yet ended, per candidate id: the load signal of least-request and peak-EWMA. */
export class InFlight {
  private readonly counts = new Map<string, number>();

  of(id: string): number {
    return this.counts.get(id) ?? 0;
  }

  start(id: string): void {
    this.counts.set(id, this.of(id) + 1);
  }

  /** Floors at zero: a result without a matching start must not make a node look less loaded. */
  end(id: string): void {
    this.counts.set(id, Math.max(0, this.of(id) - 1));
  }
}
