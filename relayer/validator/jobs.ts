/**
 * The reputation jobs of a node, on their own BullMQ queue `<prefix>-reputation` (a probe round
 * can take up to the probe timeout and must not hold up settlement scans):
 * - `probe-round` every MESHGATE_VALIDATOR_PROBE_MS (validators);
 * - `attest-scan` every MESHGATE_VALIDATOR_ATTEST_SCAN_MS (validators);
 * - `rewards-scan` every MESHGATE_REWARDS_SCAN_MS (every node).
 * They run one at a time across every process of the node (global concurrency 1), so an
 * attestation is never built while a round of its epoch is still recording. Scans only decide; their transactions go to the node's
 * transaction queue (RelayerJobs), which the operator key's one TxSender sends.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import { WORKER_LIVENESS } from "../settlement/jobs.js";
import type { Attester } from "./attester.js";
import type { ProbeRound } from "./probe-round.js";
import type { RewardUpkeep } from "./reward-upkeep.js";
import type { TxCall, TxQueue } from "./tx-call.js";

export interface ReputationJobsOptions {
  prefix: string;
  connection: () => Redis;
  /** Validator mode: probe rounds and attestations. */
  validator: { round: ProbeRound; attester: Attester; probeMs: number; attestScanMs: number } | undefined;
  /** Reward upkeep of this node. */
  upkeep: { upkeep: RewardUpkeep; scanMs: number } | undefined;
  txs: TxQueue;
  log: Logger;
}

type Scheduler = "probe-round" | "attest-scan" | "rewards-scan";

export class ReputationJobs {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connections: Redis[] = [];

  constructor(private readonly opts: ReputationJobsOptions) {
    this.queue = new Queue(this.name, { connection: this.connection() });
  }

  private get name(): string {
    return `${this.opts.prefix}-reputation`;
  }

  private connection(): ConnectionOptions {
    const redis = this.opts.connection();
    this.connections.push(redis);
    return redis;
  }

  async start(): Promise<void> {
    const { validator, upkeep } = this.opts;
    await this.queue.setGlobalConcurrency(1);
    // Schedulers outlive the process in Redis: remove those of a mode switched off.
    await this.schedule("probe-round", validator?.probeMs);
    await this.schedule("attest-scan", validator?.attestScanMs);
    await this.schedule("rewards-scan", upkeep?.scanMs);
    this.worker = new Worker(this.name, (job) => this.run(job), {
      connection: this.connection(),
      concurrency: 1,
      ...WORKER_LIVENESS,
    });
    this.worker.on("failed", (job, err) =>
      this.opts.log.warn({ job: job?.name, err: err.message }, "reputation job failed; the next one retries"),
    );
    this.worker.on("error", (err) => this.opts.log.warn({ err: err.message }, "queue connection error"));
  }

  private async schedule(name: Scheduler, everyMs: number | undefined): Promise<void> {
    if (everyMs === undefined) await this.queue.removeJobScheduler(name);
    else
      await this.queue.upsertJobScheduler(
        name,
        { every: everyMs },
        { name, opts: { removeOnComplete: true, removeOnFail: true } },
      );
  }

  private async run(job: Job): Promise<void> {
    const { validator, upkeep } = this.opts;
    if (job.name === "probe-round" && validator) {
      await validator.round.run();
    } else if (job.name === "attest-scan" && validator) {
      await this.enqueue(await validator.attester.due());
    } else if (job.name === "rewards-scan" && upkeep) {
      await this.enqueue(await upkeep.upkeep.due());
    }
  }

  private async enqueue(calls: TxCall[]): Promise<void> {
    for (const call of calls) await this.opts.txs.enqueue(call);
  }

  /** Stops taking jobs; waits for the running one. */
  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}
