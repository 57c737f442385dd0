import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import {
  AuthorityUpdated,
  Deposited,
  NodeEarningsClaimed,
  Paused,
  ProtocolFeesCollected,
  ProviderEarningsClaimed,
  Redeemed,
  RevenueSplitUpdated,
  SignerAuthorized,
  SignerRevocationStarted,
  ThawPeriodUpdated,
  TreasuryUpdated,
  Unpaused,
  WithdrawalCancelled,
  WithdrawalStarted,
  Withdrawn,
} from "../../generated/PaymentEscrow/PaymentEscrow";
import {
  Api,
  Channel,
  Deposit,
  Node,
  NodeEarnings,
  Redemption,
  SignerAuthorization,
  Withdrawal,
} from "../../generated/schema";
import { setAuthority, setPaused, setTreasury } from "../shared/contracts";
import { claimProviderEarnings, collectProtocolFees, creditApi } from "../shared/earnings";
import { eventId, joinId } from "../shared/ids";
import { bpsOf } from "../shared/numbers";
import { getProtocol } from "../shared/protocol";
import { loadApi } from "../shared/registry";
import { getPaymentToken } from "../shared/tokens";
import { recordApiUsage, recordNodeUsage } from "../shared/usage";

const CONTRACT = "PaymentEscrow";
const LEDGER = "PaymentEscrow";

/** A channel: opened by its first Deposited, which names payer, node, API and token. */
function loadChannel(channelId: Bytes): Channel {
  const channel = Channel.load(channelId);
  if (channel == null) throw new Error("Channel " + channelId.toHexString() + " is not indexed");
  return channel;
}

function getNodeEarnings(node: Bytes, token: Bytes): NodeEarnings {
  const id = joinId(node.toHexString(), token.toHexString());
  let earnings = NodeEarnings.load(id);
  if (earnings != null) return earnings;
  earnings = new NodeEarnings(id);
  earnings.node = node;
  earnings.token = token;
  earnings.earned = BigInt.zero();
  earnings.claimed = BigInt.zero();
  earnings.unclaimed = BigInt.zero();
  return earnings;
}

export function handleDeposited(event: Deposited): void {
  const p = event.params;
  const token = getPaymentToken(p.token);
  const protocol = getProtocol();
  let channel = Channel.load(p.channelId);
  if (channel == null) {
    channel = new Channel(p.channelId);
    channel.payer = p.payer;
    channel.node = p.node;
    channel.api = p.apiId.toString();
    channel.token = p.token;
    channel.balance = BigInt.zero();
    channel.redeemed = BigInt.zero();
    channel.deposited = BigInt.zero();
    channel.withdrawn = BigInt.zero();
    channel.depositCount = 0;
    channel.redemptionCount = 0;
    channel.createdAt = event.block.timestamp;

    const api = loadApi(p.apiId);
    api.channelCount = api.channelCount + 1;
    api.save();
    token.channelCount = token.channelCount + 1;
    protocol.channelCount = protocol.channelCount + 1;
  }
  channel.balance = p.balance;
  channel.deposited = channel.deposited.plus(p.amount);
  channel.depositCount = channel.depositCount + 1;
  channel.updatedAt = event.block.timestamp;
  channel.save();

  token.escrowDeposited = token.escrowDeposited.plus(p.amount);
  token.escrowBalance = token.escrowBalance.plus(p.amount);
  token.save();
  protocol.totalDeposited = protocol.totalDeposited.plus(p.amount);
  protocol.save();

  const deposit = new Deposit(eventId(event));
  deposit.channel = p.channelId;
  deposit.payer = p.payer;
  deposit.amount = p.amount;
  deposit.balanceAfter = p.balance;
  deposit.timestamp = event.block.timestamp;
  deposit.blockNumber = event.block.number;
  deposit.transactionHash = event.transaction.hash;
  deposit.save();
}

export function handleWithdrawalStarted(event: WithdrawalStarted): void {
  const channel = loadChannel(event.params.channelId);
  channel.pendingWithdrawal = event.params.amount;
  channel.withdrawalThawEndsAt = event.params.thawEndsAt;
  channel.updatedAt = event.block.timestamp;
  channel.save();
}

export function handleWithdrawalCancelled(event: WithdrawalCancelled): void {
  const channel = loadChannel(event.params.channelId);
  channel.pendingWithdrawal = null;
  channel.withdrawalThawEndsAt = null;
  channel.updatedAt = event.block.timestamp;
  channel.save();
}

export function handleWithdrawn(event: Withdrawn): void {
  const p = event.params;
  const channel = loadChannel(p.channelId);
  channel.balance = p.balance;
  channel.withdrawn = channel.withdrawn.plus(p.amount);
  channel.pendingWithdrawal = null;
  channel.withdrawalThawEndsAt = null;
  channel.updatedAt = event.block.timestamp;
  channel.save();

  const token = getPaymentToken(channel.token);
  token.escrowWithdrawn = token.escrowWithdrawn.plus(p.amount);
  token.escrowBalance = token.escrowBalance.minus(p.amount);
  token.save();
  const protocol = getProtocol();
  protocol.totalWithdrawn = protocol.totalWithdrawn.plus(p.amount);
  protocol.save();

  const withdrawal = new Withdrawal(eventId(event));
  withdrawal.channel = p.channelId;
  withdrawal.payer = p.payer;
  withdrawal.amount = p.amount;
  withdrawal.balanceAfter = p.balance;
  withdrawal.timestamp = event.block.timestamp;
  withdrawal.blockNumber = event.block.number;
  withdrawal.transactionHash = event.transaction.hash;
  withdrawal.save();
}

