import { AuthorityUpdated, FeedRemoved, FeedSet } from "../../generated/UsdPriceOracle/UsdPriceOracle";
import { PriceFeed } from "../../generated/schema";
import { setAuthority } from "../shared/contracts";
import { getPaymentToken } from "../shared/tokens";

const CONTRACT = "UsdPriceOracle";

export function handleFeedSet(event: FeedSet): void {
  const p = event.params;
  // A token with a feed can pay USD-priced APIs: make its PaymentToken exist.
  getPaymentToken(p.token).save();
  const feed = new PriceFeed(p.token);
  feed.token = p.token;
  feed.aggregator = p.aggregator;
  feed.heartbeat = p.heartbeat;
  feed.active = true;
  feed.updatedAt = event.block.timestamp;
  feed.save();
}

export function handleFeedRemoved(event: FeedRemoved): void {
  const feed = PriceFeed.load(event.params.token);
  if (feed == null) throw new Error("PriceFeed " + event.params.token.toHexString() + " is not indexed");
  feed.active = false;
  feed.updatedAt = event.block.timestamp;
  feed.save();
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
