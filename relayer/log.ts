import { pino, type Logger } from "pino";
import type { RelayerConfig } from "./config.js";

export type { Logger };

/** JSON logs on stdout, one object per line (pino); the relayer adds its node address as a child logger. */
export function createLogger(level: RelayerConfig["logLevel"]): Logger {
  return pino({ level, base: { service: "meshgate-relayer" } });
}
