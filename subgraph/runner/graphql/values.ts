/**
 * The value domain filters and ordering compare in. Store values and GraphQL inputs are both
 * brought into it: strings (String, ID, Bytes as 0x lower hex, entity ids, enum names), numbers
 * (Int), bigints (BigInt, Int8, Timestamp), decimals (BigDecimal, compared numerically as
 * Postgres `numeric` does) and booleans.
 */
import type { StoreValue } from "../store/types.js";

/** mantissa * 10^-scale, with trailing zeros of the mantissa removed so equal values are equal. */
export interface Decimal {
  readonly mantissa: bigint;
  readonly scale: number;
}

export type Comparable = string | number | bigint | boolean | Decimal;
/** A stored value brought into the domain; lists stay lists, missing or Null is null. */
export type DomainValue = Comparable | readonly DomainValue[] | null;

const MAX_SCALE = 16_383;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function parseDecimal(text: string): Decimal | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  if (whole.length + fraction.length === 0) return null;
  let mantissa = BigInt(sign + (whole + fraction || "0"));
  let scale = fraction.length - Number(exponent);
  // Postgres numeric (graph-node's BigDecimal column) cannot hold more; also bounds pow10 below.
  if (Math.abs(scale) > MAX_SCALE) return null;
  if (mantissa === 0n) return { mantissa, scale: 0 };
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale -= 1;
  }
  return { mantissa, scale };
}

const powers: bigint[] = [1n];
function pow10(n: number): bigint {
  while (powers.length <= n) powers.push(powers[powers.length - 1]! * 10n);
  return powers[n]!;
}

function compareDecimal(a: Decimal, b: Decimal): number {
  let x = a.mantissa;
  let y = b.mantissa;
  if (a.scale < b.scale) x *= pow10(b.scale - a.scale);
  else if (b.scale < a.scale) y *= pow10(a.scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Total order within one domain; number and bigint mix (Int8 ids filtered with Int). */
export function compare(a: Comparable, b: Comparable): number {
  if (typeof a === "object") return compareDecimal(a, b as Decimal);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function equals(a: Comparable, b: Comparable): boolean {
  return a === b || (typeof a !== "string" && compare(a, b) === 0);
}

// Stored BigDecimals arrive as strings; sorting and filtering compare them many times over.
const decimalCache = new Map<string, Decimal>();
const DECIMAL_CACHE_LIMIT = 100_000;

function storedDecimal(text: string): Decimal {
  let decimal = decimalCache.get(text);
  if (decimal === undefined) {
    decimal = parseDecimal(text) ?? { mantissa: 0n, scale: 0 };
    if (decimalCache.size >= DECIMAL_CACHE_LIMIT) decimalCache.clear();
    decimalCache.set(text, decimal);
  }
  return decimal;
}

export function fromStore(value: StoreValue | undefined): DomainValue {
  if (value === undefined) return null;
  switch (value.kind) {
    case "String":
    case "Bytes":
    case "Int":
    case "Int8":
    case "Timestamp":
    case "BigInt":
    case "Bool":
      return value.value;
    case "BigDecimal":
      return storedDecimal(value.value);
    case "Array":
      return value.value.map(fromStore);
    case "Null":
      return null;
  }
}

/** The id string the store is keyed by, for an id or reference value. */
export function idString(value: StoreValue | undefined): string | null {
  if (value === undefined) return null;
  switch (value.kind) {
    case "String":
    case "Bytes":
      return value.value;
    case "Int8":
    case "Int":
    case "BigInt":
      return value.value.toString();
    default:
      return null;
  }
}
