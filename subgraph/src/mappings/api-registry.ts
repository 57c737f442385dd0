import { Address, BigInt } from "@graphprotocol/graph-ts";
import {
  ApiCategoryUpdated,
  ApiDelisted,
  ApiMetadataUpdated,
  ApiPricingUpdated,
  ApiRegistered,
  ApiStatusChanged,
  ApiTransferred,
  ApiTransferStarted,
  ApiUpstreamUpdated,
  AuthorityUpdated,
  ListingBoundsUpdated,
  ListingFeePaid,
  Paused,
  TreasuryUpdated,
  Unpaused,
} from "../../generated/ApiRegistry/ApiRegistry";
import { Api } from "../../generated/schema";
import { setAuthority, setPaused, setTreasury } from "../shared/contracts";
import { getProtocol } from "../shared/protocol";
import { apiStatusName, getProvider, loadApi } from "../shared/registry";
import { initApiReputation } from "../shared/reputation";

const CONTRACT = "ApiRegistry";
const MODEL_PAY_PER_CALL = 1;
const MODEL_SUBSCRIPTION = 2;
const ACTIVE = 1;

export function handleApiRegistered(event: ApiRegistered): void {
  const p = event.params;
  const provider = getProvider(p.provider, event.block.timestamp);
  provider.apiCount = provider.apiCount + 1;
  provider.save();

  const protocol = getProtocol();
  protocol.apiCount = protocol.apiCount + 1;
  protocol.activeApiCount = protocol.activeApiCount + 1;
  protocol.save();

  const zero = BigInt.zero();
  const api = new Api(p.apiId.toString());
  api.apiId = p.apiId;
  api.provider = p.provider;
  api.status = "Active";
  api.metadataUri = p.metadataUri;
  api.metadataHash = p.metadataHash;
  api.upstreamUrl = p.upstreamUrl;
  api.category = p.category;
  api.tags = p.tags;
  // ApiPricingUpdated follows in the same transaction.
  api.priceUnit = "Token";
  api.paymentToken = Address.zero();
  api.models = 0;
  api.payPerCall = false;
  api.subscription = false;
  api.stakerDiscount = false;
  api.period = zero;
  api.pricePerCall = zero;
  api.pricePerPeriod = zero;
  api.listingFeePaid = zero;
  api.callsPaidValue = zero;
  api.redemptionCount = 0;
  api.subscriptionPaidValue = zero;
  api.providerRevenue = zero;
  api.nodeRevenue = zero;
  api.protocolRevenue = zero;
  api.channelCount = 0;
  api.subscriptionCount = 0;
  initApiReputation(api);
  api.createdAt = event.block.timestamp;
  api.createdAtBlock = event.block.number;
  api.updatedAt = event.block.timestamp;
  api.save();
}

export function handleApiPricingUpdated(event: ApiPricingUpdated): void {
  const p = event.params;
  const api = loadApi(p.apiId);
  api.priceUnit = p.unit == 1 ? "Usd" : "Token";
  api.paymentToken = p.paymentToken;
  api.models = p.models;
  api.payPerCall = (p.models & MODEL_PAY_PER_CALL) != 0;
  api.subscription = (p.models & MODEL_SUBSCRIPTION) != 0;
  api.stakerDiscount = p.stakerDiscount;
  api.period = p.period;
  api.pricePerCall = p.pricePerCall;
  api.pricePerPeriod = p.pricePerPeriod;
  api.updatedAt = event.block.timestamp;
  api.save();
}

export function handleApiMetadataUpdated(event: ApiMetadataUpdated): void {
  const api = loadApi(event.params.apiId);
  api.metadataUri = event.params.metadataUri;
  api.metadataHash = event.params.metadataHash;
  api.updatedAt = event.block.timestamp;
  api.save();
}

export function handleApiUpstreamUpdated(event: ApiUpstreamUpdated): void {
  const api = loadApi(event.params.apiId);
  api.upstreamUrl = event.params.upstreamUrl;
  api.updatedAt = event.block.timestamp;
  api.save();
}

export function handleApiCategoryUpdated(event: ApiCategoryUpdated): void {
  const api = loadApi(event.params.apiId);
  api.category = event.params.category;
  api.tags = event.params.tags;
  api.updatedAt = event.block.timestamp;
  api.save();
}

export function handleApiStatusChanged(event: ApiStatusChanged): void {
  const p = event.params;
  const api = loadApi(p.apiId);
  api.status = apiStatusName(p.current);
  api.updatedAt = event.block.timestamp;
  api.save();

  const protocol = getProtocol();
  if (p.previous == ACTIVE) protocol.activeApiCount = protocol.activeApiCount - 1;
  if (p.current == ACTIVE) protocol.activeApiCount = protocol.activeApiCount + 1;
  protocol.save();
}

export function handleApiTransferStarted(event: ApiTransferStarted): void {
  const pending = event.params.pendingProvider;
  const api = loadApi(event.params.apiId);
  api.pendingProvider = pending == Address.zero() ? null : pending;
  api.save();
}

export function handleApiTransferred(event: ApiTransferred): void {
  const p = event.params;
  const previous = getProvider(p.previousProvider, event.block.timestamp);
  previous.apiCount = previous.apiCount - 1;
  previous.save();
  const next = getProvider(p.newProvider, event.block.timestamp);
  next.apiCount = next.apiCount + 1;
  next.save();

  const api = loadApi(p.apiId);
  api.provider = p.newProvider;
  api.pendingProvider = null;
  api.updatedAt = event.block.timestamp;
  api.save();
}

export function handleApiDelisted(event: ApiDelisted): void {
  const api = loadApi(event.params.apiId);
  api.delistReason = event.params.reason;
  api.save();
}

export function handleListingFeePaid(event: ListingFeePaid): void {
  const api = loadApi(event.params.apiId);
  api.listingFeePaid = api.listingFeePaid.plus(event.params.amount);
  api.save();

  const protocol = getProtocol();
  protocol.listingFeesPaid = protocol.listingFeesPaid.plus(event.params.amount);
  protocol.save();
}

export function handleListingBoundsUpdated(event: ListingBoundsUpdated): void {
  const p = event.params;
  const protocol = getProtocol();
  protocol.maxPricePerCall = p.maxPricePerCall;
  protocol.maxPricePerPeriod = p.maxPricePerPeriod;
  protocol.minPeriod = p.minPeriod;
  protocol.maxPeriod = p.maxPeriod;
  protocol.maxMetadataLength = p.maxMetadataLength;
  protocol.listingFee = p.listingFee;
  protocol.save();
}

export function handleTreasuryUpdated(event: TreasuryUpdated): void {
  setTreasury(CONTRACT, event, event.params.treasury);
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
