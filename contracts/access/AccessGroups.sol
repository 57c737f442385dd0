// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {InternalLeanIMT, LeanIMTData} from "@zk-kit/lean-imt.sol/InternalLeanIMT.sol";
import {SNARK_SCALAR_FIELD} from "@zk-kit/lean-imt.sol/Constants.sol";
import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {IApiRegistry} from "../registry/IApiRegistry.sol";
import {ISubscriptions} from "../subscriptions/ISubscriptions.sol";
import {IAccessGroups} from "./IAccessGroups.sol";

/// @title AccessGroups
/// @notice Anonymous access groups, one per API. A member is an identity commitment
///         Poseidon(secret), a leaf of the group's on-chain Poseidon LeanIMT (the Merkle tree
///         of Semaphore v4, dynamic depth up to 20). Members call the API with a zero-knowledge
///         proof of membership that also enforces `userMessageLimit` calls per epoch (RLN v2):
///         a member that calls more often reveals two points of a line whose intercept is its
///         secret. Anyone holding a revealed secret can slash: the member is removed, its
///         commitment banned, and its deposit split between the slasher and the treasury.
///         Members join by locking the group's deposit, and, in subscription groups, by holding
///         an active subscription to the API (one membership per subscriber; removable by
///         anyone once the subscription lapses).
/// @dev Slashing is commit-reveal (commitSlash, then slash in a later block) so a watcher of the
///      mempool cannot copy a revealed secret and take the reward. A member that leaves stays
///      slashable until it withdraws, which it can do rootHistoryWindow + 2 epochs + SLASH_GRACE
///      after leaving: long enough for shares from its last valid proofs to be collected.
///      Invariant: token balance >= sum of deposits of Active and Exiting members.
contract AccessGroups is IAccessGroups, EmergencyPausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using InternalLeanIMT for LeanIMTData;

    /// @notice Deepest tree the circuit proves membership in: 2^20 members per group.
    uint256 public constant MAX_DEPTH = 20;
    uint256 public constant MAX_GROUP_SIZE = 2 ** MAX_DEPTH;
    /// @notice Bounds of the group settings.
    uint32 public constant MIN_EPOCH_LENGTH = 1;
    uint32 public constant MAX_EPOCH_LENGTH = 30 days;
    uint32 public constant MAX_ROOT_HISTORY_WINDOW = 7 days;
    /// @notice Time after the last valid proof to collect shares and slash a departed member.
    uint256 public constant SLASH_GRACE = 1 days;
    /// @notice Highest slasher share governance may set: 100% (the rest goes to the treasury).
    uint16 public constant MAX_SLASH_REWARD_BPS = 10_000;
    uint256 private constant BPS = 10_000;

    IApiRegistry public immutable registry;
    ISubscriptions public immutable subscriptions;

    /// @notice Receiver of the non-reward part of slashed deposits.
    address public treasury;
    /// @notice The slasher's share of a slashed deposit, basis points.
    uint16 public slashRewardBps;

    /// @notice Block number of each slash commitment keccak256(abi.encode(slasher, apiId, secret)).
    mapping(bytes32 digest => uint256 blockNumber) public slashCommits;
    /// @notice The commitment a subscriber holds in a subscription group (0 if none).
    mapping(uint256 apiId => mapping(address subscriber => uint256)) public subscriberCommitment;

    mapping(uint256 apiId => Group) private _groups;
    mapping(uint256 apiId => LeanIMTData) private _trees;
    mapping(uint256 apiId => mapping(uint256 commitment => Member)) private _members;
    /// @dev When each root stops being valid: never (max) while current, the group's window after
    ///      it is replaced. One storage read answers isKnownRoot on the verification hot path.
    mapping(uint256 apiId => mapping(uint256 root => uint256)) private _rootExpiry;

    /// @param authority The AccessManager.
    /// @param registry_ The ApiRegistry (providers configure their API's group).
    /// @param subscriptions_ Subscriptions (membership in subscription groups).
    /// @param treasury_ Receiver of the treasury part of slashed deposits.
    /// @param slashRewardBps_ Initial slasher share, basis points.
    constructor(
        address authority,
        IApiRegistry registry_,
        ISubscriptions subscriptions_,
        address treasury_,
        uint16 slashRewardBps_
    ) AccessManaged(authority) {
        if (address(registry_) == address(0) || address(subscriptions_) == address(0)) revert ZeroAddress();
        registry = registry_;
        subscriptions = subscriptions_;
        _setTreasury(treasury_);
        _setSlashRewardBps(slashRewardBps_);
    }

    // ---------------------------------------------------------------- provider

    /// @notice Creates the access group of `apiId` (its provider only; once per API).
    /// @param depositToken ERC-20 in which members lock `settings.deposit` (fixed for good).
    function createGroup(
        uint256 apiId,
        address depositToken,
        GroupSettings calldata settings
    ) external whenNotPaused {
        _onlyProvider(apiId);
        if (_groups[apiId].exists) revert GroupExists(apiId);
        if (depositToken == address(0) || depositToken.code.length == 0) revert InvalidDepositToken(depositToken);
        _checkSettings(settings);
        _groups[apiId] = Group({
            depositToken: depositToken,
            epochLength: settings.epochLength,
            userMessageLimit: settings.userMessageLimit,
            rootHistoryWindow: settings.rootHistoryWindow,
            requireSubscription: settings.requireSubscription,
            exists: true,
            deposit: settings.deposit
        });
        emit GroupCreated(
            apiId,
            depositToken,
            settings.deposit,
            settings.epochLength,
            settings.userMessageLimit,
            settings.rootHistoryWindow,
            settings.requireSubscription
        );
    }

    /// @notice Changes a group's settings (its provider only). A new deposit applies to later
    ///         joins, a new limit to proofs from now on. The subscription requirement is fixed,
    ///         and so is the epoch length: epochs are
    ///         numbered block.timestamp / epochLength, so another length would renumber them and
    ///         an honest member's past (epoch, index) nullifier could come round again, revealing
    ///         its secret.
    function updateGroup(uint256 apiId, GroupSettings calldata settings) external {
        _onlyProvider(apiId);
        Group storage g = _group(apiId);
        _checkSettings(settings);
        if (settings.epochLength != g.epochLength) revert EpochLengthFixed(apiId, g.epochLength);
        // Switching modes would strand members: subscribers without a slot, or free members
        // with nothing to slash.
        if (settings.requireSubscription != g.requireSubscription) {
            revert SubscriptionModeFixed(apiId, g.requireSubscription);
        }
        g.deposit = settings.deposit;
        g.epochLength = settings.epochLength;
        g.userMessageLimit = settings.userMessageLimit;
        g.rootHistoryWindow = settings.rootHistoryWindow;
        emit GroupUpdated(
            apiId,
            settings.deposit,
            settings.epochLength,
            settings.userMessageLimit,
            settings.rootHistoryWindow,
            settings.requireSubscription
        );
    }

    // ---------------------------------------------------------------- members

    /// @notice Adds `commitment` = Poseidon(secret) to the group of `apiId`, locking the group's
    ///         deposit from the caller (needs an approval). In a subscription group the caller
    ///         must hold an active subscription and no other membership.
    function join(uint256 apiId, uint256 commitment) external nonReentrant whenNotPaused {
        Group storage g = _group(apiId);
        if (!registry.isActive(apiId)) revert ApiNotActive(apiId);
        if (commitment == 0 || commitment >= SNARK_SCALAR_FIELD) revert InvalidCommitment(commitment);
        Member storage m = _members[apiId][commitment];
        if (m.status != MemberStatus.None) revert CommitmentInUse(apiId, commitment, m.status);
        LeanIMTData storage tree = _trees[apiId];
        if (tree.size >= MAX_GROUP_SIZE) revert GroupFull(apiId, MAX_GROUP_SIZE);
        if (g.requireSubscription) {
            if (!subscriptions.isSubscribed(msg.sender, apiId)) revert NotSubscribed(msg.sender, apiId);
            uint256 held = subscriberCommitment[apiId][msg.sender];
            if (held != 0) revert AlreadySubscribedMember(apiId, msg.sender, held);
            subscriberCommitment[apiId][msg.sender] = commitment;
        }

        uint128 deposit = g.deposit;
        _members[apiId][commitment] = Member({
            owner: msg.sender,
            status: MemberStatus.Active,
            unlockAt: 0,
            deposit: deposit
        });
        uint256 index = tree.size;
        uint256 oldRoot = tree._root();
        uint256 root = tree._insert(commitment);
        _replaceRoot(apiId, g, oldRoot, root);
        emit MemberJoined(apiId, commitment, msg.sender, index, deposit, root);

        if (deposit > 0) _pullExact(g.depositToken, deposit);
    }

    /// @notice Leaves the group (the member's owner only): the leaf becomes 0 and the deposit
    ///         unlocks after the slashing grace period.
    /// @param siblings The leaf's LeanIMT sibling nodes (@zk-kit/lean-imt generateProof).
    function leave(uint256 apiId, uint256 commitment, uint256[] calldata siblings) external {
        Member storage m = _activeMember(apiId, commitment);
        if (m.owner != msg.sender) revert NotMemberOwner(apiId, commitment, msg.sender);
        _exit(apiId, commitment, m, siblings, false);
    }

    /// @notice Removes a member of a subscription group whose owner's subscription lapsed
    ///         (anyone may call, e.g. a keeper). The deposit unlocks as after `leave`.
    function removeLapsed(uint256 apiId, uint256 commitment, uint256[] calldata siblings) external {
        Group storage g = _group(apiId);
        if (!g.requireSubscription) revert NotSubscriptionGroup(apiId);
        Member storage m = _activeMember(apiId, commitment);
        if (subscriptions.isSubscribed(m.owner, apiId)) revert SubscriptionStillActive(apiId, m.owner);
        _exit(apiId, commitment, m, siblings, true);
    }

    /// @notice Pays an exited member's deposit back to its owner once unlocked, and frees the
    ///         commitment (and, in subscription groups, the owner's membership slot).
    function withdraw(uint256 apiId, uint256 commitment) external nonReentrant {
        Member storage m = _members[apiId][commitment];
        if (m.status != MemberStatus.Exiting) revert NothingToWithdraw(apiId, commitment);
        if (block.timestamp < m.unlockAt) revert DepositLocked(apiId, commitment, m.unlockAt);
        address owner = m.owner;
        uint256 amount = m.deposit;
        delete _members[apiId][commitment];
        if (subscriberCommitment[apiId][owner] == commitment) delete subscriberCommitment[apiId][owner];
        emit DepositWithdrawn(apiId, commitment, owner, amount);
        if (amount > 0) IERC20(_groups[apiId].depositToken).safeTransfer(owner, amount);
    }

    // ---------------------------------------------------------------- slashing

    /// @notice Step 1 of a slash: commit to keccak256(abi.encode(slasher, apiId, secret)) so the
    ///         secret revealed in step 2 cannot be front-run. `slash` accepts it from the next block.
    function commitSlash(bytes32 digest) external {
        if (slashCommits[digest] != 0) revert SlashCommitExists(digest);
        slashCommits[digest] = block.number;
        emit SlashCommitted(digest, msg.sender);
    }

    /// @notice Step 2: reveals the identity secret of a member (recovered from two shares of
    ///         one nullifier: it called more than `userMessageLimit` times in an epoch). The
    ///         member is removed (Active) or its pending exit ended (Exiting), its commitment is
    ///         banned from the group (in a subscription group its owner keeps the membership
    ///         slot, so it cannot join again), and its deposit is split: `slashRewardBps` to the
    ///         caller, the rest to the treasury.
    /// @param siblings The member's LeanIMT sibling nodes when it is Active (empty otherwise).
    function slash(uint256 apiId, uint256 secret, uint256[] calldata siblings) external nonReentrant {
        bytes32 digest = keccak256(abi.encode(msg.sender, apiId, secret));
        uint256 committedAt = slashCommits[digest];
        if (committedAt == 0) revert SlashNotCommitted(digest);
        if (committedAt >= block.number) revert SlashCommitTooRecent(digest);
        if (secret == 0 || secret >= SNARK_SCALAR_FIELD) revert InvalidSecret();
        delete slashCommits[digest];

        uint256 commitment = PoseidonT2.hash([secret]);
        Member storage m = _members[apiId][commitment];
        MemberStatus status = m.status;
        if (status != MemberStatus.Active && status != MemberStatus.Exiting) {
            revert NotSlashable(apiId, commitment, status);
        }
        Group storage g = _groups[apiId];
        LeanIMTData storage tree = _trees[apiId];
        uint256 root = tree._root();
        if (status == MemberStatus.Active) root = _removeLeaf(apiId, g, tree, commitment, siblings);

        uint256 amount = m.deposit;
        uint256 reward = (amount * slashRewardBps) / BPS;
        m.status = MemberStatus.Slashed;
        m.unlockAt = 0;
        m.deposit = 0;
        emit MemberSlashed(apiId, commitment, msg.sender, reward, amount - reward, root);

        IERC20 token = IERC20(g.depositToken);
        if (reward > 0) token.safeTransfer(msg.sender, reward);
        if (amount > reward) token.safeTransfer(treasury, amount - reward);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the slasher's share of slashed deposits (Security DAO).
    function setSlashRewardBps(uint16 slashRewardBps_) external restricted {
        _setSlashRewardBps(slashRewardBps_);
    }

    /// @notice Sets the receiver of the treasury part of slashed deposits (Protocol DAO).
    function setTreasury(address treasury_) external restricted {
        _setTreasury(treasury_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAccessGroups
    function getGroup(uint256 apiId) external view returns (Group memory) {
        return _group(apiId);
    }

    /// @inheritdoc IAccessGroups
    function getMember(uint256 apiId, uint256 commitment) external view returns (Member memory) {
        return _members[apiId][commitment];
    }

    /// @inheritdoc IAccessGroups
    function isKnownRoot(uint256 apiId, uint256 root) public view returns (bool) {
        return block.timestamp < _rootExpiry[apiId][root];
    }

    /// @inheritdoc IAccessGroups
    function accessContext(
        uint256 apiId,
        uint256 root
    ) external view returns (uint256 epochLength, uint256 userMessageLimit, bool rootKnown) {
        Group storage g = _group(apiId);
        return (g.epochLength, g.userMessageLimit, isKnownRoot(apiId, root));
    }

    /// @inheritdoc IAccessGroups
    function currentEpoch(uint256 apiId) external view returns (uint256) {
        return block.timestamp / _group(apiId).epochLength;
    }

    /// @notice The group's current Merkle root (0 while empty).
    function rootOf(uint256 apiId) external view returns (uint256) {
        return _trees[apiId]._root();
    }

    /// @notice Leaves ever inserted (removed members stay as 0 leaves) and the tree depth.
    function treeInfo(uint256 apiId) external view returns (uint256 size, uint256 depth) {
        LeanIMTData storage tree = _trees[apiId];
        return (tree.size, tree.depth);
    }

    /// @notice The leaf index of an Active member (reverts LeafDoesNotExist otherwise).
    function indexOf(uint256 apiId, uint256 commitment) external view returns (uint256) {
        return _trees[apiId]._indexOf(commitment);
    }

    // ---------------------------------------------------------------- internals

    function _exit(
        uint256 apiId,
        uint256 commitment,
        Member storage m,
        uint256[] calldata siblings,
        bool lapsed
    ) private {
        Group storage g = _groups[apiId];
        uint256 root = _removeLeaf(apiId, g, _trees[apiId], commitment, siblings);
        uint40 unlockAt = uint40(block.timestamp + g.rootHistoryWindow + 2 * uint256(g.epochLength) + SLASH_GRACE);
        m.status = MemberStatus.Exiting;
        m.unlockAt = unlockAt;
        emit MemberExited(apiId, commitment, lapsed, unlockAt, root);
    }

    function _removeLeaf(
        uint256 apiId,
        Group storage g,
        LeanIMTData storage tree,
        uint256 commitment,
        uint256[] calldata siblings
    ) private returns (uint256) {
        // The library indexes `siblings` without a length check (a short array panics): check
        // the count first so a wrong proof gets a clear error.
        uint256 expected = _siblingCount(tree, tree._indexOf(commitment));
        if (siblings.length != expected) revert WrongSiblingCount(expected, siblings.length);
        uint256 oldRoot = tree._root();
        uint256 root = tree._remove(commitment, siblings);
        _replaceRoot(apiId, g, oldRoot, root);
        return root;
    }

    /// @dev The number of siblings InternalLeanIMT._update reads for the leaf at `index`.
    function _siblingCount(LeanIMTData storage tree, uint256 index) private view returns (uint256 count) {
        uint256 lastIndex = tree.size - 1;
        uint256 depth = tree.depth;
        for (uint256 level = 0; level < depth; ++level) {
            if ((index >> level) & 1 == 1 || index >> level != lastIndex >> level) ++count;
        }
    }

    /// @dev Keeps the replaced root valid for the group's window (proofs in flight use it).
    function _replaceRoot(uint256 apiId, Group storage g, uint256 oldRoot, uint256 newRoot) private {
        mapping(uint256 => uint256) storage expiry = _rootExpiry[apiId];
        if (oldRoot != 0) expiry[oldRoot] = block.timestamp + g.rootHistoryWindow;
        // 0 (the root of a group whose only leaf was removed) is never a valid root.
        if (newRoot != 0) expiry[newRoot] = type(uint256).max;
    }

    function _group(uint256 apiId) private view returns (Group storage g) {
        g = _groups[apiId];
        if (!g.exists) revert GroupNotFound(apiId);
    }

    function _activeMember(uint256 apiId, uint256 commitment) private view returns (Member storage m) {
        m = _members[apiId][commitment];
        if (m.status != MemberStatus.Active) revert NotActiveMember(apiId, commitment);
    }

    function _onlyProvider(uint256 apiId) private view {
        if (registry.providerOf(apiId) != msg.sender) revert NotApiProvider(apiId, msg.sender);
    }

    function _checkSettings(GroupSettings calldata s) private pure {
        if (
            s.epochLength < MIN_EPOCH_LENGTH ||
            s.epochLength > MAX_EPOCH_LENGTH ||
            s.userMessageLimit == 0 ||
            s.rootHistoryWindow > MAX_ROOT_HISTORY_WINDOW ||
            (s.deposit == 0 && !s.requireSubscription)
        ) revert InvalidGroupSettings();
    }

    function _pullExact(address token, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert UnexpectedReceipt(token, amount, received);
    }

    function _setSlashRewardBps(uint16 slashRewardBps_) private {
        if (slashRewardBps_ > MAX_SLASH_REWARD_BPS) {
            revert SlashRewardBpsTooHigh(slashRewardBps_, MAX_SLASH_REWARD_BPS);
        }
        slashRewardBps = slashRewardBps_;
        emit SlashRewardBpsUpdated(slashRewardBps_);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert ZeroAddress();
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }
}
