/**
 * Validator attestations as Reputation.sol takes them: the EIP-712 types, the domain, signing,
 * and the canonical order of subjects the contract requires (nodes by address, APIs by id).
 */
import type { Signer, TypedDataDomain } from "ethers";

/** Quality of service measured over an epoch (Reputation.Qos). */
export interface Qos {
  p50Micros: number;
  p99Micros: number;
  successBps: number;
  availabilityBps: number;
}

export interface NodeReport {
  node: string;
  qos: Qos;
}

export interface ApiReport {
  apiId: bigint;
  qos: Qos;
}

/** One validator's report for one epoch (Reputation.Attestation). */
export interface Attestation {
  epoch: number;
  nodes: NodeReport[];
  apis: ApiReport[];
}

export const ATTESTATION_TYPES = {
  Attestation: [
    { name: "epoch", type: "uint32" },
    { name: "nodes", type: "NodeReport[]" },
    { name: "apis", type: "ApiReport[]" },
  ],
  NodeReport: [
    { name: "node", type: "address" },
    { name: "qos", type: "Qos" },
  ],
  ApiReport: [
    { name: "apiId", type: "uint256" },
    { name: "qos", type: "Qos" },
  ],
  Qos: [
    { name: "p50Micros", type: "uint32" },
    { name: "p99Micros", type: "uint32" },
    { name: "successBps", type: "uint16" },
    { name: "availabilityBps", type: "uint16" },
  ],
};

/** The EIP-712 domain of a Reputation contract. */
export function reputationDomain(chainId: bigint | number, reputation: string): TypedDataDomain {
  return { name: "Meshgate Reputation", version: "1", chainId, verifyingContract: reputation };
}

/** Sorts subjects into the order the contract requires (a copy; duplicates are kept, and rejected on-chain). */
export function canonicalAttestation(a: Attestation): Attestation {
  return {
    epoch: a.epoch,
    nodes: [...a.nodes].sort((x, y) => compareBig(BigInt(x.node), BigInt(y.node))),
    apis: [...a.apis].sort((x, y) => compareBig(x.apiId, y.apiId)),
  };
}

/** The validator's EIP-712 signature over `a` (already in canonical order). */
export async function signAttestation(signer: Signer, domain: TypedDataDomain, a: Attestation): Promise<string> {
  return signer.signTypedData(domain, ATTESTATION_TYPES, a);
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
