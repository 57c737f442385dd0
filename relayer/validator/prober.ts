/**
 * One HTTP probe: a real request to a node, timed from sending to the end of the answer (a node
 * that sends headers fast and the body slowly is slow). A probe that errors, times out or answers
 * non-2xx fails; which of those happened is kept, since a node that answers 503 is reachable and
 * one that refuses connections is not.
 */

/** `ok`: 2xx in time. `status`: another status in time. `timeout`: no complete answer in time. `error`: no answer. */
export type ProbeOutcome = "ok" | "status" | "timeout" | "error";

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** Whether any HTTP answer arrived in time (the subject was reachable). */
  answered: boolean;
  status?: number;
  /** Time to the complete answer, microseconds (when one arrived). */
  latencyMicros?: number;
  headers?: Headers;
  /** The start of the body (at most `maxBodyBytes`), for callers that classify errors. */
  body?: Buffer;
}

export interface ProbeRequest {
  url: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Bytes of the body kept; the rest is read and discarded. */
  maxBodyBytes?: number;
}

/** Sends one GET and reports how it went. Never throws. */
export async function probe(req: ProbeRequest): Promise<ProbeResult> {
  const started = process.hrtime.bigint();
  const signal = AbortSignal.timeout(req.timeoutMs);
  let res: Response;
  try {
    res = await fetch(req.url, { method: "GET", headers: req.headers, signal, redirect: "manual" });
  } catch (error) {
    return { outcome: isTimeout(error, signal) ? "timeout" : "error", answered: false };
  }
  let body: Buffer;
  try {
    body = await readBounded(res, req.maxBodyBytes ?? 4_096);
  } catch (error) {
    // Headers arrived, the body did not finish: the node is there but the answer is incomplete.
    return { outcome: isTimeout(error, signal) ? "timeout" : "error", answered: true, status: res.status };
  }
  const latencyMicros = Number((process.hrtime.bigint() - started) / 1_000n);
  return {
    outcome: res.status >= 200 && res.status < 300 ? "ok" : "status",
    answered: true,
    status: res.status,
    latencyMicros,
    headers: res.headers,
    body,
  };
}

/** Reads the whole body, keeping its first `max` bytes. */
async function readBounded(res: Response, max: number): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const kept: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(kept);
    if (size < max) {
      const part = Buffer.from(value).subarray(0, max - size);
      kept.push(part);
      size += part.length;
    }
  }
}

function isTimeout(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"));
}

/** A node's URL joined with a path (the node's URL may carry a base path). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}
