import { AbiCoder, id, keccak256 } from "ethers";
import { peakEwma, type PeakEwmaOptions } from "./policies/peak-ewma.js";
import { roundRobin } from "./policies/round-robin.js";
import type { RoutingPolicy, Rng } from "./types.js";

/** The Developer DAO's flag that rolls the learned router out (`gov propose --flag routing.peak-ewma:on:2500`). */
export const PEAK_EWMA_FLAG_NAME = "routing.peak-ewma";

/** The flag's on-chain id: keccak256 of the name, as the CLI's --flag shorthand encodes it. */
export const PEAK_EWMA_FLAG = id(PEAK_EWMA_FLAG_NAME);

const BPS = 10_000n;
const abi = AbiCoder.defaultAbiCoder();

/** A flag as FeatureFlags.getFlag returns it (the fields the decision needs). */
export interface RolloutFlag {
  readonly enabled: boolean;
  readonly rolloutBps: number;
}

/**
 * The subject's rollout bucket in 0..9,999, exactly as FeatureFlags.isEnabledFor computes it:
 * keccak256(abi.encode(bytes32 flag, address subject)) mod 10,000. Mirroring the contract (not
 * calling it per call) keeps routing off the chain's critical path while every relayer and SDK
 * still puts the same subject in the same bucket.
 */
export function rolloutBucket(flag: string, subject: string): number {
  return Number(BigInt(keccak256(abi.encode(["bytes32", "address"], [flag, subject]))) % BPS);
}

/** FeatureFlags.isEnabledFor for a flag read once: enabled and the subject's bucket below the rollout. */
export function isEnabledFor(flag: string, state: RolloutFlag, subject: string): boolean {
  return state.enabled && rolloutBucket(flag, subject) < state.rolloutBps;
}

/**
 * The routing policy for `subject` (the consumer SDK's payer address, or the relayer's address
 * when it picks among replicas): peak-EWMA when the routing.peak-ewma flag covers the subject,
 * round-robin otherwise.
 */
export function routingPolicyFor(
  flag: RolloutFlag,
  subject: string,
  rng: Rng,
  options?: Partial<PeakEwmaOptions>,
): RoutingPolicy {
  return isEnabledFor(PEAK_EWMA_FLAG, flag, subject) ? peakEwma(rng, options) : roundRobin();
}
