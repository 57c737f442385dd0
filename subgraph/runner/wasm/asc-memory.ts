/**
 * Reading and writing AssemblyScript 0.19 objects (stub runtime) in a mapping module's memory,
 * with the layouts graph-node uses for apiVersion 0.0.9 (runtime/wasm asc_abi):
 *
 * - every object has a 20-byte header before its payload; `rtSize` (payload - 4) is the byte size;
 * - String: UTF-16LE code units; ArrayBuffer: raw bytes;
 * - typed arrays (Bytes, Address, BigInt are all Uint8Array): { buffer, dataStart, byteLength };
 * - Array<T>: { buffer, dataStart, byteLength, length } with 4-byte pointer elements;
 * - enums (store Value, ethereum.Value): { kind: i32, padding, payload: u64 };
 * - BigInt: little-endian two's complement, minimal length (num-bigint's `to_signed_bytes_le`);
 * - TypedMap<string, Value> (Entity): { entries: Array<TypedMapEntry{ key, value }> }.
 */
import type { Entity, StoreValue } from "../store/types.js";
import { type Decimal, decimalToCanonical, normalizeDecimal, parseDecimal } from "./big-decimal.js";
import type { WasmMemory } from "./wasm-api.js";

/** graph-ts `TypeId` discriminants (global/global.ts); `id_of_type` maps them to class ids. */
export const TypeId = {
  String: 0,
  ArrayBuffer: 1,
  Uint8Array: 6,
  BigDecimal: 12,
  ArrayEthereumValue: 15,
  ArrayStoreValue: 16,
  ArrayEventParam: 19,
  ArrayTypedMapEntryStringStoreValue: 21,
  EventParam: 23,
  EthereumTransaction: 24,
  EthereumBlock: 25,
  EthereumValue: 30,
  StoreValue: 31,
  EthereumEvent: 33,
  TypedMapEntryStringStoreValue: 34,
  TypedMapStringStoreValue: 36,
} as const;
export type TypeId = (typeof TypeId)[keyof typeof TypeId];

/** graph-ts `ValueKind` (common/value.ts). */
const StoreKind = {
  String: 0,
  Int: 1,
  BigDecimal: 2,
  Bool: 3,
  Array: 4,
  Null: 5,
  Bytes: 6,
  BigInt: 7,
  Int8: 8,
  Timestamp: 9,
} as const;

/** The runtime exports graph-cli's `--exportRuntime` and graph-ts' global.ts provide. */
export interface AscExports {
  readonly memory: WasmMemory;
  __new(size: number, classId: number): number;
  id_of_type(typeId: number): number;
}

const NULL = 0;
const utf16 = new TextDecoder("utf-16le");

export class AscMemory {
  private u8 = new Uint8Array(0);
  /** Same memory as `u8`; for Node's native hex codec. */
  private buf = Buffer.alloc(0);
  private view = new DataView(new ArrayBuffer(0));
  private readonly classIds = new Map<TypeId, number>();

  constructor(private readonly exports: AscExports) {}

  // --- raw access -------------------------------------------------------------------------

  /**
   * Views are recreated lazily: `memory.grow` (inside `__new`) detaches the old buffer, which
   * leaves its views with length 0. Checking that is much cheaper than the `buffer` getter.
   */
  private sync(): void {
    if (this.u8.byteLength === 0) {
      const buffer = this.exports.memory.buffer;
      this.u8 = new Uint8Array(buffer);
      this.buf = Buffer.from(buffer);
      this.view = new DataView(buffer);
    }
  }

  u32(ptr: number): number {
    this.sync();
    return this.view.getUint32(ptr, true);
  }

  /** Allocates an object of `size` payload bytes with the class of `typeId`; returns its pointer. */
  alloc(size: number, typeId: TypeId): number {
    let classId = this.classIds.get(typeId);
    if (classId === undefined) {
      classId = this.exports.id_of_type(typeId);
      this.classIds.set(typeId, classId);
    }
    return this.exports.__new(size, classId) >>> 0;
  }

