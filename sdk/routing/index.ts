/** Routing: pick a node (consumer SDK) or an upstream replica (relayer) per call. */
export type { CallContext, Candidate, Outcome, RoutingPolicy, Rng } from "./types.js";
export { seededRng, uniformInt } from "./rng.js";
export { expectedRttMs, SAME_REGION_RTT_MS, UNKNOWN_RTT_MS } from "./geo.js";
export { DecayingEwma, type EwmaOptions } from "./ewma.js";
export { Ejection, type EjectionOptions, type Health, type Transition } from "./ejection.js";
export { powerOfTwoChoices } from "./p2c.js";
export { roundRobin } from "./policies/round-robin.js";
export { randomPolicy } from "./policies/random.js";
export { leastRequest } from "./policies/least-request.js";
export {
  DEFAULT_PEAK_EWMA_OPTIONS,
  peakEwma,
  peakEwmaCost,
  reputationErrorPrior,
  type PeakEwmaOptions,
} from "./policies/peak-ewma.js";
export {
  isEnabledFor,
  PEAK_EWMA_FLAG,
  PEAK_EWMA_FLAG_NAME,
  rolloutBucket,
  routingPolicyFor,
  type RolloutFlag,
} from "./select.js";
export { readCandidates, readRolloutFlag, routingPolicyFromChain } from "./on-chain.js";
