// Reproducible offline build of the access circuit (npm run zk:build).
//   1. circom2 (circom 2.2.3 as WebAssembly) --O2 -> circuits/build/ (r1cs, sym, wasm)
//   2. DETERMINISTIC DEV setup from the committed prepared ptau:
//      groth16 setup -> zkey beacon (fixed public hash, see common.ts)
//   3. verification key JSON + Solidity verifier, then the commit-worthy files are copied to
//      circuits/artifacts/ (the verifier to contracts/access/) with a MANIFEST.json of their
//      sha256.
// The same sources and ptau give byte-identical outputs (npm run zk:check verifies it).
// INSECURE: anyone can recompute the toxic waste from the public beacon. Development only.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import * as snarkjs from "snarkjs";
import {
  ARTIFACTS_DIR,
  ARTIFACT_FILES,
  CIRCUITS_DIR,
  DEV_BEACON_HASH,
  DEV_BEACON_ITERATIONS_EXP,
  INSECURE_WARNING,
  PTAU_FILE,
  PTAU_POWER,
  ROOT_DIR,
  isMain,
  quietLogger,
  sha256File,
  groth16Template,
  packagePath,
  VERIFIER_FILE,
} from "./common.js";
import { buildDevPtau } from "./ptau.js";

const CIRCUIT = "access";
const CIRCUIT_FILE = join(CIRCUITS_DIR, `${CIRCUIT}.circom`);
/** Name of the generated Solidity contract (snarkjs calls it Groth16Verifier). */
const VERIFIER_CONTRACT = "AccessVerifierGroth16";

export interface Manifest {
  warning: string;
  circuit: string;
  constraints: number;
  publicSignals: string[];
  ptau: { file: string; power: number; sha256: string };
  beacon: { hash: string; iterationsExp: number };
  tools: Record<string, string>;
  sources: Record<string, string>;
  files: Record<string, string>;
}

function pkgVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(packagePath(name, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

function compile(buildDir: string): number {
  const cli = packagePath("circom2", "cli.js");
  const res = spawnSync(
    process.execPath,
    [
      cli,
      CIRCUIT_FILE,
      "--r1cs",
      "--wasm",
      "--sym",
      "--O2",
      "-l",
      join(ROOT_DIR, "node_modules"),
      "-l",
      packagePath("circomlib", "circuits"),
      "-o",
      buildDir,
    ],
    { encoding: "utf8" },
  );
  if (res.status !== 0) {
    throw new Error(`circom2 failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
  // Strip ANSI colours before parsing the constraint count.
  // eslint-disable-next-line no-control-regex
  const out = res.stdout.replace(/\u001b\[[0-9;]*m/g, "");
  const nonLinear = /non-linear constraints: (\d+)/.exec(out);
  const linear = /(?:^|\n)linear constraints: (\d+)/.exec(out);
  if (!nonLinear || !linear) throw new Error(`cannot parse circom2 output:\n${out}`);
  return Number(nonLinear[1]) + Number(linear[1]);
}

export interface BuildPaths {
  /** Scratch directory (r1cs, sym, intermediate zkeys). */
  buildDir: string;
  /** Where ARTIFACT_FILES and MANIFEST.json go. */
  artifactsDir: string;
  /** Where the Solidity verifier goes. */
  verifierFile: string;
}

export async function build(paths: BuildPaths): Promise<Manifest> {
  const { buildDir, artifactsDir, verifierFile } = paths;
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  mkdirSync(artifactsDir, { recursive: true });
  const t0 = Date.now();
  const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  const constraints = compile(buildDir);
  console.log(`circom2: ${constraints} constraints (${elapsed()})`);
  if (constraints + 8 > 2 ** PTAU_POWER) {
    throw new Error(`${constraints} constraints do not fit 2^${PTAU_POWER}: raise PTAU_POWER`);
  }

  if (!existsSync(PTAU_FILE)) {
    console.log(`${relative(ROOT_DIR, PTAU_FILE)} missing: generating it (about 5 minutes, see circuits/ptau.ts)`);
    await buildDevPtau(PTAU_FILE);
  }

  const r1cs = join(buildDir, `${CIRCUIT}.r1cs`);
  const wasm = join(buildDir, `${CIRCUIT}_js`, `${CIRCUIT}.wasm`);
  const zkey0 = join(buildDir, `${CIRCUIT}_0000.zkey`);
  const zkey = join(buildDir, `${CIRCUIT}.zkey`);
  const vkFile = join(buildDir, "verification_key.json");
  const solFile = join(buildDir, `${VERIFIER_CONTRACT}.sol`);

  const curve = await snarkjs.curves.getCurveFromName("bn128");
  try {
    await snarkjs.zKey.newZKey(r1cs, PTAU_FILE, zkey0, quietLogger);
    console.log(`groth16 setup (${elapsed()})`);
    await snarkjs.zKey.beacon(
      zkey0,
      zkey,
      "meshgate dev zkey beacon (INSECURE)",
      DEV_BEACON_HASH,
      DEV_BEACON_ITERATIONS_EXP,
      quietLogger,
    );
    console.log(`zkey beacon (${elapsed()})`);
    const vk = await snarkjs.zKey.exportVerificationKey(zkey, quietLogger);
    writeFileSync(vkFile, `${JSON.stringify(vk, null, 2)}\n`);
    const sol = await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: groth16Template() }, quietLogger);
    if (!sol.includes("contract Groth16Verifier {")) throw new Error("unexpected verifier template");
    writeFileSync(solFile, sol.replace("contract Groth16Verifier {", `contract ${VERIFIER_CONTRACT} {`));
  } finally {
    await curve.terminate();
  }
  console.log(`verification key + Solidity verifier (${elapsed()})`);

  // Commit-worthy copies. MANIFEST.json names each by its committed path in the repository.
  const sources: Record<(typeof ARTIFACT_FILES)[number], string> = {
    "access.wasm": wasm,
    "access.zkey": zkey,
    "verification_key.json": vkFile,
  };
  const files: Record<string, string> = {};
  const install = (src: string, dest: string, committedPath: string): void => {
    const tmp = `${dest}.tmp`;
    copyFileSync(src, tmp);
    renameSync(tmp, dest);
    files[committedPath] = sha256File(dest);
  };
  for (const name of ARTIFACT_FILES) {
    install(sources[name], join(artifactsDir, name), relative(ROOT_DIR, join(ARTIFACTS_DIR, name)));
  }
  mkdirSync(dirname(verifierFile), { recursive: true });
  install(solFile, verifierFile, relative(ROOT_DIR, VERIFIER_FILE));
  const manifest: Manifest = {
    warning: "INSECURE DEVELOPMENT SETUP: public fixed beacon, anyone can forge proofs. See circuits/ceremony.md.",
    circuit: "circuits/access.circom",
    constraints,
    publicSignals: ["y", "nullifier", "root", "scope", "x"],
    ptau: { file: relative(ROOT_DIR, PTAU_FILE), power: PTAU_POWER, sha256: sha256File(PTAU_FILE) },
    beacon: { hash: DEV_BEACON_HASH, iterationsExp: DEV_BEACON_ITERATIONS_EXP },
    tools: {
      circom2: pkgVersion("circom2"),
      circomlib: pkgVersion("circomlib"),
      snarkjs: pkgVersion("snarkjs"),
    },
    sources: { "access.circom": sha256File(CIRCUIT_FILE) },
    files,
  };
  writeFileSync(join(artifactsDir, "MANIFEST.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`build done in ${elapsed()}`);
  return manifest;
}

if (isMain(import.meta.filename)) {
  console.warn(INSECURE_WARNING);
  const manifest = await build({
    buildDir: join(CIRCUITS_DIR, "build"),
    artifactsDir: ARTIFACTS_DIR,
    verifierFile: VERIFIER_FILE,
  });
  for (const [name, hash] of Object.entries(manifest.files)) console.log(`${hash}  ${name}`);
  console.warn(INSECURE_WARNING);
}
