/**
 * The TypeScript reference implementation of Reputation's aggregation (stake-weighted lower
 * median, validator score, rating share, epoch score, smoothing, spend-weighted ratings), written
 * from Reputation.sol's documented formulas in the same bigint integer math. Pure: no chain, so
 * the subgraph mapping tests use it as well as the contract tests (through helpers/reputation.ts).
 */
import type { Qos } from "../../../relayer/validator/attestation.js";

export const BPS = 10_000n;

/** IReputation.ScoringParams. */
export interface ScoringParams {
  latencyTargetMicros: number;
  smoothingBps: number;
  ratingShareBps: number;
  minReports: number;
  /** Spend behind a subject's ratings (US dollars, 18 decimals) at which they get ratingShareBps. */
  ratingFullSpend: bigint;
}

/**
 * Stake-weighted lower median: with values ascending, the smallest value whose cumulative
 * weight reaches half the total (cumulative * 2 >= total). Weights are validators' active
 * stakes, never zero.
 */
export function weightedLowerMedian(values: readonly bigint[], weights: readonly bigint[]): bigint {
  if (values.length === 0 || values.length !== weights.length) throw new Error("bad median input");
  if (weights.some((w) => w <= 0n)) throw new Error("weights are stakes: positive");
  const total = weights.reduce((a, b) => a + b, 0n);
  const pairs = values.map((value, i) => ({ value, weight: weights[i]! }));
  pairs.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  let cumulative = 0n;
  for (const p of pairs) {
    cumulative += p.weight;
    if (cumulative * 2n >= total) return p.value;
  }
  throw new Error("unreachable: the cumulative weight reaches the total");
}

/** One stored report: a validator's Qos and its stake when it attested. */
export interface WeightedQos {
  qos: Qos;
  weight: bigint;
}

/** Each metric's stake-weighted lower median, independently. */
export function aggregateQos(reports: readonly WeightedQos[]): Qos {
  const weights = reports.map((r) => r.weight);
  const metric = (k: keyof Qos) =>
    Number(
      weightedLowerMedian(
        reports.map((r) => BigInt(r.qos[k])),
        weights,
      ),
    );
  return {
    p50Micros: metric("p50Micros"),
    p99Micros: metric("p99Micros"),
    successBps: metric("successBps"),
    availabilityBps: metric("availabilityBps"),
  };
}

/** success x availability x latency factor (target / p99 above the target), basis points, rounded down. */
export function validatorScore(q: Qos, p: ScoringParams): bigint {
  const target = BigInt(p.latencyTargetMicros);
  const p99 = BigInt(q.p99Micros);
  const latency = p99 <= target ? BPS : (target * BPS) / p99;
  return (BigInt(q.successBps) * BigInt(q.availabilityBps) * latency) / (BPS * BPS);
}

/** A token's USD feed as the oracle reads it: answer (USD per whole token) in feedDecimals. */
export interface UsdPrice {
  answer: bigint;
  feedDecimals: number;
  tokenDecimals: number;
}

/** A $1 stablecoin with 6 decimals (USDC) on an 8-decimal feed. */
export const USD1_6: UsdPrice = { answer: 100_000_000n, feedDecimals: 8, tokenDecimals: 6 };

/** UsdPriceOracle.usdToToken: the token amount `usd` (18 decimals) buys, rounded up. */
export function usdToToken(price: UsdPrice, usd: bigint): bigint {
  const num = usd * 10n ** BigInt(price.feedDecimals + price.tokenDecimals);
  const den = price.answer * 10n ** 18n;
  return (num + den - 1n) / den;
}

/**
 * The weight of a rating: the channel's redeemed total in US dollars (18 decimals), as
 * Reputation.rate values it with UsdPriceOracle.tokenToUsd, rounded down.
 */
export function usdWeight(redeemed: bigint, price: UsdPrice = USD1_6): bigint {
  return (redeemed * price.answer * 10n ** 18n) / 10n ** BigInt(price.feedDecimals + price.tokenDecimals);
}

/** A subject's spend-weighted rating, as ratingOf returns it. */
export interface Rating {
  ratingBps: bigint;
  weight: bigint;
}

/**
 * The rating's share of an epoch score, basis points: ratingShareBps from ratingFullSpend of
 * spend behind the ratings on, proportionally less (rounded down) under it.
 */
export function ratingShare(p: ScoringParams, weight: bigint): bigint {
  const full = BigInt(p.ratingShareBps);
  return weight >= p.ratingFullSpend ? full : (full * weight) / p.ratingFullSpend;
}

/** The epoch score: the validator score, blended with the rating by its share when there is spend behind it. */
export function epochScore(q: Qos, p: ScoringParams, rating?: Rating): bigint {
  const v = validatorScore(q, p);
  if (rating === undefined || rating.weight === 0n) return v;
  const share = ratingShare(p, rating.weight);
  return (v * (BPS - share) + rating.ratingBps * share) / BPS;
}

/** EWMA: the first finalized epoch is taken as is, later ones weigh smoothingBps. */
export function smooth(previous: bigint | undefined, score: bigint, smoothingBps: number): bigint {
  if (previous === undefined) return score;
  const w = BigInt(smoothingBps);
  return (score * w + previous * (BPS - w)) / BPS;
}

/** 1 star = 0, 5 stars = 10,000 basis points. */
export function starsBps(stars: number): bigint {
  return BigInt(stars - 1) * 2_500n;
}

/** The spend-weighted mean of star ratings (rounded down), or zero when nobody spent. */
export function spendWeightedRating(ratings: readonly { stars: number; weight: bigint }[]): Rating {
  const weight = ratings.reduce((a, r) => a + r.weight, 0n);
  if (weight === 0n) return { ratingBps: 0n, weight: 0n };
  const sum = ratings.reduce((a, r) => a + r.weight * starsBps(r.stars), 0n);
  return { ratingBps: sum / weight, weight };
}
