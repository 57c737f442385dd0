import { expect } from "chai";
import fc from "fast-check";
import { MaxUint256, parseEther, type ContractTransactionResponse } from "ethers";
import type { Reputation } from "../../../types/ethers-contracts/index.js";
import { USDC } from "../helpers/escrow.js";
import { networkHelpers } from "../helpers/fixture.js";
import { E } from "../helpers/staking.js";
import {
  addValidators,
  advanceToEpoch,
  aggregateQos,
  attest,
  DEFAULT_SLASHING,
  epochScore,
  qosTuple,
  report,
  reputationFixture,
  smooth,
  spend,
  spendWeightedRating,
  SubjectKind,
  topUp,
  type Qos,
  type Rating,
  type ScoringParams,
  USD1_6,
  usdWeight,
  type UsdPrice,
  type WeightedQos,
} from "../helpers/reputation.js";

/** Fixed seeds: failures reproduce; change them to explore other inputs. */
const SEED = { reference: 20_240_601, robustness: 7_340_033, ratings: 1_234_567 } as const;

/**
 * The reputation fixture plus four more validators (seven members: 10,000, 20,000, 30,000,
 * then 10,000 MESH x 4) and three more payers (six in all) holding USDC with the escrow approved.
 */
async function fuzzFixture() {
  const f = await reputationFixture();
  const more = await addValidators(f, [E(10_000), E(10_000), E(10_000), E(10_000)], { label: "fuzz" });
  const extraPayers = f.rest.slice(5, 8);
  for (const p of extraPayers) {
    await f.usdc.mint(p.address, USDC(10_000_000));
    await f.usdc.connect(p).approve(f.escrowAddress, MaxUint256);
  }
  return {
    ...f,
    all: [...f.validators, ...more],
    baseStakes: [E(10_000), E(20_000), E(30_000), E(10_000), E(10_000), E(10_000), E(10_000)],
    payers: [f.payer, f.payer2, f.payer3, ...extraPayers],
  };
}

type FuzzFixture = Awaited<ReturnType<typeof fuzzFixture>>;

const UINT32_MAX = 4_294_967_295;

/** Latencies with many ties and edge values (0, the default target, uint32 max) as well as random ones. */
const latencyArb = fc.oneof(
  fc.constantFrom(0, 50_000, 250_000, 250_001, 1_000_000, UINT32_MAX),
  fc.integer({ min: 0, max: UINT32_MAX }),
);
const bpsArb = fc.oneof(fc.constantFrom(0, 1, 5_000, 9_999, 10_000), fc.integer({ min: 0, max: 10_000 }));
/** A valid Qos: p50 <= p99, shares at most 10,000. */
const qosArb: fc.Arbitrary<Qos> = fc
  .tuple(latencyArb, latencyArb, bpsArb, bpsArb)
  .map(([a, b, successBps, availabilityBps]) => ({
    p50Micros: Math.min(a, b),
    p99Micros: Math.max(a, b),
    successBps,
    availabilityBps,
  }));
/** Extra stake on top of a validator's base stake (sometimes none, sometimes a lot). */
const extraStakeArb = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: E(500_000) }));

interface NodeScoredArgs {
  node: string;
  epoch: bigint;
  qos: bigint[];
  ratingBps: bigint;
  epochScore: bigint;
  smoothed: bigint;
  lowStreak: bigint;
  reports: bigint;
}

/** The NodeScored event of a finalization. */
async function nodeScored(rep: Reputation, tx: ContractTransactionResponse): Promise<NodeScoredArgs> {
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = rep.interface.parseLog(log);
    if (parsed?.name !== "NodeScored") continue;
    const a = parsed.args;
    return {
      node: a.node,
      epoch: a.epoch,
      qos: [...a.qos].map((x: bigint) => x),
      ratingBps: a.ratingBps,
      epochScore: a.epochScore,
      smoothed: a.smoothed,
      lowStreak: a.lowStreak,
      reports: a.reports,
    };
  }
  throw new Error("no NodeScored event");
}

/** Tops validator i up by extra[i] and returns every validator's stake. */
async function setStakes(f: FuzzFixture, extra: readonly bigint[]): Promise<bigint[]> {
  for (const [i, amount] of extra.entries()) await topUp(f, f.all[i]!, amount);
  return f.baseStakes.map((s, i) => s + (extra[i] ?? 0n));
}

