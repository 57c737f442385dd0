import { expect } from "chai";
import { queryFieldNames } from "../../../subgraph/runner/graphql/naming.js";
import { parseSubgraphSchema } from "../../../subgraph/runner/graphql/schema-sdl.js";
import { createQueryServer, type QueryServer } from "../../../subgraph/runner/graphql/server.js";
import { EntityStore } from "../../../subgraph/runner/store/entity-store.js";
import type { BlockPointer, Entity, StoreValue } from "../../../subgraph/runner/store/types.js";

const SDL = `
enum Tier { FREE PRO ENTERPRISE }

interface Named { id: ID! name: String! }

type Provider implements Named @entity {
  id: ID!
  name: String!
  tier: Tier!
  apis: [Api!]! @derivedFrom(field: "provider")
  profile: Profile @derivedFrom(field: "provider")
}

type Profile @entity { id: ID! provider: Provider! bio: String }

type Api implements Named @entity {
  id: ID!
  name: String!
  provider: Provider!
  total: BigInt!
  price: BigDecimal!
  calls: Int!
  big: Int8
  tags: [String!]!
  owner: Bytes
  active: Boolean!
  createdAt: Timestamp!
  related: [Api!]!
  records: [Record!]! @derivedFrom(field: "api")
}

type Record @entity(immutable: true) { id: Bytes! api: Api! amount: BigInt! }
`;

const DEPLOYMENT = "QmTestDeployment";

const block = (number: number): BlockPointer => ({
  number,
  hash: `0x${number.toString(16).padStart(64, "0")}`,
  timestamp: 1_700_000_000 + number,
});
const str = (value: string): StoreValue => ({ kind: "String", value });
const big = (value: bigint): StoreValue => ({ kind: "BigInt", value });
const bytes = (value: string): StoreValue => ({ kind: "Bytes", value });
const strs = (values: string[]): StoreValue => ({ kind: "Array", value: values.map(str) });
const entity = (fields: Record<string, StoreValue>): Entity => new Map(Object.entries(fields));

interface ApiRow {
  id: string;
  name: string;
  provider: string;
  total: bigint;
  price: string;
  calls: number;
  big?: bigint;
  tags: string[];
  owner?: string;
  active: boolean;
  createdAt: bigint;
  related: string[];
}

function apiEntity(a: ApiRow): Entity {
  const fields: Record<string, StoreValue> = {
    id: str(a.id),
    name: str(a.name),
    provider: str(a.provider),
    total: big(a.total),
    price: { kind: "BigDecimal", value: a.price },
    calls: { kind: "Int", value: a.calls },
    tags: strs(a.tags),
    active: { kind: "Bool", value: a.active },
    createdAt: { kind: "Timestamp", value: a.createdAt },
    related: strs(a.related),
  };
  if (a.big !== undefined) fields.big = { kind: "Int8", value: a.big };
  fields.owner = a.owner === undefined ? { kind: "Null" } : bytes(a.owner);
  return entity(fields);
}

const APIS: ApiRow[] = [
  {
    id: "a1",
    name: "Weather API",
    provider: "p1",
    total: 9n,
    price: "1.5",
    calls: 3,
    big: 10n,
    tags: ["geo", "weather"],
    owner: "0xabcdef",
    active: true,
    createdAt: 1_000_000n,
    related: ["a2"],
  },
  {
    id: "a2",
    name: "weather%pro",
    provider: "p1",
    total: 10n,
    price: "1.5",
    calls: 1,
    tags: ["weather"],
    owner: "0x00ab",
    active: false,
    createdAt: 2_000_000n,
    related: [],
  },
  {
    id: "a3",
    name: "Maps",
    provider: "p2",
    total: 100n,
    price: "-2",
    calls: 7,
    big: -3n,
    tags: [],
    active: true,
    createdAt: 3_000_000n,
    related: ["a1", "a2"],
  },
  {
    id: "a4",
    name: "Stocks",
    provider: "p3",
    total: -5n,
    price: "0.001",
    calls: 0,
    big: 10_000_000_000n,
    tags: ["finance"],
    owner: "0xcdef",
    active: true,
    createdAt: 4_000_000n,
    related: [],
  },
];

