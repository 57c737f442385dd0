import { expect } from "chai";
import { JsonRpcProvider, type Log } from "ethers";
import { network } from "hardhat";
import { LogFollower } from "../../../relayer/chain/log-follower.js";
import { createLogger } from "../../../relayer/log.js";
import { devAccount } from "../../../scripts/cli/env.js";
import { MockERC20__factory, type MockERC20 } from "../../../types/ethers-contracts/index.js";
import { freePort } from "../helpers/processes.js";

/**
 * A real Hardhat chain over HTTP, reorganized with evm_snapshot / evm_revert: the blocks mined after the
 * snapshot are dropped and new ones take their numbers with other hashes, as a reorg looks to a client.
 */
describe("LogFollower: chain reorganizations (real chain over HTTP)", function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let provider: JsonRpcProvider;
  let token: MockERC20;
  let minter: ReturnType<typeof devAccount>;
  let start: number;

  before(async () => {
    server = await network.createServer("node", "127.0.0.1", await freePort());
    const { address, port } = await server.listen();
    provider = new JsonRpcProvider(`http://${address}:${port}`, undefined, { staticNetwork: true });
    minter = devAccount(0).connect(provider);
    token = await new MockERC20__factory(minter).deploy("Token", "TKN", 6);
    await token.waitForDeployment();
    start = await height();
  });
  after(async () => {
    provider.destroy();
    await server.close();
  });

  /** A follower of the token's Transfer logs, recording what it was told. */
  function follower() {
    const delivered: bigint[] = [];
    const reorgs: number[] = [];
    let failReorg = false;
    const f = new LogFollower(provider, {
      addresses: [token.target as string],
      fromBlock: start,
      confirmations: 0,
      pollMs: 60_000,
      log: createLogger("silent"),
      onLogs: (logs: Log[]) => {
        for (const l of logs) delivered.push(token.interface.parseLog(l)!.args.value as bigint);
      },
      onReorg: (fork) => {
        if (failReorg) throw new Error("owner cannot reload");
        reorgs.push(fork);
        // The owner drops what it derived; the logs after the fork are delivered again.
        delivered.length = 0;
      },
    });
    return { f, delivered, reorgs, failNextReorg: (v: boolean) => (failReorg = v) };
  }

  /** Mints in a block of its own; the nonce read past ethers' cache (a revert takes nonces back). */
  const mint = async (value: bigint) => {
    const nonce = Number(await provider.send("eth_getTransactionCount", [minter.address, "pending"]));
    return (await (await token.mint(minter.address, value, { nonce })).wait())!.blockNumber;
  };
  /** The chain's height, read past ethers' request cache. */
  const height = async () => Number(await provider.send("eth_blockNumber", []));
  const revert = async (snapshot: string) => expect(await provider.send("evm_revert", [snapshot])).to.equal(true);

  it("applies the logs of the canonical chain again from the fork, after telling the owner", async () => {
    const { f, delivered, reorgs } = follower();
    await mint(1n);
    await f.catchUp();
    expect(delivered).to.deep.equal([1n]);
    const fork = await height();

    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    await mint(2n);
    await mint(3n);
    await f.catchUp();
    expect(delivered).to.deep.equal([1n, 2n, 3n]);

    // Two other blocks replace them (and one more: the new chain is longer).
    await revert(snapshot);
    await mint(20n);
    await mint(30n);
    await mint(40n);
    await f.catchUp();
    expect(reorgs).to.deep.equal([fork]);
    expect(delivered).to.deep.equal([20n, 30n, 40n]);
    expect(f.syncedBlock).to.equal(await height());
  });

  it("follows a reorganization to a shorter chain", async () => {
    const { f, delivered, reorgs } = follower();
    await f.catchUp();
    const before = delivered.length;
    const fork = await height();
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    await mint(5n);
    await mint(6n);
    await f.catchUp();
    expect(delivered.length).to.equal(before + 2);
    await revert(snapshot);
    await f.catchUp();
    expect(reorgs).to.deep.equal([fork]);
    expect(delivered).to.deep.equal([]);
    expect(f.syncedBlock).to.equal(fork);
    await mint(7n);
    await f.catchUp();
    expect(delivered).to.deep.equal([7n]);
  });

  it("finds the same reorganization again when the owner failed to handle it", async () => {
    const { f, delivered, reorgs, failNextReorg } = follower();
    await f.catchUp();
    const fork = await height();
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    await mint(8n);
    await f.catchUp();
    await revert(snapshot);
    await mint(9n);
    failNextReorg(true);
    const failed = await f.catchUp().then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failed).to.equal("owner cannot reload");
    failNextReorg(false);
    await f.catchUp();
    expect(reorgs).to.deep.equal([fork]);
    expect(delivered).to.deep.equal([9n]);
  });

  it("never reports a reorganization on an ordinary chain", async () => {
    const { f, reorgs } = follower();
    for (let i = 0; i < 5; i++) {
      await mint(BigInt(100 + i));
      await f.catchUp();
    }
    expect(reorgs).to.deep.equal([]);
  });
});
