/**
 * `<Type>_orderBy` values and sorting, as graph-node orders rows: `order by <key> <dir>, id <dir>`
 * (Postgres: nulls last ascending, first descending), by id ascending without `orderBy`, enums
 * in declaration order (they are Postgres enums), `parent__child` through a single reference.
 * Key extractors are compiled once per (type, orderBy); a page needs only the first skip+first
 * rows, so those are selected with a bounded heap instead of sorting everything.
 */
import type { Entity, QueryStore } from "../store/types.js";
import { QueryError } from "./errors.js";
import type { FieldModel, Queryable, SubgraphModel } from "./schema-sdl.js";
import { compare, fromStore, idString, type Comparable } from "./values.js";

const isReference = (field: FieldModel): boolean => field.base.kind === "entity" || field.base.kind === "interface";

/** The values of `<Type>_orderBy`, in graph-node's order. */
export function orderByValues(model: SubgraphModel, q: Queryable): string[] {
  const values: string[] = [];
  for (const field of q.fields) {
    values.push(field.name);
    if (field.list || !isReference(field)) continue;
    for (const child of model.queryable.get(field.base.name)!.fields) {
      if (!child.list && !isReference(child)) values.push(`${field.name}__${child.name}`);
    }
  }
  return values;
}

export interface SortContext {
  readonly store: QueryStore;
  readonly block: number | undefined;
}

type KeyReader = (entity: Entity, ctx: SortContext) => Comparable | null;

function scalarReader(field: FieldModel): (entity: Entity) => Comparable | null {
  const name = field.name;
  if (field.base.kind === "enum") {
    const rank = new Map(field.base.values.map((v, i) => [v, i]));
    return (entity) => {
      const value = entity.get(name);
      return value?.kind === "String" ? (rank.get(value.value) ?? null) : null;
    };
  }
  return (entity) => fromStore(entity.get(name)) as Comparable | null;
}

function notSupported(q: Queryable, name: string): QueryError {
  return new QueryError(`Ordering by \`${name}\` is not supported for type \`${q.name}\``);
}

function compileKey(model: SubgraphModel, q: Queryable, orderBy: string): KeyReader {
  const [parentName, childName] = orderBy.split("__") as [string, string | undefined];
  const field = q.fieldMap.get(parentName);
  if (!field) throw new QueryError(`Entity \`${q.name}\` has no attribute \`${parentName}\``);
  if (childName === undefined) {
    if (field.list || field.derivedFrom !== null) throw notSupported(q, parentName);
    const read = scalarReader(field);
    return (entity) => read(entity);
  }
  const target = model.queryable.get(field.base.name);
  const childField = target?.fieldMap.get(childName);
  if (!target || !childField) throw new QueryError(`Entity \`${field.base.name}\` has no attribute \`${childName}\``);
  if (childField.list || isReference(childField)) throw notSupported(target, childName);
  const read = scalarReader(childField);
  const types = target.concrete.map((c) => c.name);
  if (field.derivedFrom !== null) {
    const back = field.derivedFrom;
    return (entity, { store, block }) => {
      const id = idString(entity.get("id"));
      if (id === null) return null;
      for (const type of types) for (const child of store.referencing(type, back, id, block)) return read(child);
      return null;
    };
  }
  return (entity, { store, block }) => {
    const id = idString(entity.get(parentName));
    if (id === null) return null;
    for (const type of types) {
      const child = store.get(type, id, block);
      if (child) return read(child);
    }
    return null;
  };
}

const keyCache = new WeakMap<Queryable, Map<string, KeyReader>>();

function keyReader(model: SubgraphModel, q: Queryable, orderBy: string): KeyReader {
  let readers = keyCache.get(q);
  if (!readers) keyCache.set(q, (readers = new Map()));
  let reader = readers.get(orderBy);
  if (!reader) readers.set(orderBy, (reader = compileKey(model, q, orderBy)));
  return reader;
}

interface Decorated<T> {
  readonly row: T;
  readonly key: Comparable | null;
  readonly id: Comparable;
}

export interface Page {
  readonly orderBy: string | null | undefined;
  readonly orderDirection: "asc" | "desc" | null | undefined;
  readonly skip: number;
  readonly first: number;
}

/** The rows of one page, in graph-node's order. */
export function selectPage<T extends { readonly entity: Entity }>(
  model: SubgraphModel,
  q: Queryable,
  rows: readonly T[],
  page: Page,
  ctx: SortContext,
): T[] {
  const byId = !page.orderBy || page.orderBy === "id";
  // Compiled before looking at the rows so that a bad orderBy fails even on an empty result.
  const read = byId ? null : keyReader(model, q, page.orderBy!);
  const limit = page.skip + page.first;
  if (page.skip >= rows.length) return [];
  const sign = page.orderBy && page.orderDirection === "desc" ? -1 : 1;
  const decorated: Decorated<T>[] = rows.map((row) => ({
    row,
    key: read ? read(row.entity, ctx) : null,
    id: fromStore(row.entity.get("id")) as Comparable,
  }));
  const ascending = (a: Decorated<T>, b: Decorated<T>): number => {
    if (a.key !== b.key) {
      if (a.key === null) return 1;
      if (b.key === null) return -1;
      const c = compare(a.key, b.key);
      if (c !== 0) return c;
    }
    return compare(a.id, b.id);
  };
  const cmp = sign === 1 ? ascending : (a: Decorated<T>, b: Decorated<T>) => -ascending(a, b);
  const selected = limit * 4 < decorated.length ? smallest(decorated, limit, cmp) : decorated.sort(cmp);
  return selected.slice(page.skip, limit).map((d) => d.row);
}

/** The `k` smallest items in order, through a max-heap of size k (O(n log k)). */
function smallest<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  const heap: T[] = [];
  const swap = (i: number, j: number): void => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && cmp(heap[l]!, heap[top]!) > 0) top = l;
      if (r < heap.length && cmp(heap[r]!, heap[top]!) > 0) top = r;
      if (top === i) return;
      swap(i, top);
      i = top;
    }
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (cmp(heap[i]!, heap[parent]!) <= 0) break;
        swap(i, parent);
        i = parent;
      }
    } else if (cmp(item, heap[0]!) < 0) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort(cmp);
}
