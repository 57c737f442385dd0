// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDeveloperCredential
/// @notice Non-transferable developer credentials: one per account, one vote each in the
///         Developer DAO.
interface IDeveloperCredential {
    event CredentialIssued(address indexed holder, uint256 indexed tokenId, uint256 indexed apiId);
    event CredentialRevoked(address indexed holder, uint256 indexed tokenId);
    event MinApiAgeUpdated(uint64 minApiAge);

    error CredentialNotTransferable();
    error AlreadyHoldsCredential(address holder);
    error NotEligible(uint256 apiId, address caller);
    error ApiAlreadyCredited(uint256 apiId);
    error MinApiAgeOutOfRange(uint64 minApiAge, uint64 maxApiAge);
    error ZeroAddress();

    /// @notice Whether `account` holds a credential.
    function hasCredential(address account) external view returns (bool);
}
