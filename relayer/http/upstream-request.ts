/**
 * The request the relayer sends a provider's replica: the client's headers as allowed across
 * (headers.ts), the relayer's own Meshgate-* fields, and the node's RFC 9421 signature over them, so
 * the provider can tell a call the node vouches for (and who paid for it) from anything else.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { ApiEntry } from "../chain/api-catalog.js";
import type { ForwardSigner } from "./gateway.js";
import { upstreamRequestHeaders } from "./headers.js";
import { upstreamPath, type ApiTarget } from "./path.js";
import type { UpstreamRequest } from "./upstream.js";

export interface CallToForward {
  api: ApiEntry;
  target: ApiTarget;
  method: string;
  /** The client's headers (or, for a prefetch, the ones a stored response varies on). */
  headers: IncomingHttpHeaders;
  /** For X-Forwarded-*: the client's address and the Host it asked for. */
  clientIp: string;
  host: string | undefined;
  /** Meshgate-Payer: the payer's address, "zk" for a proof, "prefetch" for the relayer's own refresh. */
  payer: string;
  callId: string;
  body: Buffer | Readable | undefined;
  /** Ask for the body unencoded (a response the relayer caches is compressed per client by the relayer). */
  identity: boolean;
}

/** The signed request of `call` for `replica` (one of the API's upstream base URLs). */
export function upstreamRequest(call: CallToForward, replica: URL, signer: ForwardSigner): UpstreamRequest {
  const headers = upstreamRequestHeaders(
    call.headers,
    { clientIp: call.clientIp, host: call.host, proto: "http" },
    replica.host,
  );
  if (call.identity) headers["accept-encoding"] = "identity";
  headers["meshgate-api-id"] = call.api.id.toString();
  headers["meshgate-payer"] = call.payer;
  headers["meshgate-call-id"] = call.callId;
  // A body read whole is sent with its length (the signature covers Content-Length).
  if (Buffer.isBuffer(call.body)) headers["content-length"] = String(call.body.length);
  const path = upstreamPath(replica, call.target);
  Object.assign(
    headers,
    signer.sign({
      method: call.method,
      authority: replica.host,
      path: path.split("?")[0]!,
      query: call.target.query,
      headers,
    }),
  );
  return { origin: replica.origin, path, method: call.method, headers, body: call.body };
}
