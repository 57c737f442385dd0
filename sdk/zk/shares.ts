/**
 * RLN share recovery. Each proof reveals one point (x, y) of the line y = secret + a1 * x, where
 * a1 depends on (secret, API, epoch, message index) and the nullifier is Poseidon(a1). A member
 * that reuses a message index in an epoch (i.e. calls more than its limit) publishes two points
 * with the same nullifier and different x: the line, hence its secret, follows.
 */
import { inverse, mod } from "./field.js";
import type { AccessSignals } from "./signals.js";

export type Share = Pick<AccessSignals, "x" | "y" | "nullifier">;

export class ShareRecoveryError extends Error {
  constructor(
    readonly code: "DIFFERENT_NULLIFIERS" | "SAME_X",
    message: string,
  ) {
    super(message);
  }
}

/** The identity secret behind two shares of one nullifier at different x. */
export function recoverSecret(a: Share, b: Share): bigint {
  if (a.nullifier !== b.nullifier) {
    throw new ShareRecoveryError("DIFFERENT_NULLIFIERS", "shares of different nullifiers reveal nothing");
  }
  if (mod(a.x) === mod(b.x)) {
    throw new ShareRecoveryError("SAME_X", "two shares at the same x are one point (a replay, not an overuse)");
  }
  const slope = mod((b.y - a.y) * inverse(b.x - a.x));
  return mod(a.y - slope * a.x);
}
