/**
 * The graph-ts host functions a mapping module imports, with graph-node's semantics and error
 * messages (runtime/wasm/src/host_exports.rs). Imports are matched by name only, as graph-node
 * does: AssemblyScript names the import module after the declaring source file ("index",
 * "numbers", "conversion", ...), which is an accident of graph-ts' layout.
 *
 * Anything a module imports that is not implemented here makes loading fail; nothing is stubbed.
 */
import { encodeBase58, keccak256 } from "ethers";
import type { Entity, MappingStore, StoreValue } from "../store/types.js";
import type { AscMemory } from "./asc-memory.js";
import {
  addDecimals,
  decimalsEqual,
  decimalToCanonical,
  multiplyDecimals,
  parseDecimal,
  subtractDecimals,
} from "./big-decimal.js";
import { type WasmHostFunction, type WasmImports, type WasmModule, wasmApi } from "./wasm-api.js";

type LogFn = (obj: Record<string, unknown>, msg: string) => void;

/** pino-compatible. */
export interface MappingLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface DataSourceInfo {
  readonly name: string;
  /** 0x contract address. */
  readonly address: string;
  readonly network: string;
}

/** What the host functions act on; `store`, `memory` and `blockHash` change between calls. */
export interface HostContext {
  /** The store of the handler call in progress; null between calls. */
  store: MappingStore | null;
  /** The current instance's memory; null until the first instantiation. */
  memory: AscMemory | null;
  /** Hash of the block being handled: the scope of `store.get_in_block`. */
  blockHash: string;
  readonly logger: MappingLogger;
  readonly dataSource: DataSourceInfo;
}

/** A host function failed deterministically (graph-node: DeterministicHostError). */
export class HostError extends Error {
  override readonly name = "HostError";
}

const NULL = 0;

/**
 * Keys (`type\0id`) the mappings wrote through a MappingStore, per block. The indexer hands each
 * block its own MappingStore, shared by all data sources, so this is graph-node's "in block" scope.
 */
const writtenInBlock = new WeakMap<MappingStore, { blockHash: string; keys: Set<string> }>();

function blockWrites(store: MappingStore, blockHash: string): Set<string> {
  let entry = writtenInBlock.get(store);
  if (entry === undefined || entry.blockHash !== blockHash) {
    entry = { blockHash, keys: new Set() };
    writtenInBlock.set(store, entry);
  }
  return entry.keys;
}

