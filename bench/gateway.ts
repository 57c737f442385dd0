/**
 * npm run bench:gateway: the relayer's overhead on loopback, against two references measured in
 * the same run: the demo upstream called directly, and a minimal Node reverse proxy with no auth
 * (bench/gateway/baseline-proxy.ts). Upstream, baseline proxy and relayer each run in their own
 * process; autocannon drives them from this one. Every relayer call carries a fresh voucher
 * (one channel per connection, cumulative amounts increasing), so each call is fully checked,
 * rate-limited and stored in Redis (append-only file, fsync every second) before it is proxied.
 * Settlement is held off during the run (thresholds above what the run spends).
 *
 * Two loads per target: saturation (autocannon, CONNECTIONS connections as fast as they go) for
 * req/s, and an open-loop fixed rate (MODERATE_RPS, paced here) for latency; p99AddedMs = relayer
 * p99 - direct p99 at the moderate rate. Saturation latencies are taken per response from
 * autocannon's 'response' events (its own histogram has 1 ms resolution).
 * Last line: {"directRps","baselineRps","relayerRps","relayerToDirect","p99AddedMs",...}.
 */
import { Agent, request } from "node:http";
import { getAddress, Wallet, id } from "ethers";
import autocannon from "autocannon";
import secp256k1 from "secp256k1";
import { encodeVoucher } from "../sdk/client.js";
import { escrowDomain } from "../sdk/vouchers.js";
import { VoucherSigner } from "../relayer/auth/voucher-signer.js";
import { start, type Spawned } from "../test/mocha/helpers/processes.js";
import { DEMO_PRICE, startTestNetwork } from "../test/mocha/helpers/relayer.js";

const CONNECTIONS = 16;
/**
 * Payer channels the vouchers rotate over. autocannon builds each request without telling which
 * connection sends it, so calls go round-robin over more channels than there are connections:
 * two calls on one channel are then CHANNELS calls apart and never in flight together.
 */
const CHANNELS = 64;
const SATURATION_SECONDS = 8;
const MODERATE_RPS = 500;
const MODERATE_SECONDS = 6;
const PATH = "/v1/forecast?city=Lisbon";

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function load(url: string, opts: { seconds: number; voucher?: () => string }): Promise<Run> {
  const latencies: number[] = [];
  let finish: (result: autocannon.Result) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const instance = autocannon(
    {
      url,
      connections: CONNECTIONS,
      duration: opts.seconds,
      requests: [
        {
          method: "GET",
          path: `${new URL(url).pathname.replace(/\/$/, "")}${PATH}`,
          ...(opts.voucher
            ? {
                setupRequest: (req: autocannon.Request) => ({
                  ...req,
                  headers: { ...req.headers, "meshgate-voucher": opts.voucher!() },
                }),
              }
            : {}),
        },
      ],
    },
    (error, result) => (error ? fail(error as Error) : finish(result)),
  );
  instance.on("response", (_client, status, _bytes, responseTime) => {
    if (status === 200) latencies.push(responseTime);
  });
  const result = await done;
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: latencies.length / opts.seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * Open-loop load at a fixed rate: a request every 1/rps seconds whatever the answers do, each
 * timed from its send to its last byte (closed-loop tools hide queueing at moderate load).
 * Vouchers go round-robin over the channels, far enough apart never to overtake each other.
 */
async function paced(url: string, opts: { rps: number; seconds: number; voucher?: () => string }): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const total = opts.rps * opts.seconds;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / opts.rps;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const headers: Record<string, string> = opts.voucher ? { "meshgate-voucher": opts.voucher() } : {};
    const sent = performance.now();
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: `${target.pathname.replace(/\/$/, "")}${PATH}`,
            headers,
            agent,
          },
          (res) => {
            res.resume();
            res.on("end", () => {
              if (res.statusCode === 200) latencies.push(performance.now() - sent);
              else non2xx++;
              resolve();
            });
          },
        );
        req.on("error", () => {
          errors++;
          resolve();
        });
        req.end();
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: latencies.length / opts.seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors,
    non2xx,
  };
}

async function child(
  script: string,
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
): Promise<[Spawned, string]> {
  const proc = start(process.execPath, ["--import", "tsx", script, ...args], env);
  await proc.waitFor(pattern, 60_000);
  return [proc, pattern.exec(proc.output())![1]!];
}

