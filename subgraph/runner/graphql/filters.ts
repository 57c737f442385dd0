/**
 * `<Type>_filter` inputs: which filter fields graph-node generates for a type (graph/src/schema/
 * api.rs), and compiling a `where` argument into a predicate over entities with graph-node's SQL
 * semantics: comparisons with a null column are false, `_in: []` and `_not_in: []` match
 * nothing, `_contains`/`_starts_with`/... are SQL LIKE patterns (`%` and `_` stay wildcards),
 * list `_contains` means "has all", list `_not_contains` means "has none", nested `field_`
 * filters mean "some related entity matches".
 */
import type { Entity, QueryStore } from "../store/types.js";
import { invalidFilter, QueryError } from "./errors.js";
import type { EntityModel, FieldModel, Queryable, SubgraphModel } from "./schema-sdl.js";
import { compare, equals, fromStore, idString, type Comparable, type DomainValue } from "./values.js";

export type FilterOp =
  | ""
  | "not"
  | "gt"
  | "lt"
  | "gte"
  | "lte"
  | "in"
  | "not_in"
  | "contains"
  | "contains_nocase"
  | "not_contains"
  | "not_contains_nocase"
  | "starts_with"
  | "starts_with_nocase"
  | "not_starts_with"
  | "not_starts_with_nocase"
  | "ends_with"
  | "ends_with_nocase"
  | "not_ends_with"
  | "not_ends_with_nocase";

/** The GraphQL type of a filter field's value: a scalar or enum name, maybe a list of it. */
export interface FilterValueType {
  readonly named: string;
  readonly list: boolean;
}

export type FilterEntry =
  | {
      readonly kind: "value";
      readonly name: string;
      readonly field: FieldModel;
      readonly op: FilterOp;
      readonly type: FilterValueType;
    }
  | { readonly kind: "child"; readonly name: string; readonly field: FieldModel }
  | { readonly kind: "change_block" | "and" | "or"; readonly name: string };

const ORDERED: readonly FilterOp[] = ["", "not", "gt", "lt", "gte", "lte", "in", "not_in"];
const STRING_OPS: readonly FilterOp[] = [
  ...ORDERED,
  "contains",
  "contains_nocase",
  "not_contains",
  "not_contains_nocase",
  "starts_with",
  "starts_with_nocase",
  "not_starts_with",
  "not_starts_with_nocase",
  "ends_with",
  "ends_with_nocase",
  "not_ends_with",
  "not_ends_with_nocase",
];
const LIST_OPS: readonly FilterOp[] = ["", "not", "contains", "contains_nocase", "not_contains", "not_contains_nocase"];

function scalarOps(scalar: string): readonly FilterOp[] {
  switch (scalar) {
    case "String":
      return STRING_OPS;
    case "Bytes":
      return [...ORDERED, "contains", "not_contains"];
    case "Boolean":
      return ["", "not", "in", "not_in"];
    default:
      return ORDERED;
  }
}

/** graph-node lets references be filtered by id; the value type follows the target's id type. */
function referenceScalar(model: SubgraphModel, field: FieldModel): string {
  const target = model.queryable.get(field.base.name);
  return target?.concrete[0]?.idType === "Int8" ? "Int" : "String";
}

const entryCache = new WeakMap<Queryable, Map<string, FilterEntry>>();

/** The fields of `<Type>_filter`, in graph-node's order. */
export function filterEntries(model: SubgraphModel, q: Queryable): ReadonlyMap<string, FilterEntry> {
  let entries = entryCache.get(q);
  if (entries) return entries;
  entries = new Map();
  const add = (entry: FilterEntry): void => void entries!.set(entry.name, entry);
  const values = (field: FieldModel, ops: readonly FilterOp[], named: string, list: boolean): void => {
    for (const op of ops) {
      const inList = op === "in" || op === "not_in";
      add({
        kind: "value",
        name: op ? `${field.name}_${op}` : field.name,
        field,
        op,
        type: { named, list: list || inList },
      });
    }
  };
  for (const field of q.fields) {
    const reference = field.base.kind === "entity" || field.base.kind === "interface";
    if (field.list) {
      if (!reference) values(field, LIST_OPS, field.base.name, true);
      else if (field.derivedFrom === null) values(field, LIST_OPS, referenceScalar(model, field), true);
    } else if (reference) {
      if (field.derivedFrom === null)
        values(field, scalarOps(referenceScalar(model, field)), referenceScalar(model, field), false);
    } else if (field.base.kind === "enum") {
      values(field, ["", "not", "in", "not_in"], field.base.name, false);
    } else {
      values(field, scalarOps(field.base.name), field.base.name, false);
    }
    if (reference) add({ kind: "child", name: `${field.name}_`, field });
  }
  add({ kind: "change_block", name: "_change_block" });
  add({ kind: "and", name: "and" });
  add({ kind: "or", name: "or" });
  entryCache.set(q, entries);
  return entries;
}

