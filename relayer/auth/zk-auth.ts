/**
 * Anonymous access: the relayer's off-chain version of AccessVerifier's checks on the
 * `Meshgate-Proof` header of a call (circuits/access.circom, sdk/zk), plus nullifier tracking in
 * Redis shared by the node's relayer processes.
 */
import { getAddress } from "ethers";
import type { Groth16Proof } from "snarkjs";
import { z } from "zod";
import { SNARK_FIELD } from "../../sdk/zk/field.js";
import { requestHash } from "../../sdk/zk/request.js";
import { PUBLIC_SIGNAL_COUNT, signalsFromPublic, type AccessProof } from "../../sdk/zk/signals.js";
import type { AccessProofVerifier } from "../../sdk/zk/verifier.js";
import { GatewayError, orUnavailable } from "../errors.js";
import type { Admit } from "./voucher-auth.js";
import type { NullifierStore } from "../store/nullifier-store.js";

/** What AccessGroups.accessContext returns: the group's rules and whether a root is known now. */
export interface AccessContext {
  /** Seconds per epoch: epoch = timestamp / epochLength. */
  epochLength: bigint;
  userMessageLimit: bigint;
  /** `root` is the group's current root, or was replaced less than rootHistoryWindow ago. */
  rootKnown: boolean;
}

/** The access groups as the relayer sees them (relayer/chain/access-groups.ts reads the chain). */
export interface AccessGroupReader {
  /** The group of `apiId` checked against `root`; undefined when the API has no access group. */
  accessContext(apiId: bigint, root: bigint): Promise<AccessContext | undefined>;
}

/** The call a proof must authorize, as the relayer received it. */
export interface ZkCall {
  /** The API the path names. */
  apiId: bigint;
  method: string;
  /**
   * The request target exactly as received (origin-form path and query, with the leading
   * `/{apiId}`, e.g. "/1/v1/weather?city=Paris"): what the client hashed (sdk/zk/request.ts).
   */
  target: string;
  body: Uint8Array;
}

export interface ZkAuthenticatorOptions {
  verifier: AccessProofVerifier;
  groups: AccessGroupReader;
  nullifiers: NullifierStore;
  chainId: bigint;
  /** The relayer's operator (staked node) address: proofs are bound to it. */
  node: string;
  /** Wall clock, ms since the Unix epoch (default Date.now). */
  now?: () => number;
  /** How long after an epoch boundary a proof of the previous epoch is still accepted (default 5,000 ms). */
  previousEpochGraceMs?: number;
}

/** BN254 base field modulus: proof coordinates are below it (as the EVM precompiles require). */
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Longer than any well-formed header (~1.6 KB), short enough to bound the JSON parse. */
const MAX_HEADER_LENGTH = 4096;

/** Epochs a nullifier is kept beyond its own: longer than any proof of the epoch is accepted. */
const NULLIFIER_TTL_EPOCHS = 3n;

/** A canonical decimal (no sign, no leading zero) below `modulus`. */
const decimal = (modulus: bigint) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,76})$/, "not a canonical decimal string")
    .refine((s) => BigInt(s) < modulus, "not below the field modulus");

const coordinate = decimal(BASE_FIELD);
const g2Coordinate = z.tuple([coordinate, coordinate]);
// Affine, or snarkjs's projective form with z = 1. Any other z would be read differently by
// the off-chain verifier (which scales by z) and the on-chain one (which ignores it).
const g1 = z.union([z.tuple([coordinate, coordinate]), z.tuple([coordinate, coordinate, z.literal("1")])]);
const g2 = z.union([
  z.tuple([g2Coordinate, g2Coordinate]),
  z.tuple([g2Coordinate, g2Coordinate, z.tuple([z.literal("1"), z.literal("0")])]),
]);

const headerSchema = z.strictObject({
  proof: z.strictObject({
    pi_a: g1,
    pi_b: g2,
    pi_c: g1,
    // Tolerated so snarkjs's proof object can be sent as is.
    protocol: z.literal("groth16").optional(),
    curve: z.literal("bn128").optional(),
  }),
  publicSignals: z.array(decimal(SNARK_FIELD)).length(PUBLIC_SIGNAL_COUNT),
});

/**
 * The `Meshgate-Proof` header value for a proof and its public signals [y, nullifier, root,
 * scope, x]:
 *
 *     base64url(UTF-8 JSON { "proof": { "pi_a", "pi_b", "pi_c" }, "publicSignals": [5 strings] })
 *
 * base64url is RFC 4648 §5 (padding optional). Every number is a canonical decimal string:
 * coordinates below the BN254 base field, signals below the scalar field. G1 points are [x, y]
 * or snarkjs's [x, y, "1"]; G2 points [[x0, x1], [y0, y1]] or with a third ["1", "0"]. The
 * proof object may carry snarkjs's `protocol: "groth16"` and `curve: "bn128"`; nothing else is
 * allowed, and the header is at most 4,096 characters. This encoder writes affine points.
 */
export function encodeProofHeader(
  proof: Pick<Groth16Proof, "pi_a" | "pi_b" | "pi_c">,
  publicSignals: readonly (string | bigint)[],
): string {
  const json = {
    proof: {
      pi_a: proof.pi_a.slice(0, 2),
      pi_b: proof.pi_b.slice(0, 2).map((c) => c.slice(0, 2)),
      pi_c: proof.pi_c.slice(0, 2),
    },
    publicSignals: publicSignals.map(String),
  };
  return Buffer.from(JSON.stringify(json), "utf8").toString("base64url");
}

