// SPDX-License-Identifier: MIT
// Handler, actors and test live together; test names follow the invariant_ convention.
// solhint-disable one-contract-per-file, func-name-mixedcase
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {INodeStaking} from "../../contracts/staking/INodeStaking.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {
    StakingTestBase,
    VM,
    REGION,
    NODE_URL,
    AssertTrue,
    assertEq,
    assertTrue,
    bound,
    min
} from "./helpers/StakingTestBase.sol";

/// @dev A node operator: a contract only the handler drives, so every action has a known sender.
contract StakingActor {
    error OnlyHandler();

    NodeStaking private immutable _staking;
    address private immutable _handler;

    constructor(NodeStaking staking_, IERC20 token_) {
        _staking = staking_;
        _handler = msg.sender;
        token_.approve(address(staking_), type(uint256).max);
    }

    modifier onlyHandler() {
        if (msg.sender != _handler) revert OnlyHandler();
        _;
    }

    function registerNode(INodeStaking.NodeType nodeType, uint256 amount) external onlyHandler {
        _staking.registerNode(nodeType, REGION, NODE_URL, 100, amount);
    }

    function topUp(uint256 amount) external onlyHandler {
        _staking.topUp(amount);
    }

    function unstake(uint256 amount) external onlyHandler {
        _staking.unstake(amount);
    }

    function withdraw() external onlyHandler {
        _staking.withdraw();
    }
}

