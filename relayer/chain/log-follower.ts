/**
 * Follows the logs of a set of contracts from a start block, in chain order, and hands them to
 * one handler. The relayer keeps its registry, policy and channel caches in sync this way
 * instead of reading the chain on every call. A poll that fails (RPC down) is retried on the
 * next tick from the same cursor, so no log is skipped.
 *
 * Reorganizations: the hash of the last block of every applied range is remembered (read before
 * its logs, so logs never belong to a newer chain than the hash). Each poll first checks that the
 * last one is still canonical; when it is not, the follower walks back to the newest remembered
 * block that is, tells `onReorg` (the owner drops what it derived from the chain), and applies the
 * logs from there again. Handlers must therefore tolerate a log delivered twice.
 */
import { Log, toQuantity, type JsonRpcProvider } from "ethers";
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
  /** The chain reorganized below the synced block: logs after `forkBlock` will be applied again. */
  onReorg?: (forkBlock: number) => void | Promise<void>;
}

/** The fields of a JSON-RPC block the follower reads (quantities are hex strings). */
interface RpcBlock {
  number: string;
  hash: string;
  timestamp: string;
}

/** A JSON-RPC log (quantities are hex strings). */
interface RpcLog {
  transactionHash: string;
  blockHash: string;
  blockNumber: string;
  removed?: boolean;
  address: string;
  data: string;
  topics: string[];
  logIndex: string;
  transactionIndex: string;
}

/** How many applied ranges' last blocks are remembered for finding a fork point. */
const CHECKPOINTS = 128;

export class LogFollower {
  private next: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  /** The last block (number and hash) of each applied range, oldest first. */
  private readonly checkpoints: { number: number; hash: string }[] = [];
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
    // Read past ethers' request cache: a head up to 250 ms old would hold back what was just mined.
    const head = (await this.provider.send("eth_getBlockByNumber", ["latest", false])) as RpcBlock | null;
    if (!head) throw new Error("the RPC endpoint returned no latest block");
    const headNumber = Number(head.number);
    await this.rewindIfReorganized();
    const target = headNumber - this.opts.confirmations;
    const maxRange = this.opts.maxRange ?? 2_000;
    while (this.next <= target) {
      const to = Math.min(target, this.next + maxRange - 1);
      const hash = to === headNumber ? head.hash : await this.blockHash(to);
      if (hash === undefined) throw new Error(`the RPC endpoint has no block ${to}`);
      const logs = await this.logs(this.next, to);
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      await this.opts.onLogs(logs);
      this.syncedBlock = to;
      this.next = to + 1;
      this.checkpoints.push({ number: to, hash });
      if (this.checkpoints.length > CHECKPOINTS) this.checkpoints.shift();
    }
    this.headTimestamp = Number(head.timestamp);
    this.opts.onSynced?.(this.syncedBlock, this.headTimestamp);
  }

  /** Rewinds to the newest remembered block still on the chain when the last applied one is not. */
  private async rewindIfReorganized(): Promise<void> {
    const last = this.checkpoints.at(-1);
    if (last === undefined || (await this.blockHash(last.number)) === last.hash) return;
    // The newest remembered block still on the chain; none survives: start over from the first block followed.
    let keep = this.checkpoints.length - 1;
    while (keep >= 0 && (await this.blockHash(this.checkpoints[keep]!.number)) !== this.checkpoints[keep]!.hash) keep--;
    const fork = keep >= 0 ? this.checkpoints[keep]!.number : this.opts.fromBlock - 1;
    this.opts.log.warn(
      { synced: this.syncedBlock, fork },
      "the chain reorganized: applying its logs again from the fork",
    );
    // The owner drops its state first: if that fails, the next poll finds the same reorganization again.
    await this.opts.onReorg?.(fork);
    this.checkpoints.length = keep + 1;
    this.syncedBlock = fork;
    this.next = fork + 1;
  }

  /**
   * The logs of the followed contracts in [from, to], read past ethers' request cache: after a reorg the
   * same range is asked for again, and a cached answer would repeat the orphaned blocks' logs.
   */
  private async logs(from: number, to: number): Promise<Log[]> {
    const raw = (await this.provider.send("eth_getLogs", [
      { address: this.opts.addresses, fromBlock: toQuantity(from), toBlock: toQuantity(to) },
    ])) as RpcLog[];
    return raw.map(
      (l) =>
        new Log(
          {
            transactionHash: l.transactionHash,
            blockHash: l.blockHash,
            blockNumber: Number(l.blockNumber),
            removed: l.removed ?? false,
            address: l.address,
            data: l.data,
            topics: l.topics,
            index: Number(l.logIndex),
            transactionIndex: Number(l.transactionIndex),
          },
          this.provider,
        ),
    );
  }

  /** The hash of block `number`, read past ethers' request cache; undefined when the chain has no such block. */
  private async blockHash(number: number): Promise<string | undefined> {
    const block = (await this.provider.send("eth_getBlockByNumber", [toQuantity(number), false])) as RpcBlock | null;
    return block?.hash ?? undefined;
  }
}
