import { pino, type Logger } from "pino";
import type { RelayerConfig } from "./config.js";

export type { Logger };

/** JSON logs on stdout, one object per line (pino), with the node's address on every line. */
export function createLogger(level: RelayerConfig["logLevel"], node?: string): Logger {
  return pino({ level, base: { service: "meshgate-relayer", ...(node ? { node } : {}) } });
}
