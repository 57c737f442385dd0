import { Address, BigInt, Bytes } from "@graphprotocol/graph-ts";
import { Dao, Delegate, Delegation } from "../../generated/schema";
import { joinId } from "./ids";

// Votes sources of the three DAOs: MESH (Protocol), NodeStaking (Security) and
// DeveloperCredential (Developer) emit the same IVotes events; `dao` says whose votes moved.

/** A DAO, created with zero settings: the votes sources emit before the governors exist. */
export function getDao(name: string): Dao {
  let dao = Dao.load(name);
  if (dao != null) return dao;
  dao = new Dao(name);
  dao.name = name;
  dao.governor = Address.zero();
  dao.timelock = Address.zero();
  dao.votingDelay = BigInt.zero();
  dao.votingPeriod = BigInt.zero();
  dao.proposalThreshold = BigInt.zero();
  dao.quorumNumerator = BigInt.zero();
  dao.minQuorum = BigInt.zero();
  dao.proposalCount = 0;
  return dao;
}

export function delegateId(dao: string, account: Bytes): string {
  return joinId(dao, account.toHexString());
}

export function getDelegate(dao: string, account: Bytes): Delegate {
  const id = delegateId(dao, account);
  let delegate = Delegate.load(id);
  if (delegate != null) return delegate;
  // The first delegate of a DAO may come before its governor: make the reference resolve.
  if (Dao.load(dao) == null) getDao(dao).save();
  delegate = new Delegate(id);
  delegate.dao = dao;
  delegate.address = account;
  delegate.votes = BigInt.zero();
  delegate.delegatorCount = 0;
  return delegate;
}

/** DelegateChanged: `delegator` moved its votes from `from` to `to` (zero address: nobody). */
export function changeDelegate(dao: string, delegator: Address, from: Address, to: Address, timestamp: BigInt): void {
  const id = delegateId(dao, delegator);
  let delegation = Delegation.load(id);
  if (delegation == null) {
    delegation = new Delegation(id);
    delegation.dao = dao;
    delegation.delegator = delegator;
  }
  delegation.delegate = to == Address.zero() ? null : delegateId(dao, to);
  delegation.updatedAt = timestamp;
  delegation.save();

  if (from != Address.zero()) {
    const previous = getDelegate(dao, from);
    previous.delegatorCount = previous.delegatorCount - 1;
    previous.save();
  }
  if (to != Address.zero()) {
    const next = getDelegate(dao, to);
    next.delegatorCount = next.delegatorCount + 1;
    next.save();
  }
}

/** DelegateVotesChanged: the event carries the new total. */
export function setVotes(dao: string, account: Address, votes: BigInt): void {
  const delegate = getDelegate(dao, account);
  delegate.votes = votes;
  delegate.save();
}
