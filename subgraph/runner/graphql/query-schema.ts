/**
 * The GraphQL schema graph-node would serve for a subgraph schema (graph/src/schema/api.rs), with
 * resolvers over a QueryStore. Every resolved entity travels as a Row carrying the block the
 * top-level field resolved, so nested fields read the same block (time travel).
 */
import {
  assertValidSchema,
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLScalarType,
} from "graphql";
import type { Entity, QueryStore } from "../store/types.js";
import { notIndexedYet, QueryError, rangeError, valueParseError } from "./errors.js";
import { candidates, compileFilter, filterEntries, type FilterContext } from "./filters.js";
import { orderByValues, selectPage, type Page } from "./ordering.js";
import {
  BigDecimalScalar,
  BigIntScalar,
  BytesScalar,
  Int8Scalar,
  outputValue,
  parseBytes,
  TimestampScalar,
} from "./scalars.js";
import type { EntityModel, FieldModel, Queryable, ScalarName, SubgraphModel } from "./schema-sdl.js";
import { idString } from "./values.js";

export interface QuerySchemaOptions {
  readonly store: QueryStore;
  /** Named in block errors and returned by `_meta { deployment }`. */
  readonly deployment: string;
  readonly hasIndexingErrors: () => boolean;
}

/** graph-node's limits (GRAPH_GRAPHQL_MAX_FIRST, GRAPH_GRAPHQL_MAX_SKIP defaults). */
const MAX_FIRST = 1000;
const MAX_SKIP = 5000;

/** An entity in a response: its concrete type and the block the query reads at (undefined: head). */
interface Row {
  readonly entity: Entity;
  readonly type: string;
  readonly block: number | undefined;
}

interface CollectionArgs {
  readonly skip?: number | null;
  readonly first?: number | null;
  readonly orderBy?: string | null;
  readonly orderDirection?: "asc" | "desc" | null;
  readonly where?: Readonly<Record<string, unknown>> | null;
}

interface BlockHeight {
  readonly hash?: string | null;
  readonly number?: number | null;
  readonly number_gte?: number | null;
}

/** Where a top-level field reads: `block` for the store (undefined: head) and the pointer `_meta` reports. */
interface ResolvedBlock {
  readonly block: number | undefined;
  readonly pointer: { readonly number: number; readonly hash: string | null; readonly timestamp: number | null };
}

const RESERVED_TYPES = new Set([
  "Query",
  "Subscription",
  "Block_height",
  "BlockChangedFilter",
  "OrderDirection",
  "_Meta_",
  "_Block_",
  "_SubgraphErrorPolicy_",
  "BigInt",
  "BigDecimal",
  "Bytes",
  "Int8",
  "Timestamp",
]);

const SCALARS: Record<ScalarName, GraphQLScalarType> = {
  ID: GraphQLID,
  String: GraphQLString,
  Int: GraphQLInt,
  Boolean: GraphQLBoolean,
  BigInt: BigIntScalar,
  BigDecimal: BigDecimalScalar,
  Bytes: BytesScalar,
  Int8: Int8Scalar,
  Timestamp: TimestampScalar,
};

const OrderDirection = new GraphQLEnumType({
  name: "OrderDirection",
  description: "Defines the order direction, either ascending or descending",
  values: { asc: { value: "asc" }, desc: { value: "desc" } },
});

const SubgraphErrorPolicy = new GraphQLEnumType({
  name: "_SubgraphErrorPolicy_",
  values: {
    allow: { value: "allow", description: "Data will be returned even if the subgraph has indexing errors" },
    deny: {
      value: "deny",
      description: "If the subgraph has indexing errors, data will be omitted. The default.",
    },
  },
});

const BlockHeightInput = new GraphQLInputObjectType({
  name: "Block_height",
  description: "The block at which the query should be executed.",
  fields: {
    hash: { type: BytesScalar, description: "Value containing a block hash" },
    number: { type: GraphQLInt, description: "Value containing a block number" },
    number_gte: {
      type: GraphQLInt,
      description:
        "Value containing the minimum block number. In the case of `number_gte`, the query will be executed on the latest block only if the subgraph has progressed to or past the minimum block number. Defaults to the latest block when omitted.",
    },
  },
});

