/**
 * npm run bench:routing:loopback: the routing harness's loopback mode (bench/routing/loopback.ts).
 * The same policies as npm run bench:routing (round-robin, random, the peak-EWMA router), now
 * through the consumer SDK's RoutedClient against real relayers on a real local chain, over
 * loopback HTTP, behind proxies that make the nodes slow (heavy tails) or failing (503).
 * Options (env): ROUTING_SEED (default 20250901), LOOPBACK_CALLS (per policy, default 1500),
 * LOOPBACK_LANES (concurrent payers, default 8).
 * Then the relayer side (bench/routing/loopback-relayer.ts): one relayer picking among an API's
 * upstream replicas (round-robin, then the router once the Developer DAO flag is set on chain), and
 * its response cache with and without predictive pre-caching on a Zipf trace.
 * Last line: {"loopbackRouterP99Ms","loopbackRoundRobinP99Ms","loopbackRouterErrorRate",
 * "loopbackRoundRobinErrorRate", "replicaRouterP99Ms", "replicaRoundRobinP99Ms",
 * "relayerPrecacheHitRate", "relayerLruHitRate", ...context}.
 */
import { DEFAULT_SEED } from "./routing/options.js";
import { loopbackReport, runLoopback } from "./routing/loopback.js";

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};

const result = await runLoopback({
  seed: int("ROUTING_SEED", DEFAULT_SEED),
  calls: int("LOOPBACK_CALLS", 1_500),
  lanes: int("LOOPBACK_LANES", 8),
  relayerSide: true,
});
console.log(loopbackReport(result));