const net = await startTestNetwork({ appendfsync: "everysec" });
const children: Spawned[] = [];
try {
  const [upstreamProc, upstreamUrl] = await child("bench/gateway/upstream.ts", [], {}, /upstream (http:\/\/\S+)/);
  children.push(upstreamProc);
  const [proxyProc, proxyUrl] = await child(
    "bench/gateway/baseline-proxy.ts",
    [upstreamUrl],
    {},
    /proxy (http:\/\/\S+)/,
  );
  children.push(proxyProc);

  // The demo API, re-pointed at the upstream child process (the in-process one would share this event loop).
  const { protocol, seed, accounts } = net;
  await (await protocol.registry.connect(accounts.provider).updateUpstream(seed.apiId, upstreamUrl)).wait();
  // Tier 0's default policy (600 calls a minute per payer) would cap the run: lift it, so the
  // limiter still runs on every call but never refuses one.
  await (
    await protocol.rateLimits
      .connect(accounts.deployer)
      .setPolicy(0, { requestsPerWindow: 4_000_000_000, windowSeconds: 1, burst: 4_000_000_000 })
  ).wait();
  const payers = Array.from({ length: CHANNELS }, (_, i) => new Wallet(id(`bench payer ${i}`)));
  for (const w of payers) await net.fundPayer(w, 1_000_000_000n);

  const [relayerProc, relayerUrl] = await child(
    "relayer/main.ts",
    [],
    net.env({
      MESHGATE_LOG_LEVEL: "warn",
      MESHGATE_SETTLE_MIN_VALUE: "1000000000000",
      MESHGATE_SETTLE_MAX_AGE_MS: "3600000",
      MESHGATE_KEEPER_INTERVAL_MS: "3600000",
      ...(process.env.BENCH_RELAYER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_RELAYER_NODE_OPTIONS } : {}),
    }),
    /serving on (http:\/\/\S+)/,
  );
  children.push(relayerProc);

  // Vouchers signed natively in advance, per connection (= per payer channel), in order.
  const domain = escrowDomain(net.deployment.chainId, await protocol.escrow.getAddress());
  const digester = new VoucherSigner(domain);
  const perChannel = 2_500;
  const signed: string[][] = [];
  const signStart = performance.now();
  for (const w of payers) {
    const key = Buffer.from(w.privateKey.slice(2), "hex");
    const list: string[] = [];
    for (let i = 1; i <= perChannel; i++) {
      const v = {
        payer: w.address,
        node: getAddress(seed.operator),
        apiId: seed.apiId,
        token: getAddress(seed.stablecoin),
        cumulativeAmount: BigInt(i) * DEMO_PRICE,
      };
      const { signature, recid } = secp256k1.ecdsaSign(
        digester.digest(v.payer, v.node, v.apiId, v.token, v.cumulativeAmount),
        key,
      );
      list.push(encodeVoucher(v, `0x${Buffer.from(signature).toString("hex")}${(27 + recid).toString(16)}`));
    }
    signed.push(list);
  }
  const signMs = performance.now() - signStart;
  let calls = 0;
  const nextVoucher = () => {
    const n = calls++;
    const list = signed[n % CHANNELS]!;
    const index = Math.floor(n / CHANNELS);
    if (index >= list.length)
      throw new Error(`the run needs more than ${list.length} vouchers per channel: raise perChannel`);
    return list[index]!;
  };

  {
    const probe = await fetch(`${relayerUrl}/${seed.apiId}${PATH}`, { headers: { "meshgate-voucher": nextVoucher() } });
    if (probe.status !== 200)
      throw new Error(`the relayer refused a bench call: ${probe.status} ${await probe.text()}`);
  }
  // Warm-up, then measure.
  await load(`${upstreamUrl}`, { seconds: 1 });
  await load(`${proxyUrl}`, { seconds: 1 });
  await load(`${relayerUrl}/${seed.apiId}`, { seconds: 1, voucher: nextVoucher });

  const rows: [string, Run, Run][] = [];
  for (const [name, url, voucher] of [
    ["direct (upstream)", upstreamUrl, undefined],
    ["baseline proxy (no auth)", proxyUrl, undefined],
    ["relayer (vouchers)", `${relayerUrl}/${seed.apiId}`, nextVoucher],
  ] as const) {
    const saturated = await load(url, { seconds: SATURATION_SECONDS, voucher });
    const moderate = await paced(url, { seconds: MODERATE_SECONDS, rps: MODERATE_RPS, voucher });
    rows.push([name, saturated, moderate]);
  }

  const [direct, baseline, relayer] = rows as [[string, Run, Run], [string, Run, Run], [string, Run, Run]];
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `\nGateway on loopback: ${CONNECTIONS} connections; saturation ${SATURATION_SECONDS}s, moderate ${MODERATE_RPS} req/s for ${MODERATE_SECONDS}s`,
  );
  console.log(`(signed ${payers.length * perChannel} vouchers in advance in ${(signMs / 1000).toFixed(1)} s)\n`);
  console.log("target                      req/s   p50 ms   p99 ms | moderate p50   p99 ms | errors non2xx");
  for (const [name, s, m] of rows) {
    console.log(
      `${name.padEnd(24)} ${s.rps.toFixed(0).padStart(7)} ${fmt(s.p50)} ${fmt(s.p99)} |     ${fmt(m.p50)} ${fmt(m.p99)} | ${s.errors + m.errors} ${s.non2xx + m.non2xx}`,
    );
  }
  const summary = {
    directRps: Math.round(direct[1].rps),
    baselineRps: Math.round(baseline[1].rps),
    relayerRps: Math.round(relayer[1].rps),
    relayerToDirect: Number((relayer[1].rps / direct[1].rps).toFixed(3)),
    p99AddedMs: Number((relayer[2].p99 - direct[2].p99).toFixed(3)),
    baselineP99AddedMs: Number((baseline[2].p99 - direct[2].p99).toFixed(3)),
    relayerNon2xx: relayer[1].non2xx + relayer[2].non2xx,
  };
  console.log(
    `\nrelayer/direct ${summary.relayerToDirect} (target >= 0.5); p99 added at ${MODERATE_RPS} req/s ${summary.p99AddedMs} ms (target <= 2)`,
  );
  console.log(JSON.stringify(summary));
} finally {
  for (const c of children) await c.stop();
  await net.stop();
}
