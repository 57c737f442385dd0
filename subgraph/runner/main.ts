/**
 * `npm run subgraph`: the local subgraph runner, configured from the environment
 * (subgraph/runner/config.ts). Indexes the deployment's contracts with the compiled mappings and
 * serves GraphQL at http://127.0.0.1:8000/subgraphs/name/meshgate by default.
 */
import { ConfigError } from "../../relayer/config.js";
import { createLogger } from "../../relayer/log.js";
import { loadSubgraphConfig } from "./config.js";
import { startSubgraphRunner } from "./runner.js";

try {
  const config = loadSubgraphConfig();
  const log = createLogger(config.logLevel, "meshgate-subgraph");
  const runner = await startSubgraphRunner(config, log);
  console.error(`meshgate subgraph: serving ${runner.url}`);
  const stop = async (signal: string) => {
    log.info({ signal }, "shutting down");
    await runner.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
