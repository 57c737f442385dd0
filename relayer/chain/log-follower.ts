/**
 * Follows the logs of a set of contracts from a start block, in chain order, and hands them to
 * one handler. The relayer keeps its registry, policy and channel caches in sync this way
 * instead of reading the chain on every call. A poll that fails (RPC down) is retried on the
 * next tick from the same cursor, so no log is skipped.
 */
import type { JsonRpcProvider, Log } from "ethers";
import type { Logger } from "../log.js";

export interface LogFollowerOptions {
  addresses: string[];
  fromBlock: number;
  /** Logs are applied once buried under this many blocks. */
  confirmations: number;
  pollMs: number;
  /** Largest block range per eth_getLogs call. */
  maxRange?: number;
  log: Logger;
  onLogs: (logs: Log[]) => void | Promise<void>;
  onSynced?: (block: number, timestamp: number) => void;
}

export class LogFollower {
  private next: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  /** The last block whose logs were applied (-1 before the first poll). */
  syncedBlock = -1;
  /** The timestamp of the chain head at the last successful poll, in seconds. */
  headTimestamp = 0;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly opts: LogFollowerOptions,
  ) {
    this.next = opts.fromBlock;
  }

  /** Applies every log up to the current head; throws if the chain cannot be read. */
  async catchUp(): Promise<void> {
    // Serialize: a timer tick and an explicit call must not apply the same range twice.
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.poll();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Polls every `pollMs` until `stop()`; failures are logged and retried. */
  start(): void {
    const tick = async () => {
      try {
        await this.catchUp();
        if (this.failures > 0) this.opts.log.info({ failures: this.failures }, "chain reachable again");
        this.failures = 0;
      } catch (error) {
        if (this.failures++ % 10 === 0) this.opts.log.warn({ err: error }, "cannot read chain logs; retrying");
      }
      if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.pollMs);
    };
    this.timer = setTimeout(tick, this.opts.pollMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Whether the last poll reached the chain. */
  get healthy(): boolean {
    return this.syncedBlock >= 0 && this.failures === 0;
  }

  private async poll(): Promise<void> {
    const head = await this.provider.getBlock("latest");
    if (!head) throw new Error("the RPC endpoint returned no latest block");
    const target = head.number - this.opts.confirmations;
    const maxRange = this.opts.maxRange ?? 2_000;
    while (this.next <= target) {
      const to = Math.min(target, this.next + maxRange - 1);
      const logs = await this.provider.getLogs({ address: this.opts.addresses, fromBlock: this.next, toBlock: to });
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      await this.opts.onLogs(logs);
      this.syncedBlock = to;
      this.next = to + 1;
    }
    this.headTimestamp = head.timestamp;
    this.opts.onSynced?.(this.syncedBlock, head.timestamp);
  }
}
