/**
 * npm run bench:reputation: gas of the reputation and rewards contracts on the in-process EVM.
 * Three validators each attest one epoch on 10 nodes and 1 API (and on 1 and 30 nodes, to show
 * the cost per subject), a node's score is finalized from their reports, and ten nodes with
 * served value commit and claim the epoch's rewards. Baselines in the same run: the intrinsic
 * gas of the attestation's calldata alone (what posting the reports without storing them
 * costs) and a plain ERC-20 transfer (what any payout costs at minimum).
 * Last line: {"attestGas", "claimGas", ...}: attestGas = mean over the three validators of one
 * attestation of 10 nodes + 1 API; claimGas = a typical claim (neither the epoch's first nor
 * its last; the first sets the epoch's claimed-weight slot from zero).
 */
import {
  encodeBytes32String,
  parseEther,
  parseUnits,
  Wallet,
  type ContractTransactionResponse,
  type HDNodeWallet,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import { deployProtocol } from "../deploy/protocol.js";
import { listBenchApi } from "./listing.js";
import { escrowDomain, signVoucher } from "../sdk/vouchers.js";
import { MockERC20__factory } from "../types/ethers-contracts/index.js";
import {
  canonicalAttestation,
  reputationDomain,
  signAttestation,
  type Attestation,
  type Qos,
} from "../relayer/validator/attestation.js";

const SERVING_NODES = 30;
const VALIDATORS = 3;
const { ethers, networkHelpers } = await network.create();
const [deployer, provider] = (await ethers.getSigners()) as [HardhatEthersSigner, HardhatEthersSigner];
const { protocol } = await deployProtocol(deployer, { network: "bench" });
const { registry, staking, token, escrow, reputation, rewards } = protocol;
const chainId = (await ethers.provider.getNetwork()).chainId;
const usdc = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
const usdcAddress = await usdc.getAddress();
const escrowAddress = await escrow.getAddress();
const vouchers = escrowDomain(chainId, escrowAddress);
const attestations = reputationDomain(chainId, await reputation.getAddress());
const epochLength = Number(await escrow.epochLength());

async function receipt(tx: Promise<ContractTransactionResponse>) {
  return (await (await tx).wait())!;
}
async function gas(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await receipt(tx)).gasUsed;
}
/** Moves chain time to the start of `epoch` (+ 60 s). */
async function toEpoch(epoch: number) {
  const genesis = Number(await escrow.epochGenesis());
  await networkHelpers.time.increaseTo(genesis + epoch * epochLength + 60);
}

await listBenchApi(registry, provider, usdcAddress, parseUnits("0.001", 6));

/** A funded wallet with a registered node of `nodeType` and `stake` MESH. */
async function newNode(nodeType: number, stake: bigint): Promise<HDNodeWallet> {
  const w = Wallet.createRandom().connect(ethers.provider);
  await networkHelpers.setBalance(w.address, parseEther("100"));
  await token.connect(deployer).transfer(w.address, stake);
  await token.connect(w).approve(await staking.getAddress(), stake);
  await staking.connect(w).registerNode(nodeType, encodeBytes32String("eu"), "https://n.example", 100, stake);
  return w;
}

const nodes: HDNodeWallet[] = [];
for (let i = 0; i < SERVING_NODES; i++) nodes.push(await newNode(0, parseEther("1000")));
const validators: HDNodeWallet[] = [];
for (let i = 0; i < VALIDATORS; i++) {
  const v = await newNode(3, parseEther(String(10_000 + i * 1_000)));
  await reputation.connect(v).joinValidators();
  validators.push(v);
}

// Epoch 0: each of the first ten nodes serves one paid channel, redeemed this epoch.
await rewards.connect(deployer).setRewardToken(usdcAddress, 10n ** 12n);
await token.connect(deployer).approve(await rewards.getAddress(), parseEther("1000000"));
await rewards.connect(deployer).fund(parseEther("1000000"));
const payer = Wallet.createRandom().connect(ethers.provider);
await networkHelpers.setBalance(payer.address, parseEther("100"));
await usdc.mint(payer.address, parseUnits("100000", 6));
await usdc.connect(payer).approve(escrowAddress, parseUnits("100000", 6));
const earners = nodes.slice(0, 10);
for (const [i, node] of earners.entries()) {
  await escrow.connect(payer).deposit(node.address, 1n, usdcAddress, parseUnits("1000", 6));
  const voucher = { payer: payer.address, node: node.address, apiId: 1n, token: usdcAddress };
  const cumulativeAmount = parseUnits(String(10 + i * 7), 6);
  const signature = await signVoucher(payer, vouchers, { ...voucher, cumulativeAmount });
  await escrow.connect(node).redeem({ ...voucher, cumulativeAmount }, signature);
}

