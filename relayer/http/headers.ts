/** Which headers cross the relayer, in each direction. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/** RFC 9110 §7.6.1 hop-by-hop fields, plus those only meaningful to this hop. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** Payment and forwarding headers the relayer sets itself; a client's copies are dropped. */
const RELAYER_OWNED = /^(meshgate-|signature$|signature-input$|x-forwarded-|forwarded$)/;

/** Whether the relayer sets `name` (lowercase) itself on what it forwards. */
export const isRelayerOwned = (name: string): boolean => RELAYER_OWNED.test(name);

function connectionListed(headers: IncomingHttpHeaders | Record<string, unknown>): Set<string> {
  const value = headers.connection;
  if (typeof value !== "string") return new Set();
  return new Set(value.split(",").map((s) => s.trim().toLowerCase()));
}

/** The client's headers as sent upstream: no hop-by-hop, no payment, no spoofed forwarding. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  forwarded: { clientIp: string; host: string | undefined; proto: string },
  upstreamHost: string,
): Record<string, string> {
  const listed = connectionListed(incoming);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || RELAYER_OWNED.test(name)) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  out.host = upstreamHost;
  // No client address: the relayer's own call (a prefetch).
  if (forwarded.clientIp) out["x-forwarded-for"] = forwarded.clientIp;
  out["x-forwarded-proto"] = forwarded.proto;
  if (forwarded.host) out["x-forwarded-host"] = forwarded.host;
  return out;
}

/** The upstream's response headers as sent to the client: no hop-by-hop fields. */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const listed = connectionListed(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}
