/**
 * Durable history of the entity store: one JSON line per committed block (its pointer and
 * entity changes) or reorg revert. Replaying the file rebuilds the store, so a restarted runner
 * continues from the block where it stopped. The first line names what was indexed (chain,
 * contracts, mapping code); a journal written for anything else is set aside, not replayed.
 * A torn last line (crash mid-write) is cut off: that block is simply indexed again.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from "node:fs";
import type { EntityChange } from "./entity-store.js";
import type { BlockPointer, Entity, StoreValue } from "./types.js";

export type JournalRecord =
  | { readonly kind: "block"; readonly pointer: BlockPointer; readonly changes: readonly EntityChange[] }
  | { readonly kind: "revert"; readonly pointer: BlockPointer };

export interface JournalOpenResult {
  readonly journal: Journal;
  readonly records: JournalRecord[];
  /** Set when an existing journal belonged to another deployment and was moved aside. */
  readonly discarded?: string;
}

type EncodedValue = [StoreValue["kind"], unknown];

export class Journal {
  private constructor(private fd: number | undefined) {}

  /** Opens (or creates) the journal at `file` for the indexing identity `identity`. */
  static open(file: string, identity: string): JournalOpenResult {
    let records: JournalRecord[] = [];
    let discarded: string | undefined;
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8");
      const complete = text.lastIndexOf("\n") + 1;
      const lines = text.slice(0, complete).split("\n").filter(Boolean);
      if (lines.length > 0 && safeParse(lines[0]!)?.identity === identity) {
        if (complete < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, complete)));
        records = lines.slice(1).map(decodeRecord);
      } else {
        discarded = `${file}.${Date.now()}.discarded`;
        renameSync(file, discarded);
      }
    }
    const fd = openSync(file, "a");
    // A new (or just set-aside) journal starts with its identity line.
    if (fstatSync(fd).size === 0) writeSync(fd, `${JSON.stringify({ identity })}\n`);
    return { journal: new Journal(fd), records, ...(discarded ? { discarded } : {}) };
  }

  /** Appends records and flushes them to disk before returning. */
  append(records: readonly JournalRecord[]): void {
    if (this.fd === undefined) throw new Error("the journal is closed");
    if (records.length === 0) return;
    writeSync(this.fd, records.map((r) => `${JSON.stringify(encodeRecord(r))}\n`).join(""));
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function safeParse(line: string): { identity?: unknown } | undefined {
  try {
    return JSON.parse(line) as { identity?: unknown };
  } catch {
    return undefined;
  }
}

function encodeRecord(record: JournalRecord): unknown {
  if (record.kind === "revert") return { r: record.pointer };
  return {
    b: record.pointer,
    c: record.changes.map(({ entityType, id, entity }) => [
      entityType,
      id,
      entity ? [...entity].map(([field, value]) => [field, ...encodeValue(value)]) : null,
    ]),
  };
}

function decodeRecord(line: string): JournalRecord {
  const raw = JSON.parse(line) as
    { r: BlockPointer } | { b: BlockPointer; c: [string, string, [string, StoreValue["kind"], unknown][] | null][] };
  if ("r" in raw) return { kind: "revert", pointer: raw.r };
  return {
    kind: "block",
    pointer: raw.b,
    changes: raw.c.map(([entityType, id, fields]) => ({
      entityType,
      id,
      entity: fields
        ? (new Map(fields.map(([field, kind, value]) => [field, decodeValue([kind, value])])) as Entity)
        : null,
    })),
  };
}

function encodeValue(value: StoreValue): EncodedValue {
  switch (value.kind) {
    case "Null":
      return ["Null", null];
    case "BigInt":
    case "Int8":
    case "Timestamp":
      return [value.kind, value.value.toString()];
    case "Array":
      return ["Array", value.value.map(encodeValue)];
    default:
      return [value.kind, value.value];
  }
}

function decodeValue([kind, value]: EncodedValue): StoreValue {
  switch (kind) {
    case "Null":
      return { kind };
    case "BigInt":
    case "Int8":
    case "Timestamp":
      return { kind, value: BigInt(value as string) };
    case "Array":
      return { kind, value: (value as EncodedValue[]).map(decodeValue) };
    case "String":
    case "Bytes":
    case "BigDecimal":
      return { kind, value: value as string };
    case "Int":
      return { kind, value: value as number };
    case "Bool":
      return { kind, value: value as boolean };
  }
}
