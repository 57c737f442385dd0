// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IEarningsLedger
/// @notice Unclaimed earnings of APIs (provider and protocol shares) held by a payments
///         contract, and what it owes in total per token.
interface IEarningsLedger {
    /// @notice Earnings of one API in one token, not yet claimed.
    struct ApiEarnings {
        uint128 provider;
        uint128 protocol;
    }

    event ProviderEarningsClaimed(
        uint256 indexed apiId,
        address indexed provider,
        address indexed token,
        uint256 amount
    );
    event ProtocolFeesCollected(address indexed token, address indexed treasury, uint256 amount);
    event TreasuryUpdated(address indexed treasury);

    error NothingToClaim();
    error NotApiProvider(uint256 apiId, address caller);
    error ZeroAddress();
    error InvalidTreasury(address treasury);

    /// @notice Sends an API's provider share in `token` to its current provider (the caller).
    function claimProviderEarnings(uint256 apiId, address token) external;

    /// @notice Sends the protocol share of `apiIds`' earnings in `token` to the treasury.
    function collectProtocolFees(address token, uint256[] calldata apiIds) external;
}
