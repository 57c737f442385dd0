/**
 * The nodes a validator probes: every active node of NodeStaking with its registered URL, kept
 * in sync by following the staking contract's events (no chain read per probe). An event naming
 * an operator (registered, updated, staked, unstaking, exited, slashed, withdrawn) re-reads that
 * one node; a minimum-stake change re-reads them all (it can switch nodes off). The directory
 * and the follower's block are saved in Redis, so a restart resumes instead of rescanning from
 * the staking contract's deployment.
 */
import type { JsonRpcProvider, Log } from "ethers";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { NodeStaking } from "../../types/ethers-contracts/index.js";
import { LogFollower } from "../chain/log-follower.js";
import type { Logger } from "../log.js";

/** A node as the directory knows it. */
export interface DirectoryNode {
  operator: string;
  url: string;
  nodeType: number;
  active: boolean;
}

const OPERATOR_EVENTS = new Set([
  "NodeRegistered",
  "NodeUpdated",
  "Staked",
  "UnstakeStarted",
  "NodeExited",
  "NodeSlashed",
  "Withdrawn",
]);

const snapshotSchema = z.object({
  staking: z.string(),
  syncedBlock: z.number().int(),
  nodes: z.array(z.object({ operator: z.string(), url: z.string(), nodeType: z.number().int(), active: z.boolean() })),
});

/** Save the snapshot at least this often (blocks) even when no node changed. */
const SAVE_EVERY_BLOCKS = 500;

export interface NodeDirectoryOptions {
  staking: NodeStaking;
  provider: JsonRpcProvider;
  redis: Redis;
  /** Redis key of the snapshot. */
  key: string;
  /** The block NodeStaking was deployed in (where a first sync starts). */
  fromBlock: number;
  confirmations: number;
  pollMs: number;
  log: Logger;
}

export class NodeDirectory {
  private readonly nodes = new Map<string, DirectoryNode>();
  private follower: LogFollower | undefined;
  private stakingAddress = "";
  private changed = false;
  private savedBlock = -1;

  constructor(private readonly opts: NodeDirectoryOptions) {}

  /** Loads the snapshot (or syncs from the deployment block), then follows new events. */
  async start(): Promise<void> {
    this.stakingAddress = (await this.opts.staking.getAddress()).toLowerCase();
    let fromBlock = this.opts.fromBlock;
    const raw = await this.opts.redis.get(this.opts.key);
    const snapshot = raw === null ? undefined : snapshotSchema.safeParse(JSON.parse(raw));
    // A snapshot of another deployment, or of a chain that was reset (a local chain), is ignored.
    const head = await this.opts.provider.getBlockNumber();
    if (snapshot?.success && snapshot.data.staking === this.stakingAddress && snapshot.data.syncedBlock <= head) {
      for (const n of snapshot.data.nodes) this.nodes.set(n.operator, n);
      fromBlock = snapshot.data.syncedBlock + 1;
      this.savedBlock = snapshot.data.syncedBlock;
    }
    this.follower = new LogFollower(this.opts.provider, {
      addresses: [this.stakingAddress],
      fromBlock,
      confirmations: this.opts.confirmations,
      pollMs: this.opts.pollMs,
      log: this.opts.log,
      onLogs: (logs) => this.apply(logs),
      onSynced: (block) => this.save(block),
      // A node known from an orphaned block may differ (or not exist) on the canonical chain: read each again.
      onReorg: async () => {
        for (const operator of [...this.nodes.keys()]) await this.refresh(operator);
      },
    });
    await this.follower.catchUp();
    this.follower.start();
    this.opts.log.info({ nodes: this.nodes.size, active: this.active().length }, "node directory synced");
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
  }

  /** Active nodes other than `self`, by address, at most `max`. */
  list(self: string, max: number): DirectoryNode[] {
    const me = self.toLowerCase();
    return this.active()
      .filter((n) => n.operator !== me)
      .sort((a, b) => (BigInt(a.operator) < BigInt(b.operator) ? -1 : 1))
      .slice(0, max);
  }

  /** Every active node. */
  active(): DirectoryNode[] {
    return [...this.nodes.values()].filter((n) => n.active);
  }

  private async apply(logs: Log[]): Promise<void> {
    const staking = this.opts.staking;
    const dirty = new Set<string>();
    for (const entry of logs) {
      let parsed;
      try {
        parsed = staking.interface.parseLog(entry);
      } catch {
        continue;
      }
      if (!parsed) continue;
      if (OPERATOR_EVENTS.has(parsed.name)) dirty.add((parsed.args[0] as string).toLowerCase());
      else if (parsed.name === "MinStakeUpdated") for (const op of this.nodes.keys()) dirty.add(op);
    }
    for (const operator of dirty) await this.refresh(operator);
  }

  private async refresh(operator: string): Promise<void> {
    const [node, active] = await Promise.all([
      this.opts.staking.getNode(operator),
      this.opts.staking.isActive(operator),
    ]);
    this.changed = true;
    if (node.status === 0n) {
      this.nodes.delete(operator);
      return;
    }
    this.nodes.set(operator, { operator, url: node.url, nodeType: Number(node.nodeType), active });
  }

  private save(block: number): void {
    if (block < 0 || (!this.changed && block - this.savedBlock < SAVE_EVERY_BLOCKS)) return;
    const snapshot = { staking: this.stakingAddress, syncedBlock: block, nodes: [...this.nodes.values()] };
    this.changed = false;
    this.savedBlock = block;
    this.opts.redis.set(this.opts.key, JSON.stringify(snapshot)).catch((error: Error) => {
      this.changed = true;
      this.opts.log.warn({ err: error.message }, "cannot save the node directory; will retry");
    });
  }
}
