pragma circom 2.1.5;

// Meshgate anonymous API access: an RLN-v2-shaped circuit (Semaphore group membership +
// rate-limiting nullifier + Shamir share bound to the HTTP request).
// Public signals (snarkjs order: outputs first, then public inputs in declaration order):
//   [0] y, [1] nullifier, [2] root, [3] apiId, [4] epoch, [5] userMessageLimit, [6] x
// See circuits/README.md for who computes each one.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "@zk-kit/binary-merkle-root.circom/src/binary-merkle-root.circom";

template Access(MAX_DEPTH, LIMIT_BITS) {
    // ---- private inputs ----
    signal input identitySecret;           // a0, never 0
    signal input messageIndex;             // 0 <= messageIndex < userMessageLimit
    // LeanIMT membership proof (as @zk-kit/lean-imt's generateProof returns it): the siblings
    // that exist, leaf level first, zero-padded to MAX_DEPTH; their count; and the index whose
    // bits say, per sibling, whether the current node is the right child.
    signal input merkleProofLength;
    signal input merkleProofIndex;
    signal input merkleProofSiblings[MAX_DEPTH];

    // ---- public inputs (order matters: it is the public signal order) ----
    signal input root;                     // group Merkle root (contract: known recent root)
    signal input apiId;                    // API identifier (contract: the called API)
    signal input epoch;                    // rate-limit epoch (contract/relayer: current epoch)
    signal input userMessageLimit;         // calls per epoch for this API, 1 .. 2^LIMIT_BITS - 1
    signal input x;                        // request hash reduced into the field

    // ---- public outputs ----
    signal output y;                       // Shamir share a0 + a1 * x
    signal output nullifier;               // Poseidon(a1): one per (identity, api, epoch, index)

    // identitySecret != 0 (a zero secret would make the share y = a1 * x leak nothing useful
    // to slashers and makes the commitment a well-known constant).
    signal secretInv;
    secretInv <-- identitySecret != 0 ? 1 / identitySecret : 0;
    secretInv * identitySecret === 1;

    // Membership: leaf = identity commitment = Poseidon(identitySecret). BinaryMerkleRoot gives
    // 0 for a length above MAX_DEPTH; bounding the length here keeps that case out entirely
    // (an empty group's root is 0 too, and verifiers must reject root 0 anyway).
    _ = Num2Bits(5)(merkleProofLength);
    signal lengthOk <== LessEqThan(5)([merkleProofLength, MAX_DEPTH]);
    lengthOk === 1;
    signal commitment <== Poseidon(1)([identitySecret]);
    signal computedRoot <== BinaryMerkleRoot(MAX_DEPTH)(
        commitment, merkleProofLength, merkleProofIndex, merkleProofSiblings
    );
    root === computedRoot;

    // Rate limit: range-check both operands, then messageIndex < userMessageLimit.
    _ = Num2Bits(LIMIT_BITS)(messageIndex);
    _ = Num2Bits(LIMIT_BITS)(userMessageLimit);
    signal indexOk <== LessThan(LIMIT_BITS)([messageIndex, userMessageLimit]);
    indexOk === 1;

    // RLN: external nullifier, line coefficients, share and nullifier.
    signal externalNullifier <== Poseidon(2)([apiId, epoch]);
    signal a1 <== Poseidon(3)([identitySecret, externalNullifier, messageIndex]);
    // x is bound by this multiplication: changing x changes y, so the proof cannot be
    // replayed for another request.
    y <== identitySecret + a1 * x;
    nullifier <== Poseidon(1)([a1]);
}

component main {public [root, apiId, epoch, userMessageLimit, x]} = Access(20, 16);
