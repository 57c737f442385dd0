// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title DevStablecoin
/// @notice Local-network stand-in for USDC (6 decimals, EIP-2612 permit). `npm start` deploys it
///         and mints it to the dev accounts; real deployments use a real stablecoin instead.
contract DevStablecoin is ERC20, ERC20Permit {
    /// @param holders Accounts that receive `amountEach`.
    /// @param amountEach Base units minted to each holder.
    constructor(
        address[] memory holders,
        uint256 amountEach
    ) ERC20("Dev USD Coin", "dUSDC") ERC20Permit("Dev USD Coin") {
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], amountEach);
        }
    }

    /// @notice Six decimals, like USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
