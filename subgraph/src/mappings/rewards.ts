import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import {
  AuthorityUpdated,
  EmissionUpdated,
  EpochPoolAllocated,
  Funded,
  RewardClaimed,
  RewardCommitted,
  RewardTokenUpdated,
  UnscoredFactorUpdated,
} from "../../generated/NodeRewards/NodeRewards";
import { Node, NodeScore, RewardCommitment, RewardEpoch, RewardsFunding, RewardToken } from "../../generated/schema";
import { setAuthority } from "../shared/contracts";
import { eventId, joinId } from "../shared/ids";
import { getProtocol } from "../shared/protocol";
import { getPaymentToken } from "../shared/tokens";

const CONTRACT = "NodeRewards";

/** An epoch's pool: EpochPoolAllocated comes first, in the epoch's first commit. */
function loadRewardEpoch(epoch: string): RewardEpoch {
  const rewardEpoch = RewardEpoch.load(epoch);
  if (rewardEpoch == null) throw new Error("RewardEpoch " + epoch + " is not indexed");
  return rewardEpoch;
}

/** A commitment's id: "0xoperator-12", like the node's NodeScore of that epoch. */
function commitmentId(node: Bytes, epoch: string): string {
  return joinId(node.toHexString(), epoch);
}

export function handleFunded(event: Funded): void {
  const funding = new RewardsFunding(eventId(event));
  funding.from = event.params.from;
  funding.amount = event.params.amount;
  funding.timestamp = event.block.timestamp;
  funding.blockNumber = event.block.number;
  funding.transactionHash = event.transaction.hash;
  funding.save();

  const protocol = getProtocol();
  protocol.rewardsFunded = protocol.rewardsFunded.plus(event.params.amount);
  protocol.save();
}

export function handleEmissionUpdated(event: EmissionUpdated): void {
  const protocol = getProtocol();
  protocol.rewardEmissionPerEpoch = event.params.perEpoch;
  protocol.save();
}

export function handleUnscoredFactorUpdated(event: UnscoredFactorUpdated): void {
  const protocol = getProtocol();
  protocol.rewardUnscoredFactorBps = event.params.factorBps;
  protocol.save();
}

export function handleRewardTokenUpdated(event: RewardTokenUpdated): void {
  const p = event.params;
  let rewardToken = RewardToken.load(p.token);
  if (rewardToken == null) {
    rewardToken = new RewardToken(p.token);
    rewardToken.token = p.token;
    // The token may not have moved through Meshgate yet.
    getPaymentToken(p.token).save();
  }
  rewardToken.pointsPerUnit = p.pointsPerUnit;
  rewardToken.active = !p.pointsPerUnit.isZero();
  rewardToken.updatedAt = event.block.timestamp;
  rewardToken.save();
}

export function handleEpochPoolAllocated(event: EpochPoolAllocated): void {
  const p = event.params;
  const rewardEpoch = new RewardEpoch(p.epoch.toString());
  rewardEpoch.epoch = p.epoch.toI32();
  rewardEpoch.pool = p.amount;
  rewardEpoch.totalWeight = BigInt.zero();
  rewardEpoch.paid = BigInt.zero();
  rewardEpoch.claimedWeight = BigInt.zero();
  rewardEpoch.commitmentCount = 0;
  rewardEpoch.claimCount = 0;
  rewardEpoch.allocatedAt = event.block.timestamp;
  rewardEpoch.save();

  const protocol = getProtocol();
  protocol.rewardsAllocated = protocol.rewardsAllocated.plus(p.amount);
  protocol.rewardsReserved = protocol.rewardsReserved.plus(p.amount);
  protocol.save();
}

export function handleRewardCommitted(event: RewardCommitted): void {
  const p = event.params;
  const epoch = p.epoch.toString();
  const rewardEpoch = loadRewardEpoch(epoch);
  // One per node and epoch; only active nodes commit, so the Node is indexed. A node may be
  // committed again with a higher weight (during the same window, before any claim), which
  // replaces the previous one in the epoch's total.
  const id = commitmentId(p.node, epoch);
  let commitment = RewardCommitment.load(id);
  if (commitment == null) {
    commitment = new RewardCommitment(id);
    commitment.rewardEpoch = epoch;
    commitment.epoch = p.epoch.toI32();
    commitment.node = p.node;
    commitment.commitCount = 0;
    commitment.claimed = false;
    rewardEpoch.commitmentCount = rewardEpoch.commitmentCount + 1;
  } else {
    rewardEpoch.totalWeight = rewardEpoch.totalWeight.minus(commitment.weight);
  }
  rewardEpoch.totalWeight = rewardEpoch.totalWeight.plus(p.weight);
  rewardEpoch.save();

  commitment.points = p.points;
  commitment.factorBps = p.factorBps;
  // NodeRewards uses the node's score when Reputation finalized the epoch for it (NodeScored).
  commitment.scored = NodeScore.load(id) != null;
  commitment.weight = p.weight;
  commitment.commitCount = commitment.commitCount + 1;
  commitment.committedAt = event.block.timestamp;
  commitment.save();
}

export function handleRewardClaimed(event: RewardClaimed): void {
  const p = event.params;
  const epoch = p.epoch.toString();
  const commitment = RewardCommitment.load(commitmentId(p.node, epoch));
  if (commitment == null) throw new Error("RewardCommitment " + commitmentId(p.node, epoch) + " is not indexed");
  commitment.claimed = true;
  commitment.claimedAmount = p.amount;
  commitment.claimedAt = event.block.timestamp;
  commitment.save();

  const rewardEpoch = loadRewardEpoch(epoch);
  rewardEpoch.paid = rewardEpoch.paid.plus(p.amount);
  rewardEpoch.claimedWeight = rewardEpoch.claimedWeight.plus(commitment.weight);
  rewardEpoch.claimCount = rewardEpoch.claimCount + 1;
  rewardEpoch.save();

  const node = Node.load(p.node);
  if (node == null) throw new Error("Node " + p.node.toHexString() + " is not indexed");
  node.rewardsClaimed = node.rewardsClaimed.plus(p.amount);
  node.save();

  const protocol = getProtocol();
  protocol.rewardsPaid = protocol.rewardsPaid.plus(p.amount);
  protocol.rewardsReserved = protocol.rewardsReserved.minus(p.amount);
  protocol.save();
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
