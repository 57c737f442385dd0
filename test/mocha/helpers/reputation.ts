/**
 * Reputation test helpers: validator nodes and the validator set, signed attestations, the
 * escrow's epoch clock, paid channels for ratings, and (re-exported from reputation-reference.ts)
 * a TypeScript reference implementation of the contract's aggregation (stake-weighted lower
 * median, epoch score, smoothing, ratings), written from Reputation.sol's documented formulas in
 * the same bigint integer math.
 */
import {
  id,
  MaxUint256,
  parseEther,
  Wallet,
  type ContractTransactionResponse,
  type Overrides,
  type Signer,
  type TypedDataDomain,
} from "ethers";
import {
  canonicalAttestation,
  reputationDomain,
  signAttestation,
  type ApiReport,
  type Attestation,
  type NodeReport,
  type Qos,
} from "../../../relayer/validator/attestation.js";
import type { Voucher } from "../../../sdk/vouchers.js";
import { MockAggregatorV3__factory, type MockAggregatorV3 } from "../../../types/ethers-contracts/index.js";
import { escrowFixture, idOf, sign, voucherFor, type EscrowFixture } from "./escrow.js";
import { ethers, networkHelpers, NodeType, type Fixture } from "./fixture.js";
import type { ScoringParams } from "./reputation-reference.js";
import { E, EU, MIN_STAKE, NODE_URL } from "./staking.js";

export type { Attestation, Qos } from "../../../relayer/validator/attestation.js";
export * from "./reputation-reference.js";

/** IReputation.SubjectKind. */
export const SubjectKind = { Node: 0, Api: 1 } as const;
export const MAX_VALIDATORS = 32;
/** The minimum stake of a Validator node (deploy default). */
export const VALIDATOR_STAKE = MIN_STAKE[NodeType.Validator];

export interface SlashingPolicy {
  thresholdBps: number;
  epochs: number;
}

/** Deploy defaults (deploy/params.ts). */
export const DEFAULT_SCORING: ScoringParams = {
  latencyTargetMicros: 250_000,
  smoothingBps: 3000,
  ratingShareBps: 2000,
  minReports: 1,
  ratingFullSpend: parseEther("100"), // $100
};
export const DEFAULT_SLASHING: SlashingPolicy = { thresholdBps: 2000, epochs: 3 };

/** A perfect measurement: fast, always right, always up (validator score 10,000). */
export const PERFECT: Qos = { p50Micros: 20_000, p99Micros: 100_000, successBps: 10_000, availabilityBps: 10_000 };

/** A Qos with defaults from PERFECT. */
export function qos(over: Partial<Qos> = {}): Qos {
  return { ...PERFECT, ...over };
}

/** The Qos as the contract returns it in events (a tuple of bigints). */
export function qosTuple(q: Qos): [bigint, bigint, bigint, bigint] {
  return [BigInt(q.p50Micros), BigInt(q.p99Micros), BigInt(q.successBps), BigInt(q.availabilityBps)];
}

// ------------------------------------------------------------------ accounts and validators

type Account = Fixture["deployer"];

/** A deterministic key (connected to the test chain) for extra accounts beyond Hardhat's 20. */
export function extraWallet(label: string, i: number): Wallet {
  return new Wallet(id(`meshgate reputation ${label} ${i}`), ethers.provider);
}

/** Gives `account` 100 ETH for gas and `mesh` MESH from the treasury (the deployer). */
export async function fund(f: Fixture, account: string, mesh = 0n): Promise<void> {
  await networkHelpers.setBalance(account, E(100));
  if (mesh > 0n) await f.token.connect(f.deployer).transfer(account, mesh);
}

/** Registers a node of type Validator for `wallet` staking `stake` (funded from the treasury). */
export async function registerValidatorNode(f: Fixture, wallet: Wallet | Account, stake = VALIDATOR_STAKE) {
  await fund(f, wallet.address, stake);
  await f.token.connect(wallet).approve(await f.staking.getAddress(), MaxUint256);
  await f.staking.connect(wallet).registerNode(NodeType.Validator, EU, NODE_URL, 1000, stake);
}

/** Adds `amount` MESH (from the treasury) to the stake of `wallet`'s node. */
export async function topUp(f: Fixture, wallet: Wallet | Account, amount: bigint): Promise<void> {
  if (amount === 0n) return;
  await f.token.connect(f.deployer).transfer(wallet.address, amount);
  await f.staking.connect(wallet).topUp(amount);
}

/**
 * Registers one Validator node per entry of `stakes` (fresh deterministic wallets named by
 * `label`) and, unless `join` is false, adds each to the validator set in order.
 */
export async function addValidators(
  f: Fixture,
  stakes: readonly bigint[],
  options: { label?: string; join?: boolean } = {},
): Promise<Wallet[]> {
  const wallets: Wallet[] = [];
  for (const [i, stake] of stakes.entries()) {
    const w = extraWallet(options.label ?? "validator", i);
    await registerValidatorNode(f, w, stake);
    if (options.join ?? true) await f.reputation.connect(w).joinValidators();
    wallets.push(w);
  }
  return wallets;
}

// ------------------------------------------------------------------ attestations

/** The EIP-712 domain of the fixture's Reputation. */
export async function domainOf(f: Fixture): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return reputationDomain(chainId, await f.reputation.getAddress());
}

/** An attestation for `epoch` in canonical order (subjects sorted; duplicates kept). */
export function report(epoch: number, nodes: NodeReport[] = [], apis: ApiReport[] = []): Attestation {
  return canonicalAttestation({ epoch, nodes, apis });
}

