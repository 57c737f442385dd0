import { parseEther } from "ethers";

/** Listing bounds as the ApiRegistry constructor takes them. */
export interface ListingBoundsParams {
  maxPricePerCall: bigint;
  maxPricePerPeriod: bigint;
  minPeriod: number;
  maxPeriod: number;
  maxMetadataLength: number;
  listingFee: bigint;
}

/** Everything a deployment can be tuned with; `defaultParams` fills in the rest. */
export interface DeployParams {
  /** Receives the fixed MESH supply, listing fees and slashed stake. */
  treasury: string;
  /** Gets the PROTOCOL role until governance takes it over. */
  protocolAdmin: string;
  /** Gets the SECURITY role until governance takes it over. */
  securityAdmin: string;
  /** Gets the DEVELOPER role until governance takes it over. */
  developerAdmin: string;
  /** The emergency guardian: may pause (only pause). Keeps that role after the hand-over. */
  guardian: string;
  /** How long an API must be listed before its provider can claim a developer credential, seconds. */
  credentialMinApiAge: number;
  /** Rate-limit policy of tier 0, the tier every API starts in. */
  defaultRatePolicy: { requestsPerWindow: number; windowSeconds: number; burst: number };
  /** Minimum stake per node type, indexed Edge, Mobile, Cloud, Validator (MESH wei). */
  minStakes: readonly [bigint, bigint, bigint, bigint];
  /** Unbonding period, seconds. */
  unbondingPeriod: number;
  listingBounds: ListingBoundsParams;
  /** How long escrow withdrawals and signer revocations thaw, seconds. */
  escrowThawPeriod: number;
  /** Shares of every voucher redemption, basis points summing to 10,000. */
  revenueSplit: { providerBps: number; nodeBps: number; protocolBps: number };
  /** Consumer discount tiers: strictly ascending MESH stakes, non-decreasing discounts (max 8). */
  discountTiers: readonly { minStake: bigint; discountBps: number }[];
  /** How long unstaked discount stake cools down before it can be withdrawn, seconds. */
  discountCooldown: number;
  /** Protocol share of subscription payments, basis points (at most 3,000). */
  subscriptionProtocolBps: number;
  /** The slasher's share of a slashed access-group deposit, basis points (the treasury gets the rest). */
  accessSlashRewardBps: number;
  /** Length of the protocol's epochs (reputation, rewards), seconds; fixed at deployment. */
  epochLength: number;
  /** Reputation scoring (Protocol DAO). */
  scoring: {
    latencyTargetMicros: number;
    smoothingBps: number;
    ratingShareBps: number;
    minReports: number;
    /** Spend behind a subject's ratings (US dollars, 18 decimals) that gives them their full share. */
    ratingFullSpend: bigint;
  };
  /** When a node may be reported to the Security DAO: epoch score under thresholdBps for `epochs` epochs. */
  slashingPolicy: { thresholdBps: number; epochs: number };
  /** MESH paid out to nodes per epoch (when funded). */
  rewardEmissionPerEpoch: bigint;
  /** Reputation factor of a node without a finalized score, basis points. */
  unscoredFactorBps: number;
}

const DAY = 24 * 60 * 60;

/** Local defaults: the deployer holds every role and the treasury. */
export function defaultParams(deployer: string): DeployParams {
  return {
    treasury: deployer,
    protocolAdmin: deployer,
    securityAdmin: deployer,
    developerAdmin: deployer,
    guardian: deployer,
    credentialMinApiAge: 30 * DAY,
    defaultRatePolicy: { requestsPerWindow: 600, windowSeconds: 60, burst: 100 },
    minStakes: [parseEther("1000"), parseEther("100"), parseEther("5000"), parseEther("10000")],
    unbondingPeriod: 7 * DAY,
    listingBounds: {
      // Caps are in 18-decimal units after scaling (1e18 = one dollar of a stablecoin).
      maxPricePerCall: parseEther("10"),
      maxPricePerPeriod: parseEther("100000"),
      minPeriod: 60 * 60,
      maxPeriod: 365 * DAY,
      maxMetadataLength: 512,
      listingFee: 0n,
    },
    escrowThawPeriod: 2 * DAY,
    revenueSplit: { providerBps: 8000, nodeBps: 1500, protocolBps: 500 },
    discountTiers: [
      { minStake: parseEther("1000"), discountBps: 500 },
      { minStake: parseEther("10000"), discountBps: 1000 },
      { minStake: parseEther("100000"), discountBps: 2000 },
    ],
    discountCooldown: 7 * DAY,
    subscriptionProtocolBps: 500,
    accessSlashRewardBps: 5000,
    epochLength: DAY,
    // Ratings get their full share once $100 was paid behind them.
    scoring: {
      latencyTargetMicros: 250_000,
      smoothingBps: 3000,
      ratingShareBps: 2000,
      minReports: 1,
      ratingFullSpend: parseEther("100"),
    },
    slashingPolicy: { thresholdBps: 2000, epochs: 3 },
    rewardEmissionPerEpoch: parseEther("100000"),
    unscoredFactorBps: 5000,
  };
}
