/**
 * Builds graph-ts `ethereum.Event` objects (chain/ethereum.ts) in a mapping module's memory, laid
 * out like graph-node's AscEthereumEvent / AscEthereumBlock_0_0_6 / AscEthereumTransaction_0_0_6,
 * and converts ethers v6 decoded log arguments into the same dynamically typed values.
 */
import { Indexed, type ParamType } from "ethers";
import { type AscMemory, TypeId } from "./asc-memory.js";

export type EthValue =
  | { kind: "address"; value: string }
  | { kind: "fixedBytes"; value: string }
  | { kind: "bytes"; value: string }
  | { kind: "int"; value: bigint }
  | { kind: "uint"; value: bigint }
  | { kind: "bool"; value: boolean }
  | { kind: "string"; value: string }
  | { kind: "array" | "fixedArray" | "tuple"; value: EthValue[] };

export interface EventInput {
  /** 0x contract address. */
  address: string;
  logIndex: bigint;
  transactionLogIndex: bigint;
  logType: string | null;
  block: {
    hash: string;
    parentHash: string;
    number: bigint;
    timestamp: bigint;
    gasUsed: bigint;
    gasLimit: bigint;
    author: string;
    baseFeePerGas: bigint | null;
    /** Not needed by our mappings; 32 zero bytes when unknown. */
    unclesHash?: string;
    stateRoot?: string;
    transactionsRoot?: string;
    receiptsRoot?: string;
    /** 0 when unknown. */
    difficulty?: bigint;
    totalDifficulty?: bigint;
    /** null when unknown. */
    size?: bigint | null;
  };
  transaction: {
    hash: string;
    index: bigint;
    from: string;
    to: string | null;
    value: bigint;
    gasLimit: bigint;
    gasPrice: bigint;
    /** 0x calldata. */
    input: string;
    nonce: bigint;
  };
  params: Array<{ name: string; value: EthValue }>;
}

/** graph-ts `ethereum.ValueKind`. */
const EthKind = {
  address: 0,
  fixedBytes: 1,
  bytes: 2,
  int: 3,
  uint: 4,
  bool: 5,
  string: 6,
  fixedArray: 7,
  array: 8,
  tuple: 9,
} as const;

const ZERO_HASH = "0x" + "00".repeat(32);

/** Writes the event and everything it references; returns the `ethereum.Event` pointer. */
export function writeEthereumEvent(mem: AscMemory, event: EventInput): number {
  const { block, transaction: tx } = event;
  const blockPtr = mem.writeObject(TypeId.EthereumBlock, [
    mem.writeHex(block.hash),
    mem.writeHex(block.parentHash),
    mem.writeHex(block.unclesHash ?? ZERO_HASH),
    mem.writeHex(block.author),
    mem.writeHex(block.stateRoot ?? ZERO_HASH),
    mem.writeHex(block.transactionsRoot ?? ZERO_HASH),
    mem.writeHex(block.receiptsRoot ?? ZERO_HASH),
    mem.writeBigInt(block.number),
    mem.writeBigInt(block.gasUsed),
    mem.writeBigInt(block.gasLimit),
    mem.writeBigInt(block.timestamp),
    mem.writeBigInt(block.difficulty ?? 0n),
    mem.writeBigInt(block.totalDifficulty ?? 0n),
    mem.writeNullableBigInt(block.size ?? null),
    mem.writeNullableBigInt(block.baseFeePerGas),
  ]);
  const txPtr = mem.writeObject(TypeId.EthereumTransaction, [
    mem.writeHex(tx.hash),
    mem.writeBigInt(tx.index),
    mem.writeHex(tx.from),
    mem.writeNullableHex(tx.to),
    mem.writeBigInt(tx.value),
    mem.writeBigInt(tx.gasLimit),
    mem.writeBigInt(tx.gasPrice),
    mem.writeHex(tx.input),
    mem.writeBigInt(tx.nonce),
  ]);
  const params = event.params.map((param) =>
    mem.writeObject(TypeId.EventParam, [mem.writeString(param.name), writeEthValue(mem, param.value)]),
  );
  return mem.writeObject(TypeId.EthereumEvent, [
    mem.writeHex(event.address),
    mem.writeBigInt(event.logIndex),
    mem.writeBigInt(event.transactionLogIndex),
    mem.writeNullableString(event.logType),
    blockPtr,
    txPtr,
    mem.writePointerArray(TypeId.ArrayEventParam, params),
    0, // receipt: our manifests do not request receipts
  ]);
}