/// @dev The only fuzz target. Each action picks an actor, bounds its inputs, predicts the outcome
///      from its own model of NodeStaking, and then either performs the call (which must succeed)
///      or checks that it reverts with exactly the predicted error. Any surprise reverts the
///      handler, and the campaign runs with fail-on-revert, so surprises fail the test.
contract NodeStakingHandler {
    struct Model {
        uint256 stake;
        uint256 unbonding;
        uint64 releaseAt;
        INodeStaking.NodeStatus status;
        INodeStaking.NodeType nodeType;
        uint256 deposited; // ghost: ever paid into staking
        uint256 withdrawn; // ghost: ever paid back
        uint256 slashed; // ghost: ever slashed
    }

    uint256 public constant NUM_ACTORS = 4;
    uint256 public constant MAX_MIN_STAKE = 20_000 ether;

    NodeStaking public immutable staking;
    IERC20 public immutable token;
    address public immutable treasury;

    StakingActor[] private _actors;
    mapping(address actor => Model) private _model;

    uint256 public ghostSlashed;
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    /// @dev Successful / expected-revert calls per action, to see what a campaign exercised.
    mapping(bytes32 action => uint256) public okCalls;
    mapping(bytes32 action => uint256) public revertCalls;

    constructor(NodeStaking staking_, IERC20 token_, address treasury_) {
        staking = staking_;
        token = token_;
        treasury = treasury_;
        for (uint256 i = 0; i < NUM_ACTORS; ++i) _actors.push(new StakingActor(staking_, token_));
    }

    // ------------------------------------------------------------------ actions

    function register(uint256 actorSeed, uint8 typeSeed, uint256 amount) external {
        (StakingActor a, Model storage m) = _pick(actorSeed);
        INodeStaking.NodeType nodeType = INodeStaking.NodeType(typeSeed % 4);
        uint256 minimum = staking.minStake(nodeType);
        amount = min(bound(amount, 0, 3 * minimum), token.balanceOf(address(a)));

        bytes memory expected;
        if (m.status == INodeStaking.NodeStatus.Active) {
            expected = abi.encodeWithSelector(INodeStaking.NodeAlreadyActive.selector, address(a));
        } else if (amount == 0) {
            expected = abi.encodeWithSelector(INodeStaking.ZeroAmount.selector);
        } else if (amount < minimum) {
            expected = abi.encodeWithSelector(INodeStaking.StakeBelowMinimum.selector, amount, minimum);
        }
        if (expected.length != 0) {
            try a.registerNode(nodeType, amount) {
                revert AssertTrue("register should have reverted");
            } catch (bytes memory err) {
                _assertError(err, expected, "register");
            }
            ++revertCalls["register"];
            return;
        }

        uint256 before = token.balanceOf(address(a));
        a.registerNode(nodeType, amount);
        assertEq(before - token.balanceOf(address(a)), amount, "register: tokens pulled");
        m.stake = amount;
        m.status = INodeStaking.NodeStatus.Active;
        m.nodeType = nodeType;
        m.deposited += amount;
        ghostDeposited += amount;
        ++okCalls["register"];
    }

    function topUp(uint256 actorSeed, uint256 amount) external {
        (StakingActor a, Model storage m) = _pick(actorSeed);
        amount = min(bound(amount, 0, 50_000 ether), token.balanceOf(address(a)));

        bytes memory expected;
        if (amount == 0) {
            expected = abi.encodeWithSelector(INodeStaking.ZeroAmount.selector);
        } else if (m.status != INodeStaking.NodeStatus.Active) {
            expected = abi.encodeWithSelector(INodeStaking.NodeNotActive.selector, address(a));
        }
        if (expected.length != 0) {
            try a.topUp(amount) {
                revert AssertTrue("topUp should have reverted");
            } catch (bytes memory err) {
                _assertError(err, expected, "topUp");
            }
            ++revertCalls["topUp"];
            return;
        }

        a.topUp(amount);
        m.stake += amount;
        m.deposited += amount;
        ghostDeposited += amount;
        ++okCalls["topUp"];
    }

    function unstake(uint256 actorSeed, uint256 amount) external {
        (StakingActor a, Model storage m) = _pick(actorSeed);
        // A quarter of the calls exit fully; the rest pick an amount around the valid range.
        amount = amount % 4 == 0 ? m.stake : bound(amount, 0, m.stake + 1);
        uint256 minimum = staking.minStake(m.nodeType);

        bytes memory expected;
        if (amount == 0) {
            expected = abi.encodeWithSelector(INodeStaking.ZeroAmount.selector);
        } else if (m.status != INodeStaking.NodeStatus.Active) {
            expected = abi.encodeWithSelector(INodeStaking.NodeNotActive.selector, address(a));
        } else if (amount > m.stake) {
            expected = abi.encodeWithSelector(INodeStaking.InsufficientStake.selector, amount, m.stake);
        } else if (amount != m.stake && m.stake - amount < minimum) {
            expected = abi.encodeWithSelector(INodeStaking.StakeBelowMinimum.selector, m.stake - amount, minimum);
        }
        if (expected.length != 0) {
            try a.unstake(amount) {
                revert AssertTrue("unstake should have reverted");
            } catch (bytes memory err) {
                _assertError(err, expected, "unstake");
            }
            ++revertCalls["unstake"];
            return;
        }

        // The wait restarts for all unbonding funds, but never ends sooner than already promised
        // (governance may have shortened the period since the last unstake).
        uint64 releaseAt = uint64(block.timestamp) + staking.unbondingPeriod();
        if (m.unbonding != 0 && m.releaseAt > releaseAt) releaseAt = m.releaseAt;

        uint256 before = token.balanceOf(address(a));
        a.unstake(amount);
        assertEq(token.balanceOf(address(a)), before, "unstake: no tokens move");
        assertEq(staking.getNode(address(a)).unbondingReleaseAt, releaseAt, "unstake: releaseAt");
        m.stake -= amount;
        m.unbonding += amount;
        m.releaseAt = releaseAt;
        if (m.stake == 0) m.status = INodeStaking.NodeStatus.Exiting;
        ++okCalls["unstake"];
    }

    /// @dev Half of the calls first wait until the release time, so withdrawals do happen.
    function withdraw(uint256 actorSeed, bool waitForRelease) external {
        (StakingActor a, Model storage m) = _pick(actorSeed);
        if (waitForRelease && m.releaseAt > block.timestamp) VM.warp(m.releaseAt);

        bytes memory expected;
        if (m.unbonding == 0) {
            expected = abi.encodeWithSelector(INodeStaking.NothingToWithdraw.selector, address(a));
        } else if (block.timestamp < m.releaseAt) {
            expected = abi.encodeWithSelector(INodeStaking.StillUnbonding.selector, m.releaseAt);
        }
        if (expected.length != 0) {
            try a.withdraw() {
                revert AssertTrue("withdraw should have reverted");
            } catch (bytes memory err) {
                _assertError(err, expected, "withdraw");
            }
            ++revertCalls["withdraw"];
            return;
        }

        uint256 before = token.balanceOf(address(a));
        a.withdraw();
        assertEq(token.balanceOf(address(a)) - before, m.unbonding, "withdraw: paid the unbonding funds");
        m.withdrawn += m.unbonding;
        ghostWithdrawn += m.unbonding;
        m.unbonding = 0;
        m.releaseAt = 0;
        if (m.status == INodeStaking.NodeStatus.Exiting) _deleteNode(m);
        ++okCalls["withdraw"];
    }

    function slash(uint256 actorSeed, uint256 amount, bytes32 reason) external {
        (StakingActor a, Model storage m) = _pick(actorSeed);
        amount = bound(amount, 0, 2 * (m.stake + m.unbonding) + 1);

        bytes memory expected;
        if (amount == 0) {
            expected = abi.encodeWithSelector(INodeStaking.ZeroAmount.selector);
        } else if (m.stake + m.unbonding == 0) {
            expected = abi.encodeWithSelector(INodeStaking.NothingToSlash.selector, address(a));
        }
        if (expected.length != 0) {
            try staking.slash(address(a), amount, reason) {
                revert AssertTrue("slash should have reverted");
            } catch (bytes memory err) {
                _assertError(err, expected, "slash");
            }
            ++revertCalls["slash"];
            return;
        }

        uint256 fromStake = min(amount, m.stake);
        uint256 fromUnbonding = min(amount - fromStake, m.unbonding);
        uint256 actorBefore = token.balanceOf(address(a));
        uint256 treasuryBefore = token.balanceOf(treasury);
        staking.slash(address(a), amount, reason);
        assertEq(token.balanceOf(treasury) - treasuryBefore, fromStake + fromUnbonding, "slash: treasury paid");
        assertEq(token.balanceOf(address(a)), actorBefore, "slash: operator paid nothing");

        m.stake -= fromStake;
        m.unbonding -= fromUnbonding;
        if (fromUnbonding != 0 && m.unbonding == 0) m.releaseAt = 0;
        m.slashed += fromStake + fromUnbonding;
        ghostSlashed += fromStake + fromUnbonding;
        if (m.stake == 0 && m.status == INodeStaking.NodeStatus.Active) m.status = INodeStaking.NodeStatus.Exiting;
        if (m.stake == 0 && m.unbonding == 0) _deleteNode(m);
        ++okCalls["slash"];
    }

    function setMinStake(uint8 typeSeed, uint256 amount) external {
        INodeStaking.NodeType nodeType = INodeStaking.NodeType(typeSeed % 4);
        amount = bound(amount, 0, MAX_MIN_STAKE);
        if (amount == 0) {
            try staking.setMinStake(nodeType, 0) {
                revert AssertTrue("setMinStake should have reverted");
            } catch (bytes memory err) {
                _assertError(err, abi.encodeWithSelector(INodeStaking.ZeroAmount.selector), "setMinStake");
            }
            ++revertCalls["setMinStake"];
            return;
        }
        staking.setMinStake(nodeType, amount);
        ++okCalls["setMinStake"];
    }

    function setUnbondingPeriod(uint64 period) external {
        uint64 lo = staking.MIN_UNBONDING_PERIOD();
        uint64 hi = staking.MAX_UNBONDING_PERIOD();
        period = uint64(bound(period, lo - 10, hi + 10));
        if (period < lo || period > hi) {
            try staking.setUnbondingPeriod(period) {
                revert AssertTrue("setUnbondingPeriod should have reverted");
            } catch (bytes memory err) {
                _assertError(
                    err,
                    abi.encodeWithSelector(INodeStaking.UnbondingPeriodOutOfRange.selector, period, lo, hi),
                    "setUnbondingPeriod"
                );
            }
            ++revertCalls["setUnbondingPeriod"];
            return;
        }
        staking.setUnbondingPeriod(period);
        ++okCalls["setUnbondingPeriod"];
    }

    function warp(uint256 secondsForward) external {
        VM.warp(block.timestamp + bound(secondsForward, 0, 30 days));
        ++okCalls["warp"];
    }

    // ------------------------------------------------------------------ views for the invariants

    function actorCount() external view returns (uint256) {
        return _actors.length;
    }

    function actor(uint256 i) external view returns (address) {
        return address(_actors[i]);
    }

    function model(address a) external view returns (Model memory) {
        return _model[a];
    }

    // ------------------------------------------------------------------ internals

    function _pick(uint256 seed) private view returns (StakingActor a, Model storage m) {
        a = _actors[seed % _actors.length];
        m = _model[address(a)];
    }

    function _deleteNode(Model storage m) private {
        m.stake = 0;
        m.unbonding = 0;
        m.releaseAt = 0;
        m.status = INodeStaking.NodeStatus.None;
        m.nodeType = INodeStaking.NodeType.Edge;
    }

    function _assertError(bytes memory actual, bytes memory expected, string memory what) private pure {
        assertTrue(keccak256(actual) == keccak256(expected), what);
    }
}

