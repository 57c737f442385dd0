import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { forwardTo } from "./forward.js";

/**
 * A JSON-RPC pass-through that can be told to fail: while `down`, every request gets a 503
 * (as a load balancer in front of a dead node would answer).
 */
export interface RpcProxy {
  url: string;
  setDown(down: boolean): void;
  /** Requests refused while down. */
  refused(): number;
  close(): Promise<void>;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const upstream = new URL(target);
  let down = false;
  let refused = 0;
  const server = createServer((req, res) => {
    if (down) {
      refused++;
      req.resume();
      res.writeHead(503, { "content-type": "text/plain" }).end("rpc down");
      return;
    }
    forwardTo(upstream, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setDown: (value) => (down = value),
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
