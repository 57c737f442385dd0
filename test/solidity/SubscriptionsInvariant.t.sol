// SPDX-License-Identifier: MIT
// Handler, actors and test live together; test names follow the invariant_ convention.
// solhint-disable one-contract-per-file, func-name-mixedcase, max-states-count
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {DiscountStaking} from "../../contracts/discounts/DiscountStaking.sol";
import {IDiscountStaking} from "../../contracts/discounts/IDiscountStaking.sol";
import {MockAggregatorV3} from "../../contracts/mocks/MockAggregatorV3.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {PriceQuoter} from "../../contracts/pricing/PriceQuoter.sol";
import {UsdPriceOracle} from "../../contracts/pricing/UsdPriceOracle.sol";
import {ApiRegistry} from "../../contracts/registry/ApiRegistry.sol";
import {IApiRegistry} from "../../contracts/registry/IApiRegistry.sol";
import {ISubscriptions} from "../../contracts/subscriptions/ISubscriptions.sol";
import {Subscriptions} from "../../contracts/subscriptions/Subscriptions.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {VM, AssertTrue, assertEq, assertTrue, bound, min} from "./helpers/StakingTestBase.sol";

/// @dev Everything the handler drives.
struct System {
    Subscriptions subs;
    DiscountStaking discounts;
    PriceQuoter quoter;
    ApiRegistry registry;
    MockERC20 usdc;
    MockERC20 dai;
    MockAggregatorV3 feed;
    IERC20 mesh;
    address treasury;
}

/// @dev A payer and discount staker: a contract only the handler drives.
contract SubscriberActor {
    error OnlyHandler();

    address private immutable _handler;
    Subscriptions private immutable _subs;
    DiscountStaking private immutable _discounts;

    constructor(System memory s) {
        _handler = msg.sender;
        _subs = s.subs;
        _discounts = s.discounts;
        s.usdc.approve(address(s.subs), type(uint256).max);
        s.dai.approve(address(s.subs), type(uint256).max);
        s.mesh.approve(address(s.discounts), type(uint256).max);
    }

    modifier onlyHandler() {
        if (msg.sender != _handler) revert OnlyHandler();
        _;
    }

    function subscribe(uint256 apiId, address token, uint256 periods, uint256 maxPrice) external onlyHandler {
        _subs.subscribe(apiId, token, periods, maxPrice);
    }

    function cancel(uint256 apiId) external onlyHandler {
        _subs.cancel(apiId);
    }

    function depositBalance(address token, uint256 amount) external onlyHandler {
        _subs.depositBalance(token, amount);
    }

    function withdrawBalance(address token, uint256 amount) external onlyHandler {
        _subs.withdrawBalance(token, amount);
    }

    function stake(uint256 amount) external onlyHandler {
        _discounts.stake(amount);
    }

    function requestUnstake(uint256 amount) external onlyHandler {
        _discounts.requestUnstake(amount);
    }

    function withdrawStake() external onlyHandler {
        _discounts.withdraw();
    }
}

