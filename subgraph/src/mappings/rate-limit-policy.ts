import { ApiTierSet, AuthorityUpdated, PolicySet } from "../../generated/RateLimitPolicy/RateLimitPolicy";
import { ApiRateLimit, RateLimitTier } from "../../generated/schema";
import { setAuthority } from "../shared/contracts";

const CONTRACT = "RateLimitPolicy";

export function handlePolicySet(event: PolicySet): void {
  const p = event.params;
  const tier = new RateLimitTier(p.tier.toString());
  tier.tier = p.tier;
  tier.requestsPerWindow = p.requestsPerWindow;
  tier.windowSeconds = p.windowSeconds;
  tier.burst = p.burst;
  tier.updatedAt = event.block.timestamp;
  tier.save();
}

export function handleApiTierSet(event: ApiTierSet): void {
  const id = event.params.apiId.toString();
  const assignment = new ApiRateLimit(id);
  // The policy does not check the registry: the reference resolves once the API is listed.
  assignment.api = id;
  assignment.apiId = event.params.apiId;
  // setApiTier requires the tier to have a policy, so its RateLimitTier exists.
  assignment.tier = event.params.tier.toString();
  assignment.updatedAt = event.block.timestamp;
  assignment.save();
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
