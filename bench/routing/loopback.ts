/**
 * The routing harness's loopback mode (issue 9): the same policies as the simulation, driven
 * through the consumer SDK's RoutedClient against real relayers over loopback HTTP.
 *
 * Real: a Hardhat chain served over HTTP with the deployed protocol (test/mocha/helpers/relayer.ts),
 * Redis, the demo API, NODES staked nodes each running the real relayer (in this process), every
 * call a paid call with a fresh signed voucher on a funded channel, checked, rate-limited and
 * stored by the relayer before it is proxied to the demo API. The consumer reads each node's URL,
 * region and reputation from NodeStaking and Reputation (sdk/routing/on-chain.ts). Simulated: each node's slowness and
 * failures, added by a seeded proxy in front of its relayer (loopback-proxy.ts; the profiles
 * below). LANES payers, each with a channel to every node and its own RoutedClient, share one
 * policy and pull the same seeded sequence of calls (closed loop: a lane sends its next call when
 * the last one ended). Each policy gets a fresh policy instance, proxies reseeded with the same
 * seed, and the same call count.
 */
import { getAddress, id, NonceManager, parseEther, parseUnits, Wallet } from "ethers";
import { PaidClient } from "../../sdk/client.js";
import { RoutedClient, type RoutedNode } from "../../sdk/routed-client.js";
import {
  peakEwma,
  randomPolicy,
  readCandidates,
  roundRobin,
  seededRng,
  type RoutingPolicy,
} from "../../sdk/routing/index.js";
import { DevStablecoin__factory } from "../../types/ethers-contracts/index.js";
import { DEMO_PRICE, startTestNetwork, type TestNetwork } from "../../test/mocha/helpers/relayer.js";
import { NodeType, registerNode, setNodeUrl } from "../../test/mocha/helpers/validator-net.js";
import { startProfileProxy, type NodeProfile, type ProfileProxy } from "./loopback-proxy.js";
import { runRelayerSide, type RelayerSideResult } from "./loopback-relayer.js";
import { summarizeCalls, type CallsSummary } from "./stats.js";

/** The demo nodes: two good ones, two heavy-tailed slow ones, one failing intermittently. */
export const LOOPBACK_PROFILES: readonly NodeProfile[] = [
  {
    name: "fast",
    baseMs: 3,
    jitterMs: 2,
    tailProbability: 0.002,
    tailMs: 30,
    tailAlpha: 2,
    tailCapMs: 200,
    failProbability: 0,
  },
  {
    name: "steady",
    baseMs: 10,
    jitterMs: 4,
    tailProbability: 0.005,
    tailMs: 40,
    tailAlpha: 2,
    tailCapMs: 300,
    failProbability: 0,
  },
  {
    name: "tail",
    baseMs: 6,
    jitterMs: 4,
    tailProbability: 0.08,
    tailMs: 150,
    tailAlpha: 1.5,
    tailCapMs: 2_000,
    failProbability: 0,
  },
  {
    name: "slow-tail",
    baseMs: 40,
    jitterMs: 15,
    tailProbability: 0.1,
    tailMs: 300,
    tailAlpha: 1.2,
    tailCapMs: 3_000,
    failProbability: 0,
  },
  {
    name: "flaky",
    baseMs: 4,
    jitterMs: 3,
    tailProbability: 0.01,
    tailMs: 50,
    tailAlpha: 2,
    tailCapMs: 300,
    failProbability: 0.2,
  },
];

export const LOOPBACK_REGION = "local";
/** Relayers' settlement held off during the runs (they spend far less than the threshold). */
const SERVING_ENV = {
  MESHGATE_SETTLE_MIN_VALUE: "1000000000000",
  MESHGATE_SETTLE_MAX_AGE_MS: "3600000",
  MESHGATE_KEEPER_INTERVAL_MS: "3600000",
};
/** The replicas of the relayer-side run: a fast one, a heavy-tailed slow one, a failing one. */
const REPLICA_PROFILES = ["fast", "slow-tail", "flaky"].map((name) => LOOPBACK_PROFILES.find((p) => p.name === name)!);
export const LOOPBACK_TIMEOUT_MS = 1_000;

export interface LoopbackOptions {
  readonly seed: number;
  /** Calls per policy. */
  readonly calls: number;
  /** Concurrent payers (closed-loop lanes). */
  readonly lanes: number;
  readonly timeoutMs?: number;
  /** Also run the relayer side (replica routing, pre-caching; loopback-relayer.ts). */
  readonly relayerSide?: boolean;
}

