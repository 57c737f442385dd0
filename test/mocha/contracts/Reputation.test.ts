import { expect } from "chai";
import { anyUint } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import {
  encodeBytes32String,
  id,
  MaxUint256,
  parseEther,
  recoverAddress,
  TypedDataEncoder,
  type Wallet,
  ZeroAddress,
  type TypedDataDomain,
} from "ethers";
import { ATTESTATION_TYPES, reputationDomain, signAttestation } from "../../../relayer/validator/attestation.js";
import { ROLES } from "../../../deploy/roles.js";
import { MockERC20__factory, Reputation__factory, type Reputation } from "../../../types/ethers-contracts/index.js";
import { channelId } from "../../../sdk/vouchers.js";
import { compact, malleate, STRANGER, USDC, withV } from "../helpers/escrow.js";
import { apiInput, ethers, MODEL_PAY_PER_CALL, networkHelpers, NodeType } from "../helpers/fixture.js";
import { E } from "../helpers/staking.js";
import {
  addValidators,
  advanceToEpoch,
  aggregateQos,
  attest,
  DEFAULT_SCORING,
  DEFAULT_SLASHING,
  epochScore,
  MAX_VALIDATORS,
  nextBlockAtEpochEnd,
  nextBlockAtEpochStart,
  PERFECT,
  qos,
  qosTuple,
  ratingShare,
  refreshFeeds,
  report,
  reputationFixture,
  smooth,
  spend,
  spendWeightedRating,
  starsBps,
  SubjectKind,
  topUp,
  USDC_FEED_HEARTBEAT,
  usdWeight,
  validatorScore,
  weightedLowerMedian,
  type Attestation,
  type Qos,
  type ReputationFixture,
  type ScoringParams,
} from "../helpers/reputation.js";

/** An explicit gas limit skips estimation, so a failing call is really mined at the set timestamp. */
const GAS = { gasLimit: 3_000_000 };
const LEFT = encodeBytes32String("left");
const REPLACED = encodeBytes32String("replaced");
const INELIGIBLE = encodeBytes32String("ineligible");

/** A validator score of 1,600 (under the default 2,000 slashing threshold). */
const LOW = qos({ successBps: 4000, availabilityBps: 4000 });

