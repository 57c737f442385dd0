import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { encodeBytes32String, keccak256, parseEther, toUtf8Bytes, ZeroAddress } from "ethers";
import { ConfigError } from "../../../relayer/config.js";
import { createLogger } from "../../../relayer/log.js";
import { loadSubgraphConfig } from "../../../subgraph/runner/config.js";
import { startSubgraphRunner } from "../../../subgraph/runner/runner.js";
import { freePort } from "../helpers/processes.js";
import { startIndexedChain, SUBGRAPH_BUILD, type IndexedChain } from "../helpers/subgraph.js";

const log = createLogger("silent", "meshgate-subgraph");

/** Lists an API from a dev account (1 by default) and returns its upstream URL. */
async function listApi(chain: IndexedChain, name: string, account = 1): Promise<string> {
  const upstreamUrl = `https://${name}.example.com`;
  await (
    await chain.protocol.registry.connect(chain.account(account)).register({
      metadataUri: `${upstreamUrl}/openapi.json`,
      metadataHash: keccak256(toUtf8Bytes(name)),
      upstreamUrl,
      category: encodeBytes32String("test"),
      tags: [],
      pricing: {
        unit: 1,
        paymentToken: ZeroAddress,
        models: 1,
        stakerDiscount: false,
        period: 0,
        pricePerCall: parseEther("0.001"),
        pricePerPeriod: 0,
      },
    })
  ).wait();
  return upstreamUrl;
}

/** The chain's head, read past ethers' 250 ms cache of identical calls. */
async function headNumber(chain: IndexedChain): Promise<number> {
  return Number(await chain.provider.send("eth_blockNumber", []));
}

async function upstreams(chain: IndexedChain): Promise<string[]> {
  const { apis } = await chain.query<{ apis: { upstreamUrl: string }[] }>(`{ apis(orderBy: apiId) { upstreamUrl } }`);
  return apis.map((a) => a.upstreamUrl);
}

describe("subgraph runner: restarts, reorgs and bad configuration", function () {
  this.timeout(120_000);
  let chain: IndexedChain;

  before(async () => {
    chain = await startIndexedChain();
    await listApi(chain, "first");
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("restarts from its journal: the store is back before any new block is read", async () => {
    const before = await chain.query<{ _meta: { block: { number: number } } }>(`{ _meta { block { number } } }`);
    await listApi(chain, "while-down");
    const runner = await chain.restart();
    // The restored head, not yet the chain's: nothing was re-read from block 0.
    expect(runner.store.head()?.number).to.equal(before._meta.block.number);
    expect(runner.indexer.eventsHandled).to.equal(0);
    await chain.index();
    expect(await upstreams(chain)).to.deep.equal(["https://first.example.com", "https://while-down.example.com"]);
    expect(runner.indexer.eventsHandled).to.be.greaterThan(0);
  });

  it("undoes blocks a reorganisation removed and indexes the new branch, also after a restart", async () => {
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    await listApi(chain, "orphaned");
    await listApi(chain, "orphaned-too");
    await chain.index();
    expect(await upstreams(chain)).to.include("https://orphaned.example.com");
    const orphanedHead = await headNumber(chain);

    // Back to before the two listings; a different branch grows past the old head.
    await chain.provider.send("evm_revert", [snapshot]);
    chain.account(1).reset(); // its last two nonces were reverted with the chain
    // The new branch is sent by an account that never sent before (ethers briefly caches nonce reads).
    await listApi(chain, "canonical", 5);
    for (let i = 0; i < 3; i++) await chain.provider.send("evm_mine", []);
    expect(await headNumber(chain)).to.be.greaterThan(orphanedHead);
    await chain.index();
    const expected = ["https://first.example.com", "https://while-down.example.com", "https://canonical.example.com"];
    expect(await upstreams(chain)).to.deep.equal(expected);
    const meta = await chain.query<{ _meta: { block: { number: number; hash: string } } }>(
      `{ _meta { block { number hash } } }`,
    );
    const head = await chain.provider.getBlock(await headNumber(chain));
    expect(meta._meta.block).to.deep.equal({ number: head!.number, hash: head!.hash });

    const journal = await readFile(chain.journalFile, "utf8");
    expect(journal).to.match(/^\{"r":/m);
    await chain.restart();
    expect(await upstreams(chain)).to.deep.equal(expected);
  });

  it("catches up when the chain shrank below the indexed head", async () => {
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    for (let i = 0; i < 5; i++) await chain.provider.send("evm_mine", []);
    await listApi(chain, "gone");
    await chain.index();
    await chain.provider.send("evm_revert", [snapshot]);
    chain.account(1).reset(); // its last nonce was reverted with the chain
    await chain.index();
    expect(await upstreams(chain)).to.not.include("https://gone.example.com");
    const meta = await chain.query<{ _meta: { block: { number: number } } }>(`{ _meta { block { number } } }`);
    expect(meta._meta.block.number).to.equal(await headNumber(chain));
  });

  it("exposes Prometheus metrics: head block, events handled, entities by type", async () => {
    const runner = await chain.index();
    const metrics = await (await fetch(new URL("/metrics", runner.url))).text();
    expect(metrics).to.include(`meshgate_subgraph_head_block ${runner.store.head()!.number}`);
    expect(metrics).to.match(/meshgate_subgraph_entities\{type="Api"\} 3/);
    expect(metrics).to.include("meshgate_subgraph_indexing_failed 0");
    expect(metrics).to.include("meshgate_subgraph_chain_read_failures 0");
  });

  describe("refuses to start, naming the fix", function () {
    const base = () => ({
      MESHGATE_RPC_URL: chain.rpcUrl,
      MESHGATE_DEPLOYMENT: chain.deploymentFile,
      MESHGATE_SUBGRAPH_BUILD: SUBGRAPH_BUILD,
      MESHGATE_SUBGRAPH_JOURNAL: path.join(path.dirname(chain.journalFile), "other.jsonl"),
      MESHGATE_SUBGRAPH_PORT: "0",
    });

    async function startError(env: Record<string, string>): Promise<Error> {
      try {
        const runner = await startSubgraphRunner(loadSubgraphConfig(env), log);
        await runner.stop();
      } catch (error) {
        return error as Error;
      }
      throw new Error("the runner started");
    }

    it("on a malformed variable", function () {
      expect(() => loadSubgraphConfig({ ...base(), MESHGATE_SUBGRAPH_PORT: "http" }))
        .to.throw(ConfigError)
        .with.property("message")
        .that.includes("MESHGATE_SUBGRAPH_PORT");
      expect(() => loadSubgraphConfig({ ...base(), MESHGATE_RPC_URL: "localhost:8545" })).to.throw(/MESHGATE_RPC_URL/);
    });

    it("without a build, a deployment, or a reachable chain", async () => {
      expect((await startError({ ...base(), MESHGATE_SUBGRAPH_BUILD: "/nonexistent" })).message).to.include(
        "npm run subgraph:build",
      );
      expect((await startError({ ...base(), MESHGATE_DEPLOYMENT: "/nonexistent.json" })).message).to.include(
        "deploy first",
      );
      const closed = await freePort();
      expect((await startError({ ...base(), MESHGATE_RPC_URL: `http://127.0.0.1:${closed}` })).message).to.include(
        "set MESHGATE_RPC_URL",
      );
    });
  });
});
