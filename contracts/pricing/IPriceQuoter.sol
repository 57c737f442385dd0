// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPriceQuoter
/// @notice What an API costs a given payer in a given token right now, per payment model.
interface IPriceQuoter {
    error TokenNotAccepted(uint256 apiId, address token);
    error ZeroAddress();

    /// @notice Prices of `apiId` for `payer` in `token` base units: per call, per subscription
    ///         period, and the period length (seconds). A model the API does not offer quotes 0
    ///         (and period 0). Token-priced APIs accept only their payment token
    ///         (TokenNotAccepted otherwise); USD-priced ones convert at the oracle's latest
    ///         checked price and fail closed with the oracle's errors. If the API opted in to
    ///         staker discounts, the payer's discount is applied, rounded up.
    function quote(
        uint256 apiId,
        address token,
        address payer
    ) external view returns (uint256 perCall, uint256 perPeriod, uint32 period);

    /// @notice The per-call price of `quote` (0 if pay-per-call is not offered).
    function quoteCall(uint256 apiId, address token, address payer) external view returns (uint256 perCall);

    /// @notice The per-period price and period of `quote` (both 0 if subscriptions are not offered).
    function quotePeriod(
        uint256 apiId,
        address token,
        address payer
    ) external view returns (uint256 perPeriod, uint32 period);
}
