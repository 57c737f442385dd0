import { Address, ethereum } from "@graphprotocol/graph-ts";
import { Contract } from "../../generated/schema";

// Paused/Unpaused, TreasuryUpdated and AuthorityUpdated are shared by many contracts: each
// mapping passes its data source name, the Contract id.

function getContract(name: string, event: ethereum.Event): Contract {
  let contract = Contract.load(name);
  if (contract == null) {
    contract = new Contract(name);
    contract.paused = false;
  }
  contract.address = event.address;
  contract.updatedAt = event.block.timestamp;
  return contract;
}

export function setPaused(name: string, event: ethereum.Event, paused: boolean): void {
  const contract = getContract(name, event);
  contract.paused = paused;
  contract.save();
}

export function setTreasury(name: string, event: ethereum.Event, treasury: Address): void {
  const contract = getContract(name, event);
  contract.treasury = treasury;
  contract.save();
}

export function setAuthority(name: string, event: ethereum.Event, authority: Address): void {
  const contract = getContract(name, event);
  contract.authority = authority;
  contract.save();
}
