/**
 * Splits a request target `/{apiId}/rest?query` and refuses anything that could escape the
 * API's upstream base path once joined: dot segments (plain or percent-encoded), encoded
 * slashes or backslashes, backslashes, NUL and other control characters.
 */
import { GatewayError } from "../errors.js";

export interface ApiTarget {
  apiId: bigint;
  /** The path after the apiId segment, starting with "/" (or empty), as received. */
  path: string;
  /** The query string with its "?", or "". */
  query: string;
}

const API_ID = /^[1-9]\d{0,76}$/;
// Encoded ".", "/", "\" and NUL; control characters and backslashes in raw form.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
const FORBIDDEN = /%2e|%2f|%5c|%00|\\|[\x00-\x1f\x7f]/i;
// eslint-disable-next-line no-control-regex -- likewise
const CONTROL = /[\x00-\x1f\x7f]/;

export function parseApiTarget(rawUrl: string): ApiTarget {
  if (!rawUrl.startsWith("/")) throw new GatewayError("bad_path", "the request target must be a path");
  const q = rawUrl.indexOf("?");
  const pathPart = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? "" : rawUrl.slice(q);
  if (FORBIDDEN.test(pathPart)) throw new GatewayError("bad_path", "encoded separators or control characters");
  const slash = pathPart.indexOf("/", 1);
  const idPart = slash === -1 ? pathPart.slice(1) : pathPart.slice(1, slash);
  if (!API_ID.test(idPart)) throw new GatewayError("bad_path", "the first segment must be a decimal API id");
  const rest = slash === -1 ? "" : pathPart.slice(slash);
  for (const segment of rest.split("/")) {
    if (segment === "." || segment === "..") throw new GatewayError("bad_path", "dot segments are not allowed");
  }
  if (CONTROL.test(query)) throw new GatewayError("bad_path", "control characters in the query");
  return { apiId: BigInt(idPart), path: rest, query };
}

/** The upstream request path: the API's base path joined with the call's path and query. */
export function upstreamPath(base: URL, target: ApiTarget): string {
  const basePath = base.pathname.endsWith("/") ? base.pathname.slice(0, -1) : base.pathname;
  return `${basePath}${target.path || (basePath === "" ? "/" : "")}${target.query}`;
}
