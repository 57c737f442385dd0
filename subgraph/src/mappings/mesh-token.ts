import { Address, BigInt } from "@graphprotocol/graph-ts";
import { DelegateChanged, DelegateVotesChanged, Transfer } from "../../generated/MeshToken/MeshToken";
import { TokenHolder } from "../../generated/schema";
import { changeDelegate, setVotes } from "../shared/governance";

/** MESH is the Protocol DAO's votes source. */
const DAO = "Protocol";

function addBalance(account: Address, delta: BigInt, timestamp: BigInt): void {
  let holder = TokenHolder.load(account);
  if (holder == null) {
    holder = new TokenHolder(account);
    holder.balance = BigInt.zero();
  }
  holder.balance = holder.balance.plus(delta);
  holder.updatedAt = timestamp;
  holder.save();
}

export function handleTransfer(event: Transfer): void {
  const p = event.params;
  // The zero address stands for minting and burning.
  if (p.from != Address.zero()) addBalance(p.from, p.value.neg(), event.block.timestamp);
  if (p.to != Address.zero()) addBalance(p.to, p.value, event.block.timestamp);
}

export function handleDelegateChanged(event: DelegateChanged): void {
  const p = event.params;
  changeDelegate(DAO, p.delegator, p.fromDelegate, p.toDelegate, event.block.timestamp);
}

export function handleDelegateVotesChanged(event: DelegateVotesChanged): void {
  setVotes(DAO, event.params.delegate, event.params.newVotes);
}
