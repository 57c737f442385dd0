import { createRequire } from "node:module";
import type { BaseContract, ContractTransactionResponse, Signer } from "ethers";
import type * as PoseidonSolidity from "poseidon-solidity";
import {
  AccessGroups__factory,
  AccessManager__factory,
  AccessVerifier__factory,
  AccessVerifierGroth16__factory,
  ApiRegistry__factory,
  DeveloperCredential__factory,
  DiscountStaking__factory,
  FeatureFlags__factory,
  MeshToken__factory,
  NodeRewards__factory,
  NodeStaking__factory,
  PaymentEscrow__factory,
  PriceQuoter__factory,
  RateLimitPolicy__factory,
  Reputation__factory,
  Subscriptions__factory,
  PoseidonT2__factory,
  PoseidonT3__factory,
  UsdPriceOracle__factory,
  type AccessGroups,
  type AccessManager,
  type AccessVerifier,
  type ApiRegistry,
  type DeveloperCredential,
  type DiscountStaking,
  type FeatureFlags,
  type MeshToken,
  type NodeRewards,
  type NodeStaking,
  type PaymentEscrow,
  type PriceQuoter,
  type RateLimitPolicy,
  type Reputation,
  type Subscriptions,
  type UsdPriceOracle,
} from "../types/ethers-contracts/index.js";
import type { ContractName, Deployment } from "./deployments.js";
import { defaultParams, type DeployParams } from "./params.js";
import { ROLE_LABELS, ROLE_TABLE, ROLES, type ManagedContract } from "./roles.js";

/** Typed handles on a deployed protocol. */
export interface Protocol {
  accessManager: AccessManager;
  token: MeshToken;
  registry: ApiRegistry;
  staking: NodeStaking;
  oracle: UsdPriceOracle;
  escrow: PaymentEscrow;
  discounts: DiscountStaking;
  quoter: PriceQuoter;
  subscriptions: Subscriptions;
  flags: FeatureFlags;
  rateLimits: RateLimitPolicy;
  credential: DeveloperCredential;
  accessGroups: AccessGroups;
  accessVerifier: AccessVerifier;
  reputation: Reputation;
  rewards: NodeRewards;
}

export interface DeployResult {
  protocol: Protocol;
  deployment: Deployment;
}

export type DeployLogger = (message: string) => void;

async function mined(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction was dropped");
  return receipt.blockNumber;
}

// poseidon-solidity is CommonJS without detectable named exports.
const canonicalPoseidon = createRequire(import.meta.url)("poseidon-solidity") as typeof PoseidonSolidity;

/**
 * A Poseidon library of poseidon-solidity: the canonical deterministic deployment when the
 * chain has it (mainnets and most testnets do), else a fresh one (block -1 = not deployed here).
 */
async function poseidonLibrary(
  signer: Signer,
  canonical: string,
  factory: PoseidonT2__factory | PoseidonT3__factory,
): Promise<{ address: string; blockNumber: number }> {
  if ((await signer.provider!.getCode(canonical)) !== "0x") return { address: canonical, blockNumber: 0 };
  const lib = await factory.connect(signer).deploy();
  return { address: await lib.getAddress(), blockNumber: await deployedBlock(lib) };
}

async function deployedBlock(contract: BaseContract): Promise<number> {
  const receipt = await contract.deploymentTransaction()?.wait();
  if (!receipt) throw new Error("deployment transaction has no receipt");
  return receipt.blockNumber;
}

/**
 * Deploys and wires the whole protocol with `signer` as deployer, on any chain.
 * The deployer is the AccessManager admin and, by default, holds every role and the
 * treasury; the governance deploy later hands them to the DAO timelocks.
 */
