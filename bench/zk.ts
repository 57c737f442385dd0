/**
 * npm run bench:zk: anonymous access (circuits/access.circom) end to end, in one run.
 * - constraints: from the committed build (circuits/artifacts/MANIFEST.json).
 * - proving: AccessProver (warm: witness calculator and zkey loaded once) median of 12 after a
 *   warm-up; baseline snarkjs.groth16.fullProve from the artifact files (what a naive client does).
 * - off-chain verify: AccessProofVerifier (prepared key, calling thread) median of 50; baseline
 *   snarkjs.groth16.verify median of 20.
 * - on-chain (in-process EVM): AccessVerifier.consume (Groth16 + root, epoch, limit, nullifier
 *   recorded) gas per transaction and without the intrinsic 21,000 + calldata; baseline the bare
 *   generated verifier. Tree insert: AccessGroups.join gas over 64 joins (deposit transfer + LeanIMT
 *   insert + root history); baseline a fixed-depth-20 incremental tree = 20 Poseidon hashes,
 *   with the hash priced by calling the same PoseidonT3 library.
 * Last line: {"constraints", "proveMs", "verifyMs", "onchainCheckGas", "insertGas", ...}.
 */
import { readFile } from "node:fs/promises";
import { getBytes, MaxUint256, parseEther, type TransactionReceipt } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import * as snarkjs from "snarkjs";
import { deployProtocol } from "../deploy/protocol.js";
import { listBenchApi } from "./listing.js";
import { ACCESS_ARTIFACTS } from "../sdk/zk/artifacts.js";
import { GroupSync } from "../sdk/zk/group-sync.js";
import { createIdentity, type Identity } from "../sdk/zk/identity.js";
import { AccessProver } from "../sdk/zk/prover.js";
import { publicSignalValues, toSolidityProof, type AccessProof } from "../sdk/zk/signals.js";
import { AccessProofVerifier, releaseZkThreads } from "../sdk/zk/verifier.js";
import { AccessVerifierGroth16__factory, PoseidonT3__factory } from "../types/ethers-contracts/index.js";

const PROOFS = 12;
const VERIFIES = 50;
const JOINS = 64;
const CONSUMES = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
async function timed<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
}
/** Gas of a transaction beyond the intrinsic cost (21,000 + 4 per zero / 16 per other calldata byte). */
function executionGas(receipt: TransactionReceipt, data: string): bigint {
  const calldata = getBytes(data).reduce((sum, b) => sum + (b === 0 ? 4n : 16n), 0n);
  return receipt.gasUsed - 21_000n - calldata;
}

// ---------------------------------------------------------------- chain: group of JOINS members
const { ethers } = await network.create();
const [deployer, provider, ...accounts] = (await ethers.getSigners()) as HardhatEthersSigner[];
const { protocol, deployment } = await deployProtocol(deployer!, { network: "bench" });
const { registry, token, accessGroups, accessVerifier } = protocol;
const apiId = await listBenchApi(registry, provider!, await token.getAddress(), 1n);
await accessGroups.connect(provider!).createGroup(apiId, await token.getAddress(), {
  deposit: parseEther("10"),
  epochLength: 3600,
  userMessageLimit: 100,
  rootHistoryWindow: 3600,
  requireSubscription: false,
});
const member = accounts[0]!;
await token.connect(deployer!).transfer(member.address, parseEther(String(10 * JOINS)));
await token.connect(member).approve(await accessGroups.getAddress(), MaxUint256);
const identities: Identity[] = [];
const joinGas: number[] = [];
for (let i = 0; i < JOINS; i++) {
  const id = createIdentity();
  identities.push(id);
  const receipt = await (await accessGroups.connect(member).join(apiId, id.commitment)).wait();
  joinGas.push(Number(receipt!.gasUsed));
}
const sync = new GroupSync(accessGroups, apiId, deployment.contracts.AccessGroups.blockNumber);
await sync.sync();

// Poseidon(2) as the tree pays it: the library's hash, called directly.
const poseidonT3 = PoseidonT3__factory.connect(deployment.contracts.PoseidonT3.address, deployer!);
const hashTx = await poseidonT3.hash.populateTransaction([1n, 2n]);
const hashGas = Number((await ethers.provider.estimateGas(hashTx)) - 21_000n) - getBytes(hashTx.data).length * 16;

// ---------------------------------------------------------------- proving
const epoch = await accessGroups.currentEpoch(apiId);
const request = (i: number, id: Identity) => ({
  identity: id,
  merkleProof: sync.tree.proof(id.commitment),
  apiId,
  epoch,
  userMessageLimit: 100n,
  messageIndex: BigInt(i),
  x: BigInt(1000 + i),
});
const [prover, loadMs] = await timed(() => AccessProver.load());
const verifier = await AccessProofVerifier.load();
const target = identities[JOINS - 1]!;
const proofs: AccessProof[] = [];
const proveMs: number[] = [];
await prover.prove(request(99, target)); // warm-up: first use compiles and starts threads
for (let i = 0; i < PROOFS; i++) {
  const [p, ms] = await timed(() => prover.prove(request(i, target)));
  proofs.push(p);
  proveMs.push(ms);
}
const fullProveMs: number[] = [];
const input = {
  identitySecret: target.secret,
  messageIndex: 50n,
  merkleProofLength: BigInt(sync.tree.proof(target.commitment).length),
  merkleProofIndex: BigInt(sync.tree.proof(target.commitment).index),
  merkleProofSiblings: sync.tree.proof(target.commitment).siblings,
  apiId,
  epoch,
  userMessageLimit: 100n,
  root: sync.tree.root,
  scope: publicSignalValues(proofs[0]!.signals)[3]!,
  x: 7n,
};
for (let i = 0; i < 3; i++) {
  fullProveMs.push(
    (await timed(() => snarkjs.groth16.fullProve(input, ACCESS_ARTIFACTS.wasm, ACCESS_ARTIFACTS.zkey)))[1],
  );
}

