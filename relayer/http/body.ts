import type { IncomingMessage } from "node:http";
import { GatewayError } from "../errors.js";

/** The declared body length; a malformed Content-Length is a bad request. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new GatewayError("bad_request", "malformed Content-Length");
  return Number(value);
}

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/** Reads a whole body of at most `max` bytes; a longer one is refused before any of it is used. */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new GatewayError("body_too_large", `limit ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