/// @dev The only fuzz target. It is the provider of three APIs (USDC-priced monthly, USD-priced
///      weekly paid in DAI, DAI-priced hourly), holds every governance role, and drives four
///      payers. Actions whose outcome it can predict must succeed and are checked exactly;
///      renewals (which depend on prices, feeds and balances) may fail, but only without effect.
///      Ghost totals count every token that entered or left Subscriptions and DiscountStaking.
contract SubscriptionsHandler {
    uint256 public constant NUM_ACTORS = 4;
    uint256 public constant NUM_APIS = 3;
    uint32 public constant HEARTBEAT = 1 days;

    Subscriptions public immutable subs;
    DiscountStaking public immutable discounts;
    PriceQuoter public immutable quoter;
    ApiRegistry public immutable registry;
    MockERC20 public immutable usdc;
    MockERC20 public immutable dai;
    MockAggregatorV3 public immutable feed;
    IERC20 public immutable mesh;
    address public immutable treasury;

    SubscriberActor[] private _actors;
    mapping(address token => uint256) public ghostIn;
    mapping(address token => uint256) public ghostOut;
    uint256 public ghostMeshIn;
    uint256 public ghostMeshOut;
    /// @dev Successful / failed calls per action, to see what a campaign exercised.
    mapping(bytes32 action => uint256) public okCalls;
    mapping(bytes32 action => uint256) public failedCalls;

    constructor(System memory s) {
        (subs, discounts, quoter, registry) = (s.subs, s.discounts, s.quoter, s.registry);
        (usdc, dai, feed, mesh, treasury) = (s.usdc, s.dai, s.feed, s.mesh, s.treasury);
        _register(IApiRegistry.PriceUnit.Token, address(s.usdc), 30 days, 10e6);
        _register(IApiRegistry.PriceUnit.Usd, address(0), 7 days, 25 ether);
        _register(IApiRegistry.PriceUnit.Token, address(s.dai), 1 hours, 0.5 ether);
        for (uint256 i = 0; i < NUM_ACTORS; ++i) _actors.push(new SubscriberActor(s));
    }

    // ------------------------------------------------------------------ payer actions

    function subscribe(uint256 actorSeed, uint256 apiSeed, uint256 periods, uint256 slack) external {
        SubscriberActor a = _actor(actorSeed);
        uint256 apiId = 1 + (apiSeed % NUM_APIS);
        address token = _tokenOf(apiId);
        periods = bound(periods, 1, 36);
        (bool quoted, uint256 price, uint32 period) = _quote(apiId, token, address(a));

        if (!quoted || !registry.isActive(apiId)) {
            try a.subscribe(apiId, token, periods, type(uint256).max) {
                revert AssertTrue("subscribe should have failed");
            } catch {
                ++failedCalls["subscribe"];
                return;
            }
        }
        _subscribe(a, apiId, token, periods, price, period, price + bound(slack, 0, price));
    }

    function _subscribe(
        SubscriberActor a,
        uint256 apiId,
        address token,
        uint256 periods,
        uint256 price,
        uint32 period,
        uint256 maxPrice
    ) private {
        uint256 cost = price * periods;
        MockERC20(token).mint(address(a), cost);
        uint256 id = subs.subscriptionIdOf(address(a), apiId);
        uint256 start = id == 0 ? 0 : subs.getSubscription(id).paidUntil;
        if (block.timestamp > start) start = block.timestamp;
        uint256 walletBefore = IERC20(token).balanceOf(address(a));

        a.subscribe(apiId, token, periods, maxPrice);

        assertEq(walletBefore - IERC20(token).balanceOf(address(a)), cost, "subscribe: paid periods x price");
        ISubscriptions.Subscription memory s = subs.getSubscription(subs.subscriptionIdOf(address(a), apiId));
        assertEq(s.paidUntil, start + uint256(period) * periods, "subscribe: extends from max(now, paidUntil)");
        assertTrue(s.autoRenew && s.token == token && s.payer == address(a), "subscribe: record");
        assertEq(s.maxPricePerPeriod, maxPrice, "subscribe: limit");
        ghostIn[token] += cost;
        ++okCalls["subscribe"];
    }

    function cancel(uint256 actorSeed, uint256 apiSeed) external {
        SubscriberActor a = _actor(actorSeed);
        uint256 apiId = 1 + (apiSeed % NUM_APIS);
        uint256 id = subs.subscriptionIdOf(address(a), apiId);
        bytes memory expected;
        if (id == 0) {
            expected = abi.encodeWithSelector(ISubscriptions.NotSubscribed.selector, address(a), apiId);
        } else if (!subs.getSubscription(id).autoRenew) {
            expected = abi.encodeWithSelector(ISubscriptions.RenewalDisabled.selector, id);
        }
        if (expected.length != 0) {
            try a.cancel(apiId) {
                revert AssertTrue("cancel should have reverted");
            } catch (bytes memory err) {
                assertTrue(keccak256(err) == keccak256(expected), "cancel: error");
            }
            ++failedCalls["cancel"];
            return;
        }
        a.cancel(apiId);
        assertTrue(!subs.getSubscription(id).autoRenew && !subs.isDue(id), "cancel: renewal off");
        ++okCalls["cancel"];
    }

    function depositBalance(uint256 actorSeed, bool useDai, uint256 amount) external {
        SubscriberActor a = _actor(actorSeed);
        MockERC20 token = useDai ? dai : usdc;
        amount = bound(amount, 1, useDai ? 200 ether : 200e6);
        token.mint(address(a), amount);
        uint256 before = subs.prepaidBalanceOf(address(a), address(token));
        a.depositBalance(address(token), amount);
        assertEq(subs.prepaidBalanceOf(address(a), address(token)), before + amount, "deposit: balance");
        ghostIn[address(token)] += amount;
        ++okCalls["depositBalance"];
    }

    function withdrawBalance(uint256 actorSeed, bool useDai, uint256 amount) external {
        SubscriberActor a = _actor(actorSeed);
        address token = address(useDai ? dai : usdc);
        uint256 available = subs.prepaidBalanceOf(address(a), token);
        if (available == 0) return;
        amount = bound(amount, 1, available);
        uint256 walletBefore = IERC20(token).balanceOf(address(a));
        a.withdrawBalance(token, amount);
        assertEq(IERC20(token).balanceOf(address(a)) - walletBefore, amount, "withdrawBalance: paid");
        ghostOut[token] += amount;
        ++okCalls["withdrawBalance"];
    }

    // ------------------------------------------------------------------ keepers

    /// @dev A renewal only happens when due, extends by one period from max(now, paidUntil),
    ///      charges at most the payer's limit and ends the due state; a failure changes nothing.
    function renew(uint256 idSeed) external {
        uint256 count = subs.subscriptionCount();
        if (count == 0) return;
        uint256 id = 1 + (idSeed % count);
        ISubscriptions.Subscription memory before = subs.getSubscription(id);
        bool due = subs.isDue(id);
        uint256 prepaid = subs.prepaidBalanceOf(before.payer, before.token);

        try subs.renew(id) {
            ISubscriptions.Subscription memory s = subs.getSubscription(id);
            uint256 charged = prepaid - subs.prepaidBalanceOf(before.payer, before.token);
            uint256 start = block.timestamp > before.paidUntil ? block.timestamp : before.paidUntil;
            assertTrue(due, "renew: only when due");
            assertEq(s.paidUntil, start + s.period, "renew: one period from max(now, paidUntil)");
            assertTrue(charged != 0 && charged <= before.maxPricePerPeriod, "renew: within the limit");
            assertTrue(!subs.isDue(id), "renew: no longer due");
            ++okCalls["renew"];
        } catch {
            ISubscriptions.Subscription memory s = subs.getSubscription(id);
            assertEq(s.paidUntil, before.paidUntil, "failed renew: paidUntil");
            assertTrue(s.autoRenew == before.autoRenew, "failed renew: autoRenew");
            assertEq(subs.prepaidBalanceOf(before.payer, before.token), prepaid, "failed renew: balance");
            ++failedCalls["renew"];
        }
    }

    /// @dev What checkUpkeep finds, performUpkeep settles: afterwards none of it is due.
    function upkeep(uint256 startSeed, uint256 count) external {
        uint256 total = subs.subscriptionCount();
        if (total == 0) return;
        uint256 start = 1 + (startSeed % total);
        (bool needed, bytes memory data) = subs.checkUpkeep(abi.encode(start, bound(count, 1, 20)));
        uint256[] memory ids = abi.decode(data, (uint256[]));
        assertTrue(needed == (ids.length != 0), "checkUpkeep: needed iff ids");
        for (uint256 i = 0; i < ids.length; ++i) assertTrue(subs.isDue(ids[i]), "checkUpkeep: only due ids");
        subs.performUpkeep(data);
        for (uint256 i = 0; i < ids.length; ++i) assertTrue(!subs.isDue(ids[i]), "performUpkeep: settled");
        ++okCalls[ids.length == 0 ? bytes32("upkeep-empty") : bytes32("upkeep")];
    }

    // ------------------------------------------------------------------ provider & treasury

    function claim(uint256 apiSeed, bool useDai) external {
        uint256 apiId = 1 + (apiSeed % NUM_APIS);
        address token = address(useDai ? dai : usdc);
        (uint128 owed, ) = subs.apiEarnings(token, apiId);
        if (owed == 0) return;
        uint256 before = IERC20(token).balanceOf(address(this));
        subs.claimProviderEarnings(apiId, token);
        assertEq(IERC20(token).balanceOf(address(this)) - before, owed, "claim: paid");
        ghostOut[token] += owed;
        ++okCalls["claim"];
    }

    function collectFees(bool useDai) external {
        address token = address(useDai ? dai : usdc);
        uint256[] memory ids = new uint256[](NUM_APIS);
        uint256 total;
        for (uint256 i = 0; i < NUM_APIS; ++i) {
            ids[i] = i + 1;
            (, uint128 fees) = subs.apiEarnings(token, i + 1);
            total += fees;
        }
        if (total == 0) return;
        uint256 before = IERC20(token).balanceOf(treasury);
        subs.collectProtocolFees(token, ids);
        assertEq(IERC20(token).balanceOf(treasury) - before, total, "collect: paid");
        ghostOut[token] += total;
        ++okCalls["collectFees"];
    }

    function setPrice(uint256 apiSeed, uint256 price) external {
        uint256 apiId = 1 + (apiSeed % NUM_APIS);
        IApiRegistry.Pricing memory p = registry.getPricing(apiId);
        uint256 base = apiId == 1 ? 10e6 : apiId == 2 ? 25 ether : 0.5 ether;
        p.pricePerPeriod = uint96(bound(price, base / 2, base * 2));
        p.pricePerCall = p.pricePerPeriod / 1000;
        registry.setPricing(apiId, p);
        ++okCalls["setPrice"];
    }

    function togglePause(uint256 apiSeed) external {
        uint256 apiId = 1 + (apiSeed % NUM_APIS);
        if (registry.isActive(apiId)) registry.pause(apiId);
        else registry.resume(apiId);
        ++okCalls["togglePause"];
    }

    function refreshFeed(uint256 price) external {
        feed.setAnswer(int256(bound(price, 0.5e8, 2e8)));
        ++okCalls["refreshFeed"];
    }

    function setProtocolBps(uint256 bps) external {
        subs.setProtocolBps(uint16(bound(bps, 0, subs.MAX_PROTOCOL_BPS())));
        ++okCalls["setProtocolBps"];
    }

    function warp(uint256 secondsForward) external {
        VM.warp(block.timestamp + bound(secondsForward, 0, 3 days));
        ++okCalls["warp"];
    }

    // ------------------------------------------------------------------ discount staking

    function stake(uint256 actorSeed, uint256 amount) external {
        SubscriberActor a = _actor(actorSeed);
        amount = min(bound(amount, 1, 150_000 ether), mesh.balanceOf(address(a)));
        if (amount == 0) return;
        a.stake(amount);
        ghostMeshIn += amount;
        ++okCalls["stake"];
    }

    function requestUnstake(uint256 actorSeed, uint256 amount) external {
        SubscriberActor a = _actor(actorSeed);
        IDiscountStaking.Position memory before = discounts.getPosition(address(a));
        if (before.staked == 0) return;
        amount = bound(amount, 1, before.staked);
        a.requestUnstake(amount);
        IDiscountStaking.Position memory p = discounts.getPosition(address(a));
        assertTrue(p.cooldownEndsAt >= before.cooldownEndsAt, "requestUnstake: never shortened");
        uint256 end = block.timestamp + discounts.cooldown();
        if (before.cooldownEndsAt > end) end = before.cooldownEndsAt;
        assertEq(p.cooldownEndsAt, end, "requestUnstake: max(current end, now + cooldown)");
        ++okCalls["requestUnstake"];
    }

    function withdrawStake(uint256 actorSeed, bool wait) external {
        SubscriberActor a = _actor(actorSeed);
        IDiscountStaking.Position memory p = discounts.getPosition(address(a));
        if (wait && p.cooldownEndsAt > block.timestamp) VM.warp(p.cooldownEndsAt);
        if (p.cooling == 0 || block.timestamp < p.cooldownEndsAt) {
            try a.withdrawStake() {
                revert AssertTrue("withdrawStake should have reverted");
            } catch {
                ++failedCalls["withdrawStake"];
                return;
            }
        }
        uint256 before = mesh.balanceOf(address(a));
        a.withdrawStake();
        assertEq(mesh.balanceOf(address(a)) - before, p.cooling, "withdrawStake: paid");
        ghostMeshOut += p.cooling;
        ++okCalls["withdrawStake"];
    }

    function setCooldown(uint256 cooldown) external {
        discounts.setCooldown(uint64(bound(cooldown, discounts.MIN_COOLDOWN(), discounts.MAX_COOLDOWN())));
        ++okCalls["setCooldown"];
    }

    // ------------------------------------------------------------------ views for the invariants

    function actorCount() external view returns (uint256) {
        return _actors.length;
    }

    function actor(uint256 i) external view returns (address) {
        return address(_actors[i]);
    }

    // ------------------------------------------------------------------ internals

    function _actor(uint256 seed) private view returns (SubscriberActor) {
        return _actors[seed % _actors.length];
    }

    function _tokenOf(uint256 apiId) private view returns (address) {
        return apiId == 1 ? address(usdc) : address(dai);
    }

    function _quote(
        uint256 apiId,
        address token,
        address payer
    ) private view returns (bool ok, uint256 price, uint32 period) {
        try quoter.quotePeriod(apiId, token, payer) returns (uint256 p, uint32 per) {
            return (per != 0, p, per);
        } catch {
            return (false, 0, 0);
        }
    }

    function _register(IApiRegistry.PriceUnit unit, address token, uint32 period, uint96 pricePerPeriod) private {
        IApiRegistry.ApiInput memory input;
        input.metadataUri = "ipfs://openapi";
        input.metadataHash = keccak256("openapi: 3.1.0");
        input.upstreamUrl = "https://api.example.com";
        input.category = "weather";
        input.pricing = IApiRegistry.Pricing({
            unit: unit,
            paymentToken: token,
            models: 3,
            stakerDiscount: true,
            period: period,
            pricePerCall: pricePerPeriod / 1000,
            pricePerPeriod: pricePerPeriod
        });
        registry.register(input);
    }
}

