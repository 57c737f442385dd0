/**
 * One command deploys and wires the whole protocol on the network Hardhat selects, deploys the
 * three DAOs and hands every power over to them, and writes deployments/<network>.json:
 *   npm run deploy                                   in-process chain (throwaway)
 *   npm run deploy -- --network localhost            a running `hardhat node` (MESHGATE_RPC_URL)
 *   MESHGATE_RPC_URL=... MESHGATE_DEPLOYER_KEY=... npm run deploy -- --network remote
 * MESHGATE_GUARDIAN=<address> names an emergency guardian (pause only); MESHGATE_SKIP_HANDOVER=1
 * keeps every role with the deployer (development only).
 */
import { isAddress } from "ethers";
import { network } from "hardhat";
import { writeDeployment } from "./deployments.js";
import { defaultGovernanceParams, deployGovernance } from "./governance.js";
import { deployProtocol } from "./protocol.js";

const { ethers, networkName } = await network.create();
const [signer] = await ethers.getSigners();
if (signer === undefined) throw new Error(`network "${networkName}" has no account: set MESHGATE_DEPLOYER_KEY`);
const guardian = process.env.MESHGATE_GUARDIAN || undefined;
if (guardian !== undefined && !isAddress(guardian)) {
  throw new Error(`MESHGATE_GUARDIAN must be an address (got "${guardian}")`);
}

console.log(`Deploying Meshgate to "${networkName}" as ${signer.address}`);
const log = (m: string) => console.log(`  ${m}`);
const { protocol, deployment } = await deployProtocol(signer, { network: networkName, log });
if (process.env.MESHGATE_SKIP_HANDOVER !== "1") {
  const { addresses } = await deployGovernance(protocol, signer, { ...defaultGovernanceParams(), guardian }, log);
  deployment.governance = addresses;
  deployment.treasury = addresses.ProtocolTimelock;
}
// MESHGATE_DEPLOYMENT overrides the output file (the CLI and relayer read the same variable).
const file = await writeDeployment(deployment, process.env.MESHGATE_DEPLOYMENT || undefined);
console.log(`Deployment written to ${file}`);
