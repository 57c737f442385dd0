/**
 * A warm Groth16 prover for the access circuit: the witness calculator (compiled WebAssembly)
 * and the proving key are loaded once, so each call only computes a witness and a proof. A
 * relayer's client SDK calls `prove` for every anonymous request.
 */
import { readFile } from "node:fs/promises";
import { WitnessCalculatorBuilder, type WitnessCalculator } from "circom_runtime";
import * as snarkjs from "snarkjs";
import { ACCESS_ARTIFACTS, type CircuitArtifacts } from "./artifacts.js";
import { isFieldElement } from "./field.js";
import type { MerkleProof } from "./group-tree.js";
import type { Identity } from "./identity.js";
import { packScope, signalsFromPublic, type AccessProof } from "./signals.js";

/** What one anonymous call proves. */
export interface AccessProofRequest {
  identity: Identity;
  /** The identity's membership proof (GroupTree.proof). */
  merkleProof: MerkleProof;
  apiId: bigint;
  epoch: bigint;
  userMessageLimit: bigint;
  /** 0 <= messageIndex < userMessageLimit; each index may be used once per epoch. */
  messageIndex: bigint;
  /** The request hash (requestHash). */
  x: bigint;
}

/** The circuit's input signals, by name (circuits/access.circom). */
export type AccessCircuitInput = Record<string, bigint | bigint[]>;

export class AccessProofInputError extends Error {
  constructor(
    readonly code: "MESSAGE_INDEX_OUT_OF_RANGE" | "LIMIT_OUT_OF_RANGE" | "NOT_A_FIELD_ELEMENT" | "SCOPE_OUT_OF_RANGE",
    message: string,
  ) {
    super(message);
  }
}

/** The circuit refused the inputs (an `===` constraint failed while computing the witness). */
export class UnsatisfiedCircuitError extends Error {
  readonly code = "CIRCUIT_UNSATISFIED";
}

/** Largest limit the circuit's 16-bit range checks allow. */
const MAX_LIMIT = 2n ** 16n - 1n;

export class AccessProver {
  private constructor(
    private readonly witnessCalculator: WitnessCalculator,
    private readonly zkey: Uint8Array,
  ) {}

  static async load(artifacts: CircuitArtifacts = ACCESS_ARTIFACTS): Promise<AccessProver> {
    const [wasm, zkey] = await Promise.all([readFile(artifacts.wasm), readFile(artifacts.zkey)]);
    return new AccessProver(await WitnessCalculatorBuilder(wasm), zkey);
  }

  /** Checks the request, then proves it. */
  async prove(req: AccessProofRequest): Promise<AccessProof> {
    if (req.userMessageLimit < 1n || req.userMessageLimit > MAX_LIMIT) {
      throw new AccessProofInputError("LIMIT_OUT_OF_RANGE", `userMessageLimit must be 1..${MAX_LIMIT}`);
    }
    if (req.messageIndex < 0n || req.messageIndex >= req.userMessageLimit) {
      throw new AccessProofInputError(
        "MESSAGE_INDEX_OUT_OF_RANGE",
        `messageIndex ${req.messageIndex} is not below the limit ${req.userMessageLimit}: wait for the next epoch`,
      );
    }
    if (!isFieldElement(req.x)) throw new AccessProofInputError("NOT_A_FIELD_ELEMENT", "x is not below r");
    let scope: bigint;
    try {
      scope = packScope(req.apiId, req.epoch, req.userMessageLimit);
    } catch (err) {
      throw new AccessProofInputError("SCOPE_OUT_OF_RANGE", (err as Error).message);
    }
    return this.proveInput({
      identitySecret: req.identity.secret,
      messageIndex: req.messageIndex,
      merkleProofLength: BigInt(req.merkleProof.length),
      merkleProofIndex: BigInt(req.merkleProof.index),
      merkleProofSiblings: req.merkleProof.siblings,
      apiId: req.apiId,
      epoch: req.epoch,
      userMessageLimit: req.userMessageLimit,
      root: req.merkleProof.root,
      scope,
      x: req.x,
    });
  }

  /** Proves raw circuit inputs, unchecked: the circuit alone decides (tests use this). */
  async proveInput(input: AccessCircuitInput): Promise<AccessProof> {
    let witness: Uint8Array;
    try {
      witness = await this.witnessCalculator.calculateWTNSBin(input, false);
    } catch (err) {
      throw new UnsatisfiedCircuitError(`access circuit rejected the inputs: ${(err as Error).message}`);
    }
    const { proof, publicSignals } = await snarkjs.groth16.prove(this.zkey, witness);
    return { proof, signals: signalsFromPublic(publicSignals) };
  }
}
