/** Where the committed circuit artifacts live (written by `npm run zk:build`). */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "circuits", "artifacts");

export interface CircuitArtifacts {
  wasm: string;
  zkey: string;
  verificationKey: string;
}

export const ACCESS_ARTIFACTS: CircuitArtifacts = {
  wasm: join(ARTIFACTS_DIR, "access.wasm"),
  zkey: join(ARTIFACTS_DIR, "access.zkey"),
  verificationKey: join(ARTIFACTS_DIR, "verification_key.json"),
};
