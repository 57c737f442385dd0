/**
 * Forecast evaluation: one relayer/traffic RateForecaster (additive Holt-Winters per API) fed
 * with every call's timestamp, in trace order, as the relayer would see them. Buckets are 1/24 of
 * a simulated day (a season of 24 buckets). At the start of each bucket the forecaster's one-step
 * forecast for that bucket is taken, before any of the bucket's calls are recorded, and compared
 * with the bucket's actual count. Scored: every (API, bucket) pair once Holt-Winters has seen two
 * seasons (days 3 and 4: the spike and the abuse included). Baseline in the same run: the
 * seasonal-naive forecast (the same bucket one day earlier).
 */
import { Mape } from "../../relayer/traffic/mape.js";
import { RateForecaster } from "../../relayer/traffic/holt-winters.js";
import type { Trace } from "./traces.js";

export interface ForecastResult {
  /** MAPE (%) of the Holt-Winters forecasts over the scored (API, bucket) pairs. */
  readonly mape: number;
  /** MAPE (%) of the seasonal-naive baseline over the same pairs. */
  readonly seasonalNaiveMape: number;
  /** Pairs scored (non-zero actuals) and skipped (zero actuals). */
  readonly scored: number;
  readonly skipped: number;
}

export function evaluateForecast(trace: Trace): ForecastResult {
  const { dayMs, days, bucketsPerDay } = trace.scenario;
  const bucketMs = dayMs / bucketsPerDay;
  const buckets = days * bucketsPerDay;
  const firstScored = 2 * bucketsPerDay;
  const apis = trace.apis;
  const forecaster = new RateForecaster({ bucketMs, holtWinters: { period: bucketsPerDay } });
  // actual[a][b], forecast[a][b]: calls of API a in bucket b, and the forecast made at its start.
  const actual = apis.map(() => new Float64Array(buckets));
  const forecast = apis.map(() => new Float64Array(buckets));
  let open = -1;
  const openBucket = (b: number): void => {
    for (; open < b;) {
      open++;
      const start = open * bucketMs;
      apis.forEach((api, a) => (forecast[a]![open] = forecaster.forecastRate(api, start, 1) * (bucketMs / 1000)));
    }
  };
  for (const call of trace.calls) {
    const b = Math.min(buckets - 1, Math.floor(call.t / bucketMs));
    openBucket(b);
    forecaster.record(apis[call.api]!, call.t);
    actual[call.api]![b]!++;
  }
  const hw = new Mape();
  const naive = new Mape();
  apis.forEach((_, a) => {
    for (let b = firstScored; b < buckets; b++) {
      hw.add(actual[a]![b]!, forecast[a]![b]!);
      naive.add(actual[a]![b]!, actual[a]![b - bucketsPerDay]!);
    }
  });
  return { mape: hw.value, seasonalNaiveMape: naive.value, scored: hw.count, skipped: hw.skipped };
}
