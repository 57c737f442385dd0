// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDiscountStaking
/// @notice Types, events and errors of Meshgate's consumer discount staking: consumers stake
///         MESH and get a discount on the APIs that opt in (`Pricing.stakerDiscount`).
interface IDiscountStaking {
    /// @notice A discount tier: a stake of at least `minStake` MESH wei earns `discountBps`.
    struct Tier {
        uint128 minStake;
        uint16 discountBps;
    }

    /// @notice A consumer's position. `cooling` funds wait for `cooldownEndsAt`, then can be
    ///         withdrawn; they earn no discount.
    struct Position {
        uint128 staked;
        uint128 cooling;
        uint64 cooldownEndsAt;
    }

    event Staked(address indexed account, uint256 amount, uint256 totalStake);
    event UnstakeRequested(address indexed account, uint256 amount, uint256 totalCooling, uint64 cooldownEndsAt);
    event Withdrawn(address indexed account, uint256 amount);
    event TiersUpdated(Tier[] tiers);
    event CooldownUpdated(uint64 cooldown);

    error ZeroAmount();
    error ZeroAddress();
    error InsufficientStake(uint256 requested, uint256 available);
    error NothingToWithdraw(address account);
    error StillCooling(uint64 cooldownEndsAt);
    error TooManyTiers(uint256 count, uint256 maxCount);
    error TierStakeNotAscending(uint256 index, uint256 minStake, uint256 previousMinStake);
    error TierDiscountDecreasing(uint256 index, uint16 discountBps, uint16 previousDiscountBps);
    error TierDiscountTooHigh(uint256 index, uint16 discountBps, uint16 maxDiscountBps);
    error CooldownOutOfRange(uint64 cooldown, uint64 minCooldown, uint64 maxCooldown);

    /// @notice The discount `account` earns now, in basis points (0 without a qualifying stake).
    ///         Only active stake counts; cooling stake earns nothing.
    function discountBpsOf(address account) external view returns (uint16);

    /// @notice `account`'s active stake (what the tiers look at).
    function stakeOf(address account) external view returns (uint256);

    /// @notice `account`'s whole position.
    function getPosition(address account) external view returns (Position memory);

    /// @notice The current tiers, ascending.
    function getTiers() external view returns (Tier[] memory);
}
