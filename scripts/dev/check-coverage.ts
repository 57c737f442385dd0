/**
 * Fails (exit 1) when any production contract's line coverage in coverage/lcov.info (written by
 * `hardhat test --coverage`) is under the minimum: 95% by default, COVERAGE_MIN to change it.
 * Mocks and generated code (the snarkjs Groth16 verifier, checked by `npm run zk:check` and
 * exercised by the ZK tests) are not measured.
 */
import { readFile } from "node:fs/promises";

const minimum = Number(process.env.COVERAGE_MIN ?? "95");
const lcov = await readFile("coverage/lcov.info", "utf8").catch(() => {
  console.error("error: coverage/lcov.info is missing: run `hardhat test --coverage` first");
  process.exit(2);
});

const GENERATED = new Set(["contracts/access/AccessVerifierGroth16.sol"]);

let failed = false;
for (const record of lcov.split("end_of_record")) {
  const file = /^SF:(.+)$/m.exec(record)?.[1];
  if (file === undefined || !file.startsWith("contracts/") || file.startsWith("contracts/mocks/")) continue;
  if (GENERATED.has(file)) continue;
  const hit = Number(/^LH:(\d+)$/m.exec(record)?.[1] ?? 0);
  const found = Number(/^LF:(\d+)$/m.exec(record)?.[1] ?? 0);
  const pct = found === 0 ? 100 : (100 * hit) / found;
  const ok = pct >= minimum;
  failed ||= !ok;
  console.log(`${ok ? "ok  " : "FAIL"} ${pct.toFixed(2).padStart(6)}%  ${file} (${hit}/${found} lines)`);
}
if (failed) {
  console.error(`error: line coverage under ${minimum}%: add tests for the uncovered lines (coverage/html)`);
  process.exit(1);
}
