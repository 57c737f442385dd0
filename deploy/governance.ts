import { parseEther, ZeroAddress, type BaseContract, type ContractTransactionResponse, type Signer } from "ethers";
import {
  MeshGovernor__factory,
  TimelockController__factory,
  type MeshGovernor,
  type TimelockController,
} from "../types/ethers-contracts/index.js";
import type { Deployment } from "./deployments.js";
import type { Protocol } from "./protocol.js";
import { ROLES } from "./roles.js";

export type DaoName = "protocol" | "security" | "developer";
export const DAOS: readonly DaoName[] = ["protocol", "security", "developer"];

/** One DAO's voting rules; all but the timelock delay change later only by the DAO's own vote. */
export interface DaoParams {
  votingDelay: number;
  votingPeriod: number;
  proposalThreshold: bigint;
  quorumPercent: number;
  /** Quorum floor in votes: a DAO with few voters must not pass proposals on one vote. */
  minQuorum: bigint;
  timelockDelay: number;
}

export interface GovernanceParams {
  protocol: DaoParams;
  security: DaoParams;
  developer: DaoParams;
  /** MESH sent from the deployer to the Developer DAO's timelock: the developer fund. */
  developerFund: bigint;
  /** Accounts that get a developer credential before the hand-over (else the DAO starts empty). */
  initialDevelopers: readonly string[];
  /** An emergency guardian that keeps the pause-only GUARDIAN role; none by default. */
  guardian?: string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

export function defaultGovernanceParams(): GovernanceParams {
  return {
    protocol: {
      votingDelay: DAY,
      votingPeriod: 5 * DAY,
      proposalThreshold: parseEther("100000"),
      quorumPercent: 4,
      minQuorum: parseEther("10000000"),
      timelockDelay: 2 * DAY,
    },
    security: {
      votingDelay: HOUR,
      votingPeriod: 2 * DAY,
      proposalThreshold: parseEther("10000"),
      quorumPercent: 10,
      minQuorum: parseEther("50000"),
      timelockDelay: DAY,
    },
    // Credentials are cheap to farm with free listings: a floor of 3 votes means one farmer
    // cannot pass a proposal alone; the Protocol DAO can revoke farmed credentials.
    developer: {
      votingDelay: DAY,
      votingPeriod: 5 * DAY,
      proposalThreshold: 1n,
      quorumPercent: 10,
      minQuorum: 3n,
      timelockDelay: 2 * DAY,
    },
    developerFund: parseEther("50000000"),
    initialDevelopers: [],
  };
}

/**
 * Governance for local chains: votes in minutes, not days (`npm run cli -- dev advance` skips
 * time), and a quorum floor of one vote, since local DAOs have one or two voters each.
 */
export function localGovernanceParams(initialDevelopers: readonly string[]): GovernanceParams {
  const defaults = defaultGovernanceParams();
  const quick = (p: DaoParams): DaoParams => ({
    ...p,
    votingDelay: 60,
    votingPeriod: 600,
    timelockDelay: 60,
    minQuorum: 1n,
  });
  return {
    ...defaults,
    protocol: quick(defaults.protocol),
    security: quick(defaults.security),
    developer: quick(defaults.developer),
    initialDevelopers,
  };
}

export interface Dao {
  governor: MeshGovernor;
  timelock: TimelockController;
}

export type Governance = Record<DaoName, Dao>;

async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction was dropped");
}

async function addressOf(c: BaseContract): Promise<string> {
  return c.getAddress();
}

/**
 * Deploys the three DAOs (a timelock and a governor each) and hands the protocol over:
 * every AccessManager role goes to its DAO's timelock (GUARDIAN to the Security timelock and
 * the optional guardian), each role administers itself, the treasury (MESH supply, fees, slashed
 * stake) moves to the Protocol timelock, the developer fund to the Developer timelock, and the
 * deployer renounces every role it held, AccessManager ADMIN included. After this no account
 * but the timelocks (and the guardian's pause) holds any power.
 */
