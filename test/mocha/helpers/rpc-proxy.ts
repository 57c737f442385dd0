import { forwardTo } from "./forward.js";
import { serve } from "./serve.js";

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
  const served = await serve((req, res) => {
    if (down) {
      refused++;
      req.resume();
      res.writeHead(503, { "content-type": "text/plain" }).end("rpc down");
      return;
    }
    forwardTo(upstream, req, res);
  });
  return {
    url: served.url,
    setDown: (value) => (down = value),
    refused: () => refused,
    close: served.close,
  };
}
