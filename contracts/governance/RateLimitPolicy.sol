// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IRateLimitPolicy} from "./IRateLimitPolicy.sol";

/// @title RateLimitPolicy
/// @notice The Security DAO's rate-limit and quota policies: one policy per tier, one tier per
///         API (tier 0 by default). Relayers read them (and their events) and enforce them.
contract RateLimitPolicy is IRateLimitPolicy, AccessManaged {
    mapping(uint8 tier => Policy) private _policies;
    mapping(uint256 apiId => uint8) public tierOf;

    /// @param authority The AccessManager.
    /// @param defaultPolicy The policy of tier 0, which every API starts in.
    constructor(address authority, Policy memory defaultPolicy) AccessManaged(authority) {
        _setPolicy(0, defaultPolicy);
    }

    /// @notice Sets the policy of `tier` (Security DAO).
    function setPolicy(uint8 tier, Policy calldata policy) external restricted {
        _setPolicy(tier, policy);
    }

    /// @notice Moves `apiId` into `tier`, which must have a policy (Security DAO).
    function setApiTier(uint256 apiId, uint8 tier) external restricted {
        if (_policies[tier].windowSeconds == 0) revert UnknownTier(tier);
        tierOf[apiId] = tier;
        emit ApiTierSet(apiId, tier);
    }

    /// @inheritdoc IRateLimitPolicy
    function policyOfTier(uint8 tier) external view returns (Policy memory) {
        return _policies[tier];
    }

    /// @inheritdoc IRateLimitPolicy
    function policyOf(uint256 apiId) external view returns (uint8 tier, Policy memory policy) {
        tier = tierOf[apiId];
        policy = _policies[tier];
    }

    function _setPolicy(uint8 tier, Policy memory p) private {
        if (p.requestsPerWindow == 0 || p.windowSeconds == 0 || p.burst > p.requestsPerWindow) revert InvalidPolicy();
        _policies[tier] = p;
        emit PolicySet(tier, p.requestsPerWindow, p.windowSeconds, p.burst);
    }
}
