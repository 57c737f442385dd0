/**
 * The paid-call pipeline: route → API state → size limits → auth (voucher or ZK proof) →
 * cache → upstream → response. Every refusal happens before the upstream sees the call, and a
 * voucher is stored durably before anything is forwarded or answered. Adaptive throttling runs inside
 * auth, once the payer (or proof identity) is authenticated and before its voucher or nullifier is stored.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ApiStatus, type ApiCatalog, type ApiEntry } from "../chain/api-catalog.js";
import type { PaidCall, VoucherAuthenticator } from "../auth/voucher-auth.js";
import type { ZkAuthenticator } from "../auth/zk-auth.js";
import { VOUCHER_HEADER } from "../auth/voucher-header.js";
import { GatewayError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import type { AdaptiveThrottle, TrafficForecast } from "../traffic/guard.js";
import { declaredLength, hasBody, readBody } from "./body.js";
import {
  compressStream,
  encodedResponseHeaders,
  isCompressible,
  negotiateEncoding,
  type ContentCoding,
  type HeaderMap,
} from "./compression.js";
import { clientResponseHeaders } from "./headers.js";
import { parseApiTarget, type ApiTarget } from "./path.js";
import type { Prefetcher } from "./prefetcher.js";
import { sendError } from "./respond.js";
import { BodyCapture, cachePolicy, type CacheHit, type ResponseCache } from "./response-cache.js";
import type { Dispatched, UpstreamDispatcher } from "./upstream-dispatch.js";
import { upstreamRequest, type CallToForward } from "./upstream-request.js";

export const PROOF_HEADER = "meshgate-proof";
const PROXIED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface GatewayDeps {
  node: string;
  catalog: ApiCatalog;
  vouchers: VoucherAuthenticator;
  zk: ZkAuthenticator;
  /** Sends each call to one of its API's upstream replicas. */
  dispatcher: UpstreamDispatcher;
  /** Signs what is forwarded with the node's staked key (RFC 9421). */
  signer: ForwardSigner;
  cache: ResponseCache | undefined;
  maxBodyBytes: number;
  metrics: RelayerMetrics;
  log: Logger;
  /** Adaptive throttling on top of the on-chain rate limits; off when undefined. */
  throttle?: AdaptiveThrottle | undefined;
  /** Per-API load forecasting, fed with each accepted call. */
  forecast?: TrafficForecast | undefined;
  /** Refreshes hot cached responses before they go stale; told of every lookup and store. */
  prefetcher?: Prefetcher | undefined;
}

export interface ForwardSigner {
  sign(req: {
    method: string;
    authority: string;
    path: string;
    query: string;
    headers: Record<string, string>;
  }): Record<string, string>;
}

/** Who pays for a call: a payer's voucher, or an anonymous proof. */
type Payment = { kind: "voucher"; call: PaidCall } | { kind: "zk"; nullifier: bigint };

