// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title DevUsdFeed
/// @notice Local-network stand-in for a Chainlink stablecoin / USD feed: a fixed answer that is
///         always fresh, so a long-running `npm start` never goes stale. Never deploy it for real.
contract DevUsdFeed is AggregatorV3Interface {
    uint8 private constant DECIMALS = 8;
    int256 private immutable _answer;

    /// @param answer The fixed price, 8 decimals (1e8 = $1).
    constructor(int256 answer) {
        _answer = answer;
    }

    /// @notice 8 decimals, like Chainlink's USD feeds.
    function decimals() external pure override returns (uint8) {
        return DECIMALS;
    }

    /// @notice Feed description.
    function description() external pure override returns (string memory) {
        return "dev stablecoin / USD";
    }

    /// @notice Feed version.
    function version() external pure override returns (uint256) {
        return 1;
    }

    /// @notice The fixed answer as round 1, updated now.
    function getRoundData(uint80) external view override returns (uint80, int256, uint256, uint256, uint80) {
        return (1, _answer, block.timestamp, block.timestamp, 1);
    }

    /// @notice The fixed answer as round 1, updated now.
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        return (1, _answer, block.timestamp, block.timestamp, 1);
    }
}
