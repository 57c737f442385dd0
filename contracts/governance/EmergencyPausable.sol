// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title EmergencyPausable
/// @notice The Security DAO's emergency brake, shared by the contracts that take money in.
///         `emergencyPause` is restricted to the GUARDIAN role (an emergency guardian and the Security
///         DAO timelock: immediate), `emergencyUnpause` to the SECURITY role (only by a Security DAO vote
///         through its timelock). Pausing stops money and listings coming in; withdrawals,
///         claims and voucher redemptions stay open so users can always leave and nodes are
///         always paid for calls they served.
abstract contract EmergencyPausable is Pausable, AccessManaged {
    /// @notice Pauses the contract's inflows (guardian or Security DAO).
    function emergencyPause() external restricted {
        _pause();
    }

    /// @notice Lifts the pause (Security DAO vote only).
    function emergencyUnpause() external restricted {
        _unpause();
    }
}
