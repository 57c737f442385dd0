import { HDNodeWallet, JsonRpcProvider, Wallet, type Signer } from "ethers";
import { z } from "zod";
import { deploymentPath, readDeployment, type Deployment } from "../../deploy/deployments.js";
import { UsageError } from "./errors.js";

/** Hardhat's public development mnemonic: its accounts are funded on local chains only. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const LOCAL_CHAIN_ID = 31337;

const envSchema = z.object({
  MESHGATE_RPC_URL: z.url().default("http://127.0.0.1:8545"),
  MESHGATE_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits")
    .optional(),
  MESHGATE_DEPLOYMENT: z.string().default(deploymentPath("localhost")),
});

export type CliEnv = z.infer<typeof envSchema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new UsageError(`bad environment: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function devAccount(index: number): HDNodeWallet {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
}

/** Connects to the chain and picks the acting account; checks the deployment is for this chain. */
export async function connect(
  env: CliEnv,
  account: string | undefined,
): Promise<{ signer: Signer; deployment: Deployment }> {
  const provider = new JsonRpcProvider(env.MESHGATE_RPC_URL, undefined, { staticNetwork: true });
  let chainId: number;
  try {
    chainId = Number((await provider.getNetwork()).chainId);
  } catch {
    provider.destroy();
    throw new UsageError(
      `cannot reach ${env.MESHGATE_RPC_URL}: start a local network with "npm start" or set MESHGATE_RPC_URL`,
    );
  }
  const deployment = await readDeployment(env.MESHGATE_DEPLOYMENT).catch((error: Error) => {
    provider.destroy();
    throw new UsageError(error.message);
  });
  if (deployment.chainId !== chainId) {
    provider.destroy();
    throw new UsageError(
      `${env.MESHGATE_DEPLOYMENT} is for chain ${deployment.chainId} but ${env.MESHGATE_RPC_URL} is chain ${chainId}: set MESHGATE_DEPLOYMENT to this chain's file`,
    );
  }
  if (account !== undefined && env.MESHGATE_PRIVATE_KEY !== undefined) {
    throw new UsageError("pass either --account or MESHGATE_PRIVATE_KEY, not both");
  }
  if (env.MESHGATE_PRIVATE_KEY !== undefined)
    return { signer: new Wallet(env.MESHGATE_PRIVATE_KEY, provider), deployment };
  if (chainId !== LOCAL_CHAIN_ID) {
    provider.destroy();
    throw new UsageError(`chain ${chainId} is not a local chain: set MESHGATE_PRIVATE_KEY to the acting account's key`);
  }
  const index = account === undefined ? 0 : Number(account);
  if (!Number.isInteger(index) || index < 0 || index > 19) {
    throw new UsageError(`--account must be a dev account index from 0 to 19 (got "${account}")`);
  }
  return { signer: devAccount(index).connect(provider), deployment };
}
