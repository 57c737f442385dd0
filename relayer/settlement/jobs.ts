/**
 * The relayer's BullMQ jobs. Two queues on the shared Redis:
 * - `<prefix>-schedule`: repeatable scans (settlement every MESHGATE_SETTLE_SCAN_MS, keeper
 *   every MESHGATE_KEEPER_INTERVAL_MS) that decide what to send;
 * - `<prefix>-tx`: the transactions themselves (redeem batches, upkeeps, and the reputation
 *   jobs' calls: attestations, finalizations, reward commits and claims), with a global
 *   concurrency of 1 across every process of this node, so one nonce manager sends them all.
 * A job that fails (RPC down, reverted) is retried with exponential backoff; whatever it did
 * not finish stays in Redis (vouchers, the pending transaction) for the next attempt.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from "bullmq";
import { keccak256 } from "ethers";
import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import type { TxCall, TxQueue } from "../validator/tx-call.js";
import type { Keeper } from "./keeper.js";
import type { Settler } from "./settler.js";
import { TxReverted, TxWouldRevert, type TxSender } from "./tx-sender.js";

type CallJob = { kind: "call" } & TxCall;
type TxJob = { kind: "redeem"; token: string } | { kind: "upkeep"; performData: string } | CallJob;

/** How a queued contract call ended: mined, mined but reverted, or not sent (it would revert). */
export type CallOutcome = "mined" | "reverted" | "skipped";

export interface JobsOptions {
  prefix: string;
  connection: () => Redis;
  settler: Settler;
  keeper: Keeper | undefined;
  sender: TxSender;
  to: { subscriptions: string };
  settleScanMs: number;
  keeperIntervalMs: number;
  metrics: RelayerMetrics;
  log: Logger;
  /** Told how each queued contract call (TxCall) ended. */
  onCall?: (call: TxCall, outcome: CallOutcome) => void;
}

const TX_ATTEMPTS = 8;

/**
 * Worker lock and stall-check timing for every queue of the relayer. A job whose process died
 * (SIGKILL, OOM) keeps its lock until it expires, and with a queue's global concurrency of 1
 * nothing else of that queue runs meanwhile. BullMQ's defaults (30 s locks, a stall check every
 * 30 s, shared by all workers) left settlement stopped for up to a minute after a crash; 10 s
 * locks (renewed every 5 s by a live worker) and checks every 5 s resume it within ~20 s.
 */
export const WORKER_LIVENESS = { lockDuration: 10_000, stalledInterval: 5_000 } as const;

