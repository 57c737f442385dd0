// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IUsdPriceOracle} from "../pricing/IUsdPriceOracle.sol";
import {IEarningsLedger} from "./IEarningsLedger.sol";

/// @title IPaymentEscrow
/// @notice Types, events and errors of Meshgate's pay-per-call escrow.
interface IPaymentEscrow is IEarningsLedger {
    /// @notice Funds a payer locked for one node serving one API, in one token. The hot path
    ///         reads and writes only this one slot.
    struct Channel {
        uint128 balance;
        uint128 redeemed;
    }

    /// @notice A payer's pending withdrawal from a channel.
    struct Withdrawal {
        uint128 amount;
        uint64 thawEndsAt;
    }

    /// @notice Who a signer key signs for, and when its revocation takes effect (0: never).
    struct SignerInfo {
        address payer;
        uint64 revokedAt;
    }

    /// @notice A usage receipt: the payer owes the node `cumulativeAmount` in total for `apiId`.
    struct Voucher {
        address payer;
        address node;
        uint256 apiId;
        address token;
        uint128 cumulativeAmount;
    }

    /// @notice One voucher of a batch; node and token are the batch's.
    struct BatchVoucher {
        address payer;
        uint256 apiId;
        uint128 cumulativeAmount;
        bytes signature;
    }

    /// @notice Shares of every redemption, in basis points summing to 10,000.
    struct RevenueSplit {
        uint16 providerBps;
        uint16 nodeBps;
        uint16 protocolBps;
    }

    event Deposited(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed node,
        uint256 apiId,
        address token,
        uint256 amount,
        uint256 balance
    );
    event WithdrawalStarted(bytes32 indexed channelId, uint256 amount, uint64 thawEndsAt);
    event WithdrawalCancelled(bytes32 indexed channelId);
    event Withdrawn(bytes32 indexed channelId, address indexed payer, uint256 amount, uint256 balance);
    event SignerAuthorized(address indexed payer, address indexed signer);
    event SignerRevocationStarted(address indexed payer, address indexed signer, uint64 revokedAt);
    event Redeemed(bytes32 indexed channelId, uint256 cumulativeAmount, uint256 paid);
    event NodeEarningsClaimed(address indexed node, address indexed token, uint256 amount);
    event RevenueSplitUpdated(uint16 providerBps, uint16 nodeBps, uint16 protocolBps);
    event ThawPeriodUpdated(uint64 thawPeriod);

    error ZeroAmount();
    error NodeNotActive(address node);
    error TokenNotAccepted(uint256 apiId, address token);
    error ApiNotActive(uint256 apiId);
    error PayPerCallNotOffered(uint256 apiId);
    error InsufficientBalance(uint256 requested, uint256 available);
    error NoWithdrawal(bytes32 channelId);
    error StillThawing(uint64 thawEndsAt);
    error SignerAlreadyAuthorized(address signer, address payer);
    error SignerNotAuthorized(address signer, address payer);
    error SignerRevocationPending(address signer, uint64 revokedAt);
    error InvalidSignerProof(address signer);
    error ProofExpired(uint256 deadline);
    error InvalidSignature();
    error NothingToRedeem(bytes32 channelId, uint256 cumulativeAmount, uint256 redeemed);
    error EmptyBatch();
    error InvalidRevenueSplit(uint16 providerBps, uint16 nodeBps, uint16 protocolBps);
    error ThawPeriodOutOfRange(uint64 period, uint64 minPeriod, uint64 maxPeriod);
    error EpochLengthOutOfRange(uint64 length, uint64 minLength, uint64 maxLength);

    /// @notice The id of the channel (payer -> node) for `apiId`, funded in `token`.
    function channelId(address payer, address node, uint256 apiId, address token) external pure returns (bytes32);

    /// @notice The EIP-712 digest a signer signs for `voucher`.
    function voucherDigest(Voucher calldata voucher) external view returns (bytes32);

    /// @notice The USD price oracle the escrow accepts USD-priced payments with.
    function oracle() external view returns (IUsdPriceOracle);

    /// @notice A channel's balance and the cumulative amount redeemed from it.
    function channels(bytes32 channelId) external view returns (uint128 balance, uint128 redeemed);

    /// @notice Start of epoch 0 (the deployment's timestamp); epoch n starts at
    ///         epochGenesis + n * epochLength. Reputation and NodeRewards use the same epochs.
    function epochGenesis() external view returns (uint64);

    /// @notice Length of an epoch, seconds.
    function epochLength() external view returns (uint64);

    /// @notice The epoch of the current block.
    function currentEpoch() external view returns (uint32);

    /// @notice Value (in `token` base units) redeemed for calls `node` served, in redemptions
    ///         made during `epoch`.
    function servedValue(address token, address node, uint32 epoch) external view returns (uint256);
}
