import { spawn } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { getAddress } from "ethers";
import { type Redis } from "ioredis";
import { RateLimiter, RateLimiterUnavailable, type Policy } from "../../../relayer/store/rate-limiter.js";
import { hotPathRedis } from "../../../relayer/store/redis.js";
import { VoucherStore } from "../../../relayer/store/voucher-store.js";
import { startRedis, type RedisServer } from "../../../scripts/dev/redis-server.js";
import { ROOT } from "../helpers/processes.js";
import { sleep } from "../helpers/wait.js";

const HAMMER = path.join(ROOT, "test/mocha/relayer/fixtures/rate-limit-hammer.ts");

/** Runs `processes` hammer processes against one bucket at once; resolves to what each was allowed. */
async function hammer(url: string, subject: string, processes: number, count: number, policy: Policy) {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ["--import", "tsx", HAMMER, url, "7", subject, String(count), JSON.stringify(policy)], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const outputs = children.map((child) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => out.includes("ready\n") && resolve());
      child.once("exit", (code) => reject(new Error(`hammer exited (${code}) before ready: ${out}`)));
    });
    const done = new Promise<string>((resolve) => child.once("exit", () => resolve(out)));
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin.end("go\n");
  return Promise.all(
    outputs.map(async (o) => (JSON.parse((await o.done).split("\n")[1] ?? "") as { allowed: number }).allowed),
  );
}

