/**
 * Reads a subgraph's schema.graphql into a typed model of its entities, interfaces and enums,
 * validating what graph-node validates and rejecting (with a message naming the construct) what
 * this query layer does not serve: timeseries/aggregations, fulltext search, unions, custom
 * scalars, nested lists.
 */
import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type EnumTypeDefinitionNode,
  type FieldDefinitionNode,
  type InterfaceTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
  type TypeNode,
} from "graphql";
import { queryFieldNames } from "./naming.js";

const SCALAR_NAMES = ["ID", "String", "Int", "Int8", "BigInt", "BigDecimal", "Bytes", "Boolean", "Timestamp"] as const;
export type ScalarName = (typeof SCALAR_NAMES)[number];

/** What a field's named type refers to. */
export type BaseType =
  | { readonly kind: "scalar"; readonly name: ScalarName }
  | { readonly kind: "enum"; readonly name: string; readonly values: readonly string[] }
  | { readonly kind: "entity"; readonly name: string }
  | { readonly kind: "interface"; readonly name: string };

export interface FieldModel {
  readonly name: string;
  readonly base: BaseType;
  readonly nonNull: boolean;
  readonly list: boolean;
  /** For lists: whether the items are non-null (`[T!]`). */
  readonly itemNonNull: boolean;
  /** `@derivedFrom(field:)`: the field of the related type that points back here. */
  readonly derivedFrom: string | null;
}

/** An entity type or an interface: anything a `Query` field can return. */
interface QueryableBase {
  readonly name: string;
  readonly fields: readonly FieldModel[];
  readonly fieldMap: ReadonlyMap<string, FieldModel>;
  /** `Query` field names (`apiRecord`, `apiRecords`). */
  readonly singular: string;
  readonly plural: string;
}

export interface EntityModel extends QueryableBase {
  readonly kind: "entity";
  readonly immutable: boolean;
  /** Scalar type of `id`. */
  readonly idType: "ID" | "String" | "Bytes" | "Int8";
  readonly interfaces: readonly string[];
  /** The entity itself, so entities and interfaces read alike. */
  readonly concrete: readonly EntityModel[];
}

export interface InterfaceModel extends QueryableBase {
  readonly kind: "interface";
  /** Entity types implementing the interface, in schema order. */
  readonly concrete: readonly EntityModel[];
}

export type Queryable = EntityModel | InterfaceModel;

export interface EnumModel {
  readonly name: string;
  readonly values: readonly string[];
}

export interface SubgraphModel {
  readonly entities: readonly EntityModel[];
  readonly interfaces: readonly InterfaceModel[];
  readonly enums: readonly EnumModel[];
  /** Entity or interface by type name. */
  readonly queryable: ReadonlyMap<string, Queryable>;
}

export class SubgraphSchemaError extends Error {
  override readonly name = "SubgraphSchemaError";
}

const ID_TYPES = new Set(["ID", "String", "Bytes", "Int8"]);

