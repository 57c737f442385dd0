/**
 * One command deploys and wires the whole protocol on the network Hardhat selects and writes
 * deployments/<network>.json:
 *   npm run deploy                                   in-process chain (throwaway)
 *   npm run deploy -- --network localhost            a running `hardhat node` (MESHGATE_RPC_URL)
 *   MESHGATE_RPC_URL=... MESHGATE_DEPLOYER_KEY=... npm run deploy -- --network remote
 * The deployer becomes AccessManager admin and holds every role until governance takes over.
 */
import { network } from "hardhat";
import { writeDeployment } from "./deployments.js";
import { deployProtocol } from "./protocol.js";

const { ethers, networkName } = await network.create();
const [signer] = await ethers.getSigners();
if (signer === undefined) throw new Error(`network "${networkName}" has no account: set MESHGATE_DEPLOYER_KEY`);

console.log(`Deploying Meshgate to "${networkName}" as ${signer.address}`);
const { deployment } = await deployProtocol(signer, { network: networkName, log: (m) => console.log(`  ${m}`) });
// MESHGATE_DEPLOYMENT overrides the output file (the CLI and relayer read the same variable).
const file = await writeDeployment(deployment, process.env.MESHGATE_DEPLOYMENT || undefined);
console.log(`Deployment written to ${file}`);
