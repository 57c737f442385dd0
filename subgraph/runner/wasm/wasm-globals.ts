/**
 * Rewrites a WASM binary so that every mutable global it defines is also exported. JavaScript
 * cannot otherwise read or reset a module's internal globals (the AssemblyScript heap offset,
 * module-level `let`s), and resetting them is how one instance can stand in for the fresh
 * instance graph-node creates for every trigger.
 */

/** Added exports are named this plus the global's index. */
const GLOBAL_EXPORT_PREFIX = "__meshgate_global_";

const SECTION_IMPORT = 2;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const EXTERNAL_GLOBAL = 3;
/** Value types JavaScript can get and set: i32, i64, f32, f64. */
const NUMERIC_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c]);

export interface ExportedGlobals {
  readonly wasm: Uint8Array;
  /** Names of the added global exports. */
  readonly names: readonly string[];
}

export function exportMutableGlobals(wasm: Uint8Array): ExportedGlobals {
  const reader = new Reader(wasm);
  reader.expectHeader();
  let importedGlobals = 0;
  const mutable: number[] = [];
  let exportSection: { start: number; end: number; payloadStart: number } | null = null;

  while (!reader.done()) {
    const start = reader.pos;
    const id = reader.byte();
    const size = reader.u32();
    const payloadStart = reader.pos;
    const end = payloadStart + size;
    if (id === SECTION_IMPORT) {
      importedGlobals = countImportedGlobals(reader);
    } else if (id === SECTION_GLOBAL) {
      const count = reader.u32();
      for (let i = 0; i < count; i++) {
        const type = reader.byte();
        const isMutable = reader.byte() === 1;
        reader.skipConstExpr();
        if (!isMutable) continue;
        if (!NUMERIC_TYPES.has(type))
          throw new Error(`mutable global ${i} has a non-numeric type 0x${type.toString(16)}`);
        mutable.push(importedGlobals + i);
      }
    } else if (id === SECTION_EXPORT) {
      exportSection = { start, end, payloadStart };
    }
    reader.pos = end;
  }
  if (exportSection === null) throw new Error("WASM module has no export section");

  const names = mutable.map((index) => `${GLOBAL_EXPORT_PREFIX}${index}`);
  const exports = new Reader(wasm);
  exports.pos = exportSection.payloadStart;
  const count = exports.u32();
  const added = mutable.flatMap((index, i) => [...encodeName(names[i] ?? ""), EXTERNAL_GLOBAL, ...encodeU32(index)]);
  const payload = concat([
    encodeU32(count + mutable.length),
    wasm.subarray(exports.pos, exportSection.end),
    Uint8Array.from(added),
  ]);
  const rewritten = concat([
    wasm.subarray(0, exportSection.start),
    Uint8Array.of(SECTION_EXPORT),
    encodeU32(payload.length),
    payload,
    wasm.subarray(exportSection.end),
  ]);
  return { wasm: rewritten, names };
}

function countImportedGlobals(reader: Reader): number {
  let globals = 0;
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    reader.skipName();
    reader.skipName();
    const kind = reader.byte();
    if (kind === 0) {
      reader.u32(); // function type index
    } else if (kind === 1) {
      reader.byte(); // table element type
      reader.skipLimits();
    } else if (kind === 2) {
      reader.skipLimits();
    } else if (kind === EXTERNAL_GLOBAL) {
      reader.byte(); // value type
      reader.byte(); // mutability
      globals++;
    } else if (kind === 4) {
      reader.byte(); // tag attribute
      reader.u32(); // tag type index
    } else {
      throw new Error(`unknown import kind ${kind}`);
    }
  }
  return globals;
}

class Reader {
  pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.pos >= this.bytes.length;
  }

  expectHeader(): void {
    const magic = this.bytes.subarray(0, 8);
    if (magic.length < 8 || magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
      throw new Error("not a WASM binary");
    }
    this.pos = 8;
  }

  byte(): number {
    const value = this.bytes[this.pos++];
    if (value === undefined) throw new Error("unexpected end of WASM binary");
    return value;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
  }

  /** Any LEB128 number, signed or not, of any width. */
  skipLeb(): void {
    while ((this.byte() & 0x80) !== 0);
  }

  skipName(): void {
    const length = this.u32();
    this.pos += length;
  }

  skipLimits(): void {
    const flags = this.byte();
    this.u32();
    if ((flags & 1) !== 0) this.u32();
  }

  /** A constant expression (global initializer), up to and including `end`. */
  skipConstExpr(): void {
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return; // end
      if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2)
        this.skipLeb(); // i32/i64.const, global.get, ref.func
      else if (op === 0x43)
        this.pos += 4; // f32.const
      else if (op === 0x44)
        this.pos += 8; // f64.const
      else if (op === 0xd0)
        this.byte(); // ref.null
      else if (op === 0xfd && this.u32() === 12)
        this.pos += 16; // v128.const
      else if (![0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) {
        // anything but the extended-const add/sub/mul
        throw new Error(`unsupported opcode 0x${op.toString(16)} in a global initializer`);
      }
    }
  }
}

function encodeU32(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const b = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? b : b | 0x80);
  } while (rest !== 0);
  return Uint8Array.from(out);
}

function encodeName(name: string): Uint8Array {
  const utf8 = new TextEncoder().encode(name);
  return concat([encodeU32(utf8.length), utf8]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
