import { InFlight } from "../in-flight.js";
import { powerOfTwoChoices } from "../p2c.js";
import type { Candidate, RoutingPolicy, Rng } from "../types.js";

/**
 * Envoy's least-request balancer (equal weights): power of two choices over the in-flight call
 * count. Load-aware but latency- and error-blind: the baseline that isolates what peak-EWMA's
 * learned estimates add.
 */
export function leastRequest(rng: Rng): RoutingPolicy {
  const inFlight = new InFlight();
  return {
    name: "least-request",
    pick(candidates: readonly Candidate[]): Candidate {
      return powerOfTwoChoices(candidates, (c) => inFlight.of(c.id), rng);
    },
    onStart(id: string) {
      inFlight.start(id);
    },
    onResult(id: string) {
      inFlight.end(id);
    },
  };
}
