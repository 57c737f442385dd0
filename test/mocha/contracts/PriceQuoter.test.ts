import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { MockAggregatorV3__factory, PriceQuoter__factory } from "../../../types/ethers-contracts/index.js";
import { apiInput, MODEL_PAY_PER_CALL, MODEL_SUBSCRIPTION, networkHelpers } from "../helpers/fixture.js";
import { minedAt } from "../helpers/staking.js";
import {
  HEARTBEAT,
  PERIOD,
  subscriptionsFixture,
  USD_PER_CALL,
  USD_PER_PERIOD,
  USDC_PER_CALL,
  USDC_PER_PERIOD,
  usdPricing,
  type SubsFixture,
} from "../helpers/subscriptions.js";

const E = (n: string | number) => parseEther(String(n));

/** The subscriptions fixture plus: API 3 in USDC with prices that do not divide evenly, and
 *  API 4 in USDC without staker discounts. */
async function quoterFixture() {
  const f = await subscriptionsFixture();
  const usdc = f.usdcAddress;
  const odd = apiInput(usdc);
  odd.pricing = { ...odd.pricing, pricePerCall: 333n, pricePerPeriod: 10_000_001n };
  await f.registry.connect(f.provider).register(odd);
  const plain = apiInput(usdc);
  plain.pricing = { ...plain.pricing, stakerDiscount: false };
  await f.registry.connect(f.provider).register(plain);
  return { ...f, oddApi: 3n, plainApi: 4n };
}

