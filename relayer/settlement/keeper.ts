/**
 * The off-chain keeper: asks Subscriptions (a Chainlink Automation compatible upkeep) which
 * subscriptions are due, page by page, and returns the performUpkeep calls to send. Anyone may
 * perform upkeep; the contract re-checks every id, so a duplicate or late call is harmless.
 */
import { AbiCoder } from "ethers";
import type { Subscriptions } from "../../types/ethers-contracts/index.js";

export interface Upkeep {
  performData: string;
  /** How many subscriptions it renews. */
  count: number;
}

export class Keeper {
  constructor(private readonly subscriptions: Subscriptions) {}

  async dueUpkeeps(): Promise<Upkeep[]> {
    const [count, page] = await Promise.all([this.subscriptions.subscriptionCount(), this.subscriptions.MAX_SCAN()]);
    const coder = AbiCoder.defaultAbiCoder();
    const out: Upkeep[] = [];
    for (let start = 1n; start <= count; start += page) {
      const [needed, performData] = await this.subscriptions.checkUpkeep(
        coder.encode(["uint256", "uint256"], [start, page]),
      );
      if (!needed) continue;
      const [ids] = coder.decode(["uint256[]"], performData) as unknown as [bigint[]];
      out.push({ performData, count: ids.length });
    }
    return out;
  }

  performUpkeepData(performData: string): string {
    return this.subscriptions.interface.encodeFunctionData("performUpkeep", [performData]);
  }
}