export function handleSignerAuthorized(event: SignerAuthorized): void {
  // A key whose revocation took effect may be authorized again, by any payer.
  const signer = new SignerAuthorization(event.params.signer);
  signer.payer = event.params.payer;
  signer.authorizedAt = event.block.timestamp;
  signer.revokedAt = null;
  signer.revocationStartedAt = null;
  signer.save();
}

export function handleSignerRevocationStarted(event: SignerRevocationStarted): void {
  const signer = SignerAuthorization.load(event.params.signer);
  if (signer == null) throw new Error("Signer " + event.params.signer.toHexString() + " is not indexed");
  signer.revokedAt = event.params.revokedAt;
  signer.revocationStartedAt = event.block.timestamp;
  signer.save();
}

export function handleRedeemed(event: Redeemed): void {
  const p = event.params;
  const paid = p.paid;
  const timestamp = event.block.timestamp;
  const protocol = getProtocol();
  // PaymentEscrow.redeem and redeemBatch split each voucher alike: node and protocol shares
  // rounded down, the provider gets the rest (batches only group the writes).
  const nodeShare = bpsOf(paid, protocol.nodeBps);
  const protocolShare = bpsOf(paid, protocol.escrowProtocolBps);
  const providerShare = paid.minus(nodeShare).minus(protocolShare);

  const channel = loadChannel(p.channelId);
  channel.redeemed = p.cumulativeAmount;
  channel.balance = channel.balance.minus(paid);
  channel.redemptionCount = channel.redemptionCount + 1;
  channel.updatedAt = timestamp;
  channel.save();

  const api = Api.load(channel.api);
  if (api == null) throw new Error("Api " + channel.api + " is not indexed");
  const token = getPaymentToken(channel.token);
  creditApi(LEDGER, api, token, protocol, providerShare, protocolShare);
  api.callsPaidValue = api.callsPaidValue.plus(paid);
  api.redemptionCount = api.redemptionCount + 1;
  api.nodeRevenue = api.nodeRevenue.plus(nodeShare);
  api.save();
  token.redeemed = token.redeemed.plus(paid);
  token.escrowBalance = token.escrowBalance.minus(paid);
  token.nodeRevenue = token.nodeRevenue.plus(nodeShare);
  token.save();
  protocol.totalRedeemed = protocol.totalRedeemed.plus(paid);
  protocol.nodeRevenue = protocol.nodeRevenue.plus(nodeShare);
  protocol.save();

  const node = Node.load(channel.node);
  if (node == null) throw new Error("Node " + channel.node.toHexString() + " is not indexed");
  node.servedValue = node.servedValue.plus(paid);
  node.redemptionCount = node.redemptionCount + 1;
  node.earned = node.earned.plus(nodeShare);
  node.save();
  const earnings = getNodeEarnings(channel.node, channel.token);
  earnings.earned = earnings.earned.plus(nodeShare);
  earnings.unclaimed = earnings.unclaimed.plus(nodeShare);
  earnings.save();

  recordApiUsage(channel.api, timestamp, paid, providerShare, nodeShare, protocolShare);
  recordNodeUsage(channel.node, timestamp, paid, nodeShare);

  const redemption = new Redemption(eventId(event));
  redemption.channel = p.channelId;
  redemption.api = channel.api;
  redemption.node = channel.node;
  redemption.cumulativeAmount = p.cumulativeAmount;
  redemption.paid = paid;
  redemption.providerShare = providerShare;
  redemption.nodeShare = nodeShare;
  redemption.protocolShare = protocolShare;
  redemption.timestamp = timestamp;
  redemption.blockNumber = event.block.number;
  redemption.transactionHash = event.transaction.hash;
  redemption.save();
}

export function handleNodeEarningsClaimed(event: NodeEarningsClaimed): void {
  const p = event.params;
  const earnings = getNodeEarnings(p.node, p.token);
  earnings.claimed = earnings.claimed.plus(p.amount);
  earnings.unclaimed = earnings.unclaimed.minus(p.amount);
  earnings.save();

  const node = Node.load(p.node);
  if (node == null) throw new Error("Node " + p.node.toHexString() + " is not indexed");
  node.earningsClaimed = node.earningsClaimed.plus(p.amount);
  node.save();

  const token = getPaymentToken(p.token);
  token.nodeEarningsClaimed = token.nodeEarningsClaimed.plus(p.amount);
  token.save();
}

export function handleProviderEarningsClaimed(event: ProviderEarningsClaimed): void {
  const p = event.params;
  claimProviderEarnings(LEDGER, p.apiId, p.provider, p.token, p.amount);
}

export function handleProtocolFeesCollected(event: ProtocolFeesCollected): void {
  collectProtocolFees(event.params.token, event.params.amount);
}

export function handleRevenueSplitUpdated(event: RevenueSplitUpdated): void {
  const protocol = getProtocol();
  protocol.providerBps = event.params.providerBps;
  protocol.nodeBps = event.params.nodeBps;
  protocol.escrowProtocolBps = event.params.protocolBps;
  protocol.save();
}

export function handleThawPeriodUpdated(event: ThawPeriodUpdated): void {
  const protocol = getProtocol();
  protocol.escrowThawPeriod = event.params.thawPeriod;
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
