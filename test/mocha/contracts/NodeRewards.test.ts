import { expect } from "chai";
import { MaxUint256, parseEther, ZeroAddress, type Signer } from "ethers";
import {
  canonicalAttestation,
  reputationDomain,
  signAttestation,
  type Qos,
} from "../../../relayer/validator/attestation.js";
import type { Voucher } from "../../../sdk/vouchers.js";
import { NodeRewards__factory } from "../../../types/ethers-contracts/index.js";
import { DAY, ethers, networkHelpers, NodeType } from "../helpers/fixture.js";
import { USDC, escrowFixture, idOf, sign, voucherFor } from "../helpers/escrow.js";
import { E, register } from "../helpers/staking.js";

/** Deploy defaults (deploy/params.ts). */
const EPOCH = BigInt(DAY);
const EMISSION = parseEther("100000");
const UNSCORED = 5000n;
const LATENCY_TARGET = 250_000n;
const BPS = 10_000n;
/** Points per USDC base unit: a dollar of USDC (1e6 units) is 1e18 points, like a dollar of DAI. */
const USDC_POINTS = 10n ** 12n;
/** An explicit gas limit skips estimation, so a failing call is really mined at the set timestamp. */
const GAS = { gasLimit: 1_000_000 };

/** A good measurement: p99 under the latency target, 90% success, always up (score 9,000). */
const GOOD: Qos = { p50Micros: 50_000, p99Micros: 200_000, successBps: 9000, availabilityBps: 10_000 };
/** A slow, flaky one: p99 above the target (score 7,777 x 9,999 x 8,333 / 1e8 = 6,479). */
const SLOW: Qos = { p50Micros: 100_000, p99Micros: 300_000, successBps: 7777, availabilityBps: 9999 };
/** Never answers: score 0. */
const DEAD: Qos = { p50Micros: 0, p99Micros: 0, successBps: 0, availabilityBps: 0 };

/** Reputation's validator score of a single report (no ratings): the node's first smoothed score. */
function scoreOf(q: Qos): bigint {
  const p99 = BigInt(q.p99Micros);
  const latency = p99 <= LATENCY_TARGET ? BPS : (LATENCY_TARGET * BPS) / p99;
  return (BigInt(q.successBps) * BigInt(q.availabilityBps) * latency) / (BPS * BPS);
}

/**
 * The escrow fixture (operator, operator2: Edge nodes; APIs priced in USDC and in USD; payers
 * with USDC and DAI) plus a third Edge node (operator3) and a Validator node in Reputation's
 * validator set. USDC counts for rewards at USDC_POINTS; the treasury (deployer) approved
 * NodeRewards for its MESH but funded nothing yet.
 */
async function rewardsFixture() {
  const fx = await escrowFixture();
  const [validator, operator3] = [fx.rest[5]!, fx.rest[6]!];
  const stakingAddress = await fx.staking.getAddress();
  for (const op of [validator, operator3]) {
    await fx.token.connect(fx.deployer).transfer(op.address, E(100_000));
    await fx.token.connect(op).approve(stakingAddress, E(100_000));
  }
  await register(fx, validator, { nodeType: NodeType.Validator });
  await register(fx, operator3);
  await fx.reputation.connect(validator).joinValidators();
  const rewardsAddress = await fx.rewards.getAddress();
  await fx.token.connect(fx.deployer).approve(rewardsAddress, MaxUint256);
  await fx.rewards.connect(fx.deployer).setRewardToken(fx.usdcAddress, USDC_POINTS);
  return {
    ...fx,
    validator,
    operator3,
    rewardsAddress,
    genesis: await fx.escrow.epochGenesis(),
    repDomain: reputationDomain(fx.chainId, await fx.reputation.getAddress()),
  };
}

type RewardsFixture = Awaited<ReturnType<typeof rewardsFixture>>;

