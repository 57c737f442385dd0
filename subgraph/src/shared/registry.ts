import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import { Api, Provider } from "../../generated/schema";
import { getProtocol } from "./protocol";

/** The Api of `apiId`. Every contract checks the API exists before emitting, so it is indexed. */
export function loadApi(apiId: BigInt): Api {
  const api = Api.load(apiId.toString());
  if (api == null) throw new Error("Api " + apiId.toString() + " is not indexed");
  return api;
}

/** A provider, created (and counted) the first time it owns an API. */
export function getProvider(address: Bytes, timestamp: BigInt): Provider {
  let provider = Provider.load(address);
  if (provider != null) return provider;
  provider = new Provider(address);
  provider.apiCount = 0;
  provider.revenue = BigInt.zero();
  provider.earningsClaimed = BigInt.zero();
  provider.createdAt = timestamp;
  const protocol = getProtocol();
  protocol.providerCount += 1;
  protocol.save();
  return provider;
}

/** IApiRegistry.ApiStatus (None never appears in events). */
export function apiStatusName(status: i32): string {
  if (status == 1) return "Active";
  if (status == 2) return "Paused";
  if (status == 3) return "Retired";
  if (status == 4) return "Delisted";
  throw new Error("unknown ApiStatus " + status.toString());
}
