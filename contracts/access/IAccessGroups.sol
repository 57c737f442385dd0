// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAccessGroups
/// @notice Types, events and errors of Meshgate's anonymous access groups: per-API sets of
///         identity commitments (leaves of an on-chain Poseidon LeanIMT) whose members call the
///         API with zero-knowledge proofs (circuits/access.circom) instead of keys or vouchers.
interface IAccessGroups {
    /// @notice What an API's provider sets for its group.
    /// @param deposit Locked per member at join, in `depositToken`; slashable. Must be > 0 unless
    ///        `requireSubscription` (an open group with free seats would let anyone multiply its
    ///        rate limit by joining many identities).
    /// @param epochLength Rate-limit epoch in seconds: epoch = block.timestamp / epochLength. Fixed
    ///        at creation (updateGroup must repeat it).
    /// @param userMessageLimit Calls per member per epoch (the circuit's public input).
    /// @param rootHistoryWindow Seconds a replaced root stays valid, so proofs made just before
    ///        another member joins or leaves still verify.
    /// @param requireSubscription Joining needs an active subscription to the API (one
    ///        membership per subscriber); a lapsed subscriber can be removed by anyone. Fixed at
    ///        creation.
    struct GroupSettings {
        uint128 deposit;
        uint32 epochLength;
        uint16 userMessageLimit;
        uint32 rootHistoryWindow;
        bool requireSubscription;
    }

    /// @notice A group as stored. `depositToken`, `epochLength` and `requireSubscription` are
    ///         fixed at creation.
    struct Group {
        address depositToken;
        uint32 epochLength;
        uint16 userMessageLimit;
        uint32 rootHistoryWindow;
        bool requireSubscription;
        bool exists;
        uint128 deposit;
    }

    /// @notice None: never joined (or withdrew). Active: a leaf of the tree. Exiting: left or
    ///         removed; its deposit stays slashable until `unlockAt`. Slashed: its secret was
    ///         revealed; the commitment is banned from the group for good.
    enum MemberStatus {
        None,
        Active,
        Exiting,
        Slashed
    }

    struct Member {
        address owner;
        MemberStatus status;
        uint40 unlockAt;
        uint128 deposit;
    }

    event GroupCreated(
        uint256 indexed apiId,
        address indexed depositToken,
        uint128 deposit,
        uint32 epochLength,
        uint16 userMessageLimit,
        uint32 rootHistoryWindow,
        bool requireSubscription
    );
    event GroupUpdated(
        uint256 indexed apiId,
        uint128 deposit,
        uint32 epochLength,
        uint16 userMessageLimit,
        uint32 rootHistoryWindow,
        bool requireSubscription
    );
    /// @param index The leaf index (LeanIMT insertion order); `root` is the group's new root.
    event MemberJoined(
        uint256 indexed apiId,
        uint256 indexed commitment,
        address indexed owner,
        uint256 index,
        uint128 deposit,
        uint256 root
    );
    /// @notice The member left (`lapsed` false) or was removed because its subscription lapsed
    ///         (`lapsed` true); its leaf is now 0 and its deposit unlocks at `unlockAt`.
    event MemberExited(uint256 indexed apiId, uint256 indexed commitment, bool lapsed, uint40 unlockAt, uint256 root);
    event MemberSlashed(
        uint256 indexed apiId,
        uint256 indexed commitment,
        address indexed slasher,
        uint256 reward,
        uint256 toTreasury,
        uint256 root
    );
    event DepositWithdrawn(uint256 indexed apiId, uint256 indexed commitment, address indexed owner, uint256 amount);
    event SlashCommitted(bytes32 indexed digest, address indexed committer);
    event SlashRewardBpsUpdated(uint16 slashRewardBps);
    event TreasuryUpdated(address indexed treasury);

    error ZeroAddress();
    error InvalidTreasury(address treasury);
    error NotApiProvider(uint256 apiId, address caller);
    error ApiNotActive(uint256 apiId);
    error GroupExists(uint256 apiId);
    error GroupNotFound(uint256 apiId);
    error InvalidDepositToken(address token);
    error InvalidGroupSettings();
    error EpochLengthFixed(uint256 apiId, uint32 epochLength);
    error SubscriptionModeFixed(uint256 apiId, bool requireSubscription);
    error InvalidCommitment(uint256 commitment);
    error CommitmentInUse(uint256 apiId, uint256 commitment, MemberStatus status);
    error GroupFull(uint256 apiId, uint256 maxSize);
    error NotSubscribed(address caller, uint256 apiId);
    error AlreadySubscribedMember(uint256 apiId, address subscriber, uint256 commitment);
    error UnexpectedReceipt(address token, uint256 expected, uint256 received);
    error NotMemberOwner(uint256 apiId, uint256 commitment, address caller);
    error NotActiveMember(uint256 apiId, uint256 commitment);
    error SubscriptionStillActive(uint256 apiId, address subscriber);
    error NotSubscriptionGroup(uint256 apiId);
    error WrongSiblingCount(uint256 expected, uint256 given);
    error DepositLocked(uint256 apiId, uint256 commitment, uint256 unlockAt);
    error NothingToWithdraw(uint256 apiId, uint256 commitment);
    error SlashNotCommitted(bytes32 digest);
    error SlashCommitTooRecent(bytes32 digest);
    error SlashCommitExists(bytes32 digest);
    error NotSlashable(uint256 apiId, uint256 commitment, MemberStatus status);
    error InvalidSecret();
    error SlashRewardBpsTooHigh(uint16 slashRewardBps, uint16 maxSlashRewardBps);

    /// @notice The group of `apiId` (reverts GroupNotFound).
    function getGroup(uint256 apiId) external view returns (Group memory);

    /// @notice A member record (status None when unknown).
    function getMember(uint256 apiId, uint256 commitment) external view returns (Member memory);

    /// @notice Whether `root` is the group's current root or was replaced less than
    ///         `rootHistoryWindow` seconds ago. Root 0 (an empty group) is never known.
    function isKnownRoot(uint256 apiId, uint256 root) external view returns (bool);

    /// @notice What AccessVerifier checks a proof against, in one call: the group's epoch length
    ///         and message limit, and whether `root` is known (reverts GroupNotFound).
    function accessContext(
        uint256 apiId,
        uint256 root
    ) external view returns (uint256 epochLength, uint256 userMessageLimit, bool rootKnown);

    /// @notice block.timestamp / epochLength of the group (reverts GroupNotFound).
    function currentEpoch(uint256 apiId) external view returns (uint256);
}
