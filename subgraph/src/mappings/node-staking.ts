import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import {
  AuthorityUpdated,
  DelegateChanged,
  DelegateVotesChanged,
  MinStakeUpdated,
  NodeExited,
  NodeRegistered,
  NodeSlashed,
  NodeUpdated,
  Paused,
  Staked,
  TreasuryUpdated,
  UnbondingPeriodUpdated,
  Unpaused,
  UnstakeStarted,
  Withdrawn,
} from "../../generated/NodeStaking/NodeStaking";
import { Node, NodeSlash, NodeTypeConfig, StakeEvent } from "../../generated/schema";
import { setAuthority, setPaused, setTreasury } from "../shared/contracts";
import { changeDelegate, setVotes } from "../shared/governance";
import { eventId } from "../shared/ids";
import { getProtocol } from "../shared/protocol";
import { initNodeReputation } from "../shared/reputation";

const CONTRACT = "NodeStaking";
/** Staked MESH is the Security DAO's votes source. */
const DAO = "Security";

/** INodeStaking.NodeType */
function nodeTypeName(nodeType: i32): string {
  if (nodeType == 0) return "Edge";
  if (nodeType == 1) return "Mobile";
  if (nodeType == 2) return "Cloud";
  if (nodeType == 3) return "Validator";
  throw new Error("unknown NodeType " + nodeType.toString());
}

/** The node of `operator`: it registered first (the contract emits nothing for unknown operators). */
function loadNode(operator: Bytes): Node {
  const node = Node.load(operator);
  if (node == null) throw new Error("Node " + operator.toHexString() + " is not indexed");
  return node;
}

function recordStakeEvent(
  event: ethereum.Event,
  node: Node,
  kind: string,
  amount: BigInt,
  releaseAt: BigInt | null,
): void {
  const record = new StakeEvent(eventId(event));
  record.node = node.id;
  record.kind = kind;
  record.amount = amount;
  record.stakeAfter = node.stake;
  record.unbondingAfter = node.unbonding;
  record.releaseAt = releaseAt;
  record.timestamp = event.block.timestamp;
  record.blockNumber = event.block.number;
  record.transactionHash = event.transaction.hash;
  record.save();
}

export function handleNodeRegistered(event: NodeRegistered): void {
  const p = event.params;
  const protocol = getProtocol();
  let node = Node.load(p.operator);
  if (node == null) {
    node = new Node(p.operator);
    const zero = BigInt.zero();
    node.stake = zero;
    node.unbonding = zero;
    node.totalStaked = zero;
    node.totalWithdrawn = zero;
    node.slashedFromStake = zero;
    node.slashedFromUnbonding = zero;
    node.servedValue = zero;
    node.redemptionCount = 0;
    node.earned = zero;
    node.earningsClaimed = zero;
    node.rewardsClaimed = zero;
    initNodeReputation(node);
    protocol.nodeCount = protocol.nodeCount + 1;
  }
  // A re-registration (after exiting) keeps any unbonding funds; Staked sets the stake next.
  node.nodeType = nodeTypeName(p.nodeType);
  node.region = p.region;
  node.url = p.url;
  node.capacity = p.capacity;
  node.status = "Active";
  node.registeredAt = event.block.timestamp;
  node.updatedAt = event.block.timestamp;
  node.save();

  protocol.activeNodeCount = protocol.activeNodeCount + 1;
  protocol.save();
}

export function handleNodeUpdated(event: NodeUpdated): void {
  const node = loadNode(event.params.operator);
  node.region = event.params.region;
  node.url = event.params.url;
  node.capacity = event.params.capacity;
  node.updatedAt = event.block.timestamp;
  node.save();
}

export function handleStaked(event: Staked): void {
  const p = event.params;
  const node = loadNode(p.operator);
  node.stake = p.totalStake;
  node.totalStaked = node.totalStaked.plus(p.amount);
  node.updatedAt = event.block.timestamp;
  node.save();
  recordStakeEvent(event, node, "Staked", p.amount, null);

  const protocol = getProtocol();
  protocol.nodeTotalStaked = protocol.nodeTotalStaked.plus(p.amount);
  protocol.save();
}

