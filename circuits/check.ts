// CI check (npm run zk:check): rebuilds the circuit and the dev setup into a temporary
// directory and compares every output with the committed circuits/artifacts/ byte for byte
// (sha256), including MANIFEST.json. Fails if the sources, the ptau or the tool versions
// changed without a rebuild (run npm run zk:build and commit circuits/artifacts/).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { build } from "./build.js";
import { ARTIFACTS_DIR, ARTIFACT_FILES, PTAU_FILE, ROOT_DIR, sha256File } from "./common.js";

if (!existsSync(PTAU_FILE)) {
  console.error(`${relative(ROOT_DIR, PTAU_FILE)} is missing: it must be committed (npm run zk:ptau).`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), "meshgate-zk-check-"));
let failures = 0;
try {
  const fresh = join(tmp, "artifacts");
  await build({ buildDir: join(tmp, "build"), artifactsDir: fresh });
  for (const name of [...ARTIFACT_FILES, "MANIFEST.json"]) {
    const committed = join(ARTIFACTS_DIR, name);
    const expected = sha256File(join(fresh, name));
    if (!existsSync(committed)) {
      console.error(`MISSING  circuits/artifacts/${name} (rebuilt: ${expected})`);
      failures++;
      continue;
    }
    const actual = sha256File(committed);
    if (actual === expected) {
      console.log(`ok       ${actual}  circuits/artifacts/${name}`);
    } else {
      console.error(`DIFFERS  circuits/artifacts/${name}: committed ${actual}, rebuilt ${expected}`);
      failures++;
    }
  }
  const manifest = JSON.parse(readFileSync(join(ARTIFACTS_DIR, "MANIFEST.json"), "utf8")) as {
    ptau?: { sha256?: string };
  };
  if (manifest.ptau?.sha256 !== sha256File(PTAU_FILE)) {
    console.error("DIFFERS  ptau sha256 does not match MANIFEST.json");
    failures++;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`zk:check: ${failures} mismatch(es): run npm run zk:build and commit circuits/artifacts/`);
  process.exit(1);
}
console.log("zk:check: committed artifacts match the sources");
