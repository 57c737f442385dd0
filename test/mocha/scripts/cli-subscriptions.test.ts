import { expect } from "chai";
import { parseEther, parseUnits } from "ethers";
import { cli, fails } from "../helpers/cli.js";
import { apiInput, DAY, deployFixture, MODEL_SUBSCRIPTION, networkHelpers } from "../helpers/fixture.js";

/** A subscription-only API at 10 USDC per 30 days, with staking discounts; a payer with USDC and MESH. */
async function subscriptionFixture() {
  const f = await deployFixture();
  const usdc = await f.usdc.getAddress();
  const pricing = { ...apiInput(usdc).pricing, models: MODEL_SUBSCRIPTION, pricePerCall: 0 };
  await f.registry.connect(f.provider).register(apiInput(usdc, { pricing }));
  const payer = f.rest[0]!;
  await f.usdc.mint(payer.address, parseUnits("100", 6));
  await f.token.connect(f.deployer).transfer(payer.address, parseEther("20000"));
  return { ...f, usdcAddress: usdc, payer };
}

describe("scripts: meshgate CLI (subscriptions, discounts)", () => {
  it("buys periods at the quote, prepays renewals, shows and cancels", async () => {
    const f = await networkHelpers.loadFixture(subscriptionFixture);
    const bought = await cli(f, f.payer, `subscription buy --api 1 --token ${f.usdcAddress} --periods 2`);
    expect(bought.at(-1)).to.match(
      /^Subscribed to API 1 for 2 x 2592000s at 10.0 per period, paid until \d{4}-.* in tx 0x/,
    );
    expect(await f.subscriptions.isSubscribed(f.payer.address, 1n)).to.equal(true);
    expect(await f.usdc.balanceOf(f.payer.address)).to.equal(parseUnits("80", 6));

    await cli(f, f.payer, `subscription deposit --token ${f.usdcAddress} --amount 15`);
    const shown = (await cli(f, f.payer, "subscription show --api 1")).join("\n");
    expect(shown)
      .to.include("access       active")
      .and.include("automatic, up to 10.0 per 2592000s period")
      .and.include("prepaid      15.0");

    const early = await fails(cli(f, f.outsider, "subscription renew 1"));
    expect(early.errorName).to.equal("NotDue");

    await cli(f, f.payer, "subscription cancel --api 1");
    expect((await cli(f, f.payer, "subscription show --api 1")).join("\n")).to.include("renewal      cancelled");
    await cli(f, f.payer, `subscription withdraw --token ${f.usdcAddress} --amount 15`);
    expect(await f.usdc.balanceOf(f.payer.address)).to.equal(parseUnits("80", 6));

    await networkHelpers.time.increase(61 * DAY);
    expect((await cli(f, f.payer, "subscription show --api 1")).join("\n")).to.include("access       expired");
  });

  it("applies the staking discount to the quote", async () => {
    const f = await networkHelpers.loadFixture(subscriptionFixture);
    const staked = await cli(f, f.payer, "discount stake 10000");
    expect(staked.at(-1)).to.match(/^Staked 10000.0 MESH for discounts \(now \d+(\.\d+)?% off\) in tx 0x/);
    const bps = await f.discounts.discountBpsOf(f.payer.address);
    expect(bps).to.be.greaterThan(0n);
    await cli(f, f.payer, `subscription buy --api 1 --token ${f.usdcAddress} --periods 1`);
    const paid = parseUnits("100", 6) - (await f.usdc.balanceOf(f.payer.address));
    expect(paid).to.equal(parseUnits("10", 6) - (parseUnits("10", 6) * bps) / 10_000n);
    expect((await cli(f, f.payer, "discount show")).join("\n")).to.include("10000.0 MESH staked");
    expect((await cli(f, f.payer, "discount unstake 10000"))[0]).to.match(/^Cooling down 10000.0 MESH/);
    expect((await fails(cli(f, f.payer, "discount withdraw"))).errorName).to.equal("StillCooling");
  });

  it("refuses a price above the limit and APIs without subscriptions", async () => {
    const f = await networkHelpers.loadFixture(subscriptionFixture);
    const tooHigh = await fails(
      cli(f, f.payer, `subscription buy --api 1 --token ${f.usdcAddress} --periods 1 --max-price 9`),
    );
    expect(tooHigh.errorName).to.equal("PriceAboveLimit");
    expect(tooHigh.message).to.include("raise --max-price");
    expect(await f.subscriptions.isSubscribed(f.payer.address, 1n)).to.equal(false);
  });
});