/** A policy's calls (failed: 503, transport error, timeout), where they went and how long the run took. */
export interface LoopbackSummary extends CallsSummary {
  /** Calls per node profile. */
  readonly share: Readonly<Record<string, number>>;
  readonly wallMs: number;
}

export interface LoopbackResult {
  readonly options: Required<LoopbackOptions>;
  readonly roundRobin: LoopbackSummary;
  readonly random: LoopbackSummary;
  readonly router: LoopbackSummary;
  readonly relayerSide: RelayerSideResult | undefined;
  readonly setupMs: number;
}

interface Node {
  readonly operator: string;
  readonly profile: NodeProfile;
  readonly proxy: ProfileProxy;
}

/** Starts the network, the nodes behind their proxies and funds every lane's channels. */
async function setUp(opts: Required<LoopbackOptions>): Promise<{
  net: TestNetwork;
  nodes: Node[];
  lanes: RoutedNode[][];
}> {
  const net = await startTestNetwork();
  const nodes: Node[] = [];
  try {
    return await fund(net, nodes, opts);
  } catch (error) {
    for (const n of nodes) await n.proxy.close();
    await net.stop();
    throw error;
  }
}

async function fund(
  net: TestNetwork,
  nodes: Node[],
  opts: Required<LoopbackOptions>,
): Promise<{ net: TestNetwork; nodes: Node[]; lanes: RoutedNode[][] }> {
  const { protocol, seed, accounts } = net;
  // Tier 0's default (600 calls a minute per payer) would refuse calls: lift it.
  await (
    await protocol.rateLimits
      .connect(accounts.deployer)
      .setPolicy(0, { requestsPerWindow: 4_000_000_000, windowSeconds: 1, burst: 4_000_000_000 })
  ).wait();
  for (const [i, profile] of LOOPBACK_PROFILES.entries()) {
    const proxy = await startProfileProxy(profile, opts.seed + i);
    let operator: string;
    let relayerUrl: string;
    if (i === 0) {
      // The seed's node (dev account 2) is the first one.
      await setNodeUrl(net, accounts.operator, proxy.url);
      relayerUrl = (await net.startRelayer(SERVING_ENV)).url;
      operator = seed.operator;
    } else {
      const k = await registerNode(net, { nodeType: NodeType.Edge, stake: parseEther("1000"), url: proxy.url });
      relayerUrl = (await net.startRelayer({ ...SERVING_ENV, MESHGATE_OPERATOR_KEY: k.key })).url;
      operator = k.address;
    }
    proxy.setTarget(relayerUrl);
    nodes.push({ operator: getAddress(operator), profile, proxy });
  }

  // What the consumer reads from the chain: each node's candidate (region, reputation) and URL (its proxy).
  const operators = nodes.map((n) => n.operator);
  const candidates = await readCandidates(protocol.staking, protocol.reputation, operators);
  if (candidates.length !== nodes.length) throw new Error("a loopback node is not active on chain");
  const urls = await Promise.all(operators.map(async (o) => (await protocol.staking.getNode(o)).url));

  // Payers: one per lane, each funding a channel to every node (enough for every run's calls).
  const coin = DevStablecoin__factory.connect(seed.stablecoin, accounts.payer);
  const escrow = await protocol.escrow.getAddress();
  const perChannel = parseUnits("100", 6);
  const lanes: RoutedNode[][] = [];
  for (let l = 0; l < opts.lanes; l++) {
    const wallet = new Wallet(id(`loopback payer ${l}`), net.provider);
    await (await coin.transfer(wallet.address, perChannel * BigInt(nodes.length))).wait();
    await (await accounts.deployer.sendTransaction({ to: wallet.address, value: parseEther("1") })).wait();
    const payer = new NonceManager(wallet); // ethers briefly caches nonce reads
    await (await coin.connect(payer).approve(escrow, perChannel * BigInt(nodes.length))).wait();
    for (const n of nodes) {
      await (await protocol.escrow.connect(payer).deposit(n.operator, seed.apiId, seed.stablecoin, perChannel)).wait();
    }
    lanes.push(
      nodes.map((n, i) => ({
        candidate: candidates[i]!,
        client: new PaidClient({
          relayerUrl: urls[i]!,
          signer: wallet,
          payer: wallet.address,
          apiId: seed.apiId,
          token: seed.stablecoin,
          pricePerCall: DEMO_PRICE,
        }),
      })),
    );
  }
  // Warm-up: every client learns its relayer's info and channel state (through the proxy, so
  // the failing node may need a few tries); the runs then measure calls only.
  for (const lane of lanes) {
    for (const n of lane) {
      const client = n.client as PaidClient;
      for (let attempt = 0; ; attempt++) {
        try {
          await client.sync();
          break;
        } catch (error) {
          if (attempt >= 50) throw error;
        }
      }
    }
  }
  return { net, nodes, lanes };
}

