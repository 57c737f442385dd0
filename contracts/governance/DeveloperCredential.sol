// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IApiRegistry} from "../registry/IApiRegistry.sol";
import {IDeveloperCredential} from "./IDeveloperCredential.sol";

/// @title DeveloperCredential
/// @notice The Developer DAO's voting credential: an ERC-721 with checkpointed votes that can
///         be minted and burned but never transferred, at most one per account. The Protocol DAO
///         issues and revokes credentials; a provider earns one by keeping an API active for
///         `minApiAge` (one credential per API, so moving APIs between accounts earns nothing).
///         Holders' votes are self-delegated at issue. Timestamp clock, like the other DAOs.
contract DeveloperCredential is IDeveloperCredential, ERC721Votes, AccessManaged {
    /// @notice Longest API age governance may require.
    uint64 public constant MAX_MIN_API_AGE = 365 days;

    /// @notice The API catalogue (for the providers' earning rule).
    IApiRegistry public immutable registry;
    /// @notice How long an API must have been listed for its provider to earn a credential.
    uint64 public minApiAge;
    /// @notice Number of credentials ever issued; also the newest token id.
    uint256 public issued;
    /// @notice Whether an API already earned a credential.
    mapping(uint256 apiId => bool) public apiCredited;

    /// @param authority The AccessManager.
    /// @param registry_ The ApiRegistry.
    /// @param minApiAge_ Initial API age for the earning rule.
    constructor(
        address authority,
        IApiRegistry registry_,
        uint64 minApiAge_
    )
        ERC721("Meshgate Developer Credential", "MGDEV")
        EIP712("Meshgate Developer Credential", "1")
        AccessManaged(authority)
    {
        if (authority == address(0) || address(registry_) == address(0)) revert ZeroAddress();
        registry = registry_;
        _setMinApiAge(minApiAge_);
    }

    /// @notice Issues a credential to `to` (Protocol DAO).
    function issue(address to) external restricted returns (uint256 tokenId) {
        return _issue(to, 0);
    }

    /// @notice Burns `tokenId` (Protocol DAO): its holder loses the vote from now on.
    function revoke(uint256 tokenId) external restricted {
        address holder = _requireOwned(tokenId);
        _burn(tokenId);
        emit CredentialRevoked(holder, tokenId);
    }

    /// @notice Earns the caller a credential for `apiId`: the caller is its provider, the API is
    ///         active and was listed at least `minApiAge` ago, and it has not earned one before.
    function claim(uint256 apiId) external returns (uint256 tokenId) {
        if (apiCredited[apiId]) revert ApiAlreadyCredited(apiId);
        IApiRegistry.Api memory api = registry.getApi(apiId);
        if (
            api.provider != msg.sender ||
            api.status != IApiRegistry.ApiStatus.Active ||
            block.timestamp < uint256(api.createdAt) + minApiAge
        ) revert NotEligible(apiId, msg.sender);
        apiCredited[apiId] = true;
        return _issue(msg.sender, apiId);
    }

    /// @notice Sets the API age of the earning rule (Protocol DAO).
    function setMinApiAge(uint64 minApiAge_) external restricted {
        _setMinApiAge(minApiAge_);
    }

    /// @inheritdoc IDeveloperCredential
    function hasCredential(address account) external view returns (bool) {
        return balanceOf(account) != 0;
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

    function _issue(address to, uint256 apiId) private returns (uint256 tokenId) {
        if (to == address(0)) revert ZeroAddress();
        if (balanceOf(to) != 0) revert AlreadyHoldsCredential(to);
        // Delegate first: minting then moves the new vote to the holder's delegate (itself).
        if (delegates(to) == address(0)) _delegate(to, to);
        tokenId = ++issued;
        _mint(to, tokenId);
        emit CredentialIssued(to, tokenId, apiId);
    }

    /// @dev Mints and burns only: a credential never moves, so it cannot vote twice.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert CredentialNotTransferable();
        return super._update(to, tokenId, auth);
    }

    function _setMinApiAge(uint64 minApiAge_) private {
        if (minApiAge_ > MAX_MIN_API_AGE) revert MinApiAgeOutOfRange(minApiAge_, MAX_MIN_API_AGE);
        minApiAge = minApiAge_;
        emit MinApiAgeUpdated(minApiAge_);
    }
}
