import { AccessConsumed } from "../../generated/AccessVerifier/AccessVerifier";
import { AccessConsumption } from "../../generated/schema";
import { eventId } from "../shared/ids";

export function handleAccessConsumed(event: AccessConsumed): void {
  const p = event.params;
  const consumption = new AccessConsumption(eventId(event));
  // AccessVerifier only accepts proofs for APIs that have a group.
  consumption.group = p.apiId.toString();
  consumption.apiId = p.apiId;
  consumption.epoch = p.epoch;
  consumption.nullifier = p.nullifier;
  consumption.x = p.x;
  consumption.y = p.y;
  consumption.consumer = p.consumer;
  consumption.timestamp = event.block.timestamp;
  consumption.blockNumber = event.block.number;
  consumption.transactionHash = event.transaction.hash;
  consumption.save();
}
