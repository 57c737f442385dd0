import { uniformInt } from "./rng.js";
import type { Rng } from "./types.js";

/**
 * Power of two choices (Mitzenmacher; Envoy's least-request, Finagle/Linkerd's balancers): draw
 * two distinct items uniformly, keep the cheaper one (the first drawn on a tie). Comparing two
 * random items instead of scanning for the cheapest avoids herding every call onto the single
 * best-looking node while still avoiding the bad ones exponentially well.
 * A single item is returned without drawing, so the Rng stream only advances on real choices.
 */
export function powerOfTwoChoices<T>(items: readonly T[], cost: (item: T) => number, rng: Rng): T {
  if (items.length === 0) throw new RangeError("power of two choices needs at least one item");
  if (items.length === 1) return items[0]!;
  const i = uniformInt(rng, 0, items.length - 1);
  // Draw the second among the other n - 1 items, so the two are distinct.
  const drawn = uniformInt(rng, 0, items.length - 2);
  const j = drawn >= i ? drawn + 1 : drawn;
  const first = items[i]!;
  const second = items[j]!;
  return cost(second) < cost(first) ? second : first;
}
