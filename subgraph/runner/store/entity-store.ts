/**
 * Versioned in-memory entity store. Every entity keeps the list of its versions, each stamped
 * with the block that wrote it, so reads can name a past block (GraphQL time travel) and a
 * reorg can be undone by dropping the versions above the common ancestor. Mappings write
 * through a per-block `BlockWriter`; nothing is visible to queries until the block commits.
 */
import type { BlockPointer, Entity, MappingStore, QueryStore, StoreValue } from "./types.js";

interface Version {
  readonly block: number;
  /** null: removed at `block`. */
  readonly entity: Entity | null;
}

/** One entity write of a committed block (what the journal persists). */
export interface EntityChange {
  readonly entityType: string;
  readonly id: string;
  readonly entity: Entity | null;
}

export class EntityStore implements QueryStore {
  private readonly types = new Map<string, Map<string, Version[]>>();
  /** type -> field -> referenced id -> ids of the referencing entities, at head. */
  private readonly refIndexes = new Map<string, Map<string, Map<string, Set<string>>>>();
  private headPointer: BlockPointer | null = null;

  head(): BlockPointer | null {
    return this.headPointer;
  }

  /** Moves the head forward over blocks that changed nothing. */
  advanceHead(pointer: BlockPointer): void {
    if (this.headPointer && pointer.number < this.headPointer.number) {
      throw new Error(`head cannot move back from ${this.headPointer.number} to ${pointer.number}; use revert()`);
    }
    this.headPointer = pointer;
  }

  get(entityType: string, id: string, block?: number): Entity | null {
    const versions = this.types.get(entityType)?.get(id);
    return versions ? versionAt(versions, block) : null;
  }

  *list(entityType: string, block?: number): Iterable<Entity> {
    const ids = this.types.get(entityType);
    if (!ids) return;
    for (const versions of ids.values()) {
      const entity = versionAt(versions, block);
      if (entity) yield entity;
    }
  }

  *referencing(entityType: string, field: string, id: string, block?: number): Iterable<Entity> {
    if (block !== undefined && this.headPointer && block < this.headPointer.number) {
      for (const entity of this.list(entityType, block)) if (references(entity.get(field), id)) yield entity;
      return;
    }
    const ids = this.refIndex(entityType, field).get(id);
    if (!ids) return;
    for (const refId of ids) {
      const entity = this.get(entityType, refId);
      if (entity) yield entity;
    }
  }

  /** Number of live entities at head, per type (for metrics and benchmarks). */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [type, ids] of this.types) {
      let n = 0;
      for (const versions of ids.values()) if (versions[versions.length - 1]!.entity) n++;
      counts.set(type, n);
    }
    return counts;
  }

  /** A write set for one block; `commit()` applies it atomically. */
  beginBlock(pointer: BlockPointer): BlockWriter {
    if (this.headPointer && pointer.number <= this.headPointer.number) {
      throw new Error(`block ${pointer.number} is not above the head ${this.headPointer.number}`);
    }
    return new BlockWriter(this, pointer);
  }

  /** Applies one block's changes (also used to replay the journal) and moves the head to it. */
  apply(pointer: BlockPointer, changes: readonly EntityChange[]): void {
    for (const { entityType, id, entity } of changes) {
      let ids = this.types.get(entityType);
      if (!ids) this.types.set(entityType, (ids = new Map()));
      const versions = ids.get(id);
      const previous = versions ? versions[versions.length - 1]!.entity : null;
      const version = { block: pointer.number, entity };
      if (!versions) ids.set(id, [version]);
      else if (versions[versions.length - 1]!.block === pointer.number) versions[versions.length - 1] = version;
      else versions.push(version);
      this.reindex(entityType, id, previous, entity);
    }
    this.advanceHead(pointer);
  }

  /** Undoes every block above `pointer` (a reorg's common ancestor) and moves the head there. */
  revert(pointer: BlockPointer): void {
    for (const [entityType, ids] of this.types) {
      for (const [id, versions] of ids) {
        const before = versions[versions.length - 1]!.entity;
        while (versions.length > 0 && versions[versions.length - 1]!.block > pointer.number) versions.pop();
        if (versions.length === 0) ids.delete(id);
        const after = versions.length > 0 ? versions[versions.length - 1]!.entity : null;
        if (before !== after) this.reindex(entityType, id, before, after);
      }
    }
    this.headPointer = pointer;
  }

  private refIndex(entityType: string, field: string): Map<string, Set<string>> {
    let fields = this.refIndexes.get(entityType);
    if (!fields) this.refIndexes.set(entityType, (fields = new Map()));
    let index = fields.get(field);
    if (!index) {
      // Built on first use, then maintained by every write.
      index = new Map();
      for (const [id, versions] of this.types.get(entityType) ?? []) {
        const entity = versions[versions.length - 1]!.entity;
        if (entity) for (const ref of referencedIds(entity.get(field))) addRef(index, ref, id);
      }
      fields.set(field, index);
    }
    return index;
  }

  private reindex(entityType: string, id: string, before: Entity | null, after: Entity | null): void {
    for (const [field, index] of this.refIndexes.get(entityType) ?? []) {
      for (const ref of referencedIds(before?.get(field))) index.get(ref)?.delete(id);
      for (const ref of referencedIds(after?.get(field))) addRef(index, ref, id);
    }
  }
}

