// Production trusted setup for the access circuit (see circuits/ceremony.md).
//   npx tsx circuits/ceremony.ts phase1  <powersOfTau28_hez_final_13.ptau>
//   npx tsx circuits/ceremony.ts init    <ptau> <out_0000.zkey>
//   npx tsx circuits/ceremony.ts contribute <in.zkey> <out.zkey> "<contributor name>"
//   npx tsx circuits/ceremony.ts verify  <ptau> <zkey>
//   npx tsx circuits/ceremony.ts finalize <ptau> <in.zkey> <beaconHashHex> <outDir>
// Unlike the dev build (circuits/build.ts), contributions mix in fresh secret randomness
// (crypto.randomBytes): the setup is secure if at least one contributor destroyed theirs.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import * as snarkjs from "snarkjs";
import { CIRCUITS_DIR, ROOT_DIR, groth16Template, packagePath, sha256File } from "./common.js";

/**
 * Public phase-1 file: the Hermez/PSE Perpetual Powers of Tau (54 contributions + beacon),
 * already prepared for phase 2. 2^13 fits the access circuit.
 * THE SHA256 MUST BE TAKEN FROM THE OFFICIAL SOURCE (the snarkjs README / PSE ptau list) by
 * whoever runs the ceremony, and reviewed: it is deliberately not filled in here because this
 * repository was written offline. `phase1` refuses to run until it is set.
 */
export const PHASE1 = {
  file: "powersOfTau28_hez_final_13.ptau",
  url: "https://storage.googleapis.com/zkevm/ptau/powersOfTau28_hez_final_13.ptau",
  sha256: "TODO-PIN-FROM-OFFICIAL-SOURCE",
} as const;

const logger = {
  debug: (): void => {},
  info: (m: string): void => console.log(m),
  warn: (m: string): void => console.warn(m),
  error: (m: string): void => console.error(m),
};

function compileR1cs(dir: string): string {
  const res = spawnSync(
    process.execPath,
    [
      packagePath("circom2", "cli.js"),
      join(CIRCUITS_DIR, "access.circom"),
      "--r1cs",
      "--O2",
      "-l",
      join(ROOT_DIR, "node_modules"),
      "-o",
      dir,
    ],
    { encoding: "utf8" },
  );
  if (res.status !== 0) throw new Error(`circom2 failed:\n${res.stdout}\n${res.stderr}`);
  return join(dir, "access.r1cs");
}

async function withR1cs<T>(fn: (r1cs: string) => Promise<T>): Promise<T> {
  const tmp = mkdtempSync(join(tmpdir(), "meshgate-ceremony-"));
  try {
    return await fn(compileR1cs(tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const USAGE = `usage: npx tsx circuits/ceremony.ts <command>
  phase1     <powersOfTau28_hez_final_13.ptau>        check the public phase-1 file by hash
  init       <ptau> <out_0000.zkey>                   phase-2 start (groth16 setup)
  contribute <in.zkey> <out.zkey> "<name>"            one phase-2 contribution (fresh randomness)
  verify     <ptau> <zkey>                            check a zkey against circuit + ptau
  finalize   <ptau> <in.zkey> <beaconHashHex> <dir>   final beacon, verification key, verifier`;

function usage(): never {
  console.error(USAGE);
  process.exit(2);
}

const [cmd, ...args] = process.argv.slice(2);
const arg = (i: number): string => args[i] ?? usage();

switch (cmd) {
  case "phase1": {
    const ptau = arg(0);
    if (!/^[0-9a-f]{64}$/.test(PHASE1.sha256)) {
      console.error(
        `PHASE1.sha256 is not pinned: take it from the official source, review it, set it in circuits/ceremony.ts`,
      );
      process.exit(1);
    }
    const got = sha256File(ptau);
    if (basename(ptau) !== PHASE1.file || got !== PHASE1.sha256) {
      console.error(`phase-1 file mismatch: ${basename(ptau)} sha256 ${got}, expected ${PHASE1.file} ${PHASE1.sha256}`);
      process.exit(1);
    }
    console.log(`phase-1 ptau ok: ${PHASE1.file} sha256 ${got}`);
    if (!(await snarkjs.powersOfTau.verify(ptau, logger))) process.exit(1);
    break;
  }
  case "init": {
    const [ptau, out] = [arg(0), arg(1)];
    await withR1cs((r1cs) => snarkjs.zKey.newZKey(r1cs, ptau, out, logger));
    console.log(`wrote ${out} (sha256 ${sha256File(out)}): publish it, then pass it to the first contributor`);
    break;
  }
  case "contribute": {
    const [input, out, name] = [arg(0), arg(1), arg(2)];
    // 64 bytes of OS randomness; snarkjs hashes it into the contribution secret, which is
    // never written anywhere. Run on an offline machine and wipe it afterwards if you can.
    await snarkjs.zKey.contribute(input, out, name, randomBytes(64).toString("hex"), logger);
    console.log(`wrote ${out} (sha256 ${sha256File(out)}): publish it with the contribution hash above`);
    break;
  }
  case "verify": {
    const [ptau, zkey] = [arg(0), arg(1)];
    const ok = await withR1cs((r1cs) => snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, logger));
    console.log(ok ? "zkey verified against the circuit and the ptau" : "zkey INVALID");
    if (!ok) process.exit(1);
    break;
  }
  case "finalize": {
    // beaconHashHex: public randomness fixed AFTER the last contribution and announced in
    // advance (e.g. the hash of an Ethereum block at a pre-announced height).
    const [ptau, input, beaconHash, outDir] = [arg(0), arg(1), arg(2), arg(3)];
    if (!/^[0-9a-fA-F]{64}$/.test(beaconHash)) usage();
    mkdirSync(outDir, { recursive: true });
    const zkey = join(outDir, "access.zkey");
    await snarkjs.zKey.beacon(input, zkey, "meshgate final beacon", beaconHash, 10, logger);
    const ok = await withR1cs((r1cs) => snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, logger));
    if (!ok) throw new Error("final zkey does not verify");
    const vk = await snarkjs.zKey.exportVerificationKey(zkey);
    writeFileSync(join(outDir, "verification_key.json"), `${JSON.stringify(vk, null, 2)}\n`);
    const sol = await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: groth16Template() });
    writeFileSync(
      join(outDir, "AccessVerifierGroth16.sol"),
      sol.replace("contract Groth16Verifier {", "contract AccessVerifierGroth16 {"),
    );
    console.log(`final zkey, verification key and verifier in ${outDir}`);
    break;
  }
  default:
    usage();
}
// snarkjs keeps worker threads alive.
process.exit(0);