function writeEthValue(mem: AscMemory, value: EthValue): number {
  const kind = EthKind[value.kind];
  switch (value.kind) {
    case "address":
    case "fixedBytes":
    case "bytes":
      return mem.writeEnum(TypeId.EthereumValue, kind, BigInt(mem.writeHex(value.value)));
    case "int":
    case "uint":
      return mem.writeEnum(TypeId.EthereumValue, kind, BigInt(mem.writeBigInt(value.value)));
    case "bool":
      return mem.writeEnum(TypeId.EthereumValue, kind, value.value ? 1n : 0n);
    case "string":
      return mem.writeEnum(TypeId.EthereumValue, kind, BigInt(mem.writeString(value.value)));
    case "array":
    case "fixedArray":
    case "tuple": {
      // Tuples are Array<ethereum.Value> too (graph-ts' Tuple extends it), as in graph-node.
      const items = value.value.map((item) => writeEthValue(mem, item));
      return mem.writeEnum(TypeId.EthereumValue, kind, BigInt(mem.writePointerArray(TypeId.ArrayEthereumValue, items)));
    }
  }
}

/**
 * Converts one ethers v6 decoded argument (`Interface.parseLog(log).args[i]` with its
 * `fragment.inputs[i]`). Indexed dynamic values (string, bytes, arrays, tuples) only exist as
 * their topic hash; graph-node (ethabi) passes that as fixed bytes, and so do we.
 */
export function ethValueFromAbi(paramType: ParamType, value: unknown): EthValue {
  if (value instanceof Indexed) {
    if (value.hash === null) throw new Error(`indexed parameter "${paramType.name}" has no topic hash`);
    return { kind: "fixedBytes", value: value.hash };
  }
  const type = paramType.baseType;
  const mismatch = () => new Error(`decoded value for "${paramType.format()}" has unexpected type ${typeof value}`);
  if (type === "array" || type === "tuple") {
    if (!Array.isArray(value)) throw mismatch();
    const children =
      type === "tuple"
        ? value.map((item: unknown, i) => ethValueFromAbi(componentOf(paramType, i), item))
        : value.map((item: unknown) => ethValueFromAbi(arrayChildOf(paramType), item));
    const kind = type === "tuple" ? "tuple" : paramType.arrayLength === -1 ? "array" : "fixedArray";
    return { kind, value: children };
  }
  if (type === "address" || type === "string") {
    if (typeof value !== "string") throw mismatch();
    return { kind: type, value };
  }
  if (type === "bool") {
    if (typeof value !== "boolean") throw mismatch();
    return { kind: "bool", value };
  }
  if (type.startsWith("bytes")) {
    if (typeof value !== "string") throw mismatch();
    return { kind: type === "bytes" ? "bytes" : "fixedBytes", value };
  }
  if (type.startsWith("int") || type.startsWith("uint")) {
    if (typeof value !== "bigint") throw mismatch();
    return { kind: type.startsWith("uint") ? "uint" : "int", value };
  }
  throw new Error(`unsupported ABI type "${paramType.format()}"`);
}

function componentOf(paramType: ParamType, index: number): ParamType {
  const component = paramType.components?.[index];
  if (component === undefined) throw new Error(`tuple "${paramType.format()}" has no component ${index}`);
  return component;
}

function arrayChildOf(paramType: ParamType): ParamType {
  if (paramType.arrayChildren === null) throw new Error(`array "${paramType.format()}" has no element type`);
  return paramType.arrayChildren;
}
