import { expect } from "chai";
import { parseEther, parseUnits } from "ethers";
import { deployDevStablecoin } from "../../../scripts/demo/seed.js";
import { DevStablecoin__factory, DevUsdFeed__factory } from "../../../types/ethers-contracts/index.js";
import { deployFixture, networkHelpers } from "../helpers/fixture.js";

/** The local-network stand-ins `npm start` deploys: a dev stablecoin and its always-fresh feed. */
describe("dev contracts (local network only)", () => {
  it("dUSDC: 6 decimals, minted to every holder, with permit", async () => {
    const f = await networkHelpers.loadFixture(deployFixture);
    const coin = DevStablecoin__factory.connect(
      await deployDevStablecoin(f, f.deployer, [f.provider.address, f.outsider.address]),
      f.deployer,
    );
    expect(await coin.decimals()).to.equal(6n);
    expect(await coin.symbol()).to.equal("dUSDC");
    expect(await coin.balanceOf(f.provider.address)).to.equal(parseUnits("1000000", 6));
    expect(await coin.balanceOf(f.outsider.address)).to.equal(parseUnits("1000000", 6));
    expect(await coin.totalSupply()).to.equal(parseUnits("2000000", 6));
    expect(await coin.nonces(f.provider.address)).to.equal(0n);
  });

  it("the dev feed stays fresh forever, so USD prices keep converting at $1", async () => {
    const f = await networkHelpers.loadFixture(deployFixture);
    const coin = await deployDevStablecoin(f, f.deployer, [f.provider.address]);
    await networkHelpers.time.increase(30 * 24 * 3600);
    expect(await f.oracle.usdToToken(coin, parseEther("2.5"))).to.equal(parseUnits("2.5", 6));

    const feed = DevUsdFeed__factory.connect((await f.oracle.feedOf(coin)).aggregator, f.deployer);
    expect(await feed.decimals()).to.equal(8n);
    expect(await feed.version()).to.equal(1n);
    expect(await feed.description()).to.equal("dev stablecoin / USD");
    const now = BigInt(await networkHelpers.time.latest());
    for (const round of [await feed.latestRoundData(), await feed.getRoundData(1)]) {
      expect(round[1]).to.equal(100_000_000n);
      expect(round[3]).to.equal(now);
    }
  });
});