/** Pending writes of one block: what the mappings see through `store.get/set/remove`. */
export class BlockWriter implements MappingStore {
  private readonly pending = new Map<string, Map<string, Entity | null>>();

  constructor(
    private readonly store: EntityStore,
    readonly pointer: BlockPointer,
  ) {}

  get(entityType: string, id: string): Entity | null {
    const pending = this.pending.get(entityType);
    if (pending?.has(id)) return pending.get(id)!;
    return this.store.get(entityType, id);
  }

  set(entityType: string, id: string, entity: Entity): void {
    const idValue = entity.get("id");
    if (idValue && idValue.kind !== "Null" && String(idValue.value) !== id) {
      throw new Error(`entity ${entityType} "${id}" carries a different id field "${String(idValue.value)}"`);
    }
    // graph-node merges a write into the stored entity; a null field removes it.
    const merged = new Map(this.get(entityType, id) ?? []);
    for (const [field, value] of entity) {
      if (value.kind === "Null") merged.delete(field);
      else merged.set(field, value);
    }
    this.write(entityType, id, merged);
  }

  remove(entityType: string, id: string): void {
    this.write(entityType, id, null);
  }

  /** The block's changes, in first-write order. */
  changes(): EntityChange[] {
    const changes: EntityChange[] = [];
    for (const [entityType, ids] of this.pending) {
      for (const [id, entity] of ids) changes.push({ entityType, id, entity });
    }
    return changes;
  }

  commit(): EntityChange[] {
    const changes = this.changes();
    this.store.apply(this.pointer, changes);
    return changes;
  }

  private write(entityType: string, id: string, entity: Entity | null): void {
    let ids = this.pending.get(entityType);
    if (!ids) this.pending.set(entityType, (ids = new Map()));
    ids.set(id, entity);
  }
}

function versionAt(versions: readonly Version[], block: number | undefined): Entity | null {
  if (block === undefined) return versions[versions.length - 1]!.entity;
  // Versions are in block order; most reads ask for a recent block, so scan from the end.
  for (let i = versions.length - 1; i >= 0; i--) {
    if (versions[i]!.block <= block) return versions[i]!.entity;
  }
  return null;
}

function referencedIds(value: StoreValue | undefined): string[] {
  if (!value) return [];
  if (value.kind === "String" || value.kind === "Bytes") return [value.value];
  if (value.kind === "Int8") return [value.value.toString()];
  if (value.kind === "Array") return value.value.flatMap((v) => referencedIds(v));
  return [];
}

function references(value: StoreValue | undefined, id: string): boolean {
  return referencedIds(value).includes(id);
}

function addRef(index: Map<string, Set<string>>, ref: string, id: string): void {
  let ids = index.get(ref);
  if (!ids) index.set(ref, (ids = new Set()));
  ids.add(id);
}
