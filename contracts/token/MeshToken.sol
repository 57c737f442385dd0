// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title MeshToken (MESH)
/// @notice Meshgate's governance and staking token: ERC-20 with EIP-2612 permit and
///         checkpointed, delegable votes (ERC-5805) on a timestamp clock (ERC-6372).
/// @dev Fixed supply: the whole supply is minted once, at deployment, to `initialHolder`
///      (the protocol treasury). There is no mint function and no minter role, so no key or
///      vote can inflate the supply; node rewards are paid from the treasury.
contract MeshToken is ERC20, ERC20Permit, ERC20Votes {
    /// @notice The total supply, minted once at deployment: one billion MESH.
    uint256 public constant TOTAL_SUPPLY = 1_000_000_000 ether;

    /// @param initialHolder Receives the whole fixed supply (the treasury).
    constructor(address initialHolder) ERC20("Meshgate", "MESH") ERC20Permit("Meshgate") {
        _mint(initialHolder, TOTAL_SUPPLY);
    }

    /// @notice The vote-checkpoint clock: the block timestamp (ERC-6372).
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice Describes the clock: timestamps (ERC-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
