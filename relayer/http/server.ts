/**
 * The relayer's HTTP server: operational endpoints, the node's public info, and every other
 * path through the paid-call gateway. Tracks calls in flight so shutdown can drain them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { GatewayError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import type { Gateway } from "./gateway.js";
import { sendError, sendJson } from "./respond.js";

export interface ServerDeps {
  gateway: Gateway;
  metrics: RelayerMetrics;
  log: Logger;
  /** What GET /_meshgate/info answers: enough for a client to build vouchers. */
  info: Record<string, unknown>;
  ready: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
  latestVoucher: (channelId: string) => Promise<bigint>;
  beforeMetrics: () => Promise<void>;
}

const CHANNEL_PATH = /^\/_meshgate\/channels\/(0x[0-9a-fA-F]{64})$/;

export class RelayerServer {
  private readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private drained: (() => void) | undefined;

  constructor(private readonly deps: ServerDeps) {
    this.server = createServer(
      { keepAliveTimeout: 5_000, headersTimeout: 10_000, requestTimeout: 60_000 },
      (req, res) => this.dispatch(req, res),
    );
  }

  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        const { port: actual } = this.server.address() as AddressInfo;
        resolve(`http://${host}:${actual}`);
      });
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    if (this.draining) {
      sendError(res, new GatewayError("not_ready", "shutting down"), { connection: "close" });
      return;
    }
    this.inFlight++;
    this.deps.metrics.inFlight.inc();
    res.once("close", () => {
      this.inFlight--;
      this.deps.metrics.inFlight.dec();
      if (this.draining && this.inFlight === 0) this.drained?.();
    });
    this.route(req, res).catch((error: unknown) => {
      if (error instanceof GatewayError) return sendError(res, error);
      this.deps.log.error({ err: error }, "unhandled request error");
      sendError(res, new GatewayError("internal_error"));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "";
    if (!url.startsWith("/_meshgate/") && !["/healthz", "/readyz", "/metrics"].includes(url)) {
      return this.deps.gateway.handle(req, res);
    }
    if (req.method !== "GET") return sendError(res, new GatewayError("method_not_allowed"));
    if (url === "/healthz") return sendJson(res, 200, { ok: true });
    if (url === "/readyz") {
      const { ready, checks } = await this.deps.ready();
      return sendJson(res, ready && !this.draining ? 200 : 503, { ready: ready && !this.draining, checks });
    }
    if (url === "/metrics") {
      await this.deps.beforeMetrics().catch(() => undefined);
      const body = await this.deps.metrics.registry.metrics();
      res.writeHead(200, { "content-type": this.deps.metrics.registry.contentType });
      return void res.end(body);
    }
    if (url === "/_meshgate/info") return sendJson(res, 200, this.deps.info);
    const channel = CHANNEL_PATH.exec(url);
    if (channel) {
      const latest = await this.deps.latestVoucher(channel[1]!.toLowerCase()).catch(() => {
        throw new GatewayError("store_unavailable");
      });
      return sendJson(
        res,
        200,
        { channelId: channel[1], cumulativeAmount: latest.toString() },
        { "cache-control": "no-store" },
      );
    }
    return sendError(res, new GatewayError("bad_path", "unknown relayer endpoint"));
  }

  /** Stops accepting calls, waits up to `graceMs` for those in flight, then closes every connection. */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise((resolve) => setTimeout(resolve, graceMs)),
      ]);
    }
    this.server.closeAllConnections();
    await closed;
  }
}