export function parseSubgraphSchema(sdl: string): SubgraphModel {
  const document = parse(sdl);
  const objects: ObjectTypeDefinitionNode[] = [];
  const interfaces: InterfaceTypeDefinitionNode[] = [];
  const enums: EnumTypeDefinitionNode[] = [];
  const names = new Set<string>();

  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
        objects.push(definition);
        break;
      case Kind.INTERFACE_TYPE_DEFINITION:
        interfaces.push(definition);
        break;
      case Kind.ENUM_TYPE_DEFINITION:
        enums.push(definition);
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
        // Redeclaring a built-in scalar is harmless; anything else has no store representation.
        if (!(SCALAR_NAMES as readonly string[]).includes(definition.name.value)) {
          throw new SubgraphSchemaError(`custom scalar ${definition.name.value} is not supported`);
        }
        continue;
      default:
        throw new SubgraphSchemaError(`${describeKind(definition.kind)} are not supported in a subgraph schema`);
    }
    const name = definition.name.value;
    if (names.has(name)) throw new SubgraphSchemaError(`type ${name} is defined twice`);
    if (name.startsWith("__")) throw new SubgraphSchemaError(`type name ${name} is reserved`);
    names.add(name);
  }

  const enumModels: EnumModel[] = enums.map((e) => ({
    name: e.name.value,
    values: (e.values ?? []).map((v) => v.name.value),
  }));
  const enumByName = new Map(enumModels.map((e) => [e.name, e]));
  const entityNames = new Set<string>();
  for (const object of objects) {
    const name = object.name.value;
    if (name === "_Schema_") {
      throw new SubgraphSchemaError("_Schema_ (fulltext search) is not supported");
    }
    const entity = directive(object.directives, "entity");
    if (entity === undefined) {
      throw new SubgraphSchemaError(`type ${name} is missing the @entity directive`);
    }
    if (directive(object.directives, "aggregation") !== undefined) {
      throw new SubgraphSchemaError(`type ${name}: aggregations are not supported`);
    }
    entityNames.add(name);
  }
  const interfaceNames = new Set(interfaces.map((i) => i.name.value));

  const baseType = (typeName: string, where: string): BaseType => {
    if ((SCALAR_NAMES as readonly string[]).includes(typeName)) return { kind: "scalar", name: typeName as ScalarName };
    const e = enumByName.get(typeName);
    if (e) return { kind: "enum", name: e.name, values: e.values };
    if (entityNames.has(typeName)) return { kind: "entity", name: typeName };
    if (interfaceNames.has(typeName)) return { kind: "interface", name: typeName };
    if (typeName === "Float") throw new SubgraphSchemaError(`${where}: Float is not supported, use BigDecimal`);
    throw new SubgraphSchemaError(`${where}: unknown type ${typeName}`);
  };

  const fieldModel = (owner: string, node: FieldDefinitionNode): FieldModel => {
    const where = `${owner}.${node.name.value}`;
    if (node.arguments && node.arguments.length > 0) {
      throw new SubgraphSchemaError(`${where}: field arguments are not supported`);
    }
    const shape = typeShape(node.type, where);
    const base = baseType(shape.name, where);
    let derivedFrom: string | null = null;
    for (const d of node.directives ?? []) {
      if (d.name.value !== "derivedFrom") {
        throw new SubgraphSchemaError(`${where}: directive @${d.name.value} is not supported`);
      }
      const arg = d.arguments?.find((a) => a.name.value === "field");
      if (arg?.value.kind !== Kind.STRING) {
        throw new SubgraphSchemaError(`${where}: @derivedFrom needs a field: String argument`);
      }
      derivedFrom = arg.value.value;
    }
    if (derivedFrom !== null && base.kind !== "entity" && base.kind !== "interface") {
      throw new SubgraphSchemaError(`${where}: @derivedFrom is only allowed on fields referencing entities`);
    }
    return { name: node.name.value, base, ...shape.flags, derivedFrom };
  };

  const fieldsOf = (owner: string, nodes: readonly FieldDefinitionNode[] | undefined): FieldModel[] => {
    const fields = (nodes ?? []).map((f) => fieldModel(owner, f));
    const seen = new Set<string>();
    for (const f of fields) {
      if (seen.has(f.name)) throw new SubgraphSchemaError(`${owner}.${f.name} is defined twice`);
      seen.add(f.name);
    }
    return fields;
  };

  const entityModels: (EntityModel & { concrete: EntityModel[] })[] = objects.map((object) => {
    const name = object.name.value;
    const args = directive(object.directives, "entity")?.arguments ?? [];
    let immutable = false;
    for (const arg of args) {
      if (arg.name.value === "timeseries") throw new SubgraphSchemaError(`type ${name}: timeseries are not supported`);
      if (arg.name.value !== "immutable" || arg.value.kind !== Kind.BOOLEAN) {
        throw new SubgraphSchemaError(`type ${name}: unsupported @entity argument ${arg.name.value}`);
      }
      immutable = arg.value.value;
    }
    for (const d of object.directives ?? []) {
      if (d.name.value !== "entity")
        throw new SubgraphSchemaError(`type ${name}: directive @${d.name.value} is not supported`);
    }
    const fields = fieldsOf(name, object.fields);
    const id = fields.find((f) => f.name === "id");
    if (!id || id.list || !id.nonNull || id.base.kind !== "scalar" || !ID_TYPES.has(id.base.name)) {
      throw new SubgraphSchemaError(`type ${name} needs an id field of type ID!, String!, Bytes! or Int8!`);
    }
    const [singular, plural] = queryFieldNames(name);
    const model = {
      kind: "entity" as const,
      name,
      immutable,
      idType: id.base.name as EntityModel["idType"],
      interfaces: (object.interfaces ?? []).map((i) => i.name.value),
      fields,
      fieldMap: new Map(fields.map((f) => [f.name, f])),
      singular,
      plural,
      concrete: [] as EntityModel[],
    };
    model.concrete.push(model);
    return model;
  });

  const interfaceModels: InterfaceModel[] = interfaces.map((node) => {
    const name = node.name.value;
    if (node.interfaces && node.interfaces.length > 0) {
      throw new SubgraphSchemaError(`interface ${name}: interfaces implementing interfaces are not supported`);
    }
    if (node.directives && node.directives.length > 0) {
      throw new SubgraphSchemaError(`interface ${name}: directives on interfaces are not supported`);
    }
    const fields = fieldsOf(name, node.fields);
    const id = fields.find((f) => f.name === "id");
    if (!id || id.list || !id.nonNull || id.base.kind !== "scalar" || !ID_TYPES.has(id.base.name)) {
      throw new SubgraphSchemaError(`interface ${name} needs an id field of type ID!, String!, Bytes! or Int8!`);
    }
    const [singular, plural] = queryFieldNames(name);
    return {
      kind: "interface",
      name,
      fields,
      fieldMap: new Map(fields.map((f) => [f.name, f])),
      singular,
      plural,
      concrete: entityModels.filter((e) => e.interfaces.includes(name)),
    };
  });

  const queryable = new Map<string, Queryable>();
  for (const q of [...entityModels, ...interfaceModels]) queryable.set(q.name, q);

  for (const entity of entityModels) {
    for (const iface of entity.interfaces) {
      const model = queryable.get(iface);
      if (model?.kind !== "interface")
        throw new SubgraphSchemaError(`type ${entity.name} implements unknown interface ${iface}`);
      checkImplements(entity, model);
    }
  }
  for (const iface of interfaceModels) {
    if (iface.concrete.length === 0)
      throw new SubgraphSchemaError(`interface ${iface.name} has no entity type implementing it`);
    const idTypes = new Set(iface.concrete.map((e) => e.idType));
    if (idTypes.size > 1)
      throw new SubgraphSchemaError(`interface ${iface.name}: implementations use different id types`);
  }
  for (const q of queryable.values()) {
    for (const field of q.fields) checkDerived(q, field, queryable);
  }

  return { entities: entityModels, interfaces: interfaceModels, enums: enumModels, queryable };
}

