// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IApiRegistry
/// @notice Types, events and errors of Meshgate's on-chain API catalogue.
interface IApiRegistry {
    /// @notice Lifecycle of a listed API. `None` means the id was never registered; `Retired`
    ///         (by its provider) and `Delisted` (by the Security DAO) are final.
    enum ApiStatus {
        None,
        Active,
        Paused,
        Retired,
        Delisted
    }

    /// @notice What a price is denominated in.
    /// @dev `Token`: base units of `Pricing.paymentToken` (an ERC-20 with 6 or 18 decimals).
    ///      `Usd`: US dollars with 18 decimals (1e18 = $1), converted by the escrow at call time.
    enum PriceUnit {
        Token,
        Usd
    }

    /// @notice The price list of an API. `models` is a bitmask of the offered payment models.
    struct Pricing {
        PriceUnit unit;
        address paymentToken;
        uint8 models;
        bool stakerDiscount;
        uint32 period;
        uint96 pricePerCall;
        uint96 pricePerPeriod;
    }

    /// @notice Everything a provider supplies to list an API.
    struct ApiInput {
        string metadataUri;
        bytes32 metadataHash;
        /// @dev One or more http(s) base URLs separated by spaces (replicas; relayers pick one per call).
        string upstreamUrl;
        bytes32 category;
        bytes32[] tags;
        Pricing pricing;
    }

    /// @notice A listed API as stored on-chain.
    struct Api {
        address provider;
        ApiStatus status;
        uint40 createdAt;
        uint40 updatedAt;
        bytes32 metadataHash;
        bytes32 category;
        Pricing pricing;
        string metadataUri;
        string upstreamUrl;
        bytes32[] tags;
    }

    /// @notice Governance-set limits on listings.
    /// @dev Price caps are compared after scaling the price to 18 decimals, so one cap
    ///      serves 6- and 18-decimal stablecoins and USD prices alike.
    struct ListingBounds {
        uint96 maxPricePerCall;
        uint96 maxPricePerPeriod;
        uint32 minPeriod;
        uint32 maxPeriod;
        uint16 maxMetadataLength;
        uint96 listingFee;
    }

    event ApiRegistered(
        uint256 indexed apiId,
        address indexed provider,
        string metadataUri,
        bytes32 metadataHash,
        string upstreamUrl,
        bytes32 indexed category,
        bytes32[] tags
    );
    event ApiPricingUpdated(
        uint256 indexed apiId,
        PriceUnit unit,
        address paymentToken,
        uint8 models,
        bool stakerDiscount,
        uint32 period,
        uint96 pricePerCall,
        uint96 pricePerPeriod
    );
    event ApiMetadataUpdated(uint256 indexed apiId, string metadataUri, bytes32 metadataHash);
    event ApiUpstreamUpdated(uint256 indexed apiId, string upstreamUrl);
    event ApiCategoryUpdated(uint256 indexed apiId, bytes32 indexed category, bytes32[] tags);
    event ApiStatusChanged(uint256 indexed apiId, ApiStatus previous, ApiStatus current);
    event ApiTransferStarted(uint256 indexed apiId, address indexed provider, address indexed pendingProvider);
    event ApiTransferred(uint256 indexed apiId, address indexed previousProvider, address indexed newProvider);
    event ApiDelisted(uint256 indexed apiId, bytes32 reason);
    event ListingFeePaid(uint256 indexed apiId, address indexed provider, address indexed treasury, uint256 amount);
    event ListingBoundsUpdated(
        uint96 maxPricePerCall,
        uint96 maxPricePerPeriod,
        uint32 minPeriod,
        uint32 maxPeriod,
        uint16 maxMetadataLength,
        uint96 listingFee
    );
    event TreasuryUpdated(address indexed treasury);

    error ApiNotFound(uint256 apiId);
    error NotApiProvider(uint256 apiId, address caller);
    error NotPendingProvider(uint256 apiId, address caller);
    error ApiIsRetired(uint256 apiId);
    error ApiIsDelisted(uint256 apiId);
    error InvalidStatusTransition(uint256 apiId, ApiStatus current, ApiStatus requested);
    error EmptyMetadataUri();
    error ZeroMetadataHash();
    error EmptyUpstreamUrl();
    error ZeroCategory();
    error FieldTooLong(uint256 length, uint256 maxLength);
    error TooManyTags(uint256 count, uint256 maxCount);
    error NoPricingModel();
    error UnknownPricingModel(uint8 models);
    error InvalidPaymentToken(address token);
    error UnsupportedTokenDecimals(address token, uint8 decimals);
    error ZeroPrice();
    error PriceForUnofferedModel(uint8 model);
    error PriceAboveMax(uint256 normalizedPrice, uint256 maxPrice);
    error InvalidPeriod(uint32 period, uint32 minPeriod, uint32 maxPeriod);
    error InvalidListingBounds();
    error ZeroAddress();
    error InvalidTreasury(address treasury);

    /// @notice Lists a new API owned by the caller; returns its id (ids start at 1).
    function register(ApiInput calldata input) external returns (uint256 apiId);

    /// @notice The full record of an API.
    function getApi(uint256 apiId) external view returns (Api memory);

    /// @notice The pricing of an API (cheaper than `getApi` for the hot path).
    function getPricing(uint256 apiId) external view returns (Pricing memory);

    /// @notice The provider (payee) of an API.
    function providerOf(uint256 apiId) external view returns (address);

    /// @notice Whether an API accepts calls now.
    function isActive(uint256 apiId) external view returns (bool);
}
