import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** Where deployment files live: deployments/<network>.json. */
export const DEPLOYMENTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "deployments");

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte address");
const deployedContract = z.object({ address, blockNumber: z.number().int().nonnegative() });

export const deploymentSchema = z.object({
  network: z.string().min(1),
  chainId: z.number().int().positive(),
  deployer: address,
  treasury: address,
  deployedAt: z.string(),
  startBlock: z.number().int().nonnegative(),
  /** The DAOs, once the hand-over ran (deploy/governance.ts). */
  governance: z
    .object({
      ProtocolGovernor: address,
      ProtocolTimelock: address,
      SecurityGovernor: address,
      SecurityTimelock: address,
      DeveloperGovernor: address,
      DeveloperTimelock: address,
    })
    .optional(),
  contracts: z.object({
    AccessManager: deployedContract,
    MeshToken: deployedContract,
    ApiRegistry: deployedContract,
    NodeStaking: deployedContract,
    UsdPriceOracle: deployedContract,
    PaymentEscrow: deployedContract,
    DiscountStaking: deployedContract,
    PriceQuoter: deployedContract,
    Subscriptions: deployedContract,
    FeatureFlags: deployedContract,
    RateLimitPolicy: deployedContract,
    DeveloperCredential: deployedContract,
    PoseidonT2: deployedContract,
    PoseidonT3: deployedContract,
    AccessGroups: deployedContract,
    AccessVerifierGroth16: deployedContract,
    AccessVerifier: deployedContract,
    Reputation: deployedContract,
    NodeRewards: deployedContract,
  }),
});

/** The addresses of one deployment: what the relayer, subgraph and scripts read. */
export type Deployment = z.infer<typeof deploymentSchema>;
export type ContractName = keyof Deployment["contracts"];

export function deploymentPath(network: string, dir = DEPLOYMENTS_DIR): string {
  if (!/^[\w.-]+$/.test(network)) throw new Error(`invalid network name "${network}"`);
  return path.join(dir, `${network}.json`);
}

export async function writeDeployment(
  deployment: Deployment,
  file = deploymentPath(deployment.network),
): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(deploymentSchema.parse(deployment), null, 2)}\n`);
  return file;
}

/** Reads and validates a deployment file; the error names the command that creates it. */
export async function readDeployment(file: string): Promise<Deployment> {
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch {
    throw new Error(`no deployment file at ${file}: deploy first (npm start, or npm run deploy -- --network <name>)`);
  }
  const parsed = deploymentSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new Error(`deployment file ${file} is malformed: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