function directive(
  directives: readonly ConstDirectiveNode[] | undefined,
  name: string,
): ConstDirectiveNode | undefined {
  return directives?.find((d) => d.name.value === name);
}

interface TypeShape {
  name: string;
  flags: { nonNull: boolean; list: boolean; itemNonNull: boolean };
}

function typeShape(node: TypeNode, where: string): TypeShape {
  let nonNull = false;
  let inner = node;
  if (inner.kind === Kind.NON_NULL_TYPE) {
    nonNull = true;
    inner = inner.type;
  }
  if (inner.kind === Kind.NAMED_TYPE)
    return { name: inner.name.value, flags: { nonNull, list: false, itemNonNull: false } };
  let item = inner.type;
  let itemNonNull = false;
  if (item.kind === Kind.NON_NULL_TYPE) {
    itemNonNull = true;
    item = item.type;
  }
  if (item.kind !== Kind.NAMED_TYPE) throw new SubgraphSchemaError(`${where}: lists of lists are not supported`);
  return { name: item.name.value, flags: { nonNull, list: true, itemNonNull } };
}

function sameType(a: FieldModel, b: FieldModel): boolean {
  return (
    a.base.kind === b.base.kind &&
    a.base.name === b.base.name &&
    a.list === b.list &&
    a.nonNull === b.nonNull &&
    a.itemNonNull === b.itemNonNull
  );
}

function checkImplements(entity: EntityModel, iface: InterfaceModel): void {
  for (const field of iface.fields) {
    const own = entity.fieldMap.get(field.name);
    // Resolvers and filters for interface rows read the entity's own fields, so the two must agree.
    if (!own || !sameType(own, field) || own.derivedFrom !== field.derivedFrom) {
      throw new SubgraphSchemaError(
        `type ${entity.name} implements ${iface.name} but its field ${field.name} is missing or differs`,
      );
    }
  }
}

function checkDerived(owner: Queryable, field: FieldModel, queryable: ReadonlyMap<string, Queryable>): void {
  if (field.derivedFrom === null) return;
  const where = `${owner.name}.${field.name}`;
  const target = queryable.get(field.base.name);
  if (!target) throw new SubgraphSchemaError(`${where}: unknown type ${field.base.name}`);
  for (const concrete of target.concrete) {
    const back = concrete.fieldMap.get(field.derivedFrom);
    if (!back) {
      throw new SubgraphSchemaError(
        `${where}: @derivedFrom field ${field.derivedFrom} does not exist on ${concrete.name}`,
      );
    }
    const pointsBack =
      (back.base.kind === "entity" || back.base.kind === "interface") &&
      (back.base.name === owner.name ||
        (owner.kind === "entity" && owner.interfaces.includes(back.base.name)) ||
        (owner.kind === "interface" && owner.concrete.some((e) => e.name === back.base.name)));
    if (!pointsBack || back.derivedFrom !== null) {
      throw new SubgraphSchemaError(
        `${where}: @derivedFrom field ${concrete.name}.${field.derivedFrom} must be a stored reference to ${owner.name}`,
      );
    }
  }
}

function describeKind(kind: Kind): string {
  switch (kind) {
    case Kind.UNION_TYPE_DEFINITION:
      return "union types";
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      return "input types";
    case Kind.DIRECTIVE_DEFINITION:
      return "directive definitions";
    case Kind.SCHEMA_DEFINITION:
      return "schema definitions";
    default:
      return "type extensions and operations";
  }
}
