// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IApiRegistry} from "../registry/IApiRegistry.sol";
import {IEarningsLedger} from "./IEarningsLedger.sol";

/// @title EarningsLedger
/// @notice Shared by the contracts that take consumers' money (PaymentEscrow, Subscriptions):
///         per-API earnings split into a provider share, claimable by the API's current
///         provider, and a protocol share, collected to the treasury; plus `liabilities`, the
///         total owed per token, so solvency is one comparison: balanceOf(this) >= liabilities.
/// @dev The provider share follows the API: after a transfer, the new provider claims it.
abstract contract EarningsLedger is IEarningsLedger, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice The API catalogue (who the provider of an API is).
    IApiRegistry public immutable registry;
    /// @notice Receives protocol fees.
    address public treasury;

    mapping(address token => mapping(uint256 apiId => ApiEarnings)) public apiEarnings;
    /// @notice Everything this contract owes in `token`.
    mapping(address token => uint256) public liabilities;

    constructor(address authority, IApiRegistry registry_, address treasury_) AccessManaged(authority) {
        if (authority == address(0) || address(registry_) == address(0)) revert ZeroAddress();
        registry = registry_;
        _setTreasury(treasury_);
    }

    /// @inheritdoc IEarningsLedger
    function claimProviderEarnings(uint256 apiId, address token) external nonReentrant {
        if (registry.providerOf(apiId) != msg.sender) revert NotApiProvider(apiId, msg.sender);
        ApiEarnings storage e = apiEarnings[token][apiId];
        uint256 amount = e.provider;
        if (amount == 0) revert NothingToClaim();
        e.provider = 0;
        liabilities[token] -= amount;
        emit ProviderEarningsClaimed(apiId, msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IEarningsLedger
    /// @dev Anyone may call; the caller bounds the work by the list it passes.
    function collectProtocolFees(address token, uint256[] calldata apiIds) external nonReentrant {
        uint256 total;
        for (uint256 i = 0; i < apiIds.length; ++i) {
            ApiEarnings storage e = apiEarnings[token][apiIds[i]];
            total += e.protocol;
            e.protocol = 0;
        }
        if (total == 0) revert NothingToClaim();
        liabilities[token] -= total;
        address to = treasury;
        emit ProtocolFeesCollected(token, to, total);
        IERC20(token).safeTransfer(to, total);
    }

    /// @notice Sets the receiver of protocol fees (Protocol DAO).
    function setTreasury(address treasury_) external restricted {
        _setTreasury(treasury_);
    }

    /// @dev Credits an API's shares; the money is already counted in `liabilities`.
    function _creditApi(address token, uint256 apiId, uint256 providerShare, uint256 protocolShare) internal {
        if (providerShare == 0 && protocolShare == 0) return;
        ApiEarnings storage e = apiEarnings[token][apiId];
        // SafeCast: a batch sums shares in uint256; never truncate them into the uint128 slots.
        e.provider += providerShare.toUint128();
        e.protocol += protocolShare.toUint128();
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert ZeroAddress();
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }
}
