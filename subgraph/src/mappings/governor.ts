// One mapping for the three MeshGovernor data sources (same ABI). Each data source names its own
// handlers (handleProtocol*, handleSecurity*, handleDeveloper*), which tell the shared logic the
// DAO without a host call. The event classes of one data source serve all three: the events are
// identical.
import { Address, BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import {
  MinQuorumUpdated,
  ProposalCanceled,
  ProposalCreated,
  ProposalExecuted,
  ProposalQueued,
  ProposalThresholdSet,
  QuorumNumeratorUpdated,
  TimelockChange,
  VoteCast,
  VoteCastWithParams,
  VotingDelaySet,
  VotingPeriodSet,
} from "../../generated/ProtocolGovernor/MeshGovernor";
import { Dao, Proposal, Vote } from "../../generated/schema";
import { getDao, getDelegate } from "../shared/governance";
import { joinId } from "../shared/ids";
import { getProtocol } from "../shared/protocol";

const PROTOCOL = "Protocol";
const SECURITY = "Security";
const DEVELOPER = "Developer";

// ------------------------------------------------------------------------------ shared logic

/** The DAO of the governor that emitted `event` (its address fills in the placeholder). */
function daoOf(name: string, event: ethereum.Event): Dao {
  const dao = getDao(name);
  dao.governor = event.address;
  return dao;
}

function loadProposal(dao: string, proposalId: BigInt): Proposal {
  const id = joinId(dao, proposalId.toString());
  const proposal = Proposal.load(id);
  if (proposal == null) throw new Error("Proposal " + id + " is not indexed");
  return proposal;
}

function proposalCreated(name: string, event: ProposalCreated): void {
  const p = event.params;
  const dao = daoOf(name, event);
  dao.proposalCount = dao.proposalCount + 1;
  dao.save();
  const protocol = getProtocol();
  protocol.proposalCount = protocol.proposalCount + 1;
  protocol.save();

  const targets = new Array<Bytes>();
  for (let i = 0; i < p.targets.length; i++) targets.push(p.targets[i]);

  const proposal = new Proposal(joinId(name, p.proposalId.toString()));
  proposal.dao = name;
  proposal.proposalId = p.proposalId;
  proposal.proposer = p.proposer;
  proposal.targets = targets;
  proposal.values = p.values;
  proposal.signatures = p.signatures;
  proposal.calldatas = p.calldatas;
  proposal.description = p.description;
  proposal.voteStart = p.voteStart;
  proposal.voteEnd = p.voteEnd;
  proposal.status = "Proposed";
  proposal.forVotes = BigInt.zero();
  proposal.againstVotes = BigInt.zero();
  proposal.abstainVotes = BigInt.zero();
  proposal.voteCount = 0;
  proposal.createdAt = event.block.timestamp;
  proposal.createdAtBlock = event.block.number;
  proposal.transactionHash = event.transaction.hash;
  proposal.save();
}

/** GovernorCountingSimple: support 0 against, 1 for, 2 abstain. */
function castVote(
  name: string,
  event: ethereum.Event,
  voter: Address,
  proposalId: BigInt,
  support: i32,
  weight: BigInt,
  reason: string,
  params: Bytes | null,
): void {
  const proposal = loadProposal(name, proposalId);
  let supportName = "Abstain";
  if (support == 0) {
    supportName = "Against";
    proposal.againstVotes = proposal.againstVotes.plus(weight);
  } else if (support == 1) {
    supportName = "For";
    proposal.forVotes = proposal.forVotes.plus(weight);
  } else {
    proposal.abstainVotes = proposal.abstainVotes.plus(weight);
  }
  proposal.voteCount = proposal.voteCount + 1;
  proposal.save();

  // Voting with no votes is allowed, so the voter may have no Delegate yet.
  const delegate = getDelegate(name, voter);
  delegate.save();

  const vote = new Vote(joinId(proposal.id, voter.toHexString()));
  vote.proposal = proposal.id;
  vote.voter = delegate.id;
  vote.support = supportName;
  vote.weight = weight;
  vote.reason = reason;
  vote.params = params;
  vote.timestamp = event.block.timestamp;
  vote.blockNumber = event.block.number;
  vote.transactionHash = event.transaction.hash;
  vote.save();
}

function voteCast(name: string, event: VoteCast): void {
  const p = event.params;
  castVote(name, event, p.voter, p.proposalId, p.support, p.weight, p.reason, null);
}

function voteCastWithParams(name: string, event: VoteCastWithParams): void {
  const p = event.params;
  castVote(name, event, p.voter, p.proposalId, p.support, p.weight, p.reason, p.params);
}

function proposalQueued(name: string, event: ProposalQueued): void {
  const proposal = loadProposal(name, event.params.proposalId);
  proposal.status = "Queued";
  proposal.eta = event.params.etaSeconds;
  proposal.queuedAt = event.block.timestamp;
  proposal.save();
}

function proposalExecuted(name: string, event: ProposalExecuted): void {
  const proposal = loadProposal(name, event.params.proposalId);
  proposal.status = "Executed";
  proposal.executedAt = event.block.timestamp;
  proposal.save();
}

function proposalCanceled(name: string, event: ProposalCanceled): void {
  const proposal = loadProposal(name, event.params.proposalId);
  proposal.status = "Canceled";
  proposal.canceledAt = event.block.timestamp;
  proposal.save();
}

function votingDelaySet(name: string, event: VotingDelaySet): void {
  const dao = daoOf(name, event);
  dao.votingDelay = event.params.newVotingDelay;
  dao.save();
}

function votingPeriodSet(name: string, event: VotingPeriodSet): void {
  const dao = daoOf(name, event);
  dao.votingPeriod = event.params.newVotingPeriod;
  dao.save();
}

function proposalThresholdSet(name: string, event: ProposalThresholdSet): void {
  const dao = daoOf(name, event);
  dao.proposalThreshold = event.params.newProposalThreshold;
  dao.save();
}

function quorumNumeratorUpdated(name: string, event: QuorumNumeratorUpdated): void {
  const dao = daoOf(name, event);
  dao.quorumNumerator = event.params.newQuorumNumerator;
  dao.save();
}

function timelockChange(name: string, event: TimelockChange): void {
  const dao = daoOf(name, event);
  dao.timelock = event.params.newTimelock;
  dao.save();
}

function minQuorumUpdated(name: string, event: MinQuorumUpdated): void {
  const dao = daoOf(name, event);
  dao.minQuorum = event.params.newMinQuorum;
  dao.save();
}

// ------------------------------------------------------------------------------ Protocol DAO

export function handleProtocolProposalCreated(event: ProposalCreated): void {
  proposalCreated(PROTOCOL, event);
}
export function handleProtocolVoteCast(event: VoteCast): void {
  voteCast(PROTOCOL, event);
}
export function handleProtocolVoteCastWithParams(event: VoteCastWithParams): void {
  voteCastWithParams(PROTOCOL, event);
}
export function handleProtocolProposalQueued(event: ProposalQueued): void {
  proposalQueued(PROTOCOL, event);
}
export function handleProtocolProposalExecuted(event: ProposalExecuted): void {
  proposalExecuted(PROTOCOL, event);
}
export function handleProtocolProposalCanceled(event: ProposalCanceled): void {
  proposalCanceled(PROTOCOL, event);
}
export function handleProtocolVotingDelaySet(event: VotingDelaySet): void {
  votingDelaySet(PROTOCOL, event);
}
export function handleProtocolVotingPeriodSet(event: VotingPeriodSet): void {
  votingPeriodSet(PROTOCOL, event);
}
export function handleProtocolProposalThresholdSet(event: ProposalThresholdSet): void {
  proposalThresholdSet(PROTOCOL, event);
}
export function handleProtocolQuorumNumeratorUpdated(event: QuorumNumeratorUpdated): void {
  quorumNumeratorUpdated(PROTOCOL, event);
}
export function handleProtocolTimelockChange(event: TimelockChange): void {
  timelockChange(PROTOCOL, event);
}
export function handleProtocolMinQuorumUpdated(event: MinQuorumUpdated): void {
  minQuorumUpdated(PROTOCOL, event);
}

// ------------------------------------------------------------------------------ Security DAO

export function handleSecurityProposalCreated(event: ProposalCreated): void {
  proposalCreated(SECURITY, event);
}
export function handleSecurityVoteCast(event: VoteCast): void {
  voteCast(SECURITY, event);
}
export function handleSecurityVoteCastWithParams(event: VoteCastWithParams): void {
  voteCastWithParams(SECURITY, event);
}
export function handleSecurityProposalQueued(event: ProposalQueued): void {
  proposalQueued(SECURITY, event);
}
export function handleSecurityProposalExecuted(event: ProposalExecuted): void {
  proposalExecuted(SECURITY, event);
}
export function handleSecurityProposalCanceled(event: ProposalCanceled): void {
  proposalCanceled(SECURITY, event);
}
export function handleSecurityVotingDelaySet(event: VotingDelaySet): void {
  votingDelaySet(SECURITY, event);
}
export function handleSecurityVotingPeriodSet(event: VotingPeriodSet): void {
  votingPeriodSet(SECURITY, event);
}
export function handleSecurityProposalThresholdSet(event: ProposalThresholdSet): void {
  proposalThresholdSet(SECURITY, event);
}
export function handleSecurityQuorumNumeratorUpdated(event: QuorumNumeratorUpdated): void {
  quorumNumeratorUpdated(SECURITY, event);
}
export function handleSecurityTimelockChange(event: TimelockChange): void {
  timelockChange(SECURITY, event);
}
export function handleSecurityMinQuorumUpdated(event: MinQuorumUpdated): void {
  minQuorumUpdated(SECURITY, event);
}

// ------------------------------------------------------------------------------ Developer DAO

export function handleDeveloperProposalCreated(event: ProposalCreated): void {
  proposalCreated(DEVELOPER, event);
}
export function handleDeveloperVoteCast(event: VoteCast): void {
  voteCast(DEVELOPER, event);
}
export function handleDeveloperVoteCastWithParams(event: VoteCastWithParams): void {
  voteCastWithParams(DEVELOPER, event);
}
export function handleDeveloperProposalQueued(event: ProposalQueued): void {
  proposalQueued(DEVELOPER, event);
}
export function handleDeveloperProposalExecuted(event: ProposalExecuted): void {
  proposalExecuted(DEVELOPER, event);
}
export function handleDeveloperProposalCanceled(event: ProposalCanceled): void {
  proposalCanceled(DEVELOPER, event);
}
export function handleDeveloperVotingDelaySet(event: VotingDelaySet): void {
  votingDelaySet(DEVELOPER, event);
}
export function handleDeveloperVotingPeriodSet(event: VotingPeriodSet): void {
  votingPeriodSet(DEVELOPER, event);
}
export function handleDeveloperProposalThresholdSet(event: ProposalThresholdSet): void {
  proposalThresholdSet(DEVELOPER, event);
}
export function handleDeveloperQuorumNumeratorUpdated(event: QuorumNumeratorUpdated): void {
  quorumNumeratorUpdated(DEVELOPER, event);
}
export function handleDeveloperTimelockChange(event: TimelockChange): void {
  timelockChange(DEVELOPER, event);
}
export function handleDeveloperMinQuorumUpdated(event: MinQuorumUpdated): void {
  minQuorumUpdated(DEVELOPER, event);
}