describe("NodeRewards", () => {
  let fx: RewardsFixture;
  let rewards: RewardsFixture["rewards"];
  let op1: string;
  let op2: string;
  let op3: string;

  beforeEach(async () => {
    fx = await networkHelpers.loadFixture(rewardsFixture);
    rewards = fx.rewards;
    [op1, op2, op3] = [fx.operator.address, fx.operator2.address, fx.operator3.address];
  });

  // Whatever a scenario did, the contract holds at least what it set aside.
  afterEach(async () => {
    const held = await fx.token.balanceOf(fx.rewardsAddress);
    const reserved = await rewards.reserved();
    expect(held >= reserved, "balance >= reserved").to.equal(true);
    expect(await rewards.unallocated()).to.equal(held - reserved);
  });

  /** Moves time to `offset` seconds into epoch `e`, unless the chain is already in `e` past it. */
  async function toEpoch(e: number, offset = 0n) {
    const target = fx.genesis + BigInt(e) * EPOCH + offset;
    const now = BigInt(await networkHelpers.time.latest());
    if (now >= fx.genesis + BigInt(e + 1) * EPOCH) throw new Error(`already past epoch ${e}`);
    if (now < target) await networkHelpers.time.increaseTo(target);
  }

  /** Deposits `amount` for `node` and redeems it now: `amount` of served value this epoch. */
  async function serve(node: string, amount: bigint, o: { payer?: Signer; apiId?: bigint; token?: string } = {}) {
    const payer = o.payer ?? fx.payer;
    const over: Partial<Voucher> = { payer: await payer.getAddress(), node };
    if (o.apiId !== undefined) over.apiId = o.apiId;
    if (o.token !== undefined) over.token = o.token;
    const v0 = voucherFor(fx, 0n, over);
    await fx.escrow.connect(payer).deposit(node, v0.apiId, v0.token, amount);
    const { redeemed } = await fx.escrow.channels(idOf(v0));
    const v = { ...v0, cumulativeAmount: redeemed + amount };
    await fx.escrow.redeem(v, await sign(fx, payer, v));
  }

  /** The validator reports on `nodes` for `epoch` during epoch + 1; anyone finalizes during epoch + 2. */
  async function score(epoch: number, nodes: [string, Qos][]) {
    await toEpoch(epoch + 1);
    const a = canonicalAttestation({ epoch, nodes: nodes.map(([node, qos]) => ({ node, qos })), apis: [] });
    await fx.reputation.connect(fx.outsider).attest(a, await signAttestation(fx.validator, fx.repDomain, a));
    await toEpoch(epoch + 2);
    for (const [node] of nodes) await fx.reputation.connect(fx.outsider).finalizeNode(node, epoch);
  }

  const commit = (node: string, epoch: number, tokens = [fx.usdcAddress]) =>
    rewards.connect(fx.outsider).commit(node, epoch, tokens);
  const claim = (node: string, epoch: number) => rewards.connect(fx.outsider).claim(node, epoch);
  const points = (usdc: bigint) => usdc * USDC_POINTS;

  async function pool(epoch: number) {
    const p = await rewards.poolOf(epoch);
    return {
      pool: p.pool,
      paid: p.paid,
      totalWeight: p.totalWeight,
      claimedWeight: p.claimedWeight,
      allocated: p.allocated,
    };
  }

  // -------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired as the deploy params say, on the escrow's epoch clock", async () => {
      expect(await rewards.rewardToken()).to.equal(await fx.token.getAddress());
      expect(await rewards.escrow()).to.equal(fx.escrowAddress);
      expect(await rewards.reputation()).to.equal(await fx.reputation.getAddress());
      expect(await rewards.staking()).to.equal(await fx.staking.getAddress());
      expect(await rewards.authority()).to.equal(await fx.accessManager.getAddress());
      expect(await rewards.emissionPerEpoch()).to.equal(EMISSION);
      expect(await rewards.unscoredFactorBps()).to.equal(UNSCORED);
      expect(await rewards.reserved()).to.equal(0n);
      expect(await rewards.unallocated()).to.equal(0n);
      expect(await rewards.pointsPerUnit(fx.usdcAddress)).to.equal(USDC_POINTS);
      expect(await rewards.pointsPerUnit(fx.daiAddress)).to.equal(0n);
      for (const t of [0n, EPOCH - 1n, EPOCH, 7n * EPOCH + 5n]) {
        if (t > BigInt(await networkHelpers.time.latest()) - fx.genesis) {
          await networkHelpers.time.increaseTo(fx.genesis + t);
        }
        const e = await rewards.currentEpoch();
        expect(e, `at genesis + ${t}`).to.equal(await fx.escrow.currentEpoch());
        expect(e, `at genesis + ${t}`).to.equal(t / EPOCH);
      }
    });

    it("constructor emits the initial parameters; factors 0 and 10,000 are valid", async () => {
      const factory = new NodeRewards__factory(fx.deployer);
      const args = [
        await fx.accessManager.getAddress(),
        await fx.token.getAddress(),
        fx.escrowAddress,
        await fx.reputation.getAddress(),
        await fx.staking.getAddress(),
      ] as const;
      for (const factor of [0n, BPS]) {
        const fresh = await factory.deploy(...args, 123n, factor);
        const tx = fresh.deploymentTransaction()!;
        await expect(tx).to.emit(fresh, "EmissionUpdated").withArgs(123n);
        await expect(tx).to.emit(fresh, "UnscoredFactorUpdated").withArgs(factor);
        expect(await fresh.emissionPerEpoch()).to.equal(123n);
        expect(await fresh.unscoredFactorBps()).to.equal(factor);
        expect(await fresh.currentEpoch()).to.equal(await fx.escrow.currentEpoch());
      }
    });

    it("constructor rejects zero addresses (ZeroAddress) and a factor above 10,000 (InvalidFactor)", async () => {
      const factory = new NodeRewards__factory(fx.deployer);
      const args = [
        await fx.accessManager.getAddress(),
        await fx.token.getAddress(),
        fx.escrowAddress,
        await fx.reputation.getAddress(),
        await fx.staking.getAddress(),
      ] as const;
      for (let i = 0; i < args.length; i++) {
        const a = [...args] as [string, string, string, string, string];
        a[i] = ZeroAddress;
        await expect(factory.deploy(...a, EMISSION, UNSCORED), `argument ${i}`).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
      for (const factor of [BPS + 1n, 65_535n]) {
        await expect(factory.deploy(...args, EMISSION, factor))
          .to.be.revertedWithCustomError(factory, "InvalidFactor")
          .withArgs(factor);
      }
    });
  });

  // -------------------------------------------------------------------- fund

  describe("fund", () => {
    it("takes MESH from the caller into the unallocated funds (Funded)", async () => {
      const tx = rewards.connect(fx.deployer).fund(E(1000));
      await expect(tx).to.emit(rewards, "Funded").withArgs(fx.deployer.address, E(1000));
      await expect(tx).to.changeTokenBalances(ethers, fx.token, [fx.deployer, fx.rewardsAddress], [-E(1000), E(1000)]);
      expect(await rewards.unallocated()).to.equal(E(1000));
      expect(await rewards.reserved()).to.equal(0n);
      // Anyone may fund with their own MESH.
      await fx.token.connect(fx.operator).approve(fx.rewardsAddress, 7n);
      await expect(rewards.connect(fx.operator).fund(7n)).to.emit(rewards, "Funded").withArgs(op1, 7n);
      expect(await rewards.unallocated()).to.equal(E(1000) + 7n);
    });

    it("rejects zero (ZeroAmount); the token refuses more than the allowance", async () => {
      await expect(rewards.connect(fx.deployer).fund(0n)).to.be.revertedWithCustomError(rewards, "ZeroAmount");
      await expect(rewards.connect(fx.outsider).fund(1n))
        .to.be.revertedWithCustomError(fx.token, "ERC20InsufficientAllowance")
        .withArgs(fx.rewardsAddress, 0n, 1n);
      expect(await rewards.unallocated()).to.equal(0n);
    });
  });

  // -------------------------------------------------------------------- commit

  describe("commit", () => {
    beforeEach(async () => {
      await rewards.connect(fx.deployer).fund(E(1_000_000));
    });

    it("is open during epoch + 3 only (CommitWindowNotOpen, CommitWindowClosed)", async () => {
      await toEpoch(2);
      await serve(op1, USDC(1));
      for (const e of [2, 3, 4]) {
        await toEpoch(e, 10n);
        await expect(commit(op1, 2)).to.be.revertedWithCustomError(rewards, "CommitWindowNotOpen").withArgs(2, e);
      }
      // Last second of epoch 4, then the first second of epoch 5 (= 2 + 3).
      await networkHelpers.time.setNextBlockTimestamp(fx.genesis + 5n * EPOCH - 1n);
      await expect(rewards.commit(op1, 2, [fx.usdcAddress], GAS))
        .to.be.revertedWithCustomError(rewards, "CommitWindowNotOpen")
        .withArgs(2, 4);
      await networkHelpers.time.setNextBlockTimestamp(fx.genesis + 5n * EPOCH);
      await expect(commit(op1, 2)).to.emit(rewards, "RewardCommitted");
      await toEpoch(6);
      await expect(commit(op2, 2)).to.be.revertedWithCustomError(rewards, "CommitWindowClosed").withArgs(2, 6);
      // A future epoch is not open either (the window is checked before anything else).
      await expect(commit(fx.outsider.address, 100))
        .to.be.revertedWithCustomError(rewards, "CommitWindowNotOpen")
        .withArgs(100, 6);
    });

    it("commits points x the unscored factor for a node without a score (RewardCommitted, EpochPoolAllocated)", async () => {
      await serve(op1, USDC(10));
      await serve(op1, 5n, { payer: fx.payer2, apiId: fx.apiToken2 });
      await toEpoch(3);
      const p = points(USDC(10) + 5n);
      expect(await fx.reputation.nodeScoreAt(op1, 0)).to.deep.equal([0n, false]);
      const tx = commit(op1, 0);
      await expect(tx).to.emit(rewards, "EpochPoolAllocated").withArgs(0, EMISSION);
      await expect(tx)
        .to.emit(rewards, "RewardCommitted")
        .withArgs(0, op1, p, UNSCORED, p * UNSCORED);
      expect(await rewards.weightOf(0, op1)).to.equal(p * UNSCORED);
      expect(await rewards.claimed(0, op1)).to.equal(false);
      expect(await pool(0)).to.deep.equal({
        pool: EMISSION,
        paid: 0n,
        totalWeight: p * UNSCORED,
        claimedWeight: 0n,
        allocated: true,
      });
      expect(await rewards.reserved()).to.equal(EMISSION);
      expect(await rewards.unallocated()).to.equal(E(1_000_000) - EMISSION);
    });

    it("uses the node's finalized smoothed score for the epoch as its factor", async () => {
      await serve(op1, USDC(3));
      await serve(op2, USDC(4));
      await serve(op3, USDC(5));
      await score(0, [
        [op1, GOOD],
        [op2, SLOW],
      ]); // op3 gets no report: unscored
      expect(scoreOf(GOOD)).to.equal(9000n);
      expect(scoreOf(SLOW)).to.equal(6479n);
      expect(await fx.reputation.nodeScoreAt(op1, 0)).to.deep.equal([9000n, true]);
      expect(await fx.reputation.nodeScoreAt(op2, 0)).to.deep.equal([6479n, true]);
      await toEpoch(3);
      for (const [node, served, factor] of [
        [op1, USDC(3), 9000n],
        [op2, USDC(4), 6479n],
        [op3, USDC(5), UNSCORED],
      ] as const) {
        await expect(commit(node, 0))
          .to.emit(rewards, "RewardCommitted")
          .withArgs(0, node, points(served), factor, points(served) * factor);
      }
      expect((await pool(0)).totalWeight).to.equal(
        points(USDC(3)) * 9000n + points(USDC(4)) * 6479n + points(USDC(5)) * UNSCORED,
      );
    });

    it("a score finalized for another epoch does not count: the factor is the epoch's own", async () => {
      await serve(op1, USDC(1)); // epoch 0
      await toEpoch(1);
      await serve(op1, USDC(2)); // epoch 1
      await score(0, [[op1, GOOD]]); // attested in 1, finalized in 2
      await toEpoch(3);
      await expect(commit(op1, 0))
        .to.emit(rewards, "RewardCommitted")
        .withArgs(0, op1, points(USDC(1)), 9000n, points(USDC(1)) * 9000n);
      await toEpoch(4);
      await expect(commit(op1, 1))
        .to.emit(rewards, "RewardCommitted")
        .withArgs(1, op1, points(USDC(2)), UNSCORED, points(USDC(2)) * UNSCORED);
    });

    it("counts only value served in the epoch, in each listed token at its weight", async () => {
      await fx.rewards.connect(fx.deployer).setRewardToken(fx.daiAddress, 1n);
      await serve(op1, USDC(2));
      await serve(op1, parseEther("3"), { apiId: fx.apiUsd, token: fx.daiAddress });
      await toEpoch(1);
      await serve(op1, USDC(50)); // epoch 1: not epoch 0's
      await toEpoch(3);
      const tokens = [fx.usdcAddress, fx.daiAddress].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      const p = points(USDC(2)) + parseEther("3");
      await expect(commit(op1, 0, tokens))
        .to.emit(rewards, "RewardCommitted")
        .withArgs(0, op1, p, UNSCORED, p * UNSCORED);
      // A reward token the node served nothing in adds nothing, and is allowed.
      await serve(op2, USDC(1), { payer: fx.payer2 }); // epoch 3
      await toEpoch(6);
      await expect(commit(op2, 3, tokens))
        .to.emit(rewards, "RewardCommitted")
        .withArgs(3, op2, points(USDC(1)), UNSCORED, points(USDC(1)) * UNSCORED);
    });

    it("anyone may commit any active node; an inactive node cannot be committed (NodeNotActive)", async () => {
      await serve(op1, USDC(1));
      await serve(op2, USDC(1));
      await fx.staking.connect(fx.operator2).unstake(await fx.staking.stakeOf(op2));
      await toEpoch(3);
      await expect(commit(op2, 0)).to.be.revertedWithCustomError(rewards, "NodeNotActive").withArgs(op2);
      await expect(commit(fx.outsider.address, 0))
        .to.be.revertedWithCustomError(rewards, "NodeNotActive")
        .withArgs(fx.outsider.address);
      await expect(rewards.connect(fx.operator2).commit(op1, 0, [fx.usdcAddress])).to.emit(rewards, "RewardCommitted");
    });

    it("a node commits once per epoch (AlreadyCommitted)", async () => {
      await serve(op1, USDC(1));
      await toEpoch(3);
      await commit(op1, 0);
      await expect(commit(op1, 0)).to.be.revertedWithCustomError(rewards, "AlreadyCommitted").withArgs(op1, 0);
      await expect(rewards.connect(fx.operator).commit(op1, 0, [fx.usdcAddress]))
        .to.be.revertedWithCustomError(rewards, "AlreadyCommitted")
        .withArgs(op1, 0);
    });

    it("tokens must be strictly ascending (TokensNotAscending) reward tokens (NotRewardToken)", async () => {
      await serve(op1, USDC(1));
      await toEpoch(3);
      const [low, high] = [fx.usdcAddress, fx.daiAddress].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) as [
        string,
        string,
      ];
      await expect(commit(op1, 0, [fx.usdcAddress, fx.usdcAddress]))
        .to.be.revertedWithCustomError(rewards, "TokensNotAscending")
        .withArgs(1);
      // Both reward tokens, so the order is what fails whichever address is lower.
      await rewards.connect(fx.deployer).setRewardToken(fx.daiAddress, 1n);
      await expect(commit(op1, 0, [high, low]))
        .to.be.revertedWithCustomError(rewards, "TokensNotAscending")
        .withArgs(1);
      await rewards.connect(fx.deployer).setRewardToken(fx.daiAddress, 0n);
      // DAI is not a reward token.
      await expect(commit(op1, 0, [low, high]))
        .to.be.revertedWithCustomError(rewards, "NotRewardToken")
        .withArgs(fx.daiAddress);
      await expect(commit(op1, 0, [ZeroAddress]))
        .to.be.revertedWithCustomError(rewards, "NotRewardToken")
        .withArgs(ZeroAddress);
      // A token set to 0 points stops counting.
      await rewards.connect(fx.deployer).setRewardToken(fx.usdcAddress, 0n);
      await expect(commit(op1, 0)).to.be.revertedWithCustomError(rewards, "NotRewardToken").withArgs(fx.usdcAddress);
      await rewards.connect(fx.deployer).setRewardToken(fx.usdcAddress, 1n);
      await expect(commit(op1, 0))
        .to.emit(rewards, "RewardCommitted")
        .withArgs(0, op1, USDC(1), UNSCORED, USDC(1) * UNSCORED);
    });

    it("rejects a zero weight (NothingToCommit): no tokens, nothing served, factor 0, a score of 0", async () => {
      await serve(op1, USDC(1));
      await serve(op3, USDC(1));
      await score(0, [[op3, DEAD]]);
      expect(await fx.reputation.nodeScoreAt(op3, 0)).to.deep.equal([0n, true]);
      await toEpoch(3);
      await expect(commit(op1, 0, []))
        .to.be.revertedWithCustomError(rewards, "NothingToCommit")
        .withArgs(op1, 0);
      await expect(commit(op2, 0)).to.be.revertedWithCustomError(rewards, "NothingToCommit").withArgs(op2, 0);
      // Scored 0: no reward, whatever the unscored factor.
      await expect(commit(op3, 0)).to.be.revertedWithCustomError(rewards, "NothingToCommit").withArgs(op3, 0);
      await rewards.connect(fx.deployer).setUnscoredFactor(0);
      await expect(commit(op1, 0)).to.be.revertedWithCustomError(rewards, "NothingToCommit").withArgs(op1, 0);
      // Nothing was allocated by the failed commits.
      expect(await pool(0)).to.deep.equal({ pool: 0n, paid: 0n, totalWeight: 0n, claimedWeight: 0n, allocated: false });
      expect(await rewards.reserved()).to.equal(0n);
    });

    it("sets the pool aside once, at the epoch's first commit: min(emission, unallocated)", async () => {
      await serve(op1, USDC(1));
      await serve(op2, USDC(1), { payer: fx.payer2 });
      await toEpoch(1);
      await serve(op1, USDC(1));
      await toEpoch(2);
      await serve(op1, USDC(1));
      await toEpoch(3);
      // Epoch 0: the full emission out of 1,000,000.
      await expect(commit(op1, 0)).to.emit(rewards, "EpochPoolAllocated").withArgs(0, EMISSION);
      // A later emission change and later commits leave the epoch's pool alone.
      await rewards.connect(fx.deployer).setEmission(E(950_000));
      await expect(commit(op2, 0)).not.to.emit(rewards, "EpochPoolAllocated");
      expect((await pool(0)).pool).to.equal(EMISSION);
      // Epoch 1: only 900,000 is left unallocated.
      await toEpoch(4);
      await expect(commit(op1, 1)).to.emit(rewards, "EpochPoolAllocated").withArgs(1, E(900_000));
      expect(await rewards.reserved()).to.equal(E(1_000_000));
      expect(await rewards.unallocated()).to.equal(0n);
      // Epoch 2: nothing left: an empty pool, allocated all the same.
      await toEpoch(5);
      await expect(commit(op1, 2)).to.emit(rewards, "EpochPoolAllocated").withArgs(2, 0n);
      expect(await pool(2)).to.deep.equal({
        pool: 0n,
        paid: 0n,
        totalWeight: points(USDC(1)) * UNSCORED,
        claimedWeight: 0n,
        allocated: true,
      });
      // Funds arriving later go to later epochs, not to the empty one.
      await rewards.connect(fx.deployer).fund(E(5));
      expect((await pool(2)).pool).to.equal(0n);
      expect(await rewards.unallocated()).to.equal(E(5));
    });

    it("a commit with a subset of a node's tokens is raised by committing all of them; never lowered", async () => {
      // commit is open to anyone: a competitor committing first with only the node's smallest
      // token must not pin the node's weight low.
      await fx.rewards.connect(fx.deployer).setRewardToken(fx.daiAddress, 1n);
      await serve(op1, USDC(1));
      await serve(op1, parseEther("1000"), { apiId: fx.apiUsd, token: fx.daiAddress });
      await toEpoch(3);
      await rewards.connect(fx.operator2).commit(op1, 0, [fx.usdcAddress]);
      expect(await rewards.weightOf(0, op1)).to.equal(points(USDC(1)) * UNSCORED);
      const tokens = [fx.usdcAddress, fx.daiAddress].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      const allPoints = points(USDC(1)) + parseEther("1000");
      await expect(rewards.connect(fx.operator).commit(op1, 0, tokens))
        .to.emit(rewards, "RewardCommitted")
        .withArgs(0, op1, allPoints, UNSCORED, allPoints * UNSCORED);
      expect(await rewards.weightOf(0, op1)).to.equal(allPoints * UNSCORED);
      expect((await pool(0)).totalWeight).to.equal(allPoints * UNSCORED);
      // The subset again (a lower weight) cannot replace it.
      await expect(rewards.connect(fx.operator2).commit(op1, 0, [fx.usdcAddress]))
        .to.be.revertedWithCustomError(rewards, "AlreadyCommitted")
        .withArgs(op1, 0);
    });
  });

  // -------------------------------------------------------------------- claim

  describe("claim", () => {
    beforeEach(async () => {
      await rewards.connect(fx.deployer).fund(E(1_000_000));
    });

    /** Serves `usdc` for each node in epoch 0 (each from its own payer), commits them all in epoch 3. */
    async function committed(served: [string, bigint][]) {
      const payers = [fx.payer, fx.payer2, fx.payer3];
      for (const [i, [node, amount]] of served.entries()) await serve(node, amount, { payer: payers[i % 3] });
      await toEpoch(3);
      for (const [node] of served) await commit(node, 0);
    }

    it("opens at epoch + 4 (ClaimNotOpen) and stays open", async () => {
      await committed([[op1, USDC(1)]]);
      await expect(claim(op1, 0)).to.be.revertedWithCustomError(rewards, "ClaimNotOpen").withArgs(0, 3);
      await networkHelpers.time.setNextBlockTimestamp(fx.genesis + 4n * EPOCH - 1n);
      await expect(rewards.claim(op1, 0, GAS))
        .to.be.revertedWithCustomError(rewards, "ClaimNotOpen")
        .withArgs(0, 3);
      await expect(claim(op1, 7)).to.be.revertedWithCustomError(rewards, "ClaimNotOpen").withArgs(7, 4);
      await networkHelpers.time.setNextBlockTimestamp(fx.genesis + 4n * EPOCH);
      await expect(claim(op1, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op1, EMISSION);
      await toEpoch(400);
      await expect(claim(op1, 0)).to.be.revertedWithCustomError(rewards, "AlreadyClaimed").withArgs(op1, 0);
    });

    it("has no deadline: a claim long after the epoch pays the same", async () => {
      await committed([[op1, USDC(1)]]);
      await toEpoch(400);
      await expect(claim(op1, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op1, EMISSION);
    });

    it("a lone node takes the whole pool; anyone may send the claim, the node is paid", async () => {
      await committed([[op1, USDC(7)]]);
      await toEpoch(4);
      const tx = claim(op1, 0);
      await expect(tx).to.emit(rewards, "RewardClaimed").withArgs(0, op1, EMISSION);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.operator, fx.outsider, fx.rewardsAddress],
        [EMISSION, 0n, -EMISSION],
      );
      expect(await rewards.claimed(0, op1)).to.equal(true);
      const w = points(USDC(7)) * UNSCORED;
      expect(await pool(0)).to.deep.equal({
        pool: EMISSION,
        paid: EMISSION,
        totalWeight: w,
        claimedWeight: w,
        allocated: true,
      });
      expect(await rewards.reserved()).to.equal(0n);
      expect(await rewards.unallocated()).to.equal(E(1_000_000) - EMISSION);
    });

    it("pays pro rata, rounded down; the last claim takes the remainder (sum == pool)", async () => {
      await rewards.connect(fx.deployer).setEmission(1000n);
      await committed([
        [op1, 1n],
        [op2, 1n],
        [op3, 1n],
      ]);
      await toEpoch(4);
      // 1000 / 3: 333, 333 and the last one 334, in whatever order they claim.
      for (const [node, amount] of [
        [op2, 333n],
        [op3, 333n],
        [op1, 334n],
      ] as const) {
        const tx = claim(node, 0);
        await expect(tx).to.emit(rewards, "RewardClaimed").withArgs(0, node, amount);
        await expect(tx).to.changeTokenBalances(ethers, fx.token, [node, fx.rewardsAddress], [amount, -amount]);
      }
      expect((await pool(0)).paid).to.equal(1000n);
      expect(await rewards.reserved()).to.equal(0n);
    });

    it("weights combine served value and factor; claims match floor(pool x w / W)", async () => {
      await serve(op1, USDC(3));
      await serve(op2, USDC(4), { payer: fx.payer2 });
      await serve(op3, USDC(5), { payer: fx.payer3 });
      await score(0, [
        [op1, GOOD],
        [op2, SLOW],
      ]);
      await toEpoch(3);
      for (const node of [op3, op1, op2]) await commit(node, 0);
      const w = [points(USDC(3)) * 9000n, points(USDC(4)) * 6479n, points(USDC(5)) * UNSCORED];
      const W = w[0]! + w[1]! + w[2]!;
      await toEpoch(4);
      const a1 = (EMISSION * w[0]!) / W;
      const a3 = (EMISSION * w[2]!) / W;
      await expect(claim(op1, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op1, a1);
      await expect(claim(op3, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op3, a3);
      const last = EMISSION - a1 - a3;
      expect(last).to.be.greaterThanOrEqual((EMISSION * w[1]!) / W);
      await expect(claim(op2, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op2, last);
      expect(await fx.token.balanceOf(op1)).to.equal(E(100_000) - E(1000) + a1);
      expect(await rewards.reserved()).to.equal(0n);
    });

    it("a claim is made once (AlreadyClaimed); a node without a commitment has nothing (NothingToClaim)", async () => {
      await committed([
        [op1, USDC(1)],
        [op2, USDC(2)],
      ]);
      await toEpoch(4);
      await claim(op1, 0);
      await expect(claim(op1, 0)).to.be.revertedWithCustomError(rewards, "AlreadyClaimed").withArgs(op1, 0);
      await expect(claim(op3, 0)).to.be.revertedWithCustomError(rewards, "NothingToClaim").withArgs(op3, 0);
      await claim(op2, 0);
      await expect(claim(op2, 0)).to.be.revertedWithCustomError(rewards, "AlreadyClaimed").withArgs(op2, 0);
      await expect(claim(op1, 0)).to.be.revertedWithCustomError(rewards, "AlreadyClaimed").withArgs(op1, 0);
      expect((await pool(0)).paid).to.equal(EMISSION);
      // An open epoch nobody committed in.
      await toEpoch(5);
      await expect(claim(op1, 1)).to.be.revertedWithCustomError(rewards, "NothingToClaim").withArgs(op1, 1);
    });

    it("an empty pool pays 0 (RewardClaimed, no transfer) and still marks the claim", async () => {
      await rewards.connect(fx.deployer).setEmission(0n);
      await committed([
        [op1, USDC(1)],
        [op2, USDC(1)],
      ]);
      await toEpoch(4);
      for (const node of [op1, op2]) {
        const tx = claim(node, 0);
        await expect(tx).to.emit(rewards, "RewardClaimed").withArgs(0, node, 0n);
        await expect(tx).not.to.emit(fx.token, "Transfer");
        await expect(claim(node, 0)).to.be.revertedWithCustomError(rewards, "AlreadyClaimed");
      }
      expect(await pool(0)).to.include({ pool: 0n, paid: 0n, allocated: true });
    });

    it("a node that left after committing still claims; epochs' pools do not compete", async () => {
      await rewards.connect(fx.deployer).setEmission(E(600_000));
      await serve(op1, USDC(1));
      await serve(op2, USDC(3), { payer: fx.payer2 });
      await toEpoch(1);
      await serve(op1, USDC(1));
      await toEpoch(3);
      await commit(op1, 0);
      await commit(op2, 0);
      await fx.staking.connect(fx.operator2).unstake(await fx.staking.stakeOf(op2));
      await toEpoch(4);
      await commit(op1, 1); // 400,000 left for epoch 1
      expect((await pool(1)).pool).to.equal(E(400_000));
      await expect(claim(op2, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op2, E(450_000));
      await expect(claim(op1, 0)).to.emit(rewards, "RewardClaimed").withArgs(0, op1, E(150_000));
      await toEpoch(5);
      await expect(claim(op1, 1)).to.emit(rewards, "RewardClaimed").withArgs(1, op1, E(400_000));
      expect(await rewards.reserved()).to.equal(0n);
      expect(await fx.token.balanceOf(fx.rewardsAddress)).to.equal(0n);
    });
  });

  // -------------------------------------------------------------------- governance

  describe("governance", () => {
    it("setEmission applies to pools not yet allocated (EmissionUpdated)", async () => {
      await expect(rewards.connect(fx.deployer).setEmission(E(5)))
        .to.emit(rewards, "EmissionUpdated")
        .withArgs(E(5));
      expect(await rewards.emissionPerEpoch()).to.equal(E(5));
      await expect(rewards.connect(fx.deployer).setEmission(0n)).to.emit(rewards, "EmissionUpdated").withArgs(0n);
      expect(await rewards.emissionPerEpoch()).to.equal(0n);
    });

    it("setRewardToken sets a token's points per unit, 0 removes it (RewardTokenUpdated, ZeroAddress)", async () => {
      await expect(rewards.connect(fx.deployer).setRewardToken(fx.daiAddress, 3n))
        .to.emit(rewards, "RewardTokenUpdated")
        .withArgs(fx.daiAddress, 3n);
      expect(await rewards.pointsPerUnit(fx.daiAddress)).to.equal(3n);
      await expect(rewards.connect(fx.deployer).setRewardToken(fx.daiAddress, 0n))
        .to.emit(rewards, "RewardTokenUpdated")
        .withArgs(fx.daiAddress, 0n);
      expect(await rewards.pointsPerUnit(fx.daiAddress)).to.equal(0n);
      await expect(rewards.connect(fx.deployer).setRewardToken(ZeroAddress, 1n)).to.be.revertedWithCustomError(
        rewards,
        "ZeroAddress",
      );
    });

    it("setUnscoredFactor takes 0..10,000 (UnscoredFactorUpdated, InvalidFactor)", async () => {
      for (const f of [0n, 1n, BPS]) {
        await expect(rewards.connect(fx.deployer).setUnscoredFactor(f))
          .to.emit(rewards, "UnscoredFactorUpdated")
          .withArgs(f);
        expect(await rewards.unscoredFactorBps()).to.equal(f);
      }
      for (const f of [BPS + 1n, 65_535n]) {
        await expect(rewards.connect(fx.deployer).setUnscoredFactor(f))
          .to.be.revertedWithCustomError(rewards, "InvalidFactor")
          .withArgs(f);
      }
      expect(await rewards.unscoredFactorBps()).to.equal(BPS);
    });

    it("only governance sets them (AccessManagedUnauthorized)", async () => {
      const o = rewards.connect(fx.outsider);
      const calls = [() => o.setEmission(1n), () => o.setRewardToken(fx.daiAddress, 1n), () => o.setUnscoredFactor(1)];
      for (const call of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(rewards, "AccessManagedUnauthorized")
          .withArgs(fx.outsider.address);
      }
      expect(await rewards.emissionPerEpoch()).to.equal(EMISSION);
    });
  });

  // -------------------------------------------------------------------- views

  describe("views", () => {
    it("poolOf an untouched epoch is empty; unallocated counts donations", async () => {
      expect(await pool(12)).to.deep.equal({
        pool: 0n,
        paid: 0n,
        totalWeight: 0n,
        claimedWeight: 0n,
        allocated: false,
      });
      expect(await rewards.weightOf(12, op1)).to.equal(0n);
      expect(await rewards.claimed(12, op1)).to.equal(false);
      // MESH sent without fund() is unallocated all the same.
      await fx.token.connect(fx.deployer).transfer(fx.rewardsAddress, 42n);
      expect(await rewards.unallocated()).to.equal(42n);
      await rewards.connect(fx.deployer).setEmission(100n);
      await serve(op1, 1n);
      await toEpoch(3);
      await expect(commit(op1, 0)).to.emit(rewards, "EpochPoolAllocated").withArgs(0, 42n);
      expect(await rewards.unallocated()).to.equal(0n);
    });
  });
});
