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

  async forward(req: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    const attempts = IDEMPOTENT.has(req.method) && replayable ? this.opts.retries + 1 : 1;
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
        if (error instanceof errors.ConnectTimeoutError) throw new GatewayError("upstream_timeout", "connect timeout");
        throw new GatewayError("upstream_error", code || (error instanceof Error ? error.message : undefined));
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
