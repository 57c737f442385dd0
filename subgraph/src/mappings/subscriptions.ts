import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import {
  AuthorityUpdated,
  BalanceDeposited,
  BalanceWithdrawn,
  Paused,
  ProtocolBpsUpdated,
  ProtocolFeesCollected,
  ProviderEarningsClaimed,
  RenewalFailed,
  Renewed,
  Subscribed,
  SubscriptionCancelled,
  TreasuryUpdated,
  Unpaused,
} from "../../generated/Subscriptions/Subscriptions";
import { ApiSubscription, PrepaidBalance, RenewalFailure, SubscriptionPayment } from "../../generated/schema";
import { setAuthority, setPaused, setTreasury } from "../shared/contracts";
import { claimProviderEarnings, collectProtocolFees, creditApi } from "../shared/earnings";
import { eventId, joinId } from "../shared/ids";
import { bpsOf } from "../shared/numbers";
import { getProtocol } from "../shared/protocol";
import { loadApi } from "../shared/registry";
import { getPaymentToken } from "../shared/tokens";

const CONTRACT = "Subscriptions";
const LEDGER = "Subscriptions";
const SELECTOR_LENGTH = 4;

function loadSubscription(subscriptionId: BigInt): ApiSubscription {
  const subscription = ApiSubscription.load(subscriptionId.toString());
  if (subscription == null) throw new Error("Subscription " + subscriptionId.toString() + " is not indexed");
  return subscription;
}

function getPrepaidBalance(payer: Bytes, token: Bytes): PrepaidBalance {
  const id = joinId(payer.toHexString(), token.toHexString());
  let balance = PrepaidBalance.load(id);
  if (balance != null) return balance;
  balance = new PrepaidBalance(id);
  balance.payer = payer;
  balance.token = token;
  balance.balance = BigInt.zero();
  balance.deposited = BigInt.zero();
  balance.withdrawn = BigInt.zero();
  balance.spent = BigInt.zero();
  return balance;
}

/**
 * Books `periods` x `pricePerPeriod` paid for `subscription` (saved by the caller): the split of
 * Subscriptions._credit (protocol share rounded down, the provider gets the rest), the totals,
 * and a SubscriptionPayment record.
 */
function pay(
  event: ethereum.Event,
  subscription: ApiSubscription,
  apiId: BigInt,
  tokenAddress: Bytes,
  kind: string,
  periods: BigInt,
  pricePerPeriod: BigInt,
): void {
  const amount = pricePerPeriod.times(periods);
  const protocol = getProtocol();
  const protocolShare = bpsOf(amount, protocol.subscriptionProtocolBps);
  const providerShare = amount.minus(protocolShare);

  subscription.periodsPaid = subscription.periodsPaid.plus(periods);
  subscription.totalPaid = subscription.totalPaid.plus(amount);

  const api = loadApi(apiId);
  const token = getPaymentToken(tokenAddress);
  creditApi(LEDGER, api, token, protocol, providerShare, protocolShare);
  api.subscriptionPaidValue = api.subscriptionPaidValue.plus(amount);
  api.save();
  token.subscriptionPaid = token.subscriptionPaid.plus(amount);
  token.save();
  protocol.totalSubscriptionPaid = protocol.totalSubscriptionPaid.plus(amount);
  protocol.save();

  const payment = new SubscriptionPayment(eventId(event));
  payment.subscription = subscription.id;
  payment.kind = kind;
  payment.token = tokenAddress;
  payment.periods = periods;
  payment.pricePerPeriod = pricePerPeriod;
  payment.amount = amount;
  payment.providerShare = providerShare;
  payment.protocolShare = protocolShare;
  payment.paidUntil = subscription.paidUntil;
  payment.timestamp = event.block.timestamp;
  payment.blockNumber = event.block.number;
  payment.transactionHash = event.transaction.hash;
  payment.save();
}

