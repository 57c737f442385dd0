import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import { Api, ApiEarnings, PaymentToken, Protocol, Provider } from "../../generated/schema";
import { joinId } from "./ids";
import { getPaymentToken } from "./tokens";

// EarningsLedger bookkeeping shared by PaymentEscrow and Subscriptions (`ledger` is the
// EarningsLedger enum value: each contract keeps its own earnings).

function getApiEarnings(ledger: string, apiId: BigInt, token: Bytes): ApiEarnings {
  const id = joinId(joinId(ledger, apiId.toString()), token.toHexString());
  let earnings = ApiEarnings.load(id);
  if (earnings != null) return earnings;
  earnings = new ApiEarnings(id);
  earnings.api = apiId.toString();
  earnings.ledger = ledger;
  earnings.token = token;
  earnings.providerEarned = BigInt.zero();
  earnings.providerClaimed = BigInt.zero();
  earnings.providerUnclaimed = BigInt.zero();
  earnings.protocolEarned = BigInt.zero();
  return earnings;
}

/**
 * Credits an API's provider and protocol shares (EarningsLedger._creditApi) and the running
 * totals. The caller holds `api`, `token` and `protocol` and saves them afterwards.
 */
export function creditApi(
  ledger: string,
  api: Api,
  token: PaymentToken,
  protocol: Protocol,
  providerShare: BigInt,
  protocolShare: BigInt,
): void {
  const earnings = getApiEarnings(ledger, api.apiId, token.id);
  earnings.providerEarned = earnings.providerEarned.plus(providerShare);
  earnings.providerUnclaimed = earnings.providerUnclaimed.plus(providerShare);
  earnings.protocolEarned = earnings.protocolEarned.plus(protocolShare);
  earnings.save();

  // The share belongs to whoever provides the API now (a new provider claims earlier earnings too).
  const provider = Provider.load(api.provider);
  if (provider == null) throw new Error("Provider of Api " + api.id + " is not indexed");
  provider.revenue = provider.revenue.plus(providerShare);
  provider.save();

  api.providerRevenue = api.providerRevenue.plus(providerShare);
  api.protocolRevenue = api.protocolRevenue.plus(protocolShare);
  token.providerRevenue = token.providerRevenue.plus(providerShare);
  token.protocolRevenue = token.protocolRevenue.plus(protocolShare);
  protocol.providerRevenue = protocol.providerRevenue.plus(providerShare);
  protocol.protocolRevenue = protocol.protocolRevenue.plus(protocolShare);
}

/** ProviderEarningsClaimed: the API's whole provider share in `token` left the ledger. */
export function claimProviderEarnings(
  ledger: string,
  apiId: BigInt,
  providerAddress: Bytes,
  tokenAddress: Bytes,
  amount: BigInt,
): void {
  const earnings = getApiEarnings(ledger, apiId, tokenAddress);
  earnings.providerClaimed = earnings.providerClaimed.plus(amount);
  earnings.providerUnclaimed = earnings.providerUnclaimed.minus(amount);
  earnings.save();

  const provider = Provider.load(providerAddress);
  if (provider == null) throw new Error("Provider " + providerAddress.toHexString() + " is not indexed");
  provider.earningsClaimed = provider.earningsClaimed.plus(amount);
  provider.save();

  const token = getPaymentToken(tokenAddress);
  token.providerEarningsClaimed = token.providerEarningsClaimed.plus(amount);
  token.save();
}

/** ProtocolFeesCollected: the event does not say which APIs the fees came from, only the token. */
export function collectProtocolFees(tokenAddress: Bytes, amount: BigInt): void {
  const token = getPaymentToken(tokenAddress);
  token.protocolFeesCollected = token.protocolFeesCollected.plus(amount);
  token.save();
}
