import type { Signer } from "ethers";
import type { Deployment } from "../../deploy/deployments.js";
import type { Dao, DaoName, Governance } from "../../deploy/governance.js";
import { MeshGovernor__factory, TimelockController__factory } from "../../types/ethers-contracts/index.js";

/** Typed handles on a deployment's DAOs, or undefined when it kept every role with the deployer. */
export function attachGovernance(deployment: Deployment, runner: Signer): Governance | undefined {
  const g = deployment.governance;
  if (g === undefined) return undefined;
  const dao = (governor: string, timelock: string): Dao => ({
    governor: MeshGovernor__factory.connect(governor, runner),
    timelock: TimelockController__factory.connect(timelock, runner),
  });
  const daos: Record<DaoName, Dao> = {
    protocol: dao(g.ProtocolGovernor, g.ProtocolTimelock),
    security: dao(g.SecurityGovernor, g.SecurityTimelock),
    developer: dao(g.DeveloperGovernor, g.DeveloperTimelock),
  };
  return daos;
}