// ---------------------------------------------------------------- off-chain verification
const vkJson = JSON.parse(await readFile(ACCESS_ARTIFACTS.verificationKey, "utf8")) as Record<string, unknown>;
const verifyMs: number[] = [];
for (let i = 0; i < VERIFIES; i++) {
  const [ok, ms] = await timed(() => verifier.verify(proofs[i % PROOFS]!));
  if (!ok) throw new Error("a valid proof did not verify");
  verifyMs.push(ms);
}
const snarkjsVerifyMs: number[] = [];
for (let i = 0; i < 20; i++) {
  const p = proofs[i % PROOFS]!;
  const pub = publicSignalValues(p.signals).map(String);
  const [ok, ms] = await timed(() => snarkjs.groth16.verify(vkJson, pub, p.proof));
  if (!ok) throw new Error("snarkjs rejected a valid proof");
  snarkjsVerifyMs.push(ms);
}

// ---------------------------------------------------------------- on-chain check
const groth16 = AccessVerifierGroth16__factory.connect(deployment.contracts.AccessVerifierGroth16.address, deployer!);
const consumeGas: number[] = [];
const consumeExecGas: number[] = [];
for (const p of proofs.slice(0, CONSUMES)) {
  const tx = await accessVerifier.consume(toSolidityProof(p.proof), p.signals);
  const receipt = (await tx.wait())!;
  consumeGas.push(Number(receipt.gasUsed));
  consumeExecGas.push(Number(executionGas(receipt, tx.data)));
}
const bare = toSolidityProof(proofs[0]!.proof);
const barePub = publicSignalValues(proofs[0]!.signals) as [bigint, bigint, bigint, bigint, bigint];
const bareGas = Number(await groth16.verifyProof.estimateGas(bare.a, bare.b, bare.c, barePub));
await releaseZkThreads();

// ---------------------------------------------------------------- report
const manifest = JSON.parse(await readFile("circuits/artifacts/MANIFEST.json", "utf8")) as { constraints: number };
const row = (label: string, value: string, note = ""): void =>
  console.log(`${label.padEnd(56)}${value.padStart(12)}  ${note}`);
const ms = (v: number): string => `${v.toFixed(1)} ms`;
const gasStr = (v: number): string => v.toLocaleString("en-US");
console.log("Meshgate anonymous access (Groth16, BN254; 2 cores; in-process EVM, optimizer 200 runs)\n");
row("circuit constraints (LeanIMT depth <= 20, RLN, scope)", gasStr(manifest.constraints), "--O2");
row("prover load (wasm + zkey, once)", ms(loadMs));
row(`prove, warm AccessProver (median of ${PROOFS})`, ms(median(proveMs)), "target <= 1000 ms");
row("  baseline: snarkjs fullProve from files (median of 3)", ms(median(fullProveMs)));
row(`verify off-chain, AccessProofVerifier (median of ${VERIFIES})`, ms(median(verifyMs)), "target <= 15 ms");
row("  baseline: snarkjs.groth16.verify (median of 20)", ms(median(snarkjsVerifyMs)));
row(`consume on-chain, tx gas (median of ${CONSUMES})`, gasStr(median(consumeGas)), "target <= 260k");
row("  of which execution (tx - 21,000 - calldata)", gasStr(median(consumeExecGas)));
row("  baseline: bare Groth16 verifyProof tx", gasStr(bareGas));
row(
  `join = deposit + LeanIMT insert (median of ${JOINS})`,
  gasStr(median(joinGas)),
  `min ${gasStr(Math.min(...joinGas))}, max ${gasStr(Math.max(...joinGas))}`,
);
row("  baseline: fixed depth-20 tree insert = 20 Poseidon", gasStr(20 * hashGas), `${gasStr(hashGas)} per hash`);
console.log(
  JSON.stringify({
    constraints: manifest.constraints,
    proveMs: Math.round(median(proveMs)),
    verifyMs: Number(median(verifyMs).toFixed(1)),
    onchainCheckGas: median(consumeGas),
    insertGas: median(joinGas),
    onchainCheckExecGas: median(consumeExecGas),
    bareVerifyTxGas: bareGas,
    snarkjsFullProveMs: Math.round(median(fullProveMs)),
    snarkjsVerifyMs: Number(median(snarkjsVerifyMs).toFixed(1)),
    fixedDepthInsertHashGas: 20 * hashGas,
  }),
);
