import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import {
  MockAggregatorV3__factory,
  MockERC20__factory,
  UsdPriceOracle__factory,
  type MockAggregatorV3,
} from "../../../types/ethers-contracts/index.js";
import { deployFixture, networkHelpers } from "../helpers/fixture.js";

const MIN_HEARTBEAT = 60n;
const MAX_HEARTBEAT = 2n * 24n * 60n * 60n;
const HEARTBEAT = 3600n;

/** The contract's formula, for cross-checks: ceil(usd * 10^(feedDec + tokenDec) / (price * 1e18)). */
function expected(usd: bigint, price: bigint, feedDecimals: number, tokenDecimals: number): bigint {
  const num = usd * 10n ** BigInt(feedDecimals + tokenDecimals);
  const den = price * 10n ** 18n;
  return (num + den - 1n) / den;
}

async function oracleFixture() {
  const f = await deployFixture();
  const feed8 = await new MockAggregatorV3__factory(f.deployer).deploy(8, 100_000_000n); // $1.00000000
  const feed18 = await new MockAggregatorV3__factory(f.deployer).deploy(18, parseEther("1"));
  const weth = await new MockERC20__factory(f.deployer).deploy("Wrapped Ether", "WETH", 18);
  return { ...f, feed8, feed18, weth };
}

