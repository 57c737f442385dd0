import { encodeBytes32String, keccak256, parseEther, parseUnits, toUtf8Bytes, ZeroAddress, type Signer } from "ethers";
import type { Protocol } from "../../deploy/protocol.js";
import { DevStablecoin__factory, DevUsdFeed__factory } from "../../types/ethers-contracts/index.js";
import { DEMO_OPENAPI } from "./demo-api.js";

export interface DemoSeed {
  apiId: bigint;
  provider: string;
  operator: string;
  stablecoin: string;
  payer: string;
}

/**
 * Deploys the local stand-ins for a stablecoin (dUSDC, 6 decimals, 1,000,000 to each holder) and
 * its USD feed (fixed at $1, always fresh), and registers the feed with the oracle.
 */
export async function deployDevStablecoin(protocol: Protocol, deployer: Signer, holders: string[]): Promise<string> {
  const coin = await new DevStablecoin__factory(deployer).deploy(holders, parseUnits("1000000", 6));
  await coin.waitForDeployment();
  const feed = await new DevUsdFeed__factory(deployer).deploy(100_000_000n);
  await feed.waitForDeployment();
  await (
    await protocol.oracle.connect(deployer).setFeed(await coin.getAddress(), await feed.getAddress(), 3600)
  ).wait();
  return coin.getAddress();
}

/**
 * Lists the demo API (priced in USD: $0.001 per call, $5 per 30 days) from `provider`,
 * registers an edge node for `operator` staked with MESH sent from `treasury`, and sets up node
 * rewards for the dev stablecoin (`treasury` must still hold the PROTOCOL role and the MESH).
 */
export async function seedDemo(
  protocol: Protocol,
  accounts: { treasury: Signer; provider: Signer; operator: Signer; payer: Signer },
  urls: { upstream: string; node: string },
): Promise<DemoSeed> {
  const { registry, staking, token } = protocol;
  const provider = await accounts.provider.getAddress();
  const operator = await accounts.operator.getAddress();

  const tx = await registry.connect(accounts.provider).register({
    metadataUri: `${urls.upstream}/openapi.json`,
    metadataHash: keccak256(toUtf8Bytes(DEMO_OPENAPI)),
    upstreamUrl: urls.upstream,
    category: encodeBytes32String("weather"),
    tags: [encodeBytes32String("forecast"), encodeBytes32String("demo")],
    pricing: {
      unit: 1, // USD, 18 decimals
      paymentToken: ZeroAddress,
      models: 3, // pay per call + subscription
      stakerDiscount: true,
      period: 30 * 24 * 60 * 60,
      pricePerCall: parseEther("0.001"),
      pricePerPeriod: parseEther("5"),
    },
  });
  const receipt = await tx.wait();
  const log = receipt?.logs.map((l) => registry.interface.parseLog(l)).find((l) => l?.name === "ApiRegistered");
  if (!log) throw new Error("demo API registration emitted no ApiRegistered");

  const stake = parseEther("5000");
  await (await token.connect(accounts.treasury).transfer(operator, stake)).wait();
  await (await token.connect(accounts.operator).approve(await staking.getAddress(), stake)).wait();
  await (
    await staking.connect(accounts.operator).registerNode(0, encodeBytes32String("local"), urls.node, 100, stake)
  ).wait();
  const apiId = log.args[0] as bigint;

  // A consumer with a funded channel to the demo node, paying in the dev stablecoin.
  const payer = await accounts.payer.getAddress();
  const stablecoin = await deployDevStablecoin(protocol, accounts.treasury, [payer, provider, operator]);
  const deposit = parseUnits("100", 6);
  const coin = DevStablecoin__factory.connect(stablecoin, accounts.payer);
  await (await coin.approve(await protocol.escrow.getAddress(), deposit)).wait();
  await (await protocol.escrow.connect(accounts.payer).deposit(operator, apiId, stablecoin, deposit)).wait();

  // Node rewards: value served in dUSDC counts (1e12 points per base unit: 18-decimal dollars),
  // and the treasury funds ten epochs of the emission.
  const { rewards } = protocol;
  await (await rewards.connect(accounts.treasury).setRewardToken(stablecoin, 10n ** 12n)).wait();
  const funding = (await rewards.emissionPerEpoch()) * 10n;
  await (await token.connect(accounts.treasury).approve(await rewards.getAddress(), funding)).wait();
  await (await rewards.connect(accounts.treasury).fund(funding)).wait();
  return { apiId, provider, operator, stablecoin, payer };
}