const scoringTuple = (p: ScoringParams) => [
  BigInt(p.latencyTargetMicros),
  BigInt(p.smoothingBps),
  BigInt(p.ratingShareBps),
  BigInt(p.minReports),
  p.ratingFullSpend,
];
const UINT128_MAX = 2n ** 128n - 1n;
/** US dollars, 18 decimals: the unit of rating weights (and ratingFullSpend). */
const USD = (n: string | number) => parseEther(String(n));
/** The USD weight of 1 USDC base unit at $1: $0.000001. */
const DUST_USD = 10n ** 12n;
/** A parameter override as a message (JSON with bigints as strings). */
const show = (o: object) => JSON.stringify(o, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

/**
 * The anchor scenario (hand-computed): stakes 10,000 / 20,000 / 30,000 MESH (total 60,000, half 30,000).
 *   p50: 10,000 (10k) | 20,000 (cum 40k)                 -> 20,000
 *   p99: 200,000 (20k) | 400,000 (cum 30k: exactly half)  -> 400,000
 *   success: 8,000 (30k: exactly half)                    -> 8,000
 *   availability: 9,000 (20k) | 9,800 (cum 50k)           -> 9,800
 * latency factor 250,000 / 400,000 = 6,250; score 8,000 x 9,800 x 6,250 / 1e8 = 4,900.
 */
const ANCHOR_QOS: [Qos, Qos, Qos] = [
  { p50Micros: 10_000, p99Micros: 400_000, successBps: 9_000, availabilityBps: 10_000 },
  { p50Micros: 30_000, p99Micros: 200_000, successBps: 9_500, availabilityBps: 9_000 },
  { p50Micros: 20_000, p99Micros: 500_000, successBps: 8_000, availabilityBps: 9_800 },
];
const ANCHOR_MEDIAN: Qos = { p50Micros: 20_000, p99Micros: 400_000, successBps: 8_000, availabilityBps: 9_800 };
const ANCHOR_SCORE = 4_900n;

describe("Reputation", () => {
  let fx: ReputationFixture;
  let rep: Reputation;
  let v0: Wallet, v1: Wallet, v2: Wallet;
  /** The two Edge nodes of the fixture, by ascending address. */
  let lo: string, hi: string;
  /** Node subject reported on by default (operator). */
  let A: string;

  beforeEach(async () => {
    fx = await networkHelpers.loadFixture(reputationFixture);
    rep = fx.reputation;
    [v0, v1, v2] = fx.validators;
    A = fx.operator.address;
    [lo, hi] = [fx.operator.address, fx.operator2.address].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)) as [
      string,
      string,
    ];
  });

  const nodeId = (node: string) => BigInt(node);

  async function scoreOf(kind: number, subject: bigint) {
    const s = await rep.scoreOf(kind, subject);
    return {
      epochScore: s.epochScore,
      smoothed: s.smoothed,
      epoch: s.epoch,
      lowStreak: s.lowStreak,
      finalized: s.finalized,
    };
  }

  /** v0 reports `q` on `node` for `epoch` during epoch + 1; finalized during epoch + 2. */
  async function scoreEpoch(epoch: number, q: Qos, node = A) {
    await advanceToEpoch(fx, epoch + 1);
    await attest(fx, v0, report(epoch, [{ node, qos: q }]));
    await advanceToEpoch(fx, epoch + 2);
    return rep.finalizeNode(node, epoch);
  }

  /** The anchor reports of the three validators on node A and API apiToken for `epoch`. */
  async function attestAnchor(epoch: number) {
    for (const [i, v] of fx.validators.entries()) {
      await attest(
        fx,
        v,
        report(epoch, [{ node: A, qos: ANCHOR_QOS[i]! }], [{ apiId: fx.apiToken, qos: ANCHOR_QOS[i]! }]),
      );
    }
  }

  // -------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired as the deploy params say", async () => {
      expect(await rep.escrow()).to.equal(await fx.escrow.getAddress());
      expect(await rep.staking()).to.equal(await fx.staking.getAddress());
      expect(await rep.authority()).to.equal(await fx.accessManager.getAddress());
      expect(await rep.MAX_VALIDATORS()).to.equal(BigInt(MAX_VALIDATORS));
      expect(await rep.scoringParams()).to.deep.equal(scoringTuple(DEFAULT_SCORING));
      expect(await rep.slashingPolicy()).to.deep.equal([
        BigInt(DEFAULT_SLASHING.thresholdBps),
        BigInt(DEFAULT_SLASHING.epochs),
      ]);
      expect(await rep.paused()).to.equal(false);
      const d = await rep.eip712Domain();
      expect(d.name).to.equal("Meshgate Reputation");
      expect(d.version).to.equal("1");
      expect(d.chainId).to.equal(fx.chainId);
      expect(d.verifyingContract).to.equal(fx.reputationAddress);
    });

    it("exposes the EIP-712 type hashes the signing helpers use", async () => {
      const encoder = TypedDataEncoder.from(ATTESTATION_TYPES);
      expect(await rep.ATTESTATION_TYPEHASH()).to.equal(id(encoder.encodeType("Attestation")));
      expect(await rep.NODE_REPORT_TYPEHASH()).to.equal(id(encoder.encodeType("NodeReport")));
      expect(await rep.API_REPORT_TYPEHASH()).to.equal(id(encoder.encodeType("ApiReport")));
      expect(await rep.ATTESTATION_TYPEHASH()).to.equal(
        id(
          "Attestation(uint32 epoch,NodeReport[] nodes,ApiReport[] apis)ApiReport(uint256 apiId,Qos qos)NodeReport(address node,Qos qos)Qos(uint32 p50Micros,uint32 p99Micros,uint16 successBps,uint16 availabilityBps)",
        ),
      );
    });

    it("runs on the escrow's epoch clock", async () => {
      const length = await fx.escrow.epochLength();
      expect(length).to.equal(24n * 60n * 60n);
      expect(await rep.currentEpoch()).to.equal(0n);
      await advanceToEpoch(fx, 3);
      expect(await rep.currentEpoch()).to.equal(3n);
      expect(await rep.currentEpoch()).to.equal(await fx.escrow.currentEpoch());
      await networkHelpers.time.increase(length - 1n);
      expect(await rep.currentEpoch()).to.equal(3n);
      await networkHelpers.time.increase(1n);
      expect(await rep.currentEpoch()).to.equal(4n);
      expect(await rep.currentEpoch()).to.equal(await fx.escrow.currentEpoch());
    });

    it("constructor emits the initial parameters", async () => {
      const scoring = {
        latencyTargetMicros: 1,
        smoothingBps: 10_000,
        ratingShareBps: 5_000,
        minReports: 32,
        ratingFullSpend: 1n,
      };
      const slashing = { thresholdBps: 10_000, epochs: 1 };
      const fresh = await new Reputation__factory(fx.deployer).deploy(
        await fx.accessManager.getAddress(),
        fx.escrowAddress,
        await fx.staking.getAddress(),
        scoring,
        slashing,
      );
      const tx = fresh.deploymentTransaction()!;
      await expect(tx).to.emit(fresh, "ScoringParamsUpdated").withArgs(scoringTuple(scoring));
      await expect(tx).to.emit(fresh, "SlashingPolicyUpdated").withArgs([10_000, 1]);
      expect(await fresh.scoringParams()).to.deep.equal(scoringTuple(scoring));
      expect(await fresh.slashingPolicy()).to.deep.equal([10_000n, 1n]);
      expect(await fresh.currentEpoch()).to.equal(await fx.escrow.currentEpoch());
      expect(await fresh.validators()).to.deep.equal([]);
    });

    it("constructor rejects a zero authority, escrow or staking (ZeroAddress)", async () => {
      const factory = new Reputation__factory(fx.deployer);
      const am = await fx.accessManager.getAddress();
      const staking = await fx.staking.getAddress();
      for (const [a, e, s] of [
        [ZeroAddress, fx.escrowAddress, staking],
        [am, ZeroAddress, staking],
        [am, fx.escrowAddress, ZeroAddress],
      ] as const) {
        await expect(factory.deploy(a, e, s, DEFAULT_SCORING, DEFAULT_SLASHING)).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
    });

    it("constructor validates the scoring params (InvalidScoringParams) and the slashing policy (InvalidSlashingPolicy)", async () => {
      const factory = new Reputation__factory(fx.deployer);
      const am = await fx.accessManager.getAddress();
      const staking = await fx.staking.getAddress();
      const bad: Partial<ScoringParams>[] = [
        { latencyTargetMicros: 0 },
        { smoothingBps: 0 },
        { smoothingBps: 10_001 },
        { ratingShareBps: 5_001 },
        { minReports: 0 },
        { minReports: 33 },
        { ratingFullSpend: 0n },
      ];
      for (const b of bad) {
        await expect(
          factory.deploy(am, fx.escrowAddress, staking, { ...DEFAULT_SCORING, ...b }, DEFAULT_SLASHING),
          show(b),
        ).to.be.revertedWithCustomError(factory, "InvalidScoringParams");
      }
      for (const b of [{ thresholdBps: 10_001 }, { epochs: 0 }]) {
        await expect(
          factory.deploy(am, fx.escrowAddress, staking, DEFAULT_SCORING, { ...DEFAULT_SLASHING, ...b }),
          show(b),
        ).to.be.revertedWithCustomError(factory, "InvalidSlashingPolicy");
      }
      // A zero threshold (nothing is ever low) is a valid policy.
      const fresh = await factory.deploy(am, fx.escrowAddress, staking, DEFAULT_SCORING, {
        thresholdBps: 0,
        epochs: 65_535,
      });
      expect(await fresh.slashingPolicy()).to.deep.equal([0n, 65_535n]);
    });
  });

  // -------------------------------------------------------------------- governance

  describe("setScoringParams", () => {
    it("stores the params and emits ScoringParamsUpdated; the bounds are inclusive", async () => {
      const p = {
        latencyTargetMicros: 1,
        smoothingBps: 10_000,
        ratingShareBps: 5_000,
        minReports: 32,
        ratingFullSpend: 1n,
      };
      await expect(rep.connect(fx.deployer).setScoringParams(p))
        .to.emit(rep, "ScoringParamsUpdated")
        .withArgs(scoringTuple(p));
      expect(await rep.scoringParams()).to.deep.equal(scoringTuple(p));
      const q = {
        latencyTargetMicros: 4_294_967_295,
        smoothingBps: 1,
        ratingShareBps: 0,
        minReports: 1,
        ratingFullSpend: UINT128_MAX,
      };
      await rep.connect(fx.deployer).setScoringParams(q);
      expect(await rep.scoringParams()).to.deep.equal(scoringTuple(q));
    });

    it("rejects each invalid field (InvalidScoringParams)", async () => {
      for (const b of [
        { latencyTargetMicros: 0 },
        { smoothingBps: 0 },
        { smoothingBps: 10_001 },
        { ratingShareBps: 5_001 },
        { minReports: 0 },
        { minReports: 33 },
        { ratingFullSpend: 0n },
      ]) {
        await expect(
          rep.connect(fx.deployer).setScoringParams({ ...DEFAULT_SCORING, ...b }),
          show(b),
        ).to.be.revertedWithCustomError(rep, "InvalidScoringParams");
      }
      expect(await rep.scoringParams()).to.deep.equal(scoringTuple(DEFAULT_SCORING));
    });

    it("is restricted to the PROTOCOL role (AccessManagedUnauthorized)", async () => {
      await expect(rep.connect(fx.outsider).setScoringParams(DEFAULT_SCORING))
        .to.be.revertedWithCustomError(rep, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
      await fx.accessManager.connect(fx.deployer).grantRole(ROLES.SECURITY, fx.outsider.address, 0);
      await expect(rep.connect(fx.outsider).setScoringParams(DEFAULT_SCORING))
        .to.be.revertedWithCustomError(rep, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
      await fx.accessManager.connect(fx.deployer).grantRole(ROLES.PROTOCOL, fx.outsider.address, 0);
      await expect(rep.connect(fx.outsider).setScoringParams(DEFAULT_SCORING)).to.emit(rep, "ScoringParamsUpdated");
    });
  });

  describe("setSlashingPolicy", () => {
    it("stores the policy and emits SlashingPolicyUpdated; the bounds are inclusive", async () => {
      await expect(rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 10_000, epochs: 1 }))
        .to.emit(rep, "SlashingPolicyUpdated")
        .withArgs([10_000, 1]);
      expect(await rep.slashingPolicy()).to.deep.equal([10_000n, 1n]);
      await rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 0, epochs: 65_535 });
      expect(await rep.slashingPolicy()).to.deep.equal([0n, 65_535n]);
    });

    it("rejects a threshold over 10,000 or zero epochs (InvalidSlashingPolicy)", async () => {
      await expect(
        rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 10_001, epochs: 3 }),
      ).to.be.revertedWithCustomError(rep, "InvalidSlashingPolicy");
      await expect(
        rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 2000, epochs: 0 }),
      ).to.be.revertedWithCustomError(rep, "InvalidSlashingPolicy");
    });

    it("is restricted to the SECURITY role (AccessManagedUnauthorized)", async () => {
      await expect(rep.connect(fx.outsider).setSlashingPolicy(DEFAULT_SLASHING))
        .to.be.revertedWithCustomError(rep, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
      await fx.accessManager.connect(fx.deployer).grantRole(ROLES.PROTOCOL, fx.outsider.address, 0);
      await expect(rep.connect(fx.outsider).setSlashingPolicy(DEFAULT_SLASHING))
        .to.be.revertedWithCustomError(rep, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
      await fx.accessManager.connect(fx.deployer).grantRole(ROLES.SECURITY, fx.outsider.address, 0);
      await expect(rep.connect(fx.outsider).setSlashingPolicy(DEFAULT_SLASHING)).to.emit(rep, "SlashingPolicyUpdated");
    });
  });

  // -------------------------------------------------------------------- validator set

  describe("joinValidators", () => {
    it("adds an active Validator node with its stake (ValidatorJoined)", async () => {
      expect(await rep.validators()).to.deep.equal([v0.address, v1.address, v2.address]);
      expect(await rep.isValidator(fx.candidate.address)).to.equal(false);
      await expect(rep.connect(fx.candidate).joinValidators())
        .to.emit(rep, "ValidatorJoined")
        .withArgs(fx.candidate.address, E(10_000));
      expect(await rep.validators()).to.deep.equal([v0.address, v1.address, v2.address, fx.candidate.address]);
      expect(await rep.isValidator(fx.candidate.address)).to.equal(true);
    });

    it("reports the current stake in ValidatorJoined", async () => {
      await topUp(fx, fx.candidate, E(1234));
      await expect(rep.connect(fx.candidate).joinValidators())
        .to.emit(rep, "ValidatorJoined")
        .withArgs(fx.candidate.address, E(11_234));
    });

    it("reverts NotValidatorNode without a node, for another node type, under the minimum stake and when exiting", async () => {
      await expect(rep.connect(fx.outsider).joinValidators())
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(fx.outsider.address);
      // operator runs an Edge node.
      await expect(rep.connect(fx.operator).joinValidators())
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(fx.operator.address);
      // A raised minimum makes the 10,000 MESH candidate inactive ...
      await fx.staking.connect(fx.deployer).setMinStake(NodeType.Validator, E(10_001));
      await expect(rep.connect(fx.candidate).joinValidators())
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(fx.candidate.address);
      // ... until it tops up.
      await topUp(fx, fx.candidate, E(1));
      await expect(rep.connect(fx.candidate).joinValidators()).to.emit(rep, "ValidatorJoined");
      // An exiting node (everything unstaked) cannot join.
      await rep.connect(fx.candidate).leaveValidators();
      await fx.staking.connect(fx.candidate).unstake(E(10_001));
      await expect(rep.connect(fx.candidate).joinValidators())
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(fx.candidate.address);
    });

    it("reverts AlreadyValidator for a member", async () => {
      await expect(rep.connect(v1).joinValidators())
        .to.be.revertedWithCustomError(rep, "AlreadyValidator")
        .withArgs(v1.address);
    });

    it("reverts EnforcedPause while paused", async () => {
      await rep.connect(fx.deployer).emergencyPause();
      await expect(rep.connect(fx.candidate).joinValidators()).to.be.revertedWithCustomError(rep, "EnforcedPause");
    });

    it("records the epoch of each member's latest join (joinedEpoch), kept after leaving", async () => {
      for (const v of [v0, v1, v2]) expect(await rep.joinedEpoch(v.address)).to.equal(0n);
      // Never joined: 0 as well (membership is isValidator's).
      expect(await rep.joinedEpoch(fx.candidate.address)).to.equal(0n);
      expect(await rep.joinedEpoch(fx.outsider.address)).to.equal(0n);
      await advanceToEpoch(fx, 3);
      await rep.connect(fx.candidate).joinValidators();
      expect(await rep.joinedEpoch(fx.candidate.address)).to.equal(3n);
      await rep.connect(fx.candidate).leaveValidators();
      expect(await rep.joinedEpoch(fx.candidate.address)).to.equal(3n);
      expect(await rep.isValidator(fx.candidate.address)).to.equal(false);
      // Rejoining records the new epoch; other members keep theirs.
      await advanceToEpoch(fx, 5);
      await rep.connect(fx.candidate).joinValidators();
      expect(await rep.joinedEpoch(fx.candidate.address)).to.equal(5n);
      await rep.connect(v1).leaveValidators();
      await rep.connect(v1).joinValidators();
      expect(await rep.joinedEpoch(v1.address)).to.equal(5n);
      expect(await rep.joinedEpoch(v0.address)).to.equal(0n);
    });
  });

  describe("leaveValidators", () => {
    it("removes the caller (ValidatorLeft 'left'), moving the last member into its slot", async () => {
      await expect(rep.connect(v0).leaveValidators()).to.emit(rep, "ValidatorLeft").withArgs(v0.address, LEFT);
      expect(await rep.validators()).to.deep.equal([v2.address, v1.address]);
      expect(await rep.isValidator(v0.address)).to.equal(false);
      // The last member leaving.
      await rep.connect(v1).leaveValidators();
      expect(await rep.validators()).to.deep.equal([v2.address]);
      expect(await rep.isValidator(v2.address)).to.equal(true);
      await rep.connect(v2).leaveValidators();
      expect(await rep.validators()).to.deep.equal([]);
      expect(await rep.isValidator(v2.address)).to.equal(false);
      // Rejoining works.
      await rep.connect(v1).joinValidators();
      expect(await rep.validators()).to.deep.equal([v1.address]);
    });

    it("reverts NotInValidatorSet for a non-member", async () => {
      await expect(rep.connect(fx.candidate).leaveValidators())
        .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
        .withArgs(fx.candidate.address);
      await rep.connect(v0).leaveValidators();
      await expect(rep.connect(v0).leaveValidators())
        .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
        .withArgs(v0.address);
    });

    it("stays open while paused", async () => {
      await rep.connect(fx.deployer).emergencyPause();
      await expect(rep.connect(v0).leaveValidators()).to.emit(rep, "ValidatorLeft");
    });
  });

  describe("removeValidator", () => {
    it("reverts StillEligible for an active Validator node, member or not", async () => {
      await expect(rep.connect(fx.outsider).removeValidator(v0.address))
        .to.be.revertedWithCustomError(rep, "StillEligible")
        .withArgs(v0.address);
      await expect(rep.connect(fx.outsider).removeValidator(fx.candidate.address))
        .to.be.revertedWithCustomError(rep, "StillEligible")
        .withArgs(fx.candidate.address);
    });

    it("lets anyone remove a member that exited (ValidatorLeft 'ineligible')", async () => {
      await fx.staking.connect(v1).unstake(E(20_000));
      await expect(rep.connect(fx.outsider).removeValidator(v1.address))
        .to.emit(rep, "ValidatorLeft")
        .withArgs(v1.address, INELIGIBLE);
      expect(await rep.validators()).to.deep.equal([v0.address, v2.address]);
      expect(await rep.isValidator(v1.address)).to.equal(false);
    });

    it("removes members under a raised minimum stake or slashed under it, and only those", async () => {
      await fx.staking.connect(fx.deployer).setMinStake(NodeType.Validator, E(15_000));
      await expect(rep.removeValidator(v0.address)).to.emit(rep, "ValidatorLeft").withArgs(v0.address, INELIGIBLE);
      await expect(rep.removeValidator(v1.address))
        .to.be.revertedWithCustomError(rep, "StillEligible")
        .withArgs(v1.address);
      await fx.staking.connect(fx.deployer).slash(v1.address, E(5_001), encodeBytes32String("test"));
      await expect(rep.removeValidator(v1.address)).to.emit(rep, "ValidatorLeft").withArgs(v1.address, INELIGIBLE);
      expect(await rep.validators()).to.deep.equal([v2.address]);
    });

    it("reverts NotInValidatorSet for an ineligible non-member", async () => {
      await expect(rep.removeValidator(fx.outsider.address))
        .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
        .withArgs(fx.outsider.address);
      await expect(rep.removeValidator(fx.operator.address))
        .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
        .withArgs(fx.operator.address);
    });

    it("stays open while paused", async () => {
      await fx.staking.connect(v1).unstake(E(20_000));
      await rep.connect(fx.deployer).emergencyPause();
      await expect(rep.removeValidator(v1.address)).to.emit(rep, "ValidatorLeft");
    });
  });

  // -------------------------------------------------------------------- attest

  describe("attest", () => {
    beforeEach(async () => {
      await advanceToEpoch(fx, 1);
    });

    it("stores one report per subject, weighted by the stake (Attested); anyone may submit", async () => {
      const a = report(
        0,
        [
          { node: lo, qos: PERFECT },
          { node: hi, qos: LOW },
        ],
        [{ apiId: fx.apiToken, qos: PERFECT }],
      );
      expect(await rep.hasAttested(0, v1.address)).to.equal(false);
      await expect(attest(fx, v1, a, { submitter: fx.outsider }))
        .to.emit(rep, "Attested")
        .withArgs(v1.address, 0, E(20_000), 2, 1);
      expect(await rep.hasAttested(0, v1.address)).to.equal(true);
      expect(await rep.hasAttested(0, v0.address)).to.equal(false);
      expect(await rep.hasAttested(1, v1.address)).to.equal(false);
      expect(await rep.reportCount(SubjectKind.Node, nodeId(lo), 0)).to.equal(1n);
      expect(await rep.reportCount(SubjectKind.Node, nodeId(hi), 0)).to.equal(1n);
      expect(await rep.reportCount(SubjectKind.Api, fx.apiToken, 0)).to.equal(1n);
      expect(await rep.reportCount(SubjectKind.Api, fx.apiUsd, 0)).to.equal(0n);
      expect(await rep.reportCount(SubjectKind.Node, nodeId(lo), 1)).to.equal(0n);
      await attest(fx, v2, report(0, [{ node: lo, qos: PERFECT }]));
      expect(await rep.reportCount(SubjectKind.Node, nodeId(lo), 0)).to.equal(2n);
      expect(await rep.reportCount(SubjectKind.Node, nodeId(hi), 0)).to.equal(1n);
    });

    it("accepts reports with only nodes or only APIs, and API id 0", async () => {
      await expect(attest(fx, v0, report(0, [{ node: A, qos: PERFECT }])))
        .to.emit(rep, "Attested")
        .withArgs(v0.address, 0, E(10_000), 1, 0);
      await expect(attest(fx, v1, report(0, [], [{ apiId: 0n, qos: PERFECT }])))
        .to.emit(rep, "Attested")
        .withArgs(v1.address, 0, E(20_000), 0, 1);
      expect(await rep.reportCount(SubjectKind.Api, 0n, 0)).to.equal(1n);
    });

    it("weighs a report with the validator's stake when it attests", async () => {
      await topUp(fx, v0, E(5_000));
      await expect(attest(fx, v0, report(0, [{ node: A, qos: qos({ successBps: 5_000 }) }])))
        .to.emit(rep, "Attested")
        .withArgs(v0.address, 0, E(15_000), 1, 0);
      await attest(fx, v1, report(0, [{ node: A, qos: qos({ successBps: 9_000 }) }]));
      // A later top-up does not change the stored weight: 15,000 vs 20,000 -> 9,000 is the median.
      // (Weighted by the stake now, 115,000 vs 20,000, the median would be 5,000.)
      await topUp(fx, v0, E(100_000));
      await advanceToEpoch(fx, 2);
      const agg = qos({ successBps: 9_000 });
      await expect(rep.finalizeNode(A, 0))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 0, qosTuple(agg), 0, 9_000, 9_000, 0, 2);
    });

    describe("reporting window", () => {
      it("reverts EpochNotOver for the current epoch and later ones", async () => {
        await expect(attest(fx, v0, report(1, [{ node: A, qos: PERFECT }])))
          .to.be.revertedWithCustomError(rep, "EpochNotOver")
          .withArgs(1, 1);
        await expect(attest(fx, v0, report(7, [{ node: A, qos: PERFECT }])))
          .to.be.revertedWithCustomError(rep, "EpochNotOver")
          .withArgs(7, 1);
        await expect(attest(fx, v0, report(4_294_967_295, [{ node: A, qos: PERFECT }])))
          .to.be.revertedWithCustomError(rep, "EpochNotOver")
          .withArgs(4_294_967_295, 1);
      });

      it("reverts ReportTooLate after the next epoch", async () => {
        await advanceToEpoch(fx, 2);
        await expect(attest(fx, v0, report(0, [{ node: A, qos: PERFECT }])))
          .to.be.revertedWithCustomError(rep, "ReportTooLate")
          .withArgs(0, 2);
        await advanceToEpoch(fx, 9);
        await expect(attest(fx, v0, report(0, [{ node: A, qos: PERFECT }])))
          .to.be.revertedWithCustomError(rep, "ReportTooLate")
          .withArgs(0, 9);
        await expect(attest(fx, v0, report(8, [{ node: A, qos: PERFECT }]))).to.emit(rep, "Attested");
      });

      it("opens on the first second of epoch + 1 and closes after its last second", async () => {
        const a = report(1, [{ node: A, qos: PERFECT }]);
        await nextBlockAtEpochEnd(fx, 1);
        await expect(attest(fx, v0, a, { overrides: GAS }))
          .to.be.revertedWithCustomError(rep, "EpochNotOver")
          .withArgs(1, 1);
        await nextBlockAtEpochStart(fx, 2);
        await expect(attest(fx, v0, a, { overrides: GAS })).to.emit(rep, "Attested");
        await nextBlockAtEpochEnd(fx, 2);
        await expect(attest(fx, v1, a, { overrides: GAS })).to.emit(rep, "Attested");
        await nextBlockAtEpochStart(fx, 3);
        await expect(attest(fx, v2, a, { overrides: GAS }))
          .to.be.revertedWithCustomError(rep, "ReportTooLate")
          .withArgs(1, 3);
      });
    });

    describe("membership since the reported epoch (JoinedAfterEpoch)", () => {
      const a0 = () => report(0, [{ node: A, qos: PERFECT }]);

      it("reverts JoinedAfterEpoch for a validator that joined during the reporting window, with the epochs", async () => {
        await rep.connect(fx.candidate).joinValidators();
        expect(await rep.joinedEpoch(fx.candidate.address)).to.equal(1n);
        await expect(attest(fx, fx.candidate, a0(), { submitter: fx.outsider }))
          .to.be.revertedWithCustomError(rep, "JoinedAfterEpoch")
          .withArgs(fx.candidate.address, 1, 0);
        expect(await rep.hasAttested(0, fx.candidate.address)).to.equal(false);
        expect(await rep.reportCount(SubjectKind.Node, nodeId(A), 0)).to.equal(0n);
        // Members since epoch 0 report on it; the newcomer reports from its own epoch on.
        await expect(attest(fx, v0, a0())).to.emit(rep, "Attested");
        await advanceToEpoch(fx, 2);
        await expect(attest(fx, fx.candidate, report(1, [{ node: A, qos: PERFECT }])))
          .to.emit(rep, "Attested")
          .withArgs(fx.candidate.address, 1, E(10_000), 1, 0);
      });

      it("accepts a validator that joined during the reported epoch, up to its last second", async () => {
        const [late] = await addValidators(fx, [E(10_000)], { label: "late", join: false });
        await nextBlockAtEpochEnd(fx, 1);
        await rep.connect(fx.candidate).joinValidators(GAS);
        await nextBlockAtEpochStart(fx, 2);
        await rep.connect(late!).joinValidators(GAS);
        expect(await rep.joinedEpoch(fx.candidate.address)).to.equal(1n);
        expect(await rep.joinedEpoch(late!.address)).to.equal(2n);
        const a1 = report(1, [{ node: A, qos: PERFECT }]);
        await expect(attest(fx, fx.candidate, a1)).to.emit(rep, "Attested");
        await expect(attest(fx, late!, a1))
          .to.be.revertedWithCustomError(rep, "JoinedAfterEpoch")
          .withArgs(late!.address, 2, 1);
        expect(await rep.reportCount(SubjectKind.Node, nodeId(A), 1)).to.equal(1n);
      });

      it("counts from the latest join: leaving and rejoining during the window bars the reported epoch", async () => {
        await rep.connect(v0).leaveValidators();
        await rep.connect(v0).joinValidators();
        expect(await rep.joinedEpoch(v0.address)).to.equal(1n);
        await expect(attest(fx, v0, a0()))
          .to.be.revertedWithCustomError(rep, "JoinedAfterEpoch")
          .withArgs(v0.address, 1, 0);
        // The members that stayed report as usual; v0 reports again from epoch 1 on.
        await expect(attest(fx, v1, a0())).to.emit(rep, "Attested");
        await advanceToEpoch(fx, 2);
        await expect(attest(fx, v0, report(1, [{ node: A, qos: PERFECT }]))).to.emit(rep, "Attested");
      });

      it("keeps a subject's reports bounded when validators rotate through a set that is not full (regression)", async () => {
        // The three members of epoch 0 report on A.
        for (const v of [v0, v1, v2]) await attest(fx, v, a0());
        expect(await rep.reportCount(SubjectKind.Node, nodeId(A), 0)).to.equal(3n);
        // Five more Validator nodes rotate through the free places during the window: join,
        // try to report on epoch 0, leave. Before JoinedAfterEpoch each added a report, so the
        // reports on one subject (and the loops of its finalization) had no bound.
        const rotators = await addValidators(fx, Array<bigint>(5).fill(E(10_000)), { label: "rotator", join: false });
        for (const r of rotators) {
          await rep.connect(r).joinValidators();
          expect((await rep.validators()).length).to.equal(4);
          await expect(attest(fx, r, a0()))
            .to.be.revertedWithCustomError(rep, "JoinedAfterEpoch")
            .withArgs(r.address, 1, 0);
          await rep.connect(r).leaveValidators();
        }
        // A member rotating out and back in does not get a second report either.
        await rep.connect(v2).leaveValidators();
        await rep.connect(v2).joinValidators();
        await expect(attest(fx, v2, a0())).to.be.revertedWithCustomError(rep, "JoinedAfterEpoch");
        expect(await rep.reportCount(SubjectKind.Node, nodeId(A), 0)).to.equal(3n);
        await advanceToEpoch(fx, 2);
        await expect(rep.finalizeNode(A, 0))
          .to.emit(rep, "NodeScored")
          .withArgs(A, 0, qosTuple(PERFECT), 0, 10_000, 10_000, 0, 3);
      });
    });

    it("reverts EmptyAttestation without subjects", async () => {
      await expect(attest(fx, v0, report(0))).to.be.revertedWithCustomError(rep, "EmptyAttestation");
    });

    describe("signature", () => {
      const a = () => report(0, [{ node: A, qos: PERFECT }]);

      it("reverts InvalidSignature for a malformed signature (length, v, high s, empty)", async () => {
        const sig = await signAttestation(v0, fx.repDomain, a());
        for (const bad of [compact(sig), withV(sig, 0), withV(sig, 29), malleate(sig), "0x", `${sig}00`]) {
          await expect(rep.connect(v0).attest(a(), bad), bad).to.be.revertedWithCustomError(rep, "InvalidSignature");
        }
        // The same signature, well-formed, is accepted.
        await expect(rep.connect(v0).attest(a(), sig)).to.emit(rep, "Attested");
      });

      it("reverts NotInValidatorSet when signed by a non-member (Validator node or not)", async () => {
        await expect(attest(fx, fx.candidate, a()))
          .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
          .withArgs(fx.candidate.address);
        const stranger = STRANGER.connect(ethers.provider);
        await expect(attest(fx, stranger, a(), { submitter: fx.outsider }))
          .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
          .withArgs(stranger.address);
        // A member who left can no longer attest.
        await rep.connect(v2).leaveValidators();
        await expect(attest(fx, v2, a()))
          .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
          .withArgs(v2.address);
      });

      it("names another signer when the attestation was changed after signing", async () => {
        const signed = a();
        const sig = await signAttestation(v0, fx.repDomain, signed);
        const changed = report(0, [{ node: A, qos: qos({ successBps: 9_999 }) }]);
        const other = recoverAddress(TypedDataEncoder.hash(fx.repDomain, ATTESTATION_TYPES, changed), sig);
        expect(other).to.not.equal(v0.address);
        await expect(rep.connect(v0).attest(changed, sig))
          .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
          .withArgs(other);
        const otherEpoch = { ...signed, epoch: 1 };
        await advanceToEpoch(fx, 2);
        const other2 = recoverAddress(TypedDataEncoder.hash(fx.repDomain, ATTESTATION_TYPES, otherEpoch), sig);
        await expect(rep.connect(v0).attest(otherEpoch, sig))
          .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
          .withArgs(other2);
      });

      it("rejects a signature for another chain or another contract", async () => {
        const domains: TypedDataDomain[] = [
          reputationDomain(fx.chainId + 1n, fx.reputationAddress),
          reputationDomain(fx.chainId, fx.escrowAddress),
          { ...fx.repDomain, name: "Meshgate Reputation v2" },
          { ...fx.repDomain, version: "2" },
        ];
        for (const domain of domains) {
          const sig = await signAttestation(v0, domain, a());
          const recovered = recoverAddress(TypedDataEncoder.hash(fx.repDomain, ATTESTATION_TYPES, a()), sig);
          expect(recovered).to.not.equal(v0.address);
          await expect(
            rep.connect(v0).attest(a(), sig),
            `${domain.name} ${domain.version} ${domain.chainId} ${domain.verifyingContract}`,
          )
            .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
            .withArgs(recovered);
        }
      });
    });

    it("reverts NotValidatorNode for a member whose stake fell under the minimum or who exited", async () => {
      const a = report(0, [{ node: A, qos: PERFECT }]);
      // v0 exits (unstakes everything) but is still in the set.
      await fx.staking.connect(v0).unstake(E(10_000));
      expect(await rep.isValidator(v0.address)).to.equal(true);
      await expect(attest(fx, v0, a))
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(v0.address);
      // v1 (20,000 MESH) falls under a raised minimum; v2 (30,000) does not.
      await fx.staking.connect(fx.deployer).setMinStake(NodeType.Validator, E(25_000));
      await expect(attest(fx, v1, a))
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(v1.address);
      await expect(attest(fx, v2, a)).to.emit(rep, "Attested");
      // Slashed under the minimum.
      await fx.staking.connect(fx.deployer).setMinStake(NodeType.Validator, E(10_000));
      await fx.staking.connect(fx.deployer).slash(v1.address, E(10_001), encodeBytes32String("test"));
      await expect(attest(fx, v1, a))
        .to.be.revertedWithCustomError(rep, "NotValidatorNode")
        .withArgs(v1.address);
    });

    it("reverts AlreadyAttested for a second report of the same validator and epoch, whoever submits it", async () => {
      const a = report(0, [{ node: A, qos: PERFECT }]);
      const sig = await signAttestation(v0, fx.repDomain, a);
      await rep.connect(v0).attest(a, sig);
      await expect(rep.connect(v0).attest(a, sig))
        .to.be.revertedWithCustomError(rep, "AlreadyAttested")
        .withArgs(v0.address, 0);
      await expect(rep.connect(fx.outsider).attest(a, sig))
        .to.be.revertedWithCustomError(rep, "AlreadyAttested")
        .withArgs(v0.address, 0);
      // Different content, same epoch.
      await expect(attest(fx, v0, report(0, [{ node: hi, qos: LOW }])))
        .to.be.revertedWithCustomError(rep, "AlreadyAttested")
        .withArgs(v0.address, 0);
      // Leaving and rejoining does not reset it (rejoining during epoch 1 also bars epoch 0's
      // reports: JoinedAfterEpoch, checked first).
      await rep.connect(v0).leaveValidators();
      await rep.connect(v0).joinValidators();
      expect(await rep.hasAttested(0, v0.address)).to.equal(true);
      await expect(attest(fx, v0, a))
        .to.be.revertedWithCustomError(rep, "JoinedAfterEpoch")
        .withArgs(v0.address, 1, 0);
      expect(await rep.reportCount(SubjectKind.Node, nodeId(A), 0)).to.equal(1n);
      // The next epoch is a new report.
      await advanceToEpoch(fx, 2);
      await expect(attest(fx, v0, report(1, [{ node: A, qos: PERFECT }]))).to.emit(rep, "Attested");
    });

    it("reverts SubjectsNotAscending for unsorted or duplicate nodes, with the index", async () => {
      const cases: [Attestation, number][] = [
        [
          {
            epoch: 0,
            nodes: [
              { node: hi, qos: PERFECT },
              { node: lo, qos: PERFECT },
            ],
            apis: [],
          },
          1,
        ],
        [
          {
            epoch: 0,
            nodes: [
              { node: lo, qos: PERFECT },
              { node: lo, qos: PERFECT },
            ],
            apis: [],
          },
          1,
        ],
        [
          {
            epoch: 0,
            nodes: [
              { node: lo, qos: PERFECT },
              { node: hi, qos: PERFECT },
              { node: hi, qos: PERFECT },
            ],
            apis: [],
          },
          2,
        ],
        [{ epoch: 0, nodes: [{ node: ZeroAddress, qos: PERFECT }], apis: [] }, 0],
      ];
      for (const [a, index] of cases) {
        await expect(attest(fx, v0, a))
          .to.be.revertedWithCustomError(rep, "SubjectsNotAscending")
          .withArgs(index);
      }
    });

    it("reverts SubjectsNotAscending for unsorted or duplicate APIs, indexed after the nodes", async () => {
      const node = { node: A, qos: PERFECT };
      const api = (apiId: bigint) => ({ apiId, qos: PERFECT });
      const cases: [Attestation, number][] = [
        [{ epoch: 0, nodes: [], apis: [api(2n), api(1n)] }, 1],
        [{ epoch: 0, nodes: [node], apis: [api(1n), api(1n)] }, 2],
        [{ epoch: 0, nodes: [node], apis: [api(1n), api(3n), api(2n)] }, 3],
        [
          {
            epoch: 0,
            nodes: [
              { node: lo, qos: PERFECT },
              { node: hi, qos: PERFECT },
            ],
            apis: [api(5n), api(0n)],
          },
          3,
        ],
      ];
      for (const [a, index] of cases) {
        await expect(attest(fx, v0, a))
          .to.be.revertedWithCustomError(rep, "SubjectsNotAscending")
          .withArgs(index);
      }
    });

    it("reverts SelfReport when a validator reports on its own node", async () => {
      await expect(attest(fx, v1, report(0, [{ node: v1.address, qos: PERFECT }])))
        .to.be.revertedWithCustomError(rep, "SelfReport")
        .withArgs(v1.address);
      await expect(
        attest(
          fx,
          v1,
          report(0, [
            { node: A, qos: PERFECT },
            { node: v1.address, qos: PERFECT },
          ]),
        ),
      )
        .to.be.revertedWithCustomError(rep, "SelfReport")
        .withArgs(v1.address);
      // Reporting on another validator's node is fine.
      await expect(attest(fx, v1, report(0, [{ node: v0.address, qos: PERFECT }]))).to.emit(rep, "Attested");
    });

    it("reverts InvalidQos (success or availability over 10,000, p50 over p99), with the index", async () => {
      const cases: [Attestation, number][] = [
        [report(0, [{ node: A, qos: qos({ successBps: 10_001 }) }]), 0],
        [
          report(0, [
            { node: lo, qos: PERFECT },
            { node: hi, qos: qos({ availabilityBps: 10_001 }) },
          ]),
          1,
        ],
        [report(0, [{ node: A, qos: qos({ p50Micros: 100_001, p99Micros: 100_000 }) }]), 0],
        [report(0, [{ node: A, qos: PERFECT }], [{ apiId: 1n, qos: qos({ successBps: 65_535 }) }]), 1],
        [
          report(
            0,
            [{ node: A, qos: PERFECT }],
            [
              { apiId: 1n, qos: PERFECT },
              { apiId: 2n, qos: qos({ p50Micros: 2, p99Micros: 1 }) },
            ],
          ),
          2,
        ],
      ];
      for (const [a, index] of cases) {
        await expect(attest(fx, v0, a))
          .to.be.revertedWithCustomError(rep, "InvalidQos")
          .withArgs(index);
      }
      // The bounds are inclusive; all-zero measurements are valid.
      const edge = qos({ p50Micros: 7, p99Micros: 7, successBps: 10_000, availabilityBps: 10_000 });
      const zero = { p50Micros: 0, p99Micros: 0, successBps: 0, availabilityBps: 0 };
      await expect(attest(fx, v0, report(0, [{ node: A, qos: edge }], [{ apiId: 1n, qos: zero }]))).to.emit(
        rep,
        "Attested",
      );
    });

    it("reverts EnforcedPause while paused (guardian), and works again after the Security DAO unpauses", async () => {
      const guardian = fx.rest[6]!;
      await fx.accessManager.connect(fx.deployer).grantRole(ROLES.GUARDIAN, guardian.address, 0);
      await expect(rep.connect(guardian).emergencyPause()).to.emit(rep, "Paused").withArgs(guardian.address);
      const a = report(0, [{ node: A, qos: PERFECT }]);
      await expect(attest(fx, v0, a)).to.be.revertedWithCustomError(rep, "EnforcedPause");
      // The guardian cannot unpause; SECURITY can.
      await expect(rep.connect(guardian).emergencyUnpause())
        .to.be.revertedWithCustomError(rep, "AccessManagedUnauthorized")
        .withArgs(guardian.address);
      await rep.connect(fx.deployer).emergencyUnpause();
      await expect(attest(fx, v0, a)).to.emit(rep, "Attested");
    });
  });

  describe("attestationDigest", () => {
    it("equals the EIP-712 hash ethers computes for the same data, and recovers the signer", async () => {
      const attestations: Attestation[] = [
        report(0),
        report(
          42,
          [
            { node: lo, qos: PERFECT },
            { node: hi, qos: LOW },
          ],
          [
            { apiId: 1n, qos: ANCHOR_QOS[0] },
            { apiId: 2n ** 256n - 1n, qos: ANCHOR_QOS[1] },
          ],
        ),
        report(
          4_294_967_295,
          [],
          [{ apiId: 7n, qos: { p50Micros: 0, p99Micros: 4_294_967_295, successBps: 0, availabilityBps: 65_535 } }],
        ),
      ];
      for (const a of attestations) {
        const digest = await rep.attestationDigest(a);
        expect(digest).to.equal(TypedDataEncoder.hash(fx.repDomain, ATTESTATION_TYPES, a));
        expect(recoverAddress(digest, await signAttestation(v2, fx.repDomain, a))).to.equal(v2.address);
      }
    });

    it("depends on every field", async () => {
      const base = report(3, [{ node: A, qos: PERFECT }], [{ apiId: 1n, qos: PERFECT }]);
      const digest = await rep.attestationDigest(base);
      const variants: Attestation[] = [
        { ...base, epoch: 4 },
        { ...base, nodes: [{ node: fx.operator2.address, qos: PERFECT }] },
        { ...base, nodes: [{ node: A, qos: qos({ p50Micros: 1 }) }] },
        { ...base, nodes: [{ node: A, qos: qos({ p99Micros: 1 }) }] },
        { ...base, nodes: [{ node: A, qos: qos({ successBps: 1 }) }] },
        { ...base, nodes: [{ node: A, qos: qos({ availabilityBps: 1 }) }] },
        { ...base, apis: [{ apiId: 2n, qos: PERFECT }] },
        { ...base, apis: [] },
        { ...base, nodes: [], apis: [{ apiId: 1n, qos: PERFECT }] },
      ];
      for (const v of variants) expect(await rep.attestationDigest(v)).to.not.equal(digest);
    });
  });

  // -------------------------------------------------------------------- finalize

  describe("finalize", () => {
    it("scores a node from the stake-weighted medians of its reports (NodeScored, exact values)", async () => {
      await advanceToEpoch(fx, 1);
      await attestAnchor(0);
      await advanceToEpoch(fx, 2);
      // The reference implementation agrees with the hand computation.
      const reports = ANCHOR_QOS.map((q, i) => ({ qos: q, weight: E(10_000 * (i + 1)) }));
      expect(aggregateQos(reports)).to.deep.equal(ANCHOR_MEDIAN);
      expect(epochScore(ANCHOR_MEDIAN, DEFAULT_SCORING)).to.equal(ANCHOR_SCORE);

      await expect(rep.connect(fx.outsider).finalizeNode(A, 0))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 0, qosTuple(ANCHOR_MEDIAN), 0, ANCHOR_SCORE, ANCHOR_SCORE, 0, 3);
      expect(await scoreOf(SubjectKind.Node, nodeId(A))).to.deep.equal({
        epochScore: ANCHOR_SCORE,
        smoothed: ANCHOR_SCORE,
        epoch: 0n,
        lowStreak: 0n,
        finalized: true,
      });
      expect(await rep.nodeScoreAt(A, 0)).to.deep.equal([ANCHOR_SCORE, true]);
      expect(await rep.nodeScoreAt(A, 1)).to.deep.equal([0n, false]);
      expect(await rep.nodeScoreAt(fx.operator2.address, 0)).to.deep.equal([0n, false]);
    });

    it("scores an API the same way (ApiScored, exact values); APIs have no low streak", async () => {
      await advanceToEpoch(fx, 1);
      await attestAnchor(0);
      await advanceToEpoch(fx, 2);
      await expect(rep.finalizeApi(fx.apiToken, 0))
        .to.emit(rep, "ApiScored")
        .withArgs(fx.apiToken, 0, qosTuple(ANCHOR_MEDIAN), 0, ANCHOR_SCORE, ANCHOR_SCORE, 3);
      expect(await scoreOf(SubjectKind.Api, fx.apiToken)).to.deep.equal({
        epochScore: ANCHOR_SCORE,
        smoothed: ANCHOR_SCORE,
        epoch: 0n,
        lowStreak: 0n,
        finalized: true,
      });
      // A low API score does not start a streak.
      await advanceToEpoch(fx, 3);
      await attest(fx, v0, report(2, [], [{ apiId: fx.apiToken, qos: LOW }]));
      await advanceToEpoch(fx, 4);
      const smoothed = smooth(ANCHOR_SCORE, 1_600n, DEFAULT_SCORING.smoothingBps);
      await expect(rep.finalizeApi(fx.apiToken, 2))
        .to.emit(rep, "ApiScored")
        .withArgs(fx.apiToken, 2, qosTuple(LOW), 0, 1_600, smoothed, 1);
      expect((await scoreOf(SubjectKind.Api, fx.apiToken)).lowStreak).to.equal(0n);
      // The node with the same id (as an address) is untouched.
      expect((await scoreOf(SubjectKind.Node, fx.apiToken)).finalized).to.equal(false);
    });

    it("returns an empty score for a subject never finalized", async () => {
      expect(await scoreOf(SubjectKind.Node, nodeId(A))).to.deep.equal({
        epochScore: 0n,
        smoothed: 0n,
        epoch: 0n,
        lowStreak: 0n,
        finalized: false,
      });
      expect((await scoreOf(SubjectKind.Api, 1n)).finalized).to.equal(false);
    });

    it("prices latency: no cost up to the target, target / p99 above it", async () => {
      const target = DEFAULT_SCORING.latencyTargetMicros;
      const cases: [number, bigint][] = [
        [target, 10_000n],
        [target + 1, 9_999n], // 250,000 x 10,000 / 250,001 = 9,999.96 -> 9,999
        [target * 4, 2_500n],
        [4_294_967_295, 0n], // 2.5e9 / 4.29e9 -> 0 (rounded down)
      ];
      for (const [epoch, [p99, expected]] of cases.entries()) {
        const q = qos({ p50Micros: 0, p99Micros: p99 });
        expect(validatorScore(q, DEFAULT_SCORING)).to.equal(expected);
        await advanceToEpoch(fx, epoch + 1);
        await attest(fx, v0, report(epoch, [], [{ apiId: 9n, qos: q }]));
        await advanceToEpoch(fx, epoch + 2);
        await expect(rep.finalizeApi(9n, epoch))
          .to.emit(rep, "ApiScored")
          .withArgs(9n, epoch, qosTuple(q), 0, expected, anyUint, 1);
      }
    });

    it("lets the lower of two equal-weight values win (cumulative x 2 >= total)", async () => {
      // v0 topped up to 20,000 = v1: two equal halves.
      await topUp(fx, v0, E(10_000));
      await advanceToEpoch(fx, 1);
      await attest(fx, v0, report(0, [{ node: A, qos: qos({ successBps: 9_000, p50Micros: 50_000 }) }]));
      await attest(fx, v1, report(0, [{ node: A, qos: qos({ successBps: 7_000, p50Micros: 60_000 }) }]));
      await advanceToEpoch(fx, 2);
      const agg = qos({ successBps: 7_000, p50Micros: 50_000 });
      await expect(rep.finalizeNode(A, 0))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 0, qosTuple(agg), 0, 7_000, 7_000, 0, 2);
    });

    it("blends in the spend-weighted rating at finalization (ratingShareBps)", async () => {
      await spend(fx, fx.payer, USDC(100));
      await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 4, 2);
      await advanceToEpoch(fx, 1);
      await attestAnchor(0);
      await advanceToEpoch(fx, 2);
      // (4,900 x 8,000 + 7,500 x 2,000) / 10,000 = 5,420
      const nodeScore = epochScore(ANCHOR_MEDIAN, DEFAULT_SCORING, { ratingBps: 7_500n, weight: USD(100) });
      expect(nodeScore).to.equal(5_420n);
      await expect(rep.finalizeNode(A, 0))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 0, qosTuple(ANCHOR_MEDIAN), 7_500, 5_420, 5_420, 0, 3);
      // API: (4,900 x 8,000 + 2,500 x 2,000) / 10,000 = 4,420
      await expect(rep.finalizeApi(fx.apiToken, 0))
        .to.emit(rep, "ApiScored")
        .withArgs(fx.apiToken, 0, qosTuple(ANCHOR_MEDIAN), 2_500, 4_420, 4_420, 3);
    });

    it("applies scoring params changed before finalization (latency target, rating share)", async () => {
      await spend(fx, fx.payer, USDC(100));
      await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
      await advanceToEpoch(fx, 1);
      await attestAnchor(0);
      await advanceToEpoch(fx, 2);
      const p = { ...DEFAULT_SCORING, latencyTargetMicros: 400_000, ratingShareBps: 0 };
      await rep.connect(fx.deployer).setScoringParams(p);
      // success 8,000 x availability 9,800, no latency cost, rating ignored: 7,840.
      await expect(rep.finalizeNode(A, 0))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 0, qosTuple(ANCHOR_MEDIAN), 10_000, 7_840, 7_840, 0, 3);
    });

    describe("rating share (ratingFullSpend)", () => {
      /** A node failing every probe: validator score 0. */
      const FAILING = qos({ successBps: 0 });

      it("scales the rating's share with the spend behind it: none for dust, the full share from ratingFullSpend on", async () => {
        // LOW (validator score 1,600) with 5-star ratings (10,000) on node A and API apiToken,
        // behind a growing spend in USDC at $1; ratingFullSpend is $100, ratingShareBps 2,000.
        const cases: [bigint, bigint, bigint][] = [
          [1n, 0n, 1_600n], // $0.000001: 2,000 x 1e12 / 1e20 -> 0: the rating moves nothing
          [USDC(1), 20n, 1_616n], // (1,600 x 9,980 + 10,000 x 20) / 10,000 = 1,616.8
          [USDC(50), 1_000n, 2_440n],
          [USDC(100) - 1n, 1_999n, 3_279n], // (1,600 x 8,001 + 10,000 x 1,999) / 10,000 = 3,279.16
          [USDC(100), 2_000n, 3_280n],
          [USDC(1_000), 2_000n, 3_280n], // capped at ratingShareBps
        ];
        let smoothed: bigint | undefined;
        for (const [epoch, [spent, share, expected]] of cases.entries()) {
          await spend(fx, fx.payer, spent);
          await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
          const rating = { ratingBps: 10_000n, weight: usdWeight(spent) };
          expect(rating.weight).to.equal(spent * DUST_USD);
          expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([rating.ratingBps, rating.weight]);
          expect(ratingShare(DEFAULT_SCORING, rating.weight), `share at ${spent}`).to.equal(share);
          expect(epochScore(LOW, DEFAULT_SCORING, rating), `score at ${spent}`).to.equal(expected);
          smoothed = smooth(smoothed, expected, DEFAULT_SCORING.smoothingBps);

          await advanceToEpoch(fx, epoch + 1);
          await attest(fx, v0, report(epoch, [{ node: A, qos: LOW }], [{ apiId: fx.apiToken, qos: LOW }]));
          await advanceToEpoch(fx, epoch + 2);
          await expect(rep.finalizeNode(A, epoch), `node at ${spent}`)
            .to.emit(rep, "NodeScored")
            .withArgs(A, epoch, qosTuple(LOW), 10_000, expected, smoothed, anyUint, 1);
          await expect(rep.finalizeApi(fx.apiToken, epoch), `API at ${spent}`)
            .to.emit(rep, "ApiScored")
            .withArgs(fx.apiToken, epoch, qosTuple(LOW), 10_000, expected, smoothed, 1);
        }
      });

      it("a 1-base-unit rating changes a low validator score by at most rounding, whatever the stars", async () => {
        await spend(fx, fx.payer, 1n);
        await advanceToEpoch(fx, 1);
        await attest(fx, v0, report(0, [{ node: A, qos: LOW }], [{ apiId: fx.apiToken, qos: LOW }]));
        await advanceToEpoch(fx, 2);
        // 5 stars on the node, 1 star on the API, rated just before finalization (fresh feed).
        await refreshFeeds(fx);
        await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 1);
        await rep.finalizeNode(A, 0);
        await rep.finalizeApi(fx.apiToken, 0);
        for (const kind of [SubjectKind.Node, SubjectKind.Api]) {
          const subject = kind === SubjectKind.Node ? nodeId(A) : fx.apiToken;
          const { epochScore: score } = await scoreOf(kind, subject);
          const [ratingBps, weight] = await rep.ratingOf(kind, subject);
          expect(weight).to.equal(DUST_USD);
          expect(score >= 1_599n && score <= 1_601n, `kind ${kind}: ${score}`).to.equal(true);
          expect(score).to.equal(epochScore(LOW, DEFAULT_SCORING, { ratingBps, weight }));
        }
        // With the full share the node's 5 stars would have doubled it: (1,600 x 8,000 + 10,000 x 2,000) / 10,000.
        expect(
          epochScore(LOW, { ...DEFAULT_SCORING, ratingFullSpend: 1n }, { ratingBps: 10_000n, weight: 1n }),
        ).to.equal(3_280n);
      });

      it("a dust self-rating no longer keeps a failing node off the slashing report (exploit scenario)", async () => {
        // The operator pays 1 base unit through its own channel (fx.payer: an account of its own)
        // and rates itself 5 stars. With the full share for any spend, success 0 would still
        // score (0 x 8,000 + 10,000 x 2,000) / 10,000 = 2,000: not under the 2,000 threshold,
        // never low, never reportable.
        await spend(fx, fx.payer, 1n);
        await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
        const dust = { ratingBps: 10_000n, weight: DUST_USD };
        const threshold = BigInt(DEFAULT_SLASHING.thresholdBps);
        expect(epochScore(FAILING, { ...DEFAULT_SCORING, ratingFullSpend: 1n }, dust)).to.equal(threshold);
        expect(epochScore(FAILING, DEFAULT_SCORING, dust)).to.equal(0n);

        // Validators report success 0 for K epochs: each scores 0, the streak grows to K.
        const K = DEFAULT_SLASHING.epochs;
        for (let epoch = 0; epoch < K; epoch++) {
          await expect(rep.reportForSlashing(A))
            .to.be.revertedWithCustomError(rep, "NotReportable")
            .withArgs(A, epoch, K);
          await expect(await scoreEpoch(epoch, FAILING))
            .to.emit(rep, "NodeScored")
            .withArgs(A, epoch, qosTuple(FAILING), 10_000, 0, 0, epoch + 1, 1);
        }
        await expect(rep.connect(fx.outsider).reportForSlashing(A))
          .to.emit(rep, "NodeReportedForSlashing")
          .withArgs(A, K - 1, K, 0);
      });
    });

    describe("window and preconditions", () => {
      beforeEach(async () => {
        await advanceToEpoch(fx, 1);
        await attestAnchor(0);
      });

      it("reverts FinalizeWindowNotOpen before epoch + 2", async () => {
        await expect(rep.finalizeNode(A, 0)).to.be.revertedWithCustomError(rep, "FinalizeWindowNotOpen").withArgs(0, 1);
        await expect(rep.finalizeApi(fx.apiToken, 0))
          .to.be.revertedWithCustomError(rep, "FinalizeWindowNotOpen")
          .withArgs(0, 1);
        await expect(rep.finalizeNode(A, 1)).to.be.revertedWithCustomError(rep, "FinalizeWindowNotOpen").withArgs(1, 1);
        await expect(rep.finalizeNode(A, 4_294_967_295))
          .to.be.revertedWithCustomError(rep, "FinalizeWindowNotOpen")
          .withArgs(4_294_967_295, 1);
      });

      it("reverts FinalizeWindowClosed after epoch + 2", async () => {
        await advanceToEpoch(fx, 3);
        await expect(rep.finalizeNode(A, 0)).to.be.revertedWithCustomError(rep, "FinalizeWindowClosed").withArgs(0, 3);
        await expect(rep.finalizeApi(fx.apiToken, 0))
          .to.be.revertedWithCustomError(rep, "FinalizeWindowClosed")
          .withArgs(0, 3);
      });

      it("is open exactly from the first to the last second of epoch + 2", async () => {
        await nextBlockAtEpochEnd(fx, 1);
        await expect(rep.finalizeNode(A, 0, GAS))
          .to.be.revertedWithCustomError(rep, "FinalizeWindowNotOpen")
          .withArgs(0, 1);
        await nextBlockAtEpochStart(fx, 2);
        await expect(rep.finalizeNode(A, 0, GAS)).to.emit(rep, "NodeScored");
        await nextBlockAtEpochEnd(fx, 2);
        await expect(rep.finalizeApi(fx.apiToken, 0, GAS)).to.emit(rep, "ApiScored");
        // From the first second of epoch 3 the window is closed.
        await nextBlockAtEpochStart(fx, 3);
        await expect(rep.finalizeApi(fx.apiToken, 0, GAS))
          .to.be.revertedWithCustomError(rep, "FinalizeWindowClosed")
          .withArgs(0, 3);
      });

      it("reverts NotEnoughReports under minReports", async () => {
        await advanceToEpoch(fx, 2);
        await expect(rep.finalizeNode(fx.operator2.address, 0))
          .to.be.revertedWithCustomError(rep, "NotEnoughReports")
          .withArgs(0, 1);
        await expect(rep.finalizeApi(fx.apiUsd, 0))
          .to.be.revertedWithCustomError(rep, "NotEnoughReports")
          .withArgs(0, 1);
        await rep.connect(fx.deployer).setScoringParams({ ...DEFAULT_SCORING, minReports: 4 });
        await expect(rep.finalizeNode(A, 0)).to.be.revertedWithCustomError(rep, "NotEnoughReports").withArgs(3, 4);
        await rep.connect(fx.deployer).setScoringParams({ ...DEFAULT_SCORING, minReports: 3 });
        await expect(rep.finalizeNode(A, 0)).to.emit(rep, "NodeScored");
      });

      it("reverts EpochAlreadyFinalized for a second finalization", async () => {
        await advanceToEpoch(fx, 2);
        await rep.finalizeNode(A, 0);
        await expect(rep.finalizeNode(A, 0)).to.be.revertedWithCustomError(rep, "EpochAlreadyFinalized").withArgs(0, 0);
        await rep.finalizeApi(fx.apiToken, 0);
        await expect(rep.connect(fx.outsider).finalizeApi(fx.apiToken, 0))
          .to.be.revertedWithCustomError(rep, "EpochAlreadyFinalized")
          .withArgs(0, 0);
      });

      it("stays open while paused", async () => {
        await advanceToEpoch(fx, 2);
        await rep.connect(fx.deployer).emergencyPause();
        await expect(rep.finalizeNode(A, 0)).to.emit(rep, "NodeScored");
        await expect(rep.finalizeApi(fx.apiToken, 0)).to.emit(rep, "ApiScored");
      });
    });
  });

  describe("wasScorable", () => {
    it("tells whether a node got minReports reports for an epoch, finalized or not", async () => {
      expect(await rep.wasScorable(A, 0)).to.equal(false);
      await advanceToEpoch(fx, 1);
      await attest(fx, v0, report(0, [{ node: A, qos: LOW }], [{ apiId: BigInt(A), qos: LOW }]));
      expect(await rep.wasScorable(A, 0)).to.equal(true);
      expect(await rep.wasScorable(A, 1)).to.equal(false);
      expect(await rep.wasScorable(fx.operator2.address, 0)).to.equal(false);
      // Only node reports count (not an API whose id equals the address).
      await attest(fx, v1, report(0, [], [{ apiId: BigInt(fx.operator2.address), qos: LOW }]));
      expect(await rep.wasScorable(fx.operator2.address, 0)).to.equal(false);
      // It reads the current minReports.
      await rep.connect(fx.deployer).setScoringParams({ ...DEFAULT_SCORING, minReports: 2 });
      expect(await rep.wasScorable(A, 0)).to.equal(false);
      await attest(fx, v2, report(0, [{ node: A, qos: LOW }]));
      expect(await rep.wasScorable(A, 0)).to.equal(true);
      // Still true after finalization and once the window has closed unfinalized.
      await advanceToEpoch(fx, 2);
      await rep.finalizeNode(A, 0);
      expect(await rep.wasScorable(A, 0)).to.equal(true);
      await advanceToEpoch(fx, 3);
      expect(await rep.wasScorable(A, 0)).to.equal(true);
    });
  });

  // -------------------------------------------------------------------- smoothing and streaks

  describe("smoothing and low streaks", () => {
    it("smooths the score over finalized epochs (EWMA with smoothingBps)", async () => {
      // 10,000; then 1,600 x 3: (1,600 x 3,000 + 10,000 x 7,000) / 10,000 = 7,480 -> 5,716 -> 4,481
      const expected: [Qos, bigint, bigint][] = [
        [PERFECT, 10_000n, 10_000n],
        [LOW, 1_600n, 7_480n],
        [LOW, 1_600n, 5_716n],
        [LOW, 1_600n, 4_481n],
      ];
      let previous: bigint | undefined;
      for (const [epoch, [q, score, smoothed]] of expected.entries()) {
        expect(smooth(previous, score, DEFAULT_SCORING.smoothingBps)).to.equal(smoothed);
        const tx = await scoreEpoch(epoch, q);
        await expect(tx).to.emit(rep, "NodeScored").withArgs(A, epoch, qosTuple(q), 0, score, smoothed, epoch, 1);
        expect(await rep.nodeScoreAt(A, epoch)).to.deep.equal([smoothed, true]);
        previous = smoothed;
      }
      // The history keeps every epoch's smoothed score.
      expect(await rep.nodeScoreAt(A, 1)).to.deep.equal([7_480n, true]);
      expect(await scoreOf(SubjectKind.Node, nodeId(A))).to.deep.equal({
        epochScore: 1_600n,
        smoothed: 4_481n,
        epoch: 3n,
        lowStreak: 3n,
        finalized: true,
      });
    });

    it("keeps smoothing across a skipped epoch, with the smoothing weight current at finalization", async () => {
      await scoreEpoch(0, PERFECT);
      // Epoch 1: no reports. Epoch 2, finalized with smoothing 50%: (1,600 + 10,000) / 2 = 5,800, streak 1.
      await advanceToEpoch(fx, 3);
      await attest(fx, v0, report(2, [{ node: A, qos: LOW }]));
      await advanceToEpoch(fx, 4);
      await rep.connect(fx.deployer).setScoringParams({ ...DEFAULT_SCORING, smoothingBps: 5_000 });
      await expect(rep.finalizeNode(A, 2))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 2, qosTuple(LOW), 0, 1_600, 5_800, 1, 1);
      expect(await rep.nodeScoreAt(A, 1)).to.deep.equal([0n, false]);
    });

    it("counts consecutive low epochs; a high epoch resets the streak to 0 and a gap restarts it at 1", async () => {
      const streaks: [Qos | null, bigint][] = [
        [LOW, 1n],
        [LOW, 2n],
        [PERFECT, 0n],
        [LOW, 1n],
        [null, 1n], // epoch 4 not finalized
        [LOW, 1n], // not consecutive: restarts
        [LOW, 2n],
      ];
      for (const [epoch, [q, streak]] of streaks.entries()) {
        if (q !== null) {
          const tx = await scoreEpoch(epoch, q);
          await expect(tx).to.emit(rep, "NodeScored").withArgs(A, epoch, qosTuple(q), 0, anyUint, anyUint, streak, 1);
        }
        expect((await scoreOf(SubjectKind.Node, nodeId(A))).lowStreak, `epoch ${epoch}`).to.equal(streak);
      }
    });

    it("uses the threshold current at finalization; a score equal to the threshold is not low", async () => {
      await rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 1_600, epochs: 3 });
      await expect(await scoreEpoch(0, LOW))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 0, qosTuple(LOW), 0, 1_600, 1_600, 0, 1);
      await rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 1_601, epochs: 3 });
      await expect(await scoreEpoch(1, LOW))
        .to.emit(rep, "NodeScored")
        .withArgs(A, 1, qosTuple(LOW), 0, 1_600, 1_600, 1, 1);
    });

    describe("reportForSlashing", () => {
      it("reverts NotReportable before the policy's number of low epochs", async () => {
        await expect(rep.reportForSlashing(A)).to.be.revertedWithCustomError(rep, "NotReportable").withArgs(A, 0, 3);
        await scoreEpoch(0, LOW);
        await scoreEpoch(1, LOW);
        await expect(rep.reportForSlashing(A)).to.be.revertedWithCustomError(rep, "NotReportable").withArgs(A, 2, 3);
      });

      it("reports a node after K consecutive low epochs (NodeReportedForSlashing) and restarts the streak", async () => {
        for (const e of [0, 1, 2]) await scoreEpoch(e, e === 0 ? PERFECT : LOW);
        await expect(rep.reportForSlashing(A)).to.be.revertedWithCustomError(rep, "NotReportable").withArgs(A, 2, 3);
        await scoreEpoch(3, LOW);
        // 10,000 -> 7,480 -> 5,716 -> 4,481
        await expect(rep.connect(fx.outsider).reportForSlashing(A))
          .to.emit(rep, "NodeReportedForSlashing")
          .withArgs(A, 3, 3, 4_481);
        expect(await scoreOf(SubjectKind.Node, nodeId(A))).to.deep.equal({
          epochScore: 1_600n,
          smoothed: 4_481n,
          epoch: 3n,
          lowStreak: 0n,
          finalized: true,
        });
        await expect(rep.reportForSlashing(A)).to.be.revertedWithCustomError(rep, "NotReportable").withArgs(A, 0, 3);
        // The next low epoch counts from zero.
        await expect(await scoreEpoch(4, LOW))
          .to.emit(rep, "NodeScored")
          .withArgs(A, 4, qosTuple(LOW), 0, 1_600, anyUint, 1, 1);
      });

      it("follows the Security DAO's policy (epochs)", async () => {
        await scoreEpoch(0, LOW);
        await rep.connect(fx.deployer).setSlashingPolicy({ thresholdBps: 2_000, epochs: 1 });
        await expect(rep.reportForSlashing(A)).to.emit(rep, "NodeReportedForSlashing").withArgs(A, 0, 1, 1_600);
        await scoreEpoch(1, LOW);
        await scoreEpoch(2, LOW);
        // A longer streak than required is reportable too.
        await expect(rep.reportForSlashing(A)).to.emit(rep, "NodeReportedForSlashing").withArgs(A, 2, 2, 1_600);
      });
    });
  });

  // -------------------------------------------------------------------- ratings

  describe("rate", () => {
    it("records the rating weighted by the channel's redeemed total in USD (Rated, ratingOf, channelRatings)", async () => {
      const cid = await spend(fx, fx.payer, USDC(100));
      expect(cid).to.equal(channelId(fx.payer.address, A, fx.apiToken, fx.usdcAddress));
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([0n, 0n]);
      await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 2))
        .to.emit(rep, "Rated")
        .withArgs(fx.payer.address, A, fx.apiToken, fx.usdcAddress, 5, 2, USD(100));
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([10_000n, USD(100)]);
      expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken)).to.deep.equal([2_500n, USD(100)]);
      expect(await rep.channelRatings(cid)).to.deep.equal([5n, 2n, USD(100)]);
      // Other subjects are unrated.
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(fx.operator2.address))).to.deep.equal([0n, 0n]);
      expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken2)).to.deep.equal([0n, 0n]);
    });

    it("weighs each channel by what its payer paid: the spend-weighted mean", async () => {
      await spend(fx, fx.payer, USDC(100));
      await spend(fx, fx.payer2, USDC(300));
      await spend(fx, fx.payer3, 1n);
      await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 1);
      await expect(rep.connect(fx.payer2).rate(A, fx.apiToken, fx.usdcAddress, 2, 4))
        .to.emit(rep, "Rated")
        .withArgs(fx.payer2.address, A, fx.apiToken, fx.usdcAddress, 2, 4, USD(300));
      await rep.connect(fx.payer3).rate(A, fx.apiToken, fx.usdcAddress, 1, 5);
      // USDC at $1: 1 base unit weighs $0.000001.
      const weight = USD(400) + DUST_USD;
      // (100e18 x 10,000 + 300e18 x 2,500 + 1e12 x 0) / (400e18 + 1e12), rounded down
      const node = spendWeightedRating([
        { stars: 5, weight: USD(100) },
        { stars: 2, weight: USD(300) },
        { stars: 1, weight: DUST_USD },
      ]);
      expect(node).to.deep.equal({ ratingBps: 4_374n, weight });
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([4_374n, weight]);
      // (100e18 x 0 + 300e18 x 7,500 + 1e12 x 10,000) / (400e18 + 1e12) = 5,625
      expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken)).to.deep.equal([5_625n, weight]);
    });

    it("sums a node's ratings over its channels for different APIs; each API keeps its own", async () => {
      await spend(fx, fx.payer, USDC(10));
      await spend(fx, fx.payer, USDC(30), { apiId: fx.apiToken2 });
      await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
      await rep.connect(fx.payer).rate(A, fx.apiToken2, fx.usdcAddress, 1, 3);
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([2_500n, USD(40)]);
      expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken)).to.deep.equal([10_000n, USD(10)]);
      expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken2)).to.deep.equal([5_000n, USD(30)]);
    });

    it("replaces the channel's previous rating, with the redeemed total at the time of rating", async () => {
      const cid = await spend(fx, fx.payer, USDC(100));
      await spend(fx, fx.payer2, USDC(100));
      await rep.connect(fx.payer2).rate(A, fx.apiToken, fx.usdcAddress, 3, 3);
      await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([7_500n, USD(200)]);
      // Rating again replaces: no double counting.
      await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 1, 2);
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([2_500n, USD(200)]);
      expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken)).to.deep.equal([3_750n, USD(200)]);
      // Spending more does not change the weight until the payer rates again ...
      await spend(fx, fx.payer, USDC(400));
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([2_500n, USD(200)]);
      expect((await rep.channelRatings(cid)).weight).to.equal(USD(100));
      // ... then it counts the new redeemed total (400 + 100).
      await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 1, 2))
        .to.emit(rep, "Rated")
        .withArgs(fx.payer.address, A, fx.apiToken, fx.usdcAddress, 1, 2, USD(400));
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([1_000n, USD(500)]);
      expect(await rep.channelRatings(cid)).to.deep.equal([1n, 2n, USD(400)]);
    });

    it("maps stars linearly: 1 star = 0, 5 stars = 10,000", async () => {
      await spend(fx, fx.payer, USDC(1));
      for (const stars of [1, 2, 3, 4, 5]) {
        await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, stars, 6 - stars);
        expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([starsBps(stars), USD(1)]);
        expect(await rep.ratingOf(SubjectKind.Api, fx.apiToken)).to.deep.equal([starsBps(6 - stars), USD(1)]);
      }
    });

    it("reverts InvalidRating for 0 or more than 5 stars, node or API", async () => {
      await spend(fx, fx.payer, USDC(1));
      const r = (n: number, a: number) => rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, n, a);
      await expect(r(0, 3)).to.be.revertedWithCustomError(rep, "InvalidRating").withArgs(0);
      await expect(r(6, 3)).to.be.revertedWithCustomError(rep, "InvalidRating").withArgs(6);
      await expect(r(255, 3)).to.be.revertedWithCustomError(rep, "InvalidRating").withArgs(255);
      await expect(r(3, 0)).to.be.revertedWithCustomError(rep, "InvalidRating").withArgs(0);
      await expect(r(3, 6)).to.be.revertedWithCustomError(rep, "InvalidRating").withArgs(6);
      await expect(r(1, 5)).to.emit(rep, "Rated");
    });

    it("reverts NoSpend for a channel that never redeemed, and for an account without a channel", async () => {
      await fx.escrow.connect(fx.payer).deposit(A, fx.apiToken, fx.usdcAddress, USDC(50));
      const cid = channelId(fx.payer.address, A, fx.apiToken, fx.usdcAddress);
      await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5))
        .to.be.revertedWithCustomError(rep, "NoSpend")
        .withArgs(cid);
      // A sybil: no channel at all.
      const sybil = fx.outsider;
      await expect(rep.connect(sybil).rate(A, fx.apiToken, fx.usdcAddress, 1, 1))
        .to.be.revertedWithCustomError(rep, "NoSpend")
        .withArgs(channelId(sybil.address, A, fx.apiToken, fx.usdcAddress));
      // Another payer's spend does not count for it, nor spend on another channel of the same payer.
      await spend(fx, fx.payer2, USDC(10));
      await expect(rep.connect(sybil).rate(A, fx.apiToken, fx.usdcAddress, 1, 1)).to.be.revertedWithCustomError(
        rep,
        "NoSpend",
      );
      await expect(rep.connect(fx.payer2).rate(A, fx.apiToken2, fx.usdcAddress, 1, 1))
        .to.be.revertedWithCustomError(rep, "NoSpend")
        .withArgs(channelId(fx.payer2.address, A, fx.apiToken2, fx.usdcAddress));
      expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([0n, 0n]);
    });

    it("reverts EnforcedPause while paused", async () => {
      await spend(fx, fx.payer, USDC(1));
      await rep.connect(fx.deployer).emergencyPause();
      await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5)).to.be.revertedWithCustomError(
        rep,
        "EnforcedPause",
      );
      await rep.connect(fx.deployer).emergencyUnpause();
      await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5)).to.emit(rep, "Rated");
    });

    describe("USD valuation (the escrow's oracle)", () => {
      /** The node and API ratings and the channel's stored rating, to check that a revert changed nothing. */
      async function ratingState(cid: string) {
        return {
          node: await rep.ratingOf(SubjectKind.Node, nodeId(A)),
          api: await rep.ratingOf(SubjectKind.Api, fx.apiToken),
          apiUsd: await rep.ratingOf(SubjectKind.Api, fx.apiUsd),
          channel: await rep.channelRatings(cid),
        };
      }

      it("reads the escrow's oracle", async () => {
        expect(await rep.oracle()).to.equal(await fx.escrow.oracle());
        expect(await rep.oracle()).to.equal(await fx.oracle.getAddress());
      });

      it("reverts TokenNotRated for a channel in a token without a USD feed, whatever it paid; nothing changes", async () => {
        // A token anyone can mint, without a feed, and an API priced in it (pay per call).
        const free = await new MockERC20__factory(fx.deployer).deploy("Free", "FREE", 18);
        const token = await free.getAddress();
        expect(await fx.oracle.hasFeed(token)).to.equal(false);
        const input = apiInput(token);
        await fx.registry.connect(fx.provider).register({
          ...input,
          pricing: {
            ...input.pricing,
            models: MODEL_PAY_PER_CALL,
            period: 0,
            pricePerPeriod: 0n,
            stakerDiscount: false,
          },
        });
        const apiId = await fx.registry.apiCount();
        await free.mint(fx.payer.address, parseEther("1000000"));
        await free.connect(fx.payer).approve(fx.escrowAddress, MaxUint256);
        const cid = await spend(fx, fx.payer, parseEther("1000000"), { apiId, token });
        expect((await fx.escrow.channels(cid)).redeemed).to.equal(parseEther("1000000"));
        // A rated USDC channel, whose totals must stay as they are.
        const usdcCid = await spend(fx, fx.payer2, USDC(10));
        await rep.connect(fx.payer2).rate(A, fx.apiToken, fx.usdcAddress, 4, 4);
        const before = await ratingState(usdcCid);
        await expect(rep.connect(fx.payer).rate(A, apiId, token, 1, 1))
          .to.be.revertedWithCustomError(rep, "TokenNotRated")
          .withArgs(token);
        expect(await ratingState(usdcCid)).to.deep.equal(before);
        expect(await rep.channelRatings(cid)).to.deep.equal([0n, 0n, 0n]);
        expect(await rep.ratingOf(SubjectKind.Api, apiId)).to.deep.equal([0n, 0n]);
      });

      it("reverts TokenNotRated once governance removes the token's feed, even for an already rated channel", async () => {
        const cid = await spend(fx, fx.payer, USDC(100));
        await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
        const before = await ratingState(cid);
        await fx.oracle.connect(fx.deployer).removeFeed(fx.usdcAddress);
        await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 1, 1))
          .to.be.revertedWithCustomError(rep, "TokenNotRated")
          .withArgs(fx.usdcAddress);
        // The rating made while the feed was set keeps counting.
        expect(await ratingState(cid)).to.deep.equal(before);
        expect(before.node).to.deep.equal([10_000n, USD(100)]);
      });

      it("weighs the same dollar spend equally in a $1 6-decimal token and a $1 18-decimal token", async () => {
        // apiUsd is priced in USD: it accepts every token with a feed (USDC and DAI here).
        const usdc = await spend(fx, fx.payer, USDC(100), { apiId: fx.apiUsd });
        const dai = await spend(fx, fx.payer2, parseEther("100"), { apiId: fx.apiUsd, token: fx.daiAddress });
        await expect(rep.connect(fx.payer).rate(A, fx.apiUsd, fx.usdcAddress, 5, 5))
          .to.emit(rep, "Rated")
          .withArgs(fx.payer.address, A, fx.apiUsd, fx.usdcAddress, 5, 5, USD(100));
        await expect(rep.connect(fx.payer2).rate(A, fx.apiUsd, fx.daiAddress, 1, 1))
          .to.emit(rep, "Rated")
          .withArgs(fx.payer2.address, A, fx.apiUsd, fx.daiAddress, 1, 1, USD(100));
        expect((await rep.channelRatings(usdc)).weight).to.equal((await rep.channelRatings(dai)).weight);
        // Equal weights: the plain mean of 5 and 1 stars.
        expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([5_000n, USD(200)]);
        expect(await rep.ratingOf(SubjectKind.Api, fx.apiUsd)).to.deep.equal([5_000n, USD(200)]);
        const daiPrice = { answer: 100_000_000n, feedDecimals: 8, tokenDecimals: 18 };
        expect(usdWeight(parseEther("100"), daiPrice)).to.equal(usdWeight(USDC(100)));
      });

      it("values the spend at the feed's price when rating: a token at $0.50 weighs half", async () => {
        const usdc = await spend(fx, fx.payer, USDC(100), { apiId: fx.apiUsd });
        const dai = await spend(fx, fx.payer2, parseEther("100"), { apiId: fx.apiUsd, token: fx.daiAddress });
        await fx.daiFeed.setAnswer(50_000_000n); // $0.50
        await expect(rep.connect(fx.payer2).rate(A, fx.apiUsd, fx.daiAddress, 5, 5))
          .to.emit(rep, "Rated")
          .withArgs(fx.payer2.address, A, fx.apiUsd, fx.daiAddress, 5, 5, USD(50));
        await rep.connect(fx.payer).rate(A, fx.apiUsd, fx.usdcAddress, 1, 1);
        expect((await rep.channelRatings(dai)).weight * 2n).to.equal((await rep.channelRatings(usdc)).weight);
        // (50 x 10,000 + 100 x 0) / 150 = 3,333
        expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([3_333n, USD(150)]);
        // The price moves later: the stored weight does not, until the payer rates again.
        await fx.daiFeed.setAnswer(30_000_000n); // $0.30
        expect((await rep.channelRatings(dai)).weight).to.equal(USD(50));
        const at30 = usdWeight(parseEther("100"), { answer: 30_000_000n, feedDecimals: 8, tokenDecimals: 18 });
        expect(at30).to.equal(USD(30));
        expect(await fx.oracle.tokenToUsd(fx.daiAddress, parseEther("100"))).to.equal(at30);
        await expect(rep.connect(fx.payer2).rate(A, fx.apiUsd, fx.daiAddress, 5, 5))
          .to.emit(rep, "Rated")
          .withArgs(fx.payer2.address, A, fx.apiUsd, fx.daiAddress, 5, 5, at30);
        expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([
          spendWeightedRating([
            { stars: 5, weight: at30 },
            { stars: 1, weight: USD(100) },
          ]).ratingBps,
          USD(100) + at30,
        ]);
      });

      it("reverts with the oracle's StalePrice when the feed is older than its heartbeat; nothing changes", async () => {
        const cid = await spend(fx, fx.payer, USDC(100));
        await rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5);
        const before = await ratingState(cid);
        const [, , , updatedAt] = await fx.usdcFeed.latestRoundData();
        await networkHelpers.time.increaseTo(updatedAt + BigInt(USDC_FEED_HEARTBEAT) + 1n);
        await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 1, 1))
          .to.be.revertedWithCustomError(fx.oracle, "StalePrice")
          .withArgs(fx.usdcAddress, updatedAt, USDC_FEED_HEARTBEAT);
        expect(await ratingState(cid)).to.deep.equal(before);
        // A fresh round lets it rate again.
        await refreshFeeds(fx);
        await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 1, 1)).to.emit(rep, "Rated");
        expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([0n, USD(100)]);
      });

      it("reverts with the oracle's error for a broken feed answer (InvalidPrice)", async () => {
        const cid = await spend(fx, fx.payer, USDC(100));
        await fx.usdcFeed.setAnswer(0n);
        await expect(rep.connect(fx.payer).rate(A, fx.apiToken, fx.usdcAddress, 5, 5))
          .to.be.revertedWithCustomError(fx.oracle, "InvalidPrice")
          .withArgs(fx.usdcAddress, 0n);
        expect(await rep.channelRatings(cid)).to.deep.equal([0n, 0n, 0n]);
      });

      it("reverts NoSpend for dust worth 0 USD after the division (1 wei of a $0.50 18-decimal token)", async () => {
        await fx.daiFeed.setAnswer(50_000_000n); // $0.50: 1 wei is worth half an 18-decimal unit of USD
        const cid = await spend(fx, fx.payer, 1n, { apiId: fx.apiUsd, token: fx.daiAddress });
        expect((await fx.escrow.channels(cid)).redeemed).to.equal(1n);
        expect(usdWeight(1n, { answer: 50_000_000n, feedDecimals: 8, tokenDecimals: 18 })).to.equal(0n);
        await expect(rep.connect(fx.payer).rate(A, fx.apiUsd, fx.daiAddress, 5, 5))
          .to.be.revertedWithCustomError(rep, "NoSpend")
          .withArgs(cid);
        expect(await rep.ratingOf(SubjectKind.Node, nodeId(A))).to.deep.equal([0n, 0n]);
        // Two wei are worth $0.000000000000000001: the smallest weight there is.
        await spend(fx, fx.payer, 2n, { apiId: fx.apiUsd, token: fx.daiAddress });
        await expect(rep.connect(fx.payer).rate(A, fx.apiUsd, fx.daiAddress, 5, 5))
          .to.emit(rep, "Rated")
          .withArgs(fx.payer.address, A, fx.apiUsd, fx.daiAddress, 5, 5, 1n);
      });
    });
  });

  // -------------------------------------------------------------------- reference implementation

  describe("reference implementation (helpers/reputation-reference.ts)", () => {
    it("weightedLowerMedian: smallest value reaching half the weight; weights are stakes (positive)", () => {
      expect(weightedLowerMedian([5n], [1n])).to.equal(5n);
      expect(weightedLowerMedian([3n, 1n, 2n], [1n, 1n, 1n])).to.equal(2n);
      expect(weightedLowerMedian([1n, 2n], [1n, 1n])).to.equal(1n);
      expect(weightedLowerMedian([1n, 2n], [1n, 2n])).to.equal(2n);
      expect(weightedLowerMedian([9n, 1n, 5n, 7n], [1n, 1n, 1n, 1n])).to.equal(5n);
      expect(weightedLowerMedian([100n, 1n, 50n], [49n, 1n, 50n])).to.equal(50n);
      expect(weightedLowerMedian([100n, 1n, 50n], [51n, 1n, 48n])).to.equal(100n);
      expect(() => weightedLowerMedian([1n, 2n], [0n, 1n])).to.throw(/positive/);
    });

    it("ratingShare: proportional to the spend (rounded down) up to ratingFullSpend, then ratingShareBps", () => {
      const p = { ...DEFAULT_SCORING, ratingShareBps: 5_000, ratingFullSpend: 3n };
      expect([0n, 1n, 2n, 3n, 4n, UINT128_MAX].map((w) => ratingShare(p, w))).to.deep.equal([
        0n,
        1_666n,
        3_333n,
        5_000n,
        5_000n,
        5_000n,
      ]);
      // No rating spend: the validator score alone, whatever ratingBps says.
      expect(epochScore(LOW, DEFAULT_SCORING, { ratingBps: 10_000n, weight: 0n })).to.equal(1_600n);
    });
  });
});

