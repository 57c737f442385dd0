/**
 * The subgraph runner's configuration: read from the environment once at start, validated with
 * zod, with defaults that follow `npm start`'s local network.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { deploymentPath } from "../../deploy/deployments.js";
import { ConfigError } from "../../relayer/config.js";

const SUBGRAPH_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const subgraphEnvSchema = z.object({
  MESHGATE_RPC_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) JSON-RPC URL" })
    .default("http://127.0.0.1:8545"),
  MESHGATE_DEPLOYMENT: z.string().default(deploymentPath("localhost")),
  /** Output of `npm run subgraph:build:local` or `subgraph:build` (subgraph.yaml, schema, WASM). */
  MESHGATE_SUBGRAPH_BUILD: z.string().default(path.join(SUBGRAPH_DIR, "build")),
  /** Where indexed state is journaled; default: .data/subgraph-<network>.jsonl in the repo. */
  MESHGATE_SUBGRAPH_JOURNAL: z.string().optional(),
  MESHGATE_SUBGRAPH_HOST: z.string().default("127.0.0.1"),
  /** graph-node's query port. */
  MESHGATE_SUBGRAPH_PORT: port.default(8000),
  MESHGATE_SUBGRAPH_POLL_MS: positiveInt.default(500),
  /** Blocks a log must be buried under before it is indexed (0: index the head at once). */
  MESHGATE_SUBGRAPH_CONFIRMATIONS: z.coerce.number().int().min(0).default(0),
  MESHGATE_SUBGRAPH_MAX_RANGE: positiveInt.default(2_000),
  MESHGATE_SUBGRAPH_REORG_WINDOW: positiveInt.default(256),
  MESHGATE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface SubgraphRunnerConfig {
  rpcUrl: string;
  deploymentFile: string;
  buildDir: string;
  journalFile: string | undefined;
  host: string;
  port: number;
  pollMs: number;
  confirmations: number;
  maxRange: number;
  reorgWindow: number;
  logLevel: z.infer<typeof subgraphEnvSchema>["MESHGATE_LOG_LEVEL"];
}

export function loadSubgraphConfig(env: NodeJS.ProcessEnv = process.env): SubgraphRunnerConfig {
  const parsed = subgraphEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`bad subgraph runner environment:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  return {
    rpcUrl: e.MESHGATE_RPC_URL,
    deploymentFile: e.MESHGATE_DEPLOYMENT,
    buildDir: e.MESHGATE_SUBGRAPH_BUILD,
    journalFile: e.MESHGATE_SUBGRAPH_JOURNAL,
    host: e.MESHGATE_SUBGRAPH_HOST,
    port: e.MESHGATE_SUBGRAPH_PORT,
    pollMs: e.MESHGATE_SUBGRAPH_POLL_MS,
    confirmations: e.MESHGATE_SUBGRAPH_CONFIRMATIONS,
    maxRange: e.MESHGATE_SUBGRAPH_MAX_RANGE,
    reorgWindow: e.MESHGATE_SUBGRAPH_REORG_WINDOW,
    logLevel: e.MESHGATE_LOG_LEVEL,
  };
}

/** The default journal of a deployment: one file per network name. */
export function defaultJournalFile(network: string): string {
  return path.join(SUBGRAPH_DIR, "..", ".data", `subgraph-${network}.jsonl`);
}
