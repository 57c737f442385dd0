// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessGroups} from "./IAccessGroups.sol";
import {IAccessVerifier, IGroth16AccessVerifier} from "./IAccessVerifier.sol";

/// @title AccessVerifier
/// @notice The on-chain check of anonymous access proofs: the generated Groth16 verifier plus
///         what the circuit cannot know (the group's known roots, the current epoch, the
///         group's message limit) and nullifier uniqueness. Relayers check the same rules
///         off-chain on every call (sdk/zk); this contract serves on-chain consumers and
///         anyone who wants a proof's validity settled by the chain.
contract AccessVerifier is IAccessVerifier {
    IAccessGroups public immutable groups;
    IGroth16AccessVerifier public immutable groth16;

    /// @notice Nullifiers already consumed.
    mapping(uint256 nullifier => bool) public nullifierUsed;

    /// @param groups_ The AccessGroups contract (roots, epochs, limits).
    /// @param groth16_ The generated Groth16 verifier of circuits/access.circom.
    constructor(IAccessGroups groups_, IGroth16AccessVerifier groth16_) {
        if (address(groups_) == address(0) || address(groth16_) == address(0)) revert ZeroAddress();
        groups = groups_;
        groth16 = groth16_;
    }

    /// @inheritdoc IAccessVerifier
    function checkAccess(AccessProof calldata proof, AccessSignals calldata signals) external view {
        _check(proof, signals);
    }

    /// @inheritdoc IAccessVerifier
    function consume(AccessProof calldata proof, AccessSignals calldata signals) external {
        _check(proof, signals);
        nullifierUsed[signals.nullifier] = true;
        emit AccessConsumed(signals.apiId, signals.epoch, signals.nullifier, signals.x, signals.y, msg.sender);
    }

    function _check(AccessProof calldata proof, AccessSignals calldata s) private view {
        if (nullifierUsed[s.nullifier]) revert NullifierAlreadyUsed(s.nullifier);
        (uint256 epochLength, uint256 limit, bool rootKnown) = groups.accessContext(s.apiId, s.root);
        if (s.userMessageLimit != limit) revert WrongMessageLimit(s.userMessageLimit, limit);
        uint256 current = block.timestamp / epochLength;
        // The previous epoch too: a proof made just before an epoch boundary is still honest.
        if (s.epoch != current && s.epoch + 1 != current) revert EpochOutOfRange(s.epoch, current);
        if (!rootKnown) revert UnknownRoot(s.apiId, s.root);
        // The packing cannot collide: the limit equals a uint16, the epoch is the current or
        // previous one (far below 2^64), and apiId has a group (registry ids are small).
        uint256 scope = (s.apiId << 80) | (s.epoch << 16) | s.userMessageLimit;
        uint256[5] memory pub = [s.y, s.nullifier, s.root, scope, s.x];
        if (!groth16.verifyProof(proof.a, proof.b, proof.c, pub)) revert InvalidProof();
    }
}
