pragma circom 2.1.5;

// Meshgate anonymous API access: an RLN-v2-shaped circuit (Semaphore group membership +
// rate-limiting nullifier + Shamir share bound to the HTTP request).
// Public signals (snarkjs order: outputs first, then public inputs in declaration order):
//   [0] y, [1] nullifier, [2] root, [3] apiId, [4] epoch, [5] userMessageLimit, [6] x
// See circuits/README.md for who computes each one.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// Root of a fixed-depth binary Poseidon Merkle tree. pathIndices[i] = 1 when the current
// node is the RIGHT child at level i (bit i of the leaf index, LSB = level 0).
template MerkleRoot(DEPTH) {
    signal input leaf;
    signal input pathElements[DEPTH];
    signal input pathIndices[DEPTH];
    signal output root;

    signal nodes[DEPTH + 1];
    signal swap[DEPTH];
    nodes[0] <== leaf;
    for (var i = 0; i < DEPTH; i++) {
        pathIndices[i] * (1 - pathIndices[i]) === 0;
        // swap = index ? (sibling - node) : 0; left = node + swap; right = sibling - swap.
        swap[i] <== pathIndices[i] * (pathElements[i] - nodes[i]);
        nodes[i + 1] <== Poseidon(2)([nodes[i] + swap[i], pathElements[i] - swap[i]]);
    }
    root <== nodes[DEPTH];
}

template Access(DEPTH, LIMIT_BITS) {
    // ---- private inputs ----
    signal input identitySecret;           // a0, never 0
    signal input messageIndex;             // 0 <= messageIndex < userMessageLimit
    signal input pathElements[DEPTH];      // Merkle siblings, leaf level first
    signal input pathIndices[DEPTH];       // bits of the leaf index, leaf level first

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

    // Membership: leaf = identity commitment = Poseidon(identitySecret).
    signal commitment <== Poseidon(1)([identitySecret]);
    signal computedRoot <== MerkleRoot(DEPTH)(commitment, pathElements, pathIndices);
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
