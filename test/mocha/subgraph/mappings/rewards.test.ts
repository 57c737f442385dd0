import { expect } from "chai";
import { MaxUint256, parseEther, type ContractTransactionReceipt, type Signer } from "ethers";
import { escrowDomain, signVoucher } from "../../../../sdk/vouchers.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  apiInput,
  bytes32,
  contractEntity,
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
import { advanceToEpoch, attest } from "./epochs.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("rewards");
const E = (n: number) => parseEther(String(n));
const EMISSION = E(1000);
const UNSCORED_FACTOR = 4000n;
/** Points per base unit: USDC (6 decimals) and DAI (18 decimals) count alike per dollar. */
const USDC_POINTS = 10n ** 12n;
const DAI_POINTS = 1n;
const FUNDED = "Funded(address,uint256)";

interface CommitmentRow {
  rewardEpoch: { id: string };
  epoch: number;
  node: { id: string };
  points: string;
  factorBps: number;
  scored: boolean;
  weight: string;
  committedAt: string;
  claimed: boolean;
  claimedAmount: string | null;
  claimedAt: string | null;
}

/**
 * NodeRewards: reward tokens set, replaced and switched off; emission and unscored factor set;
 * two fundings; two nodes serve calls in two tokens over two epochs; a validator scores one of
 * them (the other gets the unscored factor); commits during epoch + 3 (the first of an epoch sets
 * its pool aside: the full emission, then only what was left unallocated); claims from epoch + 4
 * (the last claim of an epoch takes the remainder). Every figure is compared with NodeRewards'
 * views (poolOf, weightOf, claimed, reserved, unallocated) and with the weights recomputed from
 * the escrow's served value and Reputation's score.
 */
