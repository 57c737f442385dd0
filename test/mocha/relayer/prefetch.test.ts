import type { IncomingHttpHeaders } from "node:http";
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { verifyRequestSignature } from "../../../sdk/http-signatures.js";
import type { Relayer } from "../../../relayer/relayer.js";
import { demoClient, followedBy, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";
import { serve } from "../helpers/serve.js";
import { sleep } from "../helpers/wait.js";

/** An upstream whose answers are fresh for one second; it records every request it gets. */
interface ShortLivedApi {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Calls of the hot path, ~100 ms apart. */
const HOT_CALLS = 25;

async function shortLivedApi(): Promise<ShortLivedApi> {
  const requests: ShortLivedApi["requests"] = [];
  const { url, close } = await serve((req, res) => {
    requests.push({ path: req.url ?? "", headers: req.headers });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=1" });
    res.end(JSON.stringify({ path: req.url, at: Date.now() }));
  });
  return { url, requests, close };
}

describe("relayer: predictive pre-caching of hot GET responses (real chain, Redis, HTTP)", function () {
  this.timeout(120_000);
  let net: TestNetwork;
  let upstream: ShortLivedApi;

  before(async () => {
    net = await startTestNetwork();
    upstream = await shortLivedApi();
  });
  after(async () => {
    await upstream?.close();
    await net?.stop();
  });

  /** A hot path called every ~100 ms for ~3 s (answers fresh for 1 s) and a cold one called once; counts cache events. */
  async function traffic(relayer: Relayer, label: string) {
    await followedBy(
      relayer,
      net.protocol.registry.connect(net.accounts.provider).updateUpstream(net.seed.apiId, upstream.url),
    );
    const wallet = new Wallet(id(`prefetch ${label}`), net.provider);
    await net.fundPayer(wallet, 10_000_000n);
    const client = demoClient(net, relayer.url, wallet);
    const events = async () => {
      const counts: Record<string, number> = {};
      for (const v of (await relayer.metrics.cache.get()).values) counts[String(v.labels.event)] = v.value;
      return counts;
    };
    const cold = await client.call(`/${label}/cold`);
    expect(cold.status).to.equal(200);
    await cold.arrayBuffer();
    const before = await events();
    for (let i = 0; i < HOT_CALLS; i++) {
      const res = await client.call(`/${label}/hot`);
      expect(res.status).to.equal(200);
      await res.arrayBuffer();
      await sleep(100);
    }
    const after = await events();
    const delta = (event: string) => (after[event] ?? 0) - (before[event] ?? 0);
    const reached = (path: string) => upstream.requests.filter((r) => r.path === path);
    return { misses: delta("miss"), hits: delta("hit"), prefetches: delta("prefetch"), reached };
  }

  it("keeps a hot response cached across its expiries, with refreshes the node signs as its own", async function () {
    const relayer = await net.startRelayer({
      MESHGATE_PREFETCH_TICK_MS: "200",
      MESHGATE_PREFETCH_HALF_LIFE_MS: "2000",
    });
    const { misses, hits, prefetches, reached } = await traffic(relayer, "on");
    // The first call of the hot path misses; every expiry after it is refreshed at least a tick ahead
    // (one late refresh is tolerated on a loaded machine; the baseline below misses at least 3 times).
    expect(misses).to.be.within(1, 2);
    expect(hits).to.equal(HOT_CALLS - misses);
    expect(prefetches).to.be.within(1, 4);
    const refreshes = reached("/on/hot").filter((r) => r.headers["meshgate-payer"] === "prefetch");
    expect(refreshes).to.have.length(prefetches);
    // Signed by the node, with nobody's address as payer and no client address forwarded.
    for (const r of refreshes) {
      const verified = verifyRequestSignature({
        method: "GET",
        authority: r.headers.host!,
        path: "/on/hot",
        query: "",
        headers: r.headers,
      });
      expect(verified.ok && verified.node).to.equal(net.seed.operator);
      expect(r.headers["x-forwarded-for"]).to.equal(undefined);
    }
    // The path asked for once is not worth refreshing.
    expect(reached("/on/cold")).to.have.length(1);
    await relayer.stop();
  });

  it("without pre-caching, the hot path misses at every expiry (the baseline)", async function () {
    const relayer = await net.startRelayer({ MESHGATE_PREFETCH: "false" });
    const { misses, hits, prefetches, reached } = await traffic(relayer, "off");
    expect(prefetches).to.equal(0);
    // 25 calls at least 100 ms apart span >= 2.4 s with answers fresh for 1 s: a miss each second, at least 3.
    expect(misses).to.be.within(3, 6);
    expect(hits).to.equal(HOT_CALLS - misses);
    expect(reached("/off/hot")).to.have.length(misses);
    await relayer.stop();
  });
});