const BlockChangedFilter = new GraphQLInputObjectType({
  name: "BlockChangedFilter",
  fields: { number_gte: { type: new GraphQLNonNull(GraphQLInt) } },
});

const BlockType = new GraphQLObjectType({
  name: "_Block_",
  fields: {
    hash: { type: BytesScalar, description: "The hash of the block" },
    number: { type: new GraphQLNonNull(GraphQLInt), description: "The block number" },
    timestamp: {
      type: GraphQLInt,
      description: "Integer representation of the timestamp stored in blocks for the chain",
    },
    parentHash: { type: BytesScalar, description: "The hash of the parent block" },
  },
});

const MetaType = new GraphQLObjectType({
  name: "_Meta_",
  description: "The type for the top-level _meta field",
  fields: {
    block: {
      type: new GraphQLNonNull(BlockType),
      description:
        "Information about a specific subgraph block. The hash of the block will be null if the _meta field has a block constraint that asks for a block number. It will be filled if the _meta field has no block constraint and therefore asks for the latest  block",
    },
    deployment: { type: new GraphQLNonNull(GraphQLString), description: "The deployment ID" },
    hasIndexingErrors: {
      type: new GraphQLNonNull(GraphQLBoolean),
      description: "If `true`, the subgraph encountered indexing errors at some past block",
    },
  },
});

const blockArgument = {
  type: BlockHeightInput,
  description:
    "The block at which the query should be executed. Can either be a `{ hash: Bytes }` value containing a block hash, a `{ number: Int }` containing the block number, or a `{ number_gte: Int }` containing the minimum block number. In the case of `number_gte`, the query will be executed on the latest block only if the subgraph has progressed to or past the minimum block number. Defaults to the latest block when omitted.",
};

const subgraphErrorArgument = {
  type: new GraphQLNonNull(SubgraphErrorPolicy),
  defaultValue: "deny",
  description: "Set to `allow` to receive data even if the subgraph has skipped over errors while syncing.",
};

/** The output type of an entity field, with its list and non-null wrappers. */
function wrap(field: FieldModel, named: GraphQLOutputType): GraphQLOutputType {
  let type = named;
  if (field.list) type = new GraphQLList(field.itemNonNull ? new GraphQLNonNull(type) : type);
  return field.nonNull ? new GraphQLNonNull(type) : type;
}

/** Validates `first` and `skip` as graph-node does and applies their defaults. */
function pageOf(args: CollectionArgs): Page {
  const first = args.first ?? 100;
  if (first <= 0 || first > MAX_FIRST) throw rangeError("first", MAX_FIRST, first);
  const skip = args.skip ?? 0;
  if (skip < 0 || skip > MAX_SKIP) throw rangeError("skip", MAX_SKIP, skip);
  return { first, skip, orderBy: args.orderBy, orderDirection: args.orderDirection };
}

