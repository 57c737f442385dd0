/**
 * Turns a raw log and its block into what a mapping handler receives as `ethereum.Event`:
 * decoded parameters (by the data source's ABI), the block header and the emitting transaction.
 */
import type { DataSource, EventRoute } from "../manifest.js";
import { type EventInput, ethValueFromAbi } from "../wasm/ethereum-event.js";
import type { RawBlock, RawLog, RawTransaction } from "./block-source.js";

export function eventInput(ds: DataSource, route: EventRoute, log: RawLog, block: RawBlock): EventInput {
  const decoded = ds.abi.decodeEventLog(route.fragment, log.data, log.topics);
  const tx = (block.transactions as RawTransaction[])[Number(log.transactionIndex)];
  if (!tx || tx.hash.toLowerCase() !== log.transactionHash.toLowerCase()) {
    throw new Error(`block ${Number(block.number)} does not hold transaction ${log.transactionHash} of its log`);
  }
  return {
    address: log.address.toLowerCase(),
    logIndex: BigInt(log.logIndex),
    // Without receipts the index within the transaction is unknown; graph-node reports the
    // block's log index here as well for most chains.
    transactionLogIndex: BigInt(log.logIndex),
    logType: null,
    block: {
      hash: block.hash,
      parentHash: block.parentHash,
      number: BigInt(block.number),
      timestamp: BigInt(block.timestamp),
      gasUsed: BigInt(block.gasUsed),
      gasLimit: BigInt(block.gasLimit),
      author: block.miner,
      baseFeePerGas: block.baseFeePerGas === undefined ? null : BigInt(block.baseFeePerGas),
    },
    transaction: {
      hash: tx.hash,
      index: BigInt(tx.transactionIndex),
      from: tx.from,
      to: tx.to,
      value: BigInt(tx.value),
      gasLimit: BigInt(tx.gas),
      gasPrice: BigInt(tx.gasPrice ?? 0),
      input: tx.input,
      nonce: BigInt(tx.nonce),
    },
    params: route.fragment.inputs.map((input, i) => ({ name: input.name, value: ethValueFromAbi(input, decoded[i]) })),
  };
}