export async function deployGovernance(
  protocol: Protocol,
  signer: Signer,
  params: GovernanceParams = defaultGovernanceParams(),
  log: (message: string) => void = () => undefined,
): Promise<{ governance: Governance; addresses: NonNullable<Deployment["governance"]> }> {
  const deployer = await signer.getAddress();
  const votes: Record<DaoName, BaseContract> = {
    protocol: protocol.token,
    security: protocol.staking,
    developer: protocol.credential,
  };
  const names: Record<DaoName, string> = {
    protocol: "Meshgate Protocol DAO",
    security: "Meshgate Security DAO",
    developer: "Meshgate Developer DAO",
  };

  const governance = {} as Governance;
  for (const dao of DAOS) {
    const p = params[dao];
    // Anyone may execute a queued, delayed operation; only the governor proposes and cancels.
    const timelock = await new TimelockController__factory(signer).deploy(p.timelockDelay, [], [ZeroAddress], deployer);
    await timelock.waitForDeployment();
    const governor = await new MeshGovernor__factory(signer).deploy(
      names[dao],
      await addressOf(votes[dao]),
      await timelock.getAddress(),
      p.votingDelay,
      p.votingPeriod,
      p.proposalThreshold,
      p.quorumPercent,
      p.minQuorum,
    );
    await governor.waitForDeployment();
    const g = await governor.getAddress();
    await mined(timelock.grantRole(await timelock.PROPOSER_ROLE(), g));
    await mined(timelock.grantRole(await timelock.CANCELLER_ROLE(), g));
    governance[dao] = { governor, timelock };
    log(`${names[dao]}: governor ${g}, timelock ${await timelock.getAddress()}`);
  }

  const protocolTimelock = await governance.protocol.timelock.getAddress();
  const securityTimelock = await governance.security.timelock.getAddress();
  const developerTimelock = await governance.developer.timelock.getAddress();

  // Money first, while the deployer still holds PROTOCOL: the treasury becomes the Protocol DAO.
  for (const c of [
    protocol.registry,
    protocol.staking,
    protocol.escrow,
    protocol.subscriptions,
    protocol.accessGroups,
  ]) {
    await mined(c.connect(signer).setTreasury(protocolTimelock));
  }
  for (const developer of params.initialDevelopers) {
    await mined(protocol.credential.connect(signer).issue(developer));
  }
  const token = protocol.token.connect(signer);
  if (params.developerFund > 0n) await mined(token.transfer(developerTimelock, params.developerFund));
  const rest = await token.balanceOf(deployer);
  if (rest > 0n) await mined(token.transfer(protocolTimelock, rest));

  // Roles: each DAO's timelock holds its roles, and each role administers itself, so no DAO
  // can grant itself another DAO's powers.
  const m = protocol.accessManager.connect(signer);
  await mined(m.grantRole(ROLES.PROTOCOL, protocolTimelock, 0));
  await mined(m.grantRole(ROLES.SECURITY, securityTimelock, 0));
  await mined(m.grantRole(ROLES.DEVELOPER, developerTimelock, 0));
  await mined(m.grantRole(ROLES.GUARDIAN, securityTimelock, 0));
  if (params.guardian !== undefined) await mined(m.grantRole(ROLES.GUARDIAN, params.guardian, 0));
  await mined(m.setRoleAdmin(ROLES.PROTOCOL, ROLES.PROTOCOL));
  await mined(m.setRoleAdmin(ROLES.SECURITY, ROLES.SECURITY));
  await mined(m.setRoleAdmin(ROLES.DEVELOPER, ROLES.DEVELOPER));
  await mined(m.setRoleAdmin(ROLES.GUARDIAN, ROLES.SECURITY));
  for (const role of [ROLES.PROTOCOL, ROLES.SECURITY, ROLES.DEVELOPER, ROLES.GUARDIAN]) {
    if (params.guardian === deployer && role === ROLES.GUARDIAN) continue;
    const [member] = await m.hasRole(role, deployer);
    if (member) await mined(m.renounceRole(role, deployer));
  }
  await mined(m.renounceRole(ROLES.ADMIN, deployer));
  for (const dao of DAOS) {
    const t = governance[dao].timelock.connect(signer);
    await mined(t.renounceRole(await t.DEFAULT_ADMIN_ROLE(), deployer));
  }
  log("hand-over done: the deployer holds no role");

  const addresses = {
    ProtocolGovernor: await governance.protocol.governor.getAddress(),
    ProtocolTimelock: protocolTimelock,
    SecurityGovernor: await governance.security.governor.getAddress(),
    SecurityTimelock: securityTimelock,
    DeveloperGovernor: await governance.developer.governor.getAddress(),
    DeveloperTimelock: developerTimelock,
  };
  return { governance, addresses };
}
