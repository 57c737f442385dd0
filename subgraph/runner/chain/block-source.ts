/**
 * The runner's view of the chain: raw JSON-RPC reads of heads, logs and blocks (with their
 * transactions, which mappings see as `event.transaction`). Raw reads skip ethers' object
 * wrapping: indexing throughput is bound by these calls.
 */
import type { JsonRpcProvider } from "ethers";
import type { BlockPointer } from "../store/types.js";

export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
}

export interface RawTransaction {
  hash: string;
  transactionIndex: string;
  from: string;
  to: string | null;
  value: string;
  gas: string;
  gasPrice?: string;
  input: string;
  nonce: string;
}

export interface RawBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  gasUsed: string;
  gasLimit: string;
  miner: string;
  baseFeePerGas?: string;
  transactions: RawTransaction[] | string[];
}

export class BlockSource {
  constructor(private readonly provider: JsonRpcProvider) {}

  async headNumber(): Promise<number> {
    return Number(await this.provider.send("eth_blockNumber", []));
  }

  /** Logs of `addresses` with one of `topics` as topic0, in chain order. */
  async logs(addresses: string[], topics: string[], from: number, to: number): Promise<RawLog[]> {
    const logs = (await this.provider.send("eth_getLogs", [
      { address: addresses, topics: [topics], fromBlock: hex(from), toBlock: hex(to) },
    ])) as RawLog[];
    return logs
      .filter((log) => !log.removed)
      .sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex));
  }

  /** The block with its full transactions; throws if the node does not have it. */
  async block(number: number): Promise<RawBlock> {
    const block = (await this.provider.send("eth_getBlockByNumber", [hex(number), true])) as RawBlock | null;
    if (!block) throw new Error(`the RPC endpoint has no block ${number}`);
    return block;
  }

  /** The canonical block at `number` as a pointer (header only). */
  async pointer(number: number): Promise<BlockPointer> {
    const block = (await this.provider.send("eth_getBlockByNumber", [hex(number), false])) as RawBlock | null;
    if (!block) throw new Error(`the RPC endpoint has no block ${number}`);
    return toPointer(block);
  }
}

export function toPointer(block: RawBlock): BlockPointer {
  return { number: Number(block.number), hash: block.hash.toLowerCase(), timestamp: Number(block.timestamp) };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
