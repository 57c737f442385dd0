/**
 * `npm run relayer`: one relayer process, configured from the environment (relayer/config.ts).
 * SIGINT/SIGTERM drain calls in flight and running jobs before exiting.
 */
import { ConfigError, loadRelayerConfig } from "./config.js";
import { createLogger } from "./log.js";
import { startRelayer } from "./relayer.js";

try {
  const config = loadRelayerConfig();
  const log = createLogger(config.logLevel);
  const relayer = await startRelayer(config, log);
  console.error(`meshgate relayer: node ${relayer.node} serving on ${relayer.url}`);
  const stop = async (signal: string) => {
    log.info({ signal }, "shutting down");
    await relayer.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
