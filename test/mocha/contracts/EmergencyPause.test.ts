import { expect } from "chai";
import { AbiCoder, encodeBytes32String, id, MaxUint256, parseEther, type BaseContract } from "ethers";
import { managedTargets } from "../../../deploy/protocol.js";
import { ROLES, type ManagedContract } from "../../../deploy/roles.js";
import {
  authorize,
  escrowFixture,
  HOT_KEYS,
  idOf,
  sign,
  SPLIT,
  BPS,
  THAW,
  USDC,
  voucherFor,
} from "../helpers/escrow.js";
import { apiInput, ethers, networkHelpers, NodeType } from "../helpers/fixture.js";
import { EU, MIN_STAKE, nextTimestamp, NODE_URL, UNBONDING_PERIOD } from "../helpers/staking.js";
import { COOLDOWN, PERIOD, PROTOCOL_BPS, TIERS, USDC_PER_PERIOD } from "../helpers/subscriptions.js";

const abi = AbiCoder.defaultAbiCoder();
const E = (n: string | number) => parseEther(String(n));
const P = BigInt(PERIOD);

const PAUSABLE = [
  "ApiRegistry",
  "NodeStaking",
  "PaymentEscrow",
  "Subscriptions",
  "DiscountStaking",
  "AccessGroups",
] as const;
type Pausable = (typeof PAUSABLE)[number] & ManagedContract;

/**
 * escrowFixture plus: a subscription API (id 5, provider, USDC, 10 per 30 days); payer with a
 * funded channel to operator for apiToken (100 USDC, 10 redeemed, so node, provider and
 * protocol earnings exist), a subscription to API 5 (1 period) and 50 USDC prepaid, and
 * 2,000 MESH staked for discounts; an outsider holding MESH for NodeStaking; `guardian` holds
 * only GUARDIAN and `security` only SECURITY. Nothing is paused.
 */
async function pauseFixture() {
  const f = await escrowFixture();
  const [guardian, security] = [f.rest[5]!, f.rest[6]!];
  await f.accessManager.grantRole(ROLES.GUARDIAN, guardian.address, 0);
  await f.accessManager.grantRole(ROLES.SECURITY, security.address, 0);

  await f.registry.connect(f.provider).register(apiInput(f.usdcAddress));
  const subsApi = await f.registry.apiCount();

  const payer = f.payer;
  const [subsAddress, discountsAddress, stakingAddress] = [
    await f.subscriptions.getAddress(),
    await f.discounts.getAddress(),
    await f.staking.getAddress(),
  ];
  await f.usdc.connect(payer).approve(subsAddress, MaxUint256);
  await f.token.connect(f.deployer).transfer(payer.address, E(10_000));
  await f.token.connect(payer).approve(discountsAddress, MaxUint256);
  await f.token.connect(f.deployer).transfer(f.outsider.address, E(10_000));
  await f.token.connect(f.outsider).approve(stakingAddress, MaxUint256);

  // Escrow: a funded channel with one redemption.
  await f.escrow.connect(payer).deposit(f.operator.address, f.apiToken, f.usdcAddress, USDC(100));
  const redeemed = voucherFor(f, USDC(10));
  await f.escrow.connect(f.operator).redeem(redeemed, await sign(f, payer, redeemed));
  // Subscriptions: one period paid, a prepaid balance.
  await f.subscriptions.connect(payer).subscribe(subsApi, f.usdcAddress, 1, MaxUint256);
  const subscriptionId = await f.subscriptions.subscriptionIdOf(payer.address, subsApi);
  await f.subscriptions.connect(payer).depositBalance(f.usdcAddress, USDC(50));
  // Discounts: an active stake.
  await f.discounts.connect(payer).stake(E(2000));

  return { ...f, guardian, security, subsApi, subscriptionId };
}

type PauseFixture = Awaited<ReturnType<typeof pauseFixture>>;

function contractOf(f: PauseFixture, name: Pausable): BaseContract {
  return managedTargets(f)[name];
}

/** emergencyPause / emergencyUnpause / paused of `name`, called by `signer`. */
function brake(f: PauseFixture, name: Pausable, signer: PauseFixture["guardian"]) {
  const c = contractOf(f, name).connect(signer) as BaseContract;
  return {
    pause: () => c.getFunction("emergencyPause")(),
    unpause: () => c.getFunction("emergencyUnpause")(),
    paused: async () => (await c.getFunction("paused")()) as boolean,
  };
}

