import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { DiscountStaking__factory } from "../../../types/ethers-contracts/index.js";
import { DAY, ethers, networkHelpers } from "../helpers/fixture.js";
import { minedAt, nextTimestamp } from "../helpers/staking.js";
import { COOLDOWN, subscriptionsFixture, TIERS, type SubsFixture } from "../helpers/subscriptions.js";

const E = (n: string | number) => parseEther(String(n));
const MIN_COOLDOWN = BigInt(DAY);
const MAX_COOLDOWN = BigInt(30 * DAY);

/** Tiers as the contract returns them, for deep comparison. */
const asTuples = (tiers: readonly { minStake: bigint; discountBps: number }[]) =>
  tiers.map((t) => [t.minStake, BigInt(t.discountBps)]);

describe("DiscountStaking", () => {
  let f: SubsFixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(subscriptionsFixture);
  });

  // The documented invariant after every scenario: MESH held == totalStaked + totalCooling.
  afterEach(async () => {
    const held = await f.token.balanceOf(f.discountsAddress);
    expect(held, "MESH held == totalStaked + totalCooling").to.equal(
      (await f.discounts.totalStaked()) + (await f.discounts.totalCooling()),
    );
  });

  describe("deployment", () => {
    it("is wired as the deploy params say", async () => {
      expect(await f.discounts.stakingToken()).to.equal(await f.token.getAddress());
      expect(await f.discounts.authority()).to.equal(await f.accessManager.getAddress());
      expect(await f.discounts.cooldown()).to.equal(COOLDOWN);
      expect((await f.discounts.getTiers()).map((t) => [...t])).to.deep.equal(asTuples(TIERS));
      expect(await f.discounts.MAX_TIERS()).to.equal(8n);
      expect(await f.discounts.MAX_DISCOUNT_BPS()).to.equal(5000n);
      expect(await f.discounts.MIN_COOLDOWN()).to.equal(MIN_COOLDOWN);
      expect(await f.discounts.MAX_COOLDOWN()).to.equal(MAX_COOLDOWN);
      expect(await f.discounts.totalStaked()).to.equal(0n);
      expect(await f.discounts.totalCooling()).to.equal(0n);
    });

    it("constructor emits the initial cooldown and tiers", async () => {
      const tiers = [{ minStake: E(5), discountBps: 100 }];
      const fresh = await new DiscountStaking__factory(f.deployer).deploy(
        await f.accessManager.getAddress(),
        await f.token.getAddress(),
        2 * DAY,
        tiers,
      );
      const tx = fresh.deploymentTransaction()!;
      await expect(tx)
        .to.emit(fresh, "CooldownUpdated")
        .withArgs(2 * DAY);
      await expect(tx).to.emit(fresh, "TiersUpdated").withArgs(asTuples(tiers));
    });

    it("constructor rejects a zero authority or token (ZeroAddress) and bad parameters", async () => {
      const factory = new DiscountStaking__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      await expect(factory.deploy(ZeroAddress, token, 7 * DAY, [...TIERS])).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, ZeroAddress, 7 * DAY, [...TIERS])).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, token, 0, [...TIERS]))
        .to.be.revertedWithCustomError(factory, "CooldownOutOfRange")
        .withArgs(0, MIN_COOLDOWN, MAX_COOLDOWN);
      await expect(factory.deploy(am, token, 7 * DAY, [{ minStake: 0n, discountBps: 100 }]))
        .to.be.revertedWithCustomError(factory, "TierStakeNotAscending")
        .withArgs(0, 0, 0);
    });
  });

  describe("stake", () => {
    it("adds to the caller's active stake and pulls the MESH", async () => {
      const before = await f.token.balanceOf(f.payer.address);
      await expect(f.discounts.connect(f.payer).stake(E(600)))
        .to.emit(f.discounts, "Staked")
        .withArgs(f.payer.address, E(600), E(600));
      await expect(f.discounts.connect(f.payer).stake(E(400)))
        .to.emit(f.discounts, "Staked")
        .withArgs(f.payer.address, E(400), E(1000));
      expect(await f.token.balanceOf(f.payer.address)).to.equal(before - E(1000));
      expect(await f.discounts.stakeOf(f.payer.address)).to.equal(E(1000));
      expect(await f.discounts.totalStaked()).to.equal(E(1000));
      const p = await f.discounts.getPosition(f.payer.address);
      expect([p.staked, p.cooling, p.cooldownEndsAt]).to.deep.equal([E(1000), 0n, 0n]);
    });

    it("rejects a zero amount (ZeroAmount)", async () => {
      await expect(f.discounts.connect(f.payer).stake(0)).to.be.revertedWithCustomError(f.discounts, "ZeroAmount");
    });
  });

  describe("discountBpsOf", () => {
    it("gives each tier's discount exactly from its threshold on", async () => {
      const cases: [bigint, number][] = [
        [0n, 0],
        [E(1000) - 1n, 0],
        [E(1000), 500],
        [E(10000) - 1n, 500],
        [E(10000), 1000],
        [E(100000) - 1n, 1000],
        [E(100000), 2000],
        [E(150000), 2000],
      ];
      let staked = 0n;
      for (const [target, bps] of cases) {
        if (target > staked) await f.discounts.connect(f.payer).stake(target - staked);
        staked = target;
        expect(await f.discounts.discountBpsOf(f.payer.address), `stake ${target}`).to.equal(BigInt(bps));
      }
    });

    it("is 0 for everyone when there are no tiers", async () => {
      await f.discounts.connect(f.payer).stake(E(100000));
      await f.discounts.setTiers([]);
      expect(await f.discounts.discountBpsOf(f.payer.address)).to.equal(0n);
    });

    it("does not count cooling stake", async () => {
      await f.discounts.connect(f.payer).stake(E(10000));
      expect(await f.discounts.discountBpsOf(f.payer.address)).to.equal(1000n);
      await f.discounts.connect(f.payer).requestUnstake(1n);
      expect(await f.discounts.discountBpsOf(f.payer.address)).to.equal(500n);
      await f.discounts.connect(f.payer).requestUnstake(E(9000));
      expect(await f.discounts.discountBpsOf(f.payer.address)).to.equal(0n);
    });
  });

  describe("requestUnstake", () => {
    it("moves stake into cooling until now + cooldown", async () => {
      await f.discounts.connect(f.payer).stake(E(5000));
      const t = await nextTimestamp();
      await expect(f.discounts.connect(f.payer).requestUnstake(E(2000)))
        .to.emit(f.discounts, "UnstakeRequested")
        .withArgs(f.payer.address, E(2000), E(2000), t + COOLDOWN);
      const p = await f.discounts.getPosition(f.payer.address);
      expect([p.staked, p.cooling, p.cooldownEndsAt]).to.deep.equal([E(3000), E(2000), t + COOLDOWN]);
      expect(await f.discounts.totalStaked()).to.equal(E(3000));
      expect(await f.discounts.totalCooling()).to.equal(E(2000));
      expect(await f.token.balanceOf(f.discountsAddress)).to.equal(E(5000));
    });

    it("restarts the cooldown for all cooling funds, never shortening it", async () => {
      await f.discounts.connect(f.payer).stake(E(5000));
      const t0 = await minedAt(await f.discounts.connect(f.payer).requestUnstake(E(1000)));
      const firstEnd = t0 + COOLDOWN;

      // Governance shortens the cooldown: a later request keeps the first end.
      await f.discounts.setCooldown(DAY);
      const t1 = await nextTimestamp(3600);
      await expect(f.discounts.connect(f.payer).requestUnstake(E(1000)))
        .to.emit(f.discounts, "UnstakeRequested")
        .withArgs(f.payer.address, E(1000), E(2000), firstEnd);
      expect(t1 + BigInt(DAY)).to.be.lessThan(firstEnd);

      // A request whose own end is later moves the end out (the old end is not kept).
      await f.discounts.setCooldown(30 * DAY);
      const t2 = await nextTimestamp(3600);
      await expect(f.discounts.connect(f.payer).requestUnstake(E(1000)))
        .to.emit(f.discounts, "UnstakeRequested")
        .withArgs(f.payer.address, E(1000), E(3000), t2 + MAX_COOLDOWN);
      expect((await f.discounts.getPosition(f.payer.address)).cooldownEndsAt).to.equal(t2 + MAX_COOLDOWN);
    });

    it("rejects zero (ZeroAmount) and more than the active stake (InsufficientStake)", async () => {
      await expect(f.discounts.connect(f.payer).requestUnstake(0)).to.be.revertedWithCustomError(
        f.discounts,
        "ZeroAmount",
      );
      await expect(f.discounts.connect(f.payer).requestUnstake(1))
        .to.be.revertedWithCustomError(f.discounts, "InsufficientStake")
        .withArgs(1, 0);
      await f.discounts.connect(f.payer).stake(E(10));
      await f.discounts.connect(f.payer).requestUnstake(E(4));
      await expect(f.discounts.connect(f.payer).requestUnstake(E(6) + 1n))
        .to.be.revertedWithCustomError(f.discounts, "InsufficientStake")
        .withArgs(E(6) + 1n, E(6));
    });
  });

  describe("withdraw", () => {
    it("pays all cooling funds back at the exact end of the cooldown, not a second earlier", async () => {
      await f.discounts.connect(f.payer).stake(E(5000));
      const end = (await minedAt(await f.discounts.connect(f.payer).requestUnstake(E(5000)))) + COOLDOWN;

      // Flash-loan resistance: stake cannot come back before the cooldown has passed.
      await networkHelpers.time.setNextBlockTimestamp(end - 1n);
      await expect(f.discounts.connect(f.payer).withdraw())
        .to.be.revertedWithCustomError(f.discounts, "StillCooling")
        .withArgs(end);

      const before = await f.token.balanceOf(f.payer.address);
      await networkHelpers.time.setNextBlockTimestamp(end);
      await expect(f.discounts.connect(f.payer).withdraw())
        .to.emit(f.discounts, "Withdrawn")
        .withArgs(f.payer.address, E(5000));
      expect(await f.token.balanceOf(f.payer.address)).to.equal(before + E(5000));
      const p = await f.discounts.getPosition(f.payer.address);
      expect([p.staked, p.cooling, p.cooldownEndsAt]).to.deep.equal([0n, 0n, 0n]);
      expect(await f.discounts.totalCooling()).to.equal(0n);
    });

    it("rejects a withdrawal with nothing cooling (NothingToWithdraw)", async () => {
      await f.discounts.connect(f.payer).stake(E(10));
      await expect(f.discounts.connect(f.payer).withdraw())
        .to.be.revertedWithCustomError(f.discounts, "NothingToWithdraw")
        .withArgs(f.payer.address);
    });

    it("a flash-loan-sized stake cannot leave in the block it arrived", async () => {
      // Stake, request and withdraw in one block (as a flash loan would): the withdrawal fails.
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const gasLimit = 300_000;
        const stakeTx = await f.discounts.connect(f.payer).stake(E(100000), { gasLimit });
        const requestTx = await f.discounts.connect(f.payer).requestUnstake(E(100000), { gasLimit });
        const withdrawTx = await f.discounts.connect(f.payer).withdraw({ gasLimit });
        await networkHelpers.mine();
        const at = await minedAt(stakeTx);
        expect(await minedAt(requestTx)).to.equal(at);
        await expect(withdrawTx)
          .to.be.revertedWithCustomError(f.discounts, "StillCooling")
          .withArgs(at + COOLDOWN);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      expect((await f.discounts.getPosition(f.payer.address)).cooling).to.equal(E(100000));
    });
  });

  describe("setTiers (PROTOCOL)", () => {
    it("replaces the tiers and emits them", async () => {
      const tiers = [
        { minStake: E(1), discountBps: 0 },
        { minStake: E(2), discountBps: 0 },
        { minStake: E(3), discountBps: 5000 },
      ];
      await expect(f.discounts.setTiers(tiers)).to.emit(f.discounts, "TiersUpdated").withArgs(asTuples(tiers));
      expect((await f.discounts.getTiers()).map((t) => [...t])).to.deep.equal(asTuples(tiers));
      await f.discounts.connect(f.payer).stake(E(3));
      expect(await f.discounts.discountBpsOf(f.payer.address)).to.equal(5000n);
    });

    it("accepts MAX_TIERS tiers and rejects more (TooManyTiers)", async () => {
      const tiers = Array.from({ length: 9 }, (_, i) => ({ minStake: E(i + 1), discountBps: 100 * i }));
      await expect(f.discounts.setTiers(tiers))
        .to.be.revertedWithCustomError(f.discounts, "TooManyTiers")
        .withArgs(9, 8);
      await expect(f.discounts.setTiers(tiers.slice(0, 8))).not.to.revert(ethers);
      expect(await f.discounts.getTiers()).to.have.length(8);
      await f.discounts.connect(f.payer).stake(E(8));
      expect(await f.discounts.discountBpsOf(f.payer.address)).to.equal(700n);
    });

    it("requires strictly ascending, non-zero stakes (TierStakeNotAscending)", async () => {
      await expect(
        f.discounts.setTiers([
          { minStake: E(2), discountBps: 100 },
          { minStake: E(2), discountBps: 200 },
        ]),
      )
        .to.be.revertedWithCustomError(f.discounts, "TierStakeNotAscending")
        .withArgs(1, E(2), E(2));
      await expect(
        f.discounts.setTiers([
          { minStake: E(2), discountBps: 100 },
          { minStake: E(1), discountBps: 200 },
        ]),
      )
        .to.be.revertedWithCustomError(f.discounts, "TierStakeNotAscending")
        .withArgs(1, E(1), E(2));
      await expect(f.discounts.setTiers([{ minStake: 0n, discountBps: 100 }]))
        .to.be.revertedWithCustomError(f.discounts, "TierStakeNotAscending")
        .withArgs(0, 0, 0);
    });

    it("requires non-decreasing discounts (TierDiscountDecreasing)", async () => {
      await expect(
        f.discounts.setTiers([
          { minStake: E(1), discountBps: 200 },
          { minStake: E(2), discountBps: 199 },
        ]),
      )
        .to.be.revertedWithCustomError(f.discounts, "TierDiscountDecreasing")
        .withArgs(1, 199, 200);
    });

    it("caps discounts at MAX_DISCOUNT_BPS (TierDiscountTooHigh)", async () => {
      await expect(
        f.discounts.setTiers([
          { minStake: E(1), discountBps: 100 },
          { minStake: E(2), discountBps: 5001 },
        ]),
      )
        .to.be.revertedWithCustomError(f.discounts, "TierDiscountTooHigh")
        .withArgs(1, 5001, 5000);
    });
  });

  describe("setCooldown (PROTOCOL)", () => {
    it("accepts [1 day, 30 days] and emits it", async () => {
      for (const c of [MIN_COOLDOWN, MAX_COOLDOWN]) {
        await expect(f.discounts.setCooldown(c)).to.emit(f.discounts, "CooldownUpdated").withArgs(c);
        expect(await f.discounts.cooldown()).to.equal(c);
      }
    });

    it("rejects values outside the bounds (CooldownOutOfRange)", async () => {
      for (const c of [MIN_COOLDOWN - 1n, MAX_COOLDOWN + 1n]) {
        await expect(f.discounts.setCooldown(c))
          .to.be.revertedWithCustomError(f.discounts, "CooldownOutOfRange")
          .withArgs(c, MIN_COOLDOWN, MAX_COOLDOWN);
      }
    });
  });
});