export class Gateway {
  constructor(private readonly deps: GatewayDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let api: ApiEntry | undefined;
    let payment: Payment | undefined;
    let cache = "none";
    /** The detector's identity of an admitted call, for its outcome. */
    let identity: string | undefined;
    try {
      const target = parseApiTarget(req.url ?? "");
      api = this.route(target);
      const method = req.method ?? "";
      if (!PROXIED_METHODS.has(method)) throw new GatewayError("method_not_allowed");
      const length = declaredLength(req);
      if (length !== undefined && length > this.deps.maxBodyBytes) {
        throw new GatewayError("body_too_large", `limit ${this.deps.maxBodyBytes} bytes`);
      }
      const voucher = req.headers[VOUCHER_HEADER];
      const proof = req.headers[PROOF_HEADER];
      if (voucher === undefined && proof === undefined) throw new GatewayError("payment_required");
      if (typeof voucher !== "string" && typeof proof !== "string")
        throw new GatewayError("bad_request", "duplicate payment headers");
      if (voucher !== undefined && proof !== undefined)
        throw new GatewayError("bad_request", "send a voucher or a proof, not both");

      // A body of unknown length, or one a proof is bound to, is read whole (and limited) first.
      let body: Buffer | Readable | undefined;
      if (hasBody(req))
        body = proof !== undefined || length === undefined ? await readBody(req, this.deps.maxBodyBytes) : req;

      const throttle = this.deps.throttle;
      const apiId = api.id;
      const admit = throttle
        ? (subject: string, limitPerSec: number): void => {
            // Per API, like the rate limit's bucket; the path without its query.
            const who = `${apiId}:${subject}`;
            throttle.admit(who, target.path, limitPerSec);
            identity = who;
          }
        : undefined;

      if (typeof voucher === "string") {
        const paid = await this.deps.vouchers.authorize(api, voucher, admit);
        payment = { kind: "voucher", call: paid };
        this.deps.metrics.acceptedValue.inc({ token: paid.token }, Number(paid.increase));
      } else if (typeof proof === "string") {
        const granted = await this.deps.zk.authorize(
          {
            apiId: api.id,
            method,
            // The proof binds the whole request target as the client sent it, /{apiId} included.
            target: req.url ?? "",
            body: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
          },
          proof,
          admit,
        );
        payment = { kind: "zk", nullifier: granted.nullifier };
      }
      this.deps.forecast?.record(apiId.toString());
      cache = await this.forward(req, res, api, target, body, payment!);
    } catch (error) {
      const refusal = error instanceof GatewayError ? error : new GatewayError("internal_error");
      if (!(error instanceof GatewayError)) this.deps.log.error({ err: error, url: req.url }, "call failed");
      this.deps.metrics.rejections.inc({ code: refusal.code });
      // An unread body would be parsed as the next request on this connection: close it.
      const closing: Record<string, string> = req.complete ? {} : { connection: "close" };
      sendError(res, refusal, closing);
    } finally {
      if (identity !== undefined) this.deps.throttle?.outcome(identity, res.statusCode);
      const apiLabel = api?.id.toString() ?? "none";
      this.deps.metrics.requests.inc({ api: apiLabel, auth: payment?.kind ?? "none", status: String(res.statusCode) });
      this.deps.metrics.latency.observe({ api: apiLabel, cache }, (performance.now() - started) / 1000);
    }
  }

