import { expect } from "chai";
import { id, MaxUint256, parseEther, type BaseContract } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployGovernance, type DaoName, type DaoParams, type GovernanceParams } from "../../../deploy/governance.js";
import { deployProtocol } from "../../../deploy/protocol.js";
import { escrowDomain } from "../../../sdk/vouchers.js";
import {
  MockAggregatorV3__factory,
  MockERC20__factory,
  type MeshGovernor,
} from "../../../types/ethers-contracts/index.js";
import { apiInput, ethers, MODEL_PAY_PER_CALL, networkHelpers, NodeType, region } from "./fixture.js";

type Signer = HardhatEthersSigner;

/** IGovernor.ProposalState, as the contract returns it (bigint). */
export const ProposalState = {
  Pending: 0n,
  Active: 1n,
  Canceled: 2n,
  Defeated: 3n,
  Succeeded: 4n,
  Queued: 5n,
  Expired: 6n,
  Executed: 7n,
} as const;

/** GovernorCountingSimple vote types. */
export const Vote = { Against: 0, For: 1, Abstain: 2 } as const;

/** TimelockController.OperationState. */
export const OperationState = { Unset: 0, Waiting: 1, Ready: 2, Done: 3 } as const;

/** The bitmap Governor and TimelockController put in their state errors. */
export function stateBitmap(...states: (number | bigint)[]): string {
  const bits = states.reduce<bigint>((acc, s) => acc | (1n << BigInt(s)), 0n);
  return `0x${bits.toString(16).padStart(64, "0")}`;
}

/** Short timings so a whole proposal takes a few simulated minutes. */
export const SHORT = { votingDelay: 60, votingPeriod: 600, timelockDelay: 120 } as const;

/** MESH held by the fixture's Protocol DAO voters (all self-delegated but the seller). */
export const MESH = {
  voter1: parseEther("30000000"),
  voter2: parseEther("15000000"),
  voter3: parseEther("1000000"),
  seller: parseEther("5000000"),
} as const;

/** Node stakes of the Security DAO voters (self-delegated on registration). */
export const STAKE = {
  secVoter1: parseEther("20000"),
  secVoter2: parseEther("10000"),
  badNode: parseEther("2000"),
  nodeOp: parseEther("1000"),
} as const;
export const TOTAL_STAKED = STAKE.secVoter1 + STAKE.secVoter2 + STAKE.badNode + STAKE.nodeOp;

export const DEVELOPER_FUND = parseEther("1000000");
export const CHANNEL_DEPOSIT = 1_000_000_000n; // 1,000 USDC (6 decimals)
export const API_ID = 1n;

const dao = (over: Partial<DaoParams>): DaoParams => ({
  votingDelay: SHORT.votingDelay,
  votingPeriod: SHORT.votingPeriod,
  timelockDelay: SHORT.timelockDelay,
  proposalThreshold: 0n,
  quorumPercent: 4,
  minQuorum: 0n,
  ...over,
});

/** The governance params of the fixture: short timings, thresholds sized to its voters. */
export function shortGovernanceParams(initialDevelopers: string[], guardian?: string): GovernanceParams {
  return {
    protocol: dao({ proposalThreshold: parseEther("100000"), quorumPercent: 4 }),
    security: dao({ proposalThreshold: parseEther("5000"), quorumPercent: 10 }),
    // 50% of three credentials: a quorum of one (10% would round down to zero).
    developer: dao({ proposalThreshold: 1n, quorumPercent: 50 }),
    developerFund: DEVELOPER_FUND,
    initialDevelopers,
    ...(guardian === undefined ? {} : { guardian }),
  };
}

