// Creates circuits/ptau/pot13_final.ptau DETERMINISTICALLY (npm run zk:ptau):
//   powersoftau new -> beacon (fixed public hash) -> prepare phase2.
// The result is committed: `prepare phase2` alone takes ~5 minutes on one core.
// INSECURE by construction (see INSECURE_WARNING): development only.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as snarkjs from "snarkjs";
import {
  DEV_BEACON_HASH,
  DEV_BEACON_ITERATIONS_EXP,
  INSECURE_WARNING,
  isMain,
  PTAU_FILE,
  PTAU_POWER,
  quietLogger,
  sha256File,
} from "./common.js";

export async function buildDevPtau(out: string, power = PTAU_POWER): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "meshgate-ptau-"));
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  try {
    const t0 = Date.now();
    const p0 = join(tmp, "pot_0000.ptau");
    const p1 = join(tmp, "pot_beacon.ptau");
    const p2 = join(tmp, "pot_final.ptau");
    await snarkjs.powersOfTau.newAccumulator(curve, power, p0, quietLogger);
    console.log(`ptau: new 2^${power} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    await snarkjs.powersOfTau.beacon(
      p0,
      p1,
      "meshgate dev beacon (INSECURE)",
      DEV_BEACON_HASH,
      DEV_BEACON_ITERATIONS_EXP,
      quietLogger,
    );
    console.log(`ptau: beacon (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    await snarkjs.powersOfTau.preparePhase2(p1, p2, quietLogger);
    console.log(`ptau: prepare phase2 (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    mkdirSync(dirname(out), { recursive: true });
    renameSync(p2, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await curve.terminate();
  }
}

if (isMain(import.meta.filename)) {
  console.warn(INSECURE_WARNING);
  const force = process.argv.includes("--force");
  if (existsSync(PTAU_FILE) && !force) {
    console.log(`${PTAU_FILE} exists (sha256 ${sha256File(PTAU_FILE)}); pass --force to rebuild it.`);
  } else {
    await buildDevPtau(PTAU_FILE);
    console.log(`wrote ${PTAU_FILE} (sha256 ${sha256File(PTAU_FILE)})`);
  }
}