  private route(target: ApiTarget): ApiEntry {
    const api = this.deps.catalog.get(target.apiId);
    if (!api) throw new GatewayError("unknown_api");
    if (api.status === ApiStatus.Paused) throw new GatewayError("api_paused");
    if (api.status !== ApiStatus.Active) throw new GatewayError("api_gone");
    return api;
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    api: ApiEntry,
    target: ApiTarget,
    body: Buffer | Readable | undefined,
    payment: Payment,
  ): Promise<string> {
    const method = req.method ?? "GET";
    const targetText = `${target.path}${target.query}`;
    const callId = randomBytes(16).toString("hex");
    const own: Record<string, string> = { "meshgate-node": this.deps.node, "meshgate-call-id": callId };
    if (payment.kind === "voucher") own["meshgate-cumulative"] = payment.call.cumulativeAmount.toString();
    const encoding = negotiateEncoding(req.headers["accept-encoding"]);
    const cache = this.deps.cache;

    if (cache && (method === "GET" || method === "HEAD")) {
      const lookedUp = Date.now();
      this.deps.prefetcher?.requested(api.id, targetText, lookedUp);
      const hit = cache.lookup(api.id, method, targetText, req.headers, lookedUp);
      if (hit) {
        this.deps.metrics.cache.inc({ event: "hit" });
        await this.sendCached(res, hit, cache, method, encoding, own);
        return "hit";
      }
      this.deps.metrics.cache.inc({ event: "miss" });
    }

    const call: CallToForward = {
      api,
      target,
      method,
      headers: req.headers,
      clientIp: req.socket.remoteAddress ?? "",
      host: req.headers.host,
      payer: payment.kind === "voucher" ? payment.call.payer : "zk",
      callId,
      body,
      identity: cache !== undefined && method === "GET",
    };
    const upstreamStarted = performance.now();
    let dispatched: Dispatched;
    try {
      dispatched = await this.deps.dispatcher.send(api, (replica) => upstreamRequest(call, replica, this.deps.signer));
    } catch (error) {
      // No answer at all (unreachable, timed out): the call is not charged.
      if (!(error instanceof GatewayError) || payment.kind !== "voucher") throw error;
      throw new GatewayError(error.code, error.detail, {
        ...error.headers,
        "meshgate-cumulative": await this.refund(payment.call),
      });
    }
    const { response: upstream, lease } = dispatched;
    this.deps.metrics.upstreamLatency.observe({ api: api.id.toString() }, (performance.now() - upstreamStarted) / 1000);

    // The replica's latency runs to the end of its body. A body that failed while the client was still
    // there counts against the replica; a client that left does not.
    let bodyFailed = false;
    upstream.body.once("error", () => (bodyFailed ||= !res.destroyed));
    try {
      const now = Date.now();
      const policy =
        cache && method === "GET" ? cachePolicy({ method, headers: req.headers }, upstream, now) : undefined;
      let out: OutgoingHttpHeaders = clientResponseHeaders(upstream.headers);
      let compressor: Transform | undefined;
      if (method !== "HEAD" && ![204, 206, 304].includes(upstream.status) && compressible(upstream.headers)) {
        out = encodedResponseHeaders(out as HeaderMap, encoding) as OutgoingHttpHeaders;
        if (encoding) compressor = compressStream(encoding);
      }
      // The upstream failed the call (5xx): not charged either.
      if (upstream.status >= 500 && payment.kind === "voucher")
        own["meshgate-cumulative"] = await this.refund(payment.call);
      res.writeHead(upstream.status, { ...out, ...own });

      const capture = policy && cache ? new BodyCapture(cache.maxEntryBytes) : undefined;
      const stages: NodeJS.ReadWriteStream[] = [];
      if (capture) {
        stages.push(
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              capture.push(chunk);
              done(null, chunk);
            },
          }),
        );
      }
      if (compressor) stages.push(compressor);
      await pipeline([upstream.body, ...stages, res] as (NodeJS.ReadableStream | NodeJS.WritableStream)[]);

      const captured = capture?.result();
      if (cache && policy && captured) {
        const stored = cache.store(api.id, targetText, req.headers, { ...upstream, body: captured }, policy, now);
        if (stored) {
          this.deps.metrics.cache.inc({ event: "store" });
          this.deps.prefetcher?.stored(api.id, target, req.headers, upstream.headers, policy.ttlMs, now);
        }
      }
      if (cache && UNSAFE_METHODS.has(method) && upstream.status < 400) {
        cache.invalidate(api.id, targetText);
        this.deps.prefetcher?.invalidated(api.id, targetText);
      }
      return cache && method === "GET" ? "miss" : "none";
    } finally {
      lease.end(upstream.status < 500 && !bodyFailed);
    }
  }

  /**
   * Takes back the voucher of a call the upstream failed; returns the channel's accepted amount to tell the
   * client (Meshgate-Cumulative): the restored one, or the call's own when it stays charged (a later call on
   * the channel was accepted meanwhile, or Redis cannot be reached).
   */
  private async refund(call: PaidCall): Promise<string> {
    const restored = await this.deps.vouchers.refund(call).catch(() => undefined);
    if (restored === undefined) return call.cumulativeAmount.toString();
    this.deps.metrics.refundedValue.inc({ token: call.token }, Number(call.increase));
    return restored.toString();
  }

  private async sendCached(
    res: ServerResponse,
    hit: CacheHit,
    cache: ResponseCache,
    method: string,
    encoding: ContentCoding | undefined,
    own: Record<string, string>,
  ): Promise<void> {
    const { entry } = hit;
    let headers: HeaderMap = { ...entry.headers, age: String(hit.age) };
    let body = entry.body;
    if (
      ![204, 206, 304].includes(entry.status) &&
      compressible({ ...entry.headers, "content-length": String(body.length) })
    ) {
      headers = encodedResponseHeaders(headers, encoding);
      if (encoding) body = await cache.encodedBody(hit, encoding);
    }
    res.writeHead(entry.status, { ...headers, ...own, "content-length": String(body.length) } as OutgoingHttpHeaders);
    res.end(method === "HEAD" ? undefined : body);
  }
}

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function header(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function compressible(headers: HeaderMap): boolean {
  const length = header(headers, "content-length");
  return isCompressible(
    header(headers, "content-type"),
    header(headers, "content-encoding"),
    length === undefined ? undefined : Number(length),
    header(headers, "cache-control"),
  );
}