export function buildQuerySchema(model: SubgraphModel, options: QuerySchemaOptions): GraphQLSchema {
  const { store, deployment } = options;
  for (const name of [...model.queryable.keys(), ...model.enums.map((e) => e.name)]) {
    if (RESERVED_TYPES.has(name) || name.endsWith("_filter") || name.endsWith("_orderBy")) {
      throw new Error(`type ${name} already exists in the generated query schema`);
    }
  }

  const enums = new Map(
    model.enums.map((e) => [
      e.name,
      new GraphQLEnumType({ name: e.name, values: Object.fromEntries(e.values.map((v) => [v, { value: v }])) }),
    ]),
  );
  const outputTypes = new Map<string, GraphQLObjectType | GraphQLInterfaceType>();
  const filterTypes = new Map<string, GraphQLInputObjectType>();
  const orderByTypes = new Map<string, GraphQLEnumType>();

  const namedInput = (name: string): GraphQLInputType =>
    (SCALARS as Record<string, GraphQLScalarType>)[name] ?? enums.get(name)!;

  for (const q of model.queryable.values()) {
    orderByTypes.set(
      q.name,
      new GraphQLEnumType({
        name: `${q.name}_orderBy`,
        values: Object.fromEntries(orderByValues(model, q).map((v) => [v, { value: v }])),
      }),
    );
    filterTypes.set(
      q.name,
      new GraphQLInputObjectType({
        name: `${q.name}_filter`,
        fields: () => {
          const fields: Record<string, { type: GraphQLInputType; description?: string }> = {};
          for (const entry of filterEntries(model, q).values()) {
            switch (entry.kind) {
              case "value": {
                const named = namedInput(entry.type.named);
                fields[entry.name] = { type: entry.type.list ? new GraphQLList(new GraphQLNonNull(named)) : named };
                break;
              }
              case "child":
                fields[entry.name] = { type: filterTypes.get(entry.field.base.name)! };
                break;
              case "change_block":
                fields[entry.name] = { type: BlockChangedFilter, description: "Filter for the block changed event." };
                break;
              default:
                fields[entry.name] = { type: new GraphQLList(filterTypes.get(q.name)!) };
            }
          }
          return fields;
        },
      }),
    );
  }

  const collectionArgs = (typeName: string): GraphQLFieldConfigArgumentMap => ({
    skip: { type: GraphQLInt, defaultValue: 0 },
    first: { type: GraphQLInt, defaultValue: 100 },
    orderBy: { type: orderByTypes.get(typeName)! },
    orderDirection: { type: OrderDirection },
    where: { type: filterTypes.get(typeName)! },
  });

  const filterContext = (block: number | undefined): FilterContext => ({ model, store, block });

  /** Filters candidate entities of each concrete type and returns the requested page. */
  const collect = (
    q: Queryable,
    source: (concrete: EntityModel) => Iterable<Entity>,
    args: CollectionArgs,
    block: number | undefined,
  ): Row[] => {
    const page = pageOf(args);
    const rows: Row[] = [];
    for (const concrete of q.concrete) {
      const matches = args.where ? compileFilter(q, concrete, args.where, filterContext(block)) : null;
      for (const entity of source(concrete)) {
        if (!matches || matches(entity)) rows.push({ entity, type: concrete.name, block });
      }
    }
    return selectPage(model, q, rows, page, { store, block });
  };

  const byIds = (concrete: EntityModel, ids: Iterable<string>, block: number | undefined): Entity[] => {
    const found: Entity[] = [];
    for (const id of new Set(ids)) {
      const entity = store.get(concrete.name, id, block);
      if (entity) found.push(entity);
    }
    return found;
  };

  const loadOne = (target: Queryable, id: string | null, block: number | undefined): Row | null => {
    if (id === null) return null;
    for (const concrete of target.concrete) {
      const entity = store.get(concrete.name, id, block);
      if (entity) return { entity, type: concrete.name, block };
    }
    return null;
  };

  const resolveBlock = (height: BlockHeight | null | undefined): ResolvedBlock => {
    const head = store.head();
    if (!head) throw new QueryError(`Subgraph \`${deployment}\` has not started syncing yet`);
    const latest: ResolvedBlock = { block: undefined, pointer: head };
    if (!height) return latest;
    const invalid = (): QueryError =>
      new QueryError(`Invalid value provided for argument \`block\`: ${JSON.stringify(height)}`);
    if ("hash" in height) {
      if (height.hash == null) throw invalid();
      if (head.hash !== height.hash) throw valueParseError("block.hash", "no block with that hash found");
      return latest;
    }
    if ("number" in height) {
      const number = height.number;
      if (number == null) throw invalid();
      if (number > head.number) throw valueParseError("block.number", notIndexedYet(deployment, head.number, number));
      // graph-node does not look the hash up for a block number; `_meta` reports it as null.
      return { block: number, pointer: { number, hash: null, timestamp: null } };
    }
    if ("number_gte" in height) {
      const min = height.number_gte;
      if (min == null) throw invalid();
      if (head.number < min) throw valueParseError("block.number_gte", notIndexedYet(deployment, head.number, min));
      return latest;
    }
    throw invalid();
  };

  /** The resolver of an entity field that references other entities. */
  const referenceField = (field: FieldModel): GraphQLFieldConfig<Row, unknown> => {
    const target = model.queryable.get(field.base.name)!;
    const type = wrap(field, outputTypes.get(target.name)!);
    const name = field.name;
    if (field.derivedFrom !== null) {
      const back = field.derivedFrom;
      const referencing = (concrete: EntityModel, row: Row): Iterable<Entity> => {
        const id = idString(row.entity.get("id"));
        return id === null ? [] : store.referencing(concrete.name, back, id, row.block);
      };
      if (field.list) {
        return {
          type,
          args: collectionArgs(target.name),
          resolve: (row, args: CollectionArgs) => collect(target, (c) => referencing(c, row), args, row.block),
        };
      }
      return {
        type,
        resolve: (row) => {
          const found: Row[] = [];
          for (const concrete of target.concrete) {
            for (const entity of referencing(concrete, row))
              found.push({ entity, type: concrete.name, block: row.block });
          }
          if (found.length > 1) {
            throw new QueryError(
              `Ambiguous result for derived field \`${name}\`: Multiple \`${target.name}\` entities refer back via \`${back}\``,
            );
          }
          return found[0] ?? null;
        },
      };
    }
    if (field.list) {
      return {
        type,
        args: collectionArgs(target.name),
        resolve: (row, args: CollectionArgs) => {
          const value = row.entity.get(name);
          const ids =
            value?.kind === "Array" ? value.value.map(idString).filter((id): id is string => id !== null) : [];
          return collect(target, (c) => byIds(c, ids, row.block), args, row.block);
        },
      };
    }
    return { type, resolve: (row) => loadOne(target, idString(row.entity.get(name)), row.block) };
  };

  const fieldsOf = (q: Queryable) => (): Record<string, GraphQLFieldConfig<Row, unknown>> => {
    const fields: Record<string, GraphQLFieldConfig<Row, unknown>> = {};
    for (const field of q.fields) {
      const base = field.base;
      if (base.kind === "entity" || base.kind === "interface") {
        fields[field.name] = referenceField(field);
      } else {
        const name = field.name;
        const named = base.kind === "enum" ? enums.get(base.name)! : SCALARS[base.name];
        fields[field.name] = { type: wrap(field, named), resolve: (row) => outputValue(row.entity.get(name)) };
      }
    }
    return fields;
  };

  for (const iface of model.interfaces) {
    outputTypes.set(
      iface.name,
      new GraphQLInterfaceType({ name: iface.name, fields: fieldsOf(iface), resolveType: (row: Row) => row.type }),
    );
  }
  for (const entity of model.entities) {
    outputTypes.set(
      entity.name,
      new GraphQLObjectType({
        name: entity.name,
        interfaces: () => entity.interfaces.map((i) => outputTypes.get(i) as GraphQLInterfaceType),
        fields: fieldsOf(entity),
      }),
    );
  }

  const queryFields: Record<string, GraphQLFieldConfig<unknown, unknown>> = {};
  for (const q of [...model.entities, ...model.interfaces]) {
    const output = outputTypes.get(q.name)!;
    queryFields[q.singular] = {
      type: output,
      args: { id: { type: new GraphQLNonNull(GraphQLID) }, block: blockArgument, subgraphError: subgraphErrorArgument },
      resolve: (_root, args: { id: string; block?: BlockHeight | null }) => {
        const { block } = resolveBlock(args.block);
        const id = q.concrete[0]!.idType === "Bytes" ? parseBytes(args.id) : args.id;
        return loadOne(q, id, block);
      },
    };
    queryFields[q.plural] = {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(output))),
      args: { ...collectionArgs(q.name), block: blockArgument, subgraphError: subgraphErrorArgument },
      resolve: (_root, args: CollectionArgs & { block?: BlockHeight | null }) => {
        const { block } = resolveBlock(args.block);
        const hint = candidates(model, q, args.where);
        return collect(
          q,
          (concrete) =>
            hint.kind === "ids"
              ? byIds(concrete, hint.ids, block)
              : hint.kind === "referencing"
                ? store.referencing(concrete.name, hint.field, hint.id, block)
                : store.list(concrete.name, block),
          args,
          block,
        );
      },
    };
  }
  queryFields._meta = {
    type: MetaType,
    description: "Access to subgraph metadata",
    args: { block: { type: BlockHeightInput } },
    resolve: (_root, args: { block?: BlockHeight | null }) => {
      const { pointer } = resolveBlock(args.block);
      return {
        block: { hash: pointer.hash, number: pointer.number, timestamp: pointer.timestamp, parentHash: null },
        deployment,
        hasIndexingErrors: options.hasIndexingErrors(),
      };
    },
  };

  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: queryFields }),
    types: [...outputTypes.values()],
  });
  assertValidSchema(schema);
  return schema;
}
