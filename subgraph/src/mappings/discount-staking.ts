import { BigInt, Bytes, store } from "@graphprotocol/graph-ts";
import {
  AuthorityUpdated,
  CooldownUpdated,
  Paused,
  Staked,
  TiersUpdated,
  Unpaused,
  UnstakeRequested,
  Withdrawn,
} from "../../generated/DiscountStaking/DiscountStaking";
import { DiscountStaker, DiscountTier } from "../../generated/schema";
import { setAuthority, setPaused } from "../shared/contracts";
import { getProtocol } from "../shared/protocol";

const CONTRACT = "DiscountStaking";

/** A staker, created (and counted) on its first stake. */
function getStaker(account: Bytes): DiscountStaker {
  let staker = DiscountStaker.load(account);
  if (staker != null) return staker;
  staker = new DiscountStaker(account);
  staker.staked = BigInt.zero();
  staker.cooling = BigInt.zero();
  staker.totalStaked = BigInt.zero();
  staker.totalWithdrawn = BigInt.zero();
  const protocol = getProtocol();
  protocol.discountStakerCount = protocol.discountStakerCount + 1;
  protocol.save();
  return staker;
}

function loadStaker(account: Bytes): DiscountStaker {
  const staker = DiscountStaker.load(account);
  if (staker == null) throw new Error("DiscountStaker " + account.toHexString() + " is not indexed");
  return staker;
}

export function handleStaked(event: Staked): void {
  const p = event.params;
  const staker = getStaker(p.account);
  staker.staked = p.totalStake;
  staker.totalStaked = staker.totalStaked.plus(p.amount);
  staker.updatedAt = event.block.timestamp;
  staker.save();

  const protocol = getProtocol();
  protocol.discountTotalStaked = protocol.discountTotalStaked.plus(p.amount);
  protocol.save();
}

export function handleUnstakeRequested(event: UnstakeRequested): void {
  const p = event.params;
  const staker = loadStaker(p.account);
  staker.staked = staker.staked.minus(p.amount);
  staker.cooling = p.totalCooling;
  staker.cooldownEndsAt = p.cooldownEndsAt;
  staker.updatedAt = event.block.timestamp;
  staker.save();

  const protocol = getProtocol();
  protocol.discountTotalStaked = protocol.discountTotalStaked.minus(p.amount);
  protocol.discountTotalCooling = protocol.discountTotalCooling.plus(p.amount);
  protocol.save();
}

export function handleWithdrawn(event: Withdrawn): void {
  const p = event.params;
  const staker = loadStaker(p.account);
  staker.cooling = BigInt.zero();
  staker.cooldownEndsAt = null;
  staker.totalWithdrawn = staker.totalWithdrawn.plus(p.amount);
  staker.updatedAt = event.block.timestamp;
  staker.save();

  const protocol = getProtocol();
  protocol.discountTotalCooling = protocol.discountTotalCooling.minus(p.amount);
  protocol.save();
}

/** The event carries the whole new list: overwrite tiers 0..n-1 and remove the rest. */
export function handleTiersUpdated(event: TiersUpdated): void {
  const tiers = event.params.tiers;
  const protocol = getProtocol();
  for (let i = 0; i < tiers.length; i++) {
    const tier = new DiscountTier(i.toString());
    tier.index = i;
    tier.minStake = tiers[i].minStake;
    tier.discountBps = tiers[i].discountBps;
    tier.save();
  }
  for (let i = tiers.length; i < protocol.discountTierCount; i++) {
    store.remove("DiscountTier", i.toString());
  }
  protocol.discountTierCount = tiers.length;
  protocol.save();
}

export function handleCooldownUpdated(event: CooldownUpdated): void {
  const protocol = getProtocol();
  protocol.discountCooldown = event.params.cooldown;
  protocol.save();
}

export function handlePaused(event: Paused): void {
  setPaused(CONTRACT, event, true);
}

export function handleUnpaused(event: Unpaused): void {
  setPaused(CONTRACT, event, false);
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
