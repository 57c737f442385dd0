/**
 * Mean absolute percentage error, for reporting forecast accuracy.
 *
 * MAPE = 100 / n · Σ |actual − forecast| / |actual| over the pairs with a non-zero actual. Pairs with a zero
 * actual are skipped (and counted in `skipped`): their percentage error is undefined (division by zero), and
 * replacing them with some epsilon would let a handful of idle buckets dominate the mean. So the figure
 * describes accuracy on buckets that had traffic; report `skipped` next to it.
 */
export class Mape {
  private sum = 0;
  private counted = 0;
  private zeros = 0;

  /** Adds one (actual, forecast) pair. */
  add(actual: number, forecast: number): void {
    if (!Number.isFinite(actual) || !Number.isFinite(forecast)) {
      throw new RangeError(`actual and forecast must be finite, got ${actual} and ${forecast}`);
    }
    if (actual === 0) {
      this.zeros++;
      return;
    }
    this.sum += Math.abs(actual - forecast) / Math.abs(actual);
    this.counted++;
  }

  /** MAPE in percent (12.5 means 12.5 %); NaN while no pair with a non-zero actual was added. */
  get value(): number {
    return this.counted === 0 ? NaN : (100 * this.sum) / this.counted;
  }

  /** Pairs that entered the mean. */
  get count(): number {
    return this.counted;
  }

  /** Pairs skipped for a zero actual. */
  get skipped(): number {
    return this.zeros;
  }
}

/** MAPE in percent of two equally long series (see {@link Mape} for zero actuals); NaN if all actuals are 0. */
export function mape(actual: readonly number[], forecast: readonly number[]): number {
  if (actual.length !== forecast.length) {
    throw new RangeError(`series lengths differ: ${actual.length} actuals, ${forecast.length} forecasts`);
  }
  const acc = new Mape();
  actual.forEach((a, i) => acc.add(a, forecast[i] ?? NaN));
  return acc.value;
}
