import { expect } from "chai";
import {
  AbiCoder,
  getCreateAddress,
  MaxUint256,
  parseEther,
  parseUnits,
  toBeHex,
  ZeroAddress,
  type BaseContract,
  type ContractTransactionResponse,
} from "ethers";
import {
  MockAggregatorV3__factory,
  MockFeeToken__factory,
  Subscriptions__factory,
} from "../../../types/ethers-contracts/index.js";
import { apiInput, DAY, ethers, MODEL_PAY_PER_CALL, networkHelpers } from "../helpers/fixture.js";
import { minedAt, nextTimestamp } from "../helpers/staking.js";
import {
  expectLedgerBalanced,
  HEARTBEAT,
  PERIOD,
  PROTOCOL_BPS,
  subscriptionsFixture,
  USDC_PER_PERIOD,
  type SubsFixture,
} from "../helpers/subscriptions.js";

const abi = AbiCoder.defaultAbiCoder();
const E = (n: string | number) => parseEther(String(n));
const U = (n: string | number) => parseUnits(String(n), 6);
const P = BigInt(PERIOD);
const WINDOW = BigInt(DAY);
const checkData = (start: bigint | number, count: bigint | number) =>
  abi.encode(["uint256", "uint256"], [start, count]);
const idsData = (ids: (bigint | number)[]) => abi.encode(["uint256[]"], [ids]);
/** Storage slot of Subscriptions.subscriptionCount (AccessManaged, treasury, apiEarnings,
 *  liabilities, protocolBps come first); the test that uses it checks it. */
const SUBSCRIPTION_COUNT_SLOT = 5;

type Payer = SubsFixture["payer"];

