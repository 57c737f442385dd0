/**
 * Calls providers' upstreams over pooled keep-alive connections (undici). Connection failures
 * are retried for idempotent methods whose body can be replayed; a timeout or failure becomes
 * a 504 or 502 with a stable code.
 */
import type { Readable } from "node:stream";
import { Agent, errors } from "undici";
import { GatewayError } from "../errors.js";

export interface UpstreamRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  /** A buffered body can be sent again on retry; a stream cannot. */
  body: Buffer | Readable | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
const RETRYABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * The upstream could not be reached (refused, reset, connect timeout) and nothing was answered: a
 * request that may be replayed (see {@link UpstreamClient.replayable}) can go to another replica.
 */
export class UpstreamUnreachable extends GatewayError {}

export class UpstreamClient {
  private readonly agent: Agent;

  constructor(private readonly opts: { timeoutMs: number; connectTimeoutMs: number; retries: number }) {
    this.agent = new Agent({
      connect: { timeout: opts.connectTimeoutMs },
      keepAliveTimeout: 10_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  /** Whether a request may be sent again after a connection failure: idempotent, with a buffered (or no) body. */
  static replayable(req: Pick<UpstreamRequest, "method" | "body">): boolean {
    return IDEMPOTENT.has(req.method) && (req.body === undefined || Buffer.isBuffer(req.body));
  }

  /** `retries`: extra attempts on this origin after a connection failure (default: the configured count). */
  async forward(
    req: UpstreamRequest,
    opts: { signal?: AbortSignal; retries?: number } = {},
  ): Promise<UpstreamResponse> {
    const { signal, retries = this.opts.retries } = opts;
    const attempts = UpstreamClient.replayable(req) ? retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.agent.request({
          origin: req.origin,
          path: req.path,
          method: req.method as "GET",
          headers: req.headers,
          body: req.body ?? null,
          signal,
        });
        return { status: res.statusCode, headers: res.headers, body: res.body };
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        if (attempt < attempts && RETRYABLE.has(code) && !signal?.aborted) {
          await new Promise((r) => setTimeout(r, 25 * attempt));
          continue;
        }
        if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
          throw new GatewayError("upstream_timeout");
        }
        if (error instanceof errors.ConnectTimeoutError)
          throw new UpstreamUnreachable("upstream_timeout", "connect timeout");
        if (RETRYABLE.has(code)) throw new UpstreamUnreachable("upstream_error", code);
        throw new GatewayError("upstream_error", code || (error instanceof Error ? error.message : undefined));
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
