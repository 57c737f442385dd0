import { encodeBytes32String, id, parseEther } from "ethers";
import type { RoleRule } from "../../../deploy/roles.js";
import { DAY, NodeType } from "./fixture.js";

/** What the arguments of privileged calls refer to in a given fixture. */
export interface PrivilegedCallState {
  /** A fresh address to make the treasury. */
  newTreasury: string;
  /** A listed API (to delist, to tier). */
  apiId: bigint;
  /** An operator with stake (to slash). */
  slashable: string;
  /** A token without a feed (to set one) and one with a feed (to remove). */
  tokenWithoutFeed: string;
  tokenWithFeed: string;
  feed: string;
  /** An account without a credential (to issue one) and an issued credential (to revoke). */
  credentialRecipient: string;
  credentialId: bigint;
}

/**
 * Valid arguments for every privileged function of deploy/roles.ts's ROLE_TABLE, so that only
 * authorization can make a call fail. A new ROLE_TABLE row fails loudly until it is added here.
 */
export function privilegedCallArgs(s: PrivilegedCallState, rule: RoleRule): unknown[] {
  if (rule.fn === "emergencyPause" || rule.fn === "emergencyUnpause") return []; // unpause: pause first
  const key = `${rule.contract}.${rule.fn}`;
  switch (key) {
    case "ApiRegistry.setListingBounds":
      return [
        {
          maxPricePerCall: parseEther("1"),
          maxPricePerPeriod: parseEther("100"),
          minPeriod: 3600,
          maxPeriod: 30 * DAY,
          maxMetadataLength: 256,
          listingFee: 0n,
        },
      ];
    case "ApiRegistry.setTreasury":
    case "NodeStaking.setTreasury":
    case "PaymentEscrow.setTreasury":
    case "Subscriptions.setTreasury":
    case "AccessGroups.setTreasury":
      return [s.newTreasury];
    case "ApiRegistry.delist":
      return [s.apiId, encodeBytes32String("malware")];
    case "NodeStaking.setMinStake":
      return [NodeType.Edge, parseEther("500")];
    case "NodeStaking.setUnbondingPeriod":
      return [2 * DAY];
    case "NodeStaking.slash":
      return [s.slashable, parseEther("1"), encodeBytes32String("test")];
    case "UsdPriceOracle.setFeed":
      return [s.tokenWithoutFeed, s.feed, 3600];
    case "UsdPriceOracle.removeFeed":
      return [s.tokenWithFeed];
    case "PaymentEscrow.setRevenueSplit":
      return [{ providerBps: 7000, nodeBps: 2000, protocolBps: 1000 }];
    case "PaymentEscrow.setThawPeriod":
      return [3 * DAY];
    case "DiscountStaking.setTiers":
      return [[{ minStake: parseEther("500"), discountBps: 300 }]];
    case "DiscountStaking.setCooldown":
      return [3 * DAY];
    case "Subscriptions.setProtocolBps":
      return [1000];
    case "AccessGroups.setSlashRewardBps":
      return [2500];
    case "DeveloperCredential.issue":
      return [s.credentialRecipient];
    case "DeveloperCredential.revoke":
      return [s.credentialId];
    case "DeveloperCredential.setMinApiAge":
      return [7 * DAY];
    case "RateLimitPolicy.setPolicy":
      return [1, { requestsPerWindow: 100, windowSeconds: 60, burst: 10 }];
    case "RateLimitPolicy.setApiTier":
      return [s.apiId, 0]; // tier 0 always has a policy (set by the constructor)
    case "Reputation.setScoringParams":
      return [
        {
          latencyTargetMicros: 200_000,
          smoothingBps: 5000,
          ratingShareBps: 1000,
          minReports: 2,
          ratingFullSpend: 10n ** 6n,
        },
      ];
    case "Reputation.setSlashingPolicy":
      return [{ thresholdBps: 3000, epochs: 2 }];
    case "NodeRewards.setEmission":
      return [parseEther("5000")];
    case "NodeRewards.setRewardToken":
      return [s.tokenWithoutFeed, 10n ** 12n]; // any token: 1e12 points per base unit (6 decimals to 18)
    case "NodeRewards.setUnscoredFactor":
      return [2500];
    case "FeatureFlags.setFlag":
      return [id("streaming-responses"), true, 2500];
    default:
      throw new Error(`no arguments defined for ${key}: add them to test/mocha/helpers/privileged-calls.ts`);
  }
}
