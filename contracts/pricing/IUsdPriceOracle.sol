// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IUsdPriceOracle
/// @notice Converts USD amounts (18 decimals) into payment-token amounts with Chainlink feeds.
interface IUsdPriceOracle {
    /// @notice A token's USD feed and the staleness it tolerates.
    struct Feed {
        address aggregator;
        uint32 heartbeat;
        uint8 feedDecimals;
        uint8 tokenDecimals;
    }

    event FeedSet(address indexed token, address indexed aggregator, uint32 heartbeat);
    event FeedRemoved(address indexed token);

    error NoFeed(address token);
    error StalePrice(address token, uint256 updatedAt, uint32 heartbeat);
    error InvalidPrice(address token, int256 answer);
    error IncompleteRound(address token, uint80 roundId, uint80 answeredInRound);
    error HeartbeatOutOfRange(uint32 heartbeat, uint32 minHeartbeat, uint32 maxHeartbeat);
    error UnsupportedDecimals(address token, uint8 decimals);
    error ZeroAddress();

    /// @notice Whether `token` has a USD feed.
    function hasFeed(address token) external view returns (bool);

    /// @notice `usdAmount` (18 decimals) in `token` base units at the feed's latest answer,
    ///         rounded up so a payer never underpays. Fails closed on a stale, zero, negative
    ///         or incomplete answer.
    function usdToToken(address token, uint256 usdAmount) external view returns (uint256);

    /// @notice `amount` of `token` (base units) in USD with 18 decimals at the feed's latest
    ///         answer, rounded down. Fails closed like `usdToToken`.
    function tokenToUsd(address token, uint256 amount) external view returns (uint256);
}
