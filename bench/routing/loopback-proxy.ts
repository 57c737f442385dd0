/**
 * The loopback mode's demo-node behaviour: an HTTP proxy in front of a real relayer that delays
 * every request by a draw from a seeded latency profile (a base, an exponential jitter and a
 * Pareto tail) and answers a share of requests itself with 503 before they reach the relayer
 * (so a failed call never spends the payer's voucher). Reseed between policy runs so that every
 * policy meets nodes with the same behaviour.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { seededRng } from "../../sdk/routing/rng.js";
import type { Rng } from "../../sdk/routing/types.js";
import { forwardTo } from "../../test/mocha/helpers/forward.js";
import { serve } from "../../test/mocha/helpers/serve.js";

/** How a demo node behaves, per request. */
export interface NodeProfile {
  readonly name: string;
  /** Fixed delay, ms. */
  readonly baseMs: number;
  /** Mean of the exponential jitter added to every request, ms. */
  readonly jitterMs: number;
  /** Probability of a heavy-tail stall on top (Pareto, scale tailMs, shape tailAlpha, capped at tailCapMs). */
  readonly tailProbability: number;
  readonly tailMs: number;
  readonly tailAlpha: number;
  readonly tailCapMs: number;
  /** Probability that the node answers 503 itself (after the delay) instead of serving. */
  readonly failProbability: number;
}

/** The delay (ms) and fate of one request under `profile`, from three draws of `rng`. */
export function drawBehaviour(profile: NodeProfile, rng: Rng): { delayMs: number; fail: boolean } {
  const jitter = -profile.jitterMs * Math.log(1 - rng.next());
  const tailDraw = rng.next();
  const tail =
    tailDraw < profile.tailProbability
      ? Math.min(profile.tailCapMs, profile.tailMs / Math.pow(1 - rng.next(), 1 / profile.tailAlpha))
      : 0;
  const fail = rng.next() < profile.failProbability;
  return { delayMs: profile.baseMs + jitter + tail, fail };
}

export interface ProfileProxy {
  readonly url: string;
  readonly profile: NodeProfile;
  setTarget(url: string): void;
  /** Restarts the behaviour stream from `seed` and zeroes the counters. */
  reseed(seed: number): void;
  counts(): { requests: number; failed: number };
  close(): Promise<void>;
}

export async function startProfileProxy(profile: NodeProfile, seed: number): Promise<ProfileProxy> {
  let target: URL | undefined;
  let rng = seededRng(seed);
  let requests = 0;
  let failed = 0;
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    if (!target) {
      req.resume();
      res.writeHead(502).end();
      return;
    }
    forwardTo(target, req, res);
  };
  const served = await serve((req, res) => {
    requests++;
    const { delayMs, fail } = drawBehaviour(profile, rng);
    setTimeout(() => {
      if (fail) {
        failed++;
        req.resume();
        res.writeHead(503, { "content-type": "text/plain" }).end("node failing");
      } else forward(req, res);
    }, delayMs);
  });
  return {
    url: served.url,
    profile,
    setTarget: (url) => (target = new URL(url)),
    reseed: (s) => {
      rng = seededRng(s);
      requests = 0;
      failed = 0;
    },
    counts: () => ({ requests, failed }),
    close: served.close,
  };
}
