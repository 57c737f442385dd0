// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRateLimitPolicy
/// @notice Rate-limit and quota policies per API tier (Security DAO) that relayers enforce.
interface IRateLimitPolicy {
    /// @notice At most `requestsPerWindow` calls per payer per `windowSeconds`, with bursts of
    ///         up to `burst` calls above the steady rate (token bucket).
    struct Policy {
        uint32 requestsPerWindow;
        uint32 windowSeconds;
        uint32 burst;
    }

    event PolicySet(uint8 indexed tier, uint32 requestsPerWindow, uint32 windowSeconds, uint32 burst);
    event ApiTierSet(uint256 indexed apiId, uint8 indexed tier);

    error InvalidPolicy();
    error UnknownTier(uint8 tier);

    /// @notice The policy of `tier` (all zero if unset).
    function policyOfTier(uint8 tier) external view returns (Policy memory);

    /// @notice The tier of `apiId` (0 unless set) and its policy.
    function policyOf(uint256 apiId) external view returns (uint8 tier, Policy memory policy);
}