export interface FilterContext {
  readonly model: SubgraphModel;
  readonly store: QueryStore;
  /** The block the query reads at; undefined for the head. */
  readonly block: number | undefined;
}

export type EntityPredicate = (entity: Entity) => boolean;

type Where = Readonly<Record<string, unknown>>;

const always: EntityPredicate = () => true;

function all(parts: EntityPredicate[]): EntityPredicate {
  if (parts.length === 0) return always;
  if (parts.length === 1) return parts[0]!;
  return (entity) => {
    for (const part of parts) if (!part(entity)) return false;
    return true;
  };
}

function any(parts: EntityPredicate[]): EntityPredicate {
  return (entity) => {
    for (const part of parts) if (part(entity)) return true;
    return false;
  };
}

/** A predicate over entities of `concrete` (one of `q.concrete`) for a `where` argument. */
export function compileFilter(q: Queryable, concrete: EntityModel, where: Where, ctx: FilterContext): EntityPredicate {
  const entries = filterEntries(ctx.model, q);
  const keys = Object.keys(where);
  const parts: EntityPredicate[] = [];
  const logical = keys.filter((k) => k === "and" || k === "or");
  if (logical.length > 0) {
    const columns = keys.filter((k) => k !== "and" && k !== "or");
    if (columns.length > 0) {
      if (logical.includes("or")) throw mixedOrError(columns);
      throw invalidFilter();
    }
    // graph-node builds each of `and`/`or` from every list in the object (so both together
    // means: all of the listed filters, and at least one of them).
    const lists = keys.map((k) => {
      const list = where[k];
      if (!Array.isArray(list)) throw invalidFilter();
      return list.map((item) => {
        if (item === null || typeof item !== "object") throw invalidFilter();
        return compileFilter(q, concrete, item as Where, ctx);
      });
    });
    const flat = lists.flat();
    for (const k of keys) parts.push(k === "and" ? all(flat) : any(flat));
    return all(parts);
  }
  for (const key of keys) {
    // GraphQL validation only lets through the keys of `<Type>_filter`.
    const entry = entries.get(key)!;
    const value = where[key];
    switch (entry.kind) {
      case "value":
        parts.push(valueFilter(ctx.model, entry.field, entry.op, value));
        break;
      case "child":
        if (value === null || typeof value !== "object") throw invalidFilter();
        parts.push(childFilter(entry.field, value as Where, ctx));
        break;
      case "change_block":
        parts.push(changeBlockFilter(concrete, value, ctx));
        break;
    }
  }
  return all(parts);
}

function mixedOrError(columns: readonly string[]): QueryError {
  const listed = columns.map((c) => `'${c}'`).join(", ");
  return new QueryError(
    `Cannot mix column filters with 'or' operator at the same level. Found column filter(s) ${listed} alongside 'or' operator.\n\n` +
      `Instead of:\nwhere: { ${listed}, or: [...] }\n\nUse:\nwhere: { or: [{ ${listed}, ... }, { ${listed}, ... }] }`,
  );
}

/** Brings a filter input into the field's domain (numbers become bigints for BigInt-like columns, Bytes references lower-case). */
function inputConverter(model: SubgraphModel, field: FieldModel): (value: unknown) => Comparable {
  const base = field.base;
  if (base.kind === "entity" || base.kind === "interface") {
    const idType = model.queryable.get(base.name)?.concrete[0]?.idType;
    if (idType === "Int8") return (v) => BigInt(v as number);
    if (idType === "Bytes") return (v) => (v as string).toLowerCase();
  }
  return (v) => v as Comparable;
}

const SQL_OPS: Partial<Record<FilterOp, string>> = { gt: ">", lt: "<", gte: ">=", lte: "<=" };

