// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IDiscountStaking} from "../discounts/IDiscountStaking.sol";
import {IApiRegistry} from "../registry/IApiRegistry.sol";
import {IPriceQuoter} from "./IPriceQuoter.sol";
import {IUsdPriceOracle} from "./IUsdPriceOracle.sol";

/// @title PriceQuoter
/// @notice Turns an API's listed prices into what a payer owes in a token: converts USD
///         prices with the oracle and applies the payer's staker discount. Stateless, with
///         immutable wiring: nothing to govern.
/// @dev Rounding always favours the payee: the oracle rounds the conversion up and the
///      discounted price is rounded up, so a payer never underpays by a base unit.
contract PriceQuoter is IPriceQuoter {
    uint8 private constant MODEL_PAY_PER_CALL = 1;
    uint8 private constant MODEL_SUBSCRIPTION = 2;
    uint256 private constant BPS = 10_000;

    /// @notice The API catalogue.
    IApiRegistry public immutable registry;
    /// @notice USD -> token conversion for USD-priced APIs.
    IUsdPriceOracle public immutable oracle;
    /// @notice Consumer discount tiers.
    IDiscountStaking public immutable discounts;

    /// @param registry_ The ApiRegistry.
    /// @param oracle_ The USD price oracle.
    /// @param discounts_ The DiscountStaking contract.
    constructor(IApiRegistry registry_, IUsdPriceOracle oracle_, IDiscountStaking discounts_) {
        if (address(registry_) == address(0) || address(oracle_) == address(0) || address(discounts_) == address(0)) {
            revert ZeroAddress();
        }
        registry = registry_;
        oracle = oracle_;
        discounts = discounts_;
    }

    /// @inheritdoc IPriceQuoter
    function quote(
        uint256 apiId,
        address token,
        address payer
    ) external view returns (uint256 perCall, uint256 perPeriod, uint32 period) {
        IApiRegistry.Pricing memory p = _pricing(apiId, token);
        uint16 discountBps = _discountBps(p, payer);
        if (p.models & MODEL_PAY_PER_CALL != 0) perCall = _price(p, token, p.pricePerCall, discountBps);
        if (p.models & MODEL_SUBSCRIPTION != 0) {
            perPeriod = _price(p, token, p.pricePerPeriod, discountBps);
            period = p.period;
        }
    }

    /// @inheritdoc IPriceQuoter
    function quoteCall(uint256 apiId, address token, address payer) external view returns (uint256 perCall) {
        IApiRegistry.Pricing memory p = _pricing(apiId, token);
        if (p.models & MODEL_PAY_PER_CALL == 0) return 0;
        perCall = _price(p, token, p.pricePerCall, _discountBps(p, payer));
    }

    /// @inheritdoc IPriceQuoter
    function quotePeriod(
        uint256 apiId,
        address token,
        address payer
    ) external view returns (uint256 perPeriod, uint32 period) {
        IApiRegistry.Pricing memory p = _pricing(apiId, token);
        if (p.models & MODEL_SUBSCRIPTION == 0) return (0, 0);
        perPeriod = _price(p, token, p.pricePerPeriod, _discountBps(p, payer));
        period = p.period;
    }

    /// @dev The API's pricing, after checking that it accepts `token` (the registry never stores
    ///      a zero payment token). USD-priced APIs accept the tokens the oracle has a feed for:
    ///      the conversion checks that (NoFeed).
    function _pricing(uint256 apiId, address token) private view returns (IApiRegistry.Pricing memory p) {
        p = registry.getPricing(apiId);
        if (p.unit == IApiRegistry.PriceUnit.Token && token != p.paymentToken) {
            revert TokenNotAccepted(apiId, token);
        }
    }

    function _discountBps(IApiRegistry.Pricing memory p, address payer) private view returns (uint16) {
        return p.stakerDiscount ? discounts.discountBpsOf(payer) : 0;
    }

    function _price(
        IApiRegistry.Pricing memory p,
        address token,
        uint256 listed,
        uint16 discountBps
    ) private view returns (uint256 price) {
        price = p.unit == IApiRegistry.PriceUnit.Usd ? oracle.usdToToken(token, listed) : listed;
        if (discountBps != 0) price = Math.mulDiv(price, BPS - discountBps, BPS, Math.Rounding.Ceil);
    }
}
