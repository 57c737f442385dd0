// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IFeatureFlags} from "./IFeatureFlags.sol";

/// @title FeatureFlags
/// @notice The Developer DAO's feature-flag registry: flag -> (enabled, rollout percentage).
///         Relayers read it to roll features out; the bucket of a subject (a payer, a node) is
///         deterministic, so every relayer makes the same choice for the same subject.
contract FeatureFlags is IFeatureFlags, AccessManaged {
    uint16 private constant BPS = 10_000;

    mapping(bytes32 flag => Flag) private _flags;

    /// @param authority The AccessManager.
    constructor(address authority) AccessManaged(authority) {}

    /// @notice Sets `flag` (Developer DAO). A rollout of 10,000 bps reaches every subject.
    function setFlag(bytes32 flag, bool enabled, uint16 rolloutBps) external restricted {
        if (flag == bytes32(0)) revert ZeroFlag();
        if (rolloutBps > BPS) revert RolloutTooHigh(rolloutBps, BPS);
        _flags[flag] = Flag(enabled, rolloutBps, uint40(block.timestamp));
        emit FlagSet(flag, enabled, rolloutBps);
    }

    /// @inheritdoc IFeatureFlags
    function getFlag(bytes32 flag) external view returns (Flag memory) {
        return _flags[flag];
    }

    /// @inheritdoc IFeatureFlags
    function isEnabledFor(bytes32 flag, address subject) external view returns (bool) {
        Flag memory f = _flags[flag];
        return f.enabled && uint256(keccak256(abi.encode(flag, subject))) % BPS < f.rolloutBps;
    }
}
