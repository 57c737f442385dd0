/**
 * A local replica of an API's access group: the same LeanIMT (Poseidon, dynamic depth) as
 * AccessGroups keeps on-chain, rebuilt from the contract's events. Members use it to make
 * membership proofs; members leaving and slashers use it for the siblings the contract needs.
 */
import { LeanIMT } from "@zk-kit/lean-imt";
import { poseidon2 } from "poseidon-lite";

/** The circuit's MAX_DEPTH (circuits/access.circom): 2^20 members per group. */
export const MAX_DEPTH = 20;

/** A membership proof in the circuit's input shape. */
export interface MerkleProof {
  root: bigint;
  /** Number of real siblings (the tree depth along this path). */
  length: number;
  /** Bits, per real sibling, of whether the path node is the right child. */
  index: number;
  /** Real siblings first, zero-padded to MAX_DEPTH. */
  siblings: bigint[];
}

export class NotAMemberError extends Error {
  readonly code = "NOT_A_MEMBER";
  constructor(readonly commitment: bigint) {
    super(`commitment ${commitment} is not a member of this group`);
  }
}

const hash = (a: bigint, b: bigint): bigint => poseidon2([a, b]);

export class GroupTree {
  private readonly tree = new LeanIMT<bigint>(hash);

  get root(): bigint {
    return this.tree.size === 0 ? 0n : this.tree.root;
  }

  /** Leaves ever inserted, removed ones (now 0) included. */
  get size(): number {
    return this.tree.size;
  }

  has(commitment: bigint): boolean {
    return commitment !== 0n && this.tree.has(commitment);
  }

  insert(commitment: bigint): void {
    this.tree.insert(commitment);
  }

  /** Sets a member's leaf to 0, as AccessGroups does when it leaves or is slashed. */
  remove(commitment: bigint): void {
    this.tree.update(this.indexOf(commitment), 0n);
  }

  /** The siblings AccessGroups.leave / removeLapsed / slash take for `commitment`. */
  siblings(commitment: bigint): bigint[] {
    return this.tree.generateProof(this.indexOf(commitment)).siblings;
  }

  /** The circuit's membership inputs for `commitment` against the current root. */
  proof(commitment: bigint): MerkleProof {
    const p = this.tree.generateProof(this.indexOf(commitment));
    return {
      root: p.root,
      length: p.siblings.length,
      index: p.index,
      siblings: [...p.siblings, ...new Array<bigint>(MAX_DEPTH - p.siblings.length).fill(0n)],
    };
  }

  private indexOf(commitment: bigint): number {
    const i = commitment === 0n ? -1 : this.tree.indexOf(commitment);
    if (i < 0) throw new NotAMemberError(commitment);
    return i;
  }
}
