/**
 * The scalars graph-node adds to GraphQL. Output follows graph-node: BigInt, BigDecimal, Int8 and
 * Timestamp (microseconds since the epoch) as decimal strings, Bytes as 0x lower hex. Inputs are
 * parsed straight into the comparison domain of values.ts, so filters compare without
 * re-parsing per entity.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import type { StoreValue } from "../store/types.js";
import { parseDecimal, type Decimal } from "./values.js";

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

function decodeError(type: string, detail: string): GraphQLError {
  return new GraphQLError(`Failed to decode \`${type}\` value: \`${detail}\``);
}

function literal(node: ValueNode, kinds: readonly Kind[]): string | null {
  if (!kinds.includes(node.kind)) return null;
  return (node as { value: string }).value;
}

function parseInteger(type: string, value: unknown): bigint {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^[+-]?\d+$/.test(value.trim())) return BigInt(value.trim());
  throw decodeError(type, typeof value === "string" ? "invalid digit found in string" : String(value));
}

function parseInt8(type: string, value: unknown): bigint {
  const n = parseInteger(type, value);
  if (n < INT8_MIN || n > INT8_MAX) throw decodeError(type, "number too large to fit in target type");
  return n;
}

/** 0x-prefixed lower-case hex; graph-node accepts the prefix as optional. */
export function parseBytes(value: unknown): string {
  if (typeof value !== "string") throw decodeError("Bytes", String(value));
  const hex = value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value;
  if (hex.length % 2 !== 0) throw decodeError("Bytes", "Odd number of digits");
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw decodeError("Bytes", "Invalid character");
  return `0x${hex.toLowerCase()}`;
}

function parseBigDecimal(value: unknown): Decimal {
  const decimal = typeof value === "string" || typeof value === "number" ? parseDecimal(String(value)) : null;
  if (!decimal) throw decodeError("BigDecimal", String(value));
  return decimal;
}

function serializeText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "number") return value.toString();
  throw new GraphQLError(`cannot serialize ${String(value)}`);
}

export const BigIntScalar = new GraphQLScalarType<bigint, string>({
  name: "BigInt",
  serialize: serializeText,
  parseValue: (value) => parseInteger("BigInt", value),
  parseLiteral: (node) => parseInteger("BigInt", literal(node, [Kind.STRING, Kind.INT])),
});

export const Int8Scalar = new GraphQLScalarType<bigint, string>({
  name: "Int8",
  description: "8 bytes signed integer",
  serialize: serializeText,
  parseValue: (value) => parseInt8("Int8", value),
  parseLiteral: (node) => parseInt8("Int8", literal(node, [Kind.STRING, Kind.INT])),
});

export const TimestampScalar = new GraphQLScalarType<bigint, string>({
  name: "Timestamp",
  description: "A string representation of microseconds UNIX timestamp (16 digits)",
  serialize: serializeText,
  parseValue: (value) => parseInt8("Timestamp", value),
  parseLiteral: (node) => parseInt8("Timestamp", literal(node, [Kind.STRING, Kind.INT])),
});

export const BigDecimalScalar = new GraphQLScalarType<Decimal, string>({
  name: "BigDecimal",
  serialize: serializeText,
  parseValue: parseBigDecimal,
  parseLiteral: (node) => parseBigDecimal(literal(node, [Kind.STRING, Kind.INT, Kind.FLOAT])),
});

export const BytesScalar = new GraphQLScalarType<string, string>({
  name: "Bytes",
  serialize: serializeText,
  parseValue: parseBytes,
  parseLiteral: (node) => parseBytes(literal(node, [Kind.STRING])),
});

type Output = string | number | boolean | null | Output[];

/** A stored value as graph-node puts it in a response (custom scalars as strings). */
export function outputValue(value: StoreValue | undefined): Output {
  if (value === undefined) return null;
  switch (value.kind) {
    case "String":
    case "Bytes":
    case "BigDecimal":
    case "Int":
    case "Bool":
      return value.value;
    case "Int8":
    case "Timestamp":
    case "BigInt":
      return value.value.toString();
    case "Array":
      return value.value.map(outputValue);
    case "Null":
      return null;
  }
}