  /** An object whose payload is a list of 4-byte pointers (most graph-ts classes). */
  writeObject(typeId: TypeId, fields: readonly number[]): number {
    const ptr = this.alloc(fields.length * 4, typeId);
    this.sync();
    for (let i = 0; i < fields.length; i++) this.view.setUint32(ptr + i * 4, fields[i] ?? NULL, true);
    return ptr;
  }

  /** An `AscEnum`: { kind: i32, padding: u32, payload: u64 }. */
  writeEnum(typeId: TypeId, kind: number, payload: bigint): number {
    const ptr = this.alloc(16, typeId);
    this.sync();
    this.view.setInt32(ptr, kind, true);
    this.view.setUint32(ptr + 4, 0, true);
    this.view.setBigUint64(ptr + 8, BigInt.asUintN(64, payload), true);
    return ptr;
  }

  private readEnum(ptr: number): { kind: number; payload: bigint } {
    this.sync();
    return { kind: this.view.getInt32(ptr, true), payload: this.view.getBigUint64(ptr + 8, true) };
  }

  // --- strings ------------------------------------------------------------------------------

  writeString(value: string): number {
    const ptr = this.alloc(value.length * 2, TypeId.String);
    this.sync();
    for (let i = 0; i < value.length; i++) this.view.setUint16(ptr + i * 2, value.charCodeAt(i), true);
    return ptr;
  }

  writeNullableString(value: string | null): number {
    return value === null ? NULL : this.writeString(value);
  }

  readString(ptr: number): string {
    if (ptr === NULL) throw new Error("expected a string, got a null pointer");
    this.sync();
    const byteLength = this.view.getUint32(ptr - 4, true);
    if (byteLength > 64) return utf16.decode(this.u8.subarray(ptr, ptr + byteLength));
    // Short strings (names, ids) are cheaper to assemble than to hand to TextDecoder.
    let text = "";
    for (let i = 0; i < byteLength; i += 2) text += String.fromCharCode(this.view.getUint16(ptr + i, true));
    return text;
  }

  // --- byte arrays ----------------------------------------------------------------------

  /** `0x`-prefixed (or bare) hex to a Uint8Array object (Bytes/Address), decoded in place. */
  writeHex(hex: string): number {
    const digits = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
    const length = digits.length / 2;
    const buffer = this.alloc(Math.ceil(length), TypeId.ArrayBuffer);
    this.sync();
    // Buffer#write stops at the first invalid digit pair, so a short count means bad input.
    if (!Number.isInteger(length) || this.buf.write(digits, buffer, length, "hex") !== length) {
      throw new Error(`invalid hex string "${hex}"`);
    }
    return this.writeObject(TypeId.Uint8Array, [buffer, buffer, length]);
  }

  writeNullableHex(hex: string | null): number {
    return hex === null ? NULL : this.writeHex(hex);
  }

  /** A copy of a Uint8Array (or subclass) object's bytes. */
  readBytes(ptr: number): Uint8Array {
    return this.bytesView(ptr).slice();
  }

  /** A Uint8Array (or subclass) object's bytes as 0x hex. */
  readHex(ptr: number): string {
    const view = this.bytesView(ptr);
    return "0x" + Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString("hex");
  }

  /** Valid until the next allocation. */
  private bytesView(ptr: number): Uint8Array {
    if (ptr === NULL) throw new Error("expected a byte array, got a null pointer");
    this.sync();
    const dataStart = this.view.getUint32(ptr + 4, true);
    const byteLength = this.view.getUint32(ptr + 8, true);
    return this.u8.subarray(dataStart, dataStart + byteLength);
  }

  // --- BigInt / BigDecimal ----------------------------------------------------------------

