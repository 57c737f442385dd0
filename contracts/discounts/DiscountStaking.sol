// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {IDiscountStaking} from "./IDiscountStaking.sol";

/// @title DiscountStaking
/// @notice Consumers stake MESH for a discount tier on the APIs that opt in. Leaving takes two
///         steps: `requestUnstake` moves stake into cooling (no discount from then on) and
///         `withdraw` pays it out once the cooldown has passed.
/// @dev Flash-loan resistance: the discount is read from active stake at payment time, and
///      stake can only leave through the cooldown (at least MIN_COOLDOWN = 1 day). MESH borrowed
///      for one transaction (a flash loan) can be staked but never returned within that
///      transaction, so the loan cannot be repaid; a discount always costs the staker locking
///      the MESH for at least the cooldown. A request never shortens a cooldown already running
///      (cooldownEndsAt = max(existing, now + cooldown)), even if governance shortened it.
///      Invariant: MESH balance of this contract == totalStaked + totalCooling (tokens sent
///      here directly, outside `stake`, are not counted and stay stuck).
contract DiscountStaking is IDiscountStaking, EmergencyPausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Most tiers governance may set (keeps `discountBpsOf` bounded).
    uint256 public constant MAX_TIERS = 8;
    /// @notice Highest discount a tier may give: 50%.
    uint16 public constant MAX_DISCOUNT_BPS = 5000;
    /// @notice Shortest cooldown governance may set.
    uint64 public constant MIN_COOLDOWN = 1 days;
    /// @notice Longest cooldown governance may set.
    uint64 public constant MAX_COOLDOWN = 30 days;

    /// @notice The staked token (MESH).
    IERC20 public immutable stakingToken;

    /// @notice Time between `requestUnstake` and the earliest `withdraw` of those funds.
    uint64 public cooldown;
    /// @notice Sum of all active stakes.
    uint256 public totalStaked;
    /// @notice Sum of all funds waiting out their cooldown.
    uint256 public totalCooling;

    Tier[] private _tiers;
    mapping(address account => Position) private _positions;

    /// @param authority The AccessManager governing restricted functions.
    /// @param stakingToken_ MESH.
    /// @param cooldown_ Initial cooldown, seconds.
    /// @param tiers Initial tiers (see `setTiers`).
    constructor(
        address authority,
        IERC20 stakingToken_,
        uint64 cooldown_,
        Tier[] memory tiers
    ) AccessManaged(authority) {
        if (authority == address(0) || address(stakingToken_) == address(0)) revert ZeroAddress();
        stakingToken = stakingToken_;
        _setCooldown(cooldown_);
        _setTiers(tiers);
    }

    // ---------------------------------------------------------------- staker actions

    /// @notice Adds `amount` MESH to the caller's active stake (needs an approval). Counts for
    ///         discounts at once.
    function stake(uint256 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender];
        uint256 newStake = p.staked + amount;
        p.staked = newStake.toUint128();
        totalStaked += amount;
        emit Staked(msg.sender, amount, newStake);
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves `amount` of the caller's active stake into cooling: it stops counting for
    ///         discounts now and can be withdrawn once the cooldown has passed. The cooldown of
    ///         all cooling funds becomes max(current end, now + cooldown): never shorter.
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender];
        uint256 current = p.staked;
        if (amount > current) revert InsufficientStake(amount, current);

        uint64 endsAt = uint64(block.timestamp) + cooldown;
        if (p.cooldownEndsAt > endsAt) endsAt = p.cooldownEndsAt;
        uint256 cooling = p.cooling + amount;
        p.staked = uint128(current - amount);
        p.cooling = cooling.toUint128();
        p.cooldownEndsAt = endsAt;
        totalStaked -= amount;
        totalCooling += amount;
        emit UnstakeRequested(msg.sender, amount, cooling, endsAt);
    }

    /// @notice Sends the caller all its cooling funds once their cooldown has passed.
    function withdraw() external nonReentrant {
        Position storage p = _positions[msg.sender];
        uint256 amount = p.cooling;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        if (block.timestamp < p.cooldownEndsAt) revert StillCooling(p.cooldownEndsAt);

        p.cooling = 0;
        p.cooldownEndsAt = 0;
        totalCooling -= amount;
        emit Withdrawn(msg.sender, amount);
        stakingToken.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Replaces the discount tiers (Protocol DAO). At most MAX_TIERS; minStake strictly
    ///         ascending and non-zero; discountBps non-decreasing and at most MAX_DISCOUNT_BPS.
    ///         An empty list turns discounts off. Applies to every later quote.
    function setTiers(Tier[] calldata tiers) external restricted {
        _setTiers(tiers);
    }

    /// @notice Sets the cooldown for later unstake requests (Protocol DAO); running
    ///         cooldowns keep their end.
    function setCooldown(uint64 cooldown_) external restricted {
        _setCooldown(cooldown_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDiscountStaking
    function discountBpsOf(address account) external view returns (uint16) {
        uint256 staked = _positions[account].staked;
        // Highest tier first; at most MAX_TIERS iterations.
        for (uint256 i = _tiers.length; i > 0; --i) {
            Tier memory t = _tiers[i - 1];
            if (staked >= t.minStake) return t.discountBps;
        }
        return 0;
    }

    /// @inheritdoc IDiscountStaking
    function stakeOf(address account) external view returns (uint256) {
        return _positions[account].staked;
    }

    /// @inheritdoc IDiscountStaking
    function getPosition(address account) external view returns (Position memory) {
        return _positions[account];
    }

    /// @inheritdoc IDiscountStaking
    function getTiers() external view returns (Tier[] memory) {
        return _tiers;
    }

    // ---------------------------------------------------------------- internals

    function _setTiers(Tier[] memory tiers) private {
        uint256 n = tiers.length;
        if (n > MAX_TIERS) revert TooManyTiers(n, MAX_TIERS);
        uint128 previousStake = 0;
        uint16 previousBps = 0;
        for (uint256 i = 0; i < n; ++i) {
            Tier memory t = tiers[i];
            // Starting from 0 also rejects a zero first tier (it would discount everyone).
            if (t.minStake <= previousStake) revert TierStakeNotAscending(i, t.minStake, previousStake);
            if (t.discountBps < previousBps) revert TierDiscountDecreasing(i, t.discountBps, previousBps);
            if (t.discountBps > MAX_DISCOUNT_BPS) revert TierDiscountTooHigh(i, t.discountBps, MAX_DISCOUNT_BPS);
            (previousStake, previousBps) = (t.minStake, t.discountBps);
        }
        delete _tiers;
        for (uint256 i = 0; i < n; ++i) _tiers.push(tiers[i]);
        emit TiersUpdated(tiers);
    }

    function _setCooldown(uint64 cooldown_) private {
        if (cooldown_ < MIN_COOLDOWN || cooldown_ > MAX_COOLDOWN) {
            revert CooldownOutOfRange(cooldown_, MIN_COOLDOWN, MAX_COOLDOWN);
        }
        cooldown = cooldown_;
        emit CooldownUpdated(cooldown_);
    }
}