function valueFilter(model: SubgraphModel, field: FieldModel, op: FilterOp, raw: unknown): EntityPredicate {
  const name = field.name;
  const convert = inputConverter(model, field);
  const read = (entity: Entity): DomainValue => fromStore(entity.get(name));
  if (op === "" || op === "not") {
    const negate = op === "not";
    if (raw === null) return (entity) => (read(entity) === null) === !negate;
    const expected = field.list ? (raw as unknown[]).map(convert) : convert(raw);
    return (entity) => {
      const actual = read(entity);
      if (actual === null) return false;
      return sameValue(actual, expected) !== negate;
    };
  }
  if (op === "in" || op === "not_in") return inFilter(field, op === "not_in", raw, convert);
  const sqlOp = SQL_OPS[op];
  if (sqlOp !== undefined) {
    if (raw === null) throw new QueryError(`unsupported filter \`${sqlOp}\` for value \`null\``);
    const bound = convert(raw);
    const test =
      op === "gt"
        ? (c: number) => c > 0
        : op === "lt"
          ? (c: number) => c < 0
          : op === "gte"
            ? (c: number) => c >= 0
            : (c: number) => c <= 0;
    return (entity) => {
      const actual = read(entity);
      return actual !== null && test(compare(actual as Comparable, bound));
    };
  }
  if (raw === null) throw new QueryError(`unsupported filter \`${op}\` for value \`null\``);
  if (field.list) return listContains(read, op, (raw as unknown[]).map(convert));
  if (field.base.kind === "scalar" && field.base.name === "Bytes") return bytesContains(read, op, raw as string);
  return likeFilter(read, op, raw as string);
}

function sameValue(actual: DomainValue, expected: Comparable | readonly Comparable[]): boolean {
  if (Array.isArray(actual)) {
    if (!Array.isArray(expected) || actual.length !== expected.length) return false;
    return actual.every(
      (a, i) => a !== null && !Array.isArray(a) && equals(a as Comparable, expected[i] as Comparable),
    );
  }
  return !Array.isArray(expected) && equals(actual as Comparable, expected as Comparable);
}

function inFilter(
  field: FieldModel,
  negate: boolean,
  raw: unknown,
  convert: (v: unknown) => Comparable,
): EntityPredicate {
  if (!Array.isArray(raw)) throw new QueryError(`Non-list value passed to \`${negate ? "_not_in" : "_in"}\` filter`);
  if (raw.length === 0) return () => false;
  const name = field.name;
  const hasNull = raw.includes(null);
  const values = raw.filter((v) => v !== null).map(convert);
  // Decimals compare numerically ("1.0" = "1"); everything else is in the set's value domain.
  const set = new Set<unknown>(values);
  const member = values.some((v) => typeof v === "object")
    ? (v: Comparable) => values.some((x) => equals(v, x))
    : (v: Comparable) => set.has(v);
  return (entity) => {
    const actual = fromStore(entity.get(name));
    if (actual === null) return hasNull !== negate;
    // SQL: `f in (..)` / `f not in (..)`, or-ed with `f is [not] null` when the list has a null.
    if (values.length === 0) return negate;
    return member(actual as Comparable) !== negate;
  };
}

function listContains(read: (e: Entity) => DomainValue, op: FilterOp, wanted: readonly Comparable[]): EntityPredicate {
  const negate = op.startsWith("not_");
  const includes = (list: readonly DomainValue[], x: Comparable): boolean =>
    list.some((v) => v !== null && !Array.isArray(v) && equals(v as Comparable, x));
  return (entity) => {
    const actual = read(entity);
    if (!Array.isArray(actual)) return false;
    // Postgres `col @> value` (has all) and `not col && value` (shares none).
    return negate ? !wanted.some((x) => includes(actual, x)) : wanted.every((x) => includes(actual, x));
  };
}

function bytesContains(read: (e: Entity) => DomainValue, op: FilterOp, needle: string): EntityPredicate {
  const negate = op === "not_contains";
  const hex = needle.slice(2);
  return (entity) => {
    const actual = read(entity);
    if (typeof actual !== "string") return false;
    // `position(needle in column)` works on bytes: only matches at byte (two hex digit) boundaries.
    let found = false;
    for (let i = actual.indexOf(hex, 2); i !== -1; i = actual.indexOf(hex, i + 1)) {
      if (i % 2 === 0) {
        found = true;
        break;
      }
    }
    return found !== negate;
  };
}

