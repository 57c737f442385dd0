import { expect } from "chai";
import { id, MaxUint256, parseEther, Wallet, type ContractTransactionReceipt, type Signer } from "ethers";
import type { Attestation, Qos } from "../../../../relayer/validator/attestation.js";
import { channelId, escrowDomain, signVoucher } from "../../../../sdk/vouchers.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  apiInput,
  bytes32,
  contractEntity,
  deployFeed,
  deployToken,
  entity,
  eventId,
  logOf,
  lower,
  NodeType,
  protocolEntity,
  send,
  sendAll,
  timeOf,
  USDC,
} from "./chain.js";
import {
  aggregateQos,
  epochScore as epochScoreOf,
  ratingShare,
  smooth,
  usdWeight,
  type ScoringParams,
  type WeightedQos,
} from "../../helpers/reputation-reference.js";
import { advanceToEpoch, attest, RatingTotals, Subject } from "./epochs.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("reputation");
const E = (n: number) => parseEther(String(n));
/** The USD value (18 decimals) of `units` base units of the test's USDC at $1: units x 1e12. */
const usd = (units: bigint) => usdWeight(units);
/**
 * Ratings (weighted in USD, 18 decimals; USDC has a $1 feed) get their full share from $0.05 of
 * spend (50,000 USDC base units): n1 ($0.055) and API 1 (exactly $0.05) get it, n2 ($0.005) and
 * API 2 ($0.01) a tenth and a fifth of it.
 */
const SCORING: ScoringParams = {
  latencyTargetMicros: 200_000,
  smoothingBps: 5000,
  ratingShareBps: 2000,
  minReports: 2,
  ratingFullSpend: usd(50_000n),
};
/** The USDC feed's heartbeat: the longest the oracle allows (2 days); rate refreshes the feed. */
const FEED_HEARTBEAT = 2 * 24 * 60 * 60;
const SLASHING = { thresholdBps: 5000n, epochs: 2n };
const SLASHING_REPORT = "NodeReportedForSlashing(address,uint32,uint16,uint16)";
/** Never registered: validators may still report it (and an API id nobody listed). */
const GHOST = new Wallet(id("reputation mapping test ghost node")).address;
const UNLISTED_API = 99n;

const qos = (p50Micros: number, p99Micros: number, successBps: number, availabilityBps: number): Qos => ({
  p50Micros,
  p99Micros,
  successBps,
  availabilityBps,
});

interface ScoreRow {
  node?: { id: string } | null;
  api?: { id: string } | null;
  operator?: string;
  apiId?: string;
  epoch: number;
  p50Micros: string;
  p99Micros: string;
  successBps: number;
  availabilityBps: number;
  ratingBps: number;
  ratingWeight: string;
  epochScore: number;
  smoothedScore: number;
  lowStreak?: number;
  reports: number;
}

/** What the test expects of one finalized subject epoch, from the reports it submitted. */
interface Expected {
  key: string;
  kind: number;
  subject: bigint;
  epoch: number;
  qos: Qos;
  ratingBps: bigint;
  ratingWeight: bigint;
  epochScore: bigint;
  smoothed: bigint;
  lowStreak: bigint;
  reports: number;
}

/**
 * Reputation: four validator nodes join (one leaves and joins again, one leaves, one is removed
 * once it is no longer a staked validator); three validators attest to two epochs of two nodes,
 * two APIs, a never-registered address and an unlisted API id, one attestation relayed by
 * another account; payers rate channels they paid through, one rating replaced after more spend,
 * another between two finalizations; both epochs are finalized for every subject; a node low for
 * two consecutive epochs is reported for slashing; new scoring parameters and slashing policy;
 * the emergency pause. Scores are compared with the contract's views and with the medians and
 * scores recomputed from the submitted reports.
 */
