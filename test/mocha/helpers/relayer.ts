import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  JsonRpcProvider,
  NonceManager,
  parseUnits,
  Wallet,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";
import { network } from "hardhat";
import { writeDeployment, type Deployment } from "../../../deploy/deployments.js";
import type { DeployParams } from "../../../deploy/params.js";
import { deployProtocol, type Protocol } from "../../../deploy/protocol.js";
import { devAccount } from "../../../scripts/cli/env.js";
import { startDemoApi } from "../../../scripts/demo/demo-api.js";
import { seedDemo, type DemoSeed } from "../../../scripts/demo/seed.js";
import { loadRelayerConfig, type RelayerConfig } from "../../../relayer/config.js";
import { PaidClient } from "../../../sdk/client.js";
import { createLogger } from "../../../relayer/log.js";
import { startRelayer, type Relayer } from "../../../relayer/relayer.js";
import { DevStablecoin__factory } from "../../../types/ethers-contracts/index.js";
import { freePort } from "./processes.js";
import { waitFor } from "./wait.js";
import { startRedis, type RedisServer } from "../../../scripts/dev/redis-server.js";

/** Price of one demo call: $0.001 in dUSDC (6 decimals). */
export const DEMO_PRICE = 1_000n;

/**
 * A whole local network for relayer tests: a Hardhat chain served over HTTP (the relayer is a
 * separate client of it, as in production), the deployed protocol, the demo upstream API listed
 * on-chain, a staked edge node (dev account 2), a funded payer channel (dev account 3) and a
 * throwaway Redis.
 */
export interface TestNetwork {
  rpcUrl: string;
  provider: JsonRpcProvider;
  protocol: Protocol;
  deployment: Deployment;
  deploymentFile: string;
  seed: DemoSeed;
  demo: { url: string; calls: () => number; close: () => Promise<void> };
  redis: RedisServer;
  accounts: { deployer: Signer; provider: Signer; operator: Wallet; payer: Signer };
  /** The relayer's environment for this network (for a relayer in a child process). */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Relayer configuration for this network; pass overrides as MESHGATE_* variables. */
  config(env?: Record<string, string>): RelayerConfig;
  startRelayer(env?: Record<string, string>): Promise<Relayer>;
  /**
   * Funds a new payer's channel to the demo node with `amount` dUSDC base units. Returns the
   * payer's signer: send its later transactions through it (ethers briefly caches nonce reads).
   */
  fundPayer(wallet: Wallet, amount: bigint): Promise<NonceManager>;
  stop(): Promise<void>;
}

export async function startTestNetwork(
  opts: { appendfsync?: "always" | "everysec"; params?: Partial<DeployParams> } = {},
): Promise<TestNetwork> {
  const port = await freePort();
  const server = await network.createServer("node", "127.0.0.1", port);
  const { address, port: rpcPort } = await server.listen();
  const rpcUrl = `http://${address}:${rpcPort}`;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 50 });
  const [deployer, apiProvider, payer] = [0, 1, 3].map((i) => new NonceManager(devAccount(i).connect(provider))) as [
    NonceManager,
    NonceManager,
    NonceManager,
  ];
  const operator = new Wallet(devAccount(2).privateKey, provider);

  // The demo API, counting the calls that reach it (tests assert refused calls never do).
  let calls = 0;
  const demo = await startDemoApi(0);
  demo.server.prependListener("request", () => calls++);

  const { protocol, deployment } = await deployProtocol(deployer, {
    network: "relayer-test",
    ...(opts.params ? { params: opts.params } : {}),
  });
  const operatorSigner = new NonceManager(operator);
  const seed = await seedDemo(
    protocol,
    { treasury: deployer, provider: apiProvider, operator: operatorSigner, payer },
    { upstream: demo.url, node: "http://127.0.0.1:8787" },
  );
  const dir = await mkdtemp(path.join(tmpdir(), "meshgate-relayer-"));
  const deploymentFile = path.join(dir, "deployment.json");
  await writeDeployment(deployment, deploymentFile);
  const redis = await startRedis({ appendfsync: opts.appendfsync });

  const relayers: Relayer[] = [];
  const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
    MESHGATE_RELAYER_PORT: "0",
    MESHGATE_RPC_URL: rpcUrl,
    MESHGATE_DEPLOYMENT: deploymentFile,
    MESHGATE_OPERATOR_KEY: operator.privateKey,
    MESHGATE_REDIS_URL: redis.url,
    MESHGATE_CHAIN_POLL_MS: "100",
    MESHGATE_SETTLE_SCAN_MS: "250",
    MESHGATE_TX_BUMP_AFTER_MS: "2000",
    MESHGATE_SHUTDOWN_GRACE_MS: "2000",
    MESHGATE_LOG_LEVEL: process.env.MESHGATE_TEST_LOG_LEVEL ?? "silent",
    ...overrides,
  });
  const config = (overrides: Record<string, string> = {}) => loadRelayerConfig(env(overrides));
  return {
    rpcUrl,
    provider,
    protocol,
    deployment,
    deploymentFile,
    seed,
    demo: {
      url: demo.url,
      calls: () => calls,
      close: () => new Promise((resolve) => demo.server.close(() => resolve())),
    },
    redis,
    accounts: { deployer, provider: apiProvider, operator, payer },
    env,
    config,
    startRelayer: async (overrides = {}) => {
      const c = config(overrides);
      const relayer = await startRelayer(c, createLogger(c.logLevel));
      relayers.push(relayer);
      return relayer;
    },
    fundPayer: async (wallet, amount) => {
      // dev account 3 holds ~1,000,000 dUSDC (seedDemo).
      const coin = DevStablecoin__factory.connect(seed.stablecoin, payer);
      await (await coin.transfer(wallet.address, amount)).wait();
      await (await deployer.sendTransaction({ to: wallet.address, value: parseUnits("10", 18) })).wait();
      const payerSigner = new NonceManager(wallet.connect(provider));
      await (await coin.connect(payerSigner).approve(await protocol.escrow.getAddress(), amount)).wait();
      await (
        await protocol.escrow.connect(payerSigner).deposit(seed.operator, seed.apiId, seed.stablecoin, amount)
      ).wait();
      return payerSigner;
    },
    stop: async () => {
      for (const r of relayers) await r.stop().catch(() => undefined);
      demo.server.closeAllConnections();
      await new Promise((resolve) => demo.server.close(resolve));
      provider.destroy();
      await server.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits for `tx` to be mined and for `relayer` to have followed the chain past its block. */
export async function followedBy(relayer: Relayer, tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = (await (await tx).wait())!;
  await waitFor(
    "the relayer to follow the chain",
    async () => (await relayer.metrics.chainHead.get()).values[0]?.value ?? 0,
    (head) => head >= receipt.blockNumber,
  );
}

/** `wallet`'s pay-per-call client for the demo API through the relayer at `relayerUrl`. */
export function demoClient(net: TestNetwork, relayerUrl: string, wallet: Wallet): PaidClient {
  return new PaidClient({
    relayerUrl,
    signer: wallet,
    payer: wallet.address,
    apiId: net.seed.apiId,
    token: net.seed.stablecoin,
    pricePerCall: DEMO_PRICE,
  });
}
