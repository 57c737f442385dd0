/**
 * npm start: a full local network on embedded defaults. Starts a Hardhat JSON-RPC chain,
 * deploys the protocol, starts the demo upstream API, lists it and registers a demo node,
 * writes deployments/localhost.json, starts a Redis (unless MESHGATE_REDIS_URL names one), the
 * demo node's relayer and the subgraph runner (GraphQL on :8000), and prints the addresses. Ctrl-C stops everything.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, parseEther } from "ethers";
import { network } from "hardhat";
import { z } from "zod";
import { deploymentPath, writeDeployment } from "../deploy/deployments.js";
import { deployGovernance, localGovernanceParams } from "../deploy/governance.js";
import { deployProtocol } from "../deploy/protocol.js";
import { devAccount } from "./cli/env.js";
import { loadRelayerConfig } from "../relayer/config.js";
import { createLogger } from "../relayer/log.js";
import { startRelayer } from "../relayer/relayer.js";
import { startDemoApi } from "./demo/demo-api.js";
import { startRedis } from "./dev/redis-server.js";
import { loadSubgraphConfig } from "../subgraph/runner/config.js";
import { startSubgraphRunner } from "../subgraph/runner/runner.js";
import { seedDemo } from "./demo/seed.js";

const port = z.coerce.number().int().min(1).max(65535);
const env = z
  .object({
    MESHGATE_RPC_PORT: port.default(8545),
    MESHGATE_DEMO_API_PORT: port.default(8081),
    MESHGATE_RELAYER_PORT: port.default(8787),
    /** The subgraph's GraphQL endpoint (graph-node's query port). */
    MESHGATE_SUBGRAPH_PORT: port.default(8000),
    /** An existing Redis for the relayer; by default a throwaway redis-server is started. */
    MESHGATE_REDIS_URL: z.string().optional(),
    MESHGATE_HOST: z.string().default("127.0.0.1"),
    // Where to write the addresses; the CLI reads the same variable.
    MESHGATE_DEPLOYMENT: z.string().default(deploymentPath("localhost")),
  })
  .safeParse(process.env);
if (!env.success) {
  console.error(`error: bad environment: ${z.prettifyError(env.error)}`);
  process.exit(2);
}
const {
  MESHGATE_RPC_PORT,
  MESHGATE_DEMO_API_PORT,
  MESHGATE_RELAYER_PORT,
  MESHGATE_SUBGRAPH_PORT,
  MESHGATE_HOST,
  MESHGATE_DEPLOYMENT,
} = env.data;

const server = await network.createServer("node", MESHGATE_HOST, MESHGATE_RPC_PORT);
const { address, port: rpcPort } = await server.listen().catch((error: Error) => {
  console.error(
    `error: cannot listen on ${MESHGATE_HOST}:${MESHGATE_RPC_PORT} (${error.message}): set MESHGATE_RPC_PORT`,
  );
  process.exit(2);
});
const rpcUrl = `http://${address}:${rpcPort}`;
const demo = await startDemoApi(MESHGATE_DEMO_API_PORT, MESHGATE_HOST).catch((error: Error) => {
  console.error(
    `error: cannot start the demo API on port ${MESHGATE_DEMO_API_PORT} (${error.message}): set MESHGATE_DEMO_API_PORT`,
  );
  process.exit(2);
});

const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 250 });
const [deployer, apiProvider, operator, payer, voter] = [0, 1, 2, 3, 4].map(
  (i) => new NonceManager(devAccount(i).connect(provider)),
) as [NonceManager, NonceManager, NonceManager, NonceManager, NonceManager];

const { protocol, deployment } = await deployProtocol(deployer, { network: "localhost" });
const file = await writeDeployment(deployment, MESHGATE_DEPLOYMENT);
const seed = await seedDemo(
  protocol,
  { treasury: deployer, provider: apiProvider, operator, payer },
  { upstream: demo.url, node: `http://${MESHGATE_HOST}:${MESHGATE_RELAYER_PORT}` },
);

// Voters: dev accounts 3 and 4 get 50M MESH each (above the Protocol DAO's 4% quorum) and
// delegate to themselves; dev account 1 (the demo provider) gets a developer credential.
for (const holder of [payer, voter]) {
  await (await protocol.token.connect(deployer).transfer(await holder.getAddress(), parseEther("50000000"))).wait();
  await (await protocol.token.connect(holder).delegate(await holder.getAddress())).wait();
}
const { addresses: governance } = await deployGovernance(
  protocol,
  deployer,
  localGovernanceParams([await apiProvider.getAddress()]),
);
deployment.governance = governance;
deployment.treasury = governance.ProtocolTimelock;
await writeDeployment(deployment, MESHGATE_DEPLOYMENT);