export async function deployProtocol(
  signer: Signer,
  options: { network: string; params?: Partial<DeployParams>; log?: DeployLogger },
): Promise<DeployResult> {
  const log = options.log ?? (() => undefined);
  const deployer = await signer.getAddress();
  const params: DeployParams = { ...defaultParams(deployer), ...options.params };
  const chainId = Number((await signer.provider!.getNetwork()).chainId);

  const blocks = {} as Record<ContractName, number>;

  const accessManager = await new AccessManager__factory(signer).deploy(deployer);
  blocks.AccessManager = await deployedBlock(accessManager);
  log(`AccessManager  ${await accessManager.getAddress()}`);

  const token = await new MeshToken__factory(signer).deploy(params.treasury);
  blocks.MeshToken = await deployedBlock(token);
  log(`MeshToken      ${await token.getAddress()}`);

  const registry = await new ApiRegistry__factory(signer).deploy(
    await accessManager.getAddress(),
    await token.getAddress(),
    params.treasury,
    params.listingBounds,
  );
  blocks.ApiRegistry = await deployedBlock(registry);
  log(`ApiRegistry    ${await registry.getAddress()}`);

  const staking = await new NodeStaking__factory(signer).deploy(
    await accessManager.getAddress(),
    await token.getAddress(),
    params.treasury,
    params.unbondingPeriod,
    [...params.minStakes],
  );
  blocks.NodeStaking = await deployedBlock(staking);
  log(`NodeStaking    ${await staking.getAddress()}`);

  const oracle = await new UsdPriceOracle__factory(signer).deploy(await accessManager.getAddress());
  blocks.UsdPriceOracle = await deployedBlock(oracle);
  log(`UsdPriceOracle ${await oracle.getAddress()}`);

  const escrow = await new PaymentEscrow__factory(signer).deploy(
    await accessManager.getAddress(),
    await registry.getAddress(),
    await staking.getAddress(),
    await oracle.getAddress(),
    params.treasury,
    params.escrowThawPeriod,
    params.revenueSplit,
    params.epochLength,
  );
  blocks.PaymentEscrow = await deployedBlock(escrow);
  log(`PaymentEscrow  ${await escrow.getAddress()}`);

  const reputation = await new Reputation__factory(signer).deploy(
    await accessManager.getAddress(),
    await escrow.getAddress(),
    await staking.getAddress(),
    params.scoring,
    params.slashingPolicy,
  );
  blocks.Reputation = await deployedBlock(reputation);
  log(`Reputation     ${await reputation.getAddress()}`);

  const rewards = await new NodeRewards__factory(signer).deploy(
    await accessManager.getAddress(),
    await token.getAddress(),
    await escrow.getAddress(),
    await reputation.getAddress(),
    await staking.getAddress(),
    params.rewardEmissionPerEpoch,
    params.unscoredFactorBps,
  );
  blocks.NodeRewards = await deployedBlock(rewards);
  log(`NodeRewards    ${await rewards.getAddress()}`);

  const discounts = await new DiscountStaking__factory(signer).deploy(
    await accessManager.getAddress(),
    await token.getAddress(),
    params.discountCooldown,
    [...params.discountTiers],
  );
  blocks.DiscountStaking = await deployedBlock(discounts);
  log(`DiscountStaking ${await discounts.getAddress()}`);

  const quoter = await new PriceQuoter__factory(signer).deploy(
    await registry.getAddress(),
    await oracle.getAddress(),
    await discounts.getAddress(),
  );
  blocks.PriceQuoter = await deployedBlock(quoter);
  log(`PriceQuoter    ${await quoter.getAddress()}`);

  const subscriptions = await new Subscriptions__factory(signer).deploy(
    await accessManager.getAddress(),
    await registry.getAddress(),
    await quoter.getAddress(),
    params.treasury,
    params.subscriptionProtocolBps,
  );
  blocks.Subscriptions = await deployedBlock(subscriptions);
  log(`Subscriptions  ${await subscriptions.getAddress()}`);

  const flags = await new FeatureFlags__factory(signer).deploy(await accessManager.getAddress());
  blocks.FeatureFlags = await deployedBlock(flags);
  log(`FeatureFlags   ${await flags.getAddress()}`);

  const rateLimits = await new RateLimitPolicy__factory(signer).deploy(
    await accessManager.getAddress(),
    params.defaultRatePolicy,
  );
  blocks.RateLimitPolicy = await deployedBlock(rateLimits);
  log(`RateLimitPolicy ${await rateLimits.getAddress()}`);

  const credential = await new DeveloperCredential__factory(signer).deploy(
    await accessManager.getAddress(),
    await registry.getAddress(),
    params.credentialMinApiAge,
  );
  blocks.DeveloperCredential = await deployedBlock(credential);
  log(`DeveloperCredential ${await credential.getAddress()}`);

  const poseidonT2 = await poseidonLibrary(signer, canonicalPoseidon.PoseidonT2.address, new PoseidonT2__factory());
  blocks.PoseidonT2 = poseidonT2.blockNumber;
  const poseidonT3 = await poseidonLibrary(signer, canonicalPoseidon.PoseidonT3.address, new PoseidonT3__factory());
  blocks.PoseidonT3 = poseidonT3.blockNumber;
  log(`PoseidonT2     ${poseidonT2.address}`);
  log(`PoseidonT3     ${poseidonT3.address}`);
  const accessGroups = await new AccessGroups__factory(
    {
      "npm/poseidon-solidity@0.0.5/PoseidonT2.sol:PoseidonT2": poseidonT2.address,
      "npm/poseidon-solidity@0.0.5/PoseidonT3.sol:PoseidonT3": poseidonT3.address,
    },
    signer,
  ).deploy(
    await accessManager.getAddress(),
    await registry.getAddress(),
    await subscriptions.getAddress(),
    params.treasury,
    params.accessSlashRewardBps,
  );
  blocks.AccessGroups = await deployedBlock(accessGroups);
  log(`AccessGroups   ${await accessGroups.getAddress()}`);
  const groth16 = await new AccessVerifierGroth16__factory(signer).deploy();
  blocks.AccessVerifierGroth16 = await deployedBlock(groth16);
  const accessVerifier = await new AccessVerifier__factory(signer).deploy(
    await accessGroups.getAddress(),
    await groth16.getAddress(),
  );
  blocks.AccessVerifier = await deployedBlock(accessVerifier);
  log(`AccessVerifier ${await accessVerifier.getAddress()} (Groth16 ${await groth16.getAddress()})`);

  const protocol: Protocol = {
    accessManager,
    token,
    registry,
    staking,
    oracle,
    escrow,
    discounts,
    quoter,
    subscriptions,
    flags,
    rateLimits,
    credential,
    accessGroups,
    accessVerifier,
    reputation,
    rewards,
  };
  await wireRoles(protocol, params);
  log("roles wired (see docs/roles.md)");

  const addresses = {
    AccessManager: await accessManager.getAddress(),
    MeshToken: await token.getAddress(),
    ApiRegistry: await registry.getAddress(),
    NodeStaking: await staking.getAddress(),
    UsdPriceOracle: await oracle.getAddress(),
    PaymentEscrow: await escrow.getAddress(),
    DiscountStaking: await discounts.getAddress(),
    PriceQuoter: await quoter.getAddress(),
    Subscriptions: await subscriptions.getAddress(),
    FeatureFlags: await flags.getAddress(),
    RateLimitPolicy: await rateLimits.getAddress(),
    DeveloperCredential: await credential.getAddress(),
    PoseidonT2: poseidonT2.address,
    PoseidonT3: poseidonT3.address,
    AccessGroups: await accessGroups.getAddress(),
    AccessVerifierGroth16: await groth16.getAddress(),
    AccessVerifier: await accessVerifier.getAddress(),
    Reputation: await reputation.getAddress(),
    NodeRewards: await rewards.getAddress(),
  };
  const contracts = Object.fromEntries(
    (Object.keys(addresses) as ContractName[]).map((name) => [
      name,
      { address: addresses[name], blockNumber: blocks[name] },
    ]),
  ) as Deployment["contracts"];

  return {
    protocol,
    deployment: {
      network: options.network,
      chainId,
      deployer,
      treasury: params.treasury,
      deployedAt: new Date().toISOString(),
      // AccessManager is deployed first; canonical Poseidon libraries may predate it.
      startBlock: blocks.AccessManager,
      contracts,
    },
  };
}

