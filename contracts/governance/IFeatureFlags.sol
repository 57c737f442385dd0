// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IFeatureFlags
/// @notice Feature flags with percentage rollouts that relayers read (Developer DAO).
interface IFeatureFlags {
    /// @notice A flag: on or off, and the share of subjects (basis points) it is rolled out to.
    struct Flag {
        bool enabled;
        uint16 rolloutBps;
        uint40 updatedAt;
    }

    event FlagSet(bytes32 indexed flag, bool enabled, uint16 rolloutBps);

    error RolloutTooHigh(uint16 rolloutBps, uint16 maxBps);
    error ZeroFlag();

    /// @notice The current state of `flag` (all zero if never set).
    function getFlag(bytes32 flag) external view returns (Flag memory);

    /// @notice Whether `flag` applies to `subject`: enabled, and the subject's deterministic
    ///         bucket keccak256(flag, subject) mod 10,000 is below the rollout.
    function isEnabledFor(bytes32 flag, address subject) external view returns (bool);
}
