// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IPaymentEscrow} from "../escrow/IPaymentEscrow.sol";
import {IReputation} from "../reputation/IReputation.sol";
import {INodeStaking} from "../staking/INodeStaking.sol";
import {INodeRewards} from "./INodeRewards.sol";

/// @title NodeRewards
/// @notice Pays node operators MESH for serving calls. Each epoch's pool (the Protocol DAO's
///         emission, funded from the treasury) is split among nodes in proportion to
///         points x reputation factor, where points are the value the node redeemed in the escrow
///         during the epoch, in reward tokens weighted per token by governance, and the factor is
///         the node's smoothed reputation score finalized for that epoch.
/// @dev Pull-based and bounded: during epoch e + 3 (after Reputation finalized epoch e) each
///      node's weight is committed by anyone (typically its own relayer), one call per node;
///      from e + 4 each node claims pool x weight / totalWeight, and the last claim of an epoch
///      takes the remainder, so an epoch's claims sum exactly to its pool: no dust is lost or
///      created. A pool is set aside at the epoch's first commit from unallocated funds, so
///      claims never compete for the same MESH.
///      A node that had enough reports but whose epoch went unfinalized gets factor 0: skipping
///      finalization (to dodge a low score) never pays.
///      Economics: a wash-trading node pays the provider and protocol shares of what it
///      redeems; governance keeps the emission per point under that cost (docs/reputation.md).
contract NodeRewards is INodeRewards, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint16 private constant BPS = 10_000;

    /// @dev A node's committed weight for an epoch and whether it claimed: one slot, so a
    ///      claim rewrites it instead of setting a fresh one.
    struct Commitment {
        uint248 weight;
        bool claimed;
    }

    /// @notice The reward token (MESH).
    IERC20 public immutable rewardToken;
    /// @notice The escrow: epoch clock and served value.
    IPaymentEscrow public immutable escrow;
    /// @notice Reputation: the factor of each node.
    IReputation public immutable reputation;
    /// @notice Node staking: only active nodes commit.
    INodeStaking public immutable staking;
    uint64 private immutable _epochGenesis;
    uint64 private immutable _epochLength;

    /// @notice MESH set aside for each epoch that gets commits.
    uint256 public emissionPerEpoch;
    /// @notice Reputation factor of a node with no score finalized for the epoch, basis points.
    uint16 public unscoredFactorBps;
    /// @notice MESH set aside for epochs and not yet claimed.
    uint256 public reserved;

    /// @notice Points per base unit served, per payment token (0: not counted).
    mapping(address token => uint256) public pointsPerUnit;
    mapping(uint32 epoch => EpochPool) private _pools;
    mapping(uint32 epoch => mapping(address node => Commitment)) private _commitments;

    /// @param authority The AccessManager.
    /// @param rewardToken_ MESH.
    /// @param escrow_ The PaymentEscrow.
    /// @param reputation_ Reputation.
    /// @param staking_ NodeStaking.
    /// @param emissionPerEpoch_ Initial emission per epoch.
    /// @param unscoredFactorBps_ Initial factor for nodes without a score.
    constructor(
        address authority,
        IERC20 rewardToken_,
        IPaymentEscrow escrow_,
        IReputation reputation_,
        INodeStaking staking_,
        uint256 emissionPerEpoch_,
        uint16 unscoredFactorBps_
    ) AccessManaged(authority) {
        if (
            authority == address(0) ||
            address(rewardToken_) == address(0) ||
            address(escrow_) == address(0) ||
            address(reputation_) == address(0) ||
            address(staking_) == address(0)
        ) revert ZeroAddress();
        rewardToken = rewardToken_;
        escrow = escrow_;
        reputation = reputation_;
        staking = staking_;
        _epochGenesis = escrow_.epochGenesis();
        _epochLength = escrow_.epochLength();
        _setEmission(emissionPerEpoch_);
        _setUnscoredFactor(unscoredFactorBps_);
    }

    /// @notice Adds `amount` MESH from the caller (the treasury) to the unallocated funds.
    function fund(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        emit Funded(msg.sender, amount);
        rewardToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc INodeRewards
    /// @dev `tokens` strictly ascending, each a reward token.
    function commit(address node, uint32 epoch, address[] calldata tokens) external {
        uint32 current = _currentEpoch();
        if (current < uint256(epoch) + 3) revert CommitWindowNotOpen(epoch, current);
        if (current > uint256(epoch) + 3) revert CommitWindowClosed(epoch, current);
        if (!staking.isActive(node)) revert NodeNotActive(node);
        uint256 previous = _commitments[epoch][node].weight;

        uint256 points = 0;
        for (uint256 i = 0; i < tokens.length; ++i) {
            if (i != 0 && tokens[i] <= tokens[i - 1]) revert TokensNotAscending(i);
            uint256 perUnit = pointsPerUnit[tokens[i]];
            if (perUnit == 0) revert NotRewardToken(tokens[i]);
            points += escrow.servedValue(tokens[i], node, epoch) * perUnit;
        }
        uint16 factor = _factor(node, epoch);
        uint256 weight = points * factor;
        if (weight == 0) revert NothingToCommit(node, epoch);
        // A commit may only raise a node's weight, so nobody can pin it low by committing first
        // with a subset of its tokens: the node (or anyone) commits again with all of them.
        if (weight <= previous) revert AlreadyCommitted(node, epoch);

        EpochPool storage p = _pools[epoch];
        if (!p.allocated) {
            uint256 available = rewardToken.balanceOf(address(this)) - reserved;
            uint256 pool = emissionPerEpoch < available ? emissionPerEpoch : available;
            p.allocated = true;
            p.pool = pool.toUint128();
            reserved += pool;
            emit EpochPoolAllocated(epoch, pool);
        }
        p.totalWeight = p.totalWeight - previous + weight;
        _commitments[epoch][node] = Commitment(weight.toUint248(), false);
        emit RewardCommitted(epoch, node, points, factor, weight);
    }

    /// @inheritdoc INodeRewards
    function claim(address node, uint32 epoch) external nonReentrant {
        uint32 current = _currentEpoch();
        if (current < uint256(epoch) + 4) revert ClaimNotOpen(epoch, current);
        Commitment storage c = _commitments[epoch][node];
        uint256 weight = c.weight;
        if (weight == 0) revert NothingToClaim(node, epoch);
        if (c.claimed) revert AlreadyClaimed(node, epoch);

        EpochPool storage p = _pools[epoch];
        uint256 claimedWeight = p.claimedWeight + weight;
        // The last claim takes what is left, so the epoch's claims sum exactly to its pool.
        uint256 amount = claimedWeight == p.totalWeight
            ? p.pool - p.paid
            : Math.mulDiv(p.pool, weight, p.totalWeight);
        c.claimed = true;
        p.claimedWeight = claimedWeight;
        p.paid += amount.toUint128();
        reserved -= amount;
        emit RewardClaimed(epoch, node, amount);
        if (amount != 0) rewardToken.safeTransfer(node, amount);
    }

    /// @notice The weight `node` committed for `epoch` (0: none).
    function weightOf(uint32 epoch, address node) external view returns (uint256) {
        return _commitments[epoch][node].weight;
    }

    /// @notice Whether `node` claimed its reward for `epoch`.
    function claimed(uint32 epoch, address node) external view returns (bool) {
        return _commitments[epoch][node].claimed;
    }

    /// @notice An epoch's pool and its progress.
    function poolOf(uint32 epoch) external view returns (EpochPool memory) {
        return _pools[epoch];
    }

    /// @notice MESH held and not set aside for any epoch.
    function unallocated() external view returns (uint256) {
        return rewardToken.balanceOf(address(this)) - reserved;
    }

    /// @notice The current epoch (the escrow's).
    function currentEpoch() external view returns (uint32) {
        return _currentEpoch();
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the emission of epochs not yet allocated (Protocol DAO).
    function setEmission(uint256 perEpoch) external restricted {
        _setEmission(perEpoch);
    }

    /// @notice Counts served value in `token` at `perUnit` points per base unit; 0 stops counting
    ///         it (Protocol DAO). Weights make tokens of different decimals and prices comparable.
    function setRewardToken(address token, uint256 perUnit) external restricted {
        if (token == address(0)) revert ZeroAddress();
        pointsPerUnit[token] = perUnit;
        emit RewardTokenUpdated(token, perUnit);
    }

    /// @notice Sets the factor of nodes without a finalized score (Protocol DAO).
    function setUnscoredFactor(uint16 factorBps) external restricted {
        _setUnscoredFactor(factorBps);
    }

    // ---------------------------------------------------------------- internals

    function _currentEpoch() private view returns (uint32) {
        return uint32((block.timestamp - _epochGenesis) / _epochLength);
    }

    /// @dev The node's smoothed score finalized for the epoch. Without one: the unscored factor
    ///      if validators did not report enough on it, else 0, so a node that could have been
    ///      scored never gains by its epoch going unfinalized (its own relayer finalizes it).
    function _factor(address node, uint32 epoch) private view returns (uint16) {
        (uint16 score, bool scored) = reputation.nodeScoreAt(node, epoch);
        if (scored) return score;
        return reputation.wasScorable(node, epoch) ? 0 : unscoredFactorBps;
    }

    function _setEmission(uint256 perEpoch) private {
        emissionPerEpoch = perEpoch;
        emit EmissionUpdated(perEpoch);
    }

    function _setUnscoredFactor(uint16 factorBps) private {
        if (factorBps > BPS) revert InvalidFactor(factorBps);
        unscoredFactorBps = factorBps;
        emit UnscoredFactorUpdated(factorBps);
    }
}
