/**
 * What the router reads from the chain: the Developer DAO's routing.peak-ewma flag (which policy a
 * subject gets) and, for the nodes serving an API, their candidates (NodeStaking's region, the
 * Reputation's smoothed score). Read when a routing session starts or on the caller's schedule,
 * never per call: picking stays local (select.ts mirrors the contract's rollout bucket).
 *
 * NodeStaking cannot enumerate nodes, so the caller passes the operator addresses (from the
 * relayer's node list, or the staking contract's NodeRegistered events).
 */
import { decodeBytes32String, getAddress } from "ethers";
import type { IFeatureFlags, INodeStaking, IReputation } from "../../types/ethers-contracts/index.js";
import type { PeakEwmaOptions } from "./policies/peak-ewma.js";
import { PEAK_EWMA_FLAG, routingPolicyFor, type RolloutFlag } from "./select.js";
import type { Candidate, RoutingPolicy, Rng } from "./types.js";

/** IReputation.SubjectKind.Node. */
const NODE_SUBJECT = 0;

/** `flag` as FeatureFlags stores it; a flag never set reads as off with no rollout. */
export async function readRolloutFlag(
  featureFlags: Pick<IFeatureFlags, "getFlag">,
  flag: string = PEAK_EWMA_FLAG,
): Promise<RolloutFlag> {
  const { enabled, rolloutBps } = await featureFlags.getFlag(flag);
  return { enabled, rolloutBps: Number(rolloutBps) };
}

/** The routing policy for `subject` under the routing.peak-ewma flag as it is on the chain now. */
export async function routingPolicyFromChain(
  featureFlags: Pick<IFeatureFlags, "getFlag">,
  subject: string,
  rng: Rng,
  options?: Partial<PeakEwmaOptions>,
): Promise<RoutingPolicy> {
  return routingPolicyFor(await readRolloutFlag(featureFlags), subject, rng, options);
}

/**
 * The candidates among `nodes` (operator addresses), in their order. A node is left out unless
 * NodeStaking.isActive: status Active (not None: never registered or withdrawn; not Exiting: all
 * stake unstaked) and staked at its type's current minimum. Providers refuse calls from any other
 * node (sdk/provider-middleware's stakedNodeChecker), so routing to one could only fail.
 * reputationBps is the smoothed score, undefined until an epoch was finalized for the node.
 */
export async function readCandidates(
  staking: Pick<INodeStaking, "getNode" | "isActive">,
  reputation: Pick<IReputation, "scoreOf">,
  nodes: readonly string[],
): Promise<Candidate[]> {
  const read = await Promise.all(
    nodes.map(async (node): Promise<Candidate | undefined> => {
      const [info, active, score] = await Promise.all([
        staking.getNode(node),
        staking.isActive(node),
        reputation.scoreOf(NODE_SUBJECT, node),
      ]);
      if (!active) return undefined;
      return {
        id: getAddress(node),
        region: regionCode(info.region),
        reputationBps: score.finalized ? Number(score.smoothed) : undefined,
      };
    }),
  );
  return read.filter((candidate) => candidate !== undefined);
}

/**
 * The region code a node registered. NodeStaking only rejects a zero region, so an operator can
 * store bytes that are no string (no terminator, bad UTF-8): that node gets the empty code, which
 * the geo prior treats as unknown (far), instead of failing the whole read.
 */
function regionCode(region: string): string {
  try {
    return decodeBytes32String(region);
  } catch {
    return "";
  }
}
