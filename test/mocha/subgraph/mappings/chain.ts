/**
 * Helpers for the mapping tests: send transactions on an IndexedChain, move its clock, deploy
 * mock tokens, and read entities back through the runner's GraphQL endpoint.
 */
import {
  encodeBytes32String,
  id,
  parseUnits,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Log,
  type NonceManager,
  type Signer,
} from "ethers";
import {
  MockAggregatorV3__factory,
  MockERC20__factory,
  type MockAggregatorV3,
  type MockERC20,
} from "../../../../types/ethers-contracts/index.js";
import type { IndexedChain } from "../../helpers/subgraph.js";

export const MODEL_PAY_PER_CALL = 1;
export const MODEL_SUBSCRIPTION = 2;
export const PriceUnit = { Token: 0, Usd: 1 } as const;
export const NodeType = { Edge: 0, Mobile: 1, Cloud: 2, Validator: 3 } as const;
export const NODE_TYPES = ["Edge", "Mobile", "Cloud", "Validator"] as const;
export const ROLES = { ADMIN: 0n, PROTOCOL: 1n, SECURITY: 2n, DEVELOPER: 3n, GUARDIAN: 4n } as const;
export const DAY = 86_400;
export const BPS = 10_000n;

export const bytes32 = (text: string) => encodeBytes32String(text);
export const lower = (address: string) => address.toLowerCase();

/** Dev accounts by index, as a tuple of nonce-managed signers. */
export function accounts<const N extends readonly number[]>(
  chain: IndexedChain,
  ...indices: N
): { -readonly [K in keyof N]: NonceManager } {
  return indices.map((i) => chain.account(i)) as unknown as { -readonly [K in keyof N]: NonceManager };
}

/** The addresses of signers, as a tuple. */
export async function addressesOf<const T extends readonly Signer[]>(
  ...signers: T
): Promise<{ -readonly [K in keyof T]: string }> {
  return (await Promise.all(signers.map((s) => s.getAddress()))) as unknown as { -readonly [K in keyof T]: string };
}

/** Waits for a transaction and returns its receipt (fails on a dropped or reverted one). */
export async function send(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction was dropped");
  return receipt;
}

/**
 * Sends independent transactions at once (different accounts, or one NonceManager's next nonces
 * whose gas estimates do not depend on each other) and waits for all of them, in order.
 */
export async function sendAll(...txs: Promise<ContractTransactionResponse>[]): Promise<ContractTransactionReceipt[]> {
  return Promise.all(txs.map(send));
}

/** Moves the chain's clock forward and mines a block at the new time. */
export async function advance(chain: IndexedChain, seconds: number | bigint): Promise<void> {
  await chain.provider.send("evm_increaseTime", [Number(seconds)]);
  await chain.provider.send("evm_mine", []);
}

/** Moves the clock so that the next block is at or after `timestamp`. */
export async function advanceTo(chain: IndexedChain, timestamp: bigint): Promise<void> {
  // A raw request: ethers caches getBlock("latest") for 250 ms, which would overshoot when two
  // moves follow each other quickly.
  const head = (await chain.provider.send("eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
  const now = BigInt(head.timestamp);
  if (timestamp > now) await advance(chain, timestamp - now);
}

/** Timestamp of the block a receipt is in. */
export async function timeOf(chain: IndexedChain, receipt: ContractTransactionReceipt): Promise<bigint> {
  const block = await chain.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error(`block ${receipt.blockNumber} not found`);
  return BigInt(block.timestamp);
}

/** UTC day (days since the Unix epoch) of a timestamp, as the subgraph buckets it. */
export const dayOf = (timestamp: bigint) => Number(timestamp / BigInt(DAY));

/** The id of an event record: transaction hash ++ log index (graph-ts ByteArray.fromI32: 4 bytes, little-endian). */
export function eventId(receipt: ContractTransactionReceipt, logIndex: number): string {
  const le = [0, 1, 2, 3].map((i) => ((logIndex >> (8 * i)) & 0xff).toString(16).padStart(2, "0")).join("");
  return `${receipt.hash}${le}`;
}

/** The log of `receipt` emitted by `address` with the event `signature`, by position among those. */
export function logOf(receipt: ContractTransactionReceipt, address: string, signature: string, nth = 0): Log {
  const topic = id(signature);
  const logs = receipt.logs.filter((l) => lower(l.address) === lower(address) && l.topics[0] === topic);
  const log = logs[nth];
  if (log === undefined) throw new Error(`no ${signature} #${nth} from ${address} in ${receipt.hash}`);
  return log;
}

/** A 6-decimal mock stablecoin, freely mintable. */
export async function deployToken(deployer: Signer, symbol = "USDC", decimals = 6): Promise<MockERC20> {
  const token = await new MockERC20__factory(deployer).deploy(`${symbol} mock`, symbol, decimals);
  await token.waitForDeployment();
  return token;
}

/** A Chainlink-style USD feed at $1 (8 decimals). */
export async function deployFeed(deployer: Signer): Promise<MockAggregatorV3> {
  const feed = await new MockAggregatorV3__factory(deployer).deploy(8, 100_000_000n);
  await feed.waitForDeployment();
  return feed;
}

export const USDC = (amount: string | number) => parseUnits(String(amount), 6);

/** A valid ApiInput priced in `token` (0.001 per call, 10 per 30 days; both models). */
export function apiInput(token: string, overrides: Record<string, unknown> = {}) {
  const { pricing, ...rest } = overrides as { pricing?: Record<string, unknown> };
  return {
    metadataUri: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    metadataHash: id("openapi: 3.1.0"),
    upstreamUrl: "https://api.example.com/v1",
    category: bytes32("weather"),
    tags: [bytes32("forecast"), bytes32("geo")],
    ...rest,
    pricing: {
      unit: PriceUnit.Token,
      paymentToken: token,
      models: MODEL_PAY_PER_CALL | MODEL_SUBSCRIPTION,
      stakerDiscount: false,
      period: 30 * DAY,
      pricePerCall: USDC("0.001"),
      pricePerPeriod: USDC(10),
      ...pricing,
    },
  };
}

/**
 * One entity by id (null if absent): `fields` is a GraphQL selection set body. With `block`,
 * as it was after that block (a time-travel query).
 */
export async function entity<T = Record<string, unknown>>(
  chain: IndexedChain,
  type: string,
  entityId: string,
  fields: string,
  block?: number,
): Promise<T | null> {
  const field = type.charAt(0).toLowerCase() + type.slice(1);
  const at = block === undefined ? "" : `, block: { number: ${block} }`;
  const data = await chain.query<Record<string, T | null>>(`query($id: ID!) { ${field}(id: $id${at}) { ${fields} } }`, {
    id: entityId,
  });
  return data[field] ?? null;
}

/** The Protocol singleton's requested fields (after `block`, if given). */
export async function protocolEntity<T = Record<string, unknown>>(
  chain: IndexedChain,
  fields: string,
  block?: number,
): Promise<T> {
  const found = await entity<T>(chain, "Protocol", "1", fields, block);
  if (found === null) throw new Error("no Protocol entity");
  return found;
}

/** A Contract entity (id: data source name). */
export async function contractEntity(chain: IndexedChain, name: string, block?: number) {
  return entity<{ address: string; paused: boolean; treasury: string | null; authority: string | null }>(
    chain,
    "Contract",
    name,
    "address paused treasury authority",
    block,
  );
}