export class RelayerJobs implements TxQueue {
  private readonly schedule: Queue;
  private readonly tx: Queue<TxJob>;
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];

  constructor(private readonly opts: JobsOptions) {
    this.schedule = new Queue(`${opts.prefix}-schedule`, { connection: this.connection() });
    this.tx = new Queue<TxJob>(`${opts.prefix}-tx`, { connection: this.connection() });
  }

  private connection(): ConnectionOptions {
    const redis = this.opts.connection();
    this.connections.push(redis);
    return redis;
  }

  async start(): Promise<void> {
    await this.tx.setGlobalConcurrency(1);
    await this.schedule.upsertJobScheduler("settle-scan", { every: this.opts.settleScanMs }, { name: "settle-scan" });
    if (this.opts.keeper) {
      await this.schedule.upsertJobScheduler(
        "keeper-scan",
        { every: this.opts.keeperIntervalMs },
        { name: "keeper-scan" },
      );
    } else {
      await this.schedule.removeJobScheduler("keeper-scan");
    }
    this.workers.push(
      new Worker(`${this.opts.prefix}-schedule`, (job) => this.runScan(job), {
        connection: this.connection(),
        concurrency: 1,
        ...WORKER_LIVENESS,
      }),
      new Worker<TxJob>(`${this.opts.prefix}-tx`, (job) => this.runTx(job), {
        connection: this.connection(),
        concurrency: 1,
        ...WORKER_LIVENESS,
      }),
    );
    for (const worker of this.workers) {
      worker.on("failed", (job, err) =>
        this.opts.log.warn({ job: job?.name, attempt: job?.attemptsMade, err: err.message }, "job failed; will retry"),
      );
      worker.on("error", (err) => this.opts.log.warn({ err: err.message }, "queue connection error"));
    }
  }

  /** Runs a settlement scan now (e.g. a payer started withdrawing). */
  async settleSoon(): Promise<void> {
    await this.schedule.add("settle-scan", {}, { removeOnComplete: true, removeOnFail: true });
  }

  /** Queues a contract call; one waiting job per `call.jobId` (a duplicate is ignored while it waits). */
  async enqueue(call: TxCall): Promise<void> {
    await this.tx.add(
      call.label,
      { kind: "call", ...call },
      {
        jobId: call.jobId,
        attempts: 3,
        backoff: { type: "exponential", delay: 1_000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Jobs per queue and state, for /metrics. */
  async depth(): Promise<void> {
    for (const queue of [this.schedule, this.tx]) {
      const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed", "prioritized");
      for (const [state, n] of Object.entries(counts))
        this.opts.metrics.queueDepth.set({ queue: queue.name, state }, n);
    }
  }

  private async runScan(job: Job): Promise<void> {
    if (job.name === "settle-scan") {
      for (const token of await this.opts.settler.dueTokens()) {
        // One pending redeem job per token: a duplicate add is ignored while one waits.
        await this.tx.add(
          "redeem",
          { kind: "redeem", token },
          {
            jobId: `redeem-${token}`,
            attempts: TX_ATTEMPTS,
            backoff: { type: "exponential", delay: 500 },
            removeOnComplete: true,
            removeOnFail: true,
          },
        );
      }
    } else if (job.name === "keeper-scan" && this.opts.keeper) {
      for (const upkeep of await this.opts.keeper.dueUpkeeps()) {
        await this.tx.add(
          "upkeep",
          { kind: "upkeep", performData: upkeep.performData },
          {
            jobId: `upkeep-${keccak256(upkeep.performData)}`,
            attempts: 3,
            backoff: { type: "exponential", delay: 1_000 },
            removeOnComplete: true,
            removeOnFail: true,
          },
        );
      }
    }
  }

  private async runTx(job: Job<TxJob>): Promise<void> {
    const data = job.data;
    if (data.kind === "redeem") {
      await this.opts.settler.redeem(data.token);
    } else if (data.kind === "call") {
      await this.runCall(data);
    } else if (this.opts.keeper) {
      const receipt = await this.opts.sender.send("performUpkeep", {
        to: this.opts.to.subscriptions,
        data: this.opts.keeper.performUpkeepData(data.performData),
      });
      this.opts.log.info({ tx: receipt.hash }, "upkeep performed");
    }
  }

  /**
   * Sends a queued call. A call that would revert now (state moved since its scan: another node
   * finalized first, the window closed) or that was mined and reverted is final, not retried.
   */
  private async runCall(data: CallJob): Promise<void> {
    const { kind: _kind, ...call } = data;
    const log = this.opts.log.child({ call: call.label, epoch: call.epoch });
    let outcome: CallOutcome;
    try {
      const receipt = await this.opts.sender.send(call.label, { to: call.to, data: call.data });
      log.info({ tx: receipt.hash }, "reputation transaction mined");
      outcome = "mined";
    } catch (error) {
      if (error instanceof TxWouldRevert) {
        log.info({ reason: error.reason }, "reputation transaction would revert; not sent");
        outcome = "skipped";
      } else if (error instanceof TxReverted) {
        log.warn({ tx: error.hash }, "reputation transaction reverted");
        outcome = "reverted";
      } else throw error;
    }
    this.opts.metrics.reputationTxs.inc({ kind: call.label, outcome });
    this.opts.onCall?.(call, outcome);
  }

  /** Stops taking jobs; waits for the active ones to finish (their state is in Redis anyway). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([this.schedule.close(), this.tx.close()]);
    for (const c of this.connections) c.disconnect();
  }
}
