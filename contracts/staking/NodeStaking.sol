// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {INodeStaking} from "./INodeStaking.sol";

/// @title NodeStaking
/// @notice Node operators stake MESH to register a node (type, region, public URL, capacity).
///         Stake can leave only through an unbonding period; governance can slash it.
///         Active stake carries checkpointed, delegable voting power (IVotes / ERC-5805) on a
///         timestamp clock: the Security DAO votes with it.
/// @dev Invariant: MESH balance of this contract == totalStaked + totalUnbonding.
///      Slashing takes active stake first, then unbonding funds, so unstaking cannot dodge a
///      slash; slashed MESH goes to the protocol treasury and never back to the operator.
contract NodeStaking is INodeStaking, EmergencyPausable, Votes, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Shortest unbonding period governance may set.
    uint64 public constant MIN_UNBONDING_PERIOD = 1 days;
    /// @notice Longest unbonding period governance may set.
    uint64 public constant MAX_UNBONDING_PERIOD = 90 days;
    /// @notice Longest node URL accepted, in bytes.
    uint256 public constant MAX_URL_LENGTH = 256;

    /// @notice The staked token (MESH).
    IERC20 public immutable stakingToken;

    /// @notice Receives slashed stake.
    address public treasury;
    /// @notice Time between `unstake` and the earliest `withdraw` of those funds.
    uint64 public unbondingPeriod;
    /// @notice Sum of all active stakes.
    uint256 public totalStaked;
    /// @notice Sum of all funds waiting out their unbonding period.
    uint256 public totalUnbonding;

    mapping(NodeType nodeType => uint256) public minStake;
    mapping(address operator => Node) private _nodes;

    /// @param authority The AccessManager governing restricted functions.
    /// @param stakingToken_ MESH.
    /// @param treasury_ Receiver of slashed stake.
    /// @param unbondingPeriod_ Initial unbonding period, seconds.
    /// @param minStakes Initial minimum stakes, indexed by NodeType.
    constructor(
        address authority,
        IERC20 stakingToken_,
        address treasury_,
        uint64 unbondingPeriod_,
        uint256[4] memory minStakes
    ) AccessManaged(authority) EIP712("Meshgate NodeStaking", "1") {
        if (authority == address(0) || address(stakingToken_) == address(0) || treasury_ == address(0)) {
            revert ZeroAddress();
        }
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        stakingToken = stakingToken_;
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
        _setUnbondingPeriod(unbondingPeriod_);
        for (uint256 i = 0; i < 4; ++i) {
            _setMinStake(NodeType(i), minStakes[i]);
        }
    }

    // ---------------------------------------------------------------- operator actions

    /// @notice Registers the caller's node and stakes `amount` (needs an approval).
    ///         The caller's votes are self-delegated if it has not delegated yet.
    function registerNode(
        NodeType nodeType,
        bytes32 region,
        string calldata url,
        uint32 capacity,
        uint256 amount
    ) external nonReentrant whenNotPaused {
        Node storage node = _nodes[msg.sender];
        if (node.status == NodeStatus.Active) revert NodeAlreadyActive(msg.sender);
        _checkNodeInfo(region, url, capacity);
        uint256 minimum = minStake[nodeType];
        if (amount == 0) revert ZeroAmount();
        if (amount < minimum) revert StakeBelowMinimum(amount, minimum);

        // Delegate before recording the stake: _delegate moves the units already recorded.
        if (delegates(msg.sender) == address(0)) _delegate(msg.sender, msg.sender);
        node.nodeType = nodeType;
        node.status = NodeStatus.Active;
        node.registeredAt = uint40(block.timestamp);
        node.region = region;
        node.url = url;
        node.capacity = capacity;
        node.stake = amount.toUint128();
        totalStaked += amount;

        _transferVotingUnits(address(0), msg.sender, amount);

        emit NodeRegistered(msg.sender, nodeType, region, url, capacity, amount);
        emit Staked(msg.sender, amount, amount);
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Changes the caller's node region, URL and capacity.
    function updateNode(bytes32 region, string calldata url, uint32 capacity) external {
        Node storage node = _activeNode(msg.sender);
        _checkNodeInfo(region, url, capacity);
        node.region = region;
        node.url = url;
        node.capacity = capacity;
        emit NodeUpdated(msg.sender, region, url, capacity);
    }

    /// @notice Adds `amount` to the caller's active stake (needs an approval).
    function topUp(uint256 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        Node storage node = _activeNode(msg.sender);
        uint256 newStake = node.stake + amount;
        node.stake = newStake.toUint128();
        totalStaked += amount;
        _transferVotingUnits(address(0), msg.sender, amount);
        emit Staked(msg.sender, amount, newStake);
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves `amount` of active stake into unbonding; it can be withdrawn once the
    ///         unbonding period has passed. All unbonding funds share one release time: the
    ///         later of the current one and now + the unbonding period, so a shortened period
    ///         never releases funds earlier. What stays staked must be zero (the node exits) or
    ///         at least the minimum.
    function unstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Node storage node = _activeNode(msg.sender);
        uint256 current = node.stake;
        if (amount > current) revert InsufficientStake(amount, current);
        uint256 remaining = current - amount;
        uint256 minimum = minStake[node.nodeType];
        if (remaining != 0 && remaining < minimum) revert StakeBelowMinimum(remaining, minimum);

        // Never release funds already unbonding sooner than promised, even if the period was shortened.
        uint64 releaseAt = uint64(block.timestamp) + unbondingPeriod;
        if (node.unbonding != 0 && node.unbondingReleaseAt > releaseAt) releaseAt = node.unbondingReleaseAt;
        uint256 unbonding = node.unbonding + amount;
        node.stake = uint128(remaining);
        node.unbonding = unbonding.toUint128();
        node.unbondingReleaseAt = releaseAt;
        totalStaked -= amount;
        totalUnbonding += amount;
        _transferVotingUnits(msg.sender, address(0), amount);

        emit UnstakeStarted(msg.sender, amount, unbonding, releaseAt);
        if (remaining == 0) {
            node.status = NodeStatus.Exiting;
            emit NodeExited(msg.sender);
        }
    }

    /// @notice Sends the caller's unbonded funds back once the unbonding period has passed.
    function withdraw() external nonReentrant {
        Node storage node = _nodes[msg.sender];
        uint256 amount = node.unbonding;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        if (block.timestamp < node.unbondingReleaseAt) revert StillUnbonding(node.unbondingReleaseAt);

        node.unbonding = 0;
        node.unbondingReleaseAt = 0;
        totalUnbonding -= amount;
        if (node.status == NodeStatus.Exiting) delete _nodes[msg.sender];

        emit Withdrawn(msg.sender, amount);
        stakingToken.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Slashes up to `amount` from `operator` (Security DAO): active stake first, then
    ///         unbonding funds. Takes what is there if less than `amount`; sends it to the treasury.
    function slash(address operator, uint256 amount, bytes32 reason) external restricted nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Node storage node = _nodes[operator];
        uint256 staked = node.stake;
        uint256 unbonding = node.unbonding;
        if (staked + unbonding == 0) revert NothingToSlash(operator);

        uint256 fromStake = amount < staked ? amount : staked;
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < unbonding ? rest : unbonding;

        if (fromStake != 0) {
            node.stake = uint128(staked - fromStake);
            totalStaked -= fromStake;
            _transferVotingUnits(operator, address(0), fromStake);
        }
        if (fromUnbonding != 0) {
            node.unbonding = uint128(unbonding - fromUnbonding);
            totalUnbonding -= fromUnbonding;
            if (node.unbonding == 0) node.unbondingReleaseAt = 0;
        }
        if (node.stake == 0 && node.status == NodeStatus.Active) {
            node.status = NodeStatus.Exiting;
            emit NodeExited(operator);
        }
        if (node.stake == 0 && node.unbonding == 0) delete _nodes[operator];

        address to = treasury;
        emit NodeSlashed(operator, fromStake, fromUnbonding, to, reason);
        stakingToken.safeTransfer(to, fromStake + fromUnbonding);
    }

    /// @notice Sets the minimum stake for a node type (Protocol DAO). Nodes under a raised
    ///         minimum stay registered but stop counting as active until they top up.
    function setMinStake(NodeType nodeType, uint256 amount) external restricted {
        _setMinStake(nodeType, amount);
    }

    /// @notice Sets the unbonding period for future unstakes (Protocol DAO).
    function setUnbondingPeriod(uint64 period) external restricted {
        _setUnbondingPeriod(period);
    }

    /// @notice Sets the receiver of slashed stake (Protocol DAO).
    function setTreasury(address treasury_) external restricted {
        if (treasury_ == address(0)) revert ZeroAddress();
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc INodeStaking
    function getNode(address operator) external view returns (Node memory) {
        return _nodes[operator];
    }

    /// @inheritdoc INodeStaking
    function stakeOf(address operator) external view returns (uint256) {
        return _nodes[operator].stake;
    }

    /// @inheritdoc INodeStaking
    function isActive(address operator) external view returns (bool) {
        Node storage node = _nodes[operator];
        return node.status == NodeStatus.Active && node.stake >= minStake[node.nodeType];
    }

    /// @notice The vote-checkpoint clock: the block timestamp (ERC-6372).
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice Describes the clock: timestamps (ERC-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    // ---------------------------------------------------------------- internals

    function _getVotingUnits(address account) internal view override returns (uint256) {
        return _nodes[account].stake;
    }

    function _activeNode(address operator) private view returns (Node storage node) {
        node = _nodes[operator];
        if (node.status != NodeStatus.Active) revert NodeNotActive(operator);
    }

    function _checkNodeInfo(bytes32 region, string calldata url, uint32 capacity) private pure {
        if (region == bytes32(0)) revert ZeroRegion();
        if (bytes(url).length == 0) revert EmptyNodeUrl();
        if (bytes(url).length > MAX_URL_LENGTH) revert NodeUrlTooLong(bytes(url).length, MAX_URL_LENGTH);
        if (capacity == 0) revert ZeroCapacity();
    }

    function _setMinStake(NodeType nodeType, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        minStake[nodeType] = amount;
        emit MinStakeUpdated(nodeType, amount);
    }

    function _setUnbondingPeriod(uint64 period) private {
        if (period < MIN_UNBONDING_PERIOD || period > MAX_UNBONDING_PERIOD) {
            revert UnbondingPeriodOutOfRange(period, MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD);
        }
        unbondingPeriod = period;
        emit UnbondingPeriodUpdated(period);
    }
}
