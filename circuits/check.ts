// CI check (npm run zk:check): rebuilds the circuit and the dev setup into a temporary
// directory and compares every output with the committed circuits/artifacts/ byte for byte
// (sha256), including MANIFEST.json. Fails if the sources, the ptau or the tool versions
// changed without a rebuild (run npm run zk:build and commit circuits/artifacts/ and the verifier).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { build } from "./build.js";
import { ARTIFACTS_DIR, ARTIFACT_FILES, PTAU_FILE, ROOT_DIR, VERIFIER_FILE, sha256File } from "./common.js";

if (!existsSync(PTAU_FILE)) {
  console.error(`${relative(ROOT_DIR, PTAU_FILE)} is missing: it must be committed (npm run zk:ptau).`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), "meshgate-zk-check-"));
let failures = 0;
const compare = (committedPath: string, rebuilt: string): void => {
  const committed = join(ROOT_DIR, committedPath);
  const expected = sha256File(rebuilt);
  if (!existsSync(committed)) {
    console.error(`MISSING  ${committedPath} (rebuilt: ${expected})`);
    failures++;
    return;
  }
  const actual = sha256File(committed);
  if (actual === expected) {
    console.log(`ok       ${actual}  ${committedPath}`);
  } else {
    console.error(`DIFFERS  ${committedPath}: committed ${actual}, rebuilt ${expected}`);
    failures++;
  }
};
try {
  const fresh = join(tmp, "artifacts");
  const verifier = join(tmp, "AccessVerifierGroth16.sol");
  await build({ buildDir: join(tmp, "build"), artifactsDir: fresh, verifierFile: verifier });
  for (const name of [...ARTIFACT_FILES, "MANIFEST.json"]) {
    compare(relative(ROOT_DIR, join(ARTIFACTS_DIR, name)), join(fresh, name));
  }
  compare(relative(ROOT_DIR, VERIFIER_FILE), verifier);
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
