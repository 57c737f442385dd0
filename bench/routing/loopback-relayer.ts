/**
 * The loopback mode's relayer side (issue 9): the same router inside the real relayer, picking
 * among an API's upstream replicas, and the relayer's predictive pre-caching, each against its
 * plain baseline on the same seeded calls.
 *
 * Replicas: the seed API lists three replicas of the demo API behind seeded profile proxies
 * (fast, slow-tail, flaky; loopback-proxy.ts); payers call one relayer, which picks a replica per
 * call: round-robin while the Developer DAO's routing.peak-ewma flag is off, the learned policy
 * once the flag (set on chain) covers the node. Latency and errors are measured by the payers.
 *
 * Pre-caching: the seed API points at an upstream whose answers are fresh for one second (with a
 * few ms of service time); payers draw paths from a Zipf popularity; one relayer runs with
 * MESHGATE_PREFETCH=false (the plain LRU response cache), one with pre-caching. Hit rates are the
 * relayers' own cache counters; the upstream counts what it served (refreshes included: their cost).
 */
import { id, Wallet, type ContractTransactionResponse } from "ethers";
import { PEAK_EWMA_FLAG } from "../../sdk/routing/index.js";
import { seededRng } from "../../sdk/routing/rng.js";
import type { Relayer } from "../../relayer/relayer.js";
import { demoClient, followedBy, type TestNetwork } from "../../test/mocha/helpers/relayer.js";
import { serve } from "../../test/mocha/helpers/serve.js";
import { startProfileProxy, type NodeProfile, type ProfileProxy } from "./loopback-proxy.js";
import { WeightedSampler, zipfWeights } from "./sampling.js";
import { summarizeCalls, type CallsSummary } from "./stats.js";

export interface RelayerSideOptions {
  readonly seed: number;
  /** Calls per run. */
  readonly calls: number;
  /** Concurrent payers. */
  readonly lanes: number;
  readonly timeoutMs: number;
  /** Replica profiles, in listing order. */
  readonly replicas: readonly NodeProfile[];
  /** Environment of the relayers started here (settlement held off, and the like). */
  readonly relayerEnv: Record<string, string>;
}

export interface ReplicaSummary extends CallsSummary {
  /** Requests each replica received (by profile name). */
  readonly share: Readonly<Record<string, number>>;
}

export interface PrecacheSummary extends CallsSummary {
  readonly hitRate: number;
  /** Requests the upstream served: misses plus refreshes. */
  readonly upstreamRequests: number;
  readonly refreshes: number;
}

export interface RelayerSideResult {
  readonly replicas: { readonly roundRobin: ReplicaSummary; readonly router: ReplicaSummary };
  readonly precache: { readonly lru: PrecacheSummary; readonly predictive: PrecacheSummary };
  /** Distinct paths of the pre-caching trace, its calls and its Zipf exponent. */
  readonly precachePaths: number;
  readonly precacheCalls: number;
  readonly zipfS: number;
}

const PRECACHE_PATHS = 300;
/** The pre-caching trace's length in multiples of the replica runs' calls. */
const PRECACHE_CALLS_FACTOR = 4;
const ZIPF_S = 1.0;
/** The pre-caching upstream's service time: what a miss costs beyond the relayer. */
const UPSTREAM_SERVICE_MS = 5;

/** Payers with a funded channel to the seed node. */
async function payers(net: TestNetwork, label: string, lanes: number): Promise<Wallet[]> {
  const wallets: Wallet[] = [];
  for (let l = 0; l < lanes; l++) {
    const wallet = new Wallet(id(`${label} payer ${l}`), net.provider);
    await net.fundPayer(wallet, 50_000_000n);
    wallets.push(wallet);
  }
  return wallets;
}

/**
 * Runs `paths` through `relayer` over `wallets` (one closed-loop lane each); a call fails on a 5xx,
 * a transport error or the timeout.
 */
async function drive(
  name: string,
  relayer: Relayer,
  net: TestNetwork,
  wallets: readonly Wallet[],
  paths: readonly string[],
  timeoutMs: number,
): Promise<CallsSummary> {
  const clients = wallets.map((w) => demoClient(net, relayer.url, w));
  for (const c of clients) await c.sync();
  const latencies = new Float64Array(paths.length);
  let errors = 0;
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      for (let i = next++; i < paths.length; i = next++) {
        const start = performance.now();
        let status: number | undefined;
        try {
          const res = await client.call(paths[i]!, { signal: AbortSignal.timeout(timeoutMs) });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          // Timed out or cut: the voucher may have been stored before the answer was lost.
          await client.sync();
        }
        if (status === undefined || status >= 500) errors++;
        else if (status !== 200) throw new Error(`call ${i} answered ${status}`);
        latencies[i] = performance.now() - start;
      }
    }),
  );
  return summarizeCalls(name, latencies, errors);
}

const listUpstreams = (net: TestNetwork, relayer: Relayer, urls: readonly string[]) =>
  followedBy(
    relayer,
    net.protocol.registry.connect(net.accounts.provider).updateUpstream(net.seed.apiId, urls.join(" ")),
  );