/// @dev Invariant tests of Subscriptions' and DiscountStaking's accounting. Only the handler is
///      fuzzed (`targetContracts` / `targetSelectors`, read by Hardhat 3's EDR runner).
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 64
/// forge-config: default.invariant.fail-on-revert = true
contract SubscriptionsInvariantTest {
    /// @dev Foundry's `StdInvariant.FuzzSelector` (same ABI: tuple(address,bytes4[])).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address internal constant TREASURY = address(0x7EA5);
    uint256 internal constant ACTOR_MESH = 1_000_000 ether;

    AccessManager internal manager;
    System internal sys;
    SubscriptionsHandler internal handler;

    function setUp() public {
        manager = new AccessManager(address(this));
        MeshToken mesh = new MeshToken(address(this));
        MockERC20 usdc = new MockERC20("USD Coin", "USDC", 6);
        MockERC20 dai = new MockERC20("Dai", "DAI", 18);
        ApiRegistry registry = new ApiRegistry(
            address(manager),
            IERC20(address(mesh)),
            TREASURY,
            IApiRegistry.ListingBounds(10 ether, 100_000 ether, 1 hours, 365 days, 512, 0)
        );
        UsdPriceOracle oracle = new UsdPriceOracle(address(manager));
        MockAggregatorV3 feed = new MockAggregatorV3(8, 1e8);
        oracle.setFeed(address(dai), address(feed), 1 days);

        IDiscountStaking.Tier[] memory tiers = new IDiscountStaking.Tier[](3);
        tiers[0] = IDiscountStaking.Tier(1000 ether, 500);
        tiers[1] = IDiscountStaking.Tier(10_000 ether, 1000);
        tiers[2] = IDiscountStaking.Tier(100_000 ether, 2000);
        DiscountStaking discounts = new DiscountStaking(address(manager), IERC20(address(mesh)), 7 days, tiers);
        PriceQuoter quoter = new PriceQuoter(registry, oracle, discounts);
        Subscriptions subs = new Subscriptions(address(manager), registry, quoter, TREASURY, 500);

        sys = System(subs, discounts, quoter, registry, usdc, dai, feed, IERC20(address(mesh)), TREASURY);
        handler = new SubscriptionsHandler(sys);
        // Unmapped restricted functions need ADMIN (role 0): the handler governs.
        manager.grantRole(0, address(handler), 0);
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            assertTrue(mesh.transfer(handler.actor(i), ACTOR_MESH), "fund actor");
        }
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory s = new bytes4[](18);
        s[0] = SubscriptionsHandler.subscribe.selector;
        s[1] = SubscriptionsHandler.cancel.selector;
        s[2] = SubscriptionsHandler.depositBalance.selector;
        s[3] = SubscriptionsHandler.withdrawBalance.selector;
        s[4] = SubscriptionsHandler.renew.selector;
        s[5] = SubscriptionsHandler.upkeep.selector;
        s[6] = SubscriptionsHandler.claim.selector;
        s[7] = SubscriptionsHandler.collectFees.selector;
        s[8] = SubscriptionsHandler.setPrice.selector;
        s[9] = SubscriptionsHandler.togglePause.selector;
        s[10] = SubscriptionsHandler.refreshFeed.selector;
        s[11] = SubscriptionsHandler.setProtocolBps.selector;
        s[12] = SubscriptionsHandler.warp.selector;
        s[13] = SubscriptionsHandler.stake.selector;
        s[14] = SubscriptionsHandler.requestUnstake.selector;
        s[15] = SubscriptionsHandler.withdrawStake.selector;
        s[16] = SubscriptionsHandler.setCooldown.selector;
        s[17] = SubscriptionsHandler.subscribe.selector; // subscribing twice as often
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    // ------------------------------------------------------------------ invariants

    /// @dev Per payment token: balance >= liabilities == prepaid balances + unclaimed earnings,
    ///      and the balance is exactly what came in minus what went out.
    function invariant_subscriptionsSolvent() public view {
        address[2] memory tokens = [address(sys.usdc), address(sys.dai)];
        for (uint256 t = 0; t < 2; ++t) {
            address token = tokens[t];
            uint256 owed;
            for (uint256 i = 0; i < handler.actorCount(); ++i) {
                owed += sys.subs.prepaidBalanceOf(handler.actor(i), token);
            }
            for (uint256 apiId = 1; apiId <= handler.NUM_APIS(); ++apiId) {
                (uint128 provider, uint128 protocol) = sys.subs.apiEarnings(token, apiId);
                owed += uint256(provider) + protocol;
            }
            uint256 held = IERC20(token).balanceOf(address(sys.subs));
            uint256 liabilities = sys.subs.liabilities(token);
            assertTrue(held >= liabilities, "balance >= liabilities");
            assertEq(liabilities, owed, "liabilities == prepaid + earnings");
            assertEq(held, handler.ghostIn(token) - handler.ghostOut(token), "balance == in - out");
        }
    }

    /// @dev DiscountStaking: MESH held == totalStaked + totalCooling == sum of positions.
    function invariant_discountStakingBalanced() public view {
        uint256 staked;
        uint256 cooling;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            IDiscountStaking.Position memory p = sys.discounts.getPosition(handler.actor(i));
            staked += p.staked;
            cooling += p.cooling;
        }
        uint256 held = sys.mesh.balanceOf(address(sys.discounts));
        assertEq(held, sys.discounts.totalStaked() + sys.discounts.totalCooling(), "held == staked + cooling");
        assertEq(sys.discounts.totalStaked(), staked, "totalStaked == sum");
        assertEq(sys.discounts.totalCooling(), cooling, "totalCooling == sum");
        assertEq(held, handler.ghostMeshIn() - handler.ghostMeshOut(), "held == in - out");
    }

    /// @dev One subscription per (payer, API), recorded under its own id.
    function invariant_subscriptionRecords() public view {
        uint256 seen;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            for (uint256 apiId = 1; apiId <= handler.NUM_APIS(); ++apiId) {
                uint256 id = sys.subs.subscriptionIdOf(a, apiId);
                if (id == 0) continue;
                ++seen;
                ISubscriptions.Subscription memory s = sys.subs.getSubscription(id);
                assertTrue(s.payer == a && s.apiId == apiId, "record matches its key");
                assertTrue(s.paidUntil >= s.period && s.period != 0, "paidUntil covers a period");
            }
        }
        assertEq(sys.subs.subscriptionCount(), seen, "count == subscriptions");
    }

    /// @dev After every run, everyone can leave and nothing stays behind.
    function afterInvariant() public {
        address[2] memory tokens = [address(sys.usdc), address(sys.dai)];
        uint256[] memory apiIds = new uint256[](handler.NUM_APIS());
        for (uint256 i = 0; i < apiIds.length; ++i) apiIds[i] = i + 1;
        for (uint256 t = 0; t < 2; ++t) {
            address token = tokens[t];
            for (uint256 i = 0; i < handler.actorCount(); ++i) {
                address a = handler.actor(i);
                uint256 prepaid = sys.subs.prepaidBalanceOf(a, token);
                if (prepaid == 0) continue;
                VM.prank(a);
                sys.subs.withdrawBalance(token, prepaid);
            }
            uint256 fees;
            for (uint256 i = 0; i < apiIds.length; ++i) {
                (uint128 provider, uint128 protocol) = sys.subs.apiEarnings(token, apiIds[i]);
                fees += protocol;
                if (provider == 0) continue;
                VM.prank(address(handler));
                sys.subs.claimProviderEarnings(apiIds[i], token);
            }
            if (fees != 0) sys.subs.collectProtocolFees(token, apiIds);
            assertEq(IERC20(token).balanceOf(address(sys.subs)), 0, "nothing stuck");
            assertEq(sys.subs.liabilities(token), 0, "nothing owed");
        }

        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            uint256 staked = sys.discounts.stakeOf(a);
            if (staked == 0) continue;
            VM.prank(a);
            sys.discounts.requestUnstake(staked);
        }
        VM.warp(block.timestamp + sys.discounts.MAX_COOLDOWN());
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            if (sys.discounts.getPosition(a).cooling == 0) continue;
            VM.prank(a);
            sys.discounts.withdraw();
            assertEq(sys.mesh.balanceOf(a), ACTOR_MESH, "staker got all its MESH back");
        }
        assertEq(sys.mesh.balanceOf(address(sys.discounts)), 0, "no MESH stuck");
    }
}
