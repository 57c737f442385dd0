import { expect } from "chai";
import { parseEther, parseUnits, ZeroAddress } from "ethers";
import { MockAggregatorV3__factory, MockERC20__factory } from "../../../types/ethers-contracts/index.js";
import { apiInput, DAY, deployFixture, ethers, MODEL_PAY_PER_CALL, MODEL_SUBSCRIPTION, PriceUnit } from "./fixture.js";

/** Deploy defaults (deploy/params.ts) for DiscountStaking and Subscriptions. */
export const TIERS = [
  { minStake: parseEther("1000"), discountBps: 500 },
  { minStake: parseEther("10000"), discountBps: 1000 },
  { minStake: parseEther("100000"), discountBps: 2000 },
] as const;
export const COOLDOWN = BigInt(7 * DAY);
export const PROTOCOL_BPS = 500n;
export const PERIOD = 30 * DAY;
export const HEARTBEAT = 3600;

/** What apiInput lists: 0.001 USDC per call, 10 USDC per 30 days. */
export const USDC_PER_CALL = parseUnits("0.001", 6);
export const USDC_PER_PERIOD = parseUnits("10", 6);
/** The USD-priced API: $0.002 per call, $25 per 30 days. */
export const USD_PER_CALL = parseEther("0.002");
export const USD_PER_PERIOD = parseEther("25");

/** Pricing of a USD-priced API (overrides apply on top). */
export function usdPricing(overrides: Record<string, unknown> = {}) {
  return {
    unit: PriceUnit.Usd,
    paymentToken: ZeroAddress,
    models: MODEL_PAY_PER_CALL | MODEL_SUBSCRIPTION,
    stakerDiscount: true,
    period: PERIOD,
    pricePerCall: USD_PER_CALL,
    pricePerPeriod: USD_PER_PERIOD,
    ...overrides,
  };
}

/**
 * The deployed protocol plus: a DAI/USD feed at $1 (8 decimals, 1 h heartbeat), API 1 priced
 * in USDC (apiInput defaults) and API 2 priced in USD, both with staker discounts; two payers
 * holding 1,000 USDC, 1,000 DAI and 200,000 MESH, with unlimited approvals to Subscriptions
 * (USDC, DAI) and DiscountStaking (MESH).
 */
export async function subscriptionsFixture() {
  const f = await deployFixture();
  const [payer, payer2] = f.rest as [(typeof f.rest)[0], (typeof f.rest)[0]];
  const [usdcAddress, daiAddress, subsAddress, discountsAddress] = [
    await f.usdc.getAddress(),
    await f.dai.getAddress(),
    await f.subscriptions.getAddress(),
    await f.discounts.getAddress(),
  ];
  const feed = await new MockAggregatorV3__factory(f.deployer).deploy(8, 100_000_000n);
  await f.oracle.setFeed(daiAddress, await feed.getAddress(), HEARTBEAT);

  await f.registry.connect(f.provider).register(apiInput(usdcAddress));
  await f.registry.connect(f.provider).register(apiInput(ZeroAddress, { pricing: usdPricing() }));

  for (const p of [payer, payer2]) {
    await f.usdc.mint(p.address, parseUnits("1000", 6));
    await f.dai.mint(p.address, parseEther("1000"));
    await f.token.connect(f.deployer).transfer(p.address, parseEther("200000"));
    await f.usdc.connect(p).approve(subsAddress, 2n ** 256n - 1n);
    await f.dai.connect(p).approve(subsAddress, 2n ** 256n - 1n);
    await f.token.connect(p).approve(discountsAddress, 2n ** 256n - 1n);
  }
  return {
    ...f,
    payer,
    payer2,
    feed,
    usdcAddress,
    daiAddress,
    subsAddress,
    discountsAddress,
    usdcApi: 1n,
    usdApi: 2n,
  };
}

export type SubsFixture = Awaited<ReturnType<typeof subscriptionsFixture>>;

/**
 * The documented solvency invariant of Subscriptions, per token: balance >= liabilities ==
 * sum of prepaid balances + unclaimed earnings (over the payers and APIs the test used).
 */
export async function expectLedgerBalanced(
  f: SubsFixture,
  tokens: string[],
  payers: string[],
  apiIds: bigint[],
): Promise<void> {
  for (const token of tokens) {
    const held = await MockERC20__factory.connect(token, ethers.provider).balanceOf(f.subsAddress);
    const liabilities = await f.subscriptions.liabilities(token);
    let owed = 0n;
    for (const p of payers) owed += await f.subscriptions.prepaidBalanceOf(p, token);
    for (const id of apiIds) {
      const e = await f.subscriptions.apiEarnings(token, id);
      owed += e.provider + e.protocol;
    }
    expect(held >= liabilities, `balance >= liabilities (${token})`).to.equal(true);
    expect(liabilities, `liabilities == prepaid + earnings (${token})`).to.equal(owed);
  }
}
