import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";

const SECONDS_PER_DAY: i64 = 86400;

/** Id of the record of one log: the transaction hash and the log's index (unique per log). */
export function eventId(event: ethereum.Event): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32());
}

/** Id of an entity keyed by several values, e.g. "Protocol-0xabc..." or "3-20412". */
export function joinId(a: string, b: string): string {
  return a + "-" + b;
}

/** UTC day of a block timestamp, in days since the Unix epoch (i64 math: no host call). */
export function dayOf(timestamp: BigInt): i32 {
  return <i32>(timestamp.toI64() / SECONDS_PER_DAY);
}

/** Unix time at which `day` starts. */
export function dayStart(day: i32): BigInt {
  return BigInt.fromI64(<i64>day * SECONDS_PER_DAY);
}
