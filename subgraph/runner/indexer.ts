/**
 * Drives the compiled mappings over the chain, block by block, the way graph-node does: logs of
 * every data source in (block, logIndex) order; each block's writes commit atomically and are
 * journaled before the head moves; the head's hash is checked against the chain before every
 * poll and a reorg is undone back to the last block both agree on. A handler that fails is a
 * deterministic indexing error: indexing stops at the block before it, queries keep working.
 */
import type { Logger } from "../../relayer/log.js";
import { type BlockSource, type RawBlock, type RawLog, toPointer } from "./chain/block-source.js";
import { eventInput } from "./chain/event-input.js";
import type { DataSource } from "./manifest.js";
import type { EntityChange, EntityStore } from "./store/entity-store.js";
import type { Journal, JournalRecord } from "./store/journal.js";
import type { BlockPointer } from "./store/types.js";
import type { MappingModule } from "./wasm/mapping-module.js";

export interface IndexerOptions {
  dataSources: readonly DataSource[];
  /** data source name -> its loaded mapping. */
  modules: ReadonlyMap<string, MappingModule>;
  source: BlockSource;
  store: EntityStore;
  journal: Journal;
  log: Logger;
  /** Blocks are indexed once buried under this many blocks (0 on a local chain). */
  confirmations: number;
  /** Largest block range per eth_getLogs call. */
  maxRange: number;
  pollMs: number;
  /** How many recent block pointers are kept to find a reorg's common ancestor. */
  reorgWindow: number;
}

export class IndexingError extends Error {}

/** Blocks with logs fetched per JSON-RPC batch. */
const BLOCK_PREFETCH = 50;

export class Indexer {
  private readonly byAddress: Map<string, DataSource>;
  private readonly addresses: string[];
  private readonly topics: string[];
  private readonly firstBlock: number;
  /** Recent pointers the store holds state for, oldest first (reorg ancestors). */
  private recent: BlockPointer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  /** Set once a handler failed; indexing is stopped for good (graph-node: a failed subgraph). */
  failure: IndexingError | undefined;
  /** Consecutive polls that could not read the chain (0 when healthy). */
  get chainReadFailures(): number {
    return this.failures;
  }
  /** Events handled since start (metrics, benchmarks). */
  eventsHandled = 0;

  constructor(private readonly opts: IndexerOptions) {
    this.byAddress = new Map(opts.dataSources.map((ds) => [ds.address, ds]));
    this.addresses = [...this.byAddress.keys()];
    this.topics = [...new Set(opts.dataSources.flatMap((ds) => [...ds.routes.keys()]))];
    this.firstBlock = Math.min(...opts.dataSources.map((ds) => ds.startBlock));
  }

  /** Rebuilds the store from journal records (a restart continues where it stopped). */
  replay(records: readonly JournalRecord[]): void {
    for (const record of records) {
      if (record.kind === "block") {
        this.opts.store.apply(record.pointer, record.changes);
        this.remember(record.pointer);
      } else {
        this.opts.store.revert(record.pointer);
        this.recent = this.recent.filter((p) => p.number <= record.pointer.number);
      }
    }
  }

