import { Address, BigInt, ByteArray, Bytes, crypto } from "@graphprotocol/graph-ts";
import { Api, Node } from "../../generated/schema";

// Reputation fields of Node and Api (written by the Reputation mapping), and the escrow's
// channel id, which names a rating.

/** Zeroed reputation and rewards fields of a new Node (unscored, unrated). */
export function initNodeReputation(node: Node): void {
  node.epochScore = 0;
  node.smoothedScore = 0;
  node.lowStreak = 0;
  node.ratingBps = 0;
  node.ratingWeight = BigInt.zero();
  node.ratingWeightedBps = BigInt.zero();
  node.ratingCount = 0;
}

/** Zeroed reputation fields of a new Api (unscored, unrated). */
export function initApiReputation(api: Api): void {
  api.epochScore = 0;
  api.smoothedScore = 0;
  api.ratingBps = 0;
  api.ratingWeight = BigInt.zero();
  api.ratingWeightedBps = BigInt.zero();
  api.ratingCount = 0;
}

/** Reputation._starsBps: 1 star = 0, 5 stars = 10,000. */
export function starsBps(stars: i32): BigInt {
  return BigInt.fromI32((stars - 1) * 2500);
}

/** Reputation.ratingOf: weightedBps / weight rounded down, 0 without weight. */
export function ratingBpsOf(weightedBps: BigInt, weight: BigInt): i32 {
  return weight.isZero() ? 0 : weightedBps.div(weight).toI32();
}

/** PaymentEscrow.channelId: keccak256(abi.encode(payer, node, apiId, token)). */
export function channelId(payer: Address, node: Address, apiId: BigInt, token: Address): Bytes {
  const data = new ByteArray(128);
  for (let i = 0; i < 20; i++) {
    data[12 + i] = payer[i];
    data[44 + i] = node[i];
    data[108 + i] = token[i];
  }
  // graph-ts BigInt: little-endian two's complement (a non-negative uint256 fits in 32 bytes).
  for (let i = 0; i < apiId.length && i < 32; i++) data[95 - i] = apiId[i];
  return Bytes.fromByteArray(crypto.keccak256(data));
}