/** A SQL LIKE pattern as a RegExp: `%` any run, `_` one character, `\` escapes. */
function likePattern(pattern: string, caseInsensitive: boolean): RegExp {
  let source = "";
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\\" && i + 1 < chars.length) source += escapeRegExp(chars[++i]!);
    else if (c === "%") source += "[\\s\\S]*";
    else if (c === "_") source += "[\\s\\S]";
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, caseInsensitive ? "iu" : "u");
}

const escapeRegExp = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

function likeFilter(read: (e: Entity) => DomainValue, op: FilterOp, value: string): EntityPredicate {
  const negate = op.startsWith("not_");
  const nocase = op.endsWith("_nocase");
  const kind = op.replace(/^not_/, "").replace(/_nocase$/, "");
  let pattern: string;
  if (kind === "starts_with") pattern = `${value}%`;
  else if (kind === "ends_with") pattern = `%${value}`;
  // graph-node passes a contains value that already starts or ends with % as the pattern itself.
  else pattern = value.startsWith("%") || value.endsWith("%") ? value : `%${value}%`;
  const regexp = likePattern(pattern, nocase);
  return (entity) => {
    const actual = read(entity);
    return typeof actual === "string" && regexp.test(actual) !== negate;
  };
}

function childFilter(field: FieldModel, where: Where, ctx: FilterContext): EntityPredicate {
  const target = ctx.model.queryable.get(field.base.name)!;
  const children = target.concrete.map((c) => ({ type: c.name, matches: compileFilter(target, c, where, ctx) }));
  const { store, block } = ctx;
  if (field.derivedFrom !== null) {
    const back = field.derivedFrom;
    return (entity) => {
      const id = idString(entity.get("id"));
      if (id === null) return false;
      for (const child of children) {
        for (const related of store.referencing(child.type, back, id, block)) if (child.matches(related)) return true;
      }
      return false;
    };
  }
  const matchesId = (id: string | null): boolean => {
    if (id === null) return false;
    for (const child of children) {
      const related = store.get(child.type, id, block);
      if (related && child.matches(related)) return true;
    }
    return false;
  };
  const name = field.name;
  return (entity) => {
    const value = entity.get(name);
    if (value?.kind === "Array") return value.value.some((v) => matchesId(idString(v)));
    return matchesId(idString(value));
  };
}

function changeBlockFilter(concrete: EntityModel, value: unknown, ctx: FilterContext): EntityPredicate {
  const gte = (value as { number_gte?: unknown } | null)?.number_gte;
  if (typeof gte !== "number") throw invalidFilter();
  const { store, block } = ctx;
  // Nothing visible at an earlier block can have been written at or after `gte`.
  if (block !== undefined && block < gte) return () => false;
  // The version visible now was written at or after `gte` iff it is not the one visible at
  // `gte - 1`; the store hands out the same Entity object for the same version.
  return (entity) => {
    const id = idString(entity.get("id"));
    return id !== null && store.get(concrete.name, id, gte - 1) !== entity;
  };
}

/** Where to look first for a top-level query: exact ids, or the entities referencing an id. */
export type Candidates =
  | { readonly kind: "ids"; readonly ids: readonly string[] }
  | { readonly kind: "referencing"; readonly field: string; readonly id: string }
  | { readonly kind: "all" };

/** Narrows a scan using the conjuncts of `where` that an id lookup or the reference index answers. */
export function candidates(model: SubgraphModel, q: Queryable, where: Where | null | undefined): Candidates {
  if (!where || "or" in where || "and" in where) return { kind: "all" };
  const id = where.id;
  if (id !== undefined && id !== null) return { kind: "ids", ids: [String(id)] };
  const idIn = where.id_in;
  if (Array.isArray(idIn)) return { kind: "ids", ids: idIn.filter((v) => v !== null).map(String) };
  for (const field of q.fields) {
    const value = where[field.name];
    const reference = field.base.kind === "entity" || field.base.kind === "interface";
    if (reference && !field.list && field.derivedFrom === null && typeof value === "string") {
      return { kind: "referencing", field: field.name, id: inputConverter(model, field)(value) as string };
    }
  }
  return { kind: "all" };
}