/** The contract instance behind each name of the role table. */
export function managedTargets(protocol: Protocol): Record<ManagedContract, BaseContract> {
  return {
    ApiRegistry: protocol.registry,
    NodeStaking: protocol.staking,
    UsdPriceOracle: protocol.oracle,
    PaymentEscrow: protocol.escrow,
    DiscountStaking: protocol.discounts,
    PriceQuoter: protocol.quoter,
    Subscriptions: protocol.subscriptions,
    FeatureFlags: protocol.flags,
    RateLimitPolicy: protocol.rateLimits,
    DeveloperCredential: protocol.credential,
    AccessGroups: protocol.accessGroups,
    Reputation: protocol.reputation,
    NodeRewards: protocol.rewards,
  };
}

/** Applies ROLE_TABLE to the AccessManager and grants the initial role holders. */
async function wireRoles(protocol: Protocol, params: DeployParams): Promise<void> {
  const { accessManager } = protocol;
  const targets = managedTargets(protocol);

  // One setTargetFunctionRole call per (contract, role) pair.
  const groups = new Map<string, { target: BaseContract; role: bigint; selectors: string[] }>();
  for (const rule of ROLE_TABLE) {
    const target = targets[rule.contract];
    const fragment = target.interface.getFunction(rule.fn);
    if (fragment === null) throw new Error(`${rule.contract} has no function ${rule.fn} (deploy/roles.ts)`);
    const key = `${rule.contract}:${rule.role}`;
    const group = groups.get(key) ?? { target, role: ROLES[rule.role], selectors: [] };
    group.selectors.push(fragment.selector);
    groups.set(key, group);
  }
  for (const { target, role, selectors } of groups.values()) {
    await mined(accessManager.setTargetFunctionRole(await target.getAddress(), selectors, role));
  }

  for (const [name, label] of Object.entries(ROLE_LABELS) as [keyof typeof ROLE_LABELS, string][]) {
    await mined(accessManager.labelRole(ROLES[name], label));
  }
  await mined(accessManager.grantRole(ROLES.PROTOCOL, params.protocolAdmin, 0));
  await mined(accessManager.grantRole(ROLES.SECURITY, params.securityAdmin, 0));
  await mined(accessManager.grantRole(ROLES.DEVELOPER, params.developerAdmin, 0));
  await mined(accessManager.grantRole(ROLES.GUARDIAN, params.guardian, 0));
}