describe("Subscriptions", () => {
  let f: SubsFixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(subscriptionsFixture);
  });

  // The documented solvency invariant after every scenario, in both payment tokens.
  afterEach(async () => {
    const apiIds = Array.from({ length: Number(await f.registry.apiCount()) }, (_, i) => BigInt(i + 1));
    const payers = f.rest.slice(0, 4).map((p) => p.address);
    await expectLedgerBalanced(f, [f.usdcAddress, f.daiAddress], payers, apiIds);
  });

  function subscribe(payer: Payer, apiId: bigint, periods = 1, token = f.usdcAddress, max = MaxUint256) {
    return f.subscriptions.connect(payer).subscribe(apiId, token, periods, max);
  }

  /** Registers another USDC-priced API (apiInput defaults unless overridden) and returns its id. */
  async function registerUsdcApi(pricing: Record<string, unknown> = {}): Promise<bigint> {
    const input = apiInput(f.usdcAddress);
    input.pricing = { ...input.pricing, ...pricing };
    await f.registry.connect(f.provider).register(input);
    return f.registry.apiCount();
  }

  async function paidUntil(id: bigint | number): Promise<bigint> {
    return (await f.subscriptions.getSubscription(id)).paidUntil;
  }

  /** Makes the next block's timestamp exactly `t`. */
  async function at(t: bigint): Promise<void> {
    await networkHelpers.time.setNextBlockTimestamp(t);
  }

  // -------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired as the deploy params say", async () => {
      expect(await f.subscriptions.registry()).to.equal(await f.registry.getAddress());
      expect(await f.subscriptions.quoter()).to.equal(await f.quoter.getAddress());
      expect(await f.subscriptions.treasury()).to.equal(f.deployer.address);
      expect(await f.subscriptions.authority()).to.equal(await f.accessManager.getAddress());
      expect(await f.subscriptions.protocolBps()).to.equal(PROTOCOL_BPS);
      expect(await f.subscriptions.subscriptionCount()).to.equal(0n);
      expect(await f.subscriptions.RENEWAL_WINDOW()).to.equal(WINDOW);
      expect(await f.subscriptions.MAX_PERIODS()).to.equal(36n);
      expect(await f.subscriptions.MAX_SCAN()).to.equal(500n);
      expect(await f.subscriptions.MAX_BATCH()).to.equal(50n);
      expect(await f.subscriptions.MAX_PROTOCOL_BPS()).to.equal(3000n);
    });

    it("constructor emits the treasury and protocol share", async () => {
      const fresh = await new Subscriptions__factory(f.deployer).deploy(
        await f.accessManager.getAddress(),
        await f.registry.getAddress(),
        await f.quoter.getAddress(),
        f.outsider.address,
        3000,
      );
      const tx = fresh.deploymentTransaction()!;
      await expect(tx).to.emit(fresh, "ProtocolBpsUpdated").withArgs(3000);
      await expect(tx).to.emit(fresh, "TreasuryUpdated").withArgs(f.outsider.address);
    });

    it("constructor rejects zero addresses, itself as treasury and a share above the cap", async () => {
      const factory = new Subscriptions__factory(f.deployer);
      const [am, reg, q] = [
        await f.accessManager.getAddress(),
        await f.registry.getAddress(),
        await f.quoter.getAddress(),
      ];
      const t = f.deployer.address;
      for (const args of [
        [ZeroAddress, reg, q, t, 500],
        [am, ZeroAddress, q, t, 500],
        [am, reg, ZeroAddress, t, 500],
        [am, reg, q, ZeroAddress, 500],
      ] as const) {
        await expect(factory.deploy(...args)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      }
      await expect(factory.deploy(am, reg, q, t, 3001))
        .to.be.revertedWithCustomError(factory, "ProtocolBpsTooHigh")
        .withArgs(3001, 3000);
      const self = getCreateAddress({
        from: f.deployer.address,
        nonce: await ethers.provider.getTransactionCount(f.deployer.address, "pending"),
      });
      await expect(factory.deploy(am, reg, q, self, 500))
        .to.be.revertedWithCustomError(factory, "InvalidTreasury")
        .withArgs(self);
    });
  });

  // -------------------------------------------------------------------- subscribe

  describe("subscribe", () => {
    it("pays N periods from the wallet and credits provider and protocol exactly", async () => {
      const walletBefore = await f.usdc.balanceOf(f.payer.address);
      const t = await nextTimestamp();
      const end = t + 3n * P;
      await expect(subscribe(f.payer, f.usdcApi, 3, f.usdcAddress, USDC_PER_PERIOD))
        .to.emit(f.subscriptions, "Subscribed")
        .withArgs(1, f.payer.address, f.usdcApi, f.usdcAddress, 3, USDC_PER_PERIOD, USDC_PER_PERIOD, PERIOD, end);

      const cost = 3n * USDC_PER_PERIOD; // 30 USDC
      expect(await f.usdc.balanceOf(f.payer.address)).to.equal(walletBefore - cost);
      expect(await f.usdc.balanceOf(f.subsAddress)).to.equal(cost);
      expect(await f.subscriptions.liabilities(f.usdcAddress)).to.equal(cost);
      const e = await f.subscriptions.apiEarnings(f.usdcAddress, f.usdcApi);
      expect([e.provider, e.protocol]).to.deep.equal([U("28.5"), U("1.5")]);

      const s = await f.subscriptions.getSubscription(1);
      expect(s.payer).to.equal(f.payer.address);
      expect(s.paidUntil).to.equal(end);
      expect(s.period).to.equal(P);
      expect(s.autoRenew).to.equal(true);
      expect(s.token).to.equal(f.usdcAddress);
      expect(s.apiId).to.equal(f.usdcApi);
      expect(s.maxPricePerPeriod).to.equal(USDC_PER_PERIOD);
      expect(await f.subscriptions.subscriptionIdOf(f.payer.address, f.usdcApi)).to.equal(1n);
      expect(await f.subscriptions.subscriptionCount()).to.equal(1n);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(true);
      expect(await f.subscriptions.isDue(1)).to.equal(false);
      expect(await f.subscriptions.renewableAt(1)).to.equal(end - WINDOW);
    });

    it("loses no dust on a discounted price that does not divide evenly", async () => {
      const odd = await registerUsdcApi({ pricePerCall: 333n, pricePerPeriod: 10_000_001n });
      await f.discounts.connect(f.payer).stake(E(1000)); // 5%
      // 10,000,001 x 0.95 = 9,500,000.95 -> 9,500,001 per period; x 7 = 66,500,007
      await expect(subscribe(f.payer, odd, 7))
        .to.emit(f.subscriptions, "Subscribed")
        .withArgs(1, f.payer.address, odd, f.usdcAddress, 7, 9_500_001n, MaxUint256, PERIOD, anyTimestamp());
      const e = await f.subscriptions.apiEarnings(f.usdcAddress, odd);
      // protocol: floor(66,500,007 x 5%) = 3,325,000; the provider gets the rest.
      expect([e.provider, e.protocol]).to.deep.equal([63_175_007n, 3_325_000n]);
      expect(e.provider + e.protocol).to.equal(66_500_007n);
      expect(await f.usdc.balanceOf(f.subsAddress)).to.equal(66_500_007n);
    });

    it("pays a USD-priced API in a token with a feed", async () => {
      await f.feed.setAnswer(300_000_000n); // DAI at $3: $25 = 8.333...34 DAI
      const price = 8_333_333_333_333_333_334n;
      await expect(subscribe(f.payer, f.usdApi, 2, f.daiAddress, E(9)))
        .to.emit(f.subscriptions, "Subscribed")
        .withArgs(1, f.payer.address, f.usdApi, f.daiAddress, 2, price, E(9), PERIOD, anyTimestamp());
      expect(await f.dai.balanceOf(f.subsAddress)).to.equal(2n * price);
      const e = await f.subscriptions.apiEarnings(f.daiAddress, f.usdApi);
      expect(e.protocol).to.equal((2n * price * PROTOCOL_BPS) / 10_000n);
      expect(e.provider + e.protocol).to.equal(2n * price);
    });

    it("charges the price limit exactly and refuses above it (PriceAboveLimit)", async () => {
      await expect(subscribe(f.payer, f.usdcApi, 1, f.usdcAddress, USDC_PER_PERIOD - 1n))
        .to.be.revertedWithCustomError(f.subscriptions, "PriceAboveLimit")
        .withArgs(USDC_PER_PERIOD, USDC_PER_PERIOD - 1n);
      await expect(subscribe(f.payer, f.usdcApi, 1, f.usdcAddress, USDC_PER_PERIOD)).not.to.revert(ethers);
    });

    it("takes 1 to MAX_PERIODS periods (InvalidPeriods)", async () => {
      for (const periods of [0, 37]) {
        await expect(subscribe(f.payer, f.usdcApi, periods))
          .to.be.revertedWithCustomError(f.subscriptions, "InvalidPeriods")
          .withArgs(periods, 36);
      }
      const t = await nextTimestamp();
      await subscribe(f.payer, f.usdcApi, 36);
      expect(await paidUntil(1)).to.equal(t + 36n * P);
    });

    it("requires an active API (ApiNotActive) that offers subscriptions (SubscriptionNotOffered)", async () => {
      await expect(subscribe(f.payer, 99n)).to.be.revertedWithCustomError(f.subscriptions, "ApiNotActive").withArgs(99);
      await f.registry.connect(f.provider).pause(f.usdcApi);
      await expect(subscribe(f.payer, f.usdcApi))
        .to.be.revertedWithCustomError(f.subscriptions, "ApiNotActive")
        .withArgs(f.usdcApi);
      const callsOnly = await registerUsdcApi({ models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0 });
      await expect(subscribe(f.payer, callsOnly))
        .to.be.revertedWithCustomError(f.subscriptions, "SubscriptionNotOffered")
        .withArgs(callsOnly);
    });

    it("fails with the quoter's and oracle's errors: wrong token, no feed, stale price", async () => {
      await expect(subscribe(f.payer, f.usdcApi, 1, f.daiAddress))
        .to.be.revertedWithCustomError(f.quoter, "TokenNotAccepted")
        .withArgs(f.usdcApi, f.daiAddress);
      await expect(subscribe(f.payer, f.usdApi, 1, f.usdcAddress))
        .to.be.revertedWithCustomError(f.oracle, "NoFeed")
        .withArgs(f.usdcAddress);
      const updatedAt = await minedAt(await f.feed.setAnswer(100_000_000n));
      await networkHelpers.time.increase(HEARTBEAT + 1);
      await expect(subscribe(f.payer, f.usdApi, 1, f.daiAddress))
        .to.be.revertedWithCustomError(f.oracle, "StalePrice")
        .withArgs(f.daiAddress, updatedAt, HEARTBEAT);
    });

    it("refuses a fee-on-transfer token (UnexpectedReceipt)", async () => {
      const fee = await new MockFeeToken__factory(f.deployer).deploy();
      const feeAddress = await fee.getAddress();
      await f.registry.connect(f.provider).register(apiInput(feeAddress));
      const apiId = await f.registry.apiCount();
      await fee.mint(f.payer.address, E(1));
      await fee.connect(f.payer).approve(f.subsAddress, MaxUint256);
      // 10,000,000 sent, 1% burnt on the way.
      await expect(subscribe(f.payer, apiId, 1, feeAddress))
        .to.be.revertedWithCustomError(f.subscriptions, "UnexpectedReceipt")
        .withArgs(feeAddress, 10_000_000n, 9_900_000n);
      await expect(f.subscriptions.connect(f.payer).depositBalance(feeAddress, 1000n))
        .to.be.revertedWithCustomError(f.subscriptions, "UnexpectedReceipt")
        .withArgs(feeAddress, 1000n, 990n);
    });

    it("extends from paidUntil while active, from now after a lapse, and replaces token and limit", async () => {
      const usdcFeed = await new MockAggregatorV3__factory(f.deployer).deploy(8, 100_000_000n);
      await f.oracle.setFeed(f.usdcAddress, await usdcFeed.getAddress(), HEARTBEAT);

      const t0 = await minedAt(await subscribe(f.payer, f.usdApi, 1, f.daiAddress, E(30)));
      await f.subscriptions.connect(f.payer).cancel(f.usdApi);

      // Ten days in, two more periods in USDC: from the old paidUntil, renewal back on.
      await networkHelpers.time.increase(10 * DAY);
      await usdcFeed.setAnswer(100_000_000n);
      await expect(subscribe(f.payer, f.usdApi, 2, f.usdcAddress, U(26)))
        .to.emit(f.subscriptions, "Subscribed")
        .withArgs(1, f.payer.address, f.usdApi, f.usdcAddress, 2, U(25), U(26), PERIOD, t0 + 3n * P);
      let s = await f.subscriptions.getSubscription(1);
      expect([s.token, s.maxPricePerPeriod, s.autoRenew, s.paidUntil]).to.deep.equal([
        f.usdcAddress,
        U(26),
        true,
        t0 + 3n * P,
      ]);
      expect(await f.subscriptions.subscriptionCount()).to.equal(1n);

      // Lapsed for five days: the next subscription starts now.
      await networkHelpers.time.increaseTo(t0 + 3n * P + 5n * WINDOW);
      await usdcFeed.setAnswer(100_000_000n);
      const t1 = await nextTimestamp();
      await subscribe(f.payer, f.usdApi, 1, f.usdcAddress, U(26));
      s = await f.subscriptions.getSubscription(1);
      expect(s.paidUntil).to.equal(t1 + P);
    });
  });

  // -------------------------------------------------------------------- prepaid balance

  describe("prepaid balance", () => {
    it("deposits add to the balance and to liabilities", async () => {
      await expect(f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(20)))
        .to.emit(f.subscriptions, "BalanceDeposited")
        .withArgs(f.payer.address, f.usdcAddress, U(20), U(20));
      await expect(f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(5)))
        .to.emit(f.subscriptions, "BalanceDeposited")
        .withArgs(f.payer.address, f.usdcAddress, U(5), U(25));
      expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(U(25));
      expect(await f.subscriptions.liabilities(f.usdcAddress)).to.equal(U(25));
      expect(await f.usdc.balanceOf(f.subsAddress)).to.equal(U(25));
    });

    it("withdrawals pay back at once", async () => {
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(20));
      const before = await f.usdc.balanceOf(f.payer.address);
      await expect(f.subscriptions.connect(f.payer).withdrawBalance(f.usdcAddress, U(15)))
        .to.emit(f.subscriptions, "BalanceWithdrawn")
        .withArgs(f.payer.address, f.usdcAddress, U(15), U(5));
      expect(await f.usdc.balanceOf(f.payer.address)).to.equal(before + U(15));
      expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(U(5));
      expect(await f.subscriptions.liabilities(f.usdcAddress)).to.equal(U(5));
    });

    it("rejects zero amounts (ZeroAmount) and overdrafts (InsufficientPrepaidBalance)", async () => {
      await expect(f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, 0)).to.be.revertedWithCustomError(
        f.subscriptions,
        "ZeroAmount",
      );
      await expect(f.subscriptions.connect(f.payer).withdrawBalance(f.usdcAddress, 0)).to.be.revertedWithCustomError(
        f.subscriptions,
        "ZeroAmount",
      );
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(1));
      await expect(f.subscriptions.connect(f.payer).withdrawBalance(f.usdcAddress, U(1) + 1n))
        .to.be.revertedWithCustomError(f.subscriptions, "InsufficientPrepaidBalance")
        .withArgs(f.payer.address, f.usdcAddress, U(1) + 1n, U(1));
      // Another payer's balance is not the caller's.
      await expect(f.subscriptions.connect(f.payer2).withdrawBalance(f.usdcAddress, 1n))
        .to.be.revertedWithCustomError(f.subscriptions, "InsufficientPrepaidBalance")
        .withArgs(f.payer2.address, f.usdcAddress, 1n, 0n);
    });
  });

  // -------------------------------------------------------------------- renew

  describe("renew", () => {
    it("charges the current quote from the prepaid balance and extends by one period", async () => {
      await subscribe(f.payer, f.usdcApi, 1, f.usdcAddress, U(10));
      const end = await paidUntil(1);
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(25));
      const held = await f.usdc.balanceOf(f.subsAddress);

      // Due exactly RENEWAL_WINDOW before paidUntil, not a second earlier.
      await at(end - WINDOW - 1n);
      await expect(f.subscriptions.connect(f.outsider).renew(1))
        .to.be.revertedWithCustomError(f.subscriptions, "NotDue")
        .withArgs(1, end - WINDOW);
      await at(end - WINDOW);
      await expect(f.subscriptions.connect(f.outsider).renew(1))
        .to.emit(f.subscriptions, "Renewed")
        .withArgs(1, f.payer.address, f.usdcApi, f.usdcAddress, U(10), PERIOD, end + P);

      expect(await paidUntil(1)).to.equal(end + P);
      expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(U(15));
      // No tokens move: prepaid money becomes earnings, still owed by the contract.
      expect(await f.usdc.balanceOf(f.subsAddress)).to.equal(held);
      expect(await f.subscriptions.liabilities(f.usdcAddress)).to.equal(U(35));
      const e = await f.subscriptions.apiEarnings(f.usdcAddress, f.usdcApi);
      expect([e.provider, e.protocol]).to.deep.equal([U(19), U(1)]);

      // Renewed: not due again until the new window.
      await expect(f.subscriptions.renew(1))
        .to.be.revertedWithCustomError(f.subscriptions, "NotDue")
        .withArgs(1, end + P - WINDOW);
    });

    it("after a lapse extends from now, not from the old paidUntil", async () => {
      await subscribe(f.payer, f.usdcApi);
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(10));
      const end = await paidUntil(1);
      await at(end + 3n * WINDOW);
      await expect(f.subscriptions.renew(1))
        .to.emit(f.subscriptions, "Renewed")
        .withArgs(1, f.payer.address, f.usdcApi, f.usdcAddress, U(10), PERIOD, end + 3n * WINDOW + P);
    });

    it("uses a window of half the period for short periods, so one renewal ends the due state", async () => {
      const hourly = await registerUsdcApi({ period: 3600 });
      const t = await minedAt(await subscribe(f.payer, hourly));
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(100));
      expect(await f.subscriptions.renewableAt(1)).to.equal(t + 1800n);
      await at(t + 1800n);
      await expect(f.subscriptions.renew(1))
        .to.emit(f.subscriptions, "Renewed")
        .withArgs(1, f.payer.address, hourly, f.usdcAddress, U(10), 3600, t + 7200n);
      await expect(f.subscriptions.renew(1))
        .to.be.revertedWithCustomError(f.subscriptions, "NotDue")
        .withArgs(1, t + 5400n);
      expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(U(90));
    });

    it("charges the payer's discount and the API's period as they are at renewal", async () => {
      await subscribe(f.payer, f.usdcApi);
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(10));
      await f.discounts.connect(f.payer).stake(E(10000)); // 10%
      await f.registry
        .connect(f.provider)
        .setPricing(f.usdcApi, { ...apiInput(f.usdcAddress).pricing, period: 7 * DAY });
      const end = await paidUntil(1);
      await at(end - WINDOW);
      await expect(f.subscriptions.renew(1))
        .to.emit(f.subscriptions, "Renewed")
        .withArgs(1, f.payer.address, f.usdcApi, f.usdcAddress, U(9), 7 * DAY, end + BigInt(7 * DAY));
      expect((await f.subscriptions.getSubscription(1)).period).to.equal(BigInt(7 * DAY));
    });

    it("rejects unknown ids (SubscriptionNotFound) and cancelled ones (RenewalDisabled)", async () => {
      await expect(f.subscriptions.renew(7))
        .to.be.revertedWithCustomError(f.subscriptions, "SubscriptionNotFound")
        .withArgs(7);
      await subscribe(f.payer, f.usdcApi);
      await f.subscriptions.connect(f.payer).cancel(f.usdcApi);
      await networkHelpers.time.increaseTo((await paidUntil(1)) + 1n);
      await expect(f.subscriptions.renew(1))
        .to.be.revertedWithCustomError(f.subscriptions, "RenewalDisabled")
        .withArgs(1);
    });
  });

  // -------------------------------------------------------------------- failures: renew & upkeep

  /**
   * Every way a due renewal can fail. `renew` reverts with the error; `performUpkeep` emits
   * RenewalFailed(id, that error ABI-encoded) and switches auto-renewal off. The subscription
   * is 1 period of API 1 in USDC (limit 10 USDC) or of API 2 in DAI (limit 30 DAI), with
   * 100 USDC and 100 DAI prepaid, at its renewal time.
   */
  interface Setup {
    name: string;
    usd?: boolean;
    prepaid?: bigint;
    breakIt?: (f: SubsFixture) => Promise<unknown>;
  }
  let feedUpdatedAt = 0n;
  const failures: (Setup & { error: (f: SubsFixture) => [BaseContract, string, unknown[]] })[] = [
    {
      name: "API paused",
      breakIt: (f) => f.registry.connect(f.provider).pause(f.usdcApi),
      error: (f) => [f.subscriptions, "ApiNotActive", [f.usdcApi]],
    },
    {
      name: "API retired",
      usd: true,
      breakIt: (f) => f.registry.connect(f.provider).retire(f.usdApi),
      error: (f) => [f.subscriptions, "ApiNotActive", [f.usdApi]],
    },
    {
      name: "subscription model withdrawn",
      breakIt: (f) =>
        f.registry.connect(f.provider).setPricing(f.usdcApi, {
          ...apiInput(f.usdcAddress).pricing,
          models: MODEL_PAY_PER_CALL,
          period: 0,
          pricePerPeriod: 0,
        }),
      error: (f) => [f.subscriptions, "SubscriptionNotOffered", [f.usdcApi]],
    },
    {
      name: "price raised above the payer's limit",
      breakIt: (f) =>
        f.registry
          .connect(f.provider)
          .setPricing(f.usdcApi, { ...apiInput(f.usdcAddress).pricing, pricePerPeriod: U(10) + 1n }),
      error: (f) => [f.subscriptions, "PriceAboveLimit", [U(10) + 1n, U(10)]],
    },
    {
      name: "prepaid balance short by one unit",
      prepaid: U(10) - 1n,
      error: (f) => [
        f.subscriptions,
        "InsufficientPrepaidBalance",
        [f.payer.address, f.usdcAddress, U(10), U(10) - 1n],
      ],
    },
    {
      name: "payment token changed by the provider",
      breakIt: (f) => f.registry.connect(f.provider).setPricing(f.usdcApi, apiInput(f.daiAddress).pricing),
      error: (f) => [f.quoter, "TokenNotAccepted", [f.usdcApi, f.usdcAddress]],
    },
    {
      name: "stale price feed (USD API fails closed)",
      usd: true,
      breakIt: () => Promise.resolve(), // the renewal time is > 1 h after the last answer
      error: (f) => [f.oracle, "StalePrice", [f.daiAddress, feedUpdatedAt, HEARTBEAT]],
    },
    {
      name: "feed removed",
      usd: true,
      breakIt: (f) => f.oracle.removeFeed(f.daiAddress),
      error: (f) => [f.oracle, "NoFeed", [f.daiAddress]],
    },
    {
      name: "quote reverting without data",
      usd: true,
      // A "feed" with decimals() but no latestRoundData(): the call reverts with no data.
      breakIt: (f) => f.oracle.setFeed(f.daiAddress, f.usdcAddress, HEARTBEAT),
      error: (f) => [f.subscriptions, "QuoteFailed", [f.usdApi, f.daiAddress]],
    },
  ];

  /** Subscribes as described above and moves to the renewal time (fresh feed unless stale). */
  async function dueSubscription(c: Setup): Promise<bigint> {
    const [apiId, token, max] = c.usd ? [f.usdApi, f.daiAddress, E(30)] : [f.usdcApi, f.usdcAddress, U(10)];
    await subscribe(f.payer, apiId, 1, token, max);
    await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, c.prepaid ?? U(100));
    await f.subscriptions.connect(f.payer).depositBalance(f.daiAddress, E(100));
    const due = (await paidUntil(1)) - WINDOW;
    await networkHelpers.time.increaseTo(due);
    feedUpdatedAt = await minedAt(await f.feed.setAnswer(100_000_000n));
    if (c.name.startsWith("stale")) await networkHelpers.time.increaseTo(due + BigInt(HEARTBEAT) + 1n);
    await c.breakIt?.(f);
    return 1n;
  }

  describe("renewal failures", () => {
    for (const c of failures) {
      it(`${c.name}: renew reverts with it`, async () => {
        const id = await dueSubscription(c);
        const [contract, name, args] = c.error(f);
        const before = await f.subscriptions.getSubscription(id);
        await expect(f.subscriptions.renew(id))
          .to.be.revertedWithCustomError(contract, name)
          .withArgs(...args);
        expect(await f.subscriptions.getSubscription(id)).to.deep.equal(before);
      });

      it(`${c.name}: performUpkeep logs RenewalFailed and turns auto-renewal off`, async () => {
        const id = await dueSubscription(c);
        const [contract, name, args] = c.error(f);
        const reason = contract.interface.encodeErrorResult(name, args);
        const prepaid = await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress);
        const end = await paidUntil(id);
        await expect(f.subscriptions.connect(f.outsider).performUpkeep(idsData([id])))
          .to.emit(f.subscriptions, "RenewalFailed")
          .withArgs(id, reason)
          .and.not.to.emit(f.subscriptions, "Renewed");
        const s = await f.subscriptions.getSubscription(id);
        expect(s.autoRenew).to.equal(false);
        expect(s.paidUntil).to.equal(end);
        expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(prepaid);
        // Keepers stop seeing it.
        expect((await f.subscriptions.checkUpkeep(checkData(1, 10)))[0]).to.equal(false);
        await expect(f.subscriptions.renew(id))
          .to.be.revertedWithCustomError(f.subscriptions, "RenewalDisabled")
          .withArgs(id);
      });
    }

    it("a fresh price after a stale one renews the USD subscription", async () => {
      const c = failures.find((x) => x.name.startsWith("stale"))!;
      await dueSubscription(c);
      await f.feed.setAnswer(200_000_000n); // DAI at $2: $25 = 12.5 DAI
      await expect(f.subscriptions.renew(1))
        .to.emit(f.subscriptions, "Renewed")
        .withArgs(1, f.payer.address, f.usdApi, f.daiAddress, E("12.5"), PERIOD, (await paidUntil(1)) + P);
    });

    it("a quote starved of gas by the caller reverts the upkeep (InsufficientGas) instead of failing it", async () => {
      await dueSubscription({ name: "gas", usd: true });
      const data = idsData([1]);
      const needed = await f.subscriptions.performUpkeep.estimateGas(data);
      // Somewhere below what the upkeep needs, the quote runs out of gas while the upkeep can
      // still revert: search downwards for it.
      let found = false;
      for (let gasLimit = needed - 5_000n; gasLimit > 40_000n && !found; gasLimit -= 1_000n) {
        try {
          await expect(f.subscriptions.performUpkeep(data, { gasLimit })).to.be.revertedWithCustomError(
            f.subscriptions,
            "InsufficientGas",
          );
          found = true;
        } catch {
          // out of gas elsewhere, or the quote still had enough: try less
        }
      }
      expect(found, "some gas limit starves the quote").to.equal(true);
      expect((await f.subscriptions.getSubscription(1)).autoRenew).to.equal(true);
    });
  });

  // -------------------------------------------------------------------- cancel & access

  describe("cancel and access", () => {
    it("stops the next renewal; access lasts until paidUntil, exclusive", async () => {
      await subscribe(f.payer, f.usdcApi);
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(10));
      const end = await paidUntil(1);
      await expect(f.subscriptions.connect(f.payer).cancel(f.usdcApi))
        .to.emit(f.subscriptions, "SubscriptionCancelled")
        .withArgs(1, f.payer.address, f.usdcApi, end);
      expect((await f.subscriptions.getSubscription(1)).autoRenew).to.equal(false);

      await networkHelpers.time.increaseTo(end - 1n);
      expect(await f.subscriptions.isDue(1)).to.equal(false);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(true);
      expect((await f.subscriptions.checkUpkeep(checkData(1, 1)))[0]).to.equal(false);
      await networkHelpers.time.increaseTo(end);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(false);
      // Nothing was charged.
      expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(U(10));
    });

    it("an auto-renewed subscription keeps access across the expiry second", async () => {
      await subscribe(f.payer, f.usdcApi);
      await f.subscriptions.connect(f.payer).depositBalance(f.usdcAddress, U(10));
      const end = await paidUntil(1);
      await networkHelpers.time.increaseTo(end - WINDOW);
      await f.subscriptions.performUpkeep((await f.subscriptions.checkUpkeep(checkData(1, 1)))[1]);
      await networkHelpers.time.increaseTo(end);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(true);
      await networkHelpers.time.increaseTo(end + P - 1n);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(true);
      await networkHelpers.time.increaseTo(end + P);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(false);
    });

    it("rejects a payer without a subscription (NotSubscribed) and a second cancel (RenewalDisabled)", async () => {
      await expect(f.subscriptions.connect(f.payer).cancel(f.usdcApi))
        .to.be.revertedWithCustomError(f.subscriptions, "NotSubscribed")
        .withArgs(f.payer.address, f.usdcApi);
      await subscribe(f.payer, f.usdcApi);
      await expect(f.subscriptions.connect(f.payer2).cancel(f.usdcApi))
        .to.be.revertedWithCustomError(f.subscriptions, "NotSubscribed")
        .withArgs(f.payer2.address, f.usdcApi);
      await f.subscriptions.connect(f.payer).cancel(f.usdcApi);
      await expect(f.subscriptions.connect(f.payer).cancel(f.usdcApi))
        .to.be.revertedWithCustomError(f.subscriptions, "RenewalDisabled")
        .withArgs(1);
    });

    it("views: unknown ids (SubscriptionNotFound), nobody subscribed", async () => {
      await expect(f.subscriptions.getSubscription(5))
        .to.be.revertedWithCustomError(f.subscriptions, "SubscriptionNotFound")
        .withArgs(5);
      await expect(f.subscriptions.renewableAt(0))
        .to.be.revertedWithCustomError(f.subscriptions, "SubscriptionNotFound")
        .withArgs(0);
      expect(await f.subscriptions.isSubscribed(f.payer.address, f.usdcApi)).to.equal(false);
      expect(await f.subscriptions.isDue(5)).to.equal(false);
      expect(await f.subscriptions.subscriptionIdOf(f.payer.address, f.usdcApi)).to.equal(0n);
    });
  });

  // -------------------------------------------------------------------- automation

  describe("Chainlink Automation", () => {
    /**
     * Six subscriptions at the renewal time of the one-period ones:
     * 1 payer/API1 (due), 2 payer2/API1 2 periods, 3 payer/API3 (due), 4 payer2/API3 cancelled,
     * 5 payer/API4 (due), 6 payer2/API4 3 periods. The payer prepaid 20 USDC: enough for two.
     */
    async function mixedFixture() {
      const g = await subscriptionsFixture();
      const usdc = g.usdcAddress;
      for (let i = 0; i < 2; ++i) await g.registry.connect(g.provider).register(apiInput(usdc));
      const plan: [Payer, bigint, number][] = [
        [g.payer, 1n, 1],
        [g.payer2, 1n, 2],
        [g.payer, 3n, 1],
        [g.payer2, 3n, 1],
        [g.payer, 4n, 1],
        [g.payer2, 4n, 3],
      ];
      let last = 0n;
      for (const [p, apiId, periods] of plan) {
        last = await minedAt(await g.subscriptions.connect(p).subscribe(apiId, usdc, periods, U(10)));
      }
      await g.subscriptions.connect(g.payer2).cancel(3n);
      await g.subscriptions.connect(g.payer).depositBalance(usdc, U(20));
      await networkHelpers.time.increaseTo(last + P - WINDOW);
      return g;
    }

    async function renewedIn(tx: ContractTransactionResponse): Promise<bigint[]> {
      const receipt = (await tx.wait())!;
      return receipt.logs
        .map((l) => f.subscriptions.interface.parseLog(l))
        .filter((e) => e?.name === "Renewed")
        .map((e) => e!.args[0] as bigint);
    }

    it("checkUpkeep finds exactly the due subscriptions within the scanned range", async () => {
      f = await networkHelpers.loadFixture(mixedFixture);
      const cases: [number | bigint, number | bigint, number[]][] = [
        [1, 10, [1, 3, 5]],
        [1, 6, [1, 3, 5]],
        [0, 3, [1, 3]], // start 0 is read as 1
        [2, 2, [3]],
        [4, 1, []],
        [5, 1, [5]],
        [6, 100, []],
        [7, 10, []],
        [1, MaxUint256, [1, 3, 5]],
        [MaxUint256, MaxUint256, []],
      ];
      for (const [start, count, due] of cases) {
        const [needed, performData] = await f.subscriptions.checkUpkeep(checkData(start, count));
        expect(needed, `(${start}, ${count})`).to.equal(due.length > 0);
        expect(abi.decode(["uint256[]"], performData)[0].map(BigInt), `(${start}, ${count})`).to.deep.equal(
          due.map(BigInt),
        );
      }
    });

    it("performUpkeep renews what is due, skips the rest silently, fails the unrenewable", async () => {
      f = await networkHelpers.loadFixture(mixedFixture);
      const ends = await Promise.all([1, 2, 3, 4, 5, 6].map((id) => paidUntil(id)));
      const [, performData] = await f.subscriptions.checkUpkeep(checkData(1, 10));
      // Anyone may send anything: not-due, cancelled, unknown and repeated ids are skipped.
      const [ids] = abi.decode(["uint256[]"], performData);
      const tx = await f.subscriptions.connect(f.outsider).performUpkeep(idsData([...ids, 2, 4, 6, 99, 0, 1]));
      const reason = f.subscriptions.interface.encodeErrorResult("InsufficientPrepaidBalance", [
        f.payer.address,
        f.usdcAddress,
        U(10),
        0n,
      ]);
      await expect(tx).to.emit(f.subscriptions, "RenewalFailed").withArgs(5, reason);
      expect(await renewedIn(tx)).to.deep.equal([1n, 3n]);

      const after = await Promise.all([1, 2, 3, 4, 5, 6].map((id) => f.subscriptions.getSubscription(id)));
      expect(after.map((s) => s.paidUntil)).to.deep.equal([
        ends[0]! + P,
        ends[1],
        ends[2]! + P,
        ends[3],
        ends[4],
        ends[5],
      ]);
      expect(after.map((s) => s.autoRenew)).to.deep.equal([true, true, true, false, false, true]);
      expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(0n);

      // Nothing is due any more; a repeat does nothing.
      expect((await f.subscriptions.checkUpkeep(checkData(1, 10)))[0]).to.equal(false);
      const repeat = await f.subscriptions.performUpkeep(performData);
      expect(await renewedIn(repeat)).to.deep.equal([]);
      await expect(repeat).not.to.emit(f.subscriptions, "RenewalFailed");
    });

    it("performUpkeep with no ids does nothing", async () => {
      await expect(f.subscriptions.performUpkeep(idsData([]))).not.to.revert(ethers);
    });

    describe("with 55 due subscriptions", () => {
      async function manyFixture() {
        const g = await subscriptionsFixture();
        const input = apiInput(g.usdcAddress);
        for (let i = 0; i < 53; ++i) await g.registry.connect(g.provider).register(input);
        let last = 0n;
        for (let apiId = 1n; apiId <= 55n; ++apiId) {
          const token = apiId === g.usdApi ? g.daiAddress : g.usdcAddress;
          last = await minedAt(await g.subscriptions.connect(g.payer).subscribe(apiId, token, 1, MaxUint256));
        }
        await g.usdc.mint(g.payer.address, U(540));
        await g.subscriptions.connect(g.payer).depositBalance(g.usdcAddress, U(540));
        await g.subscriptions.connect(g.payer).depositBalance(g.daiAddress, E(25));
        await networkHelpers.time.increaseTo(last + P - WINDOW);
        await g.feed.setAnswer(100_000_000n);
        return g;
      }

      it("checkUpkeep returns at most MAX_BATCH ids; the next range gets the rest", async () => {
        f = await networkHelpers.loadFixture(manyFixture);
        const first = await f.subscriptions.checkUpkeep(checkData(1, 500));
        expect(first[0]).to.equal(true);
        const firstIds = abi.decode(["uint256[]"], first[1])[0].map(BigInt);
        expect(firstIds).to.deep.equal(Array.from({ length: 50 }, (_, i) => BigInt(i + 1)));
        const rest = abi.decode(["uint256[]"], (await f.subscriptions.checkUpkeep(checkData(51, 500)))[1])[0];
        expect(rest.map(BigInt)).to.deep.equal([51n, 52n, 53n, 54n, 55n]);
      });

      it("performUpkeep renews a full batch and rejects a larger one (BatchTooLarge)", async () => {
        f = await networkHelpers.loadFixture(manyFixture);
        const all = Array.from({ length: 51 }, (_, i) => i + 1);
        await expect(f.subscriptions.performUpkeep(idsData(all)))
          .to.be.revertedWithCustomError(f.subscriptions, "BatchTooLarge")
          .withArgs(51, 50);
        const [, performData] = await f.subscriptions.checkUpkeep(checkData(1, 500));
        const tx = await f.subscriptions.performUpkeep(performData);
        expect(await renewedIn(tx)).to.deep.equal(all.slice(0, 50).map(BigInt));
        expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.usdcAddress)).to.equal(U(50));
        expect(await f.subscriptions.prepaidBalanceOf(f.payer.address, f.daiAddress)).to.equal(0n);
        expect((await tx.wait())!.gasUsed).to.be.lessThan(5_000_000n);
      });
    });

    it("checkUpkeep scans at most MAX_SCAN ids", async () => {
      // 600 ids in use (storage set directly: creating 600 subscriptions would be slow); the
      // only real subscription gets id 601.
      const countSlot = toBeHex(SUBSCRIPTION_COUNT_SLOT, 32);
      expect(await ethers.provider.getStorage(f.subsAddress, SUBSCRIPTION_COUNT_SLOT)).to.equal(toBeHex(0, 32));
      await networkHelpers.setStorageAt(f.subsAddress, countSlot, 600);
      expect(await f.subscriptions.subscriptionCount()).to.equal(600n);
      await subscribe(f.payer, f.usdcApi);
      expect(await f.subscriptions.subscriptionIdOf(f.payer.address, f.usdcApi)).to.equal(601n);
      await networkHelpers.time.increaseTo(await f.subscriptions.renewableAt(601));

      const cases: [number, number, number[]][] = [
        [1, 1000, []], // 1..500
        [101, 1000, []], // 101..600
        [102, 1000, [601]], // 102..601
        [102, 499, []], // 102..600
        [102, 500, [601]],
        [601, 1, [601]],
      ];
      for (const [start, count, due] of cases) {
        const [needed, performData] = await f.subscriptions.checkUpkeep(checkData(start, count));
        expect(needed, `(${start}, ${count})`).to.equal(due.length > 0);
        expect(abi.decode(["uint256[]"], performData)[0].map(BigInt)).to.deep.equal(due.map(BigInt));
      }
    });

    it("malformed checkData or performData reverts", async () => {
      await expect(f.subscriptions.checkUpkeep("0x")).to.revert(ethers);
      await expect(f.subscriptions.performUpkeep("0x1234")).to.revert(ethers);
    });
  });

  // -------------------------------------------------------------------- earnings & governance

  describe("earnings", () => {
    it("the provider claims its share and the treasury collects the protocol's", async () => {
      await subscribe(f.payer, f.usdcApi, 2);
      const provider = U(19);
      const protocol = U(1);
      const before = await f.usdc.balanceOf(f.provider.address);
      await expect(f.subscriptions.connect(f.provider).claimProviderEarnings(f.usdcApi, f.usdcAddress))
        .to.emit(f.subscriptions, "ProviderEarningsClaimed")
        .withArgs(f.usdcApi, f.provider.address, f.usdcAddress, provider);
      expect(await f.usdc.balanceOf(f.provider.address)).to.equal(before + provider);
      const treasuryBefore = await f.usdc.balanceOf(f.deployer.address);
      await expect(f.subscriptions.connect(f.outsider).collectProtocolFees(f.usdcAddress, [f.usdcApi]))
        .to.emit(f.subscriptions, "ProtocolFeesCollected")
        .withArgs(f.usdcAddress, f.deployer.address, protocol);
      expect(await f.usdc.balanceOf(f.deployer.address)).to.equal(treasuryBefore + protocol);
      expect(await f.usdc.balanceOf(f.subsAddress)).to.equal(0n);
      expect(await f.subscriptions.liabilities(f.usdcAddress)).to.equal(0n);
    });

    it("rejects claims by others (NotApiProvider) and empty claims (NothingToClaim)", async () => {
      await subscribe(f.payer, f.usdcApi);
      await expect(f.subscriptions.connect(f.payer).claimProviderEarnings(f.usdcApi, f.usdcAddress))
        .to.be.revertedWithCustomError(f.subscriptions, "NotApiProvider")
        .withArgs(f.usdcApi, f.payer.address);
      await expect(
        f.subscriptions.connect(f.provider).claimProviderEarnings(f.usdcApi, f.daiAddress),
      ).to.be.revertedWithCustomError(f.subscriptions, "NothingToClaim");
      await expect(f.subscriptions.collectProtocolFees(f.daiAddress, [f.usdcApi])).to.be.revertedWithCustomError(
        f.subscriptions,
        "NothingToClaim",
      );
    });
  });

  describe("governance", () => {
    it("setProtocolBps applies to later payments, up to MAX_PROTOCOL_BPS (ProtocolBpsTooHigh)", async () => {
      await expect(f.subscriptions.setProtocolBps(3000)).to.emit(f.subscriptions, "ProtocolBpsUpdated").withArgs(3000);
      expect(await f.subscriptions.protocolBps()).to.equal(3000n);
      await expect(f.subscriptions.setProtocolBps(3001))
        .to.be.revertedWithCustomError(f.subscriptions, "ProtocolBpsTooHigh")
        .withArgs(3001, 3000);
      await subscribe(f.payer, f.usdcApi);
      let e = await f.subscriptions.apiEarnings(f.usdcAddress, f.usdcApi);
      expect([e.provider, e.protocol]).to.deep.equal([U(7), U(3)]);

      await f.subscriptions.setProtocolBps(0);
      await subscribe(f.payer2, f.usdcApi);
      e = await f.subscriptions.apiEarnings(f.usdcAddress, f.usdcApi);
      expect([e.provider, e.protocol]).to.deep.equal([U(17), U(3)]);
    });

    it("setTreasury moves protocol fees elsewhere (ZeroAddress, InvalidTreasury)", async () => {
      await expect(f.subscriptions.setTreasury(f.outsider.address))
        .to.emit(f.subscriptions, "TreasuryUpdated")
        .withArgs(f.outsider.address);
      await expect(f.subscriptions.setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        f.subscriptions,
        "ZeroAddress",
      );
      await expect(f.subscriptions.setTreasury(f.subsAddress))
        .to.be.revertedWithCustomError(f.subscriptions, "InvalidTreasury")
        .withArgs(f.subsAddress);
    });
  });
});

/** Any uint40 timestamp (for events whose exact time another assertion checks). */
function anyTimestamp() {
  return (v: bigint) => v > 0n && v < 2n ** 40n;
}
