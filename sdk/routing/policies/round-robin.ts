import type { Candidate, RoutingPolicy } from "../types.js";

/**
 * Round-robin: the i-th call goes to candidates[i mod n]. Learns nothing; the evaluation's
 * baseline and the policy every subject gets when the peak-EWMA flag does not cover it.
 */
export function roundRobin(): RoutingPolicy {
  let calls = 0;
  return {
    name: "round-robin",
    pick(candidates: readonly Candidate[]): Candidate {
      if (candidates.length === 0) throw new RangeError("round-robin needs at least one candidate");
      const chosen = candidates[calls % candidates.length]!;
      calls += 1;
      return chosen;
    },
    onStart() {},
    onResult() {},
  };
}
