/**
 * What the subgraph indexes: one data source per deployed contract with events, its mapping file,
 * the handler of each event, and every event it deliberately leaves out (with the reason).
 * scripts/manifest.ts writes subgraph.yaml from this table; scripts/check-events.ts checks it
 * against the compiled ABIs. No runtime imports, so the local runner can import it too.
 */
import type { Deployment } from "../../deploy/deployments.js";

export type ContractKey = keyof Deployment["contracts"];
export type GovernanceKey = keyof NonNullable<Deployment["governance"]>;
export type DaoName = "Protocol" | "Security" | "Developer";
/** Deployed contracts the subgraph indexes; every other one is in UNINDEXED_CONTRACTS. */
export type IndexedContract =
  | "AccessManager"
  | "MeshToken"
  | "ApiRegistry"
  | "NodeStaking"
  | "UsdPriceOracle"
  | "PaymentEscrow"
  | "DiscountStaking"
  | "Subscriptions"
  | "FeatureFlags"
  | "RateLimitPolicy"
  | "DeveloperCredential"
  | "AccessGroups"
  | "AccessVerifier"
  | "Reputation"
  | "NodeRewards"
  | `${DaoName}Governor`;

/** A compiled contract: its ABI is artifacts/<source>/<contract>.json. */
export interface ContractArtifact {
  readonly contract: string;
  readonly source: string;
}

/**
 * One data source. `name` is also the key of its address in the deployment file, under
 * `contracts` (with the block it was deployed in) or `governance` (address only).
 */
export type DataSourceSpec = DataSourceBody &
  (
    | { readonly section: "contracts"; readonly name: Extract<IndexedContract, ContractKey> }
    | { readonly section: "governance"; readonly name: Extract<IndexedContract, GovernanceKey> }
  );

interface DataSourceBody {
  readonly artifact: ContractArtifact;
  /** AssemblyScript mapping, relative to subgraph/. */
  readonly mapping: string;
  /** Entity types the handlers write. */
  readonly entities: readonly string[];
  /** Event name -> handler exported by `mapping`. */
  readonly handlers: Readonly<Record<string, string>>;
  /** Event name -> why it is not indexed. */
  readonly ignored: Readonly<Record<string, string>>;
}

export interface UnindexedContract {
  readonly reason: string;
  /** Set when the reason is "it has no events": check-events then fails if the ABI gains one. */
  readonly eventless?: ContractArtifact;
}

function handle(events: readonly string[], prefix = "handle"): Record<string, string> {
  return Object.fromEntries(events.map((event) => [event, `${prefix}${event}`]));
}

const EIP712_DOMAIN = "ERC-5267 event, never emitted: the contract's EIP-712 domain is immutable";
/** EmergencyPausable contracts' pause switch and authority, kept in the Contract entity. */
const PAUSABLE = ["Paused", "Unpaused", "AuthorityUpdated"] as const;
const ROLE_WIRING = "ADMIN-only wiring set at deploy; ADMIN is renounced at the hand-over (deploy/governance.ts)";
const NO_DELAYS =
  "Meshgate uses no AccessManager delays or scheduled operations (the DAOs' delays are their timelocks)";
const OZ = "@openzeppelin/contracts";

function governor(dao: DaoName): DataSourceSpec {
  return {
    name: `${dao}Governor`,
    section: "governance",
    artifact: { contract: "MeshGovernor", source: "contracts/governance/MeshGovernor.sol" },
    mapping: "src/mappings/governor.ts",
    entities: ["Dao", "Proposal", "Vote", "Delegate", "Protocol"],
    // Per-DAO handler names: the shared logic learns the DAO without a host call.
    handlers: handle(
      [
        "ProposalCreated",
        "VoteCast",
        "VoteCastWithParams",
        "ProposalQueued",
        "ProposalExecuted",
        "ProposalCanceled",
        "VotingDelaySet",
        "VotingPeriodSet",
        "ProposalThresholdSet",
        "QuorumNumeratorUpdated",
        "TimelockChange",
        "MinQuorumUpdated",
      ],
      `handle${dao}`,
    ),
    ignored: { EIP712DomainChanged: EIP712_DOMAIN },
  };
}