// The demo node's relayer, on a Redis of its own unless one was named.
const redis = env.data.MESHGATE_REDIS_URL
  ? undefined
  : await startRedis().catch((error: Error) => {
      console.error(`error: ${error.message}; or set MESHGATE_REDIS_URL to a running Redis`);
      process.exit(2);
    });
const relayerConfig = loadRelayerConfig({
  ...process.env,
  MESHGATE_RPC_URL: rpcUrl,
  MESHGATE_DEPLOYMENT,
  MESHGATE_RELAYER_HOST: MESHGATE_HOST,
  MESHGATE_RELAYER_PORT: String(MESHGATE_RELAYER_PORT),
  MESHGATE_OPERATOR_KEY: devAccount(2).privateKey,
  MESHGATE_REDIS_URL: env.data.MESHGATE_REDIS_URL ?? redis!.url,
  MESHGATE_LOG_LEVEL: process.env.MESHGATE_LOG_LEVEL ?? "warn",
});
const relayer = await startRelayer(relayerConfig, createLogger(relayerConfig.logLevel)).catch((error: Error) => {
  console.error(`error: the relayer did not start: ${error.message}`);
  process.exit(2);
});

// The subgraph: the compiled mappings (npm start builds them) indexing this throwaway chain,
// journaled in a throwaway directory unless MESHGATE_SUBGRAPH_JOURNAL names a file.
const subgraphDir = await mkdtemp(path.join(tmpdir(), "meshgate-subgraph-"));
const subgraphConfig = loadSubgraphConfig({
  ...process.env,
  MESHGATE_RPC_URL: rpcUrl,
  MESHGATE_DEPLOYMENT,
  MESHGATE_SUBGRAPH_HOST: MESHGATE_HOST,
  MESHGATE_SUBGRAPH_PORT: String(MESHGATE_SUBGRAPH_PORT),
  MESHGATE_SUBGRAPH_JOURNAL: process.env.MESHGATE_SUBGRAPH_JOURNAL ?? path.join(subgraphDir, "journal.jsonl"),
  MESHGATE_LOG_LEVEL: process.env.MESHGATE_LOG_LEVEL ?? "warn",
});
const subgraph = await startSubgraphRunner(
  subgraphConfig,
  createLogger(subgraphConfig.logLevel, "meshgate-subgraph"),
).catch((error: Error) => {
  console.error(`error: the subgraph runner did not start: ${error.message}`);
  process.exit(2);
});
await subgraph.sync();

const contractLines = Object.entries({ ...deployment.contracts, ...governanceEntries(governance) })
  .map(([name, { address }]) => `  ${name.padEnd(15)} ${address}`)
  .join("\n");
console.log(`Meshgate local network is up.

  JSON-RPC        ${rpcUrl}  (chain ${deployment.chainId})
  Demo API        ${demo.url}/v1/forecast?city=Lisbon  (upstream; the relayer serves it as /${seed.apiId}/...)
  Relayer         ${relayer.url}  (node ${relayer.node}; Redis ${relayerConfig.redisUrl})
  Subgraph        ${subgraph.url}  (GraphQL, The Graph's query shape)
  Deployment      ${file}

${contractLines}
  dUSDC (dev)     ${seed.stablecoin}  (6 decimals, $1 feed; 1,000,000 to dev accounts 1-3)

  Demo API id     ${seed.apiId} (provider ${seed.provider}, dev account 1)
  Demo node       ${seed.operator} (edge, dev account 2)
  Demo payer      ${seed.payer} (dev account 3: 100 dUSDC in a channel to the demo node)
  DAO voters      dev accounts 3 and 4 (50M MESH each, delegated); dev account 1 holds a developer credential

Try: npm run cli -- voucher call ${seed.apiId} "/v1/forecast?city=Lisbon" --token ${seed.stablecoin} --account 3
     curl ${relayer.url}/metrics
     curl -s ${subgraph.url} -H 'content-type: application/json' -d '{"query":"{ apis { apiId upstreamUrl provider { id } } nodes { id url stake } }"}'
     npm run cli -- api show ${seed.apiId}
     npm run cli -- node show ${seed.operator}
     npm run cli -- channel show --account 3 --node ${seed.operator} --api ${seed.apiId} --token ${seed.stablecoin}
Ctrl-C stops the network.`);

await new Promise<void>((resolve) => {
  process.once("SIGINT", resolve);
  process.once("SIGTERM", resolve);
});
await relayer.stop();
await subgraph.stop();
await rm(subgraphDir, { recursive: true, force: true });
await redis?.stop();
provider.destroy();
demo.server.close();
await server.close();
process.exit(0);

function governanceEntries(g: Record<string, string>): Record<string, { address: string }> {
  return Object.fromEntries(Object.entries(g).map(([name, address]) => [name, { address }]));
}
