/**
 * npm run bench:governance: gas of one Protocol DAO proposal's life cycle on the in-process EVM,
 * a one-call proposal (PaymentEscrow.setRevenueSplit): propose, castVote, castVoteWithReason,
 * queue and execute. Baselines measured in the same run: a MESH transfer between delegated
 * holders, and the same setRevenueSplit called directly by the role holder before the hand-over,
 * so the governance overhead is visible.
 * The last line is one JSON object: {proposeGas, castVoteGas, executeGas, ...}.
 */
import { id, parseEther, type ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import { defaultGovernanceParams, deployGovernance, type DaoParams } from "../deploy/governance.js";
import { deployProtocol } from "../deploy/protocol.js";

const { ethers, networkHelpers } = await network.create();
const [deployer, voter1, voter2, voter3, recipient] = (await ethers.getSigners()) as [
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
];
const { protocol } = await deployProtocol(deployer, { network: "bench" });
const { token, escrow } = protocol;

async function gas(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

// Voters: 30M + 15M + 1M MESH, self-delegated (quorum: 4% of the 1B supply = 40M).
for (const [voter, amount] of [
  [voter1, parseEther("30000000")],
  [voter2, parseEther("15000000")],
  [voter3, parseEther("1000000")],
] as const) {
  await token.connect(deployer).transfer(voter.address, amount);
  await token.connect(voter).delegate(voter.address);
}

// Baselines: a MESH transfer from a delegated holder to a fresh delegated account, and the
// revenue split set directly by the PROTOCOL role holder (the deployer, before the hand-over).
await token.connect(recipient).delegate(recipient.address);
const meshTransferGas = await gas(token.connect(voter3).transfer(recipient.address, parseEther("1")));
const directGas = await gas(
  escrow.connect(deployer).setRevenueSplit({ providerBps: 7500, nodeBps: 1500, protocolBps: 1000 }),
);

// The hand-over, with short timings (gas does not depend on them).
const short = (p: DaoParams): DaoParams => ({ ...p, votingDelay: 60, votingPeriod: 600, timelockDelay: 120 });
const defaults = defaultGovernanceParams();
const { governance } = await deployGovernance(protocol, deployer, {
  ...defaults,
  protocol: short(defaults.protocol),
  security: short(defaults.security),
  developer: short(defaults.developer),
  developerFund: parseEther("1000000"),
});
const { governor } = governance.protocol;

const targets = [await escrow.getAddress()];
const values = [0n];
const calldatas = [
  escrow.interface.encodeFunctionData("setRevenueSplit", [{ providerBps: 7000, nodeBps: 2000, protocolBps: 1000 }]),
];
const description = "PIP-1: set the PaymentEscrow revenue split to 70/20/10";
const descriptionHash = id(description);
const proposalId = await governor.hashProposal(targets, values, calldatas, descriptionHash);
const reason = "Nodes carry the traffic; a larger node share keeps coverage in thin regions.";

const proposeGas = await gas(governor.connect(voter1).propose(targets, values, calldatas, description));
await networkHelpers.time.increaseTo((await governor.proposalSnapshot(proposalId)) + 1n);
const castVoteGas = await gas(governor.connect(voter1).castVote(proposalId, 1));
const castVoteWithReasonGas = await gas(governor.connect(voter2).castVoteWithReason(proposalId, 1, reason));
const castVoteLaterGas = await gas(governor.connect(voter3).castVote(proposalId, 1));
await networkHelpers.time.increaseTo((await governor.proposalDeadline(proposalId)) + 1n);
const queueGas = await gas(governor.connect(voter1).queue(targets, values, calldatas, descriptionHash));
await networkHelpers.time.increaseTo(await governor.proposalEta(proposalId));
const executeGas = await gas(governor.connect(voter1).execute(targets, values, calldatas, descriptionHash));
if ((await governor.state(proposalId)) !== 7n) throw new Error("the proposal did not execute");
const split = await escrow.revenueSplit();
if (split.nodeBps !== 2000n) throw new Error("the proposal did not set the split");

const lifecycleGas = proposeGas + castVoteGas + castVoteWithReasonGas + castVoteLaterGas + queueGas + executeGas;
const rows: [string, bigint][] = [
  ["MESH transfer, votes delegated (baseline)", meshTransferGas],
  ["setRevenueSplit, direct by the role holder (baseline)", directGas],
  ["propose (one call: setRevenueSplit)", proposeGas],
  ["castVote (first vote: For tally 0 -> x)", castVoteGas],
  [`castVoteWithReason (second For, ${reason.length}-char reason)`, castVoteWithReasonGas],
  ["castVote (third For, no reason)", castVoteLaterGas],
  ["queue (schedules in the timelock)", queueGas],
  ["execute (timelock -> setRevenueSplit)", executeGas],
  ["whole life cycle (propose + 3 votes + queue + execute)", lifecycleGas],
];
console.log("Meshgate Protocol DAO proposal gas (in-process EVM, optimizer 200 runs)\n");
console.log(`${"action".padEnd(56)}${"gas".padStart(10)}${"x direct call".padStart(16)}`);
for (const [action, g] of rows) {
  console.log(
    `${action.padEnd(56)}${g.toString().padStart(10)}${(Number(g) / Number(directGas)).toFixed(2).padStart(16)}`,
  );
}
console.log(
  JSON.stringify({
    proposeGas: Number(proposeGas),
    castVoteGas: Number(castVoteGas),
    castVoteWithReasonGas: Number(castVoteWithReasonGas),
    castVoteLaterGas: Number(castVoteLaterGas),
    reasonGas: Number(castVoteWithReasonGas - castVoteLaterGas),
    queueGas: Number(queueGas),
    executeGas: Number(executeGas),
    lifecycleGas: Number(lifecycleGas),
    directCallGas: Number(directGas),
    executeOverheadGas: Number(executeGas - directGas),
    baselineMeshTransferGas: Number(meshTransferGas),
  }),
);