export const DATA_SOURCES: readonly DataSourceSpec[] = [
  {
    name: "AccessManager",
    section: "contracts",
    artifact: { contract: "AccessManager", source: `${OZ}/access/manager/AccessManager.sol` },
    mapping: "src/mappings/access-manager.ts",
    entities: ["Role", "RoleMember"],
    handlers: handle(["RoleLabel", "RoleGranted", "RoleRevoked"]),
    ignored: {
      RoleAdminChanged: ROLE_WIRING,
      RoleGuardianChanged: ROLE_WIRING,
      TargetFunctionRoleUpdated:
        "the ADMIN-only function -> role table is set at deploy (deploy/roles.ts, docs/roles.md)",
      TargetClosed: "Meshgate never closes targets; emergency stops are EmergencyPausable (Contract.paused)",
      RoleGrantDelayChanged: NO_DELAYS,
      TargetAdminDelayUpdated: NO_DELAYS,
      OperationScheduled: NO_DELAYS,
      OperationExecuted: NO_DELAYS,
      OperationCanceled: NO_DELAYS,
    },
  },
  {
    name: "MeshToken",
    section: "contracts",
    artifact: { contract: "MeshToken", source: "contracts/token/MeshToken.sol" },
    mapping: "src/mappings/mesh-token.ts",
    entities: ["TokenHolder", "Delegate", "Delegation", "Dao"],
    handlers: handle(["Transfer", "DelegateChanged", "DelegateVotesChanged"]),
    ignored: {
      Approval: "allowances are wallet plumbing, not protocol state",
      EIP712DomainChanged: EIP712_DOMAIN,
    },
  },
  {
    name: "ApiRegistry",
    section: "contracts",
    artifact: { contract: "ApiRegistry", source: "contracts/registry/ApiRegistry.sol" },
    mapping: "src/mappings/api-registry.ts",
    entities: ["Api", "Provider", "Protocol", "Contract"],
    handlers: handle([
      "ApiRegistered",
      "ApiPricingUpdated",
      "ApiMetadataUpdated",
      "ApiUpstreamUpdated",
      "ApiCategoryUpdated",
      "ApiStatusChanged",
      "ApiTransferStarted",
      "ApiTransferred",
      "ApiDelisted",
      "ListingFeePaid",
      "ListingBoundsUpdated",
      "TreasuryUpdated",
      ...PAUSABLE,
    ]),
    ignored: {},
  },
  {
    name: "NodeStaking",
    section: "contracts",
    artifact: { contract: "NodeStaking", source: "contracts/staking/NodeStaking.sol" },
    mapping: "src/mappings/node-staking.ts",
    entities: [
      "Node",
      "NodeTypeConfig",
      "StakeEvent",
      "NodeSlash",
      "Protocol",
      "Contract",
      "Delegate",
      "Delegation",
      "Dao",
    ],
    handlers: handle([
      "NodeRegistered",
      "NodeUpdated",
      "Staked",
      "UnstakeStarted",
      "Withdrawn",
      "NodeExited",
      "NodeSlashed",
      "MinStakeUpdated",
      "UnbondingPeriodUpdated",
      "DelegateChanged",
      "DelegateVotesChanged",
      "TreasuryUpdated",
      ...PAUSABLE,
    ]),
    ignored: { EIP712DomainChanged: EIP712_DOMAIN },
  },
  {
    name: "UsdPriceOracle",
    section: "contracts",
    artifact: { contract: "UsdPriceOracle", source: "contracts/pricing/UsdPriceOracle.sol" },
    mapping: "src/mappings/usd-price-oracle.ts",
    entities: ["PriceFeed", "PaymentToken", "Contract"],
    handlers: handle(["FeedSet", "FeedRemoved", "AuthorityUpdated"]),
    ignored: {},
  },
  {
    name: "PaymentEscrow",
    section: "contracts",
    artifact: { contract: "PaymentEscrow", source: "contracts/escrow/PaymentEscrow.sol" },
    mapping: "src/mappings/payment-escrow.ts",
    entities: [
      "Channel",
      "Deposit",
      "Withdrawal",
      "Redemption",
      "SignerAuthorization",
      "Api",
      "ApiEarnings",
      "ApiDailyUsage",
      "Provider",
      "Node",
      "NodeEarnings",
      "NodeDailyUsage",
      "PaymentToken",
      "Protocol",
      "Contract",
    ],
    handlers: handle([
      "Deposited",
      "WithdrawalStarted",
      "WithdrawalCancelled",
      "Withdrawn",
      "SignerAuthorized",
      "SignerRevocationStarted",
      "Redeemed",
      "NodeEarningsClaimed",
      "ProviderEarningsClaimed",
      "ProtocolFeesCollected",
      "RevenueSplitUpdated",
      "ThawPeriodUpdated",
      "TreasuryUpdated",
      ...PAUSABLE,
    ]),
    ignored: { EIP712DomainChanged: EIP712_DOMAIN },
  },
  {
    name: "DiscountStaking",
    section: "contracts",
    artifact: { contract: "DiscountStaking", source: "contracts/discounts/DiscountStaking.sol" },
    mapping: "src/mappings/discount-staking.ts",
    entities: ["DiscountStaker", "DiscountTier", "Protocol", "Contract"],
    handlers: handle(["Staked", "UnstakeRequested", "Withdrawn", "TiersUpdated", "CooldownUpdated", ...PAUSABLE]),
    ignored: {},
  },
  {
    name: "Subscriptions",
    section: "contracts",
    artifact: { contract: "Subscriptions", source: "contracts/subscriptions/Subscriptions.sol" },
    mapping: "src/mappings/subscriptions.ts",
    entities: [
      "ApiSubscription",
      "SubscriptionPayment",
      "RenewalFailure",
      "PrepaidBalance",
      "Api",
      "ApiEarnings",
      "Provider",
      "PaymentToken",
      "Protocol",
      "Contract",
    ],
    handlers: handle([
      "Subscribed",
      "Renewed",
      "RenewalFailed",
      "SubscriptionCancelled",
      "BalanceDeposited",
      "BalanceWithdrawn",
      "ProviderEarningsClaimed",
      "ProtocolFeesCollected",
      "ProtocolBpsUpdated",
      "TreasuryUpdated",
      ...PAUSABLE,
    ]),
    ignored: {},
  },
  {
    name: "FeatureFlags",
    section: "contracts",
    artifact: { contract: "FeatureFlags", source: "contracts/governance/FeatureFlags.sol" },
    mapping: "src/mappings/feature-flags.ts",
    entities: ["FeatureFlag", "Contract"],
    handlers: handle(["FlagSet", "AuthorityUpdated"]),
    ignored: {},
  },
  {
    name: "RateLimitPolicy",
    section: "contracts",
    artifact: { contract: "RateLimitPolicy", source: "contracts/governance/RateLimitPolicy.sol" },
    mapping: "src/mappings/rate-limit-policy.ts",
    entities: ["RateLimitTier", "ApiRateLimit", "Contract"],
    handlers: handle(["PolicySet", "ApiTierSet", "AuthorityUpdated"]),
    ignored: {},
  },
  {
    name: "DeveloperCredential",
    section: "contracts",
    artifact: { contract: "DeveloperCredential", source: "contracts/governance/DeveloperCredential.sol" },
    mapping: "src/mappings/developer-credential.ts",
    entities: ["Credential", "Protocol", "Contract", "Delegate", "Delegation", "Dao"],
    handlers: handle([
      "CredentialIssued",
      "CredentialRevoked",
      "MinApiAgeUpdated",
      "DelegateChanged",
      "DelegateVotesChanged",
      "AuthorityUpdated",
    ]),
    ignored: {
      Transfer: "credentials are mint/burn only: CredentialIssued and CredentialRevoked say the same and more",
      Approval: "credentials cannot be transferred, so approvals have no effect",
      ApprovalForAll: "credentials cannot be transferred, so approvals have no effect",
      EIP712DomainChanged: EIP712_DOMAIN,
    },
  },
  {
    name: "AccessGroups",
    section: "contracts",
    artifact: { contract: "AccessGroups", source: "contracts/access/AccessGroups.sol" },
    mapping: "src/mappings/access-groups.ts",
    entities: ["AccessGroup", "AccessGroupMember", "AccessSlashCommit", "Protocol", "Contract"],
    handlers: handle([
      "GroupCreated",
      "GroupUpdated",
      "MemberJoined",
      "MemberExited",
      "MemberSlashed",
      "DepositWithdrawn",
      "SlashCommitted",
      "SlashRewardBpsUpdated",
      "TreasuryUpdated",
      ...PAUSABLE,
    ]),
    ignored: {},
  },
  {
    name: "AccessVerifier",
    section: "contracts",
    artifact: { contract: "AccessVerifier", source: "contracts/access/AccessVerifier.sol" },
    mapping: "src/mappings/access-verifier.ts",
    entities: ["AccessConsumption"],
    handlers: handle(["AccessConsumed"]),
    ignored: {},
  },
  {
    name: "Reputation",
    section: "contracts",
    artifact: { contract: "Reputation", source: "contracts/reputation/Reputation.sol" },
    mapping: "src/mappings/reputation.ts",
    entities: [
      "Validator",
      "Attestation",
      "Rating",
      "NodeScore",
      "ApiScore",
      "SlashingReport",
      "Node",
      "Api",
      "Protocol",
      "Contract",
    ],
    handlers: handle([
      "ValidatorJoined",
      "ValidatorLeft",
      "Attested",
      "Rated",
      "NodeScored",
      "ApiScored",
      "NodeReportedForSlashing",
      "ScoringParamsUpdated",
      "SlashingPolicyUpdated",
      ...PAUSABLE,
    ]),
    ignored: { EIP712DomainChanged: EIP712_DOMAIN },
  },
  {
    name: "NodeRewards",
    section: "contracts",
    artifact: { contract: "NodeRewards", source: "contracts/rewards/NodeRewards.sol" },
    mapping: "src/mappings/rewards.ts",
    entities: [
      "RewardEpoch",
      "RewardCommitment",
      "RewardsFunding",
      "RewardToken",
      "PaymentToken",
      "Node",
      "Protocol",
      "Contract",
    ],
    handlers: handle([
      "Funded",
      "EmissionUpdated",
      "RewardTokenUpdated",
      "UnscoredFactorUpdated",
      "EpochPoolAllocated",
      "RewardCommitted",
      "RewardClaimed",
      "AuthorityUpdated",
    ]),
    ignored: {},
  },
  governor("Protocol"),
  governor("Security"),
  governor("Developer"),
];

const TIMELOCK =
  "its governor is its only proposer and canceller: the governor's ProposalQueued/Executed/Canceled carry the lifecycle";

/** Deployed contracts without a data source, and why. */
export const UNINDEXED_CONTRACTS: Readonly<
  Record<Exclude<ContractKey | GovernanceKey, IndexedContract>, UnindexedContract>
> = {
  PriceQuoter: {
    reason: "stateless quotes, no events",
    eventless: { contract: "PriceQuoter", source: "contracts/pricing/PriceQuoter.sol" },
  },
  PoseidonT2: { reason: "hash library (poseidon-solidity), no events" },
  PoseidonT3: { reason: "hash library (poseidon-solidity), no events" },
  AccessVerifierGroth16: {
    reason: "generated Groth16 verifier, no events",
    eventless: { contract: "AccessVerifierGroth16", source: "contracts/access/AccessVerifierGroth16.sol" },
  },
  ProtocolTimelock: { reason: TIMELOCK },
  SecurityTimelock: { reason: TIMELOCK },
  DeveloperTimelock: { reason: TIMELOCK },
};
