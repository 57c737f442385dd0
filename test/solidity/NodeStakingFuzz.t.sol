// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Test names follow the testFuzz_ convention.
// solhint-disable func-name-mixedcase

import {INodeStaking} from "../../contracts/staking/INodeStaking.sol";
import {
    StakingTestBase,
    VM,
    REGION,
    NODE_URL,
    assertEq,
    assertTrue,
    bound,
    min
} from "./helpers/StakingTestBase.sol";

/// @dev Fuzz tests of NodeStaking's accounting: stake/unstake/withdraw round trips, the minimum
///      remainder rule, the unbonding clock and the split of a slash between stake and unbonding.
contract NodeStakingFuzzTest is StakingTestBase {
    address internal constant ALICE = address(0xA11CE);
    uint256 internal constant ALICE_FUNDS = 100_000_000 ether;
    uint256 internal constant MAX_STAKE = 10_000_000 ether;

    function setUp() public {
        _deploy();
        _grantGovernance(address(this));
        assertTrue(token.transfer(ALICE, ALICE_FUNDS), "fund alice");
        VM.prank(ALICE);
        token.approve(address(staking), type(uint256).max);
    }

    // ------------------------------------------------------------------ helpers

    function _register(INodeStaking.NodeType nodeType, uint256 amount) internal {
        VM.prank(ALICE);
        staking.registerNode(nodeType, REGION, NODE_URL, 100, amount);
    }

    function _unstake(uint256 amount) internal {
        VM.prank(ALICE);
        staking.unstake(amount);
    }

    function _withdraw() internal {
        VM.prank(ALICE);
        staking.withdraw();
    }

    function _assertSolvent() internal view {
        assertEq(
            token.balanceOf(address(staking)),
            staking.totalStaked() + staking.totalUnbonding(),
            "balance == totalStaked + totalUnbonding"
        );
    }

    function _assertNoNode() internal view {
        INodeStaking.Node memory n = staking.getNode(ALICE);
        assertTrue(n.status == INodeStaking.NodeStatus.None, "status None");
        assertEq(n.stake + n.unbonding + n.unbondingReleaseAt + n.registeredAt + n.capacity, 0, "node deleted");
        assertEq(bytes(n.url).length, 0, "url deleted");
    }

    /// @dev An unstake amount that `unstake` accepts: everything, or leaving at least `minimum`.
    function _validUnstake(uint256 staked, uint256 minimum, uint256 seed) internal pure returns (uint256) {
        uint256 maxPartial = staked - minimum;
        if (seed % 4 == 0 || maxPartial == 0) return staked;
        return bound(seed, 1, maxPartial);
    }

    // ------------------------------------------------------------------ round trip

    function testFuzz_stakeUnstakeWithdrawRoundTrip(
        uint8 typeSeed,
        uint256 stakeAmount,
        uint256 unstakeSeed,
        uint256 extraWait
    ) public {
        INodeStaking.NodeType nodeType = INodeStaking.NodeType(typeSeed % 4);
        uint256 minimum = staking.minStake(nodeType);
        stakeAmount = bound(stakeAmount, minimum, MAX_STAKE);
        uint256 amount = _validUnstake(stakeAmount, minimum, unstakeSeed);
        extraWait = bound(extraWait, 0, 365 days);

        VM.warp(1_000_000);
        _register(nodeType, stakeAmount);
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - stakeAmount, "alice paid the stake");
        assertEq(staking.stakeOf(ALICE), stakeAmount, "stakeOf");
        assertEq(staking.getVotes(ALICE), stakeAmount, "votes == stake");
        assertTrue(staking.isActive(ALICE), "active");

        VM.warp(2_000_000);
        _unstake(amount);
        uint64 releaseAt = 2_000_000 + UNBONDING_PERIOD;
        INodeStaking.Node memory n = staking.getNode(ALICE);
        assertEq(n.stake, stakeAmount - amount, "stake after unstake");
        assertEq(n.unbonding, amount, "unbonding");
        assertEq(n.unbondingReleaseAt, releaseAt, "releaseAt");
        assertEq(staking.getVotes(ALICE), stakeAmount - amount, "votes after unstake");
        assertTrue(
            n.status == (amount == stakeAmount ? INodeStaking.NodeStatus.Exiting : INodeStaking.NodeStatus.Active),
            "status after unstake"
        );
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - stakeAmount, "unstake moves no tokens");
        _assertSolvent();

        VM.warp(releaseAt - 1);
        VM.expectRevert(abi.encodeWithSelector(INodeStaking.StillUnbonding.selector, releaseAt));
        _withdraw();

        VM.warp(releaseAt + extraWait);
        _withdraw();
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - stakeAmount + amount, "alice got the unbonded funds");
        assertEq(staking.totalUnbonding(), 0, "totalUnbonding");
        assertEq(staking.totalStaked(), stakeAmount - amount, "totalStaked");
        if (amount == stakeAmount) _assertNoNode();
        else assertEq(staking.getNode(ALICE).unbonding, 0, "unbonding cleared");
        _assertSolvent();

        VM.expectRevert(abi.encodeWithSelector(INodeStaking.NothingToWithdraw.selector, ALICE));
        _withdraw();
    }

    // ------------------------------------------------------------------ remainder rule

    function testFuzz_unstakeLeavesZeroOrAtLeastMinimum(uint256 stakeAmount, uint256 amount) public {
        uint256 minimum = staking.minStake(INodeStaking.NodeType.Edge);
        stakeAmount = bound(stakeAmount, minimum, 1_000_000 ether);
        amount = bound(amount, 1, 2 * stakeAmount);
        _register(INodeStaking.NodeType.Edge, stakeAmount);

        if (amount > stakeAmount) {
            VM.expectRevert(abi.encodeWithSelector(INodeStaking.InsufficientStake.selector, amount, stakeAmount));
        } else if (amount != stakeAmount && stakeAmount - amount < minimum) {
            VM.expectRevert(
                abi.encodeWithSelector(INodeStaking.StakeBelowMinimum.selector, stakeAmount - amount, minimum)
            );
        }
        _unstake(amount);

        uint256 left = staking.stakeOf(ALICE);
        assertTrue(left == 0 || left >= minimum, "remainder is zero or at least the minimum");
        assertEq(left + staking.getNode(ALICE).unbonding, stakeAmount, "nothing lost");
        _assertSolvent();
    }

    // ------------------------------------------------------------------ unbonding clock

    function testFuzz_withdrawWaitsForThePeriodInForceAtUnstake(
        uint64 period,
        uint64 laterPeriod,
        uint256 wait
    ) public {
        period = uint64(bound(period, staking.MIN_UNBONDING_PERIOD(), staking.MAX_UNBONDING_PERIOD()));
        laterPeriod = uint64(bound(laterPeriod, staking.MIN_UNBONDING_PERIOD(), staking.MAX_UNBONDING_PERIOD()));
        wait = bound(wait, 0, 2 * uint256(staking.MAX_UNBONDING_PERIOD()));
        staking.setUnbondingPeriod(period);
        _register(INodeStaking.NodeType.Mobile, 500 ether);

        VM.warp(10_000);
        _unstake(200 ether);
        staking.setUnbondingPeriod(laterPeriod);
        assertEq(staking.getNode(ALICE).unbondingReleaseAt, 10_000 + uint256(period), "releaseAt fixed at unstake");

        VM.warp(10_000 + wait);
        if (wait < period) {
            VM.expectRevert(abi.encodeWithSelector(INodeStaking.StillUnbonding.selector, 10_000 + uint256(period)));
        }
        _withdraw();
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - (wait < period ? 500 ether : 300 ether), "alice balance");
        _assertSolvent();
    }

    function testFuzz_secondUnstakeRestartsTheWait(uint256 gap, uint256 first, uint256 second) public {
        gap = bound(gap, 1, 30 days);
        first = bound(first, 1, 1000 ether);
        second = bound(second, 1, 1000 ether);
        _register(INodeStaking.NodeType.Edge, 3000 ether);
        VM.warp(100);
        _unstake(first);
        VM.warp(100 + gap);
        _unstake(second);
        uint64 releaseAt = uint64(100 + gap) + UNBONDING_PERIOD;
        INodeStaking.Node memory n = staking.getNode(ALICE);
        assertEq(n.unbonding, first + second, "all unbonding funds together");
        assertEq(n.unbondingReleaseAt, releaseAt, "restarted");

        VM.warp(releaseAt - 1);
        VM.expectRevert(abi.encodeWithSelector(INodeStaking.StillUnbonding.selector, releaseAt));
        _withdraw();
        VM.warp(releaseAt);
        _withdraw();
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - 3000 ether + first + second, "both tranches back");
    }

    function testFuzz_unstakeNeverShortensTheWait(
        uint64 period,
        uint64 laterPeriod,
        uint256 gap,
        uint256 first,
        uint256 second
    ) public {
        period = uint64(bound(period, staking.MIN_UNBONDING_PERIOD(), staking.MAX_UNBONDING_PERIOD()));
        laterPeriod = uint64(bound(laterPeriod, staking.MIN_UNBONDING_PERIOD(), staking.MAX_UNBONDING_PERIOD()));
        // Gaps up to the longest period: often the earlier promise is the later time, often not.
        gap = bound(gap, 0, staking.MAX_UNBONDING_PERIOD());
        first = bound(first, 1, 1000 ether);
        second = bound(second, 1, 1000 ether);
        staking.setUnbondingPeriod(period);
        _register(INodeStaking.NodeType.Edge, 3000 ether);

        VM.warp(10_000);
        _unstake(first);
        uint64 promised = 10_000 + period;
        staking.setUnbondingPeriod(laterPeriod);

        VM.warp(10_000 + gap);
        uint64 restarted = uint64(10_000 + gap) + laterPeriod;
        uint64 releaseAt = restarted > promised ? restarted : promised;
        VM.expectEmit(address(staking));
        emit INodeStaking.UnstakeStarted(ALICE, second, first + second, releaseAt);
        _unstake(second);
        INodeStaking.Node memory n = staking.getNode(ALICE);
        assertEq(n.unbonding, first + second, "all unbonding funds together");
        assertEq(n.unbondingReleaseAt, releaseAt, "max(promised, now + period)");
        assertTrue(n.unbondingReleaseAt >= promised, "never earlier than promised");

        // releaseAt >= now + laterPeriod > now, so releaseAt - 1 is not in the past.
        VM.warp(releaseAt - 1);
        VM.expectRevert(abi.encodeWithSelector(INodeStaking.StillUnbonding.selector, releaseAt));
        _withdraw();
        VM.warp(releaseAt);
        _withdraw();
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - 3000 ether + first + second, "both tranches back");
        _assertSolvent();
    }

    // ------------------------------------------------------------------ slashing

    function testFuzz_slashTakesStakeFirstThenUnbonding(
        uint256 stakeAmount,
        uint256 unstakeSeed,
        uint256 amount,
        bytes32 reason
    ) public {
        uint256 minimum = staking.minStake(INodeStaking.NodeType.Edge);
        stakeAmount = bound(stakeAmount, minimum, MAX_STAKE);
        _register(INodeStaking.NodeType.Edge, stakeAmount);
        uint256 unbonding = unstakeSeed % 3 == 0 ? 0 : _validUnstake(stakeAmount, minimum, unstakeSeed / 3);
        if (unbonding != 0) _unstake(unbonding);
        uint256 staked = stakeAmount - unbonding;
        amount = bound(amount, 1, 2 * stakeAmount);

        uint256 fromStake = min(amount, staked);
        uint256 fromUnbonding = min(amount - fromStake, unbonding);
        bool exits = staked != 0 && fromStake == staked;
        uint256 aliceBefore = token.balanceOf(ALICE);

        if (exits) {
            VM.expectEmit(address(staking));
            emit INodeStaking.NodeExited(ALICE);
        }
        VM.expectEmit(address(staking));
        emit INodeStaking.NodeSlashed(ALICE, fromStake, fromUnbonding, TREASURY, reason);
        staking.slash(ALICE, amount, reason);

        INodeStaking.Node memory n = staking.getNode(ALICE);
        assertEq(n.stake, staked - fromStake, "stake after slash");
        assertEq(n.unbonding, unbonding - fromUnbonding, "unbonding after slash");
        assertEq(staking.totalStaked(), staked - fromStake, "totalStaked");
        assertEq(staking.totalUnbonding(), unbonding - fromUnbonding, "totalUnbonding");
        assertEq(staking.getVotes(ALICE), staked - fromStake, "votes follow stake");
        assertEq(token.balanceOf(TREASURY), fromStake + fromUnbonding, "treasury got the slash");
        assertEq(token.balanceOf(ALICE), aliceBefore, "operator got nothing");
        if (n.stake + n.unbonding == 0) _assertNoNode();
        else if (n.stake == 0) assertTrue(n.status == INodeStaking.NodeStatus.Exiting, "exiting");
        else assertTrue(n.status == INodeStaking.NodeStatus.Active, "still active");
        _assertSolvent();

        // What is left comes back in full, and no more.
        if (n.unbonding != 0) {
            VM.warp(n.unbondingReleaseAt);
            _withdraw();
        }
        if (n.stake != 0) {
            _unstake(n.stake);
            VM.warp(staking.getNode(ALICE).unbondingReleaseAt);
            _withdraw();
        }
        assertEq(token.balanceOf(ALICE), ALICE_FUNDS - fromStake - fromUnbonding, "operator lost exactly the slash");
        _assertNoNode();
        _assertSolvent();
    }

    // ------------------------------------------------------------------ node info

    function testFuzz_urlLength(uint256 length) public {
        length = bound(length, 0, 600);
        bytes memory url = new bytes(length);
        for (uint256 i = 0; i < length; ++i) url[i] = "a";
        if (length == 0) {
            VM.expectRevert(abi.encodeWithSelector(INodeStaking.EmptyNodeUrl.selector));
        } else if (length > 256) {
            VM.expectRevert(abi.encodeWithSelector(INodeStaking.NodeUrlTooLong.selector, length, 256));
        }
        VM.prank(ALICE);
        staking.registerNode(INodeStaking.NodeType.Mobile, REGION, string(url), 1, 100 ether);
        if (length != 0 && length <= 256) assertEq(bytes(staking.getNode(ALICE).url).length, length, "url stored");
    }

    // ------------------------------------------------------------------ votes

    function testFuzz_votesCheckpointTheStake(uint256 stakeAmount, uint256 topUp, uint256 unstakeSeed) public {
        stakeAmount = bound(stakeAmount, 1000 ether, MAX_STAKE);
        topUp = bound(topUp, 1, MAX_STAKE);
        VM.warp(100);
        _register(INodeStaking.NodeType.Edge, stakeAmount);
        VM.warp(200);
        VM.prank(ALICE);
        staking.topUp(topUp);
        uint256 amount = _validUnstake(stakeAmount + topUp, 1000 ether, unstakeSeed);
        VM.warp(300);
        _unstake(amount);
        VM.warp(400);

        assertEq(staking.getPastVotes(ALICE, 99), 0, "before registration");
        assertEq(staking.getPastVotes(ALICE, 199), stakeAmount, "before the top-up");
        assertEq(staking.getPastVotes(ALICE, 200), stakeAmount + topUp, "after the top-up");
        assertEq(staking.getPastVotes(ALICE, 300), stakeAmount + topUp - amount, "after the unstake");
        assertEq(staking.getPastTotalSupply(299), stakeAmount + topUp, "vote supply");
        assertEq(staking.getVotes(ALICE), staking.stakeOf(ALICE), "votes == stake");
        assertEq(staking.clock(), 400, "clock is the timestamp");
    }
}
