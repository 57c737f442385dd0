/** The access circuit's public signals and proofs, in snarkjs's and in the contracts' shapes. */
import type { Groth16Proof } from "snarkjs";

/** Public signals by name, in circuit order (circuits/README.md). */
export interface AccessSignals {
  y: bigint;
  nullifier: bigint;
  root: bigint;
  apiId: bigint;
  epoch: bigint;
  userMessageLimit: bigint;
  x: bigint;
}

export const SIGNAL_ORDER = ["y", "nullifier", "root", "apiId", "epoch", "userMessageLimit", "x"] as const;

/** A proof with its public signals. */
export interface AccessProof {
  proof: Groth16Proof;
  signals: AccessSignals;
}

/** The proof as AccessVerifier takes it (IAccessVerifier.AccessProof): b's coordinates swapped. */
export interface SolidityProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

export function signalsFromPublic(publicSignals: readonly string[]): AccessSignals {
  if (publicSignals.length !== SIGNAL_ORDER.length) {
    throw new RangeError(`expected ${SIGNAL_ORDER.length} public signals, got ${publicSignals.length}`);
  }
  const v = publicSignals.map((s) => BigInt(s));
  const at = (i: number): bigint => v[i] as bigint;
  return { y: at(0), nullifier: at(1), root: at(2), apiId: at(3), epoch: at(4), userMessageLimit: at(5), x: at(6) };
}

export function signalsToPublic(s: AccessSignals): string[] {
  return SIGNAL_ORDER.map((name) => s[name].toString());
}

export function toSolidityProof(p: Groth16Proof): SolidityProof {
  const n = (xs: readonly string[] | undefined, i: number): bigint => {
    const v = xs?.[i];
    if (v === undefined) throw new RangeError("malformed Groth16 proof");
    return BigInt(v);
  };
  return {
    a: [n(p.pi_a, 0), n(p.pi_a, 1)],
    b: [
      [n(p.pi_b[0], 1), n(p.pi_b[0], 0)],
      [n(p.pi_b[1], 1), n(p.pi_b[1], 0)],
    ],
    c: [n(p.pi_c, 0), n(p.pi_c, 1)],
  };
}