/** Providers, a profile, four APIs and four records, all written at block 1. */
function catalogStore(): EntityStore {
  const store = new EntityStore();
  const w = store.beginBlock(block(1));
  const providers: [string, string, string][] = [
    ["p1", "Alpha Labs", "PRO"],
    ["p2", "beta_corp", "FREE"],
    ["p3", "Gamma", "ENTERPRISE"],
  ];
  for (const [id, name, tier] of providers)
    w.set("Provider", id, entity({ id: str(id), name: str(name), tier: str(tier) }));
  w.set("Profile", "pr1", entity({ id: str("pr1"), provider: str("p1"), bio: str("hello") }));
  for (const a of APIS) w.set("Api", a.id, apiEntity(a));
  const records: [string, string, bigint][] = [
    ["0x01", "a1", 5n],
    ["0x02", "a1", 50n],
    ["0x0a", "a1", 7n],
    ["0x03", "a3", 500n],
  ];
  for (const [id, api, amount] of records) {
    w.set("Record", id, entity({ id: bytes(id), api: str(api), amount: big(amount) }));
  }
  w.commit();
  return store;
}

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string }[];
}

async function post(
  server: QueryServer,
  query: string,
  variables: Record<string, unknown> = {},
  path = "/subgraphs/name/meshgate",
): Promise<Result> {
  const response = await server.yoga.fetch(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).to.equal(200);
  return (await response.json()) as Result;
}

/** Runs a query that must succeed and returns its data. */
async function data(server: QueryServer, query: string, variables?: Record<string, unknown>) {
  const result = await post(server, query, variables);
  expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
  return result.data!;
}

/** The ids a top-level collection query returns. */
async function ids(server: QueryServer, query: string): Promise<string[]> {
  const result = await data(server, query);
  const [rows] = Object.values(result) as { id: string }[][];
  return rows!.map((r) => r.id);
}

async function errorOf(server: QueryServer, query: string): Promise<string> {
  const result = await post(server, query);
  expect(result.errors, "expected an error").to.be.an("array").that.is.not.empty;
  return result.errors![0]!.message;
}