  /**
   * Minimal little-endian two's complement, zero as one 0x00 byte: num-bigint's
   * `to_signed_bytes_le`, which is what graph-node hands to mappings.
   */
  writeBigInt(value: bigint): number {
    if (value >= -0x80000000n && value < 0x80000000n) {
      // Most values (block numbers, indexes, gas) fit an i32: skip the bigint formatting.
      const n = Number(value);
      const length =
        n >= -0x80 && n < 0x80 ? 1 : n >= -0x8000 && n < 0x8000 ? 2 : n >= -0x800000 && n < 0x800000 ? 3 : 4;
      const buffer = this.alloc(length, TypeId.ArrayBuffer);
      this.sync();
      for (let i = 0; i < length; i++) this.u8[buffer + i] = (n >> (8 * i)) & 0xff;
      return this.writeObject(TypeId.Uint8Array, [buffer, buffer, length]);
    }
    // Bytes needed for the magnitude plus a sign bit; ~value is -value - 1 for negatives.
    const magnitude = value < 0n ? ~value : value;
    const length = Math.floor(magnitude.toString(2).length / 8) + 1;
    const unsigned = value < 0n ? (1n << BigInt(length * 8)) + value : value;
    const buffer = this.alloc(length, TypeId.ArrayBuffer);
    this.sync();
    this.buf.write(unsigned.toString(16).padStart(length * 2, "0"), buffer, length, "hex");
    this.u8.subarray(buffer, buffer + length).reverse(); // big-endian digits to little-endian
    return this.writeObject(TypeId.Uint8Array, [buffer, buffer, length]);
  }

  writeNullableBigInt(value: bigint | null): number {
    return value === null ? NULL : this.writeBigInt(value);
  }

  readBigInt(ptr: number): bigint {
    const bytes = this.bytesView(ptr);
    const length = bytes.length;
    if (length === 0) return 0n;
    const negative = ((bytes[length - 1] ?? 0) & 0x80) !== 0;
    if (length <= 6) {
      let n = 0;
      for (let i = length - 1; i >= 0; i--) n = n * 256 + (bytes[i] ?? 0);
      return BigInt(negative ? n - 2 ** (8 * length) : n);
    }
    const unsigned = BigInt("0x" + Buffer.from(bytes).reverse().toString("hex"));
    return negative ? unsigned - (1n << BigInt(length * 8)) : unsigned;
  }

  /** Writes an already normalized decimal as graph-ts `BigDecimal { digits, exp }`. */
  writeBigDecimal(value: Decimal): number {
    const digits = this.writeBigInt(value.digits);
    const exp = this.writeBigInt(value.exp);
    return this.writeObject(TypeId.BigDecimal, [digits, exp]);
  }

  /** Reads and normalizes (graph-node normalizes every BigDecimal it receives). */
  readBigDecimal(ptr: number): Decimal {
    if (ptr === NULL) throw new Error("expected a BigDecimal, got a null pointer");
    const digitsPtr = this.u32(ptr);
    const expPtr = this.u32(ptr + 4);
    return normalizeDecimal({ digits: this.readBigInt(digitsPtr), exp: this.readBigInt(expPtr) });
  }

  // --- arrays -----------------------------------------------------------------------------

  /** `Array<T>` of pointers (`T` a managed class). */
  writePointerArray(typeId: TypeId, pointers: readonly number[]): number {
    const byteLength = pointers.length * 4;
    const buffer = this.alloc(byteLength, TypeId.ArrayBuffer);
    this.sync();
    for (let i = 0; i < pointers.length; i++) this.view.setUint32(buffer + i * 4, pointers[i] ?? NULL, true);
    return this.writeObject(typeId, [buffer, buffer, byteLength, pointers.length]);
  }

  readPointerArray(ptr: number): number[] {
    if (ptr === NULL) throw new Error("expected an array, got a null pointer");
    this.sync();
    const dataStart = this.view.getUint32(ptr + 4, true);
    const length = this.view.getInt32(ptr + 12, true);
    const out = new Array<number>(length);
    for (let i = 0; i < length; i++) out[i] = this.view.getUint32(dataStart + i * 4, true);
    return out;
  }

  // --- store values and entities ----------------------------------------------------------

