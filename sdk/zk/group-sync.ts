/**
 * Keeps a GroupTree in step with AccessGroups from its events (never by reading storage): joins
 * insert, exits and slashes of tree members set the leaf to 0. After every event the local root
 * must equal the root the event carries, so a missed or reordered log fails loudly instead of
 * producing proofs the chain rejects.
 */
import type { AccessGroups } from "../../types/ethers-contracts/index.js";
import { GroupTree } from "./group-tree.js";

export class GroupSyncError extends Error {
  readonly code = "GROUP_OUT_OF_SYNC";
}

interface TreeChange {
  blockNumber: number;
  index: number;
  apply(tree: GroupTree): bigint;
}

export class GroupSync {
  readonly tree = new GroupTree();
  /** The next block to read. */
  private nextBlock: number;

  /**
   * @param groups The AccessGroups contract.
   * @param apiId The API whose group to follow.
   * @param fromBlock The block AccessGroups was deployed in (or any block before the group's first join).
   * @param chunkSize Blocks per log query (RPC providers cap ranges), a positive integer.
   */
  constructor(
    private readonly groups: AccessGroups,
    private readonly apiId: bigint,
    fromBlock: number,
    private readonly chunkSize = 5_000,
  ) {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be >= 1, got ${chunkSize}`);
    this.nextBlock = fromBlock;
  }

  /** Applies every event up to `toBlock` (default: latest). Returns the root after it. */
  async sync(toBlock?: number): Promise<bigint> {
    const provider = this.groups.runner?.provider;
    if (!provider) throw new Error("AccessGroups contract has no provider");
    const last = toBlock ?? (await provider.getBlockNumber());
    while (this.nextBlock <= last) {
      const to = Math.min(last, this.nextBlock + this.chunkSize - 1);
      for (const change of await this.changes(this.nextBlock, to)) {
        const root = change.apply(this.tree);
        if (root !== this.tree.root) {
          throw new GroupSyncError(
            `API ${this.apiId}: local root ${this.tree.root} != event root ${root} at block ${change.blockNumber}`,
          );
        }
      }
      this.nextBlock = to + 1;
    }
    return this.tree.root;
  }

  private async changes(from: number, to: number): Promise<TreeChange[]> {
    const g = this.groups;
    const [joined, exited, slashed] = await Promise.all([
      g.queryFilter(g.filters.MemberJoined(this.apiId), from, to),
      g.queryFilter(g.filters.MemberExited(this.apiId), from, to),
      g.queryFilter(g.filters.MemberSlashed(this.apiId), from, to),
    ]);
    const changes: TreeChange[] = [
      ...joined.map((e) => ({
        blockNumber: e.blockNumber,
        index: e.index,
        apply: (tree: GroupTree): bigint => {
          if (BigInt(tree.size) !== e.args.index) {
            throw new GroupSyncError(`API ${this.apiId}: join at index ${e.args.index}, local size ${tree.size}`);
          }
          tree.insert(e.args.commitment);
          return e.args.root;
        },
      })),
      ...[...exited, ...slashed].map((e) => ({
        blockNumber: e.blockNumber,
        index: e.index,
        apply: (tree: GroupTree): bigint => {
          // A slashed member that had already left is no longer in the tree.
          if (tree.has(e.args.commitment)) tree.remove(e.args.commitment);
          return e.args.root;
        },
      })),
    ];
    return changes.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  }
}
