/**
 * Anonymous identities: a secret field element and its public commitment Poseidon(secret), the
 * leaf a member adds to an API's access group. Whoever knows the secret can call as the member,
 * and can slash it: keep it like a private key. One identity per API keeps memberships unlinkable.
 */
import { randomBytes } from "node:crypto";
import { poseidon1 } from "poseidon-lite";
import { SNARK_FIELD, isFieldElement } from "./field.js";

export interface Identity {
  readonly secret: bigint;
  readonly commitment: bigint;
}

export class InvalidSecretError extends Error {
  readonly code = "INVALID_SECRET";
  constructor() {
    super("identity secret must be in [1, r) (the BN254 scalar field, without 0)");
  }
}

/** The identity of a known secret (0 < secret < r). */
export function identityFromSecret(secret: bigint): Identity {
  if (secret === 0n || !isFieldElement(secret)) throw new InvalidSecretError();
  return { secret, commitment: poseidon1([secret]) };
}

/** A fresh identity from the OS CSPRNG (64 random bytes reduced mod r: bias below 2^-250). */
export function createIdentity(): Identity {
  for (;;) {
    const secret = BigInt(`0x${randomBytes(64).toString("hex")}`) % SNARK_FIELD;
    if (secret !== 0n) return identityFromSecret(secret);
  }
}
