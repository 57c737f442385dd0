import { BigInt } from "@graphprotocol/graph-ts";
import { Protocol } from "../../generated/schema";

const PROTOCOL_ID = "1";

/** The Protocol singleton, created zeroed on first use (parameters arrive with constructor events). */
export function getProtocol(): Protocol {
  let protocol = Protocol.load(PROTOCOL_ID);
  if (protocol != null) return protocol;
  protocol = new Protocol(PROTOCOL_ID);
  const zero = BigInt.zero();
  protocol.apiCount = 0;
  protocol.activeApiCount = 0;
  protocol.providerCount = 0;
  protocol.nodeCount = 0;
  protocol.activeNodeCount = 0;
  protocol.channelCount = 0;
  protocol.subscriptionCount = 0;
  protocol.discountStakerCount = 0;
  protocol.accessGroupCount = 0;
  protocol.credentialCount = 0;
  protocol.proposalCount = 0;
  protocol.nodeTotalStaked = zero;
  protocol.nodeTotalUnbonding = zero;
  protocol.nodeTotalSlashed = zero;
  protocol.discountTotalStaked = zero;
  protocol.discountTotalCooling = zero;
  protocol.listingFeesPaid = zero;
  protocol.totalDeposited = zero;
  protocol.totalWithdrawn = zero;
  protocol.totalRedeemed = zero;
  protocol.totalSubscriptionPaid = zero;
  protocol.providerRevenue = zero;
  protocol.nodeRevenue = zero;
  protocol.protocolRevenue = zero;
  protocol.providerBps = 0;
  protocol.nodeBps = 0;
  protocol.escrowProtocolBps = 0;
  protocol.subscriptionProtocolBps = 0;
  protocol.escrowThawPeriod = zero;
  protocol.nodeUnbondingPeriod = zero;
  protocol.discountCooldown = zero;
  protocol.discountTierCount = 0;
  protocol.accessSlashRewardBps = 0;
  protocol.credentialMinApiAge = zero;
  protocol.maxPricePerCall = zero;
  protocol.maxPricePerPeriod = zero;
  protocol.minPeriod = zero;
  protocol.maxPeriod = zero;
  protocol.maxMetadataLength = 0;
  protocol.listingFee = zero;
  return protocol;
}
