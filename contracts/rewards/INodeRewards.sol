// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title INodeRewards
/// @notice Types, events and errors of Meshgate's node rewards: a governed MESH emission per
///         epoch, split among nodes by the value they served (settled in the escrow during the
///         epoch) times their reputation.
interface INodeRewards {
    /// @notice One epoch's reward pool and how much of it has been committed and claimed.
    /// @param pool MESH set aside for the epoch (at its first commit).
    /// @param paid MESH claimed so far.
    /// @param totalWeight Sum of committed weights.
    /// @param claimedWeight Sum of the weights of claims made.
    /// @param allocated Whether the pool has been set aside.
    struct EpochPool {
        uint128 pool;
        uint128 paid;
        uint256 totalWeight;
        uint256 claimedWeight;
        bool allocated;
    }

    event Funded(address indexed from, uint256 amount);
    event EmissionUpdated(uint256 perEpoch);
    event RewardTokenUpdated(address indexed token, uint256 pointsPerUnit);
    event UnscoredFactorUpdated(uint16 factorBps);
    event EpochPoolAllocated(uint32 indexed epoch, uint256 amount);
    event RewardCommitted(
        uint32 indexed epoch,
        address indexed node,
        uint256 points,
        uint16 factorBps,
        uint256 weight
    );
    event RewardClaimed(uint32 indexed epoch, address indexed node, uint256 amount);

    error ZeroAddress();
    error ZeroAmount();
    error InvalidFactor(uint16 factorBps);
    error CommitWindowNotOpen(uint32 epoch, uint32 currentEpoch);
    error CommitWindowClosed(uint32 epoch, uint32 currentEpoch);
    error ClaimNotOpen(uint32 epoch, uint32 currentEpoch);
    error NodeNotActive(address node);
    error TokensNotAscending(uint256 index);
    error NotRewardToken(address token);
    error AlreadyCommitted(address node, uint32 epoch);
    error NothingToCommit(address node, uint32 epoch);
    error NothingToClaim(address node, uint32 epoch);
    error AlreadyClaimed(address node, uint32 epoch);

    /// @notice Computes `node`'s weight for `epoch` from the value it served in `tokens` and its
    ///         reputation, and adds it to the epoch's total (anyone; during epoch + 3). A node
    ///         already committed can be committed again only with a higher weight, which replaces
    ///         the previous one.
    function commit(address node, uint32 epoch, address[] calldata tokens) external;

    /// @notice Pays `node` its share of `epoch`'s pool (anyone; from epoch + 4).
    function claim(address node, uint32 epoch) external;
}
