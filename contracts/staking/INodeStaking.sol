// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title INodeStaking
/// @notice Types, events and errors of Meshgate's node-operator staking.
interface INodeStaking {
    /// @notice Kinds of node; each has its own minimum stake.
    enum NodeType {
        Edge,
        Mobile,
        Cloud,
        Validator
    }

    /// @notice `None`: no node (never registered, or fully exited). `Active`: registered with
    ///         stake. `Exiting`: all stake unstaked; only unbonding funds remain.
    enum NodeStatus {
        None,
        Active,
        Exiting
    }

    /// @notice A node as stored on-chain; one node per operator address.
    struct Node {
        uint128 stake;
        uint128 unbonding;
        uint64 unbondingReleaseAt;
        uint40 registeredAt;
        uint32 capacity;
        NodeType nodeType;
        NodeStatus status;
        bytes32 region;
        string url;
    }

    event NodeRegistered(
        address indexed operator,
        NodeType nodeType,
        bytes32 indexed region,
        string url,
        uint32 capacity,
        uint256 stake
    );
    event NodeUpdated(address indexed operator, bytes32 indexed region, string url, uint32 capacity);
    event Staked(address indexed operator, uint256 amount, uint256 totalStake);
    event UnstakeStarted(address indexed operator, uint256 amount, uint256 totalUnbonding, uint64 releaseAt);
    event Withdrawn(address indexed operator, uint256 amount);
    event NodeExited(address indexed operator);
    event NodeSlashed(
        address indexed operator,
        uint256 fromStake,
        uint256 fromUnbonding,
        address indexed recipient,
        bytes32 reason
    );
    event MinStakeUpdated(NodeType indexed nodeType, uint256 amount);
    event UnbondingPeriodUpdated(uint64 period);
    event TreasuryUpdated(address indexed treasury);

    error NodeAlreadyActive(address operator);
    error NodeNotActive(address operator);
    error StakeBelowMinimum(uint256 stake, uint256 minimum);
    error ZeroAmount();
    error InsufficientStake(uint256 requested, uint256 available);
    error NothingToWithdraw(address operator);
    error StillUnbonding(uint64 releaseAt);
    error NothingToSlash(address operator);
    error EmptyNodeUrl();
    error NodeUrlTooLong(uint256 length, uint256 maxLength);
    error ZeroRegion();
    error ZeroCapacity();
    error UnbondingPeriodOutOfRange(uint64 period, uint64 minPeriod, uint64 maxPeriod);
    error ZeroAddress();
    error InvalidTreasury(address treasury);

    /// @notice The node of `operator` (all zero when it has none).
    function getNode(address operator) external view returns (Node memory);

    /// @notice Active stake of `operator`, excluding funds that are unbonding.
    function stakeOf(address operator) external view returns (uint256);

    /// @notice Whether `operator` runs a node that may serve traffic: active and at or above
    ///         the current minimum stake for its type.
    function isActive(address operator) external view returns (bool);
}