/** The proof a header carries, with affine points (throws GatewayError bad_proof). */
export function parseProofHeader(header: string): AccessProof {
  if (header.length > MAX_HEADER_LENGTH) throw new GatewayError("bad_proof", "the header is too long");
  // Buffer's decoder skips characters outside the alphabet: check the alphabet first.
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(header)) throw new GatewayError("bad_proof", "the header is not base64url");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    throw new GatewayError("bad_proof", "the header does not decode to JSON");
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GatewayError("bad_proof", issue ? `${issue.path.join(".") || "header"}: ${issue.message}` : undefined);
  }
  const { proof, publicSignals } = parsed.data;
  return {
    proof: {
      pi_a: proof.pi_a.slice(0, 2),
      pi_b: proof.pi_b.slice(0, 2),
      pi_c: proof.pi_c.slice(0, 2),
      protocol: "groth16",
      curve: "bn128",
    },
    signals: signalsFromPublic(publicSignals),
  };
}

/**
 * Checks anonymous calls: the rules of AccessVerifier._check (message limit, epoch, known root,
 * Groth16 proof), plus what only the relayer can check (the proof's request hash x is this very
 * request on this node), then consumes the nullifier. The cheap checks run first; the pairing
 * check (~8 ms on the calling thread) runs only for proofs that could pass.
 *
 * Epochs: the current epoch by the relayer's clock is accepted, and the previous one during
 * `previousEpochGraceMs` after the boundary (a proof made just before it is honest). On-chain,
 * AccessVerifier accepts the previous epoch for a whole epoch; off-chain the grace is kept short
 * so a member cannot spend two epochs' allowance in one. A future epoch is refused, as on-chain.
 */
export class ZkAuthenticator {
  private readonly verifier: AccessProofVerifier;
  private readonly groups: AccessGroupReader;
  private readonly nullifiers: NullifierStore;
  private readonly chainId: bigint;
  private readonly node: string;
  private readonly now: () => number;
  private readonly graceMs: bigint;

  constructor(opts: ZkAuthenticatorOptions) {
    const graceMs = opts.previousEpochGraceMs ?? 5_000;
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
      throw new RangeError(`previousEpochGraceMs must be a non-negative integer: ${graceMs}`);
    }
    this.verifier = opts.verifier;
    this.groups = opts.groups;
    this.nullifiers = opts.nullifiers;
    this.chainId = opts.chainId;
    this.node = getAddress(opts.node);
    this.now = opts.now ?? Date.now;
    this.graceMs = BigInt(graceMs);
  }

  /**
   * Accepts the call if `header` (the Meshgate-Proof value) proves it, consuming the proof's
   * nullifier; throws GatewayError otherwise: bad_proof, wrong_scope, wrong_request,
   * unknown_root, invalid_proof, proof_replayed or zk_limit_exceeded (in that order of checks),
   * or chain_unavailable / store_unavailable (503) when the chain or Redis cannot be read.
   */
  async authorize(call: ZkCall, header: string, admit?: Admit): Promise<{ nullifier: bigint; epoch: bigint }> {
    const proof = parseProofHeader(header);
    const s = proof.signals;
    if (s.apiId !== call.apiId) throw new GatewayError("wrong_scope", `the proof is for API ${s.apiId}`);
    const context = await orUnavailable(this.groups.accessContext(s.apiId, s.root), "chain_unavailable");
    if (context === undefined) throw new GatewayError("unknown_root", `API ${s.apiId} has no access group`);
    if (s.userMessageLimit !== context.userMessageLimit) {
      throw new GatewayError("wrong_scope", `the proof is for a limit of ${s.userMessageLimit} calls per epoch`);
    }
    this.checkEpoch(s.epoch, context.epochLength);
    if (!call.target.startsWith("/") || s.x !== this.requestHash(call)) throw new GatewayError("wrong_request");
    if (!context.rootKnown) throw new GatewayError("unknown_root");
    if (!this.verifier.verify(proof)) throw new GatewayError("invalid_proof");
    // The nullifier is the identity's per-epoch handle: what the message limit counts.
    admit?.(`zk:${s.nullifier}`, Number(context.userMessageLimit) / Number(context.epochLength));
    const ttlMs = Number(NULLIFIER_TTL_EPOCHS * context.epochLength * 1000n + this.graceMs);
    const outcome = await orUnavailable(this.nullifiers.record(s, ttlMs), "store_unavailable");
    if (outcome === "replayed") throw new GatewayError("proof_replayed");
    if (outcome === "limit_exceeded") throw new GatewayError("zk_limit_exceeded");
    return { nullifier: s.nullifier, epoch: s.epoch };
  }

  private checkEpoch(epoch: bigint, epochLength: bigint): void {
    const nowMs = BigInt(Math.floor(this.now()));
    const current = nowMs / (epochLength * 1000n);
    if (epoch === current) return;
    if (epoch + 1n === current && nowMs - current * epochLength * 1000n < this.graceMs) return;
    throw new GatewayError("wrong_scope", `the proof is for epoch ${epoch}; the current epoch is ${current}`);
  }

  private requestHash(call: ZkCall): bigint {
    return requestHash({
      chainId: this.chainId,
      node: this.node,
      method: call.method,
      target: call.target,
      body: call.body,
    });
  }
}
