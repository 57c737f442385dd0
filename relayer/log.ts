import { pino, type Logger } from "pino";
import type { RelayerConfig } from "./config.js";

export type { Logger };

/**
 * JSON logs on stdout, one object per line (pino); the relayer adds its node address as a child
 * logger. The subgraph runner uses the same format under its own service name.
 */
export function createLogger(level: RelayerConfig["logLevel"], service = "meshgate-relayer"): Logger {
  return pino({ level, base: { service } });
}
