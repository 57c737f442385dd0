/** The access circuit's public signals and proofs, in snarkjs's and in the contracts' shapes. */
import type { Groth16Proof } from "snarkjs";

/**
 * What a proof states, by name. The circuit packs apiId, epoch and userMessageLimit into one
 * public input, scope = apiId << 80 | epoch << 16 | userMessageLimit, so its public signals are
 * [y, nullifier, root, scope, x] (circuits/README.md).
 */
export interface AccessSignals {
  y: bigint;
  nullifier: bigint;
  root: bigint;
  apiId: bigint;
  epoch: bigint;
  userMessageLimit: bigint;
  x: bigint;
}

/** Bit widths of the scope's parts (circuits/access.circom: Access(20, 170, 64, 16)). */
export const SCOPE_BITS = { apiId: 170n, epoch: 64n, userMessageLimit: 16n } as const;

/** Number of public signals of the circuit. */
export const PUBLIC_SIGNAL_COUNT = 5;

export class ScopeRangeError extends RangeError {
  readonly code = "SCOPE_OUT_OF_RANGE";
}

export function packScope(apiId: bigint, epoch: bigint, userMessageLimit: bigint): bigint {
  for (const [name, v] of Object.entries({ apiId, epoch, userMessageLimit })) {
    const bits = SCOPE_BITS[name as keyof typeof SCOPE_BITS];
    if (v < 0n || v >> bits !== 0n) throw new ScopeRangeError(`${name} ${v} does not fit ${bits} bits`);
  }
  return (apiId << 80n) | (epoch << 16n) | userMessageLimit;
}

function unpackScope(scope: bigint): Pick<AccessSignals, "apiId" | "epoch" | "userMessageLimit"> {
  return { apiId: scope >> 80n, epoch: (scope >> 16n) & ((1n << 64n) - 1n), userMessageLimit: scope & 0xffffn };
}

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

/** Named signals from snarkjs's public signals [y, nullifier, root, scope, x]. */
export function signalsFromPublic(publicSignals: readonly string[]): AccessSignals {
  if (publicSignals.length !== PUBLIC_SIGNAL_COUNT) {
    throw new RangeError(`expected ${PUBLIC_SIGNAL_COUNT} public signals, got ${publicSignals.length}`);
  }
  const [y, nullifier, root, scope, x] = publicSignals.map((s) => BigInt(s)) as [
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  return { y, nullifier, root, ...unpackScope(scope), x };
}

/** The circuit's public signals [y, nullifier, root, scope, x] (throws ScopeRangeError). */
export function publicSignalValues(s: AccessSignals): bigint[] {
  return [s.y, s.nullifier, s.root, packScope(s.apiId, s.epoch, s.userMessageLimit), s.x];
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
