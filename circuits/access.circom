pragma circom 2.1.5;

// Meshgate anonymous API access: an RLN-v2-shaped circuit (Semaphore group membership +
// rate-limiting nullifier + Shamir share bound to the HTTP request).
// Public signals (snarkjs order: outputs first, then public inputs in declaration order):
//   [0] y, [1] nullifier, [2] root, [3] scope, [4] x
// scope packs apiId, epoch and userMessageLimit into one field element
// (apiId * 2^80 + epoch * 2^16 + userMessageLimit): every public input costs an elliptic-curve
// multiplication (~6.5k gas) in the on-chain verifier, and verifiers know all three anyway.
// See circuits/README.md for who computes each one.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "@zk-kit/binary-merkle-root.circom/src/binary-merkle-root.circom";

template Access(MAX_DEPTH, API_BITS, EPOCH_BITS, LIMIT_BITS) {
    // ---- private inputs ----
    signal input identitySecret;           // a0, never 0
    signal input messageIndex;             // 0 <= messageIndex < userMessageLimit
    // LeanIMT membership proof (as @zk-kit/lean-imt's generateProof returns it): the siblings
    // that exist, leaf level first, zero-padded to MAX_DEPTH; their count; and the index whose
    // bits say, per sibling, whether the current node is the right child.
    signal input merkleProofLength;
    signal input merkleProofIndex;
    signal input merkleProofSiblings[MAX_DEPTH];

    // ---- unpacked scope (private here, public through `scope`) ----
    signal input apiId;                    // API identifier, < 2^API_BITS
    signal input epoch;                    // rate-limit epoch, < 2^EPOCH_BITS
    signal input userMessageLimit;         // calls per epoch for this API, 1 .. 2^LIMIT_BITS - 1

    // ---- public inputs (order matters: it is the public signal order) ----
    signal input root;                     // group Merkle root (contract: known recent root)
    signal input scope;                    // apiId * 2^(EPOCH_BITS + LIMIT_BITS) + epoch * 2^LIMIT_BITS + limit
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

    // Scope: with every part range-checked (API_BITS + EPOCH_BITS + LIMIT_BITS < 254) the
    // packing cannot wrap around the field, so scope fixes apiId, epoch and the limit.
    _ = Num2Bits(API_BITS)(apiId);
    _ = Num2Bits(EPOCH_BITS)(epoch);
    _ = Num2Bits(LIMIT_BITS)(userMessageLimit);
    scope === apiId * (1 << (EPOCH_BITS + LIMIT_BITS)) + epoch * (1 << LIMIT_BITS) + userMessageLimit;

    // Rate limit: range-check the index too, then messageIndex < userMessageLimit.
    _ = Num2Bits(LIMIT_BITS)(messageIndex);
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

component main {public [root, scope, x]} = Access(20, 170, 64, 16);
