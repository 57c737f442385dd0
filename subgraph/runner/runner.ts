/**
 * The local subgraph runner's composition root: the built manifest bound to a deployment, one
 * loaded mapping per data source, the journaled entity store, the indexer and the GraphQL
 * endpoint in The Graph's query shape.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { readDeployment } from "../../deploy/deployments.js";
import type { Logger } from "../../relayer/log.js";
import { BlockSource } from "./chain/block-source.js";
import { defaultJournalFile, type SubgraphRunnerConfig } from "./config.js";
import { createQueryServer } from "./graphql/server.js";
import { Indexer } from "./indexer.js";
import { bindToDeployment, loadManifest } from "./manifest.js";
import { EntityStore } from "./store/entity-store.js";
import { Journal } from "./store/journal.js";
import { subgraphMetrics } from "./metrics.js";
import { MappingModule } from "./wasm/mapping-module.js";

export interface SubgraphRunner {
  /** The GraphQL endpoint (The Graph's path: /subgraphs/name/meshgate). */
  readonly url: string;
  readonly store: EntityStore;
  readonly indexer: Indexer;
  /** Indexes up to the current chain head (tests call it to be sure they see their blocks). */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSubgraphRunner(config: SubgraphRunnerConfig, log: Logger): Promise<SubgraphRunner> {
  const deployment = await readDeployment(config.deploymentFile);
  const manifest = bindToDeployment(await loadManifest(config.buildDir), deployment);
  const sdl = await readFile(manifest.schemaFile, "utf8");
  const provider = new JsonRpcProvider(config.rpcUrl, deployment.chainId, { staticNetwork: true });
  const chainId = Number(
    await provider.send("eth_chainId", []).catch((error: Error) => {
      provider.destroy();
      throw new Error(`cannot reach the chain at ${config.rpcUrl} (${error.message}): set MESHGATE_RPC_URL`);
    }),
  );
  if (chainId !== deployment.chainId) {
    provider.destroy();
    throw new Error(
      `${config.rpcUrl} is chain ${chainId} but ${config.deploymentFile} was deployed to ${deployment.chainId}`,
    );
  }

  const source = new BlockSource(provider);
  // The deployment block's hash tells a restarted local chain (same addresses) from the old one.
  const anchor = await source.pointer(deployment.startBlock);

  const store = new EntityStore();
  const modules = new Map<string, MappingModule>();
  const code = createHash("sha256").update(sdl);
  for (const ds of manifest.dataSources) {
    const wasm = await readFile(ds.wasmFile);
    code.update(wasm);
    modules.set(
      ds.name,
      await MappingModule.load(wasm, {
        logger: log.child({ dataSource: ds.name }),
        dataSource: { name: ds.name, address: ds.address, network: ds.network },
      }),
    );
  }
  const codeHash = code.digest("hex");
  // A journal is only replayed into the same chain, contracts and mapping code.
  const identity = JSON.stringify({
    chainId,
    anchor: anchor.hash,
    dataSources: manifest.dataSources.map((ds) => [ds.name, ds.address, ds.startBlock]),
    code: codeHash,
  });
  const journalFile = config.journalFile ?? defaultJournalFile(deployment.network);
  await mkdir(path.dirname(journalFile), { recursive: true });
  const { journal, records, discarded } = Journal.open(journalFile, identity);
  if (discarded) log.warn({ discarded }, "the journal was written for another deployment or build; reindexing");

  const indexer = new Indexer({
    dataSources: manifest.dataSources,
    modules,
    source,
    store,
    journal,
    log,
    confirmations: config.confirmations,
    maxRange: config.maxRange,
    pollMs: config.pollMs,
    reorgWindow: config.reorgWindow,
  });
  indexer.replay(records);
  log.info({ head: store.head()?.number ?? null, journal: journalFile }, "subgraph store restored");

  const server = createQueryServer({
    sdl,
    store,
    deployment: codeHash,
    hasIndexingErrors: () => indexer.failure !== undefined,
    metrics: subgraphMetrics(indexer, store),
  });
  const http = await server.listen(config.port, config.host);
  indexer.start();
  return {
    url: http.url,
    store,
    indexer,
    sync: () => indexer.sync(),
    async stop() {
      await indexer.stop();
      await http.close();
      journal.close();
      provider.destroy();
    },
  };
}
