/**
 * The access-control table: which AccessManager role may call which privileged function.
 * Single source of truth for the deploy (wiring), the access-control matrix test and
 * docs/roles.md (a test keeps the doc in step with this file).
 */

/** AccessManager role ids. ADMIN (0) is AccessManager's built-in admin role. */
export const ROLES = {
  ADMIN: 0n,
  PROTOCOL: 1n,
  SECURITY: 2n,
  DEVELOPER: 3n,
  GUARDIAN: 4n,
} as const;

export type RoleName = keyof typeof ROLES;

/**
 * Contracts whose privileged functions the AccessManager guards. PriceQuoter has none (it is
 * stateless, with immutable wiring); it is listed so the matrix test proves it stays read-only.
 */
export type ManagedContract =
  | "ApiRegistry"
  | "NodeStaking"
  | "UsdPriceOracle"
  | "PaymentEscrow"
  | "DiscountStaking"
  | "PriceQuoter"
  | "Subscriptions"
  | "FeatureFlags"
  | "RateLimitPolicy"
  | "DeveloperCredential"
  | "AccessGroups"
  | "Reputation"
  | "NodeRewards";

export interface RoleRule {
  readonly contract: ManagedContract;
  readonly fn: string;
  readonly role: Exclude<RoleName, "ADMIN">;
}

export const ROLE_TABLE: readonly RoleRule[] = [
  { contract: "ApiRegistry", fn: "setListingBounds", role: "PROTOCOL" },
  { contract: "ApiRegistry", fn: "setTreasury", role: "PROTOCOL" },
  { contract: "NodeStaking", fn: "setMinStake", role: "PROTOCOL" },
  { contract: "NodeStaking", fn: "setUnbondingPeriod", role: "PROTOCOL" },
  { contract: "NodeStaking", fn: "setTreasury", role: "PROTOCOL" },
  { contract: "NodeStaking", fn: "slash", role: "SECURITY" },
  { contract: "UsdPriceOracle", fn: "setFeed", role: "PROTOCOL" },
  { contract: "UsdPriceOracle", fn: "removeFeed", role: "PROTOCOL" },
  { contract: "PaymentEscrow", fn: "setRevenueSplit", role: "PROTOCOL" },
  { contract: "PaymentEscrow", fn: "setThawPeriod", role: "PROTOCOL" },
  { contract: "PaymentEscrow", fn: "setTreasury", role: "PROTOCOL" },
  { contract: "DiscountStaking", fn: "setTiers", role: "PROTOCOL" },
  { contract: "DiscountStaking", fn: "setCooldown", role: "PROTOCOL" },
  { contract: "Subscriptions", fn: "setProtocolBps", role: "PROTOCOL" },
  { contract: "Subscriptions", fn: "setTreasury", role: "PROTOCOL" },
  { contract: "DeveloperCredential", fn: "issue", role: "PROTOCOL" },
  { contract: "DeveloperCredential", fn: "revoke", role: "PROTOCOL" },
  { contract: "DeveloperCredential", fn: "setMinApiAge", role: "PROTOCOL" },
  { contract: "AccessGroups", fn: "setTreasury", role: "PROTOCOL" },
  { contract: "Reputation", fn: "setScoringParams", role: "PROTOCOL" },
  { contract: "NodeRewards", fn: "setEmission", role: "PROTOCOL" },
  { contract: "NodeRewards", fn: "setRewardToken", role: "PROTOCOL" },
  { contract: "NodeRewards", fn: "setUnscoredFactor", role: "PROTOCOL" },
  { contract: "ApiRegistry", fn: "delist", role: "SECURITY" },
  { contract: "RateLimitPolicy", fn: "setPolicy", role: "SECURITY" },
  { contract: "RateLimitPolicy", fn: "setApiTier", role: "SECURITY" },
  { contract: "AccessGroups", fn: "setSlashRewardBps", role: "SECURITY" },
  { contract: "Reputation", fn: "setSlashingPolicy", role: "SECURITY" },
  { contract: "FeatureFlags", fn: "setFlag", role: "DEVELOPER" },
  // The emergency brake: the guardian (and the Security DAO) may pause at once; only a Security
  // DAO vote may unpause.
  ...(
    [
      "ApiRegistry",
      "NodeStaking",
      "PaymentEscrow",
      "Subscriptions",
      "DiscountStaking",
      "AccessGroups",
      "Reputation",
    ] as const
  ).flatMap((contract): RoleRule[] => [
    { contract, fn: "emergencyPause", role: "GUARDIAN" },
    { contract, fn: "emergencyUnpause", role: "SECURITY" },
  ]),
];

/** Human-readable role labels, emitted on-chain with AccessManager.labelRole. */
export const ROLE_LABELS: Readonly<Record<Exclude<RoleName, "ADMIN">, string>> = {
  PROTOCOL: "PROTOCOL_DAO",
  SECURITY: "SECURITY_DAO",
  DEVELOPER: "DEVELOPER_DAO",
  GUARDIAN: "GUARDIAN",
};
