// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line max-line-length
import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EarningsLedger} from "../escrow/EarningsLedger.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {IPriceQuoter} from "../pricing/IPriceQuoter.sol";
import {IApiRegistry} from "../registry/IApiRegistry.sol";
import {ISubscriptions} from "./ISubscriptions.sol";

/// @title Subscriptions
/// @notice Period subscriptions to APIs. A payer subscribes for N periods, paid from its wallet
///         at the current quote (USD prices converted, staker discount applied), and access
///         lasts until `paidUntil`. Auto-renewal then charges one period at a time from the
///         payer's prepaid balance here, within the payer's own price limit; anyone (a
///         Chainlink Automation upkeep, a bot, the payer) may trigger a due renewal. Revenue is
///         split between the API's provider and the protocol as claimable earnings.
/// @dev Renewal window: a subscription is due once block.timestamp >= paidUntil - window,
///      window = min(RENEWAL_WINDOW, period / 2) with `period` the last period paid. One day
///      gives keepers a day to renew before access lapses; a renewal extends from paidUntil, so
///      paying early loses no time. The half-period cap makes a renewal always end the due
///      state (the new paidUntil is at least one period away), so a subscription with a short
///      period cannot be renewed several times in a row to drain the prepaid balance.
///      Invariant: the token balance of this contract >= liabilities[token] == sum of prepaid
///      balances + unclaimed earnings in that token.
contract Subscriptions is ISubscriptions, EarningsLedger, EmergencyPausable, AutomationCompatibleInterface {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Due this long before paidUntil (at most half the period; see the contract notes).
    uint256 public constant RENEWAL_WINDOW = 1 days;
    /// @notice Most periods one `subscribe` may pay for.
    uint256 public constant MAX_PERIODS = 36;
    /// @notice Most subscription ids one `checkUpkeep` scans.
    uint256 public constant MAX_SCAN = 500;
    /// @notice Most subscription ids one `performUpkeep` accepts (and `checkUpkeep` returns).
    uint256 public constant MAX_BATCH = 50;
    /// @notice Highest protocol share governance may set: 30%.
    uint16 public constant MAX_PROTOCOL_BPS = 3000;
    uint256 private constant BPS = 10_000;

    /// @notice Prices APIs for a payer in a token.
    IPriceQuoter public immutable quoter;

    /// @notice The protocol's share of every payment, basis points; the provider gets the rest.
    uint16 public protocolBps;
    /// @inheritdoc ISubscriptions
    uint256 public subscriptionCount;

    /// @inheritdoc ISubscriptions
    mapping(address payer => mapping(uint256 apiId => uint256)) public subscriptionIdOf;
    /// @notice What each payer holds here, per token, to pay renewals.
    mapping(address payer => mapping(address token => uint256)) public prepaidBalanceOf;
    mapping(uint256 subscriptionId => Subscription) private _subscriptions;

    /// @param authority The AccessManager.
    /// @param registry_ The ApiRegistry.
    /// @param quoter_ The PriceQuoter.
    /// @param treasury_ Receiver of protocol fees.
    /// @param protocolBps_ Initial protocol share, basis points.
    constructor(
        address authority,
        IApiRegistry registry_,
        IPriceQuoter quoter_,
        address treasury_,
        uint16 protocolBps_
    ) EarningsLedger(authority, registry_, treasury_) {
        if (address(quoter_) == address(0)) revert ZeroAddress();
        quoter = quoter_;
        _setProtocolBps(protocolBps_);
    }

    // ---------------------------------------------------------------- payer: subscriptions

    /// @notice Pays `periods` periods of `apiId` in `token` from the caller's wallet (needs an
    ///         approval of periods x price) and turns auto-renewal on with `token` and
    ///         `maxPricePerPeriod`. A payer has one subscription per API: subscribing again
    ///         extends it from max(now, paidUntil) and replaces its token and price limit.
    /// @return subscriptionId The id of the caller's subscription to `apiId`.
    function subscribe(
        uint256 apiId,
        address token,
        uint256 periods,
        uint256 maxPricePerPeriod
    ) external nonReentrant whenNotPaused returns (uint256 subscriptionId) {
        if (periods == 0 || periods > MAX_PERIODS) revert InvalidPeriods(periods, MAX_PERIODS);
        if (!registry.isActive(apiId)) revert ApiNotActive(apiId);
        (uint256 price, uint32 period) = quoter.quotePeriod(apiId, token, msg.sender);
        if (period == 0) revert SubscriptionNotOffered(apiId);
        if (price > maxPricePerPeriod) revert PriceAboveLimit(price, maxPricePerPeriod);
        uint256 cost = price * periods;

        subscriptionId = subscriptionIdOf[msg.sender][apiId];
        if (subscriptionId == 0) {
            subscriptionId = ++subscriptionCount;
            subscriptionIdOf[msg.sender][apiId] = subscriptionId;
            Subscription storage created = _subscriptions[subscriptionId];
            created.payer = msg.sender;
            created.apiId = apiId;
        }
        Subscription storage s = _subscriptions[subscriptionId];
        uint256 start = block.timestamp > s.paidUntil ? block.timestamp : s.paidUntil;
        uint40 paidUntil = (start + uint256(period) * periods).toUint40();
        s.paidUntil = paidUntil;
        s.period = period;
        s.autoRenew = true;
        s.token = token;
        s.maxPricePerPeriod = maxPricePerPeriod;

        liabilities[token] += cost;
        _credit(token, apiId, cost);
        emit Subscribed(subscriptionId, msg.sender, apiId, token, periods, price, maxPricePerPeriod, period, paidUntil);

        // Fee-on-transfer or rebasing tokens would break solvency: require exact receipt.
        _pullExact(token, cost);
    }

    /// @notice Stops the caller's subscription to `apiId` from renewing; access lasts until
    ///         paidUntil. Subscribing again turns renewal back on.
    function cancel(uint256 apiId) external {
        uint256 id = subscriptionIdOf[msg.sender][apiId];
        if (id == 0) revert NotSubscribed(msg.sender, apiId);
        Subscription storage s = _subscriptions[id];
        if (!s.autoRenew) revert RenewalDisabled(id);
        s.autoRenew = false;
        emit SubscriptionCancelled(id, msg.sender, apiId, s.paidUntil);
    }

    // ---------------------------------------------------------------- payer: prepaid balance

    /// @notice Adds `amount` of `token` to the caller's prepaid balance for renewals.
    function depositBalance(address token, uint256 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        uint256 balance = prepaidBalanceOf[msg.sender][token] + amount;
        prepaidBalanceOf[msg.sender][token] = balance;
        liabilities[token] += amount;
        emit BalanceDeposited(msg.sender, token, amount, balance);
        _pullExact(token, amount);
    }

    /// @notice Sends `amount` of the caller's prepaid `token` balance back, at once. Renewals
    ///         that find too little balance fail (and turn auto-renewal off).
    function withdrawBalance(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 available = prepaidBalanceOf[msg.sender][token];
        if (amount > available) revert InsufficientPrepaidBalance(msg.sender, token, amount, available);
        uint256 balance = available - amount;
        prepaidBalanceOf[msg.sender][token] = balance;
        liabilities[token] -= amount;
        emit BalanceWithdrawn(msg.sender, token, amount, balance);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- renewals

    /// @notice Renews subscription `subscriptionId` for one period at the current quote, from
    ///         the payer's prepaid balance; anyone may call. Reverts with why it cannot:
    ///         SubscriptionNotFound, RenewalDisabled, NotDue, ApiNotActive, the quoter's or
    ///         oracle's error (TokenNotAccepted, NoFeed, StalePrice, ...), QuoteFailed,
    ///         SubscriptionNotOffered, PriceAboveLimit, InsufficientPrepaidBalance.
    function renew(uint256 subscriptionId) external nonReentrant whenNotPaused {
        Subscription storage s = _subscriptions[subscriptionId];
        if (s.payer == address(0)) revert SubscriptionNotFound(subscriptionId);
        if (!s.autoRenew) revert RenewalDisabled(subscriptionId);
        uint256 dueAt = _renewableAt(s);
        if (block.timestamp < dueAt) revert NotDue(subscriptionId, dueAt);
        bytes memory failure = _charge(subscriptionId, s);
        if (failure.length != 0) LowLevelCall.bubbleRevert(failure);
    }

    /// @notice Chainlink Automation: finds due subscriptions. `checkData` is
    ///         abi.encode(uint256 startId, uint256 count): scans ids [startId, startId + count)
    ///         (count capped at MAX_SCAN; register one upkeep per id range) and returns
    ///         (true, abi.encode(uint256[] dueIds)) with at most MAX_BATCH due ids, or false.
    ///         Due only: whether a renewal will succeed is left to `performUpkeep`.
    function checkUpkeep(
        bytes calldata checkData
    ) external view returns (bool upkeepNeeded, bytes memory performData) {
        (uint256 startId, uint256 count) = abi.decode(checkData, (uint256, uint256));
        // performUpkeep would revert while paused: tell keepers there is nothing to do.
        if (paused()) return (false, abi.encode(new uint256[](0)));
        if (startId == 0) startId = 1;
        uint256 last = subscriptionCount;
        if (count > MAX_SCAN) count = MAX_SCAN;
        if (startId > last) count = 0;
        else if (count > last - startId + 1) count = last - startId + 1;

        uint256[] memory found = new uint256[](MAX_BATCH);
        uint256 n;
        for (uint256 id = startId; id < startId + count && n < MAX_BATCH; ++id) {
            if (_isDue(_subscriptions[id])) found[n++] = id;
        }
        uint256[] memory dueIds = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) dueIds[i] = found[i];
        return (n != 0, abi.encode(dueIds));
    }

    /// @notice Chainlink Automation (or anyone): renews the due subscriptions among
    ///         `performData` = abi.encode(uint256[] ids), at most MAX_BATCH ids. Every id is
    ///         checked again: unknown, cancelled and not-due ids are skipped; a due one that
    ///         cannot be charged gets RenewalFailed and auto-renewal off, so keepers stop
    ///         retrying it (the payer subscribes again to resume).
    function performUpkeep(bytes calldata performData) external nonReentrant whenNotPaused {
        uint256[] memory ids = abi.decode(performData, (uint256[]));
        if (ids.length > MAX_BATCH) revert BatchTooLarge(ids.length, MAX_BATCH);
        for (uint256 i = 0; i < ids.length; ++i) {
            Subscription storage s = _subscriptions[ids[i]];
            if (!_isDue(s)) continue;
            bytes memory failure = _charge(ids[i], s);
            if (failure.length != 0) {
                s.autoRenew = false;
                emit RenewalFailed(ids[i], failure);
            }
        }
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the protocol share of later payments (Protocol DAO); at most MAX_PROTOCOL_BPS.
    function setProtocolBps(uint16 protocolBps_) external restricted {
        _setProtocolBps(protocolBps_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISubscriptions
    function isSubscribed(address payer, uint256 apiId) external view returns (bool) {
        uint256 id = subscriptionIdOf[payer][apiId];
        return id != 0 && block.timestamp < _subscriptions[id].paidUntil;
    }

    /// @inheritdoc ISubscriptions
    function getSubscription(uint256 subscriptionId) external view returns (Subscription memory) {
        Subscription storage s = _subscriptions[subscriptionId];
        if (s.payer == address(0)) revert SubscriptionNotFound(subscriptionId);
        return s;
    }

    /// @notice Whether a renewal of `subscriptionId` is due now (auto-renewal on, inside the
    ///         renewal window or lapsed). A due renewal may still fail to charge.
    function isDue(uint256 subscriptionId) external view returns (bool) {
        return _isDue(_subscriptions[subscriptionId]);
    }

    /// @notice When `subscriptionId` becomes due for renewal (paidUntil minus the window).
    function renewableAt(uint256 subscriptionId) external view returns (uint256) {
        Subscription storage s = _subscriptions[subscriptionId];
        if (s.payer == address(0)) revert SubscriptionNotFound(subscriptionId);
        return _renewableAt(s);
    }

    // ---------------------------------------------------------------- internals

    function _isDue(Subscription storage s) private view returns (bool) {
        // Unknown ids have autoRenew == false.
        return s.autoRenew && block.timestamp >= _renewableAt(s);
    }

    /// @dev paidUntil - min(RENEWAL_WINDOW, period / 2). No underflow: paidUntil >= period.
    function _renewableAt(Subscription storage s) private view returns (uint256) {
        uint256 halfPeriod = s.period / 2;
        return s.paidUntil - (halfPeriod < RENEWAL_WINDOW ? halfPeriod : RENEWAL_WINDOW);
    }

    /// @dev Charges one renewal of a due subscription from the prepaid balance. Returns empty
    ///      bytes on success, else the ABI-encoded custom error explaining the failure (with no
    ///      state changed), so `renew` can revert with it and `performUpkeep` can log it.
    function _charge(uint256 id, Subscription storage s) private returns (bytes memory failure) {
        (address payer, address token, uint256 apiId) = (s.payer, s.token, s.apiId);
        if (!registry.isActive(apiId)) return abi.encodeWithSelector(ApiNotActive.selector, apiId);

        uint256 price;
        uint32 period;
        uint256 gasBefore = gasleft();
        try quoter.quotePeriod(apiId, token, payer) returns (uint256 price_, uint32 period_) {
            (price, period) = (price_, period_);
        } catch (bytes memory reason) {
            // Whoever sends the transaction picks its gas: a quote starved of gas must not count
            // as the subscription's failure, or anyone could switch other payers' renewals off.
            if (gasleft() <= gasBefore / 64) revert InsufficientGas();
            return reason.length != 0 ? reason : abi.encodeWithSelector(QuoteFailed.selector, apiId, token);
        }
        if (period == 0) return abi.encodeWithSelector(SubscriptionNotOffered.selector, apiId);
        uint256 maxPrice = s.maxPricePerPeriod;
        if (price > maxPrice) return abi.encodeWithSelector(PriceAboveLimit.selector, price, maxPrice);
        uint256 available = prepaidBalanceOf[payer][token];
        if (price > available) {
            return abi.encodeWithSelector(InsufficientPrepaidBalance.selector, payer, token, price, available);
        }

        // The money stays owed by this contract (liabilities unchanged): prepaid -> earnings.
        prepaidBalanceOf[payer][token] = available - price;
        _credit(token, apiId, price);
        uint256 start = block.timestamp > s.paidUntil ? block.timestamp : s.paidUntil;
        uint40 paidUntil = (start + period).toUint40();
        s.paidUntil = paidUntil;
        s.period = period;
        emit Renewed(id, payer, apiId, token, price, period, paidUntil);
        return "";
    }

    /// @dev Splits `amount` into the protocol share (rounded down) and the provider's rest.
    function _credit(address token, uint256 apiId, uint256 amount) private {
        uint256 protocolShare = (amount * protocolBps) / BPS;
        _creditApi(token, apiId, (amount - protocolShare).toUint128(), protocolShare);
    }

    function _pullExact(address token, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert UnexpectedReceipt(token, amount, received);
    }

    function _setProtocolBps(uint16 protocolBps_) private {
        if (protocolBps_ > MAX_PROTOCOL_BPS) revert ProtocolBpsTooHigh(protocolBps_, MAX_PROTOCOL_BPS);
        protocolBps = protocolBps_;
        emit ProtocolBpsUpdated(protocolBps_);
    }
}
