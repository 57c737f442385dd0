import { BigInt } from "@graphprotocol/graph-ts";

const BPS: i32 = 10000;

/** `amount * bps / 10_000`, rounded down like the contracts' `(amount * bps) / BPS`. */
export function bpsOf(amount: BigInt, bps: i32): BigInt {
  return amount.times(BigInt.fromI32(bps)).div(BigInt.fromI32(BPS));
}
