/**
 * Bench child process: the baseline, a minimal Node reverse proxy with no auth, metering or
 * header hygiene: node:http in, a keep-alive http.Agent out, bodies piped. Prints its URL.
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

const upstream = new URL(process.argv[2] ?? "");
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const server = createServer((req, res) => {
  const forward = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  forward.on("error", () => res.writeHead(502).end());
  req.pipe(forward);
});
server.listen(0, "127.0.0.1", () => console.log(`proxy http://127.0.0.1:${(server.address() as AddressInfo).port}`));