/** Connects typed handles to an existing deployment. */
export function attachProtocol(deployment: Deployment, runner: Signer): Protocol {
  const c = deployment.contracts;
  return {
    accessManager: AccessManager__factory.connect(c.AccessManager.address, runner),
    token: MeshToken__factory.connect(c.MeshToken.address, runner),
    registry: ApiRegistry__factory.connect(c.ApiRegistry.address, runner),
    staking: NodeStaking__factory.connect(c.NodeStaking.address, runner),
    oracle: UsdPriceOracle__factory.connect(c.UsdPriceOracle.address, runner),
    escrow: PaymentEscrow__factory.connect(c.PaymentEscrow.address, runner),
    discounts: DiscountStaking__factory.connect(c.DiscountStaking.address, runner),
    quoter: PriceQuoter__factory.connect(c.PriceQuoter.address, runner),
    subscriptions: Subscriptions__factory.connect(c.Subscriptions.address, runner),
    flags: FeatureFlags__factory.connect(c.FeatureFlags.address, runner),
    rateLimits: RateLimitPolicy__factory.connect(c.RateLimitPolicy.address, runner),
    credential: DeveloperCredential__factory.connect(c.DeveloperCredential.address, runner),
    accessGroups: AccessGroups__factory.connect(c.AccessGroups.address, runner),
    accessVerifier: AccessVerifier__factory.connect(c.AccessVerifier.address, runner),
    reputation: Reputation__factory.connect(c.Reputation.address, runner),
    rewards: NodeRewards__factory.connect(c.NodeRewards.address, runner),
  };
}
