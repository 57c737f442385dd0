// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IApiRegistry} from "../registry/IApiRegistry.sol";
import {INodeStaking} from "../staking/INodeStaking.sol";
import {IUsdPriceOracle} from "../pricing/IUsdPriceOracle.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {EarningsLedger} from "./EarningsLedger.sol";
import {IPaymentEscrow} from "./IPaymentEscrow.sol";

/// @title PaymentEscrow
/// @notice Pay-per-call payments with signed usage receipts. A payer funds a channel
///         (payer -> node, for one API, in one token); its app signs EIP-712 vouchers carrying
///         the cumulative amount owed; the node (or anyone) redeems the latest voucher, alone or
///         in batches, and the increase since the last redemption is split between the API's
///         provider, the node and the protocol treasury, as claimable earnings.
/// @dev Why channels per (payer, node, API, token): the balance and the redeemed total share one
///      storage slot, so a redemption touches one slot per voucher; the channel's funds can pay
///      only that node, so a node's promised money is never spent elsewhere; and withdrawals
///      and signer revocations thaw, so the node has the thawing period to redeem what it holds.
///      Invariant: the token balance of this contract >= liabilities[token] == sum of channel
///      balances + unclaimed earnings in that token.
///      The escrow is also the protocol's epoch clock: it counts, per node and token, the value
///      redeemed in each epoch (what NodeRewards pays rewards on). The current epoch's count
///      shares the slot of the node's earnings, so a redemption still writes one slot per node;
///      only the first redemption of an epoch also archives the previous epoch's count.
contract PaymentEscrow is IPaymentEscrow, EarningsLedger, EmergencyPausable, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice EIP-712 type of a voucher.
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,address node,uint256 apiId,address token,uint128 cumulativeAmount)");
    /// @notice EIP-712 type of a signer's consent to sign for a payer.
    bytes32 public constant SIGNER_AUTHORIZATION_TYPEHASH =
        keccak256("SignerAuthorization(address payer,uint256 deadline)");
    uint16 private constant BPS = 10_000;
    uint8 private constant MODEL_PAY_PER_CALL = 1; // ApiRegistry.MODEL_PAY_PER_CALL

    struct BatchTotals {
        uint256 apiId;
        uint256 provider;
        uint256 protocol;
        uint256 node;
        uint256 paid;
    }
    /// @notice Shortest thawing period governance may set.
    uint64 public constant MIN_THAW_PERIOD = 1 hours;
    /// @notice Longest thawing period governance may set.
    uint64 public constant MAX_THAW_PERIOD = 30 days;
    /// @notice Shortest epoch a deployment may use.
    uint64 public constant MIN_EPOCH_LENGTH = 5 minutes;
    /// @notice Longest epoch a deployment may use.
    uint64 public constant MAX_EPOCH_LENGTH = 30 days;

    /// @dev A node's unclaimed earnings in one token, and the value it redeemed in `epoch` (the
    ///      latest epoch it redeemed in): one slot, written once per redemption.
    struct NodeAccount {
        uint128 earnings;
        uint32 epoch;
        uint96 served;
    }

    /// @notice Node staking (only active nodes get new deposits).
    INodeStaking public immutable staking;
    /// @inheritdoc IPaymentEscrow
    /// @dev A USD-priced API accepts the tokens that have a feed.
    IUsdPriceOracle public immutable oracle;
    /// @inheritdoc IPaymentEscrow
    uint64 public immutable epochGenesis;
    /// @inheritdoc IPaymentEscrow
    uint64 public immutable epochLength;

    /// @notice The current revenue split.
    RevenueSplit public revenueSplit;
    /// @notice How long withdrawals and signer revocations wait before taking effect.
    uint64 public thawPeriod;

    mapping(bytes32 channelId => Channel) public channels;
    mapping(bytes32 channelId => Withdrawal) public withdrawals;
    mapping(address signer => SignerInfo) public signers;
    mapping(address token => mapping(address node => NodeAccount)) private _nodeAccounts;
    mapping(address token => mapping(address node => mapping(uint32 epoch => uint256))) private _servedArchive;

    /// @param authority The AccessManager.
    /// @param registry_ The ApiRegistry.
    /// @param staking_ The NodeStaking contract.
    /// @param oracle_ The USD price oracle.
    /// @param treasury_ Receiver of protocol fees.
    /// @param thawPeriod_ Initial thawing period.
    /// @param split Initial revenue split.
    /// @param epochLength_ Length of the protocol's epochs (rewards, reputation), seconds; fixed.
    constructor(
        address authority,
        IApiRegistry registry_,
        INodeStaking staking_,
        IUsdPriceOracle oracle_,
        address treasury_,
        uint64 thawPeriod_,
        RevenueSplit memory split,
        uint64 epochLength_
    ) EarningsLedger(authority, registry_, treasury_) EIP712("Meshgate PaymentEscrow", "1") {
        if (address(staking_) == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        if (epochLength_ < MIN_EPOCH_LENGTH || epochLength_ > MAX_EPOCH_LENGTH) {
            revert EpochLengthOutOfRange(epochLength_, MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH);
        }
        staking = staking_;
        oracle = oracle_;
        epochGenesis = uint64(block.timestamp);
        epochLength = epochLength_;
        _setThawPeriod(thawPeriod_);
        _setRevenueSplit(split);
    }

    // ---------------------------------------------------------------- payer: funds

    /// @notice Adds `amount` of `token` to the caller's channel to `node` for `apiId` (opens it
    ///         on first deposit). The node must be active, and the API active, offering
    ///         pay-per-call and accepting the token.
    function deposit(address node, uint256 apiId, address token, uint128 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        if (!staking.isActive(node)) revert NodeNotActive(node);
        _checkAcceptedToken(apiId, token);

        bytes32 id = _channelId(msg.sender, node, apiId, token);
        Channel storage c = channels[id];
        uint128 balance = c.balance + amount;
        c.balance = balance;
        liabilities[token] += amount;
        emit Deposited(id, msg.sender, node, apiId, token, amount, balance);

        // Fee-on-transfer or rebasing tokens would break solvency: require exact receipt.
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        if (IERC20(token).balanceOf(address(this)) - before != amount) revert TokenNotAccepted(apiId, token);
    }

    /// @notice Starts withdrawing `amount` from the caller's channel; it can leave after the
    ///         thawing period, and the node can still redeem vouchers against it until then.
    ///         Replaces any withdrawal in progress and restarts its clock.
    function startWithdraw(address node, uint256 apiId, address token, uint128 amount) external {
        if (amount == 0) revert ZeroAmount();
        bytes32 id = _channelId(msg.sender, node, apiId, token);
        uint128 balance = channels[id].balance;
        if (amount > balance) revert InsufficientBalance(amount, balance);
        uint64 thawEndsAt = uint64(block.timestamp) + thawPeriod;
        withdrawals[id] = Withdrawal(amount, thawEndsAt);
        emit WithdrawalStarted(id, amount, thawEndsAt);
    }

    /// @notice Cancels the caller's withdrawal in progress.
    function cancelWithdraw(address node, uint256 apiId, address token) external {
        bytes32 id = _channelId(msg.sender, node, apiId, token);
        if (withdrawals[id].thawEndsAt == 0) revert NoWithdrawal(id);
        delete withdrawals[id];
        emit WithdrawalCancelled(id);
    }

    /// @notice Completes a thawed withdrawal: pays what is left of the requested amount after
    ///         any redemptions during the thaw.
    function finishWithdraw(address node, uint256 apiId, address token) external nonReentrant {
        bytes32 id = _channelId(msg.sender, node, apiId, token);
        Withdrawal memory w = withdrawals[id];
        if (w.thawEndsAt == 0) revert NoWithdrawal(id);
        if (block.timestamp < w.thawEndsAt) revert StillThawing(w.thawEndsAt);

        Channel storage c = channels[id];
        uint128 amount = w.amount < c.balance ? w.amount : c.balance;
        uint128 balance = c.balance - amount;
        c.balance = balance;
        liabilities[token] -= amount;
        delete withdrawals[id];
        emit Withdrawn(id, msg.sender, amount, balance);
        if (amount != 0) IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- payer: signer keys

    /// @notice Lets `signer` (an app's or agent's hot key) sign vouchers for the caller. The
    ///         signer consents with an EIP-712 SignerAuthorization(payer, deadline) signature,
    ///         so nobody can claim a key they do not control.
    function authorizeSigner(address signer, uint256 deadline, bytes calldata proof) external {
        if (signer == address(0)) revert ZeroAddress();
        if (block.timestamp > deadline) revert ProofExpired(deadline);
        SignerInfo memory info = signers[signer];
        if (info.payer != address(0) && (info.revokedAt == 0 || block.timestamp < info.revokedAt)) {
            revert SignerAlreadyAuthorized(signer, info.payer);
        }
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(SIGNER_AUTHORIZATION_TYPEHASH, msg.sender, deadline)));
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, proof);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert InvalidSignerProof(signer);

        signers[signer] = SignerInfo(msg.sender, 0);
        emit SignerAuthorized(msg.sender, signer);
    }

    /// @notice Revokes one of the caller's signers. Like withdrawals it thaws: vouchers the key
    ///         signed stay redeemable until the thawing period ends.
    function revokeSigner(address signer) external {
        SignerInfo memory info = signers[signer];
        if (info.payer != msg.sender) revert SignerNotAuthorized(signer, msg.sender);
        if (info.revokedAt != 0) {
            // Already revoked for good: for this payer the key is simply no longer a signer.
            if (block.timestamp >= info.revokedAt) revert SignerNotAuthorized(signer, msg.sender);
            revert SignerRevocationPending(signer, info.revokedAt);
        }
        uint64 revokedAt = uint64(block.timestamp) + thawPeriod;
        signers[signer].revokedAt = revokedAt;
        emit SignerRevocationStarted(msg.sender, signer, revokedAt);
    }

    // ---------------------------------------------------------------- redemption

    /// @notice Redeems one voucher: pays the increase of its cumulative amount since the
    ///         channel's last redemption and splits it. Reverts if there is no increase. Open
    ///         even while paused: it settles calls already served, and withdrawals stay open
    ///         too, so a pause must never let a payer take back what a node was promised.
    function redeem(Voucher calldata v, bytes calldata signature) external {
        _checkSigner(v.payer, v.node, v.apiId, v.token, v.cumulativeAmount, signature);
        bytes32 id = _channelId(v.payer, v.node, v.apiId, v.token);
        uint256 paid = _settle(id, v.cumulativeAmount);
        if (paid == 0) revert NothingToRedeem(id, v.cumulativeAmount, channels[id].redeemed);

        RevenueSplit memory s = revenueSplit;
        uint256 nodeShare = (paid * s.nodeBps) / BPS;
        uint256 protocolShare = (paid * s.protocolBps) / BPS;
        _creditNode(v.token, v.node, nodeShare, paid);
        _creditApi(v.token, v.apiId, paid - nodeShare - protocolShare, protocolShare);
    }

    /// @notice Redeems many vouchers for one node in one token. Idempotent: a voucher at or
    ///         below its channel's redeemed total is skipped, so retrying a batch pays once.
    ///         Vouchers for the same API should be adjacent (their earnings are credited once).
    function redeemBatch(address node, address token, BatchVoucher[] calldata vouchers) external {
        uint256 n = vouchers.length;
        if (n == 0) revert EmptyBatch();
        RevenueSplit memory s = revenueSplit;
        // Earnings of consecutive vouchers for the same API are credited with one write.
        BatchTotals memory t = BatchTotals(vouchers[0].apiId, 0, 0, 0, 0);
        for (uint256 i = 0; i < n; ++i) {
            BatchVoucher calldata v = vouchers[i];
            _checkSigner(v.payer, node, v.apiId, token, v.cumulativeAmount, v.signature);
            uint256 paid = _settle(_channelId(v.payer, node, v.apiId, token), v.cumulativeAmount);
            if (paid == 0) continue;
            if (v.apiId != t.apiId) {
                _creditApi(token, t.apiId, t.provider, t.protocol);
                (t.apiId, t.provider, t.protocol) = (v.apiId, 0, 0);
            }
            uint256 nodeShare = (paid * s.nodeBps) / BPS;
            uint256 protocolShare = (paid * s.protocolBps) / BPS;
            t.node += nodeShare;
            t.paid += paid;
            t.protocol += protocolShare;
            t.provider += paid - nodeShare - protocolShare;
        }
        _creditApi(token, t.apiId, t.provider, t.protocol);
        if (t.paid != 0) _creditNode(token, node, t.node, t.paid);
    }

    // ---------------------------------------------------------------- earnings

    /// @notice Sends the caller (a node operator) its earnings in `token`.
    function claimNodeEarnings(address token) external nonReentrant {
        NodeAccount storage account = _nodeAccounts[token][msg.sender];
        uint256 amount = account.earnings;
        if (amount == 0) revert NothingToClaim();
        account.earnings = 0;
        liabilities[token] -= amount;
        emit NodeEarningsClaimed(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the revenue split (Protocol DAO); applies to later redemptions.
    function setRevenueSplit(RevenueSplit calldata split) external restricted {
        _setRevenueSplit(split);
    }

    /// @notice Sets the thawing period for later withdrawals and revocations (Protocol DAO).
    function setThawPeriod(uint64 period) external restricted {
        _setThawPeriod(period);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPaymentEscrow
    function channelId(address payer, address node, uint256 apiId, address token) external pure returns (bytes32) {
        return _channelId(payer, node, apiId, token);
    }

    /// @inheritdoc IPaymentEscrow
    function voucherDigest(Voucher calldata v) external view returns (bytes32) {
        return _voucherDigest(v.payer, v.node, v.apiId, v.token, v.cumulativeAmount);
    }

    /// @notice Unclaimed earnings of `node` in `token`.
    function nodeEarnings(address token, address node) external view returns (uint256) {
        return _nodeAccounts[token][node].earnings;
    }

    /// @inheritdoc IPaymentEscrow
    function currentEpoch() public view returns (uint32) {
        return uint32((block.timestamp - epochGenesis) / epochLength);
    }

    /// @inheritdoc IPaymentEscrow
    function servedValue(address token, address node, uint32 epoch) external view returns (uint256) {
        NodeAccount memory a = _nodeAccounts[token][node];
        return a.epoch == epoch ? a.served : _servedArchive[token][node][epoch];
    }

    /// @notice Whether `signer` may sign vouchers for `payer` now (the payer itself always may).
    function isAuthorizedSigner(address signer, address payer) public view returns (bool) {
        if (signer == payer) return signer != address(0);
        SignerInfo memory info = signers[signer];
        return info.payer == payer && payer != address(0) && (info.revokedAt == 0 || block.timestamp < info.revokedAt);
    }

    // ---------------------------------------------------------------- internals

    function _channelId(address payer, address node, uint256 apiId, address token) private pure returns (bytes32) {
        return keccak256(abi.encode(payer, node, apiId, token));
    }

    function _voucherDigest(
        address payer,
        address node,
        uint256 apiId,
        address token,
        uint128 cumulativeAmount
    ) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, payer, node, apiId, token, cumulativeAmount)));
    }

    /// @dev Reverts unless `signature` is a canonical (low-s) signature of the voucher by the
    ///      payer or one of its authorized, unrevoked signers.
    function _checkSigner(
        address payer,
        address node,
        uint256 apiId,
        address token,
        uint128 cumulativeAmount,
        bytes calldata signature
    ) private view {
        bytes32 digest = _voucherDigest(payer, node, apiId, token, cumulativeAmount);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
        if (!isAuthorizedSigner(signer, payer)) revert SignerNotAuthorized(signer, payer);
    }

    /// @dev Moves the increase since the last redemption out of the channel; 0 if none.
    function _settle(bytes32 id, uint128 cumulativeAmount) private returns (uint256 paid) {
        Channel storage c = channels[id];
        (uint128 balance, uint128 redeemed) = (c.balance, c.redeemed);
        if (cumulativeAmount <= redeemed) return 0;
        uint128 delta = cumulativeAmount - redeemed;
        if (delta > balance) revert InsufficientBalance(delta, balance);
        channels[id] = Channel(balance - delta, cumulativeAmount);
        emit Redeemed(id, cumulativeAmount, delta);
        return delta;
    }

    /// @dev Adds a redemption to the node's earnings and to the value it served this epoch.
    function _creditNode(address token, address node, uint256 nodeShare, uint256 paid) private {
        NodeAccount memory a = _nodeAccounts[token][node];
        uint32 epoch = currentEpoch();
        if (a.epoch != epoch) {
            if (a.served != 0) _servedArchive[token][node][a.epoch] = a.served;
            (a.epoch, a.served) = (epoch, 0);
        }
        a.earnings += nodeShare.toUint128();
        // Saturates rather than reverts: a counter at its cap (2^96 - 1 base units in one epoch)
        // must never block a node from redeeming what it was promised.
        uint256 served = a.served + paid;
        a.served = served > type(uint96).max ? type(uint96).max : uint96(served);
        _nodeAccounts[token][node] = a;
    }

    function _checkAcceptedToken(uint256 apiId, address token) private view {
        IApiRegistry.Pricing memory p = registry.getPricing(apiId);
        if (!registry.isActive(apiId)) revert ApiNotActive(apiId);
        if (p.models & MODEL_PAY_PER_CALL == 0) revert PayPerCallNotOffered(apiId);
        bool accepted = p.unit == IApiRegistry.PriceUnit.Usd ? oracle.hasFeed(token) : p.paymentToken == token;
        if (!accepted || token == address(0)) revert TokenNotAccepted(apiId, token);
    }

    function _setRevenueSplit(RevenueSplit memory s) private {
        if (uint256(s.providerBps) + s.nodeBps + s.protocolBps != BPS) {
            revert InvalidRevenueSplit(s.providerBps, s.nodeBps, s.protocolBps);
        }
        revenueSplit = s;
        emit RevenueSplitUpdated(s.providerBps, s.nodeBps, s.protocolBps);
    }

    function _setThawPeriod(uint64 period) private {
        if (period < MIN_THAW_PERIOD || period > MAX_THAW_PERIOD) {
            revert ThawPeriodOutOfRange(period, MIN_THAW_PERIOD, MAX_THAW_PERIOD);
        }
        thawPeriod = period;
        emit ThawPeriodUpdated(period);
    }
}
