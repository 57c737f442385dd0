import { uniformInt } from "../rng.js";
import type { Candidate, RoutingPolicy, Rng } from "../types.js";

/** Uniformly random choice from a seeded Rng: the evaluation's no-information baseline. */
export function randomPolicy(rng: Rng): RoutingPolicy {
  return {
    name: "random",
    pick(candidates: readonly Candidate[]): Candidate {
      if (candidates.length === 0) throw new RangeError("random needs at least one candidate");
      return candidates[uniformInt(rng, 0, candidates.length - 1)]!;
    },
    onStart() {},
    onResult() {},
  };
}
