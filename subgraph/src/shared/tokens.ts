import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import { PaymentToken } from "../../generated/schema";

/** Per-token totals, created zeroed the first time a token moves through Meshgate. */
export function getPaymentToken(token: Bytes): PaymentToken {
  let entity = PaymentToken.load(token);
  if (entity != null) return entity;
  entity = new PaymentToken(token);
  const zero = BigInt.zero();
  entity.escrowDeposited = zero;
  entity.escrowWithdrawn = zero;
  entity.escrowBalance = zero;
  entity.redeemed = zero;
  entity.subscriptionPaid = zero;
  entity.prepaidDeposited = zero;
  entity.prepaidWithdrawn = zero;
  entity.prepaidBalance = zero;
  entity.providerRevenue = zero;
  entity.nodeRevenue = zero;
  entity.protocolRevenue = zero;
  entity.providerEarningsClaimed = zero;
  entity.nodeEarningsClaimed = zero;
  entity.protocolFeesCollected = zero;
  entity.channelCount = 0;
  return entity;
}