// Epoch 1: validators attest epoch 0.
await toEpoch(1);
function qos(i: number, v: number): Qos {
  const p50 = 20_000 + i * 1_000 + v * 500;
  return { p50Micros: p50, p99Micros: p50 * 3, successBps: 10_000 - i * 10, availabilityBps: 10_000 - v * 5 };
}
function attestation(epoch: number, subjects: HDNodeWallet[], v: number, withApi: boolean): Attestation {
  return canonicalAttestation({
    epoch,
    nodes: subjects.map((n, i) => ({ node: n.address, qos: qos(i, v) })),
    apis: withApi ? [{ apiId: 1n, qos: qos(0, v) }] : [],
  });
}
const attestGas: bigint[] = [];
let calldataGas = 0n;
for (const [v, validator] of validators.entries()) {
  const a = attestation(0, earners, v, true);
  const signature = await signAttestation(validator, attestations, a);
  const r = await receipt(reputation.connect(deployer).attest(a, signature));
  attestGas.push(r.gasUsed);
  const tx = await ethers.provider.getTransaction(r.hash);
  const bytes = Buffer.from(tx!.data.slice(2), "hex");
  calldataGas = 21_000n + BigInt(bytes.reduce((sum, b) => sum + (b === 0 ? 4 : 16), 0));
}
const attestMean = attestGas.reduce((a, b) => a + b, 0n) / BigInt(attestGas.length);

// Epoch 2: finalize epoch 0's scores. Attestations of other sizes are measured on epoch 1
// (attested during epoch 2) by fresh validator slots... the same validators, new epoch.
await toEpoch(2);
const finalizeGas = await gas(reputation.connect(deployer).finalizeNode(earners[0]!.address, 0));
for (const node of earners.slice(1)) await reputation.connect(deployer).finalizeNode(node.address, 0);
const finalizeApiGas = await gas(reputation.connect(deployer).finalizeApi(1n, 0));
const sizes = new Map<number, bigint>();
for (const [v, size] of [
  [0, 1],
  [1, SERVING_NODES],
] as const) {
  const a = attestation(1, nodes.slice(0, size), v, false);
  sizes.set(
    size,
    await gas(reputation.connect(deployer).attest(a, await signAttestation(validators[v]!, attestations, a))),
  );
}
const perNode = Number(sizes.get(SERVING_NODES)! - sizes.get(1)!) / (SERVING_NODES - 1);

// Epoch 3: commit; epoch 4: claim.
await toEpoch(3);
const commitGas: bigint[] = [];
for (const node of earners) commitGas.push(await gas(rewards.connect(node).commit(node.address, 0, [usdcAddress])));
await toEpoch(4);
const claimGas: bigint[] = [];
for (const node of earners) claimGas.push(await gas(rewards.connect(node).claim(node.address, 0)));
const pool = await rewards.poolOf(0);

// Baseline: a plain MESH transfer to an account that holds MESH.
await token.connect(deployer).transfer(earners[0]!.address, 1n);
const transferGas = await gas(token.connect(deployer).transfer(earners[0]!.address, 1n));

const row = (label: string, value: string, note = "") =>
  console.log(`${label.padEnd(58)}${value.padStart(10)}  ${note}`);
console.log("Meshgate reputation and rewards gas (in-process EVM, optimizer 200 runs)\n");
row("case", "gas", "notes");
row("baseline: attestation calldata alone (10 nodes + 1 API)", calldataGas.toString(), "21,000 + calldata");
for (const [v, g] of attestGas.entries())
  row(`attest 10 nodes + 1 API, validator ${v + 1} of ${VALIDATORS}`, g.toString());
row("attest 10 nodes + 1 API, mean", attestMean.toString(), "attestGas");
for (const [size, g] of sizes) row(`attest ${size} node${size === 1 ? "" : "s"}`, g.toString());
row("attest: marginal gas per node", perNode.toFixed(0), `(${SERVING_NODES} - 1) / ${SERVING_NODES - 1}`);
row(`finalize a node's epoch (${VALIDATORS} reports)`, finalizeGas.toString());
row(`finalize an API's epoch (${VALIDATORS} reports)`, finalizeApiGas.toString());
row("commit a node's epoch weight, first of the epoch", commitGas[0]!.toString(), "allocates the pool");
row("commit a node's epoch weight", commitGas[1]!.toString());
row("baseline: one MESH transfer", transferGas.toString());
row("claim a node's epoch reward, first of the epoch", claimGas[0]!.toString());
row("claim a node's epoch reward", claimGas[1]!.toString(), "claimGas");
row("claim, last of the epoch (takes the remainder)", claimGas.at(-1)!.toString());
row(
  "epoch pool / paid out (MESH wei)",
  `${pool.pool === pool.paid ? "equal" : "DIFFER"}`,
  `${pool.pool} / ${pool.paid}`,
);
console.log(
  JSON.stringify({
    attestGas: Number(attestMean),
    claimGas: Number(claimGas[1]!),
    attestPerNodeGas: Math.round(perNode),
    attestCalldataBaselineGas: Number(calldataGas),
    finalizeNodeGas: Number(finalizeGas),
    commitGas: Number(commitGas[1]!),
    claimLastGas: Number(claimGas.at(-1)!),
    baselineTransferGas: Number(transferGas),
    poolPaidExactly: pool.pool === pool.paid,
  }),
);