describe("Reputation: a full validator set (32 members)", () => {
  /**
   * 32 members: the fixture's three (v0 topped up to 35,000), then 29 more at
   * 40,000 + i x 1,000 MESH except index 13 (12,000 MESH: the smallest), plus a
   * non-member Validator node `newcomer` (12,000 MESH).
   */
  async function fullSetFixture() {
    const f = await reputationFixture();
    await topUp(f, f.validators[0], E(25_000));
    const stakes = Array.from({ length: 29 }, (_, i) => (i + 3 === 13 ? E(12_000) : E(40_000 + i * 1000)));
    const more = await addValidators(f, stakes, { label: "member" });
    const [newcomer] = await addValidators(f, [E(12_000)], { label: "newcomer", join: false });
    return { ...f, members: [...f.validators, ...more], newcomer: newcomer! };
  }

  let full: Awaited<ReturnType<typeof fullSetFixture>>;
  let rep: Reputation;
  beforeEach(async function () {
    this.timeout(120_000);
    full = await networkHelpers.loadFixture(fullSetFixture);
    rep = full.reputation;
  });

  it("holds exactly MAX_VALIDATORS members", async () => {
    const set = await rep.validators();
    expect(set).to.have.length(MAX_VALIDATORS);
    expect(set).to.deep.equal(full.members.map((m) => m.address));
  });

  it("rejects a 33rd validator whose stake does not exceed the smallest member's (ValidatorSetFull)", async () => {
    await expect(rep.connect(full.newcomer).joinValidators())
      .to.be.revertedWithCustomError(rep, "ValidatorSetFull")
      .withArgs(E(12_000), E(12_000));
    await expect(rep.connect(full.candidate).joinValidators())
      .to.be.revertedWithCustomError(rep, "ValidatorSetFull")
      .withArgs(E(10_000), E(12_000));
  });

  it("lets a 33rd validator with more stake replace the smallest member in its slot", async () => {
    const smallest = full.members[13]!;
    await full.token.connect(full.deployer).transfer(full.newcomer.address, 1n);
    await full.staking.connect(full.newcomer).topUp(1n);
    await expect(rep.connect(full.newcomer).joinValidators())
      .to.emit(rep, "ValidatorLeft")
      .withArgs(smallest.address, REPLACED)
      .and.to.emit(rep, "ValidatorJoined")
      .withArgs(full.newcomer.address, E(12_000) + 1n);
    const set = await rep.validators();
    expect(set).to.have.length(MAX_VALIDATORS);
    expect(set[13]).to.equal(full.newcomer.address);
    expect(await rep.isValidator(smallest.address)).to.equal(false);
    expect(await rep.isValidator(full.newcomer.address)).to.equal(true);
    // The newcomer's slot is right: leaving moves the last member into index 13.
    await rep.connect(full.newcomer).leaveValidators();
    const after = await rep.validators();
    expect(after).to.have.length(MAX_VALIDATORS - 1);
    expect(after[13]).to.equal(full.members[31]!.address);
    // The replaced member may come back into the free place.
    await expect(rep.connect(smallest).joinValidators()).to.emit(rep, "ValidatorJoined");
    expect(await rep.validators()).to.have.length(MAX_VALIDATORS);
  });

  it("bounds a subject's reports for an epoch at MAX_VALIDATORS: a replacement joining in the window cannot report", async function () {
    this.timeout(120_000);
    const A = full.operator.address;
    await advanceToEpoch(full, 1);
    for (const m of full.members) await attest(full, m, report(0, [{ node: A, qos: PERFECT }]));
    expect(await rep.reportCount(SubjectKind.Node, BigInt(A), 0)).to.equal(BigInt(MAX_VALIDATORS));
    // The newcomer (now with more stake) replaces the smallest member, which already reported.
    const smallest = full.members[13]!;
    await topUp(full, full.newcomer, 1n);
    await expect(rep.connect(full.newcomer).joinValidators())
      .to.emit(rep, "ValidatorLeft")
      .withArgs(smallest.address, REPLACED);
    expect(await rep.joinedEpoch(full.newcomer.address)).to.equal(1n);
    await expect(attest(full, full.newcomer, report(0, [{ node: A, qos: LOW }])))
      .to.be.revertedWithCustomError(rep, "JoinedAfterEpoch")
      .withArgs(full.newcomer.address, 1, 0);
    await expect(attest(full, smallest, report(0, [{ node: A, qos: LOW }])))
      .to.be.revertedWithCustomError(rep, "NotInValidatorSet")
      .withArgs(smallest.address);
    expect(await rep.reportCount(SubjectKind.Node, BigInt(A), 0)).to.equal(BigInt(MAX_VALIDATORS));
    await advanceToEpoch(full, 2);
    await expect(rep.finalizeNode(A, 0))
      .to.emit(rep, "NodeScored")
      .withArgs(A, 0, qosTuple(PERFECT), 0, 10_000, 10_000, 0, MAX_VALIDATORS);
  });

  it("counts an ineligible member as zero stake: even the minimum stake replaces it", async () => {
    const exiting = full.members[20]!;
    await full.staking.connect(exiting).unstake(await full.staking.stakeOf(exiting.address));
    await expect(rep.connect(full.candidate).joinValidators())
      .to.emit(rep, "ValidatorLeft")
      .withArgs(exiting.address, REPLACED)
      .and.to.emit(rep, "ValidatorJoined")
      .withArgs(full.candidate.address, E(10_000));
    expect((await rep.validators())[20]).to.equal(full.candidate.address);
    // The candidate (10,000 MESH) is now the smallest member: the newcomer (12,000) replaces it.
    await expect(rep.connect(full.newcomer).joinValidators())
      .to.emit(rep, "ValidatorLeft")
      .withArgs(full.candidate.address, REPLACED);
    expect((await rep.validators())[20]).to.equal(full.newcomer.address);
  });
});