describe("UsdPriceOracle", () => {
  let f: Awaited<ReturnType<typeof oracleFixture>>;
  let usdc: string;
  let dai: string;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(oracleFixture);
    usdc = await f.usdc.getAddress();
    dai = await f.dai.getAddress();
  });

  /** Sets `token`'s feed (heartbeat 1 hour by default). */
  async function setFeed(token: string, feed: MockAggregatorV3, heartbeat = HEARTBEAT) {
    await f.oracle.connect(f.deployer).setFeed(token, await feed.getAddress(), heartbeat);
  }

  /** Makes the latest block (the one view calls run in) have timestamp `t`. */
  async function latestAt(t: bigint) {
    await networkHelpers.time.increaseTo(t);
  }

  // -------------------------------------------------------------------- governance

  describe("setFeed / removeFeed", () => {
    it("constructor rejects a zero authority (ZeroAddress); bounds are public", async () => {
      const factory = new UsdPriceOracle__factory(f.deployer);
      await expect(factory.deploy(ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      expect(await f.oracle.MIN_HEARTBEAT()).to.equal(MIN_HEARTBEAT);
      expect(await f.oracle.MAX_HEARTBEAT()).to.equal(MAX_HEARTBEAT);
      expect(await f.oracle.authority()).to.equal(await f.accessManager.getAddress());
    });

    it("setFeed stores the feed with both decimals and emits FeedSet", async () => {
      expect(await f.oracle.hasFeed(usdc)).to.equal(false);
      const agg = await f.feed8.getAddress();
      await expect(f.oracle.connect(f.deployer).setFeed(usdc, agg, HEARTBEAT))
        .to.emit(f.oracle, "FeedSet")
        .withArgs(usdc, agg, HEARTBEAT);
      expect(await f.oracle.hasFeed(usdc)).to.equal(true);
      expect(await f.oracle.feedOf(usdc)).to.deep.equal([agg, HEARTBEAT, 8n, 6n]);
      // Replacing it.
      const agg18 = await f.feed18.getAddress();
      await expect(f.oracle.connect(f.deployer).setFeed(usdc, agg18, MAX_HEARTBEAT))
        .to.emit(f.oracle, "FeedSet")
        .withArgs(usdc, agg18, MAX_HEARTBEAT);
      expect(await f.oracle.feedOf(usdc)).to.deep.equal([agg18, MAX_HEARTBEAT, 18n, 6n]);
    });

    it("accepts both heartbeat bounds, rejects just outside them (HeartbeatOutOfRange)", async () => {
      const agg = await f.feed8.getAddress();
      for (const hb of [MIN_HEARTBEAT, MAX_HEARTBEAT]) {
        await expect(f.oracle.connect(f.deployer).setFeed(dai, agg, hb))
          .to.emit(f.oracle, "FeedSet")
          .withArgs(dai, agg, hb);
      }
      for (const hb of [0n, MIN_HEARTBEAT - 1n, MAX_HEARTBEAT + 1n, 2n ** 32n - 1n]) {
        await expect(f.oracle.connect(f.deployer).setFeed(usdc, agg, hb))
          .to.be.revertedWithCustomError(f.oracle, "HeartbeatOutOfRange")
          .withArgs(hb, MIN_HEARTBEAT, MAX_HEARTBEAT);
      }
      expect(await f.oracle.hasFeed(usdc)).to.equal(false);
    });

    it("rejects a zero token or aggregator (ZeroAddress)", async () => {
      const agg = await f.feed8.getAddress();
      await expect(f.oracle.connect(f.deployer).setFeed(ZeroAddress, agg, HEARTBEAT)).to.be.revertedWithCustomError(
        f.oracle,
        "ZeroAddress",
      );
      await expect(f.oracle.connect(f.deployer).setFeed(usdc, ZeroAddress, HEARTBEAT)).to.be.revertedWithCustomError(
        f.oracle,
        "ZeroAddress",
      );
    });

    it("rejects more than 36 decimals on either side (UnsupportedDecimals)", async () => {
      const feed37 = await new MockAggregatorV3__factory(f.deployer).deploy(37, 1n);
      const token37 = await new MockERC20__factory(f.deployer).deploy("Odd", "ODD", 37);
      const token36 = await new MockERC20__factory(f.deployer).deploy("Ok", "OK", 36);
      const feed36 = await new MockAggregatorV3__factory(f.deployer).deploy(36, 10n ** 36n);
      await expect(f.oracle.connect(f.deployer).setFeed(usdc, await feed37.getAddress(), HEARTBEAT))
        .to.be.revertedWithCustomError(f.oracle, "UnsupportedDecimals")
        .withArgs(await feed37.getAddress(), 37);
      await expect(
        f.oracle.connect(f.deployer).setFeed(await token37.getAddress(), await f.feed8.getAddress(), HEARTBEAT),
      )
        .to.be.revertedWithCustomError(f.oracle, "UnsupportedDecimals")
        .withArgs(await token37.getAddress(), 37);
      // 36 and 36 work, and the math does not overflow: $1 at $1 is 10^36 base units.
      const t36 = await token36.getAddress();
      await setFeed(t36, feed36);
      expect(await f.oracle.usdToToken(t36, parseEther("1"))).to.equal(10n ** 36n);
    });

    it("removeFeed deletes the feed and emits FeedRemoved; without a feed: NoFeed", async () => {
      await setFeed(usdc, f.feed8);
      await expect(f.oracle.connect(f.deployer).removeFeed(usdc)).to.emit(f.oracle, "FeedRemoved").withArgs(usdc);
      expect(await f.oracle.hasFeed(usdc)).to.equal(false);
      expect(await f.oracle.feedOf(usdc)).to.deep.equal([ZeroAddress, 0n, 0n, 0n]);
      await expect(f.oracle.connect(f.deployer).removeFeed(usdc))
        .to.be.revertedWithCustomError(f.oracle, "NoFeed")
        .withArgs(usdc);
      await expect(f.oracle.usdToToken(usdc, parseEther("1")))
        .to.be.revertedWithCustomError(f.oracle, "NoFeed")
        .withArgs(usdc);
      await expect(f.oracle.latestPrice(usdc)).to.be.revertedWithCustomError(f.oracle, "NoFeed").withArgs(usdc);
    });

    it("only governance sets and removes feeds (AccessManagedUnauthorized)", async () => {
      await setFeed(usdc, f.feed8);
      const o = f.oracle.connect(f.outsider);
      await expect(o.setFeed(dai, await f.feed8.getAddress(), HEARTBEAT))
        .to.be.revertedWithCustomError(f.oracle, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
      await expect(o.removeFeed(usdc))
        .to.be.revertedWithCustomError(f.oracle, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
      expect(await f.oracle.hasFeed(usdc)).to.equal(true);
    });
  });

  // -------------------------------------------------------------------- math

  describe("usdToToken", () => {
    beforeEach(async () => {
      // Fresh answers, whatever time earlier tests left on the clock.
      await f.feed8.setAnswer(100_000_000n);
      await f.feed18.setAnswer(parseEther("1"));
    });

    it("6-decimal token, 8-decimal feed at $1: exact, and rounded up by one base unit when not exact", async () => {
      await setFeed(usdc, f.feed8);
      expect(await f.oracle.latestPrice(usdc)).to.deep.equal([100_000_000n, 8n]);
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(1_000_000n);
      expect(await f.oracle.usdToToken(usdc, parseEther("1.5"))).to.equal(1_500_000n);
      expect(await f.oracle.usdToToken(usdc, 10n ** 12n)).to.equal(1n); // $0.000001 exactly
      expect(await f.oracle.usdToToken(usdc, 10n ** 12n + 1n)).to.equal(2n);
      expect(await f.oracle.usdToToken(usdc, parseEther("1") + 1n)).to.equal(1_000_001n);
      expect(await f.oracle.usdToToken(usdc, 1n)).to.equal(1n);
      expect(await f.oracle.usdToToken(usdc, 0n)).to.equal(0n);
    });

    it("tokenToUsd: token amounts in 18-decimal USD, rounded down; fails closed like usdToToken", async () => {
      await setFeed(usdc, f.feed8);
      expect(await f.oracle.tokenToUsd(usdc, 1_500_000n)).to.equal(parseEther("1.5"));
      expect(await f.oracle.tokenToUsd(usdc, 1n)).to.equal(10n ** 12n);
      expect(await f.oracle.tokenToUsd(usdc, 0n)).to.equal(0n);
      await f.feed8.setAnswer(99_985_000n);
      // 1,000,000 x 99,985,000 x 10^18 / 10^14 = 0.99985 dollars
      expect(await f.oracle.tokenToUsd(usdc, 1_000_000n)).to.equal(parseEther("0.99985"));
      expect(await f.oracle.tokenToUsd(usdc, 3n)).to.equal(2_999_550_000_000n);
      await f.feed8.setAnswer(0n);
      await expect(f.oracle.tokenToUsd(usdc, 1n)).to.be.revertedWithCustomError(f.oracle, "InvalidPrice");
      const noFeed = f.rest[0]!.address;
      await expect(f.oracle.tokenToUsd(noFeed, 1n)).to.be.revertedWithCustomError(f.oracle, "NoFeed").withArgs(noFeed);
    });

    it("6-decimal token, 8-decimal feed off the peg ($0.99985)", async () => {
      await setFeed(usdc, f.feed8);
      await f.feed8.setAnswer(99_985_000n);
      // 10^32 / (99,985,000 * 10^18) = 1,000,150.02... -> 1,000,151
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(1_000_151n);
      expect(await f.oracle.usdToToken(usdc, parseEther("12.345"))).to.equal(12_346_853n);
      expect(expected(parseEther("12.345"), 99_985_000n, 8, 6)).to.equal(12_346_853n);
    });

    it("6-decimal token, 18-decimal feed ($1.0001)", async () => {
      await setFeed(usdc, f.feed18);
      await f.feed18.setAnswer(parseEther("1.0001"));
      // 10^24 / 1.0001e18 = 999,900.009999... -> 999,901
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(999_901n);
    });

    it("18-decimal token, 18-decimal feed: exact at $1 and $2.50, rounded up at $3", async () => {
      await setFeed(dai, f.feed18);
      expect(await f.oracle.usdToToken(dai, 123_456_789n)).to.equal(123_456_789n);
      await f.feed18.setAnswer(parseEther("2.5"));
      expect(await f.oracle.usdToToken(dai, parseEther("1"))).to.equal(parseEther("0.4"));
      await f.feed18.setAnswer(parseEther("3"));
      expect(await f.oracle.usdToToken(dai, parseEther("1"))).to.equal(333_333_333_333_333_334n);
    });

    it("18-decimal token, 8-decimal feed ($3000.12345678), large amounts without overflow", async () => {
      const weth = await f.weth.getAddress();
      await setFeed(weth, f.feed8);
      await f.feed8.setAnswer(300_012_345_678n);
      expect(await f.oracle.usdToToken(weth, parseEther("10"))).to.equal(3_333_196_164_778_130n);
      expect(expected(parseEther("10"), 300_012_345_678n, 8, 18)).to.equal(3_333_196_164_778_130n);
      // $3000.12345678 buys exactly one token.
      expect(await f.oracle.usdToToken(weth, 3_000_123_456_780_000_000_000n)).to.equal(parseEther("1"));
      // $10^12 at a price of 10^-8 dollars: 10^38 base units, no intermediate overflow.
      await f.feed8.setAnswer(1n);
      expect(await f.oracle.usdToToken(weth, 10n ** 30n)).to.equal(10n ** 38n);
    });

    it("agrees with the reference formula on a grid of prices and amounts", async () => {
      await setFeed(usdc, f.feed8);
      await setFeed(dai, f.feed18);
      for (const [p8, p18] of [
        [1n, 1n],
        [99_999_999n, 999_999_999_999_999_999n],
        [123_456_789_012n, 1_234_567_890_123_456_789_012n],
      ] as const) {
        await f.feed8.setAnswer(p8);
        await f.feed18.setAnswer(p18);
        for (const usd of [1n, 999n, 10n ** 18n - 1n, 10n ** 18n, 7n * 10n ** 25n + 3n]) {
          expect(await f.oracle.usdToToken(usdc, usd), `usdc ${p8} ${usd}`).to.equal(expected(usd, p8, 8, 6));
          expect(await f.oracle.usdToToken(dai, usd), `dai ${p18} ${usd}`).to.equal(expected(usd, p18, 18, 18));
        }
      }
    });
  });

  // -------------------------------------------------------------------- fail closed

  describe("fails closed", () => {
    let agg: MockAggregatorV3;

    beforeEach(async () => {
      agg = f.feed8;
      await setFeed(usdc, agg);
    });

    it("an answer exactly heartbeat old is fine; one second older is stale (StalePrice)", async () => {
      const now = BigInt(await networkHelpers.time.latest());
      const updatedAt = now - 10n;
      await agg.setRoundData(7, 100_000_000n, updatedAt, updatedAt, 7);
      await latestAt(updatedAt + HEARTBEAT);
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(1_000_000n);
      await latestAt(updatedAt + HEARTBEAT + 1n);
      await expect(f.oracle.usdToToken(usdc, parseEther("1")))
        .to.be.revertedWithCustomError(f.oracle, "StalePrice")
        .withArgs(usdc, updatedAt, HEARTBEAT);
      await expect(f.oracle.latestPrice(usdc))
        .to.be.revertedWithCustomError(f.oracle, "StalePrice")
        .withArgs(usdc, updatedAt, HEARTBEAT);
      // A fresh answer heals it.
      await agg.setAnswer(100_000_000n);
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(1_000_000n);
    });

    it("an answer from the future is refused (StalePrice)", async () => {
      const now = BigInt(await networkHelpers.time.latest());
      const future = now + 2n; // setRoundData is mined at now + 1, so this is still ahead
      await agg.setRoundData(7, 100_000_000n, future, future, 7);
      await expect(f.oracle.usdToToken(usdc, parseEther("1")))
        .to.be.revertedWithCustomError(f.oracle, "StalePrice")
        .withArgs(usdc, future, HEARTBEAT);
      await latestAt(future);
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(1_000_000n);
    });

    it("zero and negative answers are refused (InvalidPrice)", async () => {
      for (const answer of [0n, -1n, -100_000_000n, -(2n ** 255n)]) {
        const now = BigInt(await networkHelpers.time.latest()) + 1n;
        await agg.setRoundData(7, answer, now, now, 7);
        await expect(f.oracle.usdToToken(usdc, parseEther("1")))
          .to.be.revertedWithCustomError(f.oracle, "InvalidPrice")
          .withArgs(usdc, answer);
      }
    });

    it("an incomplete round is refused (IncompleteRound): answeredInRound < roundId, or updatedAt == 0", async () => {
      const now = BigInt(await networkHelpers.time.latest()) + 1n;
      await agg.setRoundData(5, 100_000_000n, now, now, 4);
      await expect(f.oracle.usdToToken(usdc, parseEther("1")))
        .to.be.revertedWithCustomError(f.oracle, "IncompleteRound")
        .withArgs(usdc, 5, 4);
      await agg.setRoundData(5, 100_000_000n, 0, 0, 5);
      await expect(f.oracle.usdToToken(usdc, parseEther("1")))
        .to.be.revertedWithCustomError(f.oracle, "IncompleteRound")
        .withArgs(usdc, 5, 5);
      // answeredInRound ahead of roundId is not incomplete.
      const later = BigInt(await networkHelpers.time.latest()) + 1n;
      await agg.setRoundData(5, 100_000_000n, later, later, 6);
      expect(await f.oracle.usdToToken(usdc, parseEther("1"))).to.equal(1_000_000n);
    });

    it("checks in order: incomplete round, then price, then staleness", async () => {
      // Incomplete and negative: IncompleteRound.
      await agg.setRoundData(5, -1n, 0, 0, 5);
      await expect(f.oracle.usdToToken(usdc, 1n))
        .to.be.revertedWithCustomError(f.oracle, "IncompleteRound")
        .withArgs(usdc, 5, 5);
      // Stale and zero: InvalidPrice.
      await agg.setRoundData(6, 0n, 1, 1, 6);
      await expect(f.oracle.usdToToken(usdc, 1n))
        .to.be.revertedWithCustomError(f.oracle, "InvalidPrice")
        .withArgs(usdc, 0n);
      // Stale only.
      await agg.setRoundData(7, 1n, 1, 1, 7);
      await expect(f.oracle.usdToToken(usdc, 1n))
        .to.be.revertedWithCustomError(f.oracle, "StalePrice")
        .withArgs(usdc, 1n, HEARTBEAT);
    });

    it("the heartbeat is per token", async () => {
      await setFeed(dai, f.feed18, MAX_HEARTBEAT);
      await networkHelpers.time.increase(HEARTBEAT + 1n);
      await expect(f.oracle.usdToToken(usdc, 1n)).to.be.revertedWithCustomError(f.oracle, "StalePrice");
      expect(await f.oracle.usdToToken(dai, 1n)).to.equal(1n);
    });
  });
});