export interface AttestOptions {
  /** Who sends the transaction (default: the validator itself). */
  submitter?: Signer;
  /** The domain to sign over (default: the fixture Reputation's). */
  domain?: TypedDataDomain;
  /** A signature to send instead of the validator's. */
  signature?: string;
  overrides?: Overrides;
}

/** Signs `a` with `validator`'s key (as given: not reordered) and submits it. */
export async function attest(
  f: Fixture,
  validator: Signer,
  a: Attestation,
  o: AttestOptions = {},
): Promise<ContractTransactionResponse> {
  const signature = o.signature ?? (await signAttestation(validator, o.domain ?? (await domainOf(f)), a));
  return f.reputation.connect(o.submitter ?? validator).attest(a, signature, o.overrides ?? {});
}

// ------------------------------------------------------------------ epochs

/** The escrow's epoch clock (Reputation uses the same). */
export async function epochClock(f: Fixture): Promise<{ genesis: bigint; length: bigint }> {
  return { genesis: await f.escrow.epochGenesis(), length: await f.escrow.epochLength() };
}

/** First second of epoch `n`. */
export async function epochStart(f: Fixture, n: number): Promise<bigint> {
  const { genesis, length } = await epochClock(f);
  return genesis + BigInt(n) * length;
}

/** Moves time to the start of epoch `n` (nothing if the chain is already in it); never backwards. */
export async function advanceToEpoch(f: Fixture, n: number): Promise<void> {
  const { genesis, length } = await epochClock(f);
  const now = BigInt(await networkHelpers.time.latest());
  const current = (now - genesis) / length;
  if (current > BigInt(n)) throw new Error(`already in epoch ${current}, past ${n}`);
  if (current < BigInt(n)) await networkHelpers.time.increaseTo(genesis + BigInt(n) * length);
}

/** Makes the next block the last second of epoch `n`. */
export async function nextBlockAtEpochEnd(f: Fixture, n: number): Promise<void> {
  await networkHelpers.time.setNextBlockTimestamp((await epochStart(f, n + 1)) - 1n);
}

/** Makes the next block the first second of epoch `n`. */
export async function nextBlockAtEpochStart(f: Fixture, n: number): Promise<void> {
  await networkHelpers.time.setNextBlockTimestamp(await epochStart(f, n));
}

// ------------------------------------------------------------------ fixtures

/** The heartbeat of the fixture's USDC feed: the longest the oracle allows (2 days). */
export const USDC_FEED_HEARTBEAT = 2 * 24 * 60 * 60;

/**
 * The escrow fixture (two Edge nodes: operator, operator2; APIs 1-4; three funded payers) plus
 * three validators in the set with stakes 10,000 / 20,000 / 30,000 MESH, and a fourth
 * Validator node (`candidate`, 10,000 MESH) registered but not in the set. USDC gets a USD feed
 * (`usdcFeed`: 8 decimals, $1) so that its channels can rate; the fee-on-transfer token has none.
 */
export async function reputationFixture() {
  const fx = await escrowFixture();
  const usdcFeed = await new MockAggregatorV3__factory(fx.deployer).deploy(8, 100_000_000n);
  await fx.oracle.connect(fx.deployer).setFeed(fx.usdcAddress, await usdcFeed.getAddress(), USDC_FEED_HEARTBEAT);
  const validators = await addValidators(fx, [E(10_000), E(20_000), E(30_000)]);
  const [candidate] = await addValidators(fx, [E(10_000)], { label: "candidate", join: false });
  return {
    ...fx,
    usdcFeed,
    validators: validators as [Wallet, Wallet, Wallet],
    candidate: candidate!,
    reputationAddress: await fx.reputation.getAddress(),
    repDomain: await domainOf(fx),
  };
}

export type ReputationFixture = Awaited<ReturnType<typeof reputationFixture>>;

// ------------------------------------------------------------------ spend (for ratings)

/**
 * Re-publishes the current answer of the fixture's USD feeds (DAI's, and USDC's when the fixture
 * has one) as a fresh round: after the chain's time moved, a rating reads a feed within its heartbeat.
 */
export async function refreshFeeds(fx: EscrowFixture & { usdcFeed?: MockAggregatorV3 }): Promise<void> {
  for (const feed of [fx.daiFeed, fx.usdcFeed]) {
    if (feed === undefined) continue;
    const [, answer] = await feed.latestRoundData();
    await feed.setAnswer(answer);
  }
}

/**
 * Makes the channel of `payer` (to `over.node`, default operator; API `over.apiId`, default
 * apiToken; USDC) redeemed up to `cumulative`: deposits what is missing and redeems a voucher
 * the payer signs, then refreshes the USD feeds (refreshFeeds) so that the payer can rate right
 * away. Returns the channel id.
 */
export async function spend(
  fx: EscrowFixture & { usdcFeed?: MockAggregatorV3 },
  payer: Signer,
  cumulative: bigint,
  over: Partial<Voucher> = {},
): Promise<string> {
  const v = voucherFor(fx, cumulative, { payer: await payer.getAddress(), ...over });
  const cid = idOf(v);
  const c = await fx.escrow.channels(cid);
  const missing = cumulative - c.redeemed - c.balance;
  if (missing > 0n) await fx.escrow.connect(payer).deposit(v.node, v.apiId, v.token, missing);
  await fx.escrow.redeem(v, await sign(fx, payer, v));
  await refreshFeeds(fx);
  return cid;
}
