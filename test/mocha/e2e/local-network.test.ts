import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { deploymentSchema } from "../../../deploy/deployments.js";
import { devAccount } from "../../../scripts/cli/env.js";
import { BIN, freePort, run, start, type Spawned } from "../helpers/processes.js";

interface SubgraphAnswer {
  apis: { apiId: string; status: string; upstreamUrl: string; provider: { id: string } }[];
  nodes: { id: string; url: string }[];
  _meta: { block: { number: number } };
}

/**
 * The README's run command, end to end in real processes: a JSON-RPC chain, the deploy, the demo
 * API and its listing, a demo node and its relayer; then the CLI as a separate process against that chain.
 */
describe("e2e: local network + CLI", function () {
  this.timeout(120_000);
  let network: Spawned;
  let env: Record<string, string>;
  let demoUrl: string;

  before(async () => {
    const [rpcPort, demoPort, relayerPort, subgraphPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const dir = await mkdtemp(path.join(tmpdir(), "meshgate-e2e-"));
    env = {
      MESHGATE_RPC_PORT: String(rpcPort),
      MESHGATE_DEMO_API_PORT: String(demoPort),
      MESHGATE_RELAYER_PORT: String(relayerPort),
      MESHGATE_RELAYER_URL: `http://127.0.0.1:${relayerPort}`,
      MESHGATE_SUBGRAPH_PORT: String(subgraphPort),
      MESHGATE_DEPLOYMENT: path.join(dir, "localhost.json"),
      MESHGATE_RPC_URL: `http://127.0.0.1:${rpcPort}`,
    };
    demoUrl = `http://127.0.0.1:${demoPort}`;
    network = start(path.join(BIN, "hardhat"), ["run", "scripts/local-network.ts"], env);
    await network.waitFor(/Ctrl-C stops the network/, 90_000);
  });

  after(async () => {
    expect(await network.stop()).to.equal(0);
  });

  it("writes a valid deployment file for the chain it started", async () => {
    const deployment = deploymentSchema.parse(JSON.parse(await readFile(env.MESHGATE_DEPLOYMENT!, "utf8")));
    expect(deployment.chainId).to.equal(31337);
    expect(network.output()).to.include(deployment.contracts.ApiRegistry.address);
    expect(network.output()).to.include(deployment.contracts.NodeStaking.address);
  });

  it("serves the demo API that it listed", async () => {
    const res = await fetch(`${demoUrl}/v1/forecast?city=Lisbon`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { city: string; days: unknown[] };
    expect(body.city).to.equal("Lisbon");
    expect(body.days).to.have.length(3);
    expect((await fetch(`${demoUrl}/v1/forecast`)).status).to.equal(400);
  });

  it("makes a paid call through the demo node's relayer with the CLI", async () => {
    const tsx = path.join(BIN, "tsx");
    const token = /dUSDC \(dev\)\s+(0x[0-9a-fA-F]{40})/.exec(network.output())![1]!;
    const args = [
      "scripts/cli/main.ts",
      "voucher",
      "call",
      "1",
      "/v1/forecast?city=Lisbon",
      "--token",
      token,
      "--account",
      "3",
    ];
    for (const cumulative of ["1000", "2000"]) {
      const paid = await run(tsx, args, env);
      expect(paid.code, paid.stderr).to.equal(0);
      expect(paid.stdout).to.include(`HTTP 200  paid 1000 (cumulative ${cumulative})`).and.include('"city":"Lisbon"');
    }
    const metrics = await (await fetch(`${env.MESHGATE_RELAYER_URL}/metrics`)).text();
    expect(metrics).to.match(/meshgate_requests_total\{api="1",auth="voucher",status="200"\} 2/);
  });

  it("the CLI shows the demo API and node, and acts with a chosen dev account", async () => {
    const tsx = path.join(BIN, "tsx");
    const shown = await run(tsx, ["scripts/cli/main.ts", "api", "show", "1"], env);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.include(`upstream      ${demoUrl}`).and.include("0.001 USD");

    const paused = await run(tsx, ["scripts/cli/main.ts", "api", "pause", "1", "--account", "1"], env);
    expect(paused.code, paused.stderr).to.equal(0);
    expect(paused.stdout).to.match(/Paused API 1 in tx 0x[0-9a-f]{64}/);

    const refused = await run(tsx, ["scripts/cli/main.ts", "api", "resume", "1"], env);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include("NotApiProvider");

    const usage = await run(tsx, ["scripts/cli/main.ts", "node", "fly"], env);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('unknown command "node fly"');
  });

  it("serves the subgraph endpoint: the demo listing, its node and the CLI's pause, as The Graph answers", async () => {
    const url = /Subgraph\s+(http\S+)/.exec(network.output())![1]!;
    const rpc = await fetch(env.MESHGATE_RPC_URL!, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
    });
    const head = Number(((await rpc.json()) as { result: string }).result);
    const query = async () => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "{ apis { apiId status upstreamUrl provider { id } } nodes { id url } _meta { block { number } } }",
        }),
      });
      expect(res.status).to.equal(200);
      return ((await res.json()) as { data: SubgraphAnswer }).data;
    };
    // The runner polls the chain every 500 ms; wait until it has seen the CLI's pause.
    let data = await query();
    for (let i = 0; i < 50 && data._meta.block.number < head; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      data = await query();
    }
    expect(data.apis).to.deep.equal([
      { apiId: "1", status: "Paused", upstreamUrl: demoUrl, provider: { id: devAccount(1).address.toLowerCase() } },
    ]);
    expect(data.nodes).to.deep.equal([
      { id: devAccount(2).address.toLowerCase(), url: `http://127.0.0.1:${env.MESHGATE_RELAYER_PORT}` },
    ]);
  });

  it("the CLI reads the local DAOs' proposals and skips time on the local chain", async () => {
    const tsx = path.join(BIN, "tsx");
    const listed = await run(tsx, ["scripts/cli/main.ts", "gov", "list", "--dao", "protocol"], env);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.include("Protocol DAO: no proposals yet");

    const advanced = await run(tsx, ["scripts/cli/main.ts", "dev", "advance", "60"], env);
    expect(advanced.code, advanced.stderr).to.equal(0);
    expect(advanced.stdout).to.match(/^Advanced the chain by 60 s: block \d+ at \d{4}-/);
  });

  it("npm run deploy deploys again to the running chain, by name (localhost) or by URL + key (remote)", async () => {
    const hardhat = path.join(BIN, "hardhat");
    for (const [networkName, extra] of [
      ["localhost", {}],
      ["remote", { MESHGATE_DEPLOYER_KEY: devAccount(3).privateKey }],
    ] as const) {
      const file = `${env.MESHGATE_DEPLOYMENT}.${networkName}.json`;
      const deployed = await run(hardhat, ["run", "deploy/deploy.ts", "--network", networkName], {
        ...env,
        ...extra,
        MESHGATE_DEPLOYMENT: file,
      });
      expect(deployed.code, deployed.stderr).to.equal(0);
      const deployment = deploymentSchema.parse(JSON.parse(await readFile(file, "utf8")));
      expect(deployment.network).to.equal(networkName);
      expect(deployment.deployer).to.equal(networkName === "remote" ? devAccount(3).address : devAccount(0).address);
      const shown = await run(path.join(BIN, "tsx"), ["scripts/cli/main.ts", "node", "show"], {
        ...env,
        MESHGATE_DEPLOYMENT: file,
      });
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.stdout).to.include("has no node");
    }
  });

  it("the CLI names the fix when the chain is unreachable or the deployment is for another chain", async () => {
    const tsx = path.join(BIN, "tsx");
    const down = await run(tsx, ["scripts/cli/main.ts", "api", "show", "1"], {
      ...env,
      MESHGATE_RPC_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(down.code).to.equal(2);
    expect(down.stderr).to.include('start a local network with "npm start"');

    const noFile = await run(tsx, ["scripts/cli/main.ts", "api", "show", "1"], {
      ...env,
      MESHGATE_DEPLOYMENT: "/nonexistent.json",
    });
    expect(noFile.code).to.equal(2);
    expect(noFile.stderr).to.include("deploy first");
  });
});
