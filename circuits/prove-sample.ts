// Sanity check of the committed artifacts (npx tsx circuits/prove-sample.ts): one identity at
// leaf 0 of an otherwise empty depth-20 tree, one request, Groth16 prove + verify, and the
// public signals recomputed off-chain with circomlibjs. Prints cold timings.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildPoseidon } from "circomlibjs";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import * as snarkjs from "snarkjs";
import { ARTIFACTS_DIR } from "./common.js";

const DEPTH = 20;
/** BN254 scalar field order. */
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const t0 = performance.now();
const poseidon = await buildPoseidon();
const H = (...xs: bigint[]): bigint => poseidon.F.toObject(poseidon(xs));

// Identity and tree: leaf 0, every sibling is the root of an empty subtree (empty leaf = 0).
const identitySecret = 0x1234_5678_9abc_def0_1234_5678_9abc_def0n % R;
const commitment = H(identitySecret);
const pathElements: bigint[] = [];
let zero = 0n;
let node = commitment;
for (let i = 0; i < DEPTH; i++) {
  pathElements.push(zero);
  node = H(node, zero);
  zero = H(zero, zero);
}
const root = node;

// Request hash x: keccak256(abi.encode(method, path, bodyHash, node)) mod r (illustrative;
// the SDK will fix the exact encoding).
const bodyHash = keccak256(toUtf8Bytes('{"query":"hello"}'));
const relayerNode = "0x00000000000000000000000000000000000000aa";
const x =
  BigInt(
    keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ["string", "string", "bytes32", "address"],
        ["POST", "/v1/echo", bodyHash, relayerNode],
      ),
    ),
  ) % R;

const apiId = 1n;
const epoch = 480_000n;
const userMessageLimit = 10n;
const messageIndex = 3n;
const input = {
  identitySecret,
  messageIndex,
  pathElements,
  pathIndices: pathElements.map(() => 0n),
  root,
  apiId,
  epoch,
  userMessageLimit,
  x,
};
const tInputs = performance.now();

const wasm = join(ARTIFACTS_DIR, "access.wasm");
const zkey = join(ARTIFACTS_DIR, "access.zkey");
const vk = JSON.parse(readFileSync(join(ARTIFACTS_DIR, "verification_key.json"), "utf8")) as Record<string, unknown>;

const p0 = performance.now();
const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey);
const p1 = performance.now();
const ok = await snarkjs.groth16.verify(vk, publicSignals, proof);
const p2 = performance.now();
const second = await snarkjs.groth16.fullProve({ ...input, messageIndex: 4n }, wasm, zkey);
const p3 = performance.now();

// Expected public signals: [y, nullifier, root, apiId, epoch, userMessageLimit, x].
const externalNullifier = H(apiId, epoch);
const a1 = H(identitySecret, externalNullifier, messageIndex);
const expected = [(identitySecret + a1 * x) % R, H(a1), root, apiId, epoch, userMessageLimit, x].map(String);
const signalsMatch = JSON.stringify(expected) === JSON.stringify(publicSignals);

// A tampered public signal (another request hash) must not verify.
const tampered = [...publicSignals];
tampered[6] = ((x + 1n) % R).toString();
const tamperedOk = await snarkjs.groth16.verify(vk, tampered, proof);

console.log(`public signals [y, nullifier, root, apiId, epoch, userMessageLimit, x]:`);
console.log(publicSignals);
console.log(`poseidon + inputs: ${(tInputs - t0).toFixed(0)} ms`);
console.log(`fullProve (cold): ${(p1 - p0).toFixed(0)} ms`);
console.log(`verify (cold):    ${(p2 - p1).toFixed(0)} ms`);
console.log(`fullProve (2nd):  ${(p3 - p2).toFixed(0)} ms`);
console.log(`verified: ${ok}, signals match circomlibjs: ${signalsMatch}, tampered x verifies: ${tamperedOk}`);
const good = ok && signalsMatch && !tamperedOk && second.publicSignals[1] !== publicSignals[1];
// snarkjs keeps worker threads alive: exit explicitly.
process.exit(good ? 0 : 1);