describe("RateLimiter (GCRA in Redis)", function () {
  this.timeout(20_000);
  let server: RedisServer;
  let redis: Redis;
  let limiter: RateLimiter;
  let subjects = 0;
  /** A payer no other test touched. */
  const payer = () => getAddress(`0x${(++subjects).toString(16).padStart(40, "a")}`);

  before(async () => {
    server = await startRedis();
    // The relayer's own hot-path client: no offline queue, so calls fail at once while Redis is down.
    redis = hotPathRedis(server.url);
    redis.on("error", () => undefined);
    await redis.connect();
    limiter = new RateLimiter(redis);
  });

  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  it("allows burst + 1 calls back to back, then refuses until the next token (Retry-After rounded up)", async () => {
    // T = 60 s / 5 = 12 s; burst 3 → 4 calls at once.
    const policy = { requestsPerWindow: 5, windowSeconds: 60, burst: 3 };
    const key = { apiId: 1n, subject: payer() };
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await limiter.take(key, policy));
    expect(results).to.deep.equal([
      { allowed: true, remaining: 3 },
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      // A refusal spends nothing: the second one waits just as long.
      { allowed: false, retryAfterSeconds: 12 },
      { allowed: false, retryAfterSeconds: 12 },
    ]);
    // The bucket forgets itself once full again (4 × 12 s).
    expect(await redis.pttl(`mg:rl:1:${key.subject.toLowerCase()}`)).to.be.within(47_000, 48_000);
  });

  it("says at least 1 second when the next token is less than a second away", async () => {
    const key = { apiId: 1n, subject: payer() };
    const policy = { requestsPerWindow: 10, windowSeconds: 1, burst: 0 };
    expect(await limiter.take(key, policy)).to.deep.equal({ allowed: true, remaining: 0 });
    expect(await limiter.take(key, policy)).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
  });

  it("checks the limit and stores the voucher in one script: a limited call stores nothing, shares the bucket", async () => {
    const store = new VoucherStore(redis, "mg:rl-test");
    const subject = payer();
    const policy = { requestsPerWindow: 5, windowSeconds: 60, burst: 1 };
    const limit = limiter.bucket({ apiId: 1n, subject }, policy);
    const voucher = (cumulativeAmount: bigint) => ({
      channelId: `0x${"c".repeat(64)}`,
      payer: subject,
      apiId: 1n,
      token: getAddress(`0x${"d".repeat(40)}`),
      signer: subject,
      cumulativeAmount,
      signature: "0x",
    });
    expect(await store.accept(voucher(10n), 10n, 0n, { limit })).to.deep.equal({ accepted: true, previous: undefined });
    // A stale voucher still spends its call (the limit is checked first), then is refused.
    expect(await store.accept(voucher(10n), 10n, 0n, { limit })).to.deep.equal({ accepted: false, current: 10n });
    expect(await store.accept(voucher(20n), 10n, 0n, { limit })).to.deep.equal({
      accepted: false,
      rateLimited: true,
      retryAfterSeconds: 12,
    });
    expect(await store.latest(voucher(20n).channelId)).to.equal(10n);
    // The standalone limiter sees the same bucket.
    expect(await limiter.take({ apiId: 1n, subject }, policy)).to.deep.equal({ allowed: false, retryAfterSeconds: 12 });
  });

  it("refills at the steady rate", async () => {
    // T = 100 ms, burst 2: 3 calls at once, then one per 100 ms.
    const policy = { requestsPerWindow: 10, windowSeconds: 1, burst: 2 };
    const key = { apiId: 1n, subject: payer() };
    const allowedNow = async (n: number) => {
      let allowed = 0;
      for (let i = 0; i < n; i++) if ((await limiter.take(key, policy)).allowed) allowed++;
      return allowed;
    };
    expect(await allowedNow(5)).to.equal(3);
    // 250 ms later: the tokens of 100 ms and 200 ms, not yet the one of 300 ms.
    await sleep(250);
    expect(await allowedNow(5)).to.equal(2);
    await sleep(400);
    expect(await allowedNow(1)).to.equal(1);
  });

  it("keeps one bucket per API and subject; address case does not matter", async () => {
    const policy = { requestsPerWindow: 1, windowSeconds: 3600, burst: 0 };
    const a = payer();
    const b = payer();
    expect((await limiter.take({ apiId: 1n, subject: a }, policy)).allowed).to.be.true;
    expect(await limiter.take({ apiId: 1n, subject: a.toLowerCase() }, policy)).to.deep.equal({
      allowed: false,
      retryAfterSeconds: 3600,
    });
    expect((await limiter.take({ apiId: 1n, subject: b }, policy)).allowed).to.be.true;
    expect((await limiter.take({ apiId: 2n, subject: a }, policy)).allowed).to.be.true;
    // A ZK identity is just another subject.
    expect((await limiter.take({ apiId: 1n, subject: "zk:123456789" }, policy)).allowed).to.be.true;
    expect((await limiter.take({ apiId: 1n, subject: "zk:123456789" }, policy)).allowed).to.be.false;
  });

  it("refuses policies RateLimitPolicy cannot hold: there is no unlimited policy", async () => {
    const key = { apiId: 1n, subject: payer() };
    for (const policy of [
      { requestsPerWindow: 0, windowSeconds: 0, burst: 0 }, // an unset tier
      { requestsPerWindow: 0, windowSeconds: 60, burst: 0 },
      { requestsPerWindow: 10, windowSeconds: 0, burst: 0 },
      { requestsPerWindow: 1.5, windowSeconds: 60, burst: 0 },
    ]) {
      await limiter.take(key, policy).then(
        () => expect.fail(`${JSON.stringify(policy)} was accepted`),
        (error: unknown) => expect(error).to.be.instanceOf(RangeError),
      );
    }
    expect(await redis.exists(`mg:rl:1:${key.subject.toLowerCase()}`)).to.equal(0);
  });

  it("is atomic across processes: 3 relayers hammering one bucket get what one alone gets", async () => {
    // T = 36 s: nothing refills during the test, so exactly burst + 1 = 1000 calls pass in total;
    // each process fires 600 at once, so at least two of them race for the last tokens.
    const policy = { requestsPerWindow: 1000, windowSeconds: 36_000, burst: 999 };
    const [alone] = await hammer(server.url, payer(), 1, 1800, policy);
    const shared = await hammer(server.url, payer(), 3, 600, policy);
    expect(alone).to.equal(1000);
    expect(
      shared.reduce((a, b) => a + b, 0),
      `allowed per process: ${shared}`,
    ).to.equal(1000);
  });

  it("fails closed while Redis is down and works again once it is back, with its buckets", async () => {
    const policy = { requestsPerWindow: 5, windowSeconds: 60, burst: 3 };
    const key = { apiId: 1n, subject: payer() };
    expect(await limiter.take(key, policy)).to.deep.equal({ allowed: true, remaining: 3 });
    await server.kill();
    await limiter.take(key, policy).then(
      () => expect.fail("allowed while Redis was down"),
      (error: unknown) => expect(error).to.be.instanceOf(RateLimiterUnavailable),
    );
    await server.start();
    expect(await eventually(() => limiter.take(key, policy))).to.deep.equal({ allowed: true, remaining: 2 });

    // An abrupt restart (SIGKILL, then start): the append-only file kept the bucket.
    await server.restart();
    expect(await eventually(() => limiter.take(key, policy))).to.deep.equal({ allowed: true, remaining: 1 });
  });
});

/** Retries `f` while it throws RateLimiterUnavailable (the client reconnecting), for up to 5 s. */
async function eventually<T>(f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      return await f();
    } catch (error) {
      if (!(error instanceof RateLimiterUnavailable) || Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}
