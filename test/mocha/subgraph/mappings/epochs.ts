/**
 * Helpers for the Reputation and NodeRewards mapping tests: the protocol's epoch clock (the
 * escrow's), signed validator attestations, and rating sums tracked from the ratings the test
 * submits. The scoring rules themselves (stake-weighted lower medians, epoch score, smoothing)
 * are the contract tests' reference implementation (helpers/reputation-reference.ts).
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import {
  canonicalAttestation,
  reputationDomain,
  signAttestation,
  type Attestation,
} from "../../../../relayer/validator/attestation.js";
import { starsBps, type Rating } from "../../helpers/reputation-reference.js";
import type { IndexedChain } from "../../helpers/subgraph.js";
import { advanceTo, send } from "./chain.js";

/** Reputation.SubjectKind */
export const Subject = { Node: 0, Api: 1 } as const;

/** Moves the clock to `offset` seconds into `epoch` (escrow.epochGenesis + epoch * epochLength). */
export async function advanceToEpoch(chain: IndexedChain, epoch: number, offset = 60n): Promise<void> {
  const { escrow } = chain.protocol;
  const [genesis, length] = await Promise.all([escrow.epochGenesis(), escrow.epochLength()]);
  await advanceTo(chain, genesis + BigInt(epoch) * length + offset);
  const current = Number(await escrow.currentEpoch());
  if (current !== epoch) throw new Error(`the clock is in epoch ${current}, wanted ${epoch}`);
}

/** Signs `a` (put in canonical order) as `validator` and submits it from `submitter`. */
export async function attest(
  chain: IndexedChain,
  validator: Signer,
  a: Attestation,
  submitter: Signer = validator,
): Promise<ContractTransactionReceipt> {
  const { reputation } = chain.protocol;
  const domain = reputationDomain(chain.deployment.chainId, await reputation.getAddress());
  const canonical = canonicalAttestation(a);
  const signature = await signAttestation(validator, domain, canonical);
  return send(reputation.connect(submitter).attest(canonical, signature));
}

/**
 * Spend-weighted rating sums of one subject, kept as the contract keeps them (Reputation.rate
 * replaces a channel's previous rating); `rating` is what Reputation.ratingOf returns. Weights
 * are what Reputation.rate counted: the channel's redeemed total in US dollars, 18 decimals
 * (helpers/reputation-reference.ts usdWeight).
 */
export class RatingTotals {
  weight = 0n;
  weightedBps = 0n;

  /** Replaces a channel's previous contribution (undefined: none) with a new one. */
  replace(previous: { stars: number; weight: bigint } | undefined, stars: number, weight: bigint): void {
    if (previous !== undefined) {
      this.weight -= previous.weight;
      this.weightedBps -= previous.weight * starsBps(previous.stars);
    }
    this.weight += weight;
    this.weightedBps += weight * starsBps(stars);
  }

  get rating(): Rating {
    return { ratingBps: this.weight === 0n ? 0n : this.weightedBps / this.weight, weight: this.weight };
  }
}