describe("Reputation (property-based)", () => {
  // ------------------------------------------------------------------ (1) reference

  it("NodeScored equals the TypeScript reference (medians, score, rating blend and share, smoothing, streak) for random reports of 1-7 validators", async function () {
    this.timeout(120_000);
    const epochReports = fc.record({
      reporters: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      // One Qos per validator per subject (two nodes).
      qos: fc.array(fc.tuple(qosArb, qosArb), { minLength: 7, maxLength: 7 }),
    });
    const run = fc.record({
      extra: fc.array(extraStakeArb, { minLength: 7, maxLength: 7 }),
      params: fc.record({
        latencyTargetMicros: fc.oneof(fc.constantFrom(1, 250_000, UINT32_MAX), fc.integer({ min: 1, max: UINT32_MAX })),
        smoothingBps: fc.integer({ min: 1, max: 10_000 }),
        ratingShareBps: fc.integer({ min: 0, max: 5_000 }),
        // US dollars (18 decimals), paid in USDC at $1: up to $300,000, so that 3x it stays
        // within a payer's 1,000,000 USDC. $0.000001 is the value of 1 USDC base unit.
        ratingFullSpend: fc.oneof(
          fc.constantFrom(1n, 3n, 10n ** 12n, parseEther("100")),
          fc.bigInt({ min: 1n, max: parseEther("300000") }),
        ),
      }),
      threshold: fc.integer({ min: 0, max: 10_000 }),
      rating: fc.option(
        fc.record({
          stars: fc.integer({ min: 1, max: 5 }),
          /** The spend behind the rating in millionths of ratingFullSpend (at least 1 USDC base unit): below, at and above it. */
          spentPpm: fc.oneof(
            fc.constantFrom(0n, 1n, 999_999n, 1_000_000n, 1_000_001n),
            fc.bigInt({ min: 0n, max: 3_000_000n }),
          ),
        }),
      ),
      epochs: fc.array(epochReports, { minLength: 1, maxLength: 2 }),
    });

    /** How often the rating's spend fell under, at and over ratingFullSpend. */
    const spendCases = { below: 0, at: 0, above: 0 };
    await fc.assert(
      fc.asyncProperty(run, async ({ extra, params, threshold, rating, epochs }) => {
        const f = await networkHelpers.loadFixture(fuzzFixture);
        const rep = f.reputation;
        const p: ScoringParams = { ...params, minReports: 1 };
        await rep.connect(f.deployer).setScoringParams(p);
        await rep.connect(f.deployer).setSlashingPolicy({ ...DEFAULT_SLASHING, thresholdBps: threshold });
        const stakes = await setStakes(f, extra);
        const [lo, hi] = [f.operator.address, f.operator2.address].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
        const subjects = [lo!, hi!];

        // The operator (one of the two nodes) may be rated by a payer.
        const ratings = new Map<string, Rating>();
        if (rating !== null) {
          const full = p.ratingFullSpend;
          // USDC base units worth the dollars wanted (USDC at $1: 1 base unit = 1e12 USD units).
          const spent = [1n, (full * rating.spentPpm) / 1_000_000n / 10n ** 12n].reduce((a, b) => (a > b ? a : b));
          const weight = usdWeight(spent);
          spendCases[weight < full ? "below" : weight === full ? "at" : "above"]++;
          await spend(f, f.payer, spent);
          await rep.connect(f.payer).rate(f.operator.address, f.apiToken, f.usdcAddress, rating.stars, rating.stars);
          ratings.set(f.operator.address, spendWeightedRating([{ stars: rating.stars, weight }]));
        }

        const previous = new Map<string, { smoothed: bigint; lowStreak: bigint }>();
        for (const [epoch, { reporters, qos }] of epochs.entries()) {
          await advanceToEpoch(f, epoch + 1);
          for (const i of reporters) {
            const nodes = subjects.map((node, k) => ({ node, qos: qos[i]![k]! }));
            await expect(attest(f, f.all[i]!, report(epoch, nodes)))
              .to.emit(rep, "Attested")
              .withArgs(f.all[i]!.address, epoch, stakes[i]!, 2, 0);
          }
          await advanceToEpoch(f, epoch + 2);
          for (const [k, node] of subjects.entries()) {
            const reports: WeightedQos[] = reporters.map((i) => ({ qos: qos[i]![k]!, weight: stakes[i]! }));
            const agg = aggregateQos(reports);
            const r = ratings.get(node);
            const score = epochScore(agg, p, r);
            const prev = previous.get(node);
            const smoothed = smooth(prev?.smoothed, score, p.smoothingBps);
            const lowStreak = score < BigInt(threshold) ? (prev?.lowStreak ?? 0n) + 1n : 0n;
            previous.set(node, { smoothed, lowStreak });

            const got = await nodeScored(rep, await rep.finalizeNode(node, epoch));
            expect(got).to.deep.equal({
              node,
              epoch: BigInt(epoch),
              qos: qosTuple(agg),
              ratingBps: r?.ratingBps ?? 0n,
              epochScore: score,
              smoothed,
              lowStreak,
              reports: BigInt(reporters.length),
            });
            expect(await rep.nodeScoreAt(node, epoch)).to.deep.equal([smoothed, true]);
          }
        }
      }),
      { seed: SEED.reference, numRuns: 40 },
    );
    // The runs rated with spend under, exactly at and over ratingFullSpend.
    expect(spendCases.below, JSON.stringify(spendCases)).to.be.greaterThan(0);
    expect(spendCases.at, JSON.stringify(spendCases)).to.be.greaterThan(0);
    expect(spendCases.above, JSON.stringify(spendCases)).to.be.greaterThan(0);
  });

  // ------------------------------------------------------------------ (2) robustness

  it("a single validator holding less than half of the reporting stake (its stake < the honest validators' total) cannot move any aggregated metric outside [min, max] of the honest reports", async function () {
    this.timeout(120_000);
    const extremes = fc.constantFrom<Qos>(
      { p50Micros: 0, p99Micros: 0, successBps: 0, availabilityBps: 0 },
      { p50Micros: UINT32_MAX, p99Micros: UINT32_MAX, successBps: 10_000, availabilityBps: 10_000 },
      { p50Micros: 0, p99Micros: UINT32_MAX, successBps: 0, availabilityBps: 10_000 },
    );
    const run = fc.record({
      // Validator 0 is the malicious one; at least two honest validators (so their stake exceeds the minimum).
      honest: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 6 }),
      extra: fc.array(extraStakeArb, { minLength: 7, maxLength: 7 }),
      /** Where the malicious stake lies in [minimum, honest total - 1], in millionths. */
      share: fc.bigInt({ min: 0n, max: 1_000_000n }),
      honestQos: fc.array(qosArb, { minLength: 7, maxLength: 7 }),
      evil: fc.oneof(extremes, qosArb),
    });

    await fc.assert(
      fc.asyncProperty(run, async ({ honest, extra, share, honestQos, evil }) => {
        const f = await networkHelpers.loadFixture(fuzzFixture);
        const rep = f.reputation;
        const stakes = await setStakes(f, [0n, ...extra.slice(1)]);
        const honestStake = honest.reduce((sum, i) => sum + stakes[i]!, 0n);
        const minimum = stakes[0]!;
        const evilStake = minimum + ((honestStake - minimum - 1n) * share) / 1_000_000n;
        expect(evilStake < honestStake, "malicious stake < half of the reporting stake").to.equal(true);
        await topUp(f, f.all[0]!, evilStake - minimum);

        const node = f.operator.address;
        await advanceToEpoch(f, 1);
        await attest(f, f.all[0]!, report(0, [{ node, qos: evil }]));
        for (const i of honest) await attest(f, f.all[i]!, report(0, [{ node, qos: honestQos[i]! }]));
        await advanceToEpoch(f, 2);
        const got = await nodeScored(rep, await rep.finalizeNode(node, 0));

        const metrics: (keyof Qos)[] = ["p50Micros", "p99Micros", "successBps", "availabilityBps"];
        for (const [m, key] of metrics.entries()) {
          const values = honest.map((i) => BigInt(honestQos[i]![key]));
          const lo = values.reduce((a, b) => (b < a ? b : a));
          const hi = values.reduce((a, b) => (b > a ? b : a));
          const aggregated = got.qos[m]!;
          expect(aggregated >= lo && aggregated <= hi, `${key}: ${aggregated} outside [${lo}, ${hi}]`).to.equal(true);
        }
        // And the aggregate is still exactly the reference's.
        const reports = [
          { qos: evil, weight: evilStake },
          ...honest.map((i) => ({ qos: honestQos[i]!, weight: stakes[i]! })),
        ];
        expect(got.qos).to.deep.equal(qosTuple(aggregateQos(reports)));
      }),
      { seed: SEED.robustness, numRuns: 40 },
    );
  });

  it("the bound is tight: with exactly half of the reporting stake a validator reporting below everyone sets the (lower) median", async () => {
    const f = await networkHelpers.loadFixture(fuzzFixture);
    const rep = f.reputation;
    // v0 10,000 + 20,000 = 30,000 = v2's 30,000.
    await topUp(f, f.all[0]!, E(20_000));
    const node = f.operator.address;
    const evil: Qos = { p50Micros: 0, p99Micros: 0, successBps: 0, availabilityBps: 0 };
    const honest: Qos = { p50Micros: 1_000, p99Micros: 9_000, successBps: 9_000, availabilityBps: 9_000 };
    await advanceToEpoch(f, 1);
    await attest(f, f.all[0]!, report(0, [{ node, qos: evil }]));
    await attest(f, f.all[2]!, report(0, [{ node, qos: honest }]));
    await advanceToEpoch(f, 2);
    const got = await nodeScored(rep, await rep.finalizeNode(node, 0));
    expect(got.qos).to.deep.equal(qosTuple(evil));
    // One wei less and the honest report wins.
    expect(
      aggregateQos([
        { qos: evil, weight: E(30_000) - 1n },
        { qos: honest, weight: E(30_000) },
      ]),
    ).to.deep.equal(honest);
  });

  // ------------------------------------------------------------------ (3) ratings

  it("ratingOf is the spend-weighted mean of the payers' latest ratings (weight = redeemed in USD at the feed's price when rating); an account with no spend cannot rate", async function () {
    this.timeout(120_000);
    const starsArb = fc.integer({ min: 1, max: 5 });
    const payerArb = fc.record({
      /** 0: deposits but never redeems. */
      spent: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: USDC(400_000) })),
      nodeStars: starsArb,
      apiStars: starsArb,
      /** Spends more and rates again (the new rating replaces the old one). */
      again: fc.option(fc.record({ more: fc.bigInt({ min: 1n, max: USDC(400_000) }), stars: starsArb })),
    });
    const run = fc.record({
      payers: fc.array(payerArb, { minLength: 1, maxLength: 6 }),
      sybilStars: starsArb,
      /** USDC's feed answer (8 decimals): $1, $0.50, odd prices that round, from $0.00000001 to $10,000. */
      answer: fc.oneof(
        fc.constantFrom(100_000_000n, 50_000_000n, 30_000_000n, 99_999_999n, 1n),
        fc.bigInt({ min: 1n, max: 1_000_000_000_000n }),
      ),
    });

    await fc.assert(
      fc.asyncProperty(run, async ({ payers, sybilStars, answer }) => {
        const f = await networkHelpers.loadFixture(fuzzFixture);
        const rep = f.reputation;
        await f.usdcFeed.setAnswer(answer);
        const price: UsdPrice = { ...USD1_6, answer };
        const valued = (redeemed: bigint) => usdWeight(redeemed, price);
        const node = f.operator.address;
        const rate = (i: number, n: number, a: number) =>
          rep.connect(f.payers[i]!).rate(node, f.apiToken, f.usdcAddress, n, a);
        const nodeRatings: { stars: number; weight: bigint }[] = [];
        const apiRatings: { stars: number; weight: bigint }[] = [];

        for (const [i, p] of payers.entries()) {
          if (p.spent === 0n) {
            await f.escrow.connect(f.payers[i]!).deposit(node, f.apiToken, f.usdcAddress, USDC(1));
            await expect(rate(i, p.nodeStars, p.apiStars)).to.be.revertedWithCustomError(rep, "NoSpend");
            continue;
          }
          await spend(f, f.payers[i]!, p.spent);
          await expect(rate(i, p.nodeStars, p.apiStars))
            .to.emit(rep, "Rated")
            .withArgs(f.payers[i]!.address, node, f.apiToken, f.usdcAddress, p.nodeStars, p.apiStars, valued(p.spent));
          let [nodeStars, apiStars, weight] = [p.nodeStars, p.apiStars, valued(p.spent)];
          if (p.again !== null) {
            weight = valued(p.spent + p.again.more);
            await spend(f, f.payers[i]!, p.spent + p.again.more);
            [nodeStars, apiStars] = [p.again.stars, 6 - p.again.stars];
            await rate(i, nodeStars, apiStars);
          }
          nodeRatings.push({ stars: nodeStars, weight });
          apiRatings.push({ stars: apiStars, weight });
        }

        // A sybil without a channel cannot rate.
        await expect(
          rep.connect(f.outsider).rate(node, f.apiToken, f.usdcAddress, sybilStars, sybilStars),
        ).to.be.revertedWithCustomError(rep, "NoSpend");

        const expectedNode = spendWeightedRating(nodeRatings);
        const expectedApi = spendWeightedRating(apiRatings);
        expect(await rep.ratingOf(SubjectKind.Node, BigInt(node))).to.deep.equal([
          expectedNode.ratingBps,
          expectedNode.weight,
        ]);
        expect(await rep.ratingOf(SubjectKind.Api, f.apiToken)).to.deep.equal([
          expectedApi.ratingBps,
          expectedApi.weight,
        ]);
        // The total weight is exactly what the rating payers redeemed, each channel valued in USD
        // (rounded down) at the price; never more than the total at the exact price.
        let valuedTotal = 0n;
        let redeemed = 0n;
        for (const [i, p] of payers.entries()) {
          if (p.spent === 0n) continue;
          const cid = await f.escrow.channelId(f.payers[i]!.address, node, f.apiToken, f.usdcAddress);
          const r = (await f.escrow.channels(cid)).redeemed;
          valuedTotal += valued(r);
          redeemed += r;
        }
        expect(expectedNode.weight).to.equal(valuedTotal);
        // redeemed / 1e6 tokens x answer / 1e8 dollars, in 18 decimals.
        expect(expectedNode.weight <= (redeemed * answer * 10n ** 18n) / 10n ** 14n).to.equal(true);
      }),
      { seed: SEED.ratings, numRuns: 30 },
    );
  });
});
