/**
 * The protocol's epoch clock as the contracts see it: the escrow's genesis and length (immutable,
 * read once) applied to the latest block's timestamp, never the wall clock (chain time decides
 * which window a transaction lands in, and tests move it ahead).
 */
import type { Provider } from "ethers";
import type { PaymentEscrow } from "../../types/ethers-contracts/index.js";

export class EpochClock {
  private constructor(
    private readonly provider: Provider,
    readonly genesis: number,
    readonly length: number,
  ) {}

  static async load(escrow: PaymentEscrow, provider: Provider): Promise<EpochClock> {
    const [genesis, length] = await Promise.all([escrow.epochGenesis(), escrow.epochLength()]);
    return new EpochClock(provider, Number(genesis), Number(length));
  }

  /** The epoch of a chain timestamp (seconds). */
  epochAt(timestamp: number): number {
    return timestamp < this.genesis ? 0 : Math.floor((timestamp - this.genesis) / this.length);
  }

  /** The current epoch: that of the latest block. */
  async current(): Promise<number> {
    return (await this.now()).epoch;
  }

  /**
   * The current epoch, how far into it the latest block is (seconds), and whether the epoch is
   * closing: in its last twentieth (at most 30 s), when a transaction sent now could be mined in
   * the next epoch, where a window-bound call (attest, finalize, commit) would revert.
   */
  async now(): Promise<{ epoch: number; elapsed: number; closing: boolean }> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new Error("the RPC endpoint returned no latest block");
    const epoch = this.epochAt(block.timestamp);
    const elapsed = Math.max(0, block.timestamp - (this.genesis + epoch * this.length));
    return { epoch, elapsed, closing: this.length - elapsed <= Math.min(30, this.length / 20) };
  }
}