  writeStoreValue(value: StoreValue): number {
    switch (value.kind) {
      case "String":
        return this.writeEnum(TypeId.StoreValue, StoreKind.String, BigInt(this.writeString(value.value)));
      case "Int":
        return this.writeEnum(TypeId.StoreValue, StoreKind.Int, BigInt(value.value));
      case "Int8":
        return this.writeEnum(TypeId.StoreValue, StoreKind.Int8, value.value);
      case "Timestamp":
        return this.writeEnum(TypeId.StoreValue, StoreKind.Timestamp, value.value);
      case "BigInt":
        return this.writeEnum(TypeId.StoreValue, StoreKind.BigInt, BigInt(this.writeBigInt(value.value)));
      case "BigDecimal": {
        const ptr = this.writeBigDecimal(parseDecimal(value.value));
        return this.writeEnum(TypeId.StoreValue, StoreKind.BigDecimal, BigInt(ptr));
      }
      case "Bool":
        return this.writeEnum(TypeId.StoreValue, StoreKind.Bool, value.value ? 1n : 0n);
      case "Bytes":
        return this.writeEnum(TypeId.StoreValue, StoreKind.Bytes, BigInt(this.writeHex(value.value)));
      case "Array": {
        const items = value.value.map((item) => this.writeStoreValue(item));
        const ptr = this.writePointerArray(TypeId.ArrayStoreValue, items);
        return this.writeEnum(TypeId.StoreValue, StoreKind.Array, BigInt(ptr));
      }
      case "Null":
        return this.writeEnum(TypeId.StoreValue, StoreKind.Null, 0n);
    }
  }

  readStoreValue(ptr: number): StoreValue {
    if (ptr === NULL) throw new Error("expected a store Value, got a null pointer");
    const { kind, payload } = this.readEnum(ptr);
    const pointer = Number(payload & 0xffffffffn);
    switch (kind) {
      case StoreKind.String:
        return { kind: "String", value: this.readString(pointer) };
      case StoreKind.Int:
        return { kind: "Int", value: Number(BigInt.asIntN(32, payload)) };
      case StoreKind.Int8:
        return { kind: "Int8", value: BigInt.asIntN(64, payload) };
      case StoreKind.Timestamp:
        return { kind: "Timestamp", value: BigInt.asIntN(64, payload) };
      case StoreKind.BigInt:
        return { kind: "BigInt", value: this.readBigInt(pointer) };
      case StoreKind.BigDecimal:
        return { kind: "BigDecimal", value: decimalToCanonical(this.readBigDecimal(pointer)) };
      case StoreKind.Bool:
        return { kind: "Bool", value: payload !== 0n };
      case StoreKind.Bytes:
        return { kind: "Bytes", value: this.readHex(pointer) };
      case StoreKind.Array:
        return { kind: "Array", value: this.readPointerArray(pointer).map((item) => this.readStoreValue(item)) };
      case StoreKind.Null:
        return { kind: "Null" };
      default:
        throw new Error(`unknown store value kind ${kind}`);
    }
  }

  /** Fields are written sorted by name, as graph-node does (`Entity::sorted`). */
  writeEntity(entity: Entity): number {
    const names = [...entity.keys()].sort();
    const entries = names.map((name) => {
      const key = this.writeString(name);
      const value = this.writeStoreValue(entity.get(name) as StoreValue);
      return this.writeObject(TypeId.TypedMapEntryStringStoreValue, [key, value]);
    });
    const array = this.writePointerArray(TypeId.ArrayTypedMapEntryStringStoreValue, entries);
    return this.writeObject(TypeId.TypedMapStringStoreValue, [array]);
  }

  writeNullableEntity(entity: Entity | null): number {
    return entity === null ? NULL : this.writeEntity(entity);
  }

  /** A later entry for the same key wins, like graph-node's HashMap collection. */
  readEntity(ptr: number): Map<string, StoreValue> {
    if (ptr === NULL) throw new Error("expected an entity, got a null pointer");
    const entity = new Map<string, StoreValue>();
    for (const entry of this.readPointerArray(this.u32(ptr))) {
      const key = this.readString(this.u32(entry));
      entity.set(key, this.readStoreValue(this.u32(entry + 4)));
    }
    return entity;
  }
}
