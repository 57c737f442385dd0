/**
 * The entity model shared by the WASM host (writes), the entity store (keeps versions) and the
 * GraphQL layer (reads). Values are tagged with their graph-node store kind so that an entity
 * round-trips exactly through `store.get` (BigInt vs Int8, Bytes vs String are otherwise
 * indistinguishable in JavaScript).
 */
export type StoreValue =
  | { readonly kind: "String"; readonly value: string }
  | { readonly kind: "Int"; readonly value: number }
  | { readonly kind: "Int8"; readonly value: bigint }
  | { readonly kind: "Timestamp"; readonly value: bigint }
  | { readonly kind: "BigInt"; readonly value: bigint }
  /** Canonical decimal string, e.g. "-12.5". */
  | { readonly kind: "BigDecimal"; readonly value: string }
  | { readonly kind: "Bool"; readonly value: boolean }
  /** 0x-prefixed lower-case hex. */
  | { readonly kind: "Bytes"; readonly value: string }
  | { readonly kind: "Array"; readonly value: readonly StoreValue[] }
  | { readonly kind: "Null" };

export type StoreValueKind = StoreValue["kind"];

/** One entity: field name -> value. Always has an `id` field. */
export type Entity = ReadonlyMap<string, StoreValue>;

/** A block the indexer has processed. */
export interface BlockPointer {
  readonly number: number;
  /** 0x-prefixed lower-case block hash. */
  readonly hash: string;
  /** Unix seconds. */
  readonly timestamp: number;
}

/** What mapping handlers see while one block is being processed (host functions store.*). */
export interface MappingStore {
  /** The entity with the block's pending writes applied, or null. */
  get(entityType: string, id: string): Entity | null;
  /** Merges the fields into the stored entity (graph-node semantics); a Null field removes it. */
  set(entityType: string, id: string, entity: Entity): void;
  remove(entityType: string, id: string): void;
}

/** What the GraphQL layer reads. Every read may name a past block (time travel). */
export interface QueryStore {
  /** The latest indexed block, or null before the first. */
  head(): BlockPointer | null;
  /** The entity as it was at the end of `block` (default: head), or null. */
  get(entityType: string, id: string, block?: number): Entity | null;
  /** Every entity of a type at the end of `block` (default: head), in creation order. */
  list(entityType: string, block?: number): Iterable<Entity>;
  /**
   * Entities of `entityType` whose `field` holds `id` (an ID/Bytes/String value equal to it, or
   * an array containing it): the reverse lookup behind `@derivedFrom`. Indexed at head.
   */
  referencing(entityType: string, field: string, id: string, block?: number): Iterable<Entity>;
}
