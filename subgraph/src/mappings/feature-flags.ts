import { AuthorityUpdated, FlagSet } from "../../generated/FeatureFlags/FeatureFlags";
import { FeatureFlag } from "../../generated/schema";
import { setAuthority } from "../shared/contracts";

const CONTRACT = "FeatureFlags";

export function handleFlagSet(event: FlagSet): void {
  const p = event.params;
  let flag = FeatureFlag.load(p.flag);
  if (flag == null) {
    flag = new FeatureFlag(p.flag);
    flag.updateCount = 0;
  }
  flag.enabled = p.enabled;
  flag.rolloutBps = p.rolloutBps;
  flag.updateCount = flag.updateCount + 1;
  flag.updatedAt = event.block.timestamp;
  flag.save();
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
