import { expect } from "chai";
import { parseEther, ZeroHash, type ContractTransactionResponse } from "ethers";
import { ethers, networkHelpers, NodeType, DAY, region, type Fixture } from "./fixture.js";

/** NodeStaking.NodeStatus as returned by the contract (bigint). */
export const NodeStatus = { None: 0n, Active: 1n, Exiting: 2n } as const;

/** Deploy defaults (deploy/params.ts), as the fixture deploys them. */
export const MIN_STAKE = {
  [NodeType.Edge]: parseEther("1000"),
  [NodeType.Mobile]: parseEther("100"),
  [NodeType.Cloud]: parseEther("5000"),
  [NodeType.Validator]: parseEther("10000"),
} as const;
/** The same minimums as the constructor takes them, indexed by NodeType. */
export const MIN_STAKES: [bigint, bigint, bigint, bigint] = [
  MIN_STAKE[NodeType.Edge],
  MIN_STAKE[NodeType.Mobile],
  MIN_STAKE[NodeType.Cloud],
  MIN_STAKE[NodeType.Validator],
];
export const UNBONDING_PERIOD = BigInt(7 * DAY);
export const MIN_UNBONDING_PERIOD = BigInt(DAY);
export const MAX_UNBONDING_PERIOD = BigInt(90 * DAY);
export const MAX_URL_LENGTH = 256;

export const ROLE_PROTOCOL = 1n;
export const ROLE_SECURITY = 2n;

export const EU = region("eu-west-1");
export const US = region("us-east-1");
export const NODE_URL = "https://node-1.meshgate.example:8443";
export const NODE_URL_2 = "wss://node-2.meshgate.example/rpc";

export const E = (n: string | number) => parseEther(String(n));

type Operator = Fixture["operator"];

export interface RegisterOptions {
  nodeType?: number;
  region?: string;
  url?: string;
  capacity?: number;
  amount?: bigint;
}

/** Registers `op` with sensible defaults (an Edge node at the minimum stake). */
export function register(f: Fixture, op: Operator, o: RegisterOptions = {}): Promise<ContractTransactionResponse> {
  const nodeType = o.nodeType ?? NodeType.Edge;
  return f.staking
    .connect(op)
    .registerNode(
      nodeType,
      o.region ?? EU,
      o.url ?? NODE_URL,
      o.capacity ?? 1000,
      o.amount ?? MIN_STAKE[nodeType as 0],
    );
}

/** Timestamp of the block that mined `tx`. */
export async function minedAt(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("transaction was dropped");
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error("block not found");
  return BigInt(block.timestamp);
}

/** Makes the next block's timestamp `latest + delta` and returns it. */
export async function nextTimestamp(delta = 10): Promise<bigint> {
  const t = BigInt(await networkHelpers.time.latest()) + BigInt(delta);
  await networkHelpers.time.setNextBlockTimestamp(t);
  return t;
}

/** Mines an empty block so that every earlier timestamp is in the past for `getPast*`. */
export async function mineBlock(): Promise<void> {
  await networkHelpers.mine();
}

/** The documented solvency invariant: MESH held == totalStaked + totalUnbonding. */
export async function expectSolvent(f: Fixture): Promise<void> {
  const held = await f.token.balanceOf(await f.staking.getAddress());
  const staked = await f.staking.totalStaked();
  const unbonding = await f.staking.totalUnbonding();
  expect(held, "MESH balance of NodeStaking == totalStaked + totalUnbonding").to.equal(staked + unbonding);
}

/** Asserts the whole stored node of `op` is the empty struct (status None). */
export async function expectNoNode(f: Fixture, op: string): Promise<void> {
  const n = await f.staking.getNode(op);
  expect(n.stake).to.equal(0n);
  expect(n.unbonding).to.equal(0n);
  expect(n.unbondingReleaseAt).to.equal(0n);
  expect(n.registeredAt).to.equal(0n);
  expect(n.capacity).to.equal(0n);
  expect(n.nodeType).to.equal(0n);
  expect(n.status).to.equal(NodeStatus.None);
  expect(n.region).to.equal(ZeroHash);
  expect(n.url).to.equal("");
  expect(await f.staking.stakeOf(op)).to.equal(0n);
  expect(await f.staking.isActive(op)).to.equal(false);
}
