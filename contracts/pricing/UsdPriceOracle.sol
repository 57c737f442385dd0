// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUsdPriceOracle} from "./IUsdPriceOracle.sol";

/// @title UsdPriceOracle
/// @notice One Chainlink AggregatorV3 feed (token / USD) per payment token, with a governed
///         heartbeat. Every read checks the answer and fails closed with a custom error.
contract UsdPriceOracle is IUsdPriceOracle, AccessManaged {
    /// @notice Shortest heartbeat governance may set.
    uint32 public constant MIN_HEARTBEAT = 1 minutes;
    /// @notice Longest heartbeat governance may set.
    uint32 public constant MAX_HEARTBEAT = 2 days;

    mapping(address token => Feed) private _feeds;

    /// @param authority The AccessManager.
    constructor(address authority) AccessManaged(authority) {
        if (authority == address(0)) revert ZeroAddress();
    }

    /// @notice Sets `token`'s USD feed and heartbeat (Protocol DAO).
    function setFeed(address token, address aggregator, uint32 heartbeat) external restricted {
        if (token == address(0) || aggregator == address(0)) revert ZeroAddress();
        if (heartbeat < MIN_HEARTBEAT || heartbeat > MAX_HEARTBEAT) {
            revert HeartbeatOutOfRange(heartbeat, MIN_HEARTBEAT, MAX_HEARTBEAT);
        }
        uint8 feedDecimals = AggregatorV3Interface(aggregator).decimals();
        uint8 tokenDecimals = IERC20Metadata(token).decimals();
        if (feedDecimals > 36) revert UnsupportedDecimals(aggregator, feedDecimals);
        if (tokenDecimals > 36) revert UnsupportedDecimals(token, tokenDecimals);
        _feeds[token] = Feed(aggregator, heartbeat, feedDecimals, tokenDecimals);
        emit FeedSet(token, aggregator, heartbeat);
    }

    /// @notice Removes `token`'s feed: USD-priced APIs stop accepting it (Protocol DAO).
    function removeFeed(address token) external restricted {
        if (_feeds[token].aggregator == address(0)) revert NoFeed(token);
        delete _feeds[token];
        emit FeedRemoved(token);
    }

    /// @notice `token`'s feed configuration.
    function feedOf(address token) external view returns (Feed memory) {
        return _feeds[token];
    }

    /// @inheritdoc IUsdPriceOracle
    function hasFeed(address token) external view returns (bool) {
        return _feeds[token].aggregator != address(0);
    }

    /// @notice The latest checked price of one whole `token` in USD, in the feed's decimals.
    function latestPrice(address token) public view returns (uint256 price, uint8 feedDecimals) {
        Feed memory f = _feeds[token];
        if (f.aggregator == address(0)) revert NoFeed(token);
        (uint80 roundId, int256 answer, , uint256 updatedAt, uint80 answeredInRound) = AggregatorV3Interface(
            f.aggregator
        ).latestRoundData();
        if (updatedAt == 0 || answeredInRound < roundId) revert IncompleteRound(token, roundId, answeredInRound);
        if (answer <= 0) revert InvalidPrice(token, answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > f.heartbeat) {
            revert StalePrice(token, updatedAt, f.heartbeat);
        }
        return (uint256(answer), f.feedDecimals);
    }

    /// @inheritdoc IUsdPriceOracle
    function usdToToken(address token, uint256 usdAmount) external view returns (uint256) {
        (uint256 price, uint8 feedDecimals) = latestPrice(token);
        uint8 tokenDecimals = _feeds[token].tokenDecimals;
        // tokens = usd / 1e18 / (price / 10^feedDecimals) * 10^tokenDecimals
        return
            Math.mulDiv(
                usdAmount,
                10 ** (uint256(feedDecimals) + tokenDecimals),
                price * 1e18,
                Math.Rounding.Ceil
            );
    }

    /// @inheritdoc IUsdPriceOracle
    function tokenToUsd(address token, uint256 amount) external view returns (uint256) {
        (uint256 price, uint8 feedDecimals) = latestPrice(token);
        uint8 tokenDecimals = _feeds[token].tokenDecimals;
        // usd = amount / 10^tokenDecimals * price / 10^feedDecimals * 1e18
        return Math.mulDiv(amount, price * 1e18, 10 ** (uint256(feedDecimals) + tokenDecimals));
    }
}
