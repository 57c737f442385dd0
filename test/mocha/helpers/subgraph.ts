import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager } from "ethers";
import { network } from "hardhat";
import { writeDeployment, type Deployment } from "../../../deploy/deployments.js";
import { deployGovernance, localGovernanceParams, type Governance } from "../../../deploy/governance.js";
import { deployProtocol, type Protocol } from "../../../deploy/protocol.js";
import { createLogger } from "../../../relayer/log.js";
import { devAccount } from "../../../scripts/cli/env.js";
import { loadSubgraphConfig } from "../../../subgraph/runner/config.js";
import { startSubgraphRunner, type SubgraphRunner } from "../../../subgraph/runner/runner.js";
import { ROOT } from "./processes.js";

export const SUBGRAPH_BUILD = path.join(ROOT, "subgraph", "build");

/**
 * A Hardhat chain served over HTTP with the protocol deployed, and (once `index()` ran) the
 * local subgraph runner indexing it with the compiled mappings from `npm run subgraph:build:local`.
 * Act on the chain first (admin calls need the deployer before `handOver()`), then index.
 */
export interface IndexedChain {
  rpcUrl: string;
  provider: JsonRpcProvider;
  protocol: Protocol;
  deployment: Deployment;
  /** Written at the first index(). */
  deploymentFile: string;
  journalFile: string;
  /** Dev account i as a nonce-managed signer (one per account for the whole test). */
  account(i: number): NonceManager;
  /** Deploys the three DAOs and hands the protocol over (deployer = dev account 0). */
  handOver(initialDevelopers?: string[]): Promise<Governance>;
  /** Starts the runner (first call) and indexes up to the chain head. */
  index(): Promise<SubgraphRunner>;
  /** Stops the runner and starts a new one on the same journal (not synced yet). */
  restart(): Promise<SubgraphRunner>;
  /** POSTs a GraphQL query to the runner; throws on GraphQL errors. */
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export async function startIndexedChain(): Promise<IndexedChain> {
  if (!existsSync(path.join(SUBGRAPH_BUILD, "subgraph.yaml"))) {
    throw new Error(`no compiled subgraph at ${SUBGRAPH_BUILD}: run npm run subgraph:build:local first`);
  }
  const server = await network.createServer("node", "127.0.0.1", 0);
  const { address, port } = await server.listen();
  const rpcUrl = `http://${address}:${port}`;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 20 });
  const accounts = new Map<number, NonceManager>();
  const account = (i: number) => {
    if (!accounts.has(i)) accounts.set(i, new NonceManager(devAccount(i).connect(provider)));
    return accounts.get(i)!;
  };
  const { protocol, deployment } = await deployProtocol(account(0), { network: "subgraph-test" });
  const dir = await mkdtemp(path.join(tmpdir(), "meshgate-subgraph-"));
  const deploymentFile = path.join(dir, "deployment.json");
  const journalFile = path.join(dir, "journal.jsonl");
  let runner: SubgraphRunner | undefined;

  const startRunner = () =>
    startSubgraphRunner(
      loadSubgraphConfig({
        MESHGATE_RPC_URL: rpcUrl,
        MESHGATE_DEPLOYMENT: deploymentFile,
        MESHGATE_SUBGRAPH_BUILD: SUBGRAPH_BUILD,
        MESHGATE_SUBGRAPH_JOURNAL: journalFile,
        MESHGATE_SUBGRAPH_PORT: "0",
        // Tests drive indexing with index(); the timer only makes the first poll.
        MESHGATE_SUBGRAPH_POLL_MS: "3600000",
      }),
      createLogger("error", "meshgate-subgraph"),
    );

  const chain: IndexedChain = {
    rpcUrl,
    provider,
    protocol,
    deployment,
    deploymentFile,
    journalFile,
    account,
    async handOver(initialDevelopers = []) {
      if (runner) throw new Error("hand over before index(): the runner binds the DAOs' addresses at start");
      const { governance, addresses } = await deployGovernance(
        protocol,
        account(0),
        localGovernanceParams(initialDevelopers),
      );
      deployment.governance = addresses;
      deployment.treasury = addresses.ProtocolTimelock;
      return governance;
    },
    async index() {
      if (!runner) {
        await writeDeployment(deployment, deploymentFile);
        runner = await startRunner();
      }
      await runner.sync();
      if (runner.indexer.failure) throw runner.indexer.failure;
      return runner;
    },
    async restart() {
      await runner?.stop();
      runner = await startRunner();
      return runner;
    },
    async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      if (!runner) throw new Error("call index() before query()");
      const res = await fetch(runner.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
      if (body.errors?.length) throw new Error(`GraphQL errors: ${body.errors.map((e) => e.message).join("; ")}`);
      return body.data!;
    },
    async stop() {
      await runner?.stop();
      provider.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return chain;
}
