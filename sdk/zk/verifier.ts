/**
 * Off-chain verification of access proofs with the committed verification key: the Groth16
 * check AccessVerifierGroth16 runs on-chain (and snarkjs.groth16.verify runs), on the BN254
 * WebAssembly of ffjavascript (snarkjs's curve), with the key prepared once: e(alpha, beta) and
 * the G2 line coefficients of gamma and delta are precomputed, and everything runs on the
 * calling thread (snarkjs's verify dispatches to worker threads, which costs more than the
 * math at this size). It checks the proof only; the relayer adds the context rules
 * AccessVerifier adds on-chain (known root, epoch, limit, nullifier).
 */
import { readFile } from "node:fs/promises";
import * as snarkjs from "snarkjs";
import type { Bn128Curve, CurvePoint } from "snarkjs";
import { ACCESS_ARTIFACTS } from "./artifacts.js";
import { isFieldElement } from "./field.js";
import { PUBLIC_SIGNAL_COUNT, publicSignalValues, type AccessProof } from "./signals.js";

interface VerificationKeyJson {
  protocol: string;
  curve: string;
  nPublic: number;
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
}

/** BN254 base field modulus: proof coordinates must be below it. */
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

const coordinate = (x: string): bigint => {
  const v = BigInt(x);
  // ffjavascript would reduce v mod p and accept; the EVM precompiles (and so the on-chain
  // verifier) reject it. Refuse here too, so a proof valid off-chain is valid on-chain.
  if (v < 0n || v >= BASE_FIELD) throw new RangeError("proof coordinate outside the base field");
  return v;
};

const big = (xs: readonly (string | readonly string[])[]): (bigint | bigint[])[] =>
  xs.map((x) => (typeof x === "string" ? coordinate(x) : x.map(coordinate)));

export class AccessProofVerifier {
  private constructor(
    private readonly curve: Bn128Curve,
    private readonly ic0: CurvePoint,
    private readonly ic: readonly CurvePoint[],
    private readonly gammaPrepared: Uint8Array,
    private readonly deltaPrepared: Uint8Array,
    /** e(alpha, beta)^-1: a valid proof makes e(-A, B) e(L, gamma) e(C, delta) equal it. */
    private readonly alphaBetaInv: Uint8Array,
  ) {}

  static async load(path: string = ACCESS_ARTIFACTS.verificationKey): Promise<AccessProofVerifier> {
    const vk = JSON.parse(await readFile(path, "utf8")) as VerificationKeyJson;
    if (vk.protocol !== "groth16" || vk.curve !== "bn128" || vk.nPublic !== PUBLIC_SIGNAL_COUNT) {
      throw new Error(`${path}: not a Groth16 BN254 key with ${PUBLIC_SIGNAL_COUNT} public signals`);
    }
    // Verification runs on the calling thread; a single-threaded curve starts no worker threads
    // (snarkjs's shared curve would keep a relayer process alive after it stops).
    const curve = await snarkjs.curves.getCurveFromName("bn128", { singleThread: true });
    const { G1, G2 } = curve;
    const [ic0, ...ic] = vk.IC.map((p) => G1.fromObject(big(p)));
    if (ic0 === undefined) throw new Error(`${path}: no IC points`);
    const prepare2 = (p: string[][]): Uint8Array => curve.prepareG2(G2.toJacobian(G2.fromObject(big(p))));
    const alphaBeta = curve.pairing(G1.fromObject(big(vk.vk_alpha_1)), G2.fromObject(big(vk.vk_beta_2)));
    return new AccessProofVerifier(
      curve,
      ic0,
      ic,
      prepare2(vk.vk_gamma_2),
      prepare2(vk.vk_delta_2),
      curve.Gt.inv(alphaBeta),
    );
  }

  /** True when the proof is valid for its public signals. Malformed proofs are invalid. */
  verify(p: AccessProof): boolean {
    const { curve } = this;
    const { G1, G2 } = curve;
    let signals: bigint[];
    let a: CurvePoint, b: CurvePoint, c: CurvePoint;
    try {
      signals = publicSignalValues(p.signals);
      // Affine points only (z = 1, as snarkjs writes them): ffjavascript would rescale by another
      // z, which the on-chain verifier ignores, so such a proof must not pass here either.
      if (!affine(p.proof.pi_a, "1") || !affine(p.proof.pi_c, "1") || !affine(p.proof.pi_b, '["1","0"]')) return false;
      a = G1.fromObject(big(p.proof.pi_a));
      b = G2.fromObject(big(p.proof.pi_b));
      c = G1.fromObject(big(p.proof.pi_c));
    } catch {
      return false;
    }
    if (!signals.every(isFieldElement)) return false;
    if (!G1.isValid(a) || !G2.isValid(b) || !G1.isValid(c)) return false;
    // L = IC0 + sum(signal_i * IC_i): the public part of the statement.
    let l = this.ic0;
    signals.forEach((s, i) => {
      l = G1.add(l, G1.timesScalar(this.ic[i] as CurvePoint, s));
    });
    const prepare1 = (q: CurvePoint): Uint8Array => curve.prepareG1(G1.toJacobian(q));
    const miller = curve.Gt.mul(
      curve.Gt.mul(
        curve.millerLoop(prepare1(G1.neg(a)), curve.prepareG2(G2.toJacobian(b))),
        curve.millerLoop(prepare1(l), this.gammaPrepared),
      ),
      curve.millerLoop(prepare1(c), this.deltaPrepared),
    );
    return curve.Gt.eq(curve.finalExponentiation(miller), this.alphaBetaInv);
  }
}

/** Releases snarkjs's worker threads (the BN254 curve); call once when done proving/verifying. */
export async function releaseZkThreads(): Promise<void> {
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  await curve.terminate();
}

/** Whether a snarkjs point has no third coordinate, or the given one (G1 "1", G2 ["1","0"]). */
function affine(point: unknown, one: string): boolean {
  if (!Array.isArray(point)) return true; // malformed: left to the parser below
  return point.length < 3 || JSON.stringify(point[2]) === (one.startsWith("[") ? one : JSON.stringify(one));
}