  /** Indexes up to the chain head (minus confirmations); throws if the chain cannot be read. */
  async sync(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    if (this.stopped) return;
    this.running = this.poll();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  start(): void {
    const tick = async () => {
      try {
        await this.sync();
        if (this.failures > 0) this.opts.log.info({ failures: this.failures }, "chain reachable again");
        this.failures = 0;
      } catch (error) {
        if (error instanceof IndexingError) return; // logged where it happened; stop polling
        if (this.failures++ % 10 === 0) this.opts.log.warn({ err: error }, "cannot read the chain; retrying");
      }
      if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.pollMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async poll(): Promise<void> {
    if (this.failure) throw this.failure;
    const { source, store, journal, maxRange } = this.opts;
    const chainHead = await source.headNumber();
    await this.handleReorg(chainHead);
    const target = chainHead - this.opts.confirmations;
    let next = (store.head()?.number ?? this.firstBlock - 1) + 1;
    while (next <= target) {
      const to = Math.min(target, next + maxRange - 1);
      const logs = await source.logs(this.addresses, this.topics, next, to);
      const records: JournalRecord[] = [];
      // Whatever committed to the store is journaled, even when a later block fails.
      try {
        let last: BlockPointer | undefined;
        const groups = [...groupByBlock(logs)];
        for (let i = 0; i < groups.length; i += BLOCK_PREFETCH) {
          const window = groups.slice(i, i + BLOCK_PREFETCH);
          // Requested together, the reads go out as one JSON-RPC batch (ethers batches a tick's calls).
          const blocks = await Promise.all(window.map(([number]) => source.block(number)));
          for (const [j, [, blockLogs]] of window.entries()) {
            const block = blocks[j]!;
            // The chain reorganised between the reads: keep what is consistent, recheck next poll.
            if (blockLogs.some((log) => log.blockHash.toLowerCase() !== block.hash.toLowerCase())) return;
            last = toPointer(block);
            records.push({ kind: "block", pointer: last, changes: this.indexBlock(block, blockLogs) });
            this.remember(last);
          }
        }
        if (last?.number !== to) {
          last = await source.pointer(to);
          store.advanceHead(last);
          records.push({ kind: "block", pointer: last, changes: [] });
          this.remember(last);
        }
      } finally {
        journal.append(records);
      }
      next = to + 1;
    }
  }

  private indexBlock(block: RawBlock, logs: readonly RawLog[]): EntityChange[] {
    const writer = this.opts.store.beginBlock(toPointer(block));
    for (const log of logs) {
      const ds = this.byAddress.get(log.address.toLowerCase());
      const route = ds?.routes.get(log.topics[0]?.toLowerCase() ?? "");
      if (!ds || !route) continue;
      const module = this.opts.modules.get(ds.name)!;
      try {
        module.handle(route.handler, eventInput(ds, route, log, block), writer);
      } catch (error) {
        this.failure = new IndexingError(
          `indexing stopped at block ${Number(block.number)}: ${ds.name}.${route.handler} failed on log ${Number(log.logIndex)}: ${(error as Error).message}`,
          { cause: error },
        );
        this.opts.log.error({ err: error, block: Number(block.number), dataSource: ds.name }, this.failure.message);
        throw this.failure;
      }
      this.eventsHandled++;
    }
    return writer.commit();
  }

  /** Undoes blocks the chain no longer has, back to the newest block both agree on. */
  private async handleReorg(chainHead: number): Promise<void> {
    const head = this.opts.store.head();
    if (!head) return;
    // A chain now shorter than the indexed head has reorganised too.
    if (head.number <= chainHead && (await this.opts.source.pointer(head.number)).hash === head.hash) return;
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const candidate = this.recent[i]!;
      if (candidate.number > chainHead) continue;
      if ((await this.opts.source.pointer(candidate.number)).hash !== candidate.hash) continue;
      this.opts.log.warn({ from: head.number, to: candidate.number }, "chain reorganisation: reverting");
      this.opts.store.revert(candidate);
      this.opts.journal.append([{ kind: "revert", pointer: candidate }]);
      this.recent = this.recent.slice(0, i + 1);
      return;
    }
    this.failure = new IndexingError(
      `the chain reorganised deeper than the last ${this.recent.length} indexed blocks (head ${head.number}); delete the journal to reindex from scratch`,
    );
    this.opts.log.error(this.failure.message);
    throw this.failure;
  }

  private remember(pointer: BlockPointer): void {
    this.recent.push(pointer);
    if (this.recent.length > this.opts.reorgWindow) this.recent.splice(0, this.recent.length - this.opts.reorgWindow);
  }
}

function groupByBlock(logs: readonly RawLog[]): Map<number, RawLog[]> {
  const blocks = new Map<number, RawLog[]>();
  for (const log of logs) {
    const number = Number(log.blockNumber);
    const list = blocks.get(number);
    if (list) list.push(log);
    else blocks.set(number, [log]);
  }
  return blocks;
}
