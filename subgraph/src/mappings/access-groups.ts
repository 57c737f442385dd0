import { BigInt } from "@graphprotocol/graph-ts";
import {
  AuthorityUpdated,
  DepositWithdrawn,
  GroupCreated,
  GroupUpdated,
  MemberExited,
  MemberJoined,
  MemberSlashed,
  Paused,
  SlashCommitted,
  SlashRewardBpsUpdated,
  TreasuryUpdated,
  Unpaused,
} from "../../generated/AccessGroups/AccessGroups";
import { AccessGroup, AccessGroupMember, AccessSlashCommit } from "../../generated/schema";
import { setAuthority, setPaused, setTreasury } from "../shared/contracts";
import { eventId, joinId } from "../shared/ids";
import { getProtocol } from "../shared/protocol";

const CONTRACT = "AccessGroups";

function loadGroup(apiId: BigInt): AccessGroup {
  const group = AccessGroup.load(apiId.toString());
  if (group == null) throw new Error("AccessGroup " + apiId.toString() + " is not indexed");
  return group;
}

function memberId(apiId: BigInt, commitment: BigInt): string {
  return joinId(apiId.toString(), commitment.toString());
}

function loadMember(apiId: BigInt, commitment: BigInt): AccessGroupMember {
  const id = memberId(apiId, commitment);
  const member = AccessGroupMember.load(id);
  if (member == null) throw new Error("AccessGroupMember " + id + " is not indexed");
  return member;
}

export function handleGroupCreated(event: GroupCreated): void {
  const p = event.params;
  const group = new AccessGroup(p.apiId.toString());
  group.api = p.apiId.toString();
  group.depositToken = p.depositToken;
  group.deposit = p.deposit;
  group.epochLength = p.epochLength;
  group.userMessageLimit = p.userMessageLimit;
  group.rootHistoryWindow = p.rootHistoryWindow;
  group.requireSubscription = p.requireSubscription;
  group.root = BigInt.zero();
  group.size = 0;
  group.activeMemberCount = 0;
  group.createdAt = event.block.timestamp;
  group.updatedAt = event.block.timestamp;
  group.save();

  const protocol = getProtocol();
  protocol.accessGroupCount = protocol.accessGroupCount + 1;
  protocol.save();
}

export function handleGroupUpdated(event: GroupUpdated): void {
  const p = event.params;
  const group = loadGroup(p.apiId);
  group.deposit = p.deposit;
  group.epochLength = p.epochLength;
  group.userMessageLimit = p.userMessageLimit;
  group.rootHistoryWindow = p.rootHistoryWindow;
  group.requireSubscription = p.requireSubscription;
  group.updatedAt = event.block.timestamp;
  group.save();
}

export function handleMemberJoined(event: MemberJoined): void {
  const p = event.params;
  const group = loadGroup(p.apiId);
  group.root = p.root;
  // `index` is the size of the tree before the insert.
  group.size = p.index.toI32() + 1;
  group.activeMemberCount = group.activeMemberCount + 1;
  group.updatedAt = event.block.timestamp;
  group.save();

  // A commitment whose deposit was withdrawn may join again: start the record afresh.
  const member = new AccessGroupMember(memberId(p.apiId, p.commitment));
  member.group = group.id;
  member.commitment = p.commitment;
  member.owner = p.owner;
  member.index = p.index;
  member.deposit = p.deposit;
  member.status = "Active";
  member.lapsed = false;
  member.joinedAt = event.block.timestamp;
  // graph-node merges a saved entity into the stored one: clear the previous membership's fields.
  member.unlockAt = null;
  member.exitedAt = null;
  member.slashedBy = null;
  member.slashReward = null;
  member.slashToTreasury = null;
  member.withdrawnAt = null;
  member.save();
}

export function handleMemberExited(event: MemberExited): void {
  const p = event.params;
  const group = loadGroup(p.apiId);
  group.root = p.root;
  group.activeMemberCount = group.activeMemberCount - 1;
  group.updatedAt = event.block.timestamp;
  group.save();

  const member = loadMember(p.apiId, p.commitment);
  member.status = "Exiting";
  member.lapsed = p.lapsed;
  member.unlockAt = p.unlockAt;
  member.exitedAt = event.block.timestamp;
  member.save();
}

export function handleMemberSlashed(event: MemberSlashed): void {
  const p = event.params;
  const member = loadMember(p.apiId, p.commitment);
  const group = loadGroup(p.apiId);
  // An active member leaves the tree; an exiting one had left it already.
  if (member.status == "Active") group.activeMemberCount = group.activeMemberCount - 1;
  group.root = p.root;
  group.updatedAt = event.block.timestamp;
  group.save();

  member.status = "Slashed";
  member.unlockAt = null;
  member.slashedBy = p.slasher;
  member.slashReward = p.reward;
  member.slashToTreasury = p.toTreasury;
  member.save();
}

export function handleDepositWithdrawn(event: DepositWithdrawn): void {
  const member = loadMember(event.params.apiId, event.params.commitment);
  member.status = "Withdrawn";
  member.unlockAt = null;
  member.withdrawnAt = event.block.timestamp;
  member.save();
}

export function handleSlashCommitted(event: SlashCommitted): void {
  const commit = new AccessSlashCommit(eventId(event));
  commit.digest = event.params.digest;
  commit.committer = event.params.committer;
  commit.timestamp = event.block.timestamp;
  commit.blockNumber = event.block.number;
  commit.transactionHash = event.transaction.hash;
  commit.save();
}

export function handleSlashRewardBpsUpdated(event: SlashRewardBpsUpdated): void {
  const protocol = getProtocol();
  protocol.accessSlashRewardBps = event.params.slashRewardBps;
  protocol.save();
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