describe("emergency pause", () => {
  let f: PauseFixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(pauseFixture);
  });

  // ------------------------------------------------------------------ roles, per contract

  for (const name of PAUSABLE) {
    describe(name, () => {
      it("the guardian pauses (Paused); pausing again reverts with EnforcedPause", async () => {
        const c = contractOf(f, name);
        const g = brake(f, name, f.guardian);
        expect(await g.paused()).to.equal(false);
        await expect(g.pause()).to.emit(c, "Paused").withArgs(f.guardian.address);
        expect(await g.paused()).to.equal(true);
        await expect(g.pause()).to.be.revertedWithCustomError(c, "EnforcedPause");
        await expect(brake(f, name, f.deployer).pause()).to.be.revertedWithCustomError(c, "EnforcedPause");
      });

      it("the GUARDIAN role cannot unpause (AccessManagedUnauthorized); SECURITY does (Unpaused)", async () => {
        const c = contractOf(f, name);
        await brake(f, name, f.guardian).pause();
        await expect(brake(f, name, f.guardian).unpause())
          .to.be.revertedWithCustomError(c, "AccessManagedUnauthorized")
          .withArgs(f.guardian.address);
        expect(await brake(f, name, f.guardian).paused()).to.equal(true);
        await expect(brake(f, name, f.security).unpause())
          .to.emit(c, "Unpaused")
          .withArgs(f.security.address);
        expect(await brake(f, name, f.security).paused()).to.equal(false);
        // Unpausing a running contract reverts with ExpectedPause.
        await expect(brake(f, name, f.security).unpause()).to.be.revertedWithCustomError(c, "ExpectedPause");
      });

      it("unpausing a running contract reverts with ExpectedPause; the pause can be applied again", async () => {
        const c = contractOf(f, name);
        await expect(brake(f, name, f.deployer).unpause()).to.be.revertedWithCustomError(c, "ExpectedPause");
        await brake(f, name, f.guardian).pause();
        await brake(f, name, f.security).unpause();
        await expect(brake(f, name, f.guardian).pause())
          .to.emit(c, "Paused")
          .withArgs(f.guardian.address);
      });

      it("pausing takes GUARDIAN: SECURITY alone and everyone else get AccessManagedUnauthorized", async () => {
        const c = contractOf(f, name);
        for (const signer of [f.security, f.outsider, f.provider, f.operator, f.payer]) {
          await expect(brake(f, name, signer).pause())
            .to.be.revertedWithCustomError(c, "AccessManagedUnauthorized")
            .withArgs(signer.address);
        }
        await brake(f, name, f.guardian).pause();
        for (const signer of [f.outsider, f.provider, f.operator, f.payer]) {
          await expect(brake(f, name, signer).unpause())
            .to.be.revertedWithCustomError(c, "AccessManagedUnauthorized")
            .withArgs(signer.address);
        }
      });
    });
  }

  it("each contract is paused on its own", async () => {
    for (const name of PAUSABLE) {
      await brake(f, name, f.guardian).pause();
      for (const other of PAUSABLE) {
        expect(await brake(f, other, f.guardian).paused(), `${other} after pausing ${name}`).to.equal(other === name);
      }
      await brake(f, name, f.security).unpause();
    }
  });

  // ------------------------------------------------------------------ inflows stop, exits stay open

  describe("ApiRegistry while paused", () => {
    beforeEach(async () => {
      await f.registry.connect(f.guardian).emergencyPause();
    });

    it("register reverts with EnforcedPause", async () => {
      await expect(f.registry.connect(f.provider2).register(apiInput(f.usdcAddress))).to.be.revertedWithCustomError(
        f.registry,
        "EnforcedPause",
      );
    });

    it("providers still manage their APIs and the Security DAO still delists", async () => {
      const r = f.registry.connect(f.provider);
      const apiId = f.apiToken;
      await expect(r.updateMetadata(apiId, "ar://paused", id("paused"))).not.to.revert(ethers);
      await expect(r.updateUpstream(apiId, "https://paused.example")).not.to.revert(ethers);
      await expect(r.pause(apiId)).not.to.revert(ethers);
      await expect(r.resume(apiId)).not.to.revert(ethers);
      await expect(r.transferApi(apiId, f.newProvider.address)).not.to.revert(ethers);
      await expect(f.registry.connect(f.newProvider).acceptApi(apiId)).not.to.revert(ethers);
      await expect(f.registry.connect(f.newProvider).retire(apiId)).not.to.revert(ethers);
      await expect(f.registry.connect(f.security).delist(f.apiFee, encodeBytes32String("fee-on-transfer")))
        .to.emit(f.registry, "ApiDelisted")
        .withArgs(f.apiFee, encodeBytes32String("fee-on-transfer"));
    });

    it("after SECURITY unpauses, register works again", async () => {
      await f.registry.connect(f.security).emergencyUnpause();
      await expect(f.registry.connect(f.provider2).register(apiInput(f.usdcAddress)))
        .to.emit(f.registry, "ApiRegistered")
        .withArgs(
          (await f.registry.apiCount()) + 1n,
          f.provider2.address,
          apiInput(f.usdcAddress).metadataUri,
          apiInput(f.usdcAddress).metadataHash,
          apiInput(f.usdcAddress).upstreamUrl,
          apiInput(f.usdcAddress).category,
          apiInput(f.usdcAddress).tags,
        );
    });
  });

  describe("NodeStaking while paused", () => {
    beforeEach(async () => {
      await f.staking.connect(f.guardian).emergencyPause();
    });

    it("registerNode and topUp revert with EnforcedPause", async () => {
      await expect(
        f.staking.connect(f.outsider).registerNode(NodeType.Edge, EU, NODE_URL, 10, MIN_STAKE[NodeType.Edge]),
      ).to.be.revertedWithCustomError(f.staking, "EnforcedPause");
      await expect(f.staking.connect(f.operator).topUp(E(1))).to.be.revertedWithCustomError(f.staking, "EnforcedPause");
    });

    it("operators still update, unstake and withdraw; the Security DAO still slashes", async () => {
      const stake = MIN_STAKE[NodeType.Edge];
      await expect(f.staking.connect(f.operator2).updateNode(EU, "https://moved.example", 5)).not.to.revert(ethers);
      await expect(f.staking.connect(f.operator2).unstake(stake))
        .to.emit(f.staking, "NodeExited")
        .withArgs(f.operator2.address);
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      const tx = f.staking.connect(f.operator2).withdraw();
      await expect(tx).to.emit(f.staking, "Withdrawn").withArgs(f.operator2.address, stake);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator2, f.staking], [stake, -stake]);
      await expect(f.staking.connect(f.security).slash(f.operator.address, E(1), encodeBytes32String("downtime")))
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(1), 0n, f.deployer.address, encodeBytes32String("downtime"));
    });

    it("after SECURITY unpauses, registerNode and topUp work again", async () => {
      await f.staking.connect(f.security).emergencyUnpause();
      await expect(
        f.staking.connect(f.outsider).registerNode(NodeType.Edge, EU, NODE_URL, 10, MIN_STAKE[NodeType.Edge]),
      ).not.to.revert(ethers);
      await expect(f.staking.connect(f.operator).topUp(E(1)))
        .to.emit(f.staking, "Staked")
        .withArgs(f.operator.address, E(1), MIN_STAKE[NodeType.Edge] + E(1));
    });
  });

  describe("PaymentEscrow while paused", () => {
    beforeEach(async () => {
      await f.escrow.connect(f.guardian).emergencyPause();
    });

    it("deposit reverts with EnforcedPause; redeem and redeemBatch stay open (calls already served)", async () => {
      await expect(
        f.escrow.connect(f.payer).deposit(f.operator.address, f.apiToken, f.usdcAddress, USDC(1)),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
      const v = voucherFor(f, USDC(20));
      await expect(f.escrow.connect(f.operator).redeem(v, await sign(f, f.payer, v)))
        .to.emit(f.escrow, "Redeemed")
        .withArgs(idOf(v), USDC(20), USDC(10));
      const w = voucherFor(f, USDC(25));
      const signature = await sign(f, f.payer, w);
      await expect(
        f.escrow
          .connect(f.operator)
          .redeemBatch(f.operator.address, f.usdcAddress, [
            { payer: w.payer, apiId: w.apiId, cumulativeAmount: w.cumulativeAmount, signature },
          ]),
      )
        .to.emit(f.escrow, "Redeemed")
        .withArgs(idOf(w), USDC(25), USDC(5));
      expect((await f.escrow.channels(idOf(w))).redeemed).to.equal(USDC(25));
    });

    it("payers still withdraw (start, cancel, finish) and manage signers", async () => {
      const args = [f.operator.address, f.apiToken, f.usdcAddress] as const;
      const cid = idOf(voucherFor(f, 0n));
      const t = await nextTimestamp();
      await expect(f.escrow.connect(f.payer).startWithdraw(...args, USDC(40)))
        .to.emit(f.escrow, "WithdrawalStarted")
        .withArgs(cid, USDC(40), t + THAW);
      await expect(f.escrow.connect(f.payer).cancelWithdraw(...args))
        .to.emit(f.escrow, "WithdrawalCancelled")
        .withArgs(cid);
      await f.escrow.connect(f.payer).startWithdraw(...args, USDC(90));
      await networkHelpers.time.increase(THAW);
      const tx = f.escrow.connect(f.payer).finishWithdraw(...args);
      await expect(tx).to.emit(f.escrow, "Withdrawn").withArgs(cid, f.payer.address, USDC(90), 0n);
      await expect(tx).to.changeTokenBalances(ethers, f.usdc, [f.payer, f.escrowAddress], [USDC(90), -USDC(90)]);

      await expect(authorize(f, f.payer, HOT_KEYS[0]!)).not.to.revert(ethers);
      await expect(f.escrow.connect(f.payer).revokeSigner(HOT_KEYS[0]!.address)).not.to.revert(ethers);
    });

    it("nodes, providers and the treasury still claim their earnings", async () => {
      const paid = USDC(10);
      const nodeShare = (paid * SPLIT.nodeBps) / BPS;
      const protocolShare = (paid * SPLIT.protocolBps) / BPS;
      const providerShare = paid - nodeShare - protocolShare;
      await expect(f.escrow.connect(f.operator).claimNodeEarnings(f.usdcAddress))
        .to.emit(f.escrow, "NodeEarningsClaimed")
        .withArgs(f.operator.address, f.usdcAddress, nodeShare);
      await expect(f.escrow.connect(f.provider).claimProviderEarnings(f.apiToken, f.usdcAddress))
        .to.emit(f.escrow, "ProviderEarningsClaimed")
        .withArgs(f.apiToken, f.provider.address, f.usdcAddress, providerShare);
      await expect(f.escrow.connect(f.outsider).collectProtocolFees(f.usdcAddress, [f.apiToken]))
        .to.emit(f.escrow, "ProtocolFeesCollected")
        .withArgs(f.usdcAddress, f.deployer.address, protocolShare);
      expect(await f.escrow.liabilities(f.usdcAddress)).to.equal(USDC(90));
    });

    // Regression: a pause longer than the thaw must not let a payer take back money owed for
    // served calls (redemption stays open during a pause).
    it("a payer cannot withdraw money owed for served calls while the escrow is paused", async () => {
      const args = [f.operator.address, f.apiToken, f.usdcAddress] as const;
      const owed = voucherFor(f, USDC(60));
      const signature = await sign(f, f.payer, owed);
      const attempt = async (tx: () => Promise<unknown>) => {
        try {
          await tx();
        } catch {
          // Either way is fine: what counts is the node being paid in the end.
        }
      };
      await f.escrow.connect(f.payer).startWithdraw(...args, USDC(90));
      await attempt(() => f.escrow.connect(f.operator).redeem(owed, signature));
      await networkHelpers.time.increase(THAW);
      await attempt(() => f.escrow.connect(f.payer).finishWithdraw(...args));
      await f.escrow.connect(f.security).emergencyUnpause();
      await attempt(() => f.escrow.connect(f.operator).redeem(owed, signature));
      expect((await f.escrow.channels(idOf(owed))).redeemed).to.equal(USDC(60));
    });

    it("after SECURITY unpauses, deposits and redemptions work again", async () => {
      await f.escrow.connect(f.security).emergencyUnpause();
      await expect(f.escrow.connect(f.payer).deposit(f.operator.address, f.apiToken, f.usdcAddress, USDC(1)))
        .to.emit(f.escrow, "Deposited")
        .withArgs(
          idOf(voucherFor(f, 0n)),
          f.payer.address,
          f.operator.address,
          f.apiToken,
          f.usdcAddress,
          USDC(1),
          USDC(91),
        );
      const v = voucherFor(f, USDC(20));
      await expect(f.escrow.connect(f.operator).redeem(v, await sign(f, f.payer, v)))
        .to.emit(f.escrow, "Redeemed")
        .withArgs(idOf(v), USDC(20), USDC(10));
    });
  });

  describe("Subscriptions while paused", () => {
    beforeEach(async () => {
      await f.subscriptions.connect(f.guardian).emergencyPause();
    });

    it("subscribe, depositBalance, renew and performUpkeep revert with EnforcedPause", async () => {
      const s = f.subscriptions;
      await expect(
        s.connect(f.payer2).subscribe(f.subsApi, f.usdcAddress, 1, MaxUint256),
      ).to.be.revertedWithCustomError(s, "EnforcedPause");
      await expect(s.connect(f.payer).depositBalance(f.usdcAddress, USDC(1))).to.be.revertedWithCustomError(
        s,
        "EnforcedPause",
      );
      // Due now: only the pause stops the renewal.
      await networkHelpers.time.increase(PERIOD);
      expect(await s.isDue(f.subscriptionId)).to.equal(true);
      // Keepers are told there is nothing to do while paused.
      const [needed] = await s.checkUpkeep(abi.encode(["uint256", "uint256"], [1, 10]));
      expect(needed).to.equal(false);
      await expect(s.connect(f.outsider).renew(f.subscriptionId)).to.be.revertedWithCustomError(s, "EnforcedPause");
      await expect(
        s.connect(f.outsider).performUpkeep(abi.encode(["uint256[]"], [[f.subscriptionId]])),
      ).to.be.revertedWithCustomError(s, "EnforcedPause");
      expect(await s.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(USDC(50));
    });

    it("payers still cancel and withdraw their prepaid balance", async () => {
      const s = f.subscriptions;
      const { paidUntil } = await s.getSubscription(f.subscriptionId);
      await expect(s.connect(f.payer).cancel(f.subsApi))
        .to.emit(s, "SubscriptionCancelled")
        .withArgs(f.subscriptionId, f.payer.address, f.subsApi, paidUntil);
      const tx = s.connect(f.payer).withdrawBalance(f.usdcAddress, USDC(50));
      await expect(tx).to.emit(s, "BalanceWithdrawn").withArgs(f.payer.address, f.usdcAddress, USDC(50), 0n);
      await expect(tx).to.changeTokenBalances(ethers, f.usdc, [f.payer, s], [USDC(50), -USDC(50)]);
    });

    it("providers and the treasury still claim their earnings", async () => {
      const s = f.subscriptions;
      const protocolShare = (USDC_PER_PERIOD * PROTOCOL_BPS) / BPS;
      await expect(s.connect(f.provider).claimProviderEarnings(f.subsApi, f.usdcAddress))
        .to.emit(s, "ProviderEarningsClaimed")
        .withArgs(f.subsApi, f.provider.address, f.usdcAddress, USDC_PER_PERIOD - protocolShare);
      await expect(s.connect(f.outsider).collectProtocolFees(f.usdcAddress, [f.subsApi]))
        .to.emit(s, "ProtocolFeesCollected")
        .withArgs(f.usdcAddress, f.deployer.address, protocolShare);
      expect(await s.liabilities(f.usdcAddress)).to.equal(USDC(50));
    });

    it("after SECURITY unpauses, subscribing and renewing work again", async () => {
      const s = f.subscriptions;
      await s.connect(f.security).emergencyUnpause();
      await expect(s.connect(f.payer).depositBalance(f.usdcAddress, USDC(1))).not.to.revert(ethers);
      const { paidUntil } = await s.getSubscription(f.subscriptionId);
      await networkHelpers.time.setNextBlockTimestamp(paidUntil);
      // The payer's 2,000 MESH discount stake (tier 1: 5%) applies to the renewal.
      const discounted = (USDC_PER_PERIOD * (BPS - BigInt(TIERS[0].discountBps))) / BPS;
      await expect(s.connect(f.outsider).renew(f.subscriptionId))
        .to.emit(s, "Renewed")
        .withArgs(f.subscriptionId, f.payer.address, f.subsApi, f.usdcAddress, discounted, PERIOD, paidUntil + P);
    });
  });

  describe("DiscountStaking while paused", () => {
    beforeEach(async () => {
      await f.discounts.connect(f.guardian).emergencyPause();
    });

    it("stake reverts with EnforcedPause", async () => {
      await expect(f.discounts.connect(f.payer).stake(E(1))).to.be.revertedWithCustomError(
        f.discounts,
        "EnforcedPause",
      );
      expect(await f.discounts.stakeOf(f.payer.address)).to.equal(E(2000));
    });

    it("stakers still request an unstake and withdraw after the cooldown", async () => {
      const t = await nextTimestamp();
      await expect(f.discounts.connect(f.payer).requestUnstake(E(2000)))
        .to.emit(f.discounts, "UnstakeRequested")
        .withArgs(f.payer.address, E(2000), E(2000), t + COOLDOWN);
      await networkHelpers.time.increase(COOLDOWN);
      const tx = f.discounts.connect(f.payer).withdraw();
      await expect(tx).to.emit(f.discounts, "Withdrawn").withArgs(f.payer.address, E(2000));
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.payer, f.discounts], [E(2000), -E(2000)]);
    });

    it("after SECURITY unpauses, staking works again", async () => {
      await f.discounts.connect(f.security).emergencyUnpause();
      await expect(f.discounts.connect(f.payer).stake(E(1)))
        .to.emit(f.discounts, "Staked")
        .withArgs(f.payer.address, E(1), E(2001));
    });
  });
});
