import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import { ApiDailyUsage, NodeDailyUsage } from "../../generated/schema";
import { dayOf, dayStart, joinId } from "./ids";

/** Adds one redemption to its API's UTC-day bucket. */
export function recordApiUsage(
  apiId: string,
  timestamp: BigInt,
  paid: BigInt,
  providerShare: BigInt,
  nodeShare: BigInt,
  protocolShare: BigInt,
): void {
  const day = dayOf(timestamp);
  const id = joinId(apiId, day.toString());
  let usage = ApiDailyUsage.load(id);
  if (usage == null) {
    usage = new ApiDailyUsage(id);
    usage.api = apiId;
    usage.day = day;
    usage.dayStart = dayStart(day);
    usage.redeemedValue = BigInt.zero();
    usage.redemptionCount = 0;
    usage.providerRevenue = BigInt.zero();
    usage.nodeRevenue = BigInt.zero();
    usage.protocolRevenue = BigInt.zero();
  }
  usage.redeemedValue = usage.redeemedValue.plus(paid);
  usage.redemptionCount = usage.redemptionCount + 1;
  usage.providerRevenue = usage.providerRevenue.plus(providerShare);
  usage.nodeRevenue = usage.nodeRevenue.plus(nodeShare);
  usage.protocolRevenue = usage.protocolRevenue.plus(protocolShare);
  usage.save();
}

/** Adds one redemption to its node's UTC-day bucket. */
export function recordNodeUsage(node: Bytes, timestamp: BigInt, paid: BigInt, nodeShare: BigInt): void {
  const day = dayOf(timestamp);
  const id = joinId(node.toHexString(), day.toString());
  let usage = NodeDailyUsage.load(id);
  if (usage == null) {
    usage = new NodeDailyUsage(id);
    usage.node = node;
    usage.day = day;
    usage.dayStart = dayStart(day);
    usage.redeemedValue = BigInt.zero();
    usage.redemptionCount = 0;
    usage.earned = BigInt.zero();
  }
  usage.redeemedValue = usage.redeemedValue.plus(paid);
  usage.redemptionCount = usage.redemptionCount + 1;
  usage.earned = usage.earned.plus(nodeShare);
  usage.save();
}
