import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { mersenne } from "pure-rand/generator/mersenne";
import type { Rng } from "./types.js";

/**
 * A seeded Rng: the same seed gives the same stream on every platform, unlike Math.random, so
 * simulations and tests replay exactly. Mersenne Twister rather than pure-rand's faster
 * xoroshiro128+: the latter puts a small seed straight into its state, so its first draws for
 * seeds like 7 or 42 are all about 0.99999 and a router's first choices would not be random.
 */
export function seededRng(seed: number): Rng {
  const generator = mersenne(seed);
  return { next: () => uniformFloat64(generator) };
}

/**
 * A uniform integer in [from, to] (both included) from one draw of `rng`. The draw has 53 random
 * bits, so the modulo-style bias of flooring is below 2^-40 for any range a router uses.
 */
export function uniformInt(rng: Rng, from: number, to: number): number {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to)
    throw new RangeError(`uniformInt needs integers from <= to (got ${from}, ${to})`);
  return from + Math.floor(rng.next() * (to - from + 1));
}