describe("subgraph mappings: NodeRewards", function () {
  this.timeout(180_000);
  let chain: IndexedChain;
  let usdc: string, dai: string, spare: string, rewardsAddress: string;
  let n1: string, n2: string;
  let epoch: number;
  const receipts: Record<string, ContractTransactionReceipt> = {};
  const fundings: { amount: bigint; receipt: ContractTransactionReceipt }[] = [];
  /** `node-epoch` -> what it committed and was paid. */
  const commitments = new Map<
    string,
    {
      node: string;
      epoch: number;
      /** The first and the latest commit (a later one, with a higher weight, replaces the first). */
      first: ContractTransactionReceipt;
      receipt: ContractTransactionReceipt;
      count: number;
      claim?: ContractTransactionReceipt;
    }
  >();

  before(async () => {
    chain = await startIndexedChain();
    const { escrow, registry, reputation, rewards, staking, token } = chain.protocol;
    const deployer = chain.account(0);
    const signers = accounts(chain, 1, 2, 3, 4, 5);
    const [sv, sn1, sn2, provider, p] = signers;
    const [validator, , , , payer] = await addressesOf(...signers);
    [, n1, n2] = await addressesOf(sv, sn1, sn2);
    rewardsAddress = await rewards.getAddress();
    const escrowAddress = await escrow.getAddress();
    const stakingAddress = await staking.getAddress();
    const usdcToken = await deployToken(deployer);
    const daiToken = await deployToken(deployer, "DAI", 18);
    const spareToken = await deployToken(deployer, "XYZ", 18);
    [usdc, dai, spare] = await Promise.all([usdcToken.getAddress(), daiToken.getAddress(), spareToken.getAddress()]);

    // A validator node and two edge nodes.
    const nodes: [Signer, string, number, bigint][] = [
      [sv, validator, NodeType.Validator, E(10_000)],
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
    await send(reputation.connect(sv).joinValidators());

    // Governance: reward tokens (one switched off again), emission, unscored factor; funding.
    await send(rewards.connect(deployer).setRewardToken(usdc, USDC_POINTS));
    await send(rewards.connect(deployer).setRewardToken(dai, 5n));
    receipts.daiPoints = await send(rewards.connect(deployer).setRewardToken(dai, DAI_POINTS));
    await send(rewards.connect(deployer).setRewardToken(spare, 7n));
    receipts.spareOff = await send(rewards.connect(deployer).setRewardToken(spare, 0n));
    await send(rewards.connect(deployer).setEmission(EMISSION));
    await send(rewards.connect(deployer).setUnscoredFactor(Number(UNSCORED_FACTOR)));
    await send(token.connect(deployer).approve(rewardsAddress, MaxUint256));
    for (const amount of [E(1200), E(300)]) {
      fundings.push({ amount, receipt: await send(rewards.connect(deployer).fund(amount)) });
    }

    // Pay-per-call APIs in USDC and DAI; one payer with channels to both nodes.
    await send(registry.connect(provider).register(apiInput(usdc)));
    await send(registry.connect(provider).register(apiInput(dai)));
    await sendAll(usdcToken.connect(deployer).mint(payer, USDC(1000)), daiToken.connect(deployer).mint(payer, E(1000)));
    await sendAll(
      usdcToken.connect(p).approve(escrowAddress, MaxUint256),
      daiToken.connect(p).approve(escrowAddress, MaxUint256),
    );
    await send(escrow.connect(p).deposit(n1, 1n, usdc, USDC(100)));
    await send(escrow.connect(p).deposit(n1, 2n, dai, E(100)));
    await send(escrow.connect(p).deposit(n2, 1n, usdc, USDC(100)));
    const domain = escrowDomain(chain.deployment.chainId, escrowAddress);
    const redeem = async (node: string, apiId: bigint, tokenAddress: string, cumulativeAmount: bigint) => {
      const v = { payer, node, apiId, token: tokenAddress, cumulativeAmount };
      await send(escrow.connect(deployer).redeem(v, await signVoucher(p, domain, v)));
    };

    // Epoch e: n1 serves in USDC and DAI, n2 in USDC.
    epoch = Number(await escrow.currentEpoch());
    await redeem(n1, 1n, usdc, USDC(3));
    await redeem(n1, 2n, dai, E(2));
    await redeem(n2, 1n, usdc, USDC("1.5"));

    // e + 1: the validator reports n1 for e; n1 serves again (epoch e + 1's rewards).
    await advanceToEpoch(chain, epoch + 1);
    await attest(chain, sv, {
      epoch,
      nodes: [{ node: n1, qos: { p50Micros: 50_000, p99Micros: 200_000, successBps: 9900, availabilityBps: 9800 } }],
      apis: [],
    });
    await redeem(n1, 1n, usdc, USDC(5));

    // e + 2: n1's score for e is finalized (n2 has none: the unscored factor).
    await advanceToEpoch(chain, epoch + 2);
    await send(reputation.finalizeNode(n1, epoch));

    // e + 3: commits for e, by anyone. The first sets the pool aside: the payer commits n1 with
    // USDC only; n1 commits itself again with both tokens, a higher weight that replaces it.
    await advanceToEpoch(chain, epoch + 3);
    const commit = async (from: Signer, node: string, e: number, tokens: string[]) => {
      const sorted = [...tokens].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      const receipt = await send(rewards.connect(from).commit(node, e, sorted));
      const key = `${lower(node)}-${e}`;
      const earlier = commitments.get(key);
      if (earlier === undefined) commitments.set(key, { node, epoch: e, first: receipt, receipt, count: 1 });
      else Object.assign(earlier, { receipt, count: earlier.count + 1 });
      return receipt;
    };
    receipts.partial = await commit(p, n1, epoch, [usdc]);
    await commit(p, n2, epoch, [usdc]);
    receipts.commit1 = await commit(sn1, n1, epoch, [usdc, dai]);

    // e + 4: commit for e + 1 (its pool: what is left unallocated, under the emission); claims for e.
    await advanceToEpoch(chain, epoch + 4);
    await commit(sn1, n1, epoch + 1, [usdc]);
    const claim = async (from: Signer, node: string, e: number) => {
      const receipt = await send(rewards.connect(from).claim(node, e));
      commitments.get(`${lower(node)}-${e}`)!.claim = receipt;
      return receipt;
    };
    receipts.claim1 = await claim(sn1, n1, epoch);
    receipts.claim2 = await claim(deployer, n2, epoch);

    // e + 5: n1 claims e + 1 (the only commitment: the whole pool).
    await advanceToEpoch(chain, epoch + 5);
    await claim(sn1, n1, epoch + 1);
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("records each commitment with the weight NodeRewards committed (weightOf), from served value and score", async () => {
    const { escrow, reputation, rewards } = chain.protocol;
    expect(commitments.size).to.equal(3);
    for (const [key, c] of commitments) {
      const tokens = c.node === n1 && c.epoch === epoch ? [usdc, dai] : [usdc];
      let points = 0n;
      for (const t of tokens)
        points += (await escrow.servedValue(t, c.node, c.epoch)) * (await rewards.pointsPerUnit(t));
      // NodeRewards._factor: the finalized score; without one the unscored factor, unless the
      // node had enough reports to be scored (then 0: nothing to commit).
      const [score, scored] = await reputation.nodeScoreAt(c.node, c.epoch);
      expect(await reputation.wasScorable(c.node, c.epoch)).to.equal(scored);
      const factor = scored ? score : UNSCORED_FACTOR;
      const weight = await rewards.weightOf(c.epoch, c.node);
      expect(weight).to.equal(points * factor);
      const claimedAmount =
        c.claim === undefined
          ? null
          : (rewards.interface.parseLog(logOf(c.claim, rewardsAddress, "RewardClaimed(uint32,address,uint256)"))!.args
              .amount as bigint);
      const row = await entity<CommitmentRow>(
        chain,
        "RewardCommitment",
        key,
        "rewardEpoch { id } epoch node { id } points factorBps scored weight commitCount committedAt claimed claimedAmount claimedAt",
      );
      expect(row, key).to.deep.equal({
        rewardEpoch: { id: c.epoch.toString() },
        epoch: c.epoch,
        node: { id: lower(c.node) },
        points: points.toString(),
        factorBps: Number(factor),
        scored,
        weight: weight.toString(),
        commitCount: c.count,
        committedAt: (await timeOf(chain, c.receipt)).toString(),
        claimed: await rewards.claimed(c.epoch, c.node),
        claimedAmount: claimedAmount === null ? null : claimedAmount.toString(),
        claimedAt: c.claim === undefined ? null : (await timeOf(chain, c.claim)).toString(),
      });
    }
    // n1 was scored for e, n2 not; n1 served in both tokens: 3 USDC and 2 DAI are 5e18 points.
    const n1e = (await entity<CommitmentRow>(chain, "RewardCommitment", `${lower(n1)}-${epoch}`, "points scored"))!;
    expect(n1e).to.deep.equal({ points: E(5).toString(), scored: true });
    expect(await entity(chain, "RewardCommitment", `${lower(n2)}-${epoch}`, "factorBps scored")).to.deep.equal({
      factorBps: Number(UNSCORED_FACTOR),
      scored: false,
    });
  });

  it("replaces a commitment by a later one with a higher weight, in the epoch's total too", async () => {
    const { reputation, rewards } = chain.protocol;
    const partial = receipts.partial!.blockNumber;
    const key = `${lower(n1)}-${epoch}`;
    const [score] = await reputation.nodeScoreAt(n1, epoch);
    const usdcOnly = USDC(3) * USDC_POINTS * score;
    expect(await rewards.weightOf(epoch, n1, { blockTag: partial })).to.equal(usdcOnly);
    expect(await entity(chain, "RewardCommitment", key, "points weight commitCount", partial)).to.deep.equal({
      points: (USDC(3) * USDC_POINTS).toString(),
      weight: usdcOnly.toString(),
      commitCount: 1,
    });
    for (const block of [partial, receipts.commit1!.blockNumber - 1, receipts.commit1!.blockNumber]) {
      const pool = await rewards.poolOf(epoch, { blockTag: block });
      expect(
        await entity(chain, "RewardEpoch", epoch.toString(), "totalWeight commitmentCount", block),
        `block ${block}`,
      ).to.deep.equal({ totalWeight: pool.totalWeight.toString(), commitmentCount: block === partial ? 1 : 2 });
    }
    expect((await rewards.weightOf(epoch, n1)) > usdcOnly).to.equal(true);
  });

  it("holds each epoch's pool as NodeRewards.poolOf does; its claims sum exactly to the pool", async () => {
    const { rewards } = chain.protocol;
    for (const e of [epoch, epoch + 1]) {
      const pool = await rewards.poolOf(e);
      const mine = [...commitments.values()].filter((c) => c.epoch === e);
      const row = await entity(
        chain,
        "RewardEpoch",
        e.toString(),
        "epoch pool totalWeight paid claimedWeight commitmentCount claimCount allocatedAt commitments { id }",
      );
      expect(pool.allocated).to.equal(true);
      expect(row, `epoch ${e}`).to.deep.include({
        epoch: e,
        pool: pool.pool.toString(),
        totalWeight: pool.totalWeight.toString(),
        paid: pool.paid.toString(),
        claimedWeight: pool.claimedWeight.toString(),
        commitmentCount: mine.length,
        claimCount: mine.filter((c) => c.claim !== undefined).length,
        allocatedAt: (
          await timeOf(chain, mine.map((c) => c.first).sort((x, y) => x.blockNumber - y.blockNumber)[0]!)
        ).toString(),
      });
      expect(pool.paid).to.equal(pool.pool);
    }
    // The first pool is the full emission; the second only what was left (1,500 funded).
    expect((await rewards.poolOf(epoch)).pool).to.equal(EMISSION);
    expect((await rewards.poolOf(epoch + 1)).pool).to.equal(E(500));
    // n1's claim for e is its pro-rata share, rounded down; n2's (the last) takes the remainder.
    const pool = await rewards.poolOf(epoch);
    const w1 = await rewards.weightOf(epoch, n1);
    const amountOf = (r: ContractTransactionReceipt) =>
      rewards.interface.parseLog(logOf(r, rewardsAddress, "RewardClaimed(uint32,address,uint256)"))!.args
        .amount as bigint;
    expect(amountOf(receipts.claim1!)).to.equal((pool.pool * w1) / pool.totalWeight);
    expect(amountOf(receipts.claim2!)).to.equal(pool.pool - amountOf(receipts.claim1!));
    // Before the claims, nothing paid.
    expect(
      await entity(chain, "RewardEpoch", epoch.toString(), "paid claimCount", receipts.claim1!.blockNumber - 1),
    ).to.deep.equal({ paid: "0", claimCount: 0 });
  });

  it("adds each claim to its node's rewardsClaimed (the MESH it received)", async () => {
    const { rewards } = chain.protocol;
    for (const node of [n1, n2]) {
      let total = 0n;
      for (const c of commitments.values()) {
        if (c.node !== node || c.claim === undefined) continue;
        total += rewards.interface.parseLog(logOf(c.claim, rewardsAddress, "RewardClaimed(uint32,address,uint256)"))!
          .args.amount as bigint;
      }
      expect(await entity(chain, "Node", lower(node), "rewardsClaimed rewardCommitments { id }"), node).to.deep.include(
        {
          rewardsClaimed: total.toString(),
        },
      );
      expect(total > 0n).to.equal(true);
    }
  });

  it("records the fundings and keeps the protocol's reward totals as NodeRewards.reserved and unallocated say", async () => {
    const { rewards, token } = chain.protocol;
    for (const f of fundings) {
      const log = logOf(f.receipt, rewardsAddress, FUNDED);
      expect(
        await entity(chain, "RewardsFunding", eventId(f.receipt, log.index), "from amount transactionHash"),
      ).to.deep.equal({
        from: lower(await chain.account(0).getAddress()),
        amount: f.amount.toString(),
        transactionHash: f.receipt.hash,
      });
    }
    const funded = fundings.reduce((s, f) => s + f.amount, 0n);
    const allocated = EMISSION + E(500);
    const row = await protocolEntity<Record<string, string | number>>(
      chain,
      "rewardsFunded rewardsAllocated rewardsPaid rewardsReserved rewardEmissionPerEpoch rewardUnscoredFactorBps",
    );
    expect(row).to.deep.equal({
      rewardsFunded: funded.toString(),
      rewardsAllocated: allocated.toString(),
      rewardsPaid: allocated.toString(),
      rewardsReserved: (await rewards.reserved()).toString(),
      rewardEmissionPerEpoch: (await rewards.emissionPerEpoch()).toString(),
      rewardUnscoredFactorBps: Number(await rewards.unscoredFactorBps()),
    });
    // Everything funded was allocated and paid: nothing reserved, nothing left.
    expect(await rewards.reserved()).to.equal(0n);
    expect(await rewards.unallocated()).to.equal(funded - allocated);
    expect(await token.balanceOf(rewardsAddress)).to.equal(funded - allocated);
    // While e's pool was set aside and unclaimed, reserved held it.
    expect((await protocolEntity(chain, "rewardsReserved", receipts.commit1!.blockNumber)).rewardsReserved).to.equal(
      (await rewards.reserved({ blockTag: receipts.commit1!.blockNumber })).toString(),
    );
    // As deployed: the constructor's emission and factor.
    const deployedAt = chain.deployment.contracts.NodeRewards.blockNumber;
    expect(await protocolEntity(chain, "rewardEmissionPerEpoch rewardUnscoredFactorBps", deployedAt)).to.deep.equal({
      rewardEmissionPerEpoch: (await rewards.emissionPerEpoch({ blockTag: deployedAt })).toString(),
      rewardUnscoredFactorBps: Number(await rewards.unscoredFactorBps({ blockTag: deployedAt })),
    });
  });

  it("holds each reward token's points per unit as NodeRewards.pointsPerUnit does", async () => {
    const { rewards } = chain.protocol;
    for (const t of [usdc, dai, spare]) {
      const perUnit = await rewards.pointsPerUnit(t);
      expect(await entity(chain, "RewardToken", lower(t), "token { id } pointsPerUnit active"), t).to.deep.equal({
        token: { id: lower(t) },
        pointsPerUnit: perUnit.toString(),
        active: perUnit !== 0n,
      });
    }
    expect(await rewards.pointsPerUnit(spare)).to.equal(0n);
    expect(
      await entity(
        chain,
        "RewardToken",
        lower(spare),
        "pointsPerUnit active updatedAt",
        receipts.spareOff!.blockNumber - 1,
      ),
    ).to.deep.include({ pointsPerUnit: "7", active: true });
    expect(await entity(chain, "RewardToken", lower(dai), "updatedAt")).to.deep.equal({
      updatedAt: (await timeOf(chain, receipts.daiPoints!)).toString(),
    });
  });

  it("keeps NodeRewards' authority in its Contract entity", async () => {
    const { accessManager } = chain.protocol;
    expect(await contractEntity(chain, "NodeRewards")).to.deep.equal({
      address: lower(rewardsAddress),
      paused: false,
      treasury: null,
      authority: lower(await accessManager.getAddress()),
    });
  });

  it("triggered every NodeRewards handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
