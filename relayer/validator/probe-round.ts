/**
 * One probe round of a validator: every active node but itself (from the node directory) gets a
 * health probe at its registered URL and, when paid probes are configured and the node is healthy,
 * a paid API call through it; the results go to the sample store under the epoch the round
 * started in (chain time). Nodes are probed in parallel, a bounded number at a time.
 */
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import type { EpochClock } from "./epoch-clock.js";
import type { DirectoryNode, NodeDirectory } from "./node-directory.js";
import type { PaidProber } from "./paid-probe.js";
import { joinUrl, probe } from "./prober.js";
import { apiSubject, nodeSubject } from "./qos.js";
import type { RoundRecord, SampleStore } from "./sample-store.js";

/** Nodes probed at the same time. */
const CONCURRENCY = 16;

export interface ProbeRoundOptions {
  self: string;
  directory: NodeDirectory;
  store: SampleStore;
  clock: EpochClock;
  paid: PaidProber | undefined;
  healthPath: string;
  timeoutMs: number;
  maxNodes: number;
  metrics: RelayerMetrics;
  log: Logger;
}

interface ApiTally {
  attempts: number;
  successes: number;
  latencies: number[];
}

export class ProbeRound {
  constructor(private readonly opts: ProbeRoundOptions) {}

  /** Probes every node once; returns the epoch the results were recorded in and how many nodes. */
  async run(): Promise<{ epoch: number; nodes: number }> {
    const { opts } = this;
    const epoch = await opts.clock.current();
    const nodes = opts.directory.list(opts.self, opts.maxNodes);
    const price = opts.paid ? await opts.paid.price() : undefined;
    const api: ApiTally = { attempts: 0, successes: 0, latencies: [] };

    let next = 0;
    const worker = async () => {
      while (next < nodes.length) {
        const node = nodes[next++]!;
        await opts.store.record(epoch, await this.probeNode(node, price, api));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, nodes.length) }, worker));

    if (opts.paid && api.attempts > 0) {
      await opts.store.record(epoch, {
        subject: apiSubject(opts.paid.apiId),
        attempts: api.attempts,
        successes: api.successes,
        reachable: api.successes > 0,
        latencies: api.latencies,
      });
    }
    opts.metrics.probedNodes.set(nodes.length);
    opts.log.debug({ epoch, nodes: nodes.length, apiProbes: api.attempts }, "probe round done");
    return { epoch, nodes: nodes.length };
  }

  private async probeNode(node: DirectoryNode, price: bigint | undefined, api: ApiTally): Promise<RoundRecord> {
    const { metrics } = this.opts;
    const health = await probe({ url: joinUrl(node.url, this.opts.healthPath), timeoutMs: this.opts.timeoutMs });
    metrics.probes.inc({ node: node.operator, kind: "health", outcome: health.outcome });
    if (health.latencyMicros !== undefined)
      metrics.probeLatency.observe({ kind: "health" }, health.latencyMicros / 1e6);
    const record: RoundRecord = {
      subject: nodeSubject(node.operator),
      attempts: 1,
      successes: health.outcome === "ok" ? 1 : 0,
      reachable: health.answered,
      latencies: health.outcome === "ok" && health.latencyMicros !== undefined ? [health.latencyMicros] : [],
    };

    const paid = this.opts.paid;
    if (paid && price !== undefined && health.outcome === "ok") {
      const result = await paid.probe(node, price).catch((error: Error) => {
        this.opts.log.warn({ node: node.operator, err: error.message }, "paid probe could not be sent");
        return { kind: "skipped" as const, reason: "error" };
      });
      if (result.kind === "skipped") {
        metrics.probes.inc({ node: node.operator, kind: "paid", outcome: "skipped" });
      } else {
        metrics.probes.inc({ node: node.operator, kind: "paid", outcome: result.outcome });
        if (result.latencyMicros !== undefined)
          metrics.probeLatency.observe({ kind: "paid" }, result.latencyMicros / 1e6);
        // The node's latency is its health probe's; a paid call's includes the upstream's.
        record.attempts++;
        if (result.nodeOk) record.successes++;
        if (result.apiOk !== undefined) {
          api.attempts++;
          if (result.apiOk) {
            api.successes++;
            if (result.latencyMicros !== undefined) api.latencies.push(result.latencyMicros);
          }
        }
      }
    }
    return record;
  }
}
