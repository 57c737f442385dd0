/**
 * npm run bench:routing: the evaluation harness of the routing and traffic modules (issue 9).
 * A seeded simulated network (24 nodes in 6 regions: heterogeneous, drifting latency, failure
 * windows, noisy reputation) replays a seeded synthetic trace (diurnal regional load, Zipf
 * popularity, a flash crowd, an abusive client) once per routing policy: round-robin, random,
 * least-request, the peak-EWMA router and an oracle that knows the true latencies. The same trace
 * drives the predictive cache against an LRU of the same size, the Holt-Winters forecaster
 * against seasonal-naive, and the anomaly detector against the trace's ground truth.
 * Options: --seed N, --short (CI size) or env ROUTING_SEED, ROUTING_SIZE=short.
 * Last line: {"p99VsRoundRobin","p99VsOracle","cacheHitRate","lruHitRate","forecastMape",
 * "anomalyPrecision","anomalyRecall", ...context}.
 */
import { runHarness } from "./routing/harness.js";
import { parseOptions } from "./routing/options.js";
import { report } from "./routing/report.js";

console.log(report(runHarness(parseOptions(process.argv.slice(2), process.env))));
