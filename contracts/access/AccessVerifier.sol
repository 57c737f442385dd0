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
        IAccessGroups.Group memory g = groups.getGroup(s.apiId);
        if (s.userMessageLimit != g.userMessageLimit) revert WrongMessageLimit(s.userMessageLimit, g.userMessageLimit);
        uint256 current = block.timestamp / g.epochLength;
        // The previous epoch too: a proof made just before an epoch boundary is still honest.
        if (s.epoch != current && s.epoch + 1 != current) revert EpochOutOfRange(s.epoch, current);
        if (!groups.isKnownRoot(s.apiId, s.root)) revert UnknownRoot(s.apiId, s.root);
        uint256[7] memory pub = [s.y, s.nullifier, s.root, s.apiId, s.epoch, s.userMessageLimit, s.x];
        if (!groth16.verifyProof(proof.a, proof.b, proof.c, pub)) revert InvalidProof();
    }
}
