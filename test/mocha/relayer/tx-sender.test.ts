import { expect } from "chai";
import { JsonRpcProvider, Network, Wallet, keccak256, parseUnits } from "ethers";
import { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";
import { Redis } from "ioredis";
import { pino } from "pino";
import {
  TxReverted,
  TxSender,
  TxWouldRevert,
  type PendingTx,
  type TxRequest,
  type TxSenderOptions,
} from "../../../relayer/settlement/tx-sender.js";
import { devAccount } from "../../../scripts/cli/env.js";
import { startRedis, type RedisServer } from "../../../scripts/dev/redis-server.js";
import { MockERC20__factory, type MockERC20 } from "../../../types/ethers-contracts/index.js";
import { startRpcProxy } from "../helpers/rpc-proxy.js";
import { sleep } from "../helpers/wait.js";

const KEY = "mg:tx:pending";
const CHAIN_ID = 31337n;

interface LogLine {
  level: number;
  msg: string;
  hash?: string;
}

/**
 * The operator's sender against a real Hardhat chain over HTTP (automine on unless a test turns
 * it off to keep a transaction pending) and a real Redis.
 */
describe("TxSender", function () {
  this.timeout(30_000);
  let chain: JsonRpcServer;
  let rpcUrl: string;
  let provider: JsonRpcProvider;
  let wallet: Wallet;
  let redisServer: RedisServer;
  let redis: Redis;
  let token: MockERC20;
  let tokenAddress: string;
  const logs: LogLine[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });

  const connect = (url: string) => new JsonRpcProvider(url, Network.from(CHAIN_ID), { staticNetwork: true });
  const sender = (opts: Partial<TxSenderOptions> = {}) =>
    new TxSender({ wallet, redis, maxFeePerGasCap: parseUnits("100", "gwei"), pollMs: 20, log, ...opts });
  const mint = (amount: bigint): TxRequest => ({
    to: tokenAddress,
    data: token.interface.encodeFunctionData("mint", [wallet.address, amount]),
  });
  const nonce = async (tag: "latest" | "pending") =>
    Number(await provider.send("eth_getTransactionCount", [wallet.address, tag]));
  const stored = async () => {
    const raw = await redis.get(KEY);
    return raw === null ? null : (JSON.parse(raw) as PendingTx);
  };
  const until = async <T>(what: string, f: () => Promise<T | null | undefined | false>): Promise<T> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await f();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };

  /**
   * What a send that crashed leaves behind: its record, saved before the broadcast, and (when
   * `broadcast`) the transaction on the network.
   */
  async function crashedSend(label: string, tx: TxRequest, broadcast: boolean): Promise<PendingTx> {
    const fees = await provider.getFeeData();
    const record: PendingTx = {
      label,
      from: wallet.address,
      chainId: CHAIN_ID.toString(),
      nonce: await nonce("pending"),
      to: tx.to,
      data: tx.data,
      gasLimit: "100000",
      broadcasts: [],
    };
    const signed = await wallet.signTransaction({
      type: 2,
      chainId: CHAIN_ID,
      nonce: record.nonce,
      to: tx.to,
      data: tx.data,
      value: 0n,
      gasLimit: 100_000n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    record.broadcasts.push({
      hash: keccak256(signed),
      maxFeePerGas: String(fees.maxFeePerGas),
      maxPriorityFeePerGas: String(fees.maxPriorityFeePerGas),
      at: Date.now(),
    });
    await redis.set(KEY, JSON.stringify(record));
    if (broadcast) await provider.broadcastTransaction(signed);
    return record;
  }

  before(async () => {
    chain = await network.createServer("node", "127.0.0.1", 0);
    const { address, port } = await chain.listen();
    rpcUrl = `http://${address}:${port}`;
    provider = connect(rpcUrl);
    wallet = new Wallet(devAccount(7).privateKey, provider);
    token = await new MockERC20__factory(new Wallet(devAccount(8).privateKey, provider)).deploy("Test", "TST", 6);
    await token.waitForDeployment();
    tokenAddress = await token.getAddress();
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
  });

  afterEach(async () => {
    // Whatever a failed test left pending is mined, so the next test starts from a settled nonce.
    await provider.send("evm_setAutomine", [true]);
    await provider.send("evm_mine", []);
    await redis.del(KEY);
    logs.length = 0;
  });

  after(async () => {
    provider.destroy();
    redis.disconnect();
    await redisServer.stop();
    await chain.close();
  });

  it("refuses a wallet without a JSON-RPC provider and a bump nodes would refuse", () => {
    expect(() => sender({ wallet: new Wallet(wallet.privateKey) })).to.throw(TypeError);
    expect(() => sender({ bumpPercent: 5 })).to.throw(RangeError);
  });

  it("sends an EIP-1559 transaction at the next nonce and clears its record", async () => {
    const before = await nonce("latest");
    const receipt = await sender().send("mint", mint(5n));
    expect(receipt.status).to.equal(1);
    const tx = await provider.getTransaction(receipt.hash);
    expect(tx?.type).to.equal(2);
    expect(tx?.nonce).to.equal(before);
    expect(await nonce("latest")).to.equal(before + 1);
    expect(await stored()).to.equal(null);
    expect(logs.map((l) => l.msg)).to.deep.equal(["transaction sent", "transaction mined"]);
  });

  it("waits for the configured confirmations", async () => {
    let settled = false;
    const sending = sender({ confirmations: 3 })
      .send("mint", mint(15n))
      .finally(() => (settled = true));
    const record = await until("the receipt", async () => {
      const r = await stored();
      return r && (await provider.getTransactionReceipt(r.broadcasts[0]!.hash)) && r;
    });
    await provider.send("evm_mine", []);
    await sleep(200);
    expect(settled, "resolved with 2 confirmations").to.be.false;
    expect(await stored()).to.deep.equal(record);
    await provider.send("evm_mine", []);
    expect((await sending).hash).to.equal(record.broadcasts[0]!.hash);
  });

  it("replaces a transaction not mined in time with higher fees; only one version is mined", async () => {
    await provider.send("evm_setAutomine", [false]);
    const before = await nonce("latest");
    const sending = sender({ bumpAfterMs: 300 }).send("mint", mint(6n));
    // The record is saved before each version is broadcast: wait for the replacement's log, which
    // follows its broadcast, or the block below may be built before the node has it.
    const record = await until("a replacement", async () => {
      const r = await stored();
      const replaced = logs.some((l) => l.msg === "transaction replaced with higher fees");
      return replaced && r && r.broadcasts.length >= 2 && r;
    });
    const versions = record.broadcasts;
    for (let i = 1; i < versions.length; i++) {
      const [prev, next] = [versions[i - 1]!, versions[i]!];
      expect(next.hash).to.not.equal(prev.hash);
      // +15% on both fees, rounded up (nodes need +10%).
      expect(BigInt(next.maxFeePerGas) * 100n).to.be.gte(BigInt(prev.maxFeePerGas) * 115n);
      expect(BigInt(next.maxPriorityFeePerGas) * 100n).to.be.gte(BigInt(prev.maxPriorityFeePerGas) * 115n);
    }
    expect(record.nonce).to.equal(before);

    await provider.send("evm_mine", []);
    const receipt = await sending;
    // The newest version the node had when the block was built; every other version is gone.
    const sent = logs.filter((l) => l.hash && l.msg !== "transaction mined").map((l) => l.hash);
    expect(sent.slice(1)).to.include(receipt.hash);
    for (const hash of sent.filter((h) => h !== receipt.hash)) {
      expect(await provider.getTransactionReceipt(hash!)).to.equal(null);
    }
    const block = await provider.send("eth_getBlockByNumber", [`0x${receipt.blockNumber.toString(16)}`, false]);
    expect(block.transactions).to.deep.equal([receipt.hash]);
    expect(await nonce("latest")).to.equal(before + 1);
    expect(await stored()).to.equal(null);
  });

  it("stops bumping at the fee cap with one warning and keeps waiting", async () => {
    await provider.send("evm_setAutomine", [false]);
    const fees = await provider.getFeeData();
    // Room for one +15% bump, not for a second one of at least +10%.
    const cap = (fees.maxFeePerGas! * 120n) / 100n;
    const sending = sender({ bumpAfterMs: 100, maxFeePerGasCap: cap }).send("mint", mint(7n));
    await until("the cap warning", async () => logs.some((l) => l.msg.startsWith("not mined and the fee cap")));
    await sleep(300);
    const record = (await stored())!;
    expect(record.broadcasts.map((b) => BigInt(b.maxFeePerGas))).to.deep.equal([
      fees.maxFeePerGas!,
      (fees.maxFeePerGas! * 115n + 99n) / 100n,
    ]);
    expect(logs.filter((l) => l.level === 40)).to.have.length(1);

    await provider.send("evm_mine", []);
    expect((await sending).hash).to.equal(record.broadcasts[1]!.hash);
  });

  describe("after a crash", () => {
    it("a send retried after its broadcast was lost goes out at the recorded nonce", async () => {
      const record = await crashedSend("mint", mint(8n), false);
      const receipt = await sender().send("mint", mint(8n));
      // Same nonce, same fees: the very transaction the crashed process had signed.
      expect(receipt.hash).to.equal(record.broadcasts[0]!.hash);
      expect(await nonce("latest")).to.equal(record.nonce + 1);
      expect(await stored()).to.equal(null);
    });

    it("a send retried after it was mined returns the receipt without sending again", async () => {
      const record = await crashedSend("mint", mint(9n), true);
      const receipt = await sender().send("mint", mint(9n));
      expect(receipt.hash).to.equal(record.broadcasts[0]!.hash);
      expect(await nonce("latest")).to.equal(record.nonce + 1);
      expect(await stored()).to.equal(null);
    });

    it("recover() finishes the pending transaction; with none it resolves to undefined", async () => {
      const record = await crashedSend("mint", mint(10n), false);
      expect((await sender().recover())?.hash).to.equal(record.broadcasts[0]!.hash);
      expect(await stored()).to.equal(null);
      expect(await sender().recover()).to.equal(undefined);
      expect(await nonce("latest")).to.equal(record.nonce + 1);
    });

    it("another job's pending transaction is finished first, then this one takes the next nonce", async () => {
      const earlier = await crashedSend("mint", mint(11n), false);
      const receipt = await sender().send("mint", mint(12n));
      expect((await provider.getTransactionReceipt(earlier.broadcasts[0]!.hash))?.status).to.equal(1);
      expect((await provider.getTransaction(receipt.hash))?.nonce).to.equal(earlier.nonce + 1);
      expect(await nonce("latest")).to.equal(earlier.nonce + 2);
    });

    it("a nonce taken by another transaction drops the record; the send then uses the next nonce", async () => {
      const record = await crashedSend("mint", mint(13n), false);
      // Something else signs with the operator key at the recorded nonce.
      await (await wallet.sendTransaction({ to: wallet.address, nonce: record.nonce })).wait();
      const receipt = await sender().send("mint", mint(13n));
      expect((await provider.getTransaction(receipt.hash))?.nonce).to.equal(record.nonce + 1);
      expect(await provider.getTransactionReceipt(record.broadcasts[0]!.hash)).to.equal(null);
      expect(logs.some((l) => l.msg === "the nonce was used by another transaction; dropped")).to.be.true;
    });
  });

  it("an RPC outage while waiting throws with the record kept; the retry finishes the same transaction", async () => {
    const proxy = await startRpcProxy(rpcUrl);
    const proxied = connect(proxy.url);
    try {
      await provider.send("evm_setAutomine", [false]);
      const before = await nonce("latest");
      const flaky = sender({ wallet: new Wallet(wallet.privateKey, proxied), bumpAfterMs: 60_000 });
      // Settled into a value at once: the rejection comes while the test is still busy.
      const outcome = flaky.send("mint", mint(14n)).then(
        () => new Error("resolved through an RPC outage"),
        (e: unknown) => e,
      );
      const record = await until("the broadcast", async () => {
        const r = await stored();
        return r && (await provider.send("eth_getTransactionByHash", [r.broadcasts[0]!.hash])) && r;
      });
      proxy.setDown(true);
      await provider.send("evm_mine", []);
      const error = await outcome;
      expect(String(error)).to.match(/503|server/i);
      expect(proxy.refused()).to.be.greaterThan(0);
      expect(await stored()).to.deep.equal(record);

      proxy.setDown(false);
      // The job's retry comes after a backoff; meanwhile ethers still shares the failed requests (250 ms).
      await sleep(300);
      const receipt = await flaky.send("mint", mint(14n));
      expect(receipt.hash).to.equal(record.broadcasts[0]!.hash);
      expect(await nonce("latest")).to.equal(before + 1);
      expect(await stored()).to.equal(null);
    } finally {
      proxied.destroy();
      await proxy.close();
    }
  });

  describe("reverts", () => {
    const tooMuch = (): TxRequest => ({
      to: tokenAddress,
      data: token.interface.encodeFunctionData("transfer", [tokenAddress, 10n ** 30n]),
    });

    it("a call that fails gas estimation throws TxWouldRevert with the decoded error; nothing is sent", async () => {
      const before = await nonce("latest");
      const balance = await token.balanceOf(wallet.address);
      const error = await sender({ errors: [token.interface] })
        .send("transfer", tooMuch())
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TxWouldRevert);
      expect((error as TxWouldRevert).reason).to.equal(
        `ERC20InsufficientBalance(${wallet.address}, ${balance}, ${10n ** 30n})`,
      );
      // Without the contract's interface only the raw data (the error's selector first) is known.
      const raw = (await sender()
        .send("transfer", tooMuch())
        .catch((e: unknown) => e)) as TxWouldRevert;
      expect(raw.reason).to.equal(undefined);
      expect(raw.data?.slice(0, 10)).to.equal(token.interface.getError("ERC20InsufficientBalance")!.selector);
      expect(await nonce("latest")).to.equal(before);
      expect(await stored()).to.equal(null);
    });

    it("the same call sent again right after it was mined is estimated afresh, not from ethers' 250 ms cache", async () => {
      await sender().send("mint", mint(5n));
      const all: TxRequest = {
        to: tokenAddress,
        data: token.interface.encodeFunctionData("transfer", [tokenAddress, await token.balanceOf(wallet.address)]),
      };
      const s = sender();
      await s.send("transfer", all);
      const before = await nonce("latest");
      // Within 250 ms of the first estimate: a shared (cached) estimate would let it go out and revert.
      const error = await s.send("transfer", all).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TxWouldRevert);
      expect(await nonce("latest")).to.equal(before);
    });

    it("a mined transaction that reverts throws TxReverted with its hash; its nonce is spent once", async () => {
      const before = await nonce("latest");
      // A given gas limit skips estimation, so the revert happens on chain.
      const error = await sender()
        .send("transfer", { ...tooMuch(), gasLimit: 100_000n })
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TxReverted);
      const { hash } = error as TxReverted;
      expect((await provider.getTransactionReceipt(hash))?.status).to.equal(0);
      expect(await nonce("latest")).to.equal(before + 1);
      expect(await stored()).to.equal(null);
    });
  });
});
