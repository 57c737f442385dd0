/**
 * The tokens this node has redeemed vouchers in (a small Redis set the settler adds to): the
 * candidates for NodeRewards.commit, which counts the value served per token.
 */
import type { Redis } from "ioredis";

export class RedeemedTokens {
  constructor(
    private readonly redis: Redis,
    /** The node's key prefix (`<MESHGATE_REDIS_PREFIX>:<node>`). */
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:rewards:tokens`;
  }

  async add(token: string): Promise<void> {
    await this.redis.sadd(this.key, token.toLowerCase());
  }

  async list(): Promise<string[]> {
    return this.redis.smembers(this.key);
  }
}
