// Shared paths and constants for the circuit build scripts (circuits/*.ts).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CIRCUITS_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = dirname(CIRCUITS_DIR);

/** Powers of tau size: 2^13 = 8192 >= constraints + public inputs of access.circom. */
export const PTAU_POWER = 13;
export const PTAU_FILE = join(CIRCUITS_DIR, "ptau", `pot${PTAU_POWER}_final.ptau`);

/**
 * Public, fixed beacons of the DETERMINISTIC DEV setup.
 * sha256("meshgate dev setup v1: INSECURE, public beacon"). Anyone can recompute the toxic
 * waste from them: never use the resulting keys for anything of value.
 */
export const DEV_BEACON_HASH = "8b799ffaf62c8899633dcd422d62af4ee0588daba254cecc2944276275777424";
/** The beacon hashes itself 2^DEV_BEACON_ITERATIONS_EXP times (snarkjs convention). */
export const DEV_BEACON_ITERATIONS_EXP = 10;

export const ARTIFACTS_DIR = join(CIRCUITS_DIR, "artifacts");
/** Files committed in circuits/artifacts/ and listed in MANIFEST.json. */
export const ARTIFACT_FILES = ["access.wasm", "access.zkey", "verification_key.json"] as const;
/** The generated Groth16 verifier lives with the contracts that use it. */
export const VERIFIER_FILE = join(ROOT_DIR, "contracts", "access", "AccessVerifierGroth16.sol");

/** Path inside an installed package (bypasses "exports", which hides snarkjs/templates). */
export function packagePath(pkg: string, ...parts: string[]): string {
  return join(ROOT_DIR, "node_modules", pkg, ...parts);
}

/** snarkjs's Groth16 Solidity verifier template (EJS text). */
export function groth16Template(): string {
  return readFileSync(packagePath("snarkjs", "templates", "verifier_groth16.sol.ejs"), "utf8");
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export const INSECURE_WARNING = [
  "",
  "#".repeat(78),
  "#  WARNING: INSECURE DEVELOPMENT TRUSTED SETUP",
  "#  The powers of tau and the zkey come from a PUBLIC, FIXED beacon, with no secret",
  "#  contribution. Anyone can recompute the toxic waste and forge proofs for ANY",
  "#  public inputs. Use these keys only for development and tests. Production keys",
  "#  must come from a real ceremony: see circuits/ceremony.md.",
  "#".repeat(78),
  "",
].join("\n");

/** Quiet logger for snarkjs: only warnings and errors. */
export const quietLogger = {
  debug: (): void => {},
  info: (): void => {},
  warn: (msg: string): void => console.warn(msg),
  error: (msg: string): void => console.error(msg),
};

/** True when the module at `filename` is the script Node was started with. */
export function isMain(filename: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === filename;
}