/// @dev Invariant tests of NodeStaking. Only the handler is fuzzed (`targetContracts` and
///      `targetSelectors`, the Foundry-compatible hooks that Hardhat 3's EDR runner reads).
/// forge-config: default.invariant.runs = 128
/// forge-config: default.invariant.depth = 128
/// forge-config: default.invariant.fail-on-revert = true
contract NodeStakingInvariantTest is StakingTestBase {
    /// @dev Foundry's `StdInvariant.FuzzSelector` (same ABI: tuple(address,bytes4[])).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    uint256 internal constant ACTOR_FUNDS = 100_000_000 ether;

    NodeStakingHandler internal handler;

    function setUp() public {
        _deploy();
        handler = new NodeStakingHandler(staking, IERC20(address(token)), TREASURY);
        _grantGovernance(address(handler));
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            assertTrue(token.transfer(handler.actor(i), ACTOR_FUNDS), "fund actor");
        }
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = NodeStakingHandler.register.selector;
        selectors[1] = NodeStakingHandler.topUp.selector;
        selectors[2] = NodeStakingHandler.unstake.selector;
        selectors[3] = NodeStakingHandler.withdraw.selector;
        selectors[4] = NodeStakingHandler.slash.selector;
        selectors[5] = NodeStakingHandler.setMinStake.selector;
        selectors[6] = NodeStakingHandler.setUnbondingPeriod.selector;
        selectors[7] = NodeStakingHandler.warp.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    // ------------------------------------------------------------------ invariants

    /// @dev MESH held == totalStaked + totalUnbonding == what the nodes and the model say.
    function invariant_solvency() public view {
        uint256 sumStake;
        uint256 sumUnbonding;
        uint256 modelSum;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            INodeStaking.Node memory n = staking.getNode(a);
            NodeStakingHandler.Model memory m = handler.model(a);
            sumStake += n.stake;
            sumUnbonding += n.unbonding;
            modelSum += m.stake + m.unbonding;
        }
        uint256 held = token.balanceOf(address(staking));
        assertEq(held, staking.totalStaked() + staking.totalUnbonding(), "held == totalStaked + totalUnbonding");
        assertEq(staking.totalStaked(), sumStake, "totalStaked == sum of stakes");
        assertEq(staking.totalUnbonding(), sumUnbonding, "totalUnbonding == sum of unbonding");
        assertEq(held, modelSum, "held == model sum");
        assertEq(held, handler.ghostDeposited() - handler.ghostWithdrawn() - handler.ghostSlashed(), "flows");
    }

    /// @dev Every actor self-delegates on its first registration: votes == stake, summing to totalStaked.
    function invariant_votesEqualStake() public view {
        uint256 sumVotes;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            uint256 votes = staking.getVotes(a);
            assertEq(votes, staking.stakeOf(a), "votes == stake");
            if (handler.model(a).deposited != 0) assertTrue(staking.delegates(a) == a, "self-delegated");
            sumVotes += votes;
        }
        assertEq(sumVotes, staking.totalStaked(), "sum of votes == totalStaked");
    }

    /// @dev Slashed MESH reaches the treasury and nobody gets back more than it put in minus slashes.
    function invariant_slashesGoToTreasuryAndNobodyProfits() public view {
        assertEq(token.balanceOf(TREASURY), handler.ghostSlashed(), "treasury == sum of slashes");
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            NodeStakingHandler.Model memory m = handler.model(a);
            assertTrue(m.withdrawn + m.slashed <= m.deposited, "withdrawn <= deposited - slashed");
            assertEq(m.deposited - m.slashed - m.withdrawn, m.stake + m.unbonding, "conservation per actor");
            assertEq(token.balanceOf(a), ACTOR_FUNDS - m.deposited + m.withdrawn, "actor balance");
        }
    }

    /// @dev The contract's stored nodes match the handler's model.
    function invariant_nodesMatchModel() public view {
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actor(i);
            INodeStaking.Node memory n = staking.getNode(a);
            NodeStakingHandler.Model memory m = handler.model(a);
            assertEq(n.stake, m.stake, "stake");
            assertEq(n.unbonding, m.unbonding, "unbonding");
            assertEq(n.unbondingReleaseAt, m.releaseAt, "releaseAt");
            assertEq(uint256(n.status), uint256(m.status), "status");
            assertEq(uint256(n.nodeType), uint256(m.nodeType), "nodeType");
            assertTrue(n.status != INodeStaking.NodeStatus.Active || n.stake != 0, "active nodes have stake");
            assertTrue(n.status != INodeStaking.NodeStatus.Exiting || n.unbonding != 0, "exiting nodes have funds");
            bool active = n.status == INodeStaking.NodeStatus.Active && n.stake >= staking.minStake(n.nodeType);
            assertTrue(staking.isActive(a) == active, "isActive");
        }
    }

    /// @dev After every run, everyone can leave: unstake all, wait, withdraw; nothing stays behind.
    function afterInvariant() public {
        uint256 n = handler.actorCount();
        for (uint256 i = 0; i < n; ++i) {
            address a = handler.actor(i);
            if (staking.getNode(a).status == INodeStaking.NodeStatus.Active) {
                uint256 stake = staking.stakeOf(a);
                VM.prank(a);
                staking.unstake(stake);
            }
        }
        VM.warp(block.timestamp + staking.MAX_UNBONDING_PERIOD());
        for (uint256 i = 0; i < n; ++i) {
            address a = handler.actor(i);
            if (staking.getNode(a).unbonding != 0) {
                VM.prank(a);
                staking.withdraw();
            }
            NodeStakingHandler.Model memory m = handler.model(a);
            assertEq(token.balanceOf(a), ACTOR_FUNDS - m.slashed, "actor lost exactly its slashes");
            assertTrue(staking.getNode(a).status == INodeStaking.NodeStatus.None, "node gone");
            assertEq(staking.getVotes(a), 0, "no votes left");
        }
        assertEq(token.balanceOf(address(staking)), 0, "nothing stuck");
        assertEq(staking.totalStaked() + staking.totalUnbonding(), 0, "totals zero");
    }
}
