import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";

/**
 * A throwaway redis-server (Debian's redis-server) on a free loopback port, with its data in a
 * temp folder, for `npm start`, tests and benchmarks. It persists with an append-only file
 * (fsynced on every write by default), so `restart()` (even `kill()` + `start()`) keeps every
 * acknowledged write, as the relayer's durability claims assume.
 */
export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server abruptly (SIGKILL), then starts it again on the same port and data. */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(
  opts: { appendfsync?: "always" | "everysec"; port?: number } = {},
): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(path.join(tmpdir(), "meshgate-redis-"));
  let pid: number | undefined;

  const start = async () => {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        opts.appendfsync ?? "always",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
      ],
      { stdio: "ignore", detached: false },
    );
    await new Promise<void>((resolve, reject) => {
      child.once("error", (e) =>
        reject(new Error(`cannot start redis-server (${e.message}): install it, e.g. apt-get install -y redis-server`)),
      );
      child.once("spawn", () => resolve());
    });
    pid = child.pid;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({
        port,
        host: "127.0.0.1",
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const kill = async () => {
    if (pid === undefined) return;
    const target = pid;
    pid = undefined;
    try {
      process.kill(target, "SIGKILL");
    } catch {
      return;
    }
    // Wait until the port is closed.
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(target, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
