// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IGroth16AccessVerifier
/// @notice The snarkjs-generated Groth16 verifier of circuits/access.circom
///         (contracts/access/AccessVerifierGroth16.sol, written by `npm run zk:build`).
interface IGroth16AccessVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}

/// @title IAccessVerifier
/// @notice Types, events and errors of the on-chain check of anonymous access proofs.
interface IAccessVerifier {
    /// @notice A Groth16 proof as snarkjs's exportSolidityCallData orders it (b's pairs swapped).
    struct AccessProof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// @notice What a proof states. The circuit sees apiId, epoch and userMessageLimit packed into
    ///         one public input, scope = apiId << 80 | epoch << 16 | userMessageLimit; its
    ///         public signals are [y, nullifier, root, scope, x] (circuits/README.md).
    /// @param y Shamir share secret + a1 * x of this call.
    /// @param nullifier Poseidon(a1): one per (identity, API, epoch, message index).
    /// @param root A known root of the API's access group.
    /// @param apiId The API called.
    /// @param epoch The rate-limit epoch (the group's current or previous one).
    /// @param userMessageLimit The group's calls per member per epoch.
    /// @param x The hash of the request the proof is bound to (sdk/zk/request.ts).
    struct AccessSignals {
        uint256 y;
        uint256 nullifier;
        uint256 root;
        uint256 apiId;
        uint256 epoch;
        uint256 userMessageLimit;
        uint256 x;
    }

    /// @notice A proof was used on-chain; (x, y) is its share, published so that a second share
    ///         with the same nullifier (an over-limit member) can be matched and slashed.
    event AccessConsumed(
        uint256 indexed apiId,
        uint256 indexed epoch,
        uint256 indexed nullifier,
        uint256 x,
        uint256 y,
        address consumer
    );

    error UnknownRoot(uint256 apiId, uint256 root);
    error EpochOutOfRange(uint256 epoch, uint256 currentEpoch);
    error WrongMessageLimit(uint256 given, uint256 expected);
    error NullifierAlreadyUsed(uint256 nullifier);
    error InvalidProof();
    error ZeroAddress();

    /// @notice Reverts with the reason a proof would be refused by `consume`, else returns.
    function checkAccess(AccessProof calldata proof, AccessSignals calldata signals) external view;

    /// @notice Checks a proof (known root, current or previous epoch, the group's limit, unused
    ///         nullifier, valid Groth16 proof) and records its nullifier so it cannot be used again.
    ///         Anyone may submit a proof: an on-chain consumer should make `x` commit to the action
    ///         it authorizes (e.g. the caller and the call), so a copied proof authorizes nothing else.
    function consume(AccessProof calldata proof, AccessSignals calldata signals) external;
}
