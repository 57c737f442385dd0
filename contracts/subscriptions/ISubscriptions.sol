// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IEarningsLedger} from "../escrow/IEarningsLedger.sol";

/// @title ISubscriptions
/// @notice Types, events and errors of Meshgate's prepaid API subscriptions.
interface ISubscriptions is IEarningsLedger {
    /// @notice One payer's subscription to one API. Access lasts while block.timestamp <
    ///         `paidUntil`. `period` is the length of the last period paid (it sets the renewal
    ///         window); `token` and `maxPricePerPeriod` are what renewals may charge, from the
    ///         payer's prepaid balance, while `autoRenew` is on. The first slot holds everything
    ///         the keeper scan reads.
    struct Subscription {
        address payer;
        uint40 paidUntil;
        uint32 period;
        bool autoRenew;
        address token;
        uint256 apiId;
        uint256 maxPricePerPeriod;
    }

    event Subscribed(
        uint256 indexed subscriptionId,
        address indexed payer,
        uint256 indexed apiId,
        address token,
        uint256 periods,
        uint256 pricePerPeriod,
        uint256 maxPricePerPeriod,
        uint32 period,
        uint40 paidUntil
    );
    event Renewed(
        uint256 indexed subscriptionId,
        address indexed payer,
        uint256 indexed apiId,
        address token,
        uint256 price,
        uint32 period,
        uint40 paidUntil
    );
    /// @notice A due renewal could not be charged; auto-renewal is now off. `reason` is the
    ///         ABI-encoded custom error `renew(subscriptionId)` would have reverted with.
    event RenewalFailed(uint256 indexed subscriptionId, bytes reason);
    event SubscriptionCancelled(
        uint256 indexed subscriptionId,
        address indexed payer,
        uint256 indexed apiId,
        uint40 paidUntil
    );
    event BalanceDeposited(address indexed payer, address indexed token, uint256 amount, uint256 balance);
    event BalanceWithdrawn(address indexed payer, address indexed token, uint256 amount, uint256 balance);
    event ProtocolBpsUpdated(uint16 protocolBps);

    error ZeroAmount();
    error InvalidPeriods(uint256 periods, uint256 maxPeriods);
    error ApiNotActive(uint256 apiId);
    error SubscriptionNotOffered(uint256 apiId);
    error PriceAboveLimit(uint256 price, uint256 maxPrice);
    error UnexpectedReceipt(address token, uint256 expected, uint256 received);
    error InsufficientPrepaidBalance(address payer, address token, uint256 required, uint256 available);
    error SubscriptionNotFound(uint256 subscriptionId);
    error NotSubscribed(address payer, uint256 apiId);
    error RenewalDisabled(uint256 subscriptionId);
    error NotDue(uint256 subscriptionId, uint256 renewableAt);
    error QuoteFailed(uint256 apiId, address token);
    error InsufficientGas();
    error BatchTooLarge(uint256 count, uint256 maxCount);
    error ProtocolBpsTooHigh(uint16 protocolBps, uint16 maxProtocolBps);

    /// @notice Whether `payer` has access to `apiId` now (its subscription is paid past now).
    function isSubscribed(address payer, uint256 apiId) external view returns (bool);

    /// @notice A subscription by id (reverts SubscriptionNotFound for an unknown id).
    function getSubscription(uint256 subscriptionId) external view returns (Subscription memory);

    /// @notice The id of `payer`'s subscription to `apiId`, 0 if none.
    function subscriptionIdOf(address payer, uint256 apiId) external view returns (uint256);

    /// @notice Number of subscriptions ever created; also the newest id (ids start at 1).
    function subscriptionCount() external view returns (uint256);
}