describe("PriceQuoter", () => {
  let f: SubsFixture & { oddApi: bigint; plainApi: bigint };

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(quoterFixture);
  });

  /** Stakes so that `payer` reaches the tier with `bps` (deploy default tiers). */
  async function stakeFor(bps: 500 | 1000 | 2000, payer = f.payer) {
    const amount = { 500: E(1000), 1000: E(10000), 2000: E(100000) }[bps];
    await f.discounts.connect(payer).stake(amount);
    expect(await f.discounts.discountBpsOf(payer.address)).to.equal(BigInt(bps));
  }

  /** quote, quoteCall and quotePeriod agree and give exactly these numbers. */
  async function expectQuote(apiId: bigint, token: string, payer: string, perCall: bigint, perPeriod: bigint) {
    const period = perPeriod === 0n ? 0n : BigInt(PERIOD);
    expect([...(await f.quoter.quote(apiId, token, payer))]).to.deep.equal([perCall, perPeriod, period]);
    expect(await f.quoter.quoteCall(apiId, token, payer)).to.equal(perCall);
    expect([...(await f.quoter.quotePeriod(apiId, token, payer))]).to.deep.equal([perPeriod, period]);
  }

  describe("deployment", () => {
    it("is wired to the registry, oracle and discounts", async () => {
      expect(await f.quoter.registry()).to.equal(await f.registry.getAddress());
      expect(await f.quoter.oracle()).to.equal(await f.oracle.getAddress());
      expect(await f.quoter.discounts()).to.equal(f.discountsAddress);
    });

    it("constructor rejects a zero registry, oracle or discounts (ZeroAddress)", async () => {
      const factory = new PriceQuoter__factory(f.deployer);
      const [r, o, d] = [await f.registry.getAddress(), await f.oracle.getAddress(), f.discountsAddress];
      for (const args of [
        [ZeroAddress, o, d],
        [r, ZeroAddress, d],
        [r, o, ZeroAddress],
      ] as const) {
        await expect(factory.deploy(...args)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      }
    });
  });

  describe("token-priced APIs", () => {
    it("quote the listed prices to a payer without a discount", async () => {
      await expectQuote(f.usdcApi, f.usdcAddress, f.payer.address, USDC_PER_CALL, USDC_PER_PERIOD);
      await expectQuote(f.usdcApi, f.usdcAddress, ZeroAddress, USDC_PER_CALL, USDC_PER_PERIOD);
    });

    it("apply each tier's discount", async () => {
      await stakeFor(500);
      await expectQuote(f.usdcApi, f.usdcAddress, f.payer.address, 950n, 9_500_000n);
      await stakeFor(1000, f.payer2);
      await expectQuote(f.usdcApi, f.usdcAddress, f.payer2.address, 900n, 9_000_000n);
      await f.discounts.connect(f.payer2).stake(E(90000));
      await expectQuote(f.usdcApi, f.usdcAddress, f.payer2.address, 800n, 8_000_000n);
    });

    it("round the discounted price up", async () => {
      await expectQuote(f.oddApi, f.usdcAddress, f.payer.address, 333n, 10_000_001n);
      await stakeFor(500);
      // 333 * 0.95 = 316.35 -> 317; 10,000,001 * 0.95 = 9,500,000.95 -> 9,500,001
      await expectQuote(f.oddApi, f.usdcAddress, f.payer.address, 317n, 9_500_001n);
      await f.discounts.connect(f.payer).stake(E(99000));
      // 333 * 0.8 = 266.4 -> 267; 10,000,001 * 0.8 = 8,000,000.8 -> 8,000,001
      await expectQuote(f.oddApi, f.usdcAddress, f.payer.address, 267n, 8_000_001n);
    });

    it("ignore the discount when the API did not opt in", async () => {
      await stakeFor(2000);
      await expectQuote(f.plainApi, f.usdcAddress, f.payer.address, USDC_PER_CALL, USDC_PER_PERIOD);
    });

    it("accept only the payment token (TokenNotAccepted)", async () => {
      for (const token of [f.daiAddress, ZeroAddress]) {
        await expect(f.quoter.quote(f.usdcApi, token, f.payer.address))
          .to.be.revertedWithCustomError(f.quoter, "TokenNotAccepted")
          .withArgs(f.usdcApi, token);
        await expect(f.quoter.quoteCall(f.usdcApi, token, f.payer.address))
          .to.be.revertedWithCustomError(f.quoter, "TokenNotAccepted")
          .withArgs(f.usdcApi, token);
        await expect(f.quoter.quotePeriod(f.usdcApi, token, f.payer.address))
          .to.be.revertedWithCustomError(f.quoter, "TokenNotAccepted")
          .withArgs(f.usdcApi, token);
      }
    });

    it("fail for an unknown API with the registry's ApiNotFound", async () => {
      await expect(f.quoter.quote(99, f.usdcAddress, f.payer.address))
        .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
        .withArgs(99);
    });
  });

  describe("USD-priced APIs", () => {
    it("convert at the feed's price", async () => {
      // DAI at $1: $0.002 and $25 are 0.002 and 25 DAI.
      await expectQuote(f.usdApi, f.daiAddress, f.payer.address, USD_PER_CALL, USD_PER_PERIOD);
    });

    it("round the conversion up, then the discount up", async () => {
      await f.feed.setAnswer(300_000_000n); // DAI at $3
      // 0.002 / 3 = 0.000666...67; 25 / 3 = 8.333...34 (18 decimals, rounded up)
      await expectQuote(f.usdApi, f.daiAddress, f.payer.address, 666_666_666_666_667n, 8_333_333_333_333_333_334n);
      await stakeFor(1000);
      // x 0.9, rounded up again: 600,000,000,000,000.3 -> ...001; 7,500,000,000,000,000,000.6 -> ...001
      await expectQuote(f.usdApi, f.daiAddress, f.payer.address, 600_000_000_000_001n, 7_500_000_000_000_000_001n);
    });

    it("convert into a 6-decimal token", async () => {
      const usdcFeed = await new MockAggregatorV3__factory(f.deployer).deploy(8, 99_990_000n); // $0.9999
      await f.oracle.setFeed(f.usdcAddress, await usdcFeed.getAddress(), HEARTBEAT);
      // $0.002 / 0.9999 = 2000.2 units -> 2001; $25 / 0.9999 = 25,002,500.25 units -> 25,002,501
      await expectQuote(f.usdApi, f.usdcAddress, f.payer.address, 2001n, 25_002_501n);
    });

    it("fail closed with the oracle's errors: no feed, stale price", async () => {
      await expect(f.quoter.quote(f.usdApi, f.usdcAddress, f.payer.address))
        .to.be.revertedWithCustomError(f.oracle, "NoFeed")
        .withArgs(f.usdcAddress);
      const updatedAt = await minedAt(await f.feed.setAnswer(100_000_000n));
      await networkHelpers.time.increase(HEARTBEAT + 1);
      for (const call of [f.quoter.quote, f.quoter.quoteCall, f.quoter.quotePeriod]) {
        await expect(call(f.usdApi, f.daiAddress, f.payer.address))
          .to.be.revertedWithCustomError(f.oracle, "StalePrice")
          .withArgs(f.daiAddress, updatedAt, HEARTBEAT);
      }
    });
  });

  describe("payment models", () => {
    it("quote 0 (and period 0) for a model the API does not offer", async () => {
      await stakeFor(500);
      await f.registry.connect(f.provider).setPricing(f.usdcApi, {
        ...apiInput(f.usdcAddress).pricing,
        models: MODEL_PAY_PER_CALL,
        period: 0,
        pricePerPeriod: 0,
      });
      await expectQuote(f.usdcApi, f.usdcAddress, f.payer.address, 950n, 0n);

      await f.registry
        .connect(f.provider)
        .setPricing(f.usdApi, usdPricing({ models: MODEL_SUBSCRIPTION, pricePerCall: 0 }));
      await expectQuote(f.usdApi, f.daiAddress, f.payer.address, 0n, E(25) - E(25) / 20n);
    });
  });
});
