// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {NodeStaking} from "../../../contracts/staking/NodeStaking.sol";
import {MeshToken} from "../../../contracts/token/MeshToken.sol";

/// @dev The cheatcodes these tests use (Hardhat 3 / EDR implements Foundry's `vm` at this address).
interface IVm {
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;
    function assume(bool condition) external pure;
}

/// @dev Failed assertions (no forge-std here). Custom errors keep solhint's gas-custom-errors happy.
error AssertEq(string what, uint256 actual, uint256 expected);
error AssertTrue(string what);

/// @dev `address(uint160(uint256(keccak256("hevm cheat code"))))`.
IVm constant VM = IVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

uint64 constant ROLE_PROTOCOL = 1;
uint64 constant ROLE_SECURITY = 2;
bytes32 constant REGION = "eu-west-1";
string constant NODE_URL = "https://node.meshgate.example";

function assertEq(uint256 actual, uint256 expected, string memory what) pure {
    if (actual != expected) revert AssertEq(what, actual, expected);
}

function assertTrue(bool condition, string memory what) pure {
    if (!condition) revert AssertTrue(what);
}

/// @dev `x` mapped into [lo, hi] (hi - lo must not be type(uint256).max).
function bound(uint256 x, uint256 lo, uint256 hi) pure returns (uint256) {
    if (hi <= lo) return lo;
    return lo + (x % (hi - lo + 1));
}

function min(uint256 a, uint256 b) pure returns (uint256) {
    return a < b ? a : b;
}

/// @dev Deploys the contracts NodeStaking needs, wired like deploy/roles.ts: the deployer (the
///      test contract) is the AccessManager admin and holds the whole MESH supply.
abstract contract StakingTestBase {
    uint64 internal constant UNBONDING_PERIOD = 7 days;
    address internal constant TREASURY = address(0x7EA5); // receives slashed stake, nothing else

    AccessManager internal manager;
    MeshToken internal token;
    NodeStaking internal staking;

    function _deploy() internal {
        manager = new AccessManager(address(this));
        token = new MeshToken(address(this));
        uint256[4] memory minStakes = [uint256(1000 ether), 100 ether, 5000 ether, 10_000 ether];
        staking = new NodeStaking(address(manager), IERC20(address(token)), TREASURY, UNBONDING_PERIOD, minStakes);

        bytes4[] memory protocolFns = new bytes4[](3);
        protocolFns[0] = NodeStaking.setMinStake.selector;
        protocolFns[1] = NodeStaking.setUnbondingPeriod.selector;
        protocolFns[2] = NodeStaking.setTreasury.selector;
        manager.setTargetFunctionRole(address(staking), protocolFns, ROLE_PROTOCOL);
        bytes4[] memory securityFns = new bytes4[](1);
        securityFns[0] = NodeStaking.slash.selector;
        manager.setTargetFunctionRole(address(staking), securityFns, ROLE_SECURITY);
    }

    function _grantGovernance(address account) internal {
        manager.grantRole(ROLE_PROTOCOL, account, 0);
        manager.grantRole(ROLE_SECURITY, account, 0);
    }
}
