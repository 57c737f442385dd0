/**
 * The access-group facts the relayer checks proofs against, read from AccessGroups itself:
 * `accessContext(apiId, root)` is the very view AccessVerifier calls on-chain, so the answer
 * (epoch length, message limit, and whether `root` is the group's current root or was replaced
 * less than the group's rootHistoryWindow ago) is the contract's own, root expiry included.
 * Rebuilding the root history from events instead would add the poller's lag (a root a member
 * just saw on-chain would be unknown until the next poll) and a second implementation of the
 * expiry rules to keep in step with the contract.
 *
 * Answers are cached per (apiId, root) for `ttlMs`, so a busy API costs one call per root per
 * `ttlMs`. A replaced root can thus be accepted up to `ttlMs` plus one block interval after it
 * expires (the view sees the latest block's timestamp): the same order of slack as on-chain,
 * where block.timestamp trails the wall clock by up to a block.
 */
import { id } from "ethers";
import { LRUCache } from "lru-cache";
import type { AccessContext, AccessGroupReader } from "../auth/zk-auth.js";
import type { AccessGroups } from "../../types/ethers-contracts/index.js";

/** Selector of GroupNotFound(uint256): accessContext reverts with it for an API without a group. */
const GROUP_NOT_FOUND = id("GroupNotFound(uint256)").slice(0, 10);

/** `false`: the API has no access group (lru-cache cannot hold undefined). */
type CachedContext = AccessContext | false;

export class ChainAccessGroups implements AccessGroupReader {
  private readonly cache: LRUCache<string, CachedContext, { apiId: bigint; root: bigint }>;

  /**
   * @param groups AccessGroups, connected to a provider.
   * @param opts.ttlMs How long an answer is reused (default 1 s).
   * @param opts.maxEntries Most (apiId, root) answers kept (default 10,000).
   */
  constructor(groups: AccessGroups, opts: { ttlMs?: number; maxEntries?: number } = {}) {
    this.cache = new LRUCache({
      max: opts.maxEntries ?? 10_000,
      ttl: opts.ttlMs ?? 1_000,
      // Concurrent misses on one key share a single call.
      fetchMethod: async (_key, _stale, { context: { apiId, root } }) => {
        try {
          const [epochLength, userMessageLimit, rootKnown] = await groups.accessContext(apiId, root);
          return { epochLength, userMessageLimit, rootKnown };
        } catch (err) {
          // The revert data: ethers' CALL_EXCEPTION and Hardhat's in-process errors both carry it.
          const data = (err as { data?: unknown } | null)?.data;
          if (typeof data === "string" && data.startsWith(GROUP_NOT_FOUND)) return false;
          throw err;
        }
      },
    });
  }

  /** @inheritdoc */
  async accessContext(apiId: bigint, root: bigint): Promise<AccessContext | undefined> {
    const cached = await this.cache.fetch(`${apiId}:${root}`, { context: { apiId, root } });
    return cached || undefined;
  }
}