describe("subgraph mappings: Reputation", function () {
  this.timeout(180_000);
  let chain: IndexedChain;
  let usdc: string, reputationAddress: string;
  let v1: string, v2: string, v3: string, v4: string, n1: string, n2: string, payerP: string, payerQ: string;
  let epoch: number;
  const stakes = new Map<string, bigint>();
  const receipts: Record<string, ContractTransactionReceipt> = {};
  /** Attestations: validator -> epochs. */
  const attested = new Map<string, { epoch: number; nodes: number; apis: number; weight: bigint }[]>();
  const expected: Expected[] = [];
  const ratings = new Map<string, { payer: string; node: string; apiId: bigint; count: number; createdAt: bigint }>();

  before(async () => {
    chain = await startIndexedChain();
    const { escrow, oracle, registry, reputation, staking, token } = chain.protocol;
    const deployer = chain.account(0);
    const signers = accounts(chain, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    const [sv1, sv2, sv3, sv4, sn1, sn2, provider, p, q] = signers;
    [v1, v2, v3, v4, n1, n2, , payerP, payerQ] = await addressesOf(...signers);
    reputationAddress = await reputation.getAddress();
    const escrowAddress = await escrow.getAddress();
    const stakingAddress = await staking.getAddress();
    const usdcToken = await deployToken(deployer);
    usdc = await usdcToken.getAddress();
    // Only channels in a token with a USD feed can rate: USDC at $1.
    const usdcFeed = await deployFeed(deployer);
    await send(oracle.connect(deployer).setFeed(usdc, await usdcFeed.getAddress(), FEED_HEARTBEAT));

    // Four validator nodes (different stakes: report weights), two edge nodes.
    const nodes: [Signer, string, number, bigint][] = [
      [sv1, v1, NodeType.Validator, E(10_000)],
      [sv2, v2, NodeType.Validator, E(15_000)],
      [sv3, v3, NodeType.Validator, E(12_000)],
      [sv4, v4, NodeType.Validator, E(10_000)],
      [sn1, n1, NodeType.Edge, E(1000)],
      [sn2, n2, NodeType.Edge, E(1000)],
    ];
    await sendAll(...nodes.map(([, a, , stake]) => token.connect(deployer).transfer(a, stake)));
    await sendAll(...nodes.map(([s, , , stake]) => token.connect(s).approve(stakingAddress, stake)));
    await sendAll(
      ...nodes.map(([s, , type, stake], i) =>
        staking.connect(s).registerNode(type, bytes32("eu"), `https://n${i}.example`, 10, stake),
      ),
    );
    for (const [, a, , stake] of nodes) stakes.set(a, stake);

    // Two APIs in USDC; channels (P, n1, 1), (Q, n1, 2), (Q, n2, 1), each with redeemed spend.
    await send(registry.connect(provider).register(apiInput(usdc)));
    await send(registry.connect(provider).register(apiInput(usdc)));
    await sendAll(
      usdcToken.connect(deployer).mint(payerP, USDC(1000)),
      usdcToken.connect(deployer).mint(payerQ, USDC(1000)),
    );
    await sendAll(
      usdcToken.connect(p).approve(escrowAddress, MaxUint256),
      usdcToken.connect(q).approve(escrowAddress, MaxUint256),
    );
    await send(escrow.connect(p).deposit(n1, 1n, usdc, USDC(100)));
    await send(escrow.connect(q).deposit(n1, 2n, usdc, USDC(100)));
    await send(escrow.connect(q).deposit(n2, 1n, usdc, USDC(100)));
    const domain = escrowDomain(chain.deployment.chainId, escrowAddress);
    const redeem = async (payer: Signer, node: string, apiId: bigint, cumulativeAmount: bigint) => {
      const v = { payer: await payer.getAddress(), node, apiId, token: usdc, cumulativeAmount };
      await send(escrow.connect(deployer).redeem(v, await signVoucher(payer, domain, v)));
    };
    await redeem(p, n1, 1n, 30_000n);
    await redeem(q, n1, 2n, 10_000n);
    await redeem(q, n2, 1n, 5_000n);

    // Governance: scoring and slashing policy (the constructor emitted the deploy values), pause.
    await send(reputation.connect(deployer).setScoringParams(SCORING));
    await send(reputation.connect(deployer).setSlashingPolicy(SLASHING));
    receipts.pause = await send(reputation.connect(deployer).emergencyPause());
    await send(reputation.connect(deployer).emergencyUnpause());

    // The validator set: v4 leaves and joins again.
    for (const s of [sv1, sv2, sv3, sv4]) await send(reputation.connect(s).joinValidators());
    receipts.v4Left = await send(reputation.connect(sv4).leaveValidators());
    receipts.v4Joined = await send(reputation.connect(sv4).joinValidators());

    // Ratings, tracked as the contract sums them (weight: the channel's redeemed total in USD).
    const totals = new Map<string, RatingTotals>();
    const totalsOf = (kind: number, subject: bigint) => {
      const key = `${kind}-${subject}`;
      if (!totals.has(key)) totals.set(key, new RatingTotals());
      return totals.get(key)!;
    };
    const previous = new Map<string, { nodeStars: number; apiStars: number; weight: bigint }>();
    const rate = async (payer: Signer, node: string, apiId: bigint, nodeStars: number, apiStars: number) => {
      const payerAddress = await payer.getAddress();
      const cid = channelId(payerAddress, node, apiId, usdc);
      // A fresh round: time moves between ratings (the feed's heartbeat).
      await send(usdcFeed.setAnswer(100_000_000n));
      const receipt = await send(reputation.connect(payer).rate(node, apiId, usdc, nodeStars, apiStars));
      const weight = usd((await escrow.channels(cid)).redeemed);
      const before = previous.get(cid);
      totalsOf(Subject.Node, BigInt(node)).replace(
        before && { stars: before.nodeStars, weight: before.weight },
        nodeStars,
        weight,
      );
      totalsOf(Subject.Api, apiId).replace(
        before && { stars: before.apiStars, weight: before.weight },
        apiStars,
        weight,
      );
      previous.set(cid, { nodeStars, apiStars, weight });
      const r = ratings.get(cid);
      if (r === undefined) {
        ratings.set(cid, { payer: payerAddress, node, apiId, count: 1, createdAt: await timeOf(chain, receipt) });
      } else r.count += 1;
    };
    await rate(p, n1, 1n, 5, 4);
    await rate(q, n1, 2n, 2, 3);
    await rate(q, n2, 1n, 1, 1);
    // More spend on P's channel, then P rates again: the new rating replaces the first.
    await redeem(p, n1, 1n, 45_000n);
    await rate(p, n1, 1n, 4, 5);

    // Two epochs of reports. Epoch e is reported during e + 1 and finalized during e + 2.
    epoch = Number(await reputation.currentEpoch());
    const reportsOf = new Map<string, WeightedQos[]>();
    const submit = async (validator: Signer, a: Attestation, submitter?: Signer) => {
      const address = await validator.getAddress();
      await attest(chain, validator, a, submitter);
      const weight = await staking.stakeOf(address);
      attested.set(address, [
        ...(attested.get(address) ?? []),
        { epoch: a.epoch, nodes: a.nodes.length, apis: a.apis.length, weight },
      ]);
      for (const r of a.nodes) {
        const key = `${Subject.Node}-${BigInt(r.node)}-${a.epoch}`;
        reportsOf.set(key, [...(reportsOf.get(key) ?? []), { qos: r.qos, weight }]);
      }
      for (const r of a.apis) {
        const key = `${Subject.Api}-${r.apiId}-${a.epoch}`;
        reportsOf.set(key, [...(reportsOf.get(key) ?? []), { qos: r.qos, weight }]);
      }
    };
    const scored = new Map<string, { smoothed: bigint; epoch: number; lowStreak: bigint }>();
    const finalize = async (kind: number, subject: bigint, e: number) => {
      const receipt = await send(
        kind === Subject.Node
          ? reputation.finalizeNode(`0x${subject.toString(16).padStart(40, "0")}`, e)
          : reputation.finalizeApi(subject, e),
      );
      const reports = reportsOf.get(`${kind}-${subject}-${e}`)!;
      const q = aggregateQos(reports);
      const { rating } = totalsOf(kind, subject);
      const epochScore = epochScoreOf(q, SCORING, rating);
      const last = scored.get(`${kind}-${subject}`);
      const smoothed = smooth(last?.smoothed, epochScore, SCORING.smoothingBps);
      let lowStreak = 0n;
      if (kind === Subject.Node && epochScore < SLASHING.thresholdBps) {
        lowStreak = last !== undefined && last.epoch + 1 === e ? last.lowStreak + 1n : 1n;
      }
      scored.set(`${kind}-${subject}`, { smoothed, epoch: e, lowStreak });
      expected.push({
        key: `${kind === Subject.Node ? lower(`0x${subject.toString(16).padStart(40, "0")}`) : subject}-${e}`,
        kind,
        subject,
        epoch: e,
        qos: q,
        ratingBps: rating.ratingBps,
        ratingWeight: rating.weight,
        epochScore,
        smoothed,
        lowStreak,
        reports: reports.length,
      });
      return receipt;
    };

    await advanceToEpoch(chain, epoch + 1);
    const apis = (q1: Qos, q2: Qos, q99: Qos) => [
      { apiId: 1n, qos: q1 },
      { apiId: 2n, qos: q2 },
      { apiId: UNLISTED_API, qos: q99 },
    ];
    await submit(sv1, {
      epoch,
      nodes: [
        { node: n1, qos: qos(40_000, 150_000, 9900, 10_000) },
        { node: n2, qos: qos(80_000, 900_000, 6000, 7000) },
        { node: GHOST, qos: qos(10_000, 20_000, 10_000, 10_000) },
      ],
      apis: apis(qos(30_000, 180_000, 9990, 9990), qos(60_000, 500_000, 9000, 9500), qos(1, 2, 3, 4)),
    });
    await submit(sv2, {
      epoch,
      nodes: [
        { node: n2, qos: qos(90_000, 1_200_000, 5000, 6000) },
        { node: n1, qos: qos(50_000, 250_000, 9800, 9900) },
        { node: GHOST, qos: qos(20_000, 30_000, 9000, 9000) },
      ],
      apis: apis(qos(35_000, 220_000, 9950, 9980), qos(70_000, 700_000, 8000, 9000), qos(5, 6, 7, 8)),
    });
    // v3's attestation is relayed by the deployer (anyone may submit it: the signature names v3).
    await submit(
      sv3,
      {
        epoch,
        nodes: [
          { node: n1, qos: qos(45_000, 400_000, 9500, 9000) },
          { node: n2, qos: qos(70_000, 600_000, 7000, 8000) },
          { node: GHOST, qos: qos(15_000, 25_000, 9500, 9500) },
        ],
        apis: apis(qos(32_000, 190_000, 9000, 9000), qos(65_000, 650_000, 8500, 9200), qos(9, 10, 11, 12)),
      },
      deployer,
    );

    await advanceToEpoch(chain, epoch + 2);
    for (const n of [n1, n2, GHOST]) await finalize(Subject.Node, BigInt(n), epoch);
    for (const a of [1n, 2n, UNLISTED_API]) await finalize(Subject.Api, a, epoch);
    // A rating between the two finalizations: epoch + 1 blends the new totals.
    await rate(q, n1, 2n, 5, 5);
    await submit(sv1, {
      epoch: epoch + 1,
      nodes: [
        { node: n1, qos: qos(40_000, 190_000, 9950, 10_000) },
        { node: n2, qos: qos(85_000, 1_000_000, 5500, 6500) },
      ],
      apis: [],
    });
    await submit(sv2, {
      epoch: epoch + 1,
      nodes: [
        { node: n1, qos: qos(42_000, 210_000, 9900, 9950) },
        { node: n2, qos: qos(95_000, 1_500_000, 4000, 5000) },
      ],
      apis: [],
    });

    await advanceToEpoch(chain, epoch + 3);
    for (const n of [n1, n2]) await finalize(Subject.Node, BigInt(n), epoch + 1);
    // n2 was under the threshold for two consecutive epochs: anyone may report it.
    receipts.report = await send(reputation.connect(p).reportForSlashing(n2));

    // v3 leaves; v4 unstakes everything (no longer an active validator node) and is removed.
    receipts.v3Left = await send(reputation.connect(sv3).leaveValidators());
    await send(staking.connect(sv4).unstake(stakes.get(v4)!));
    receipts.v4Removed = await send(reputation.connect(q).removeValidator(v4));
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds the validator set as Reputation.validators and isValidator say, with joins and departures", async () => {
    const { reputation } = chain.protocol;
    const members = (await reputation.validators()).map(lower);
    expect([...members].sort()).to.deep.equal([v1, v2].map(lower).sort());
    const fields =
      "node { id } active stakeAtJoin joinedAt joinCount leftAt leftReason attestationCount lastAttestedEpoch";
    for (const v of [v1, v2, v3, v4]) {
      const row = await entity<Record<string, unknown>>(chain, "Validator", lower(v), fields);
      const mine = attested.get(v) ?? [];
      expect(row, v).to.deep.include({
        node: { id: lower(v) },
        active: await reputation.isValidator(v),
        stakeAtJoin: stakes.get(v)!.toString(),
        joinCount: v === v4 ? 2 : 1,
        attestationCount: mine.length,
        lastAttestedEpoch: mine.length === 0 ? null : Math.max(...mine.map((a) => a.epoch)),
      });
    }
    const left = async (v: string) =>
      entity<{ leftAt: string | null; leftReason: string | null }>(chain, "Validator", lower(v), "leftAt leftReason");
    expect(await left(v1)).to.deep.equal({ leftAt: null, leftReason: null });
    expect(await left(v3)).to.deep.equal({
      leftAt: (await timeOf(chain, receipts.v3Left!)).toString(),
      leftReason: bytes32("left"),
    });
    expect(await left(v4)).to.deep.equal({
      leftAt: (await timeOf(chain, receipts.v4Removed!)).toString(),
      leftReason: bytes32("ineligible"),
    });
    // v4 left once, then joined again: active between the two.
    expect(
      await entity(chain, "Validator", lower(v4), "active leftReason joinedAt", receipts.v4Joined!.blockNumber),
    ).to.deep.equal({
      active: true,
      leftReason: bytes32("left"),
      joinedAt: (await timeOf(chain, receipts.v4Joined!)).toString(),
    });
    expect((await protocolEntity(chain, "validatorCount")).validatorCount).to.equal(members.length);
    expect((await protocolEntity(chain, "validatorCount", receipts.v4Left!.blockNumber)).validatorCount).to.equal(3);
  });

  it("records each attestation with the validator's stake as its weight (Reputation.hasAttested, reportCount)", async () => {
    const { reputation } = chain.protocol;
    let count = 0;
    for (const [v, list] of attested) {
      for (const a of list) {
        count++;
        expect(await reputation.hasAttested(a.epoch, v)).to.equal(true);
        expect(
          await entity(
            chain,
            "Attestation",
            `${lower(v)}-${a.epoch}`,
            "validator { id } epoch weight nodeCount apiCount",
          ),
        ).to.deep.equal({
          validator: { id: lower(v) },
          epoch: a.epoch,
          weight: a.weight.toString(),
          nodeCount: a.nodes,
          apiCount: a.apis,
        });
      }
    }
    expect(count).to.equal(5);
    expect(attested.get(v4)).to.equal(undefined);
    const all = await chain.query<{ attestations: { id: string }[] }>("{ attestations(first: 100) { id } }");
    expect(all.attestations).to.have.length(count);
    // Each node report is one of reportCount's: v1, v2, v3 for epoch e; v1, v2 for e + 1.
    expect(await reputation.reportCount(Subject.Node, BigInt(n1), epoch)).to.equal(3n);
    expect(await reputation.reportCount(Subject.Node, BigInt(n1), epoch + 1)).to.equal(2n);
  });

  it("holds each channel's rating as Reputation.channelRatings does, linked to its Channel", async () => {
    const { reputation } = chain.protocol;
    expect(ratings.size).to.equal(3);
    for (const [cid, r] of ratings) {
      const onChain = await reputation.channelRatings(cid);
      const row = await entity(
        chain,
        "Rating",
        cid,
        "channel { id payer } payer node { id } api { id } token { id } nodeStars apiStars weight updateCount createdAt",
      );
      expect(row, cid).to.deep.equal({
        channel: { id: cid, payer: lower(r.payer) },
        payer: lower(r.payer),
        node: { id: lower(r.node) },
        api: { id: r.apiId.toString() },
        token: { id: lower(usdc) },
        nodeStars: Number(onChain.nodeStars),
        apiStars: Number(onChain.apiStars),
        weight: onChain.weight.toString(),
        updateCount: r.count,
        createdAt: r.createdAt.toString(),
      });
      expect(await entity(chain, "Channel", cid, "rating { id }")).to.deep.equal({ rating: { id: cid } });
    }
    // The replaced rating weighs the channel's redeemed total when P rated again, in USD.
    const pChannel = channelId(payerP, n1, 1n, usdc);
    expect((await reputation.channelRatings(pChannel)).weight).to.equal(usd(45_000n));
    expect(usd(45_000n)).to.equal(parseEther("0.045"));
  });

  it("holds each node's and API's rating and spend as Reputation.ratingOf does", async () => {
    const { reputation } = chain.protocol;
    const check = async (type: "Node" | "Api", entityId: string, kind: number, subject: bigint, channels: number) => {
      const [bps, weight] = await reputation.ratingOf(kind, subject);
      expect(
        await entity(chain, type, entityId, "ratingBps ratingWeight ratingCount ratings { id }"),
        `${type} ${entityId}`,
      ).to.deep.include({ ratingBps: Number(bps), ratingWeight: weight.toString(), ratingCount: channels });
    };
    await check("Node", lower(n1), Subject.Node, BigInt(n1), 2);
    await check("Node", lower(n2), Subject.Node, BigInt(n2), 1);
    await check("Api", "1", Subject.Api, 1n, 2);
    await check("Api", "2", Subject.Api, 2n, 1);
    // n1: P's 4 stars on $0.045 and Q's 5 stars on $0.01.
    expect(await reputation.ratingOf(Subject.Node, BigInt(n1))).to.deep.equal([
      (45_000n * 7500n + 10_000n * 10_000n) / 55_000n,
      parseEther("0.055"),
    ]);
  });

  it("records every finalized score with the stake-weighted medians and scores the contract computed", async () => {
    const { reputation } = chain.protocol;
    expect(expected).to.have.length(8);
    for (const x of expected) {
      const type = x.kind === Subject.Node ? "NodeScore" : "ApiScore";
      const subjectFields = x.kind === Subject.Node ? "node { id } operator lowStreak" : "api { id } apiId";
      const row = await entity<ScoreRow>(
        chain,
        type,
        x.key,
        `${subjectFields} epoch p50Micros p99Micros successBps availabilityBps ratingBps ratingWeight epochScore smoothedScore reports`,
      );
      expect(row, x.key).to.not.equal(null);
      expect(row, x.key).to.deep.include({
        epoch: x.epoch,
        p50Micros: x.qos.p50Micros.toString(),
        p99Micros: x.qos.p99Micros.toString(),
        successBps: x.qos.successBps,
        availabilityBps: x.qos.availabilityBps,
        ratingBps: Number(x.ratingBps),
        ratingWeight: x.ratingWeight.toString(),
        epochScore: Number(x.epochScore),
        smoothedScore: Number(x.smoothed),
        reports: x.reports,
      });
      expect(BigInt(row!.reports)).to.equal(await reputation.reportCount(x.kind, x.subject, x.epoch));
      if (x.kind === Subject.Node) {
        const address = lower(`0x${x.subject.toString(16).padStart(40, "0")}`);
        const [smoothed, finalized] = await reputation.nodeScoreAt(address, x.epoch);
        expect({ smoothed, finalized }, x.key).to.deep.equal({ smoothed: x.smoothed, finalized: true });
        expect(row!.lowStreak, x.key).to.equal(Number(x.lowStreak));
        // A never-registered address has no Node: the reference stays null, the address is kept.
        expect(row!.node, x.key).to.deep.equal(address === lower(GHOST) ? null : { id: address });
        expect(row!.operator).to.equal(address);
      } else {
        expect(row!.api, x.key).to.deep.equal(x.subject === UNLISTED_API ? null : { id: x.subject.toString() });
        expect(row!.apiId).to.equal(x.subject.toString());
      }
    }
    // The scores are not trivial: n2 under the threshold twice, n1 blended with its rating and smoothed.
    const n2Scores = expected.filter((x) => x.key.startsWith(lower(n2)));
    expect(n2Scores.map((x) => x.lowStreak)).to.deep.equal([1n, 2n]);
    const n1Late = expected.find((x) => x.key === `${lower(n1)}-${epoch + 1}`)!;
    expect(n1Late.smoothed).to.not.equal(n1Late.epochScore);
    // Ratings blended with their full share (n1, API 1) and with a part of it (n2, API 2).
    const shares = expected.filter((x) => x.ratingWeight > 0n).map((x) => ratingShare(SCORING, x.ratingWeight));
    expect(shares).to.include(BigInt(SCORING.ratingShareBps));
    expect(shares).to.include.members([200n, 400n]);
  });

  it("holds each node's and API's latest score as Reputation.scoreOf does (the streak restarts after a report)", async () => {
    const { reputation } = chain.protocol;
    const subjects: ["Node" | "Api", string, number, bigint][] = [
      ["Node", lower(n1), Subject.Node, BigInt(n1)],
      ["Node", lower(n2), Subject.Node, BigInt(n2)],
      ["Api", "1", Subject.Api, 1n],
      ["Api", "2", Subject.Api, 2n],
    ];
    for (const [type, entityId, kind, subject] of subjects) {
      const s = await reputation.scoreOf(kind, subject);
      expect(s.finalized).to.equal(true);
      const fields =
        type === "Node" ? "epochScore smoothedScore scoredEpoch lowStreak" : "epochScore smoothedScore scoredEpoch";
      const row = await entity(chain, type, entityId, `${fields} scores { id }`);
      expect(row, `${type} ${entityId}`).to.deep.include({
        epochScore: Number(s.epochScore),
        smoothedScore: Number(s.smoothed),
        scoredEpoch: Number(s.epoch),
        ...(type === "Node" ? { lowStreak: Number(s.lowStreak) } : {}),
      });
    }
    // Before the report n2's streak was 2, as the finalization left it.
    expect(await entity(chain, "Node", lower(n2), "lowStreak", receipts.report!.blockNumber - 1)).to.deep.equal({
      lowStreak: 2,
    });
    expect((await reputation.scoreOf(Subject.Node, BigInt(n2))).lowStreak).to.equal(0n);
    // An unscored node.
    expect(
      await entity(chain, "Node", lower(v1), "epochScore smoothedScore scoredEpoch lowStreak ratingBps"),
    ).to.deep.equal({ epochScore: 0, smoothedScore: 0, scoredEpoch: null, lowStreak: 0, ratingBps: 0 });
    const n1Scores = await entity<{ scores: { id: string }[] }>(chain, "Node", lower(n1), "scores { id }");
    expect(n1Scores!.scores.map((s) => s.id).sort()).to.deep.equal([
      `${lower(n1)}-${epoch}`,
      `${lower(n1)}-${epoch + 1}`,
    ]);
  });

  it("ranks nodes and APIs by smoothed score (a marketplace query)", async () => {
    const { reputation } = chain.protocol;
    const data = await chain.query<{
      nodes: { id: string; smoothedScore: number; scores: { epoch: number }[] }[];
      apis: { id: string; smoothedScore: number }[];
    }>(`{
      nodes(where: { status: Active }, orderBy: smoothedScore, orderDirection: desc, first: 3) {
        id smoothedScore scores(orderBy: epoch, orderDirection: desc, first: 1) { epoch }
      }
      apis(orderBy: smoothedScore, orderDirection: desc) { id smoothedScore }
    }`);
    const smoothed = async (kind: number, subject: bigint) =>
      Number((await reputation.scoreOf(kind, subject)).smoothed);
    const n1Score = await smoothed(Subject.Node, BigInt(n1));
    const n2Score = await smoothed(Subject.Node, BigInt(n2));
    expect(n1Score).to.be.greaterThan(n2Score);
    expect(n2Score).to.be.greaterThan(0);
    expect(data.nodes.slice(0, 2)).to.deep.equal([
      { id: lower(n1), smoothedScore: n1Score, scores: [{ epoch: epoch + 1 }] },
      { id: lower(n2), smoothedScore: n2Score, scores: [{ epoch: epoch + 1 }] },
    ]);
    // Unscored nodes come after (0), whatever their order.
    expect(data.nodes[2]!.smoothedScore).to.equal(0);
    expect(data.apis).to.deep.equal(
      (
        await Promise.all(
          [1n, 2n].map(async (a) => ({ id: a.toString(), smoothedScore: await smoothed(Subject.Api, a) })),
        )
      ).sort((x, y) => y.smoothedScore - x.smoothedScore),
    );
  });

  it("records the slashing report as NodeReportedForSlashing says", async () => {
    const report = receipts.report!;
    const log = logOf(report, reputationAddress, SLASHING_REPORT);
    const args = chain.protocol.reputation.interface.parseLog(log)!.args;
    expect(
      await entity(
        chain,
        "SlashingReport",
        eventId(report, log.index),
        "node { id } operator epoch lowStreak smoothedScore timestamp blockNumber transactionHash",
      ),
    ).to.deep.equal({
      node: { id: lower(n2) },
      operator: lower(n2),
      epoch: epoch + 1,
      lowStreak: 2,
      smoothedScore: Number(expected.find((x) => x.key === `${lower(n2)}-${epoch + 1}`)!.smoothed),
      timestamp: (await timeOf(chain, report)).toString(),
      blockNumber: report.blockNumber.toString(),
      transactionHash: report.hash,
    });
    expect(args.lowStreak).to.equal(2n);
    expect(
      await entity<{ slashingReports: { id: string }[] }>(chain, "Node", lower(n2), "slashingReports { id }"),
    ).to.deep.equal({ slashingReports: [{ id: eventId(report, log.index) }] });
  });

  it("holds the scoring parameters and slashing policy as Reputation.scoringParams and slashingPolicy do", async () => {
    const { reputation } = chain.protocol;
    const fields =
      "scoreLatencyTargetMicros scoreSmoothingBps scoreRatingShareBps scoreMinReports scoreRatingFullSpend slashingThresholdBps slashingEpochs";
    const expectParams = async (block?: number) => {
      const s = await reputation.scoringParams({ blockTag: block });
      const policy = await reputation.slashingPolicy({ blockTag: block });
      expect(await protocolEntity(chain, fields, block)).to.deep.equal({
        scoreLatencyTargetMicros: s.latencyTargetMicros.toString(),
        scoreSmoothingBps: Number(s.smoothingBps),
        scoreRatingShareBps: Number(s.ratingShareBps),
        scoreMinReports: Number(s.minReports),
        scoreRatingFullSpend: s.ratingFullSpend.toString(),
        slashingThresholdBps: Number(policy.thresholdBps),
        slashingEpochs: Number(policy.epochs),
      });
      return { s, policy };
    };
    const now = await expectParams();
    expect(now.s.minReports).to.equal(BigInt(SCORING.minReports));
    expect(now.s.ratingFullSpend).to.equal(SCORING.ratingFullSpend);
    expect(now.policy.epochs).to.equal(SLASHING.epochs);
    // As deployed (the constructor's events).
    const deployed = await expectParams(chain.deployment.contracts.Reputation.blockNumber);
    expect(deployed.s.minReports).to.equal(1n);
    expect(deployed.s.ratingFullSpend).to.equal(parseEther("100")); // $100
  });

  it("keeps Reputation's pause switch and authority in its Contract entity", async () => {
    const { accessManager } = chain.protocol;
    expect(await contractEntity(chain, "Reputation")).to.deep.equal({
      address: lower(reputationAddress),
      paused: false,
      treasury: null,
      authority: lower(await accessManager.getAddress()),
    });
    expect(await contractEntity(chain, "Reputation", receipts.pause!.blockNumber)).to.deep.include({ paused: true });
  });

  it("triggered every Reputation handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
