/**
 * Provider side of node identity: middleware for `node:http`, Connect or Express that lets through only
 * calls signed (sdk/http-signatures.ts) by an active staked Meshgate node, each call id once.
 *
 * It rebuilds the signed components from the request as received: `@authority` from the Host header
 * (HTTP/2: `:authority`), `@path` and `@query` from the request target (Express's `originalUrl`, so
 * mounting under a prefix does not change them). A proxy in front of the provider must pass the Host
 * header, the request target, the meshgate-* headers and the content headers through unchanged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { REQUIRED_COMPONENTS, verifyRequestSignature, type SignatureRejection } from "./http-signatures.js";

/** Why the middleware refused a call: a signature rejection or one of its own checks. */
export type NodeVerifierRejection =
  SignatureRejection | "unknown_node" | "replayed" | "staking_unavailable" | "replay_cache_full";

/** A request the middleware let through: `meshgateNode` is the signing node's checksummed address. */
export interface MeshgateVerifiedRequest extends IncomingMessage {
  meshgateNode: string;
}

/** A `(req, res, next)` middleware; Express and Connect accept it as is. */
export type NodeVerifierMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Options of `meshgateNodeVerifier`. */
export interface NodeVerifierOptions {
  /** Whether an address is an active staked node (see `stakedNodeChecker` to cache a NodeStaking read). */
  isStakedNode: (address: string) => Promise<boolean>;
  /** Tolerated clock difference between nodes and this server, in seconds (default 30). */
  maxSkewSeconds?: number;
  /**
   * How many call ids to remember (default 100,000). Each is kept until its signature expires (plus the
   * skew), so a replay is refused for as long as it could verify; when the cache is full of live ids, new
   * calls are refused (503 replay_cache_full) rather than forgetting one early. Size it to at least
   * peak calls per second × (SIGNATURE_LIFETIME_SECONDS + maxSkewSeconds).
   */
  replayCacheSize?: number;
  /** Components signatures must cover (default REQUIRED_COMPONENTS). */
  requiredComponents?: readonly string[];
}

const REJECTIONS: Record<Exclude<NodeVerifierRejection, SignatureRejection>, [status: number, message: string]> = {
  unknown_node: [401, "the signing node is not an active staked node"],
  replayed: [401, "this call id was already used by this node"],
  staking_unavailable: [503, "the node's stake could not be checked"],
  replay_cache_full: [503, "too many calls in flight to track replays; retry shortly"],
};

/**
 * Builds the middleware. On success it sets `req.meshgateNode` (read it with `verifiedNode`) and calls
 * `next()`; otherwise it answers `{ error: { code, message } }` (401, or 503 when it cannot decide) and
 * does not call `next`.
 */
export function meshgateNodeVerifier(options: NodeVerifierOptions): NodeVerifierMiddleware {
  const { isStakedNode, maxSkewSeconds = 30, replayCacheSize = 100_000 } = options;
  const requiredComponents = options.requiredComponents ?? REQUIRED_COMPONENTS;
  const replays = new ReplayGuard(replayCacheSize);
  return (req, res, next) => {
    const target = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
    const q = target.indexOf("?");
    const result = verifyRequestSignature(
      {
        method: req.method ?? "",
        authority: req.headers.host ?? (req.headers[":authority"] as string | undefined) ?? "",
        path: q < 0 ? target : target.slice(0, q),
        query: q < 0 ? "" : target.slice(q),
        headers: req.headers,
      },
      { now: Date.now() / 1000, maxSkewSeconds, requiredComponents },
    );
    if (!result.ok) return refuse(res, result.reason, 401, result.detail);
    isStakedNode(result.node).then(
      (staked) => {
        if (!staked) return refuse(res, "unknown_node", ...REJECTIONS.unknown_node);
        // Claimed only once the stake is known, checked and recorded in one synchronous step: concurrent
        // replays cannot both pass, and unstaked keys cannot fill the cache.
        const claim = replays.claim(`${result.node} ${result.callId}`, result.expires + maxSkewSeconds);
        if (claim !== "fresh") return refuse(res, claim, ...REJECTIONS[claim]);
        (req as MeshgateVerifiedRequest).meshgateNode = result.node;
        next();
      },
      () => refuse(res, "staking_unavailable", ...REJECTIONS.staking_unavailable),
    );
  };
}

/** The node that signed a request the middleware let through, or undefined. */
export function verifiedNode(req: IncomingMessage): string | undefined {
  return (req as Partial<MeshgateVerifiedRequest>).meshgateNode;
}

/**
 * Caches a staking contract's `isActive` answers for `ttlMs` (a TypeChain NodeStaking satisfies
 * `staking`). Concurrent lookups of one address share a read; failed reads are not cached.
 * @param staking anything with NodeStaking's `isActive(address)`
 * @param ttlMs how long an answer is trusted: a slashed or unstaked node is let through at most this long
 * @param maxEntries addresses remembered at most (the oldest is dropped first)
 */
export function stakedNodeChecker(
  staking: { isActive(address: string): Promise<boolean> },
  ttlMs: number,
  maxEntries = 10_000,
): (address: string) => Promise<boolean> {
  const cache = new Map<string, { until: number; answer: Promise<boolean> }>();
  return (address) => {
    const now = Date.now();
    const hit = cache.get(address);
    if (hit !== undefined && hit.until > now) return hit.answer;
    cache.delete(address);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    const answer = staking.isActive(address);
    cache.set(address, { until: now + ttlMs, answer });
    answer.catch(() => {
      if (cache.get(address)?.answer === answer) cache.delete(address);
    });
    return answer;
  };
}

function refuse(res: ServerResponse, code: NodeVerifierRejection, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ error: { code, message } }));
}

/** Call ids seen, each until a time (Unix seconds) after which its signature can no longer verify. */
class ReplayGuard {
  readonly #seen = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  claim(key: string, forgetAfter: number): "fresh" | "replayed" | "replay_cache_full" {
    const now = Date.now() / 1000;
    const until = this.#seen.get(key);
    if (until !== undefined && until >= now) return "replayed";
    // Ids arrive in about the order they expire (lifetimes are short and alike), so sweeping from the
    // oldest until the first live one keeps the map small at amortized O(1).
    for (const [seen, t] of this.#seen) {
      if (t >= now) break;
      this.#seen.delete(seen);
    }
    if (this.#seen.size >= this.capacity) return "replay_cache_full";
    this.#seen.delete(key);
    this.#seen.set(key, forgetAfter);
    return "fresh";
  }
}
