import { readFileSync } from "node:fs";
import { encodeBytes32String, getAddress, isAddress, isHexString, keccak256, parseUnits } from "ethers";
import { UsageError } from "./errors.js";

/** Parsed `--name value` options of one command; flags are "true". */
export type Options = Readonly<Record<string, string | undefined>>;

export function required(opts: Options, name: string, example: string): string {
  const value = opts[name];
  if (value === undefined || value === "") throw new UsageError(`missing --${name}: pass --${name} ${example}`);
  return value;
}

export function flag(opts: Options, name: string): boolean | undefined {
  if (opts[name] === "true") return true;
  if (opts[`no-${name}`] === "true") return false;
  return undefined;
}

export function amount(value: string, decimals: number, what: string): bigint {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new UsageError(`${what} must be a decimal amount like 12.5 (got "${value}")`);
  }
  try {
    return parseUnits(value, decimals);
  } catch {
    throw new UsageError(`${what} "${value}" has more than ${decimals} decimals`);
  }
}

export function positiveInt(value: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0 || Number(value) > max) {
    throw new UsageError(`${what} must be a whole number between 1 and ${max} (got "${value}")`);
  }
  return Number(value);
}

/** An epoch number (0 is the escrow's first epoch), as the contracts take it (uint32). */
export function epoch(value: string, what = "--epoch"): number {
  if (!/^\d+$/.test(value) || Number(value) > 2 ** 32 - 1) {
    throw new UsageError(`${what} must be an epoch number, a whole number from 0 (got "${value}")`);
  }
  return Number(value);
}

export function apiId(value: string | undefined): bigint {
  if (value === undefined) throw new UsageError("missing API id: pass it as the first argument, e.g. `api show 1`");
  if (!/^\d+$/.test(value) || BigInt(value) === 0n) {
    throw new UsageError(`API id must be a positive whole number (got "${value}")`);
  }
  return BigInt(value);
}

export function address(value: string, what: string): string {
  if (!isAddress(value)) throw new UsageError(`${what} must be a 0x-prefixed 20-byte address (got "${value}")`);
  return getAddress(value);
}

/** A short identifier stored as bytes32 (categories, tags, regions). */
export function shortText(value: string, what: string): string {
  if (value.length === 0 || Buffer.byteLength(value) > 31) {
    throw new UsageError(`${what} must be 1 to 31 bytes of text (got "${value}")`);
  }
  return encodeBytes32String(value);
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Durations like 3600, 90s, 30m, 12h, 30d, in seconds. */
export function duration(value: string, what: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value);
  if (m === null) throw new UsageError(`${what} must be a duration like 30d, 12h, 90m or 3600 (got "${value}")`);
  return Number(m[1]) * (UNITS[m[2] || "s"] ?? 1);
}

/** The content hash of an API's OpenAPI document: from --metadata-hash, or keccak256 of --openapi <file>. */
export function metadataHash(opts: Options): string {
  const hash = opts["metadata-hash"];
  const file = opts.openapi;
  if (hash !== undefined && file !== undefined)
    throw new UsageError("pass either --metadata-hash or --openapi, not both");
  if (hash !== undefined) {
    if (!isHexString(hash, 32)) throw new UsageError(`--metadata-hash must be 0x + 64 hex digits (got "${hash}")`);
    return hash;
  }
  if (file === undefined) {
    throw new UsageError(
      "missing the document hash: pass --openapi <file> (hashed for you) or --metadata-hash <0x...>",
    );
  }
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch {
    throw new UsageError(`cannot read --openapi file "${file}": check the path`);
  }
  return keccak256(content);
}