async function build(withGuardian: boolean) {
  const signers = await ethers.getSigners();
  const at = (i: number): Signer => {
    const s = signers[i];
    if (s === undefined) throw new Error(`the governance fixture needs ${i + 1} accounts`);
    return s;
  };
  const [deployer, voter1, voter2, voter3, seller, lateBuyer] = [at(0), at(1), at(2), at(3), at(4), at(5)];
  const [secVoter1, secVoter2, badNode, nodeOp, provider, payer] = [at(6), at(7), at(8), at(9), at(10), at(11)];
  const [dev1, dev2, dev3, grantee, outsider, guardian] = [at(12), at(13), at(14), at(15), at(16), at(17)];
  const { protocol } = await deployProtocol(deployer, { network: "test" });
  const { token, staking, registry, escrow, oracle } = protocol;

  // Protocol DAO voters: MESH from the deployer (still the treasury), self-delegated.
  for (const [who, amount] of [
    [voter1, MESH.voter1],
    [voter2, MESH.voter2],
    [voter3, MESH.voter3],
    [seller, MESH.seller],
  ] as const) {
    await token.connect(deployer).transfer(who.address, amount);
  }
  for (const v of [voter1, voter2, voter3]) await token.connect(v).delegate(v.address);

  // Security DAO voters: node operators (stake votes self-delegate on registration).
  const stakingAddress = await staking.getAddress();
  const nodes: [Signer, number, bigint][] = [
    [secVoter1, NodeType.Validator, STAKE.secVoter1],
    [secVoter2, NodeType.Cloud, STAKE.secVoter2],
    [badNode, NodeType.Edge, STAKE.badNode],
    [nodeOp, NodeType.Edge, STAKE.nodeOp],
  ];
  for (const [op, nodeType, amount] of nodes) {
    await token.connect(deployer).transfer(op.address, amount);
    await token.connect(op).approve(stakingAddress, amount);
    await staking.connect(op).registerNode(nodeType, region("eu-west-1"), `https://${op.address}.example`, 100, amount);
  }

  // A pay-per-call API priced in USDC (id 1) and a payer with a funded channel to nodeOp.
  const usdc = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
  const dai = await new MockERC20__factory(deployer).deploy("Dai", "DAI", 18);
  const usdcAddress = await usdc.getAddress();
  const base = apiInput(usdcAddress);
  await registry.connect(provider).register({
    ...base,
    pricing: { ...base.pricing, models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0n, stakerDiscount: false },
  });
  const escrowAddress = await escrow.getAddress();
  await usdc.mint(payer.address, CHANNEL_DEPOSIT);
  await usdc.connect(payer).approve(escrowAddress, MaxUint256);
  await escrow.connect(payer).deposit(nodeOp.address, API_ID, usdcAddress, CHANNEL_DEPOSIT);

  // A USD feed (for DAI) set while the deployer still holds PROTOCOL, and a spare feed.
  const feed = await new MockAggregatorV3__factory(deployer).deploy(8, 100_000_000n);
  await oracle.connect(deployer).setFeed(await dai.getAddress(), await feed.getAddress(), 3600);

  const params = shortGovernanceParams(
    [dev1.address, dev2.address, dev3.address],
    withGuardian ? guardian.address : undefined,
  );
  const { governance, addresses } = await deployGovernance(protocol, deployer, params);

  const chainId = (await ethers.provider.getNetwork()).chainId;
  const accounts = {
    deployer,
    voter1,
    voter2,
    voter3,
    seller,
    lateBuyer,
    secVoter1,
    secVoter2,
    badNode,
    nodeOp,
    provider,
    payer,
    dev1,
    dev2,
    dev3,
    grantee,
    outsider,
    guardian,
  };
  return {
    ...protocol,
    governance,
    addresses,
    params,
    usdc,
    dai,
    feed,
    usdcAddress,
    escrowAddress,
    domain: escrowDomain(chainId, escrowAddress),
    ...accounts,
    /** Every EOA the fixture used. */
    eoas: Object.values(accounts),
  };
}

/**
 * The protocol handed over to its three DAOs by the real deploy code (short timings):
 * - Protocol DAO (MESH): voter1 30M, voter2 15M, voter3 1M, all self-delegated (quorum 4% of
 *   the 1B supply = 40M; threshold 100k); seller holds 5M undelegated.
 * - Security DAO (NodeStaking stake): secVoter1 20k, secVoter2 10k, badNode 2k, nodeOp 1k
 *   (quorum 10% = 3.3k; threshold 5k).
 * - Developer DAO (credentials): dev1..dev3 (quorum 1; threshold 1).
 * - API 1 (provider) pay-per-call in USDC; payer has 1,000 USDC in its channel to nodeOp.
 * - DAI has a USD feed. The treasury is the Protocol timelock, the developer fund (1M MESH) the
 *   Developer timelock. No guardian EOA.
 */
export async function governanceFixture() {
  return build(false);
}

/** The same, with `guardian` as the emergency guardian EOA (pause only). */
export async function guardianGovernanceFixture() {
  return build(true);
}

export type GovFixture = Awaited<ReturnType<typeof governanceFixture>>;

// ------------------------------------------------------------------ proposals

/** One call of a proposal. */
export interface Call {
  target: string;
  value: bigint;
  data: string;
}

/** `contract.fn(...args)` as a proposal call. */
export async function call(contract: BaseContract, fn: string, args: unknown[] = []): Promise<Call> {
  return { target: await contract.getAddress(), value: 0n, data: contract.interface.encodeFunctionData(fn, args) };
}

export interface Proposal {
  id: bigint;
  targets: string[];
  values: bigint[];
  calldatas: string[];
  description: string;
  descriptionHash: string;
}

/** The proposal `calls` + `description` would be (id included), without proposing it. */
export async function proposalOf(governor: MeshGovernor, calls: Call[], description: string): Promise<Proposal> {
  const targets = calls.map((c) => c.target);
  const values = calls.map((c) => c.value);
  const calldatas = calls.map((c) => c.data);
  const descriptionHash = id(description);
  const proposalId = await governor.hashProposal(targets, values, calldatas, descriptionHash);
  return { id: proposalId, targets, values, calldatas, description, descriptionHash };
}

