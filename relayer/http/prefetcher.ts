/**
 * Predictive pre-caching: every tick, fetches again the hot cached GET responses that are about to go
 * stale (relayer/traffic/prefetch-planner.ts decides which, from per-key and per-API forecasts), so
 * their next callers hit the cache instead of waiting for the upstream.
 *
 * A refresh is the node's own call: sent to a replica like any call and signed by the node, with
 * Meshgate-Payer `prefetch` and no client address. Nobody is charged for it; the calls it then answers
 * from the cache are paid as usual, and the planner only refreshes a key expected to be asked for at
 * least once while the copy is fresh. It carries only the request headers the stored response varies
 * on (from the request that stored it), so it is stored under the same key; a response that varies on
 * credentials, cookies or the relayer's own fields is never refreshed. A target with several stored
 * variants has its latest one refreshed.
 */
import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { ApiCatalog } from "../chain/api-catalog.js";
import { ApiStatus } from "../chain/api-catalog.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import type { ApiForecast, PrefetchPlanner } from "../traffic/prefetch-planner.js";
import type { HeaderMap } from "./compression.js";
import type { ForwardSigner } from "./gateway.js";
import { HOP_BY_HOP, isRelayerOwned } from "./headers.js";
import type { ApiTarget } from "./path.js";
import { BodyCapture, cacheKey, cachePolicy, parseVary, type ResponseCache } from "./response-cache.js";
import type { UpstreamDispatcher } from "./upstream-dispatch.js";
import { upstreamRequest } from "./upstream-request.js";

/** Request headers a shared refresh must not replay. */
const PRIVATE_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

interface Replay {
  apiId: bigint;
  target: ApiTarget;
  targetText: string;
  headers: IncomingHttpHeaders;
}

export interface PrefetcherOptions {
  planner: PrefetchPlanner;
  cache: ResponseCache;
  catalog: ApiCatalog;
  dispatcher: UpstreamDispatcher;
  signer: ForwardSigner;
  /** How often to plan refreshes (ms); a copy is refreshed within one tick of going stale. */
  tickMs: number;
  /** Per-API load forecast (requests per second), when it has history. */
  forecast?: ApiForecast;
  metrics: RelayerMetrics;
  log: Logger;
  now?: () => number;
}

export class Prefetcher {
  /** How to refresh each planned key; bounded like the planner (least recently stored forgotten first). */
  private readonly replays = new Map<string, Replay>();
  private readonly maxReplays: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: PrefetcherOptions) {
    this.now = opts.now ?? Date.now;
    this.maxReplays = 10_000;
  }

  /** A GET or HEAD of `targetText` looked up in the cache (hit or miss). */
  requested(apiId: bigint, targetText: string, now: number): void {
    this.opts.planner.request(apiId.toString(), cacheKey(apiId, "GET", targetText, []), now);
  }

  /** The gateway stored a response for a client's GET: plan its refresh, if it can be replayed. */
  stored(
    apiId: bigint,
    target: ApiTarget,
    requestHeaders: IncomingHttpHeaders,
    responseHeaders: HeaderMap,
    ttlMs: number,
    now: number,
  ): void {
    const targetText = `${target.path}${target.query}`;
    const key = cacheKey(apiId, "GET", targetText, []);
    const headers = replayHeaders(requestHeaders, responseHeaders);
    if (headers === undefined) {
      this.forget(key);
      return;
    }
    this.replays.delete(key);
    this.replays.set(key, { apiId, target, targetText, headers });
    for (const oldest of this.replays.keys()) {
      if (this.replays.size <= this.maxReplays) break;
      this.replays.delete(oldest);
    }
    this.opts.planner.stored(key, now, ttlMs);
  }

  /** A write to the target invalidated its stored copies: nothing to refresh until a GET stores one again. */
  invalidated(apiId: bigint, targetText: string): void {
    this.forget(cacheKey(apiId, "GET", targetText, []));
  }

  start(): void {
    this.timer = setInterval(() => {
      // One tick at a time: a slow upstream must not pile refreshes up.
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.opts.tickMs);
    this.timer.unref();
  }

  /** Stops planning and waits for the refreshes in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Plans and runs one tick's refreshes (concurrently); resolves when all ended. */
  async tick(): Promise<void> {
    // Copies that go stale within two ticks: a refresh planned now has at least one tick to arrive before
    // its copy expires (with a one-tick horizon it could start a moment before).
    const due = this.opts.planner.due(this.now(), 2 * this.opts.tickMs, this.opts.forecast);
    await Promise.all(due.map((key) => this.refresh(key)));
  }

  private forget(key: string): void {
    this.replays.delete(key);
    this.opts.planner.drop(key);
  }

  private async refresh(key: string): Promise<void> {
    const replay = this.replays.get(key);
    const api = replay && this.opts.catalog.get(replay.apiId);
    if (replay === undefined || api === undefined || api.status !== ApiStatus.Active) {
      this.forget(key);
      return;
    }
    const { cache, metrics } = this.opts;
    try {
      const call = {
        api,
        target: replay.target,
        method: "GET",
        headers: replay.headers,
        clientIp: "",
        host: undefined,
        payer: "prefetch",
        callId: randomBytes(16).toString("hex"),
        body: undefined,
        identity: true,
      };
      const { response, lease } = await this.opts.dispatcher.send(api, (replica) =>
        upstreamRequest(call, replica, this.opts.signer),
      );
      const capture = new BodyCapture(cache.maxEntryBytes);
      try {
        for await (const chunk of response.body) capture.push(chunk as Buffer);
      } finally {
        lease.end(response.status < 500);
      }
      const now = this.now();
      const policy = cachePolicy({ method: "GET", headers: replay.headers }, response, now);
      const body = capture.result();
      if (
        policy &&
        body &&
        cache.store(api.id, replay.targetText, replay.headers, { ...response, body }, policy, now)
      ) {
        this.opts.planner.stored(key, now, policy.ttlMs);
        metrics.cache.inc({ event: "prefetch" });
      } else {
        // No longer cacheable (or too large): the upstream decides; a client's GET may store it again.
        this.forget(key);
        metrics.cache.inc({ event: "prefetch_uncacheable" });
      }
    } catch (error) {
      this.forget(key);
      metrics.cache.inc({ event: "prefetch_error" });
      this.opts.log.debug({ err: error, target: replay.targetText }, "prefetch failed");
    }
  }
}

/**
 * The request headers a refresh sends: those the response varies on, as the storing request had them.
 * Undefined when the response varies on something a shared refresh cannot replay.
 */
function replayHeaders(request: IncomingHttpHeaders, response: HeaderMap): IncomingHttpHeaders | undefined {
  const out: IncomingHttpHeaders = {};
  for (const name of parseVary(response)) {
    if (PRIVATE_HEADERS.has(name) || HOP_BY_HOP.has(name) || isRelayerOwned(name)) return undefined;
    const value = request[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
