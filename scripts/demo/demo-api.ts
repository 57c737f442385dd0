import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The OpenAPI document the demo API is listed with (its keccak256 is the on-chain content hash). */
export const DEMO_OPENAPI = JSON.stringify({
  openapi: "3.1.0",
  info: { title: "Meshgate demo weather API", version: "1.0.0" },
  paths: {
    "/v1/forecast": {
      get: {
        parameters: [{ name: "city", in: "query", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "A deterministic three-day forecast" } },
      },
    },
    "/openapi.json": { get: { responses: { "200": { description: "This document" } } } },
  },
});

/** A deterministic value in [0, 1) from a string, so the same city always gets the same forecast. */
function unit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

/**
 * A small real upstream API for local runs and tests: GET /v1/forecast?city=<name> answers JSON,
 * GET /openapi.json serves the document listed on-chain.
 */
export function startDemoApi(port: number, host = "127.0.0.1"): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://demo");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "public, max-age=60" });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (req.method !== "GET") return send(405, { error: "method_not_allowed" });
    if (url.pathname === "/openapi.json") return send(200, DEMO_OPENAPI);
    if (url.pathname !== "/v1/forecast") return send(404, { error: "not_found" });
    const city = url.searchParams.get("city");
    if (!city) return send(400, { error: "missing_city", message: "pass ?city=<name>" });
    const days = [0, 1, 2].map((d) => ({
      day: d,
      tempC: Math.round(-5 + 35 * unit(`${city}:${d}:t`)),
      rainMm: Math.round(20 * unit(`${city}:${d}:r`) * 10) / 10,
    }));
    return send(200, { city, days });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({ server, url: `http://${host}:${actual}` });
    });
  });
}
