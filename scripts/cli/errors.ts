import { formatEther, Interface, isError, type ErrorDescription } from "ethers";
import {
  AccessManager__factory,
  ApiRegistry__factory,
  DeveloperCredential__factory,
  DiscountStaking__factory,
  FeatureFlags__factory,
  MeshGovernor__factory,
  MeshToken__factory,
  NodeRewards__factory,
  NodeStaking__factory,
  PaymentEscrow__factory,
  PriceQuoter__factory,
  RateLimitPolicy__factory,
  Reputation__factory,
  Subscriptions__factory,
  TimelockController__factory,
  UsdPriceOracle__factory,
} from "../../types/ethers-contracts/index.js";

/** Bad command-line input: the message says what to type instead. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A transaction or call the chain refused, decoded into the contract's custom error. */
export class RevertError extends Error {
  override name = "RevertError";
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

// Every error any protocol contract (or a token it pulls) can raise, in one ABI. Contracts share
// some errors (ZeroAddress, ...): keep one fragment per signature.
const errorFragments = [
  ApiRegistry__factory.abi,
  NodeStaking__factory.abi,
  MeshToken__factory.abi,
  AccessManager__factory.abi,
  PaymentEscrow__factory.abi,
  UsdPriceOracle__factory.abi,
  Subscriptions__factory.abi,
  DiscountStaking__factory.abi,
  PriceQuoter__factory.abi,
  FeatureFlags__factory.abi,
  RateLimitPolicy__factory.abi,
  DeveloperCredential__factory.abi,
  MeshGovernor__factory.abi,
  TimelockController__factory.abi,
  Reputation__factory.abi,
  NodeRewards__factory.abi,
]
  .flat()
  .filter((fragment) => fragment.type === "error")
  .map((fragment) => fragment as { name: string; inputs: readonly { type: string }[] });
const protocolErrors = new Interface([
  ...new Map(errorFragments.map((f) => [`${f.name}(${f.inputs.map((i) => i.type).join(",")})`, f])).values(),
]);

type Hint = (args: ErrorDescription["args"]) => string;

const mesh = (v: unknown) => `${formatEther(v as bigint)} MESH`;
const isoDate = (v: unknown) => new Date(Number(v) * 1000).toISOString();
/** Epoch `v` + `n`: the epoch a window of epoch `v` opens in. */
const epochPlus = (v: unknown, n: number) => Number(v) + n;
/** Votes: MESH amounts (18 decimals) or a count of developer credentials. */
const votes = (v: unknown) => ((v as bigint) >= 10n ** 12n ? `${formatEther(v as bigint)} votes` : `${v} votes`);

const PROPOSAL_STATES = ["Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed"];
const OPERATION_STATES = ["Unset", "Waiting", "Ready", "Done"];

/** The names of the states set in an OpenZeppelin state bitmap (bit i = state i). */
function bitmap(value: unknown, names: readonly string[]): string[] {
  const bits = BigInt(value as string);
  return names.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

/** What to do about each error, in the user's terms. */
const HINTS: Record<string, Hint> = {
  ApiNotFound: (a) => `API ${a[0]} does not exist: check the id with "api show <id>"`,
  NotApiProvider: (a) => `only API ${a[0]}'s provider may do this; ${a[1]} is not it: use the provider's key`,
  NotPendingProvider: (a) => `${a[1]} is not the pending provider of API ${a[0]}`,
  ApiIsRetired: (a) => `API ${a[0]} is retired and can no longer change`,
  InvalidStatusTransition: (a) => `API ${a[0]} is ${statusName(a[1])}; it cannot become ${statusName(a[2])}`,
  EmptyMetadataUri: () => "pass --metadata-uri <uri of the OpenAPI document>",
  ZeroMetadataHash: () => "pass --openapi <file> or --metadata-hash <0x + 64 hex>",
  EmptyUpstreamUrl: () => "pass --upstream <https://...>",
  ZeroCategory: () => "pass --category <name>",
  FieldTooLong: (a) => `a URL or URI is ${a[0]} bytes; the limit is ${a[1]}`,
  TooManyTags: (a) => `${a[0]} tags given; at most ${a[1]} are allowed`,
  NoPricingModel: () => "give --per-call and/or --per-period",
  InvalidPaymentToken: (a) => `${a[0]} is not a usable ERC-20: pass --token <ERC-20 address> or --usd`,
  UnsupportedTokenDecimals: (a) => `token ${a[0]} has ${a[1]} decimals; only 6 or 18 are supported`,
  ZeroPrice: () => "prices must be greater than zero",
  PriceAboveMax: (a) =>
    `price is above the governed cap (${formatEther(a[0])} > ${formatEther(a[1])}, 18-decimal units)`,
  InvalidPeriod: (a) => `period ${a[0]}s is outside the governed bounds [${a[1]}s, ${a[2]}s]`,
  NodeAlreadyActive: (a) => `${a[0]} already runs a node: use "node topup" or "node update"`,
  NodeNotActive: (a) => `${a[0]} has no active node: register one with "node register"`,
  StakeBelowMinimum: (a) => `stake ${mesh(a[0])} is below the minimum ${mesh(a[1])} for this node type`,
  ZeroAmount: () => "the amount must be greater than zero",
  InsufficientStake: (a) => `cannot unstake ${mesh(a[0])}: only ${mesh(a[1])} is staked`,
  NothingToWithdraw: (a) => `${a[0]} has nothing unbonding: unstake first`,
  StillUnbonding: (a) => `funds are unbonding until ${new Date(Number(a[0]) * 1000).toISOString()}; try again then`,
  EmptyNodeUrl: () => "pass --url <public https URL of the node>",
  NodeUrlTooLong: (a) => `the node URL is ${a[0]} bytes; the limit is ${a[1]}`,
  ZeroRegion: () => "pass --region <code, e.g. eu-west>",
  ZeroCapacity: () => "pass --capacity <requests per second, > 0>",
  AccessManagedUnauthorized: (a) => `${a[0]} lacks the governance role this function needs (see docs/roles.md)`,
  TokenNotAccepted: (a) => `API ${a[0]} does not accept token ${a[1]}: use the API's payment token (api show)`,
  ApiNotActive: (a) => `API ${a[0]} is paused or retired: it takes no new payments`,
  PayPerCallNotOffered: (a) => `API ${a[0]} does not offer pay-per-call: subscribe instead`,
  InsufficientBalance: (a) => `${a[0]} requested but only ${a[1]} is in the channel (base units)`,
  NoWithdrawal: () => 'no withdrawal in progress: start one with "channel withdraw"',
  StillThawing: (a) => `the withdrawal thaws until ${new Date(Number(a[0]) * 1000).toISOString()}; finish it then`,
  SignerAlreadyAuthorized: (a) => `${a[0]} already signs for ${a[1]}`,
  SignerNotAuthorized: (a) => `${a[0]} may not sign for ${a[1]}: authorize it with "signer authorize"`,
  SignerRevocationPending: (a) =>
    `${a[0]} is already being revoked (effective ${new Date(Number(a[1]) * 1000).toISOString()})`,
  InvalidSignerProof: (a) => `the consent signature is not by ${a[0]}: pass that key with --signer-key`,
  ProofExpired: () => "the consent signature expired: sign a new one",
  InvalidSignature: () => "the signature (voucher or attestation) is malformed or not canonical: sign it again",
  NothingToRedeem: () => "this voucher is not above what the channel already paid: nothing to redeem",
  EmptyBatch: () => "the voucher file holds no vouchers",
  NothingToClaim: (a) =>
    a.length === 2
      ? `${a[0]} committed no reward weight for epoch ${a[1]}: commit during epoch ${epochPlus(a[1], 3)} (rewards commit --epoch ${a[1]})`
      : "nothing to claim yet",
  NoFeed: (a) => `token ${a[0]} has no USD feed: use another token or ask governance to add a feed`,
  StalePrice: (a) => `the USD feed for ${a[0]} is stale: try again once it updates`,
  InvalidPrice: (a) => `the USD feed for ${a[0]} answered ${a[1]}: payments in it are paused`,
  IncompleteRound: (a) => `the USD feed for ${a[0]} has an incomplete round: try again later`,
  InvalidPeriods: (a) => `--periods must be 1 to ${a[1]} (got ${a[0]})`,
  SubscriptionNotOffered: (a) => `API ${a[0]} offers no subscription: use a channel (pay per call)`,
  PriceAboveLimit: (a) => `the price ${a[0]} is above your limit ${a[1]}: raise --max-price or wait`,
  InsufficientPrepaidBalance: () => 'the prepaid balance cannot cover the renewal: "subscription deposit"',
  NotSubscribed: (a) => `${a[0]} has no subscription to API ${a[1]}`,
  RenewalDisabled: (a) => `subscription ${a[0]} was cancelled: subscribe again`,
  NotDue: (a) => `subscription ${a[0]} is not due: renewable from ${new Date(Number(a[1]) * 1000).toISOString()}`,
  StillCooling: (a) => `MESH cools down until ${new Date(Number(a[0]) * 1000).toISOString()}`,
  ERC20InsufficientBalance: (a) => `${a[0]} holds ${mesh(a[1])}; ${mesh(a[2])} is needed`,
  ERC20InsufficientAllowance: (a) => `allowance of ${a[0]} is ${mesh(a[1])}; ${mesh(a[2])} is needed`,
  // Governance: the governors, their timelocks and what proposals call.
  GovernorUnexpectedProposalState: (a) => {
    const expected = bitmap(a[2], PROPOSAL_STATES);
    const current = PROPOSAL_STATES[Number(a[1])] ?? String(a[1]);
    if (expected.length === 0) return `proposal ${a[0]} already exists (${current}): change the description`;
    return `proposal ${a[0]} is ${current}; this needs it ${expected.join(" or ")} (gov show ${a[0]})`;
  },
  GovernorInsufficientProposerVotes: (a) =>
    `${a[0]} has ${votes(a[1])}; proposing needs ${votes(a[2])}: delegate first ("gov delegate"), then propose`,
  GovernorAlreadyCastVote: (a) => `${a[0]} already voted on this proposal: a vote cannot be changed`,
  GovernorNonexistentProposal: (a) => `proposal ${a[0]} does not exist in this DAO: list them with "gov list"`,
  GovernorInvalidVoteType: () => "--support must be for, against or abstain",
  GovernorOnlyExecutor: (a) => `${a[0]} may not do this: only the DAO itself may, through a proposal`,
  GovernorRestrictedProposer: (a) => `the description names another proposer than ${a[0]}: drop its #proposer= suffix`,
  GovernorInvalidProposalLength: (a) =>
    `a proposal needs as many targets, calldatas and values (${a[0]}, ${a[1]}, ${a[2]})`,
  GovernorAlreadyQueuedProposal: (a) => `proposal ${a[0]} is already queued: execute it (gov execute ${a[0]})`,
  GovernorUnableToCancel: (a) => `${a[1]} may not cancel proposal ${a[0]}`,
  ERC5805FutureLookup: (a) => `the timepoint ${isoDate(a[0])} is not in the past yet: wait a block and try again`,
  TimelockUnexpectedOperationState: (a) => {
    const expected = bitmap(a[1], OPERATION_STATES);
    if (expected.includes("Ready"))
      return "the timelock delay has not passed: execute after the proposal's eta (gov show)";
    if (expected.includes("Unset")) return "the timelock already holds this operation: it was queued before";
    return `the timelock operation is not ${expected.join(" or ")}`;
  },
  TimelockInsufficientDelay: (a) => `a delay of ${a[0]}s is below the timelock's minimum ${a[1]}s`,
  TimelockUnexecutedPredecessor: (a) => `operation ${a[0]} must run first`,
  TimelockUnauthorizedCaller: (a) => `${a[0]} may not do this: only the timelock itself may, through a proposal`,
  RolloutTooHigh: (a) => `a rollout of ${a[0]} bps is above ${a[1]} (100%)`,
  ZeroFlag: () => "the flag id must not be zero",
  InvalidPolicy: () => "a rate-limit policy needs requests > 0, a window > 0 and burst <= requests",
  UnknownTier: (a) => `tier ${a[0]} has no policy: set one first (--rate-limit)`,
  AlreadyHoldsCredential: (a) => `${a[0]} already holds a developer credential`,
  InvalidRevenueSplit: (a) => `the shares ${a[0]} + ${a[1]} + ${a[2]} bps must add up to 10000`,
  NothingToSlash: (a) => `${a[0]} has no stake left to slash`,
  // Reputation: validators, attestations, ratings, scores.
  NotValidatorNode: (a) =>
    `${a[0]} is not an active validator node: register a validator node first: node register --type validator --region <code> --url <url> --capacity <rps> --stake <MESH>`,
  AlreadyValidator: (a) => `${a[0]} is already in the validator set (reputation validator list)`,
  NotInValidatorSet: (a) => `${a[0]} is not in the validator set: join it first (reputation validator join)`,
  ValidatorSetFull: (a) =>
    `the validator set is full: your stake ${mesh(a[0])} must exceed the smallest member's ${mesh(a[1])} (node topup)`,
  StillEligible: (a) => `${a[0]} is still an active validator node: only it may leave (reputation validator leave)`,
  EpochNotOver: (a) => `epoch ${a[0]} is not over (now epoch ${a[1]}): attest during epoch ${epochPlus(a[0], 1)}`,
  ReportTooLate: (a) =>
    `reports for epoch ${a[0]} were accepted during epoch ${epochPlus(a[0], 1)} only (now epoch ${a[1]}): report epoch ${epochPlus(a[1], -1)} instead`,
  JoinedAfterEpoch: (a) =>
    `${a[0]} joined the validator set in epoch ${a[1]}, after epoch ${a[2]}: it reports on epochs from ${a[1]} on`,
  AlreadyAttested: (a) => `${a[0]} already attested for epoch ${a[1]}: one report per validator and epoch`,
  EmptyAttestation: () => "the attestation reports on no node and no API",
  SubjectsNotAscending: (a) =>
    `report #${a[0]} is out of order: nodes by address and APIs by id, strictly ascending (canonicalAttestation)`,
  SelfReport: (a) => `${a[0]} reports on itself: leave its own node out of the attestation`,
  InvalidQos: (a) => `report #${a[0]} has an impossible Qos: bps over 10000 or p50 above p99`,
  InvalidRating: (a) => `stars must be 1 to 5 (got ${a[0]})`,
  NoSpend: (a) => `pay for calls through this channel first: only redeemed spend can rate (channel ${a[0]})`,
  TokenNotRated: (a) =>
    `only channels paid in a token with a USD feed can rate: ${a[0]} has none (the Protocol DAO sets feeds)`,
  FinalizeWindowNotOpen: (a) =>
    `epoch ${a[0]} is finalized during epoch ${epochPlus(a[0], 2)} (now epoch ${a[1]}): try again then`,
  FinalizeWindowClosed: (a) =>
    `epoch ${a[0]} could be finalized during epoch ${epochPlus(a[0], 2)} only (now epoch ${a[1]}): it stays unscored`,
  NotEnoughReports: (a) => `${a[0]} validator report(s) for this epoch; finalizing needs at least ${a[1]}`,
  EpochAlreadyFinalized: (a) => `already finalized up to epoch ${a[1]}: epoch ${a[0]} cannot be finalized again`,
  NotReportable: (a) =>
    `${a[0]} has ${a[1]} low epoch(s) in a row; a slashing report needs ${a[2]} (reputation show node ${a[0]})`,
  InvalidScoringParams: () =>
    "scoring needs a latency target > 0, smoothing 1-10000 bps, rating share <= 5000 bps, 1-32 reports and a rating full spend > 0",
  InvalidSlashingPolicy: () => "a slashing policy needs a threshold <= 10000 bps and at least 1 epoch",
  // NodeRewards: epoch pools, commits and claims.
  CommitWindowNotOpen: (a) =>
    `epoch ${a[0]}'s commit window opens in epoch ${epochPlus(a[0], 3)} (now epoch ${a[1]}): commit then`,
  CommitWindowClosed: (a) =>
    `epoch ${a[0]}'s commit window closed at the end of epoch ${epochPlus(a[0], 3)} (now epoch ${a[1]}): it earns nothing now`,
  ClaimNotOpen: (a) =>
    `epoch ${a[0]}'s rewards are claimable from epoch ${epochPlus(a[0], 4)} (now epoch ${a[1]}): claim then`,
  TokensNotAscending: (a) => `token #${a[0]} is out of order: tokens strictly ascending, each once`,
  NotRewardToken: (a) => `${a[0]} earns no rewards (no points per unit): leave it out of --tokens`,
  AlreadyCommitted: (a) =>
    `${a[0]} already committed for epoch ${a[1]}: claim from epoch ${epochPlus(a[1], 4)} (rewards claim --epoch ${a[1]})`,
  NothingToCommit: (a) =>
    `${a[0]} served nothing in these reward tokens during epoch ${a[1]} (or its reputation factor is 0): no weight to commit`,
  AlreadyClaimed: (a) => `${a[0]} already claimed its reward for epoch ${a[1]}`,
  InvalidFactor: (a) => `a factor of ${a[0]} bps is above 10000`,
};

function statusName(value: unknown): string {
  return ["none", "active", "paused", "retired"][Number(value)] ?? String(value);
}

function revertData(error: unknown): string | undefined {
  if (isError(error, "CALL_EXCEPTION") && typeof error.data === "string") return error.data;
  // Some providers nest the revert data; walk `error`, `info`, `cause` and `data` links.
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const rec = e as Record<string, unknown>;
    if (typeof rec.data === "string" && /^0x[0-9a-fA-F]{8}/.test(rec.data)) return rec.data;
    queue.push(rec.error, rec.info, rec.cause, rec.data);
  }
  return undefined;
}

/** Turns a failed contract call into a RevertError naming the custom error and the fix. */
export function decodeRevert(error: unknown): RevertError | undefined {
  const data = revertData(error);
  if (data === undefined) return undefined;
  const parsed = protocolErrors.parseError(data);
  if (parsed === null) return new RevertError("Unknown", `reverted with unknown data ${data.slice(0, 10)}`);
  const hint = HINTS[parsed.name];
  const args = parsed.args.map((a: unknown) => String(a)).join(", ");
  return new RevertError(parsed.name, `${parsed.name}(${args})${hint ? `: ${hint(parsed.args)}` : ""}`);
}
