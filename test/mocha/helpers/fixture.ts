import { network } from "hardhat";
import { encodeBytes32String, id, parseEther, parseUnits } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployProtocol } from "../../../deploy/protocol.js";
import { MockERC20__factory } from "../../../types/ethers-contracts/index.js";

/** One in-process Hardhat chain shared by a test file; fixtures snapshot and revert it. */
export const connection = await network.create();
export const { ethers, networkHelpers } = connection;

export const MODEL_PAY_PER_CALL = 1;
export const MODEL_SUBSCRIPTION = 2;
export const NodeType = { Edge: 0, Mobile: 1, Cloud: 2, Validator: 3 } as const;
export const ApiStatus = { None: 0, Active: 1, Paused: 2, Retired: 3, Delisted: 4 } as const;
export const PriceUnit = { Token: 0, Usd: 1 } as const;
export const DAY = 24 * 60 * 60;

type Signer = HardhatEthersSigner;

/**
 * The protocol deployed by the real deploy code, with named accounts:
 * deployer (admin, treasury, every role), providers, operators and an outsider.
 */
export async function deployFixture() {
  const [deployer, provider, provider2, operator, operator2, outsider, ...rest] = (await ethers.getSigners()) as [
    Signer,
    Signer,
    Signer,
    Signer,
    Signer,
    Signer,
    ...Signer[],
  ];
  const { protocol, deployment } = await deployProtocol(deployer, { network: "test" });
  const usdc = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
  const dai = await new MockERC20__factory(deployer).deploy("Dai", "DAI", 18);

  // Operators get MESH from the treasury (the deployer) and approve the staking contract.
  const stakingAddress = await protocol.staking.getAddress();
  for (const op of [operator, operator2]) {
    await protocol.token.connect(deployer).transfer(op.address, parseEther("100000"));
    await protocol.token.connect(op).approve(stakingAddress, parseEther("100000"));
  }
  return { ...protocol, deployment, usdc, dai, deployer, provider, provider2, operator, operator2, outsider, rest };
}

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;

/** A valid ApiInput priced in `token` (6 decimals by default: 0.001 per call, 10 per 30 days). */
export function apiInput(token: string, overrides: Record<string, unknown> = {}) {
  return {
    metadataUri: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    metadataHash: id("openapi: 3.1.0"),
    upstreamUrl: "https://api.example.com/v1",
    category: encodeBytes32String("weather"),
    tags: [encodeBytes32String("forecast"), encodeBytes32String("geo")],
    pricing: {
      unit: PriceUnit.Token,
      paymentToken: token,
      models: MODEL_PAY_PER_CALL | MODEL_SUBSCRIPTION,
      stakerDiscount: true,
      period: 30 * DAY,
      pricePerCall: parseUnits("0.001", 6),
      pricePerPeriod: parseUnits("10", 6),
    },
    ...overrides,
  };
}

export const region = (code: string) => encodeBytes32String(code);
