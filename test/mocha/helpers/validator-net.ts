/**
 * Helpers for validator-mode relayer tests on a TestNetwork (helpers/relayer.ts): extra staked
 * nodes, an HTTP proxy in front of a node that can add delay or fail, chain-time epochs, and
 * polling.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeBytes32String, NonceManager, parseEther, Wallet } from "ethers";
import type { Relayer } from "../../../relayer/relayer.js";
import { forwardTo } from "./forward.js";
import { serve } from "./serve.js";
import type { TestNetwork } from "./relayer.js";

export const NodeType = { Edge: 0, Mobile: 1, Cloud: 2, Validator: 3 } as const;
export const SubjectKind = { Node: 0, Api: 1 } as const;

/** A fresh key with ETH for gas and `mesh` MESH (from the treasury); send through `signer` (nonces). */
export interface FundedKey {
  address: string;
  key: string;
  signer: NonceManager;
}

export async function fundedKey(net: TestNetwork, mesh = 0n): Promise<FundedKey> {
  const wallet = Wallet.createRandom().connect(net.provider);
  await (await net.accounts.deployer.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
  if (mesh > 0n) await (await net.protocol.token.connect(net.accounts.deployer).transfer(wallet.address, mesh)).wait();
  return { address: wallet.address, key: wallet.privateKey, signer: new NonceManager(wallet) };
}

/** Registers a staked node of `nodeType` for a fresh key. */
export async function registerNode(
  net: TestNetwork,
  opts: { nodeType: number; stake: bigint; url: string },
): Promise<FundedKey> {
  const k = await fundedKey(net, opts.stake);
  const staking = net.protocol.staking.connect(k.signer);
  await (await net.protocol.token.connect(k.signer).approve(await staking.getAddress(), opts.stake)).wait();
  await (await staking.registerNode(opts.nodeType, encodeBytes32String("local"), opts.url, 100, opts.stake)).wait();
  return k;
}

/** Points `operator`'s registered URL at `url`. */
export async function setNodeUrl(net: TestNetwork, operator: NonceManager | Wallet, url: string): Promise<void> {
  await (await net.protocol.staking.connect(operator).updateNode(encodeBytes32String("local"), url, 100)).wait();
}

/** The escrow's epoch clock and the chain's current epoch (from the latest block). */
export async function chainEpoch(net: TestNetwork): Promise<{ genesis: number; length: number; current: number }> {
  const [genesis, length, block] = await Promise.all([
    net.protocol.escrow.epochGenesis(),
    net.protocol.escrow.epochLength(),
    net.provider.getBlock("latest"),
  ]);
  const g = Number(genesis);
  const l = Number(length);
  return { genesis: g, length: l, current: Math.floor((block!.timestamp - g) / l) };
}

/** Mines a block at the first second (+1) of epoch `n`; chain time only moves forward. */
export async function advanceToEpoch(net: TestNetwork, n: number): Promise<void> {
  const { genesis, length, current } = await chainEpoch(net);
  if (current >= n) throw new Error(`already in epoch ${current}, not before ${n}`);
  await net.provider.send("evm_setNextBlockTimestamp", [genesis + n * length + 1]);
  await net.provider.send("evm_mine", []);
}

/** Mines a block `seconds` after the latest one. */
export async function advanceTime(net: TestNetwork, seconds: number): Promise<void> {
  const latest = await net.provider.getBlock("latest");
  await net.provider.send("evm_setNextBlockTimestamp", [latest!.timestamp + seconds]);
  await net.provider.send("evm_mine", []);
}

/** How many probes `validator` sent to `node` (its metrics). */
export async function probesTo(validator: Relayer, node: string, kind = "health"): Promise<number> {
  const metric = await validator.metrics.probes.get();
  return metric.values
    .filter((v) => v.labels.node === node.toLowerCase() && v.labels.kind === kind)
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * An HTTP proxy in front of a node: it can delay every answer (a slow node, as the probes see it
 * over real HTTP) or answer every request itself with an error status (a failing node).
 */
export interface FaultProxy {
  url: string;
  setTarget(url: string): void;
  setDelay(ms: number): void;
  /** Answer every request with this status (0: forward). */
  setFailStatus(status: number): void;
  requests(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(): Promise<FaultProxy> {
  let target: URL | undefined;
  let delayMs = 0;
  let failStatus = 0;
  let count = 0;
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    if (failStatus !== 0 || !target) {
      req.resume();
      res.writeHead(failStatus || 502, { "content-type": "text/plain" }).end("node failing");
      return;
    }
    forwardTo(target, req, res);
  };
  const served = await serve((req, res) => {
    count++;
    if (delayMs > 0) setTimeout(() => forward(req, res), delayMs);
    else forward(req, res);
  });
  return {
    url: served.url,
    setTarget: (url) => (target = new URL(url)),
    setDelay: (ms) => (delayMs = ms),
    setFailStatus: (status) => (failStatus = status),
    requests: () => count,
    close: served.close,
  };
}
