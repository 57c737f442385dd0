/**
 * Anomaly evaluation: relayer/traffic's AnomalyDetector (default options) fed every call of the
 * trace in time order, as the relayer would: request(identity, path, now) per call; for a call it
 * did not throttle, outcome(identity, caller-attributable 4xx?, now) (throttled calls are not
 * forwarded, so they have no outcome).
 *
 * Scored per call against the trace's ground truth (a call is abusive iff it is the abusive
 * client's, inside its abuse window):
 *   precision = throttled abusive calls / throttled calls (all identities, the whole run:
 *               diurnal peaks, the flash crowd, heavy legitimate clients included);
 *   recall    = throttled abusive calls / abusive calls.
 * Also reported: legitimate identities throttled at least once, and the detection delay (time
 * from the abuse's start to its first throttled call).
 */
import { AnomalyDetector } from "../../relayer/traffic/anomaly.js";
import type { Trace } from "./traces.js";

export interface AnomalyResult {
  readonly precision: number;
  readonly recall: number;
  readonly throttled: number;
  readonly abusiveCalls: number;
  readonly throttledAbusive: number;
  /** Throttled calls of well-behaved clients during the flash crowd. */
  readonly throttledInSpike: number;
  /** Well-behaved identities (the abusive one excluded) throttled at least once. */
  readonly legitIdentitiesThrottled: number;
  readonly identities: number;
  /** Abuse start to the first throttled abusive call, ms (NaN if never). */
  readonly detectionDelayMs: number;
}

export function evaluateAnomaly(trace: Trace): AnomalyResult {
  const detector = new AnomalyDetector();
  let throttled = 0;
  let abusiveCalls = 0;
  let throttledAbusive = 0;
  let throttledInSpike = 0;
  let firstDetection = NaN;
  const legitThrottled = new Set<number>();
  const seen = new Set<number>();
  for (const call of trace.calls) {
    const identity = trace.clients[call.client]!.id;
    seen.add(call.client);
    const path = call.get ? call.key : `${trace.apis[call.api]}/submit`;
    const decision = detector.request(identity, path, call.t);
    if (call.abusive) abusiveCalls++;
    if (!decision.throttle) {
      detector.outcome(identity, call.callerError, call.t);
      continue;
    }
    throttled++;
    if (call.abusive) {
      throttledAbusive++;
      if (Number.isNaN(firstDetection)) firstDetection = call.t;
    } else {
      if (call.client !== trace.abusiveClient) legitThrottled.add(call.client);
      if (call.t >= trace.spikeWindow.start && call.t < trace.spikeWindow.end) throttledInSpike++;
    }
  }
  return {
    precision: throttled === 0 ? 0 : throttledAbusive / throttled,
    recall: abusiveCalls === 0 ? 0 : throttledAbusive / abusiveCalls,
    throttled,
    abusiveCalls,
    throttledAbusive,
    throttledInSpike,
    legitIdentitiesThrottled: legitThrottled.size,
    identities: seen.size,
    detectionDelayMs: firstDetection - trace.abuseWindow.start,
  };
}