describe("subgraph GraphQL query layer", function () {
  let indexingErrors = false;
  let server: QueryServer;

  beforeEach(function () {
    indexingErrors = false;
    server = createQueryServer({
      sdl: SDL,
      store: catalogStore(),
      deployment: DEPLOYMENT,
      hasIndexingErrors: () => indexingErrors,
    });
  });

  describe("schema", function () {
    it("names query fields with graph-node's inflection", function () {
      expect(queryFieldNames("Api")).to.deep.equal(["api", "apis"]);
      expect(queryFieldNames("ApiRecord")).to.deep.equal(["apiRecord", "apiRecords"]);
      expect(queryFieldNames("Activity")).to.deep.equal(["activity", "activities"]);
      expect(queryFieldNames("Status")).to.deep.equal(["status", "statuses"]);
      // Inflector's rules are case-sensitive: `Person` misses the person/people rule.
      expect(queryFieldNames("Person")).to.deep.equal(["person", "persons"]);
      expect(queryFieldNames("APIKey")).to.deep.equal(["apikey", "apikeys"]);
      expect(queryFieldNames("Series")).to.deep.equal(["series", "series_collection"]);
    });

    it("generates graph-node's arguments, filter fields and orderBy values", async function () {
      const result = await data(
        server,
        `{
          query: __type(name: "Query") { fields { name args { name defaultValue type { name kind ofType { name } } } } }
          filter: __type(name: "Api_filter") { inputFields { name } }
          orderBy: __type(name: "Api_orderBy") { enumValues { name } }
        }`,
      );
      const query = result.query as {
        fields: { name: string; args: { name: string; defaultValue: string | null }[] }[];
      };
      expect(query.fields.map((f) => f.name)).to.deep.equal([
        "provider",
        "providers",
        "profile",
        "profiles",
        "api",
        "apis",
        "record",
        "records",
        "named",
        "nameds",
        "_meta",
      ]);
      const apis = query.fields.find((f) => f.name === "apis")!;
      expect(apis.args.map((a) => [a.name, a.defaultValue])).to.deep.equal([
        ["skip", "0"],
        ["first", "100"],
        ["orderBy", null],
        ["orderDirection", null],
        ["where", null],
        ["block", null],
        ["subgraphError", "deny"],
      ]);
      expect(query.fields.find((f) => f.name === "api")!.args.map((a) => a.name)).to.deep.equal([
        "id",
        "block",
        "subgraphError",
      ]);

      const filter = (result.filter as { inputFields: { name: string }[] }).inputFields.map((f) => f.name);
      expect(filter).to.include.members([
        "total_gt",
        "total_not_in",
        "name_not_ends_with_nocase",
        "owner_contains",
        "owner_not_contains",
        "tags_contains_nocase",
        "provider",
        "provider_starts_with",
        "provider_",
        "related_contains",
        "related_",
        "records_",
        "_change_block",
        "and",
        "or",
      ]);
      // Derived fields only get the nested filter; Bytes and BigInt get no string operators.
      expect(filter).to.not.include.members(["records", "records_contains", "owner_starts_with", "total_contains"]);
      expect(filter.slice(-3)).to.deep.equal(["_change_block", "and", "or"]);

      const orderBy = (result.orderBy as { enumValues: { name: string }[] }).enumValues.map((v) => v.name);
      expect(orderBy).to.include.members(["id", "total", "provider", "provider__name", "provider__tier", "records"]);
      expect(orderBy).to.not.include.members(["provider__apis", "provider__profile"]);
    });

    it("rejects schema constructs it does not serve, naming them", function () {
      const cases: [string, RegExp][] = [
        ["type A @entity { id: ID! } type B @entity { id: ID! } union U = A | B", /union types are not supported/],
        ["type A { id: ID! }", /A is missing the @entity directive/],
        ["type A @entity { name: String }", /A needs an id field/],
        ["type A @entity { id: ID! x: Float }", /A\.x: Float is not supported/],
        ["type A @entity(timeseries: true) { id: Int8! }", /timeseries are not supported/],
        [
          'type A @entity { id: ID! b: [B!]! @derivedFrom(field: "a") } type B @entity { id: ID! }',
          /does not exist on B/,
        ],
        ["type A @entity { id: ID! x: [[String!]!]! }", /lists of lists/],
        ["type A @entity { id: ID! x: Nope }", /unknown type Nope/],
        ["scalar JSON type A @entity { id: ID! }", /custom scalar JSON/],
        ['type _Schema_ @fulltext(name: "s") type A @entity { id: ID! }', /fulltext/],
      ];
      for (const [sdl, message] of cases) {
        expect(() => parseSubgraphSchema(sdl), sdl).to.throw(message);
      }
    });
  });

  describe("filters", function () {
    const cases: [string, string[]][] = [
      ['name: "Maps"', ["a3"]],
      ['name_not: "Maps"', ["a1", "a2", "a4"]],
      ["total_gt: 9", ["a2", "a3"]],
      ['total_gte: "9"', ["a1", "a2", "a3"]],
      ["total_lt: 10", ["a1", "a4"]],
      ["total_lte: -5", ["a4"]],
      ['total_in: ["9", "100"]', ["a1", "a3"]],
      ["total_not_in: [9, 100]", ["a2", "a4"]],
      ["total_in: []", []],
      ["total_not_in: []", []],
      ['name_contains: "eat"', ["a1", "a2"]],
      ['name_contains: "Eat"', []],
      ['name_contains_nocase: "WEATHER"', ["a1", "a2"]],
      ['name_not_contains: "eat"', ["a3", "a4"]],
      ['name_not_contains_nocase: "WEATHER"', ["a3", "a4"]],
      ['name_starts_with: "W"', ["a1"]],
      ['name_starts_with_nocase: "w"', ["a1", "a2"]],
      ['name_not_starts_with: "W"', ["a2", "a3", "a4"]],
      ['name_not_starts_with_nocase: "w"', ["a3", "a4"]],
      ['name_ends_with: "pro"', ["a2"]],
      ['name_ends_with_nocase: "api"', ["a1"]],
      ['name_not_ends_with: "s"', ["a1", "a2"]],
      ['name_not_ends_with_nocase: "S"', ["a1", "a2"]],
      // graph-node hands these to SQL LIKE unescaped: % and _ are wildcards.
      ['name_contains: "%pro"', ["a2"]],
      ['name_starts_with: "M_p"', ["a3"]],
      // Strings compare bytewise (C collation): upper case sorts before lower case.
      ['name_gt: "Stocks"', ["a1", "a2"]],
      ['name_lt: "N"', ["a3"]],
      ["active: false", ["a2"]],
      ["active_not: false", ["a1", "a3", "a4"]],
      ["active_in: [true]", ["a1", "a3", "a4"]],
      ["active_not_in: [true]", ["a2"]],
      ["calls: 7", ["a3"]],
      ["calls_lte: 1", ["a2", "a4"]],
      ['big_gt: "5000000000"', ["a4"]],
      ["big_in: [10, -3]", ["a1", "a3"]],
      // A null column never satisfies a comparison, not even `_not`.
      ["big_not: 10", ["a3", "a4"]],
      ['price: "1.50"', ["a1", "a2"]],
      ["price_lt: 0", ["a3"]],
      ['price_gte: "0.001"', ["a1", "a2", "a4"]],
      ['price_in: ["1.500", "-2.0"]', ["a1", "a2", "a3"]],
      ['createdAt_gte: "3000000"', ["a3", "a4"]],
      ['owner: "0xABCDEF"', ["a1"]],
      ['owner_in: ["0xcdef", "0x00ab"]', ["a2", "a4"]],
      ['owner_gt: "0xab"', ["a1", "a4"]],
      ['owner_contains: "0xcd"', ["a1", "a4"]],
      // Bytes match whole bytes only: `bc` straddles two bytes of 0xabcdef.
      ['owner_contains: "0xbc"', []],
      ['owner_not_contains: "0xcd"', ["a2"]],
      ["owner: null", ["a3"]],
      ["owner_not: null", ["a1", "a2", "a4"]],
      ['tags: ["weather"]', ["a2"]],
      ['tags_not: ["weather"]', ["a1", "a3", "a4"]],
      ['tags_contains: ["weather"]', ["a1", "a2"]],
      ['tags_contains: ["geo", "weather"]', ["a1"]],
      ['tags_contains_nocase: ["weather"]', ["a1", "a2"]],
      ['tags_not_contains: ["weather", "finance"]', ["a3"]],
      ['id: "a2"', ["a2"]],
      ['id_in: ["a3", "a1", "zz"]', ["a1", "a3"]],
      ['id_gt: "a2"', ["a3", "a4"]],
      ['provider: "p1"', ["a1", "a2"]],
      ['provider_not: "p1"', ["a3", "a4"]],
      ['provider_in: ["p2", "p3"]', ["a3", "a4"]],
      ['related_contains: ["a2"]', ["a1", "a3"]],
      ["related: []", ["a2", "a4"]],
      ['provider_: { name_starts_with: "Alpha" }', ["a1", "a2"]],
      ["provider_: { tier: ENTERPRISE }", ["a4"]],
      ['related_: { name_starts_with: "Weather" }', ["a3"]],
      ["records_: { amount_gt: 100 }", ["a3"]],
      ["records_: { amount: 7 }", ["a1"]],
      ['or: [{ name: "Maps" }, { total_lt: 0 }]', ["a3", "a4"]],
      ["and: [{ active: true }, { total_gt: 9 }]", ["a3"]],
      ['or: [{ and: [{ active: true }, { total_gt: 50 }] }, { name_starts_with: "S" }]', ["a3", "a4"]],
      ["or: []", []],
      ["and: []", ["a1", "a2", "a3", "a4"]],
      ["_change_block: { number_gte: 1 }", ["a1", "a2", "a3", "a4"]],
      ["_change_block: { number_gte: 2 }", []],
    ];
    for (const [where, expected] of cases) {
      it(`apis(where: { ${where} })`, async function () {
        expect(await ids(server, `{ apis(where: { ${where} }) { id } }`)).to.deep.equal(expected);
      });
    }

    it("filters enums, derived references and Bytes ids", async function () {
      expect(await ids(server, "{ providers(where: { tier_in: [PRO, ENTERPRISE] }) { id } }")).to.deep.equal([
        "p1",
        "p3",
      ]);
      expect(await ids(server, "{ providers(where: { tier_not: FREE }) { id } }")).to.deep.equal(["p1", "p3"]);
      expect(await ids(server, "{ providers(where: { apis_: { total_gt: 50 } }) { id } }")).to.deep.equal(["p2"]);
      expect(await ids(server, '{ providers(where: { profile_: { bio: "hello" } }) { id } }')).to.deep.equal(["p1"]);
      expect(await ids(server, '{ records(where: { id_in: ["0x0A", "0x01"] }) { id } }')).to.deep.equal([
        "0x01",
        "0x0a",
      ]);
      expect(await ids(server, '{ records(where: { api_: { name: "Maps" } }) { id } }')).to.deep.equal(["0x03"]);
    });

    it("passes variables through the same coercion as literals", async function () {
      const result = await data(
        server,
        "query ($min: BigInt!, $p: String!) { apis(where: { total_gte: $min, provider: $p }) { id } }",
        {
          min: "10",
          p: "p1",
        },
      );
      expect(result).to.deep.equal({ apis: [{ id: "a2" }] });
    });

    it("rejects mixing column filters with `or` or `and` at one level, in graph-node's words", async function () {
      expect(await errorOf(server, '{ apis(where: { active: true, or: [{ name: "Maps" }] }) { id } }')).to.match(
        /^Cannot mix column filters with 'or' operator at the same level\. Found column filter\(s\) 'active' alongside 'or' operator\./,
      );
      expect(await errorOf(server, '{ apis(where: { active: true, and: [{ name: "Maps" }] }) { id } }')).to.equal(
        "Filter must by an object",
      );
    });

    it("reports undecodable scalar inputs", async function () {
      expect(await errorOf(server, '{ apis(where: { total: "ten" }) { id } }')).to.include(
        "Failed to decode `BigInt` value",
      );
      expect(await errorOf(server, '{ apis(where: { owner: "0xabc" }) { id } }')).to.include("Odd number of digits");
    });
  });

  describe("ordering and paging", function () {
    const cases: [string, string[]][] = [
      ["", ["a1", "a2", "a3", "a4"]],
      ["orderDirection: desc", ["a1", "a2", "a3", "a4"]],
      ["orderBy: id, orderDirection: desc", ["a4", "a3", "a2", "a1"]],
      // BigInt sorts numerically: -5 < 9 < 10 < 100.
      ["orderBy: total", ["a4", "a1", "a2", "a3"]],
      ["orderBy: total, orderDirection: desc", ["a3", "a2", "a1", "a4"]],
      // Nulls last ascending, first descending (Postgres); Int8 beyond 2^32 is still numeric.
      ["orderBy: big", ["a3", "a1", "a4", "a2"]],
      ["orderBy: big, orderDirection: desc", ["a2", "a4", "a1", "a3"]],
      // Ties break on id in the same direction.
      ["orderBy: price", ["a3", "a4", "a1", "a2"]],
      ["orderBy: price, orderDirection: desc", ["a2", "a1", "a4", "a3"]],
      ["orderBy: name", ["a3", "a4", "a1", "a2"]],
      ["orderBy: createdAt, orderDirection: desc", ["a4", "a3", "a2", "a1"]],
      ["orderBy: active", ["a2", "a1", "a3", "a4"]],
      ["orderBy: provider__name", ["a1", "a2", "a4", "a3"]],
      // Enums sort in declaration order (FREE, PRO, ENTERPRISE), as Postgres enums do.
      ["orderBy: provider__tier", ["a3", "a1", "a2", "a4"]],
      ["first: 2, skip: 1", ["a2", "a3"]],
      ["first: 1, orderBy: total, orderDirection: desc", ["a3"]],
      ["skip: 3", ["a4"]],
      ["skip: 5000", []],
      ["first: 1000", ["a1", "a2", "a3", "a4"]],
    ];
    for (const [args, expected] of cases) {
      it(`apis(${args})`, async function () {
        const query = args ? `{ apis(${args}) { id } }` : "{ apis { id } }";
        expect(await ids(server, query)).to.deep.equal(expected);
      });
    }

    it("orders providers by enum and by a derived single reference's field", async function () {
      expect(await ids(server, "{ providers(orderBy: tier) { id } }")).to.deep.equal(["p2", "p1", "p3"]);
      expect(await ids(server, "{ providers(orderBy: profile__bio) { id } }")).to.deep.equal(["p1", "p2", "p3"]);
    });

    it("rejects out-of-range first and skip with graph-node's message", async function () {
      const cases: [string, string][] = [
        ["first: 1001", "The `first` argument must be between 0 and 1000, but is 1001"],
        ["first: 0", "The `first` argument must be between 0 and 1000, but is 0"],
        ["skip: 5001", "The `skip` argument must be between 0 and 5000, but is 5001"],
        ["skip: -1", "The `skip` argument must be between 0 and 5000, but is -1"],
      ];
      for (const [args, message] of cases) {
        expect(await errorOf(server, `{ apis(${args}) { id } }`)).to.equal(message);
      }
      expect(await errorOf(server, '{ provider(id: "p1") { apis(first: 2000) { id } } }')).to.equal(
        "The `first` argument must be between 0 and 1000, but is 2000",
      );
    });

    it("rejects ordering by lists and derived fields", async function () {
      expect(await errorOf(server, "{ apis(orderBy: tags) { id } }")).to.equal(
        "Ordering by `tags` is not supported for type `Api`",
      );
      expect(await errorOf(server, "{ apis(orderBy: records) { id } }")).to.equal(
        "Ordering by `records` is not supported for type `Api`",
      );
    });
  });

  describe("relations", function () {
    it("resolves references, derived collections with arguments and derived single fields", async function () {
      const result = await data(
        server,
        `{
          provider(id: "p1") {
            profile { id bio }
            top: apis(orderBy: total, orderDirection: desc, first: 1) { id }
            apis(where: { active: true }) { id provider { name } }
          }
          other: provider(id: "p2") { profile { id } }
          api(id: "a1") {
            records(orderBy: amount, orderDirection: desc, skip: 1) { id amount }
            small: records(where: { amount_lt: 10 }) { id }
          }
          maps: api(id: "a3") { related(orderBy: name, orderDirection: desc) { id } some: related(where: { active: true }) { id } }
        }`,
      );
      expect(result).to.deep.equal({
        provider: {
          profile: { id: "pr1", bio: "hello" },
          top: [{ id: "a2" }],
          apis: [{ id: "a1", provider: { name: "Alpha Labs" } }],
        },
        other: { profile: null },
        api: {
          records: [
            { id: "0x0a", amount: "7" },
            { id: "0x01", amount: "5" },
          ],
          small: [{ id: "0x01" }, { id: "0x0a" }],
        },
        maps: { related: [{ id: "a2" }, { id: "a1" }], some: [{ id: "a1" }] },
      });
    });

    it("queries interfaces across their entity types", async function () {
      const result = await data(server, "{ nameds(first: 3, orderBy: name) { __typename id name } }");
      expect(result).to.deep.equal({
        nameds: [
          { __typename: "Provider", id: "p1", name: "Alpha Labs" },
          { __typename: "Provider", id: "p3", name: "Gamma" },
          { __typename: "Api", id: "a3", name: "Maps" },
        ],
      });
      expect(await data(server, '{ named(id: "a4") { __typename name } }')).to.deep.equal({
        named: { __typename: "Api", name: "Stocks" },
      });
    });
  });

  describe("scalars", function () {
    it("serializes values as graph-node does", async function () {
      const result = await data(
        server,
        `{
          api(id: "a4") { id total price calls big tags owner active createdAt provider { tier } }
          noBig: api(id: "a2") { big }
          noOwner: api(id: "a3") { owner }
          record(id: "0x0A") { id amount api { id } }
        }`,
      );
      expect(result).to.deep.equal({
        api: {
          id: "a4",
          total: "-5",
          price: "0.001",
          calls: 0,
          big: "10000000000",
          tags: ["finance"],
          owner: "0xcdef",
          active: true,
          createdAt: "4000000",
          provider: { tier: "ENTERPRISE" },
        },
        noBig: { big: null },
        noOwner: { owner: null },
        record: { id: "0x0a", amount: "7", api: { id: "a1" } },
      });
    });

    it("answers null for an unknown id and an error for an undecodable Bytes id", async function () {
      expect(await data(server, '{ api(id: "nope") { id } record(id: "0xff") { id } }')).to.deep.equal({
        api: null,
        record: null,
      });
      expect(await errorOf(server, '{ record(id: "xyz") { id } }')).to.equal(
        "Failed to decode `Bytes` value: `Odd number of digits`",
      );
    });
  });

  describe("time travel", function () {
    let history: QueryServer;
    const api = (total: bigint): ApiRow => ({ ...APIS[0]!, total });

    beforeEach(function () {
      // a1 is written at blocks 1, 5 and 8; a2 lives from block 6 to 8; head is block 10.
      const store = new EntityStore();
      const write = (n: number, f: (w: ReturnType<EntityStore["beginBlock"]>) => void) => {
        const w = store.beginBlock(block(n));
        f(w);
        w.commit();
      };
      write(1, (w) => {
        w.set("Provider", "p1", entity({ id: str("p1"), name: str("Alpha Labs"), tier: str("PRO") }));
        w.set("Api", "a1", apiEntity(api(1n)));
        w.set("Record", "0x01", entity({ id: bytes("0x01"), api: str("a1"), amount: big(1n) }));
      });
      write(5, (w) => w.set("Api", "a1", apiEntity(api(5n))));
      write(6, (w) => {
        w.set("Api", "a2", apiEntity({ ...APIS[1]!, total: 6n }));
        w.set("Record", "0x02", entity({ id: bytes("0x02"), api: str("a1"), amount: big(2n) }));
      });
      write(8, (w) => w.set("Api", "a1", apiEntity(api(8n))));
      write(9, (w) => w.remove("Api", "a2"));
      store.advanceHead(block(10));
      history = createQueryServer({ sdl: SDL, store, deployment: DEPLOYMENT, hasIndexingErrors: () => false });
    });

    it("reads an entity as it was at the end of the requested block", async function () {
      const totals: [string, string][] = [
        ["block: { number: 4 }", "1"],
        ["block: { number: 5 }", "5"],
        ["block: { number: 7 }", "5"],
        ["block: { number: 8 }", "8"],
        ["block: { number: 10 }", "8"],
        ["block: { number_gte: 10 }", "8"],
        [`block: { hash: "${block(10).hash}" }`, "8"],
      ];
      for (const [arg, total] of totals) {
        expect(await data(history, `{ api(id: "a1", ${arg}) { total } }`), arg).to.deep.equal({ api: { total } });
      }
      expect(await data(history, '{ api(id: "a1") { total } }')).to.deep.equal({ api: { total: "8" } });
      expect(await data(history, '{ api(id: "a1", block: { number: 0 }) { total } }')).to.deep.equal({ api: null });
    });

    it("lists, filters and nests at the requested block", async function () {
      expect(await ids(history, "{ apis(block: { number: 5 }) { id } }")).to.deep.equal(["a1"]);
      expect(await ids(history, "{ apis(block: { number: 7 }) { id } }")).to.deep.equal(["a1", "a2"]);
      expect(await ids(history, "{ apis(block: { number: 8 }, where: { total_gt: 7 }) { id } }")).to.deep.equal(["a1"]);
      expect(
        await ids(history, "{ apis(block: { number: 7 }, orderBy: total, orderDirection: desc) { id } }"),
      ).to.deep.equal(["a2", "a1"]);
      expect(await ids(history, "{ apis { id } }")).to.deep.equal(["a1"]);
      const nested = await data(
        history,
        `{
          before: api(id: "a1", block: { number: 5 }) { records { id } provider { apis { id total } } }
          after: api(id: "a1", block: { number: 6 }) { records { id } provider { apis { id total } } }
        }`,
      );
      expect(nested).to.deep.equal({
        before: { records: [{ id: "0x01" }], provider: { apis: [{ id: "a1", total: "5" }] } },
        after: {
          records: [{ id: "0x01" }, { id: "0x02" }],
          provider: {
            apis: [
              { id: "a1", total: "5" },
              { id: "a2", total: "6" },
            ],
          },
        },
      });
    });

    it("filters by the block an entity last changed at", async function () {
      expect(await ids(history, "{ apis(where: { _change_block: { number_gte: 8 } }) { id } }")).to.deep.equal(["a1"]);
      expect(await ids(history, "{ apis(where: { _change_block: { number_gte: 9 } }) { id } }")).to.deep.equal([]);
      expect(
        await ids(history, "{ apis(block: { number: 7 }, where: { _change_block: { number_gte: 6 } }) { id } }"),
      ).to.deep.equal(["a2"]);
      expect(
        await ids(history, "{ apis(block: { number: 5 }, where: { _change_block: { number_gte: 6 } }) { id } }"),
      ).to.deep.equal([]);
    });

    it("refuses blocks the subgraph has not indexed, in graph-node's words", async function () {
      expect(await errorOf(history, "{ apis(block: { number: 11 }) { id } }")).to.equal(
        `Failed to decode \`block.number\` value: \`subgraph ${DEPLOYMENT} has only indexed up to block number 10 and data for block number 11 is therefore not yet available\``,
      );
      expect(await errorOf(history, '{ api(id: "a1", block: { number_gte: 11 }) { id } }')).to.equal(
        `Failed to decode \`block.number_gte\` value: \`subgraph ${DEPLOYMENT} has only indexed up to block number 10 and data for block number 11 is therefore not yet available\``,
      );
      expect(await errorOf(history, `{ apis(block: { hash: "${block(9).hash}" }) { id } }`)).to.equal(
        "Failed to decode `block.hash` value: `no block with that hash found`",
      );
    });

    it("reports the block in _meta", async function () {
      const head = block(10);
      expect(
        await data(history, "{ _meta { block { number hash timestamp parentHash } deployment hasIndexingErrors } }"),
      ).to.deep.equal({
        _meta: {
          block: { number: 10, hash: head.hash, timestamp: head.timestamp, parentHash: null },
          deployment: DEPLOYMENT,
          hasIndexingErrors: false,
        },
      });
      // graph-node does not look up the hash of a block given by number.
      expect(await data(history, "{ _meta(block: { number: 7 }) { block { number hash timestamp } } }")).to.deep.equal({
        _meta: { block: { number: 7, hash: null, timestamp: null } },
      });
      expect(await data(history, "{ _meta(block: { number_gte: 3 }) { block { number } } }")).to.deep.equal({
        _meta: { block: { number: 10 } },
      });
    });
  });

  describe("indexing errors", function () {
    it("adds indexing_error and keeps only _meta under the default deny policy", async function () {
      indexingErrors = true;
      const denied = await post(server, "{ apis { id } _meta { hasIndexingErrors } }");
      expect(denied).to.deep.equal({
        errors: [{ message: "indexing_error" }],
        data: { _meta: { hasIndexingErrors: true } },
      });
      const allowed = await post(
        server,
        "query ($p: _SubgraphErrorPolicy_!) { apis(first: 1, subgraphError: $p) { id } }",
        {
          p: "allow",
        },
      );
      expect(allowed).to.deep.equal({ errors: [{ message: "indexing_error" }], data: { apis: [{ id: "a1" }] } });
    });
  });

  describe("transport", function () {
    it("serves /graphql too, and GraphiQL to a browser", async function () {
      const result = await post(server, '{ api(id: "a1") { name } }', {}, "/graphql");
      expect(result).to.deep.equal({ data: { api: { name: "Weather API" } } });
      const page = await server.yoga.fetch("http://localhost/subgraphs/name/meshgate", {
        headers: { accept: "text/html" },
      });
      expect(page.status).to.equal(200);
      expect(page.headers.get("content-type")).to.include("text/html");
    });

    it("listens on a socket", async function () {
      const { url, close } = await server.listen(0, "127.0.0.1");
      try {
        expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/subgraphs\/name\/meshgate$/);
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: '{ api(id: "a3") { total } }' }),
        });
        expect(await response.json()).to.deep.equal({ data: { api: { total: "100" } } });
      } finally {
        await close();
      }
    });
  });
});
