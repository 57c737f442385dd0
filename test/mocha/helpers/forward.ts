import { request, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * Passes `req` on to `target` (same method, path and headers) and streams the answer back: the
 * pass-through of the test and bench proxies. An unreachable target answers 502, or cuts the
 * response if its head was already sent.
 */
export function forwardTo(target: URL, req: IncomingMessage, res: ServerResponse): void {
  const out = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(out);
}