const setFlag = (net: TestNetwork, relayer: Relayer, enabled: boolean): Promise<void> =>
  followedBy(
    relayer,
    net.protocol.flags
      .connect(net.accounts.deployer)
      .setFlag(PEAK_EWMA_FLAG, enabled, enabled ? 10_000 : 0) as Promise<ContractTransactionResponse>,
  );

/** Round-robin, then the learned router, over the API's replicas. */
async function replicaRuns(net: TestNetwork, opts: RelayerSideOptions): Promise<RelayerSideResult["replicas"]> {
  const proxies: ProfileProxy[] = [];
  const relayer = await net.startRelayer(opts.relayerEnv);
  try {
    for (const [i, profile] of opts.replicas.entries()) {
      const proxy = await startProfileProxy(profile, opts.seed + 100 + i);
      proxy.setTarget(net.demo.url);
      proxies.push(proxy);
    }
    await listUpstreams(
      net,
      relayer,
      proxies.map((p) => p.url),
    );
    const wallets = await payers(net, "replicas", opts.lanes);
    const rng = seededRng(opts.seed + 7);
    // Distinct paths: a cache hit would reach no replica.
    const paths = Array.from(
      { length: opts.calls },
      (_, i) => `/v1/forecast?city=Rep${i}-${Math.floor(rng.next() * 1e9)}`,
    );
    const run = async (name: string, flag: boolean): Promise<ReplicaSummary> => {
      await setFlag(net, relayer, flag);
      for (const [i, p] of proxies.entries()) p.reseed(opts.seed + 100 + i);
      const summary = await drive(name, relayer, net, wallets, paths, opts.timeoutMs);
      return { ...summary, share: Object.fromEntries(proxies.map((p) => [p.profile.name, p.counts().requests])) };
    };
    const roundRobin = await run("round-robin", false);
    // Distinct paths again for the second run: the first run's answers are cached.
    paths.forEach((p, i) => (paths[i] = `${p}-2`));
    const router = await run("peak-ewma", true);
    await setFlag(net, relayer, false);
    return { roundRobin, router };
  } finally {
    await relayer.stop();
    for (const p of proxies) await p.close();
  }
}

/** An upstream whose answers are fresh for one second; counts requests and refreshes. */
async function shortLivedUpstream(): Promise<{
  url: string;
  counts: () => { all: number; refreshes: number };
  reset(): void;
  close(): Promise<void>;
}> {
  let all = 0;
  let refreshes = 0;
  const served = await serve((req, res) => {
    all++;
    if (req.headers["meshgate-payer"] === "prefetch") refreshes++;
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=1" });
      res.end(JSON.stringify({ path: req.url }));
    }, UPSTREAM_SERVICE_MS);
  });
  return {
    url: served.url,
    counts: () => ({ all, refreshes }),
    reset: () => {
      all = 0;
      refreshes = 0;
    },
    close: served.close,
  };
}

/** The plain response cache, then with pre-caching, on the same Zipf trace. */
async function precacheRuns(net: TestNetwork, opts: RelayerSideOptions): Promise<RelayerSideResult["precache"]> {
  const upstream = await shortLivedUpstream();
  try {
    const sampler = new WeightedSampler(zipfWeights(PRECACHE_PATHS, ZIPF_S));
    const rng = seededRng(opts.seed + 11);
    // Several freshness lifetimes long, so expiries (what pre-caching can save) outnumber first requests.
    const paths = Array.from({ length: PRECACHE_CALLS_FACTOR * opts.calls }, () => `/item/${sampler.sample(rng)}`);
    const wallets = await payers(net, "precache", opts.lanes);
    const run = async (name: string, env: Record<string, string>): Promise<PrecacheSummary> => {
      const relayer = await net.startRelayer({ ...opts.relayerEnv, ...env });
      try {
        await listUpstreams(net, relayer, [upstream.url]);
        upstream.reset();
        const summary = await drive(name, relayer, net, wallets, paths, opts.timeoutMs);
        const events: Record<string, number> = {};
        for (const v of (await relayer.metrics.cache.get()).values) events[String(v.labels.event)] = v.value;
        const hits = events.hit ?? 0;
        const misses = events.miss ?? 0;
        const { all, refreshes } = upstream.counts();
        return { ...summary, hitRate: hits / (hits + misses), upstreamRequests: all, refreshes };
      } finally {
        await relayer.stop();
      }
    };
    const lru = await run("lru", { MESHGATE_PREFETCH: "false" });
    // Pre-caching with time scales fit to a run of seconds (defaults: 1 s ticks, 5 minute half-life).
    const predictive = await run("predictive", {
      MESHGATE_PREFETCH_TICK_MS: "100",
      MESHGATE_PREFETCH_HALF_LIFE_MS: "2000",
      MESHGATE_PREFETCH_TOP_K: "64",
    });
    return { lru, predictive };
  } finally {
    await upstream.close();
  }
}

/** Both relayer-side comparisons (they re-point the network's seed API and toggle the routing flag). */
export async function runRelayerSide(net: TestNetwork, opts: RelayerSideOptions): Promise<RelayerSideResult> {
  const replicas = await replicaRuns(net, opts);
  const precache = await precacheRuns(net, opts);
  return {
    replicas,
    precache,
    precachePaths: PRECACHE_PATHS,
    precacheCalls: PRECACHE_CALLS_FACTOR * opts.calls,
    zipfS: ZIPF_S,
  };
}