/** The seeded call sequence every policy replays: distinct paths (no relayer cache hits). */
function callPaths(seed: number, calls: number): string[] {
  const rng = seededRng(seed);
  return Array.from({ length: calls }, (_, i) => `/v1/forecast?city=L${i}-${Math.floor(rng.next() * 1e9)}`);
}

async function runPolicy(
  policy: RoutingPolicy,
  nodes: readonly Node[],
  lanes: readonly RoutedNode[][],
  paths: readonly string[],
  opts: Required<LoopbackOptions>,
): Promise<LoopbackSummary> {
  for (const [i, n] of nodes.entries()) n.proxy.reseed(opts.seed + i);
  const clients = lanes.map(
    (lane) =>
      new RoutedClient({ nodes: lane, policy, context: { region: LOOPBACK_REGION }, timeoutMs: opts.timeoutMs }),
  );
  const latencies = new Float64Array(paths.length);
  const profileOf = new Map(nodes.map((n) => [n.operator, n.profile.name]));
  const share: Record<string, number> = Object.fromEntries(nodes.map((n) => [n.profile.name, 0]));
  let errors = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let i = next++; i < paths.length; i = next++) {
        const r = await client.call(paths[i]!);
        latencies[i] = r.outcome.latencyMs;
        if (!r.outcome.ok) errors++;
        else if (r.status !== 200)
          throw new Error(`call ${i} answered ${r.status}: ${new TextDecoder().decode(r.body)}`);
        share[profileOf.get(r.node)!]! += 1;
      }
    }),
  );
  const wallMs = performance.now() - start;
  return { ...summarizeCalls(policy.name, latencies, errors), share, wallMs };
}