export function createHostFunctions(ctx: HostContext): ReadonlyMap<string, WasmHostFunction> {
  const mem = (): AscMemory => {
    if (ctx.memory === null) throw new Error("host function called before the module was instantiated");
    return ctx.memory;
  };
  const store = (): MappingStore => {
    if (ctx.store === null) throw new Error("store function called outside of a handler call");
    return ctx.store;
  };
  const written = (): Set<string> => blockWrites(store(), ctx.blockHash);
  const str = (ptr: number): string => mem().readString(ptr);
  const big = (ptr: number): bigint => mem().readBigInt(ptr);
  const newBig = (value: bigint): number => mem().writeBigInt(value);
  const dec = (ptr: number) => mem().readBigDecimal(ptr);

  const functions: Record<string, WasmHostFunction> = {
    abort(messagePtr, filePtr, line, column) {
      const message = messagePtr === NULL ? "no message" : `message: ${str(messagePtr)}`;
      let location = filePtr === NULL ? "an unknown location" : str(filePtr);
      if (filePtr !== NULL && line !== 0) location += `, line ${line}`;
      if (filePtr !== NULL && line !== 0 && column !== 0) location += `, column ${column}`;
      throw new HostError(`Mapping aborted at ${location}, with ${message}`);
    },

    "store.get"(typePtr, idPtr) {
      return mem().writeNullableEntity(store().get(str(typePtr), str(idPtr)));
    },
    "store.get_in_block"(typePtr, idPtr) {
      const type = str(typePtr);
      const id = str(idPtr);
      return written().has(`${type}\0${id}`) ? mem().writeNullableEntity(store().get(type, id)) : NULL;
    },
    "store.set"(typePtr, idPtr, dataPtr) {
      const type = str(typePtr);
      const id = str(idPtr);
      store().set(type, id, withId(type, id, mem().readEntity(dataPtr)));
      written().add(`${type}\0${id}`);
    },
    "store.remove"(typePtr, idPtr) {
      const type = str(typePtr);
      const id = str(idPtr);
      store().remove(type, id);
      written().add(`${type}\0${id}`);
    },

    "typeConversion.bytesToString"(ptr) {
      return mem().writeString(bytesToString(ctx, mem().readBytes(ptr)));
    },
    "typeConversion.bytesToHex"(ptr) {
      return mem().writeString(mem().readHex(ptr));
    },
    "typeConversion.bigIntToString"(ptr) {
      return mem().writeString(big(ptr).toString());
    },
    "typeConversion.bigIntToHex"(ptr) {
      // The magnitude only, without leading zeros; graph-node drops the sign too.
      const n = big(ptr);
      return mem().writeString("0x" + (n < 0n ? -n : n).toString(16));
    },
    "typeConversion.stringToH160"(ptr) {
      const hex = str(ptr).replace(/^(0x)+/, "");
      if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new HostError(`Failed to convert string to Address/H160: '${hex}'`);
      return mem().writeHex(hex);
    },
    "typeConversion.bytesToBase58"(ptr) {
      return mem().writeString(encodeBase58(mem().readBytes(ptr)));
    },

    "bigInt.plus": (x, y) => newBig(big(x) + big(y)),
    "bigInt.minus": (x, y) => newBig(big(x) - big(y)),
    "bigInt.times": (x, y) => newBig(big(x) * big(y)),
    "bigInt.dividedBy"(x, y) {
      const divisor = big(y);
      if (divisor === 0n) throw new HostError(`attempted to divide BigInt \`${big(x)}\` by zero`);
      return newBig(big(x) / divisor); // truncates toward zero, like num-bigint
    },
    "bigInt.mod"(x, y) {
      const divisor = big(y);
      if (divisor === 0n) {
        throw new HostError(`attempted to calculate the remainder of \`${big(x)}\` with a divisor of zero`);
      }
      return newBig(big(x) % divisor); // sign of the dividend, like num-bigint
    },
    "bigInt.pow": (x, exp) => newBig(big(x) ** BigInt(exp & 0xff)),
    "bigInt.fromString"(ptr) {
      const text = str(ptr);
      // num-bigint's from_str: optional sign, digits, `_` separators after the first digit.
      if (!/^[+-]?[0-9][0-9_]*$/.test(text)) throw new HostError(`string is not a BigInt: \`${text}\``);
      return newBig(BigInt(text.replaceAll("_", "")));
    },
    "bigInt.bitOr": (x, y) => newBig(big(x) | big(y)),
    "bigInt.bitAnd": (x, y) => newBig(big(x) & big(y)),
    "bigInt.leftShift": (x, bits) => newBig(big(x) << BigInt(bits & 0xff)),
    // Rounds toward negative infinity for negative values, like num-bigint.
    "bigInt.rightShift": (x, bits) => newBig(big(x) >> BigInt(bits & 0xff)),

    "bigDecimal.plus": (x, y) => mem().writeBigDecimal(addDecimals(dec(x), dec(y))),
    "bigDecimal.minus": (x, y) => mem().writeBigDecimal(subtractDecimals(dec(x), dec(y))),
    "bigDecimal.times": (x, y) => mem().writeBigDecimal(multiplyDecimals(dec(x), dec(y))),
    "bigDecimal.equals": (x, y) => (decimalsEqual(dec(x), dec(y)) ? 1 : 0),
    "bigDecimal.toString": (ptr) => mem().writeString(decimalToCanonical(dec(ptr))),
    "bigDecimal.fromString": (ptr) => mem().writeBigDecimal(parseDecimal(str(ptr))),

    "log.log"(level, msgPtr) {
      const message = str(msgPtr);
      // The caller's logger carries the data source; graph-node tags mapping logs like this.
      const fields = { component: "UserMapping" };
      switch (level) {
        case 0:
          ctx.logger.error({ ...fields, critical: true }, message);
          throw new HostError(`Critical error logged in mapping: ${message}`);
        case 1:
          return ctx.logger.error(fields, message);
        case 2:
          return ctx.logger.warn(fields, message);
        case 3:
          return ctx.logger.info(fields, message);
        default:
          return ctx.logger.debug(fields, message);
      }
    },

    "dataSource.address": () => mem().writeHex(ctx.dataSource.address),
    "dataSource.network": () => mem().writeString(ctx.dataSource.network),

    "crypto.keccak256"(ptr) {
      return mem().writeHex(keccak256(mem().readBytes(ptr)));
    },
  };
  return new Map(Object.entries(functions));
}

/**
 * The import object for `module`. Throws, naming every unmet import, when the module needs a host
 * function (or a memory/table/global) this host does not provide.
 */
export function resolveImports(module: WasmModule, functions: ReadonlyMap<string, WasmHostFunction>): WasmImports {
  const imports: WasmImports = {};
  const missing: string[] = [];
  for (const { module: namespace, name, kind } of wasmApi.Module.imports(module)) {
    const fn = kind === "function" ? functions.get(name) : undefined;
    if (fn === undefined) {
      missing.push(kind === "function" ? name : `${namespace}.${name} (${kind})`);
      continue;
    }
    (imports[namespace] ??= {})[name] = fn;
  }
  if (missing.length > 0) {
    throw new Error(`mapping module imports host functions the local runner does not implement: ${missing.join(", ")}`);
  }
  return imports;
}

/** UTF-8, lossy, trailing NULs trimmed (fixed-size buffers are NUL-padded), as graph-node does. */
function bytesToString(ctx: HostContext, bytes: Uint8Array): string {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = lossyUtf8.decode(bytes);
    ctx.logger.warn(
      { component: "UserMapping", text: text.slice(0, 1024) },
      "Bytes contain invalid UTF8; you may want to use toHexString() instead",
    );
  }
  return text.replace(/\0+$/, "");
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * graph-node adds the `id` attribute when the mapping did not set one, and rejects one that
 * disagrees with the key (for Bytes ids the key is the lower-case 0x hex of the id).
 */
function withId(type: string, id: string, entity: Map<string, StoreValue>): Entity {
  if (id === "auto") {
    throw new HostError(`store.set(${type}, "auto"): auto-generated ids are not supported by the local runner`);
  }
  const value = entity.get("id");
  if (value === undefined) {
    entity.set("id", { kind: "String", value: id });
    return entity;
  }
  const matches =
    (value.kind === "String" && value.value === id) ||
    (value.kind === "Bytes" && value.value === (id.startsWith("0x") ? id : "0x" + id).toLowerCase()) ||
    (value.kind === "Int8" && value.value.toString() === id);
  if (!matches) {
    const shown = "value" in value ? String(value.value) : value.kind;
    throw new HostError(
      `Value of ${type} attribute 'id' conflicts with ID passed to \`store.set()\`: ${shown} != ${id}`,
    );
  }
  return entity;
}
