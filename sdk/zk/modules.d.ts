// Minimal typings for the parts of snarkjs 0.7.6, circom_runtime 0.1.28 and circomlibjs 0.1.7
// that circuits/*.ts and sdk/zk use. None of these packages ships its own declarations.

declare module "snarkjs" {
  export interface Logger {
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  }
  export interface Curve {
    terminate(): Promise<void>;
  }
  /** A point as ffjavascript stores it (Montgomery form, Jacobian or affine). */
  export type CurvePoint = Uint8Array;
  export interface CurveGroup {
    fromObject(o: (bigint | bigint[])[]): CurvePoint;
    toJacobian(p: CurvePoint): CurvePoint;
    isValid(p: CurvePoint): boolean;
    add(a: CurvePoint, b: CurvePoint): CurvePoint;
    neg(p: CurvePoint): CurvePoint;
    timesScalar(p: CurvePoint, s: bigint): CurvePoint;
  }
  export interface TargetGroup {
    mul(a: Uint8Array, b: Uint8Array): Uint8Array;
    inv(a: Uint8Array): Uint8Array;
    eq(a: Uint8Array, b: Uint8Array): boolean;
  }
  /** ffjavascript's WebAssembly BN254 (what getCurveFromName("bn128") returns). */
  export interface Bn128Curve extends Curve {
    G1: CurveGroup;
    G2: CurveGroup;
    Gt: TargetGroup;
    pairing(a: CurvePoint, b: CurvePoint): Uint8Array;
    prepareG1(p: CurvePoint): Uint8Array;
    prepareG2(p: CurvePoint): Uint8Array;
    millerLoop(preparedG1: Uint8Array, preparedG2: Uint8Array): Uint8Array;
    finalExponentiation(a: Uint8Array): Uint8Array;
  }
  export type SignalValue = string | number | bigint | SignalValue[];
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  export const curves: {
    getCurveFromName(name: "bn128", options?: { singleThread?: boolean }): Promise<Bn128Curve>;
  };
  export const powersOfTau: {
    newAccumulator(curve: Curve, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    beacon(
      oldPtau: string,
      newPtau: string,
      name: string,
      beaconHashStr: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<unknown>;
    verify(ptau: string, logger?: Logger): Promise<boolean>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    beacon(
      oldZkey: string,
      newZkey: string,
      name: string,
      beaconHashStr: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: string, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: string, templates: { groth16: string }, logger?: Logger): Promise<string>;
  };
  export const r1cs: {
    info(
      r1cs: string,
      logger?: Logger,
    ): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number }>;
  };
  export const groth16: {
    prove(
      zkey: Uint8Array | string,
      witness: Uint8Array | string,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(
      input: Record<string, SignalValue>,
      wasm: string,
      zkey: string,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(
      vk: Record<string, unknown>,
      publicSignals: string[],
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>;
  };
}

declare module "circomlibjs" {
  export interface Poseidon {
    (inputs: (bigint | number | string)[]): Uint8Array;
    F: { toObject(x: Uint8Array): bigint };
  }
  export function buildPoseidon(): Promise<Poseidon>;
}

declare module "circom_runtime" {
  export interface WitnessCalculator {
    calculateWTNSBin(input: Record<string, unknown>, sanityCheck: boolean): Promise<Uint8Array>;
  }
  export function WitnessCalculatorBuilder(wasm: Uint8Array): Promise<WitnessCalculator>;
}
