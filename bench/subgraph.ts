/**
 * npm run bench:subgraph: the local subgraph runner on a realistic marketplace. A Hardhat chain
 * over HTTP gets providers, APIs, staked nodes, a channel per (payer, node, API) and rounds of
 * batched voucher redemptions (scripts/demo/activity.ts). Then, in one run:
 * - baseline: only reading the same logs and blocks over JSON-RPC and decoding them with ethers
 *   (the floor any indexer pays), then the runner indexing from scratch with the compiled
 *   mappings (events/s, whole wall time from start to synced), then its restart from the journal;
 * - a typical marketplace query (top APIs by paid value with provider and busiest channels,
 *   nodes of a region, latest redemptions) over HTTP, against `_meta` alone as the baseline.
 * Last line: {"eventsPerSec", "queryP50Ms", "entities", ...}.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { encodeBytes32String, JsonRpcProvider, NonceManager } from "ethers";
import { network } from "hardhat";
import { writeDeployment } from "../deploy/deployments.js";
import { deployProtocol } from "../deploy/protocol.js";
import { createLogger } from "../relayer/log.js";
import { devAccount } from "../scripts/cli/env.js";
import { generateActivity } from "../scripts/demo/activity.js";
import { BlockSource } from "../subgraph/runner/chain/block-source.js";
import { loadSubgraphConfig } from "../subgraph/runner/config.js";
import { bindToDeployment, loadManifest } from "../subgraph/runner/manifest.js";
import { startSubgraphRunner } from "../subgraph/runner/runner.js";

const BUILD = path.join(import.meta.dirname, "..", "subgraph", "build");
const PLAN = { providers: 4, apisPerProvider: 5, nodes: 5, payers: 5, rounds: 20, batchSize: 50 };
const QUERY_RUNS = 300;
const MARKET_QUERY = `query Market($region: Bytes!) {
  apis(first: 10, orderBy: callsPaidValue, orderDirection: desc, where: { status: Active }) {
    id apiId upstreamUrl pricePerCall callsPaidValue redemptionCount
    provider { id apiCount revenue }
    channels(first: 5, orderBy: redeemed, orderDirection: desc) { id payer redeemed balance }
  }
  nodes(first: 10, orderBy: servedValue, orderDirection: desc, where: { region: $region }) {
    id url stake servedValue redemptionCount
  }
  redemptions(first: 20, orderBy: blockNumber, orderDirection: desc) { id paid cumulativeAmount channel { id } }
  _meta { block { number } }
}`;

const server = await network.createServer("node", "127.0.0.1", 0);
const { address, port } = await server.listen();
const rpcUrl = `http://${address}:${port}`;
const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 20 });
const deployer = new NonceManager(devAccount(0).connect(provider));
const { protocol, deployment } = await deployProtocol(deployer, { network: "bench" });
const generated = performance.now();
const activity = await generateActivity(protocol, deployer, PLAN);
console.log(
  `chain: ${activity.transactions} transactions (${activity.apiIds.length} APIs, ${activity.nodes.length} nodes, ` +
    `${activity.redemptions.length} vouchers redeemed) in ${((performance.now() - generated) / 1000).toFixed(1)} s`,
);
const dir = await mkdtemp(path.join(tmpdir(), "meshgate-bench-subgraph-"));
const deploymentFile = path.join(dir, "deployment.json");
await writeDeployment(deployment, deploymentFile);

// Baseline: what reading and decoding the same logs costs without mappings or a store.
const manifest = bindToDeployment(await loadManifest(BUILD), deployment);
const source = new BlockSource(provider);
const baselineStart = performance.now();
const head = await source.headNumber();
const byAddress = new Map(manifest.dataSources.map((ds) => [ds.address, ds]));
let decoded = 0;
const from = Math.min(...manifest.dataSources.map((ds) => ds.startBlock));
for (let start = from; start <= head; start += 2_000) {
  const logs = await source.logs(
    [...byAddress.keys()],
    [...new Set(manifest.dataSources.flatMap((ds) => [...ds.routes.keys()]))],
    start,
    Math.min(head, start + 1_999),
  );
  // Fetched as the runner does: 50 blocks per JSON-RPC batch.
  const blocks = [...new Set(logs.map((log) => Number(log.blockNumber)))];
  for (let i = 0; i < blocks.length; i += 50) await Promise.all(blocks.slice(i, i + 50).map((b) => source.block(b)));
  for (const log of logs) {
    const ds = byAddress.get(log.address.toLowerCase())!;
    ds.abi.decodeEventLog(ds.routes.get(log.topics[0]!)!.fragment, log.data, log.topics);
    decoded++;
  }
}
const baselineMs = performance.now() - baselineStart;

// The runner, from scratch: load the WASM, index everything, serve.
const env = {
  MESHGATE_RPC_URL: rpcUrl,
  MESHGATE_DEPLOYMENT: deploymentFile,
  MESHGATE_SUBGRAPH_BUILD: BUILD,
  MESHGATE_SUBGRAPH_JOURNAL: path.join(dir, "journal.jsonl"),
  MESHGATE_SUBGRAPH_PORT: "0",
};
const log = createLogger("warn", "meshgate-subgraph");
const indexStart = performance.now();
let runner = await startSubgraphRunner(loadSubgraphConfig(env), log);
await runner.sync();
const indexMs = performance.now() - indexStart;
const events = runner.indexer.eventsHandled;
if (runner.indexer.failure) throw runner.indexer.failure;
if (events !== decoded) throw new Error(`the runner handled ${events} events but the chain has ${decoded}`);
await runner.stop();

const replayStart = performance.now();
runner = await startSubgraphRunner(loadSubgraphConfig(env), log);
await runner.sync();
const replayMs = performance.now() - replayStart;
const entities = [...runner.store.counts().values()].reduce((a, b) => a + b, 0);

async function timeQuery(query: string, variables: Record<string, unknown>): Promise<number[]> {
  const body = JSON.stringify({ query, variables });
  const run = async () => {
    const res = await fetch(runner.url, { method: "POST", headers: { "content-type": "application/json" }, body });
    const json = (await res.json()) as { errors?: unknown[] };
    if (json.errors) throw new Error(`query failed: ${JSON.stringify(json.errors)}`);
  };
  for (let i = 0; i < 30; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const metaTimes = await timeQuery(`{ _meta { block { number } } }`, {});
const marketTimes = await timeQuery(MARKET_QUERY, { region: encodeBytes32String("eu-west") });
await runner.stop();

const eventsPerSec = Math.round(events / (indexMs / 1000));
const baselineEventsPerSec = Math.round(decoded / (baselineMs / 1000));
console.log(`\nindexing ${events} events, ${entities} entities at head (${head} blocks)`);
console.log("                                          events/s    wall ms");
console.log(
  `baseline: read + decode logs only   ${String(baselineEventsPerSec).padStart(12)} ${baselineMs.toFixed(0).padStart(10)}`,
);
console.log(
  `runner: index from scratch          ${String(eventsPerSec).padStart(12)} ${indexMs.toFixed(0).padStart(10)}`,
);
console.log(`runner: restart from journal        ${"-".padStart(12)} ${replayMs.toFixed(0).padStart(10)}`);
console.log(`\nqueries over HTTP (${QUERY_RUNS} runs each)         p50 ms   p99 ms`);
for (const [name, times] of [
  ["baseline: _meta only", metaTimes],
  ["marketplace query", marketTimes],
] as const) {
  console.log(
    `${name.padEnd(36)} ${pct(times, 0.5).toFixed(2).padStart(9)} ${pct(times, 0.99).toFixed(2).padStart(8)}`,
  );
}
provider.destroy();
await server.close();
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    eventsPerSec,
    queryP50Ms: Number(pct(marketTimes, 0.5).toFixed(2)),
    entities,
    baselineEventsPerSec,
    queryP99Ms: Number(pct(marketTimes, 0.99).toFixed(2)),
    baselineQueryP50Ms: Number(pct(metaTimes, 0.5).toFixed(2)),
    replayMs: Math.round(replayMs),
  }),
);
