/**
 * Serves a subgraph's entities over HTTP the way a graph-node query node does: POST JSON at
 * /subgraphs/name/meshgate (and /graphql), GraphiQL for a browser's GET. Indexing errors follow
 * graph-node's `subgraphError` policy: an `indexing_error` error is added, and fields queried
 * with the default `deny` lose their data (only `_meta` and introspection survive).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getOperationAST, GraphQLError, Kind, type ExecutionResult, type FieldNode } from "graphql";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { QueryStore } from "../store/types.js";
import { buildQuerySchema } from "./query-schema.js";
import { parseSubgraphSchema } from "./schema-sdl.js";

export const SUBGRAPH_PATH = "/subgraphs/name/meshgate";

export interface QueryServerOptions {
  readonly sdl: string;
  readonly store: QueryStore;
  readonly deployment: string;
  readonly hasIndexingErrors: () => boolean;
  /** Served at GET /metrics (Prometheus text format) when given. */
  readonly metrics?: { contentType: string; metrics(): Promise<string> };
}

export interface QueryServer {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- yoga's own default type arguments
  readonly yoga: YogaServerInstance<{}, {}>;
  listen(port: number, host: string): Promise<{ url: string; close(): Promise<void> }>;
}

/** Fields graph-node keeps under the `deny` policy. */
const ALWAYS_KEPT = new Set(["_meta", "__schema", "__type"]);

function errorPolicy(field: FieldNode, variables: Readonly<Record<string, unknown>>): unknown {
  const arg = field.arguments?.find((a) => a.name.value === "subgraphError");
  if (!arg) return "deny";
  if (arg.value.kind === Kind.ENUM) return arg.value.value;
  if (arg.value.kind === Kind.VARIABLE) return variables[arg.value.name.value] ?? "deny";
  return "deny";
}

function indexingErrorPolicy(hasIndexingErrors: () => boolean): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result, setResult }) => {
        if (!("data" in result) || (result.errors && result.errors.length > 0) || !hasIndexingErrors()) return;
        const operation = getOperationAST(args.document, args.operationName);
        const variables = args.variableValues ?? {};
        let data: Record<string, unknown> | null = null;
        for (const selection of operation?.selectionSet.selections ?? []) {
          if (selection.kind !== Kind.FIELD) continue;
          const key = selection.alias?.value ?? selection.name.value;
          const keep = ALWAYS_KEPT.has(selection.name.value) || errorPolicy(selection, variables) === "allow";
          if (keep && result.data && key in result.data) (data ??= {})[key] = result.data[key];
        }
        const next: ExecutionResult = { errors: [new GraphQLError("indexing_error")] };
        if (data) next.data = data;
        setResult(next);
      },
    }),
  };
}

export function createQueryServer(opts: QueryServerOptions): QueryServer {
  const schema = buildQuerySchema(parseSubgraphSchema(opts.sdl), {
    store: opts.store,
    deployment: opts.deployment,
    hasIndexingErrors: opts.hasIndexingErrors,
  });
  const yoga = createYoga({
    schema,
    // A URLPattern pathname: both endpoints, with or without a trailing slash.
    graphqlEndpoint: `/(${SUBGRAPH_PATH.slice(1)}|graphql){/}?`,
    graphiql: { title: "Meshgate subgraph" },
    landingPage: false,
    logging: false,
    plugins: [indexingErrorPolicy(opts.hasIndexingErrors)],
  });

  const listen = (port: number, host: string): Promise<{ url: string; close(): Promise<void> }> =>
    new Promise((resolve, reject) => {
      const { metrics } = opts;
      const server = createServer((req, res) => {
        if (metrics && req.method === "GET" && req.url === "/metrics") {
          metrics.metrics().then(
            (body) => res.writeHead(200, { "content-type": metrics.contentType }).end(body),
            () => res.writeHead(500).end(),
          );
          return;
        }
        void yoga(req, res);
      });
      server.once("error", reject);
      server.listen(port, host, () => {
        const { port: bound } = server.address() as AddressInfo;
        const hostname = host.includes(":") ? `[${host}]` : host;
        resolve({
          url: `http://${hostname}:${bound}${SUBGRAPH_PATH}`,
          close: () =>
            new Promise<void>((done, fail) => {
              server.close((err) => (err ? fail(err) : done()));
              server.closeAllConnections();
            }),
        });
      });
    });

  return { yoga, listen };
}
