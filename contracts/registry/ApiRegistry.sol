// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {IApiRegistry} from "./IApiRegistry.sol";

/// @title ApiRegistry
/// @notice The on-chain catalogue of APIs: providers list an API (OpenAPI metadata URI plus
///         its content hash, upstream URL, category and tags, prices per payment model) and
///         manage it; governance sets listing bounds. Every change emits an event.
/// @dev Privileged functions are `restricted`: the AccessManager decides who may call them
///      (see docs/roles.md). Providers' own functions check `msg.sender` against the record.
contract ApiRegistry is IApiRegistry, EmergencyPausable {
    using SafeERC20 for IERC20;

    /// @notice Pay-per-call model bit of `Pricing.models`.
    uint8 public constant MODEL_PAY_PER_CALL = 1;
    /// @notice Subscription model bit of `Pricing.models`.
    uint8 public constant MODEL_SUBSCRIPTION = 2;
    /// @notice Most tags an API may carry (keeps storage and events bounded).
    uint256 public constant MAX_TAGS = 8;

    /// @notice Token the listing fee is paid in (MESH).
    IERC20 public immutable feeToken;

    /// @notice Receives listing fees.
    address public treasury;
    /// @notice Number of APIs ever registered; also the id of the newest one.
    uint256 public apiCount;

    ListingBounds private _bounds;
    mapping(uint256 apiId => Api) private _apis;
    mapping(uint256 apiId => address) public pendingProviderOf;

    modifier onlyProvider(uint256 apiId) {
        Api storage api = _apis[apiId];
        if (api.status == ApiStatus.None) revert ApiNotFound(apiId);
        if (api.provider != msg.sender) revert NotApiProvider(apiId, msg.sender);
        _;
    }

    modifier notRetired(uint256 apiId) {
        ApiStatus status = _apis[apiId].status;
        if (status == ApiStatus.Retired) revert ApiIsRetired(apiId);
        if (status == ApiStatus.Delisted) revert ApiIsDelisted(apiId);
        _;
    }

    /// @param authority The AccessManager governing restricted functions.
    /// @param feeToken_ Token for listing fees.
    /// @param treasury_ Receiver of listing fees.
    /// @param bounds Initial listing bounds.
    constructor(
        address authority,
        IERC20 feeToken_,
        address treasury_,
        ListingBounds memory bounds
    ) AccessManaged(authority) {
        if (authority == address(0) || address(feeToken_) == address(0) || treasury_ == address(0)) {
            revert ZeroAddress();
        }
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        feeToken = feeToken_;
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
        _setListingBounds(bounds);
    }

    // ---------------------------------------------------------------- provider actions

    /// @inheritdoc IApiRegistry
    function register(ApiInput calldata input) external whenNotPaused returns (uint256 apiId) {
        _checkMetadata(input.metadataUri, input.metadataHash);
        _checkUpstream(input.upstreamUrl);
        _checkCategory(input.category, input.tags);
        _checkPricing(input.pricing);

        apiId = ++apiCount;
        Api storage api = _apis[apiId];
        api.provider = msg.sender;
        api.status = ApiStatus.Active;
        api.createdAt = uint40(block.timestamp);
        api.updatedAt = uint40(block.timestamp);
        api.metadataHash = input.metadataHash;
        api.category = input.category;
        api.pricing = input.pricing;
        api.metadataUri = input.metadataUri;
        api.upstreamUrl = input.upstreamUrl;
        api.tags = input.tags;

        emit ApiRegistered(
            apiId,
            msg.sender,
            input.metadataUri,
            input.metadataHash,
            input.upstreamUrl,
            input.category,
            input.tags
        );
        _emitPricing(apiId, input.pricing);

        uint256 fee = _bounds.listingFee;
        if (fee != 0) {
            address to = treasury;
            emit ListingFeePaid(apiId, msg.sender, to, fee);
            feeToken.safeTransferFrom(msg.sender, to, fee);
        }
    }

    /// @notice Replaces the API's OpenAPI document pointer and its content hash.
    function updateMetadata(
        uint256 apiId,
        string calldata metadataUri,
        bytes32 metadataHash
    ) external onlyProvider(apiId) notRetired(apiId) {
        _checkMetadata(metadataUri, metadataHash);
        Api storage api = _apis[apiId];
        api.metadataUri = metadataUri;
        api.metadataHash = metadataHash;
        _touch(api);
        emit ApiMetadataUpdated(apiId, metadataUri, metadataHash);
    }

    /// @notice Points the API at a new upstream base URL (relayers follow this event).
    function updateUpstream(uint256 apiId, string calldata upstreamUrl) external onlyProvider(apiId) notRetired(apiId) {
        _checkUpstream(upstreamUrl);
        Api storage api = _apis[apiId];
        api.upstreamUrl = upstreamUrl;
        _touch(api);
        emit ApiUpstreamUpdated(apiId, upstreamUrl);
    }

    /// @notice Replaces the API's category and tags.
    function updateCategory(
        uint256 apiId,
        bytes32 category,
        bytes32[] calldata tags
    ) external onlyProvider(apiId) notRetired(apiId) {
        _checkCategory(category, tags);
        Api storage api = _apis[apiId];
        api.category = category;
        api.tags = tags;
        _touch(api);
        emit ApiCategoryUpdated(apiId, category, tags);
    }

    /// @notice Replaces the API's price list.
    function setPricing(uint256 apiId, Pricing calldata pricing) external onlyProvider(apiId) notRetired(apiId) {
        _checkPricing(pricing);
        Api storage api = _apis[apiId];
        api.pricing = pricing;
        _touch(api);
        _emitPricing(apiId, pricing);
    }

    /// @notice Stops the API from accepting calls until resumed.
    function pause(uint256 apiId) external onlyProvider(apiId) {
        _changeStatus(apiId, ApiStatus.Active, ApiStatus.Paused);
    }

    /// @notice Lets a paused API accept calls again.
    function resume(uint256 apiId) external onlyProvider(apiId) {
        _changeStatus(apiId, ApiStatus.Paused, ApiStatus.Active);
    }

    /// @notice Retires the API for good: it can no longer be changed, resumed or transferred.
    function retire(uint256 apiId) external onlyProvider(apiId) notRetired(apiId) {
        Api storage api = _apis[apiId];
        ApiStatus previous = api.status;
        api.status = ApiStatus.Retired;
        _touch(api);
        emit ApiStatusChanged(apiId, previous, ApiStatus.Retired);
        if (pendingProviderOf[apiId] != address(0)) {
            delete pendingProviderOf[apiId];
            emit ApiTransferStarted(apiId, msg.sender, address(0));
        }
    }

    /// @notice Starts handing the API to `newProvider`, who must accept; address(0) cancels.
    function transferApi(uint256 apiId, address newProvider) external onlyProvider(apiId) notRetired(apiId) {
        pendingProviderOf[apiId] = newProvider;
        emit ApiTransferStarted(apiId, msg.sender, newProvider);
    }

    /// @notice Completes a transfer started by the current provider.
    function acceptApi(uint256 apiId) external notRetired(apiId) {
        if (_apis[apiId].status == ApiStatus.None) revert ApiNotFound(apiId);
        if (pendingProviderOf[apiId] != msg.sender) revert NotPendingProvider(apiId, msg.sender);
        Api storage api = _apis[apiId];
        address previous = api.provider;
        api.provider = msg.sender;
        _touch(api);
        delete pendingProviderOf[apiId];
        emit ApiTransferred(apiId, previous, msg.sender);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Delists an API for good (Security DAO): it takes no new calls, deposits or
    ///         subscriptions (vouchers for calls already served still redeem), and its provider
    ///         can no longer change, resume or transfer it.
    function delist(uint256 apiId, bytes32 reason) external restricted notRetired(apiId) {
        Api storage api = _apis[apiId];
        ApiStatus previous = api.status;
        if (previous == ApiStatus.None) revert ApiNotFound(apiId);
        api.status = ApiStatus.Delisted;
        _touch(api);
        emit ApiStatusChanged(apiId, previous, ApiStatus.Delisted);
        if (pendingProviderOf[apiId] != address(0)) {
            delete pendingProviderOf[apiId];
            emit ApiTransferStarted(apiId, api.provider, address(0));
        }
        emit ApiDelisted(apiId, reason);
    }

    /// @notice Sets the listing bounds (Protocol DAO).
    function setListingBounds(ListingBounds calldata bounds) external restricted {
        _setListingBounds(bounds);
    }

    /// @notice Sets the receiver of listing fees (Protocol DAO).
    function setTreasury(address treasury_) external restricted {
        if (treasury_ == address(0)) revert ZeroAddress();
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IApiRegistry
    function getApi(uint256 apiId) external view returns (Api memory) {
        Api storage api = _apis[apiId];
        if (api.status == ApiStatus.None) revert ApiNotFound(apiId);
        return api;
    }

    /// @inheritdoc IApiRegistry
    function getPricing(uint256 apiId) external view returns (Pricing memory) {
        Api storage api = _apis[apiId];
        if (api.status == ApiStatus.None) revert ApiNotFound(apiId);
        return api.pricing;
    }

    /// @inheritdoc IApiRegistry
    function providerOf(uint256 apiId) external view returns (address) {
        Api storage api = _apis[apiId];
        if (api.status == ApiStatus.None) revert ApiNotFound(apiId);
        return api.provider;
    }

    /// @inheritdoc IApiRegistry
    function isActive(uint256 apiId) external view returns (bool) {
        return _apis[apiId].status == ApiStatus.Active;
    }

    /// @notice The current listing bounds.
    function listingBounds() external view returns (ListingBounds memory) {
        return _bounds;
    }

    // ---------------------------------------------------------------- internals

    function _changeStatus(uint256 apiId, ApiStatus from, ApiStatus to) private {
        Api storage api = _apis[apiId];
        if (api.status != from) revert InvalidStatusTransition(apiId, api.status, to);
        api.status = to;
        _touch(api);
        emit ApiStatusChanged(apiId, from, to);
    }

    function _touch(Api storage api) private {
        api.updatedAt = uint40(block.timestamp);
    }

    function _emitPricing(uint256 apiId, Pricing calldata p) private {
        emit ApiPricingUpdated(
            apiId,
            p.unit,
            p.paymentToken,
            p.models,
            p.stakerDiscount,
            p.period,
            p.pricePerCall,
            p.pricePerPeriod
        );
    }

    function _setListingBounds(ListingBounds memory b) private {
        if (
            b.maxPricePerCall == 0 ||
            b.maxPricePerPeriod == 0 ||
            b.minPeriod == 0 ||
            b.minPeriod > b.maxPeriod ||
            b.maxMetadataLength == 0
        ) revert InvalidListingBounds();
        _bounds = b;
        emit ListingBoundsUpdated(
            b.maxPricePerCall,
            b.maxPricePerPeriod,
            b.minPeriod,
            b.maxPeriod,
            b.maxMetadataLength,
            b.listingFee
        );
    }

    function _checkMetadata(string calldata uri, bytes32 hash) private view {
        if (bytes(uri).length == 0) revert EmptyMetadataUri();
        if (hash == bytes32(0)) revert ZeroMetadataHash();
        _checkLength(bytes(uri).length);
    }

    function _checkUpstream(string calldata url) private view {
        if (bytes(url).length == 0) revert EmptyUpstreamUrl();
        _checkLength(bytes(url).length);
    }

    function _checkLength(uint256 length) private view {
        uint256 max = _bounds.maxMetadataLength;
        if (length > max) revert FieldTooLong(length, max);
    }

    function _checkCategory(bytes32 category, bytes32[] calldata tags) private pure {
        if (category == bytes32(0)) revert ZeroCategory();
        if (tags.length > MAX_TAGS) revert TooManyTags(tags.length, MAX_TAGS);
    }

    function _checkPricing(Pricing calldata p) private view {
        if (p.models == 0) revert NoPricingModel();
        if (p.models & ~(MODEL_PAY_PER_CALL | MODEL_SUBSCRIPTION) != 0) revert UnknownPricingModel(p.models);

        // Scale to 18 decimals so one governed cap covers every supported unit.
        uint256 scale;
        if (p.unit == PriceUnit.Usd) {
            if (p.paymentToken != address(0)) revert InvalidPaymentToken(p.paymentToken);
            scale = 1;
        } else {
            scale = _tokenScale(p.paymentToken);
        }

        ListingBounds memory b = _bounds;
        if (p.models & MODEL_PAY_PER_CALL != 0) {
            _checkPrice(p.pricePerCall, scale, b.maxPricePerCall);
        } else if (p.pricePerCall != 0) {
            revert PriceForUnofferedModel(MODEL_PAY_PER_CALL);
        }
        if (p.models & MODEL_SUBSCRIPTION != 0) {
            _checkPrice(p.pricePerPeriod, scale, b.maxPricePerPeriod);
            if (p.period < b.minPeriod || p.period > b.maxPeriod) {
                revert InvalidPeriod(p.period, b.minPeriod, b.maxPeriod);
            }
        } else if (p.pricePerPeriod != 0 || p.period != 0) {
            // Readers (escrow, relayers) then never see a stale price for a model not on offer.
            revert PriceForUnofferedModel(MODEL_SUBSCRIPTION);
        }
    }

    function _checkPrice(uint96 price, uint256 scale, uint96 max) private pure {
        if (price == 0) revert ZeroPrice();
        uint256 normalized = uint256(price) * scale;
        if (normalized > max) revert PriceAboveMax(normalized, max);
    }

    /// @dev 10^(18 - decimals) for supported tokens; reverts for anything else. A low-level
    ///      call, so tokens answering with no data or a non-uint8 also get InvalidPaymentToken.
    function _tokenScale(address token) private view returns (uint256) {
        if (token.code.length == 0) revert InvalidPaymentToken(token);
        (bool ok, bytes memory data) = token.staticcall(abi.encodeCall(IERC20Metadata.decimals, ()));
        if (!ok || data.length != 32) revert InvalidPaymentToken(token);
        uint256 d = abi.decode(data, (uint256));
        if (d > type(uint8).max) revert InvalidPaymentToken(token);
        if (d == 18) return 1;
        if (d == 6) return 1e12;
        revert UnsupportedTokenDecimals(token, uint8(d));
    }
}