export function handleSubscribed(event: Subscribed): void {
  const p = event.params;
  const id = p.subscriptionId.toString();
  let subscription = ApiSubscription.load(id);
  if (subscription == null) {
    subscription = new ApiSubscription(id);
    subscription.subscriptionId = p.subscriptionId;
    subscription.payer = p.payer;
    subscription.api = p.apiId.toString();
    subscription.periodsPaid = BigInt.zero();
    subscription.totalPaid = BigInt.zero();
    subscription.renewalCount = 0;
    subscription.failedRenewalCount = 0;
    subscription.createdAt = event.block.timestamp;

    const api = loadApi(p.apiId);
    api.subscriptionCount = api.subscriptionCount + 1;
    api.save();
    const protocol = getProtocol();
    protocol.subscriptionCount = protocol.subscriptionCount + 1;
    protocol.save();
  }
  // Subscribing again extends the subscription and replaces its token and price limit.
  subscription.token = p.token;
  subscription.period = p.period;
  subscription.paidUntil = p.paidUntil;
  subscription.autoRenew = true;
  subscription.maxPricePerPeriod = p.maxPricePerPeriod;
  subscription.lastPricePerPeriod = p.pricePerPeriod;
  subscription.cancelledAt = null;
  subscription.updatedAt = event.block.timestamp;
  pay(event, subscription, p.apiId, p.token, "Subscribe", p.periods, p.pricePerPeriod);
  subscription.save();
}

export function handleRenewed(event: Renewed): void {
  const p = event.params;
  const subscription = loadSubscription(p.subscriptionId);
  subscription.period = p.period;
  subscription.paidUntil = p.paidUntil;
  subscription.lastPricePerPeriod = p.price;
  subscription.renewalCount = subscription.renewalCount + 1;
  subscription.updatedAt = event.block.timestamp;
  pay(event, subscription, p.apiId, p.token, "Renew", BigInt.fromI32(1), p.price);
  subscription.save();

  // Renewals are paid from the prepaid balance.
  const balance = getPrepaidBalance(p.payer, p.token);
  balance.balance = balance.balance.minus(p.price);
  balance.spent = balance.spent.plus(p.price);
  balance.save();
  const token = getPaymentToken(p.token);
  token.prepaidBalance = token.prepaidBalance.minus(p.price);
  token.save();
}

export function handleRenewalFailed(event: RenewalFailed): void {
  const subscription = loadSubscription(event.params.subscriptionId);
  subscription.autoRenew = false;
  subscription.failedRenewalCount = subscription.failedRenewalCount + 1;
  subscription.updatedAt = event.block.timestamp;
  subscription.save();

  const reason = event.params.reason;
  const failure = new RenewalFailure(eventId(event));
  failure.subscription = subscription.id;
  failure.reason = reason;
  failure.errorSelector =
    reason.length >= SELECTOR_LENGTH ? Bytes.fromUint8Array(reason.subarray(0, SELECTOR_LENGTH)) : Bytes.empty();
  failure.timestamp = event.block.timestamp;
  failure.blockNumber = event.block.number;
  failure.transactionHash = event.transaction.hash;
  failure.save();
}

export function handleSubscriptionCancelled(event: SubscriptionCancelled): void {
  const subscription = loadSubscription(event.params.subscriptionId);
  subscription.autoRenew = false;
  subscription.cancelledAt = event.block.timestamp;
  subscription.updatedAt = event.block.timestamp;
  subscription.save();
}

export function handleBalanceDeposited(event: BalanceDeposited): void {
  const p = event.params;
  const balance = getPrepaidBalance(p.payer, p.token);
  balance.balance = p.balance;
  balance.deposited = balance.deposited.plus(p.amount);
  balance.save();

  const token = getPaymentToken(p.token);
  token.prepaidDeposited = token.prepaidDeposited.plus(p.amount);
  token.prepaidBalance = token.prepaidBalance.plus(p.amount);
  token.save();
}

export function handleBalanceWithdrawn(event: BalanceWithdrawn): void {
  const p = event.params;
  const balance = getPrepaidBalance(p.payer, p.token);
  balance.balance = p.balance;
  balance.withdrawn = balance.withdrawn.plus(p.amount);
  balance.save();

  const token = getPaymentToken(p.token);
  token.prepaidWithdrawn = token.prepaidWithdrawn.plus(p.amount);
  token.prepaidBalance = token.prepaidBalance.minus(p.amount);
  token.save();
}

export function handleProviderEarningsClaimed(event: ProviderEarningsClaimed): void {
  const p = event.params;
  claimProviderEarnings(LEDGER, p.apiId, p.provider, p.token, p.amount);
}

export function handleProtocolFeesCollected(event: ProtocolFeesCollected): void {
  collectProtocolFees(event.params.token, event.params.amount);
}

export function handleProtocolBpsUpdated(event: ProtocolBpsUpdated): void {
  const protocol = getProtocol();
  protocol.subscriptionProtocolBps = event.params.protocolBps;
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