/** Proposes `calls` from `proposer`. */
export async function propose(
  governor: MeshGovernor,
  proposer: Signer,
  calls: Call[],
  description: string,
): Promise<Proposal> {
  const p = await proposalOf(governor, calls, description);
  await governor.connect(proposer).propose(p.targets, p.values, p.calldatas, p.description);
  return p;
}

export function queue(governor: MeshGovernor, p: Proposal) {
  return governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
}

export function execute(governor: MeshGovernor, p: Proposal) {
  return governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash);
}

/** Moves time just past the proposal's snapshot: voting is open. */
export async function toVoting(governor: MeshGovernor, p: Proposal): Promise<void> {
  await networkHelpers.time.increaseTo((await governor.proposalSnapshot(p.id)) + 1n);
}

/** Moves time just past the proposal's deadline: voting is closed. */
export async function toDeadline(governor: MeshGovernor, p: Proposal): Promise<void> {
  await networkHelpers.time.increaseTo((await governor.proposalDeadline(p.id)) + 1n);
}

/** Moves time to the queued proposal's eta: the timelock operation is ready. */
export async function toEta(governor: MeshGovernor, p: Proposal): Promise<void> {
  await networkHelpers.time.increaseTo(await governor.proposalEta(p.id));
}

/**
 * Takes `calls` through `dao` up to a ready timelock operation, checking the state at each
 * step: propose (Pending), every voter votes For with a reason (Active; weight = its votes at
 * the snapshot), Succeeded after the deadline, queue (Queued, eta = now + timelock delay), then
 * waits until the eta. Returns the proposal, ready to execute.
 */
export async function readyProposal(
  f: GovFixture,
  daoName: DaoName,
  proposer: Signer,
  voters: Signer[],
  calls: Call[],
  description: string,
): Promise<Proposal> {
  const { governor, timelock } = f.governance[daoName];
  const p = await proposalOf(governor, calls, description);
  await expect(governor.connect(proposer).propose(p.targets, p.values, p.calldatas, p.description)).to.emit(
    governor,
    "ProposalCreated",
  );
  expect(await governor.state(p.id)).to.equal(ProposalState.Pending);
  expect(await governor.proposalProposer(p.id)).to.equal(proposer.address);

  await toVoting(governor, p);
  expect(await governor.state(p.id)).to.equal(ProposalState.Active);
  const snapshot = await governor.proposalSnapshot(p.id);
  let forVotes = 0n;
  for (const voter of voters) {
    const weight = await governor.getVotes(voter.address, snapshot);
    expect(weight, `${voter.address} has votes at the snapshot`).to.be.greaterThan(0n);
    const reason = `${daoName}: yes from ${voter.address}`;
    await expect(governor.connect(voter).castVoteWithReason(p.id, Vote.For, reason))
      .to.emit(governor, "VoteCast")
      .withArgs(voter.address, p.id, Vote.For, weight, reason);
    forVotes += weight;
  }
  const [against, forCount, abstain] = await governor.proposalVotes(p.id);
  expect([against, forCount, abstain]).to.deep.equal([0n, forVotes, 0n]);
  expect(forVotes).to.be.at.least(await governor.quorum(snapshot));
  expect(await governor.state(p.id)).to.equal(ProposalState.Active);

  await toDeadline(governor, p);
  expect(await governor.state(p.id)).to.equal(ProposalState.Succeeded);

  const delay = await timelock.getMinDelay();
  const queued = await queue(governor.connect(proposer), p);
  const queuedAt = BigInt((await ethers.provider.getBlock((await queued.wait())!.blockNumber))!.timestamp);
  await expect(queued)
    .to.emit(governor, "ProposalQueued")
    .withArgs(p.id, queuedAt + delay);
  expect(await governor.state(p.id)).to.equal(ProposalState.Queued);
  expect(await governor.proposalEta(p.id)).to.equal(queuedAt + delay);

  await toEta(governor, p);
  return p;
}

/**
 * `readyProposal`, then executes it (from an outsider: the timelock's executor role is open)
 * and checks it is Executed. Returns the proposal and the execute transaction, for the caller
 * to check its effects.
 */
export async function passProposal(
  f: GovFixture,
  daoName: DaoName,
  proposer: Signer,
  voters: Signer[],
  calls: Call[],
  description: string,
) {
  const { governor } = f.governance[daoName];
  const proposal = await readyProposal(f, daoName, proposer, voters, calls, description);
  const tx = await execute(governor.connect(f.outsider), proposal);
  await expect(tx).to.emit(governor, "ProposalExecuted").withArgs(proposal.id);
  expect(await governor.state(proposal.id)).to.equal(ProposalState.Executed);
  return { proposal, tx };
}

/** An impersonated, funded signer for a contract address (a timelock). */
export async function impersonate(address: string): Promise<Signer> {
  await networkHelpers.impersonateAccount(address);
  await networkHelpers.setBalance(address, parseEther("100"));
  return ethers.getSigner(address);
}