export function handleUnstakeStarted(event: UnstakeStarted): void {
  const p = event.params;
  const node = loadNode(p.operator);
  node.stake = node.stake.minus(p.amount);
  node.unbonding = p.totalUnbonding;
  node.unbondingReleaseAt = p.releaseAt;
  node.updatedAt = event.block.timestamp;
  node.save();
  recordStakeEvent(event, node, "UnstakeStarted", p.amount, p.releaseAt);

  const protocol = getProtocol();
  protocol.nodeTotalStaked = protocol.nodeTotalStaked.minus(p.amount);
  protocol.nodeTotalUnbonding = protocol.nodeTotalUnbonding.plus(p.amount);
  protocol.save();
}

export function handleWithdrawn(event: Withdrawn): void {
  const p = event.params;
  const node = loadNode(p.operator);
  node.unbonding = BigInt.zero();
  node.unbondingReleaseAt = null;
  node.totalWithdrawn = node.totalWithdrawn.plus(p.amount);
  // An exiting node's record is deleted on-chain once its funds are out.
  if (node.status == "Exiting") node.status = "Exited";
  node.updatedAt = event.block.timestamp;
  node.save();
  recordStakeEvent(event, node, "Withdrawn", p.amount, null);

  const protocol = getProtocol();
  protocol.nodeTotalUnbonding = protocol.nodeTotalUnbonding.minus(p.amount);
  protocol.save();
}

export function handleNodeExited(event: NodeExited): void {
  const node = loadNode(event.params.operator);
  node.status = "Exiting";
  node.updatedAt = event.block.timestamp;
  node.save();

  const protocol = getProtocol();
  protocol.activeNodeCount = protocol.activeNodeCount - 1;
  protocol.save();
}

export function handleNodeSlashed(event: NodeSlashed): void {
  const p = event.params;
  const node = loadNode(p.operator);
  node.stake = node.stake.minus(p.fromStake);
  node.unbonding = node.unbonding.minus(p.fromUnbonding);
  if (node.unbonding.isZero()) node.unbondingReleaseAt = null;
  node.slashedFromStake = node.slashedFromStake.plus(p.fromStake);
  node.slashedFromUnbonding = node.slashedFromUnbonding.plus(p.fromUnbonding);
  // Slashed to nothing: the contract deletes the node (NodeExited came first if it was active).
  if (node.stake.isZero() && node.unbonding.isZero()) node.status = "Exited";
  node.updatedAt = event.block.timestamp;
  node.save();

  const slash = new NodeSlash(eventId(event));
  slash.node = node.id;
  slash.fromStake = p.fromStake;
  slash.fromUnbonding = p.fromUnbonding;
  slash.amount = p.fromStake.plus(p.fromUnbonding);
  slash.recipient = p.recipient;
  slash.reason = p.reason;
  slash.timestamp = event.block.timestamp;
  slash.blockNumber = event.block.number;
  slash.transactionHash = event.transaction.hash;
  slash.save();

  const protocol = getProtocol();
  protocol.nodeTotalStaked = protocol.nodeTotalStaked.minus(p.fromStake);
  protocol.nodeTotalUnbonding = protocol.nodeTotalUnbonding.minus(p.fromUnbonding);
  protocol.nodeTotalSlashed = protocol.nodeTotalSlashed.plus(slash.amount);
  protocol.save();
}

export function handleMinStakeUpdated(event: MinStakeUpdated): void {
  const name = nodeTypeName(event.params.nodeType);
  const config = new NodeTypeConfig(name);
  config.nodeType = name;
  config.minStake = event.params.amount;
  config.save();
}

export function handleUnbondingPeriodUpdated(event: UnbondingPeriodUpdated): void {
  const protocol = getProtocol();
  protocol.nodeUnbondingPeriod = event.params.period;
  protocol.save();
}

export function handleDelegateChanged(event: DelegateChanged): void {
  const p = event.params;
  changeDelegate(DAO, p.delegator, p.fromDelegate, p.toDelegate, event.block.timestamp);
}

export function handleDelegateVotesChanged(event: DelegateVotesChanged): void {
  setVotes(DAO, event.params.delegate, event.params.newVotes);
}

export function handleTreasuryUpdated(event: TreasuryUpdated): void {
  setTreasury(CONTRACT, event, event.params.treasury);
}

export function handlePaused(event: Paused): void {
  setPaused(CONTRACT, event, true);
}

export function handleUnpaused(event: Unpaused): void {
  setPaused(CONTRACT, event, false);
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