/** Runs round-robin, random and the peak-EWMA router over the same loopback network. */
export async function runLoopback(options: LoopbackOptions): Promise<LoopbackResult> {
  const opts: Required<LoopbackOptions> = { timeoutMs: LOOPBACK_TIMEOUT_MS, relayerSide: false, ...options };
  const t0 = performance.now();
  const { net, nodes, lanes } = await setUp(opts);
  const setupMs = performance.now() - t0;
  try {
    const paths = callPaths(opts.seed, opts.calls);
    const roundRobinRun = await runPolicy(roundRobin(), nodes, lanes, paths, opts);
    const randomRun = await runPolicy(randomPolicy(seededRng(opts.seed)), nodes, lanes, paths, opts);
    const routerRun = await runPolicy(peakEwma(seededRng(opts.seed)), nodes, lanes, paths, opts);
    const relayerSide = opts.relayerSide
      ? await runRelayerSide(net, {
          seed: opts.seed,
          calls: opts.calls,
          lanes: opts.lanes,
          timeoutMs: opts.timeoutMs,
          replicas: REPLICA_PROFILES,
          relayerEnv: SERVING_ENV,
        })
      : undefined;
    return { options: opts, roundRobin: roundRobinRun, random: randomRun, router: routerRun, relayerSide, setupMs };
  } finally {
    for (const n of nodes) await n.proxy.close();
    await net.stop();
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The last line's object. */
export function loopbackJson(r: LoopbackResult): Record<string, number> {
  return {
    loopbackRouterP99Ms: round(r.router.p99, 1),
    loopbackRoundRobinP99Ms: round(r.roundRobin.p99, 1),
    loopbackRouterErrorRate: round(r.router.errorRate, 4),
    loopbackRoundRobinErrorRate: round(r.roundRobin.errorRate, 4),
    loopbackP99VsRoundRobin: round(r.router.p99 / r.roundRobin.p99, 3),
    loopbackRandomP99Ms: round(r.random.p99, 1),
    loopbackRandomErrorRate: round(r.random.errorRate, 4),
    loopbackRouterP50Ms: round(r.router.p50, 1),
    loopbackRoundRobinP50Ms: round(r.roundRobin.p50, 1),
    ...(r.relayerSide ? relayerSideJson(r.relayerSide) : {}),
    seed: r.options.seed,
    calls: r.options.calls,
    lanes: r.options.lanes,
    nodes: LOOPBACK_PROFILES.length,
    timeoutMs: r.options.timeoutMs,
  };
}

/** The printed report: the node profiles, one row per policy, then the JSON line. */
export function loopbackReport(r: LoopbackResult): string {
  const pad = (s: string, n: number) => s.padStart(n);
  const lines = [
    `loopback routing: ${LOOPBACK_PROFILES.length} real relayers behind seeded proxies, ${r.options.lanes} payers, ` +
      `${r.options.calls} paid calls per policy, timeout ${r.options.timeoutMs} ms, seed ${r.options.seed} ` +
      `(setup ${(r.setupMs / 1000).toFixed(1)} s)`,
    `nodes: ${LOOPBACK_PROFILES.map(
      (p) =>
        `${p.name} (${p.baseMs}+exp(${p.jitterMs}) ms, ${p.tailProbability * 100}% Pareto tail >= ${p.tailMs} ms` +
        `${p.failProbability > 0 ? `, ${p.failProbability * 100}% 503` : ""})`,
    ).join(", ")}`,
    "",
    `${"policy".padEnd(12)}${pad("p50 ms", 9)}${pad("p95 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 9)}${pad("wall s", 8)}  calls per node (${LOOPBACK_PROFILES.map((p) => p.name).join("/")})`,
  ];
  for (const s of [r.roundRobin, r.random, r.router]) {
    lines.push(
      `${s.name.padEnd(12)}${pad(s.p50.toFixed(1), 9)}${pad(s.p95.toFixed(1), 9)}${pad(s.p99.toFixed(1), 9)}` +
        `${pad(`${(s.errorRate * 100).toFixed(2)}%`, 9)}${pad((s.wallMs / 1000).toFixed(1), 8)}  ` +
        LOOPBACK_PROFILES.map((p) => s.share[p.name] ?? 0).join("/"),
    );
  }
  if (r.relayerSide) lines.push("", ...relayerSideLines(r.relayerSide, r.options));
  lines.push("", JSON.stringify(loopbackJson(r)));
  return lines.join("\n");
}

/** The relayer side's figures for the last line. */
function relayerSideJson(r: RelayerSideResult): Record<string, number> {
  const { roundRobin, router } = r.replicas;
  const { lru, predictive } = r.precache;
  return {
    replicaRouterP99Ms: round(router.p99, 1),
    replicaRoundRobinP99Ms: round(roundRobin.p99, 1),
    replicaRouterErrorRate: round(router.errorRate, 4),
    replicaRoundRobinErrorRate: round(roundRobin.errorRate, 4),
    relayerPrecacheHitRate: round(predictive.hitRate, 4),
    relayerLruHitRate: round(lru.hitRate, 4),
    relayerPrecacheUpstreamRequests: predictive.upstreamRequests,
    relayerLruUpstreamRequests: lru.upstreamRequests,
  };
}

/** The relayer side's two tables. */
function relayerSideLines(r: RelayerSideResult, opts: Required<LoopbackOptions>): string[] {
  const pad = (s: string, n: number) => s.padStart(n);
  const names = REPLICA_PROFILES.map((p) => p.name);
  const lines = [
    `relayer picking among one API's upstream replicas (${names.join(", ")}), ${opts.calls} paid calls per policy, ` +
      `${opts.lanes} payers; the policy follows the Developer DAO flag set on chain`,
    `${"policy".padEnd(12)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 9)}  requests per replica (${names.join("/")})`,
  ];
  for (const s of [r.replicas.roundRobin, r.replicas.router]) {
    lines.push(
      `${s.name.padEnd(12)}${pad(s.p50.toFixed(1), 9)}${pad(s.p99.toFixed(1), 9)}` +
        `${pad(`${(s.errorRate * 100).toFixed(2)}%`, 9)}  ${names.map((n) => s.share[n] ?? 0).join("/")}`,
    );
  }
  lines.push(
    "",
    `relayer response cache on ${r.precacheCalls} paid GETs, Zipf(s=${r.zipfS}) over ${r.precachePaths} paths, answers fresh for 1 s`,
    `${"cache".padEnd(12)}${pad("hit rate", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("upstream", 10)}${pad("refreshes", 11)}`,
  );
  for (const s of [r.precache.lru, r.precache.predictive]) {
    lines.push(
      `${s.name.padEnd(12)}${pad(`${(s.hitRate * 100).toFixed(1)}%`, 10)}${pad(s.p50.toFixed(1), 9)}` +
        `${pad(s.p99.toFixed(1), 9)}${pad(String(s.upstreamRequests), 10)}${pad(String(s.refreshes), 11)}`,
    );
  }
  return lines;
}
