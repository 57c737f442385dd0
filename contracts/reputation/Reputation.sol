// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EmergencyPausable} from "../governance/EmergencyPausable.sol";
import {IPaymentEscrow} from "../escrow/IPaymentEscrow.sol";
import {INodeStaking} from "../staking/INodeStaking.sol";
import {IUsdPriceOracle} from "../pricing/IUsdPriceOracle.sol";
import {IReputation} from "./IReputation.sol";

/// @title Reputation
/// @notice Scores for nodes and APIs. Validator nodes (staked, type Validator, in a bounded
///         validator set) sign quality-of-service reports for each epoch; consumers rate the
///         node and API of a channel they paid through, weighted by what they paid. After the
///         reporting window anyone finalizes a subject's epoch: the stake-weighted median of
///         each reported metric gives a validator score, blended with the spend-weighted rating
///         into the epoch score and an exponentially smoothed score. A node whose epoch score
///         stays under the Security DAO's threshold for K epochs can be reported for slashing.
/// @dev Epochs are the escrow's (same genesis and length). Timeline of epoch e: reports during
///      e + 1, finalization during e + 2 (NodeRewards commits during e + 3). Only validators that
///      were members when epoch e ended report on it, so a subject gets at most MAX_VALIDATORS
///      reports per epoch and finalization stays bounded.
///      Robustness: each metric is a stake-weighted (lower) median, so a validator holding less
///      than half of the reporting stake cannot move an aggregate outside the range of the
///      other validators' reports; at most to its nearest honest neighbour.
///      Slashing stays a Security DAO vote rather than automatic: a score reflects validators'
///      view of a node, and a validator majority by stake (or a network partition between
///      validators and a node) could otherwise destroy an honest operator's stake irreversibly.
contract Reputation is IReputation, EmergencyPausable, EIP712 {
    using SafeCast for uint256;

    /// @notice Most validators the set holds; bounds every loop over reports.
    uint256 public constant MAX_VALIDATORS = 32;
    uint16 private constant BPS = 10_000;

    bytes32 private constant QOS_TYPE =
        keccak256("Qos(uint32 p50Micros,uint32 p99Micros,uint16 successBps,uint16 availabilityBps)");
    /// @notice EIP-712 type of a node report.
    bytes32 public constant NODE_REPORT_TYPEHASH =
        keccak256(
            "NodeReport(address node,Qos qos)"
            "Qos(uint32 p50Micros,uint32 p99Micros,uint16 successBps,uint16 availabilityBps)"
        );
    /// @notice EIP-712 type of an API report.
    bytes32 public constant API_REPORT_TYPEHASH =
        keccak256(
            "ApiReport(uint256 apiId,Qos qos)"
            "Qos(uint32 p50Micros,uint32 p99Micros,uint16 successBps,uint16 availabilityBps)"
        );
    /// @notice EIP-712 type of an attestation.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256(
            "Attestation(uint32 epoch,NodeReport[] nodes,ApiReport[] apis)"
            "ApiReport(uint256 apiId,Qos qos)"
            "NodeReport(address node,Qos qos)"
            "Qos(uint32 p50Micros,uint32 p99Micros,uint16 successBps,uint16 availabilityBps)"
        );

    /// @dev One validator's report on one subject, with the validator's stake when it reported.
    struct StoredReport {
        uint32 p50Micros;
        uint32 p99Micros;
        uint16 successBps;
        uint16 availabilityBps;
        uint96 weight;
    }

    /// @dev A payer's rating through one channel, and the weight it was counted with.
    struct ChannelRating {
        uint8 nodeStars;
        uint8 apiStars;
        uint128 weight;
    }

    /// @dev Spend-weighted rating sums of a subject.
    struct RatingTotals {
        uint256 weight;
        uint256 weightedBps;
    }

    /// @dev A node's smoothed score as finalized for one epoch (NodeRewards reads it).
    struct EpochScore {
        uint16 smoothed;
        bool finalized;
    }

    /// @notice The escrow: epoch clock and what payers paid.
    IPaymentEscrow public immutable escrow;
    /// @notice Node staking: validator eligibility and report weights.
    INodeStaking public immutable staking;
    /// @notice The escrow's USD oracle: values what raters paid, whatever the token.
    IUsdPriceOracle public immutable oracle;
    uint64 private immutable _epochGenesis;
    uint64 private immutable _epochLength;

    /// @notice Current scoring parameters.
    ScoringParams public scoringParams;
    /// @notice Current slashing-report policy.
    SlashingPolicy public slashingPolicy;

    address[] private _validators;
    mapping(address validator => uint256 slot) private _validatorSlot; // index + 1; 0: not a member
    /// @notice The epoch in which each member (last) joined the set.
    mapping(address validator => uint32 epoch) public joinedEpoch;
    mapping(uint32 epoch => mapping(address validator => bool)) public hasAttested;
    mapping(SubjectKind kind => mapping(uint256 id => mapping(uint32 epoch => StoredReport[]))) private _reports;
    mapping(SubjectKind kind => mapping(uint256 id => Score)) private _scores;
    mapping(address node => mapping(uint32 epoch => EpochScore)) private _nodeHistory;
    mapping(bytes32 channelId => ChannelRating) public channelRatings;
    mapping(SubjectKind kind => mapping(uint256 id => RatingTotals)) private _ratings;

    /// @param authority The AccessManager.
    /// @param escrow_ The PaymentEscrow (epochs, spend).
    /// @param staking_ The NodeStaking contract (validators).
    /// @param scoring Initial scoring parameters.
    /// @param slashing Initial slashing-report policy.
    constructor(
        address authority,
        IPaymentEscrow escrow_,
        INodeStaking staking_,
        ScoringParams memory scoring,
        SlashingPolicy memory slashing
    ) AccessManaged(authority) EIP712("Meshgate Reputation", "1") {
        if (authority == address(0) || address(escrow_) == address(0) || address(staking_) == address(0)) {
            revert ZeroAddress();
        }
        escrow = escrow_;
        staking = staking_;
        oracle = escrow_.oracle();
        _epochGenesis = escrow_.epochGenesis();
        _epochLength = escrow_.epochLength();
        _setScoringParams(scoring);
        _setSlashingPolicy(slashing);
    }

    // ---------------------------------------------------------------- validator set

    /// @notice Adds the caller (an active node of type Validator) to the validator set. When the
    ///         set is full the caller replaces the member with the least stake, if it has more.
    function joinValidators() external whenNotPaused {
        if (!_isEligible(msg.sender)) revert NotValidatorNode(msg.sender);
        if (_validatorSlot[msg.sender] != 0) revert AlreadyValidator(msg.sender);
        uint256 stake = staking.stakeOf(msg.sender);
        if (_validators.length < MAX_VALIDATORS) {
            _validators.push(msg.sender);
            _validatorSlot[msg.sender] = _validators.length;
        } else {
            (uint256 index, uint256 smallest) = _smallestMember();
            if (stake <= smallest) revert ValidatorSetFull(stake, smallest);
            address replaced = _validators[index];
            delete _validatorSlot[replaced];
            _validators[index] = msg.sender;
            _validatorSlot[msg.sender] = index + 1;
            emit ValidatorLeft(replaced, "replaced");
        }
        joinedEpoch[msg.sender] = _currentEpoch();
        emit ValidatorJoined(msg.sender, stake);
    }

    /// @notice Removes the caller from the validator set.
    function leaveValidators() external {
        _removeValidator(msg.sender, "left");
    }

    /// @notice Removes `validator` once it is no longer an active Validator node (anyone may call).
    function removeValidator(address validator) external {
        if (_isEligible(validator)) revert StillEligible(validator);
        _removeValidator(validator, "ineligible");
    }

    /// @notice The validator set (at most MAX_VALIDATORS addresses).
    function validators() external view returns (address[] memory) {
        return _validators;
    }

    /// @notice Whether `account` is in the validator set.
    function isValidator(address account) external view returns (bool) {
        return _validatorSlot[account] != 0;
    }

    // ---------------------------------------------------------------- attestations

    /// @notice Records a validator's signed report for an epoch that has ended. Anyone may
    ///         submit it; the signature names the validator, which must have been in the set
    ///         since the reported epoch or earlier. Accepted only during the epoch after the
    ///         reported one, once per validator and epoch; weighted by the validator's stake.
    function attest(Attestation calldata a, bytes calldata signature) external whenNotPaused {
        uint32 current = _currentEpoch();
        if (a.epoch >= current) revert EpochNotOver(a.epoch, current);
        if (current > a.epoch + 1) revert ReportTooLate(a.epoch, current);
        if (a.nodes.length + a.apis.length == 0) revert EmptyAttestation();

        (address validator, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(_attestationDigest(a), signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
        if (_validatorSlot[validator] == 0) revert NotInValidatorSet(validator);
        if (!_isEligible(validator)) revert NotValidatorNode(validator);
        // Only members that were in the set when the epoch ended: at most MAX_VALIDATORS reports
        // per subject and epoch, however validators rotate through the set during the window.
        uint32 joined = joinedEpoch[validator];
        if (joined > a.epoch) revert JoinedAfterEpoch(validator, joined, a.epoch);
        if (hasAttested[a.epoch][validator]) revert AlreadyAttested(validator, a.epoch);
        hasAttested[a.epoch][validator] = true;

        uint96 weight = staking.stakeOf(validator).toUint96();
        _storeNodeReports(a, validator, weight);
        _storeApiReports(a, weight);
        emit Attested(validator, a.epoch, weight, a.nodes.length, a.apis.length);
    }

    /// @notice The EIP-712 digest a validator signs for `a`.
    function attestationDigest(Attestation calldata a) external view returns (bytes32) {
        return _attestationDigest(a);
    }

    /// @notice Number of reports stored for a subject's epoch.
    function reportCount(SubjectKind kind, uint256 id, uint32 epoch) external view returns (uint256) {
        return _reports[kind][id][epoch].length;
    }

    // ---------------------------------------------------------------- consumer ratings

    /// @notice Rates the node and the API of the caller's channel, 1 to 5 stars each. The rating
    ///         weighs what the caller has paid through the channel: its redeemed total in US
    ///         dollars (18 decimals) at the token's feed price when rating. Only channels in
    ///         tokens with a USD feed can rate, so spend in a token anyone can mint for free
    ///         carries no weight. Rating again replaces the channel's previous rating.
    function rate(address node, uint256 apiId, address token, uint8 nodeStars, uint8 apiStars) external whenNotPaused {
        if (nodeStars == 0 || nodeStars > 5) revert InvalidRating(nodeStars);
        if (apiStars == 0 || apiStars > 5) revert InvalidRating(apiStars);
        if (!oracle.hasFeed(token)) revert TokenNotRated(token);
        bytes32 id = escrow.channelId(msg.sender, node, apiId, token);
        (, uint128 redeemed) = escrow.channels(id);
        uint128 weight = oracle.tokenToUsd(token, redeemed).toUint128();
        if (weight == 0) revert NoSpend(id);

        ChannelRating memory previous = channelRatings[id];
        RatingTotals storage n = _ratings[SubjectKind.Node][uint160(node)];
        RatingTotals storage api = _ratings[SubjectKind.Api][apiId];
        if (previous.weight != 0) {
            n.weight -= previous.weight;
            n.weightedBps -= uint256(previous.weight) * _starsBps(previous.nodeStars);
            api.weight -= previous.weight;
            api.weightedBps -= uint256(previous.weight) * _starsBps(previous.apiStars);
        }
        n.weight += weight;
        n.weightedBps += uint256(weight) * _starsBps(nodeStars);
        api.weight += weight;
        api.weightedBps += uint256(weight) * _starsBps(apiStars);
        channelRatings[id] = ChannelRating(nodeStars, apiStars, weight);
        emit Rated(msg.sender, node, apiId, token, nodeStars, apiStars, weight);
    }

    /// @notice A subject's spend-weighted rating (basis points: 1 star = 0, 5 stars = 10,000)
    ///         and the total spend behind it in US dollars, 18 decimals (0: not rated).
    function ratingOf(SubjectKind kind, uint256 id) public view returns (uint16 ratingBps, uint256 weight) {
        RatingTotals memory t = _ratings[kind][id];
        if (t.weight == 0) return (0, 0);
        return (uint16(t.weightedBps / t.weight), t.weight);
    }

    // ---------------------------------------------------------------- scores

    /// @notice Finalizes a node's score for `epoch` (anyone; during epoch + 2).
    function finalizeNode(address node, uint32 epoch) external {
        _finalize(SubjectKind.Node, uint160(node), epoch);
    }

    /// @notice Finalizes an API's score for `epoch` (anyone; during epoch + 2).
    function finalizeApi(uint256 apiId, uint32 epoch) external {
        _finalize(SubjectKind.Api, apiId, epoch);
    }

    /// @inheritdoc IReputation
    function scoreOf(SubjectKind kind, uint256 id) external view returns (Score memory) {
        return _scores[kind][id];
    }

    /// @inheritdoc IReputation
    function nodeScoreAt(address node, uint32 epoch) external view returns (uint16 smoothed, bool finalized) {
        EpochScore memory s = _nodeHistory[node][epoch];
        return (s.smoothed, s.finalized);
    }

    /// @inheritdoc IReputation
    function wasScorable(address node, uint32 epoch) external view returns (bool) {
        return _reports[SubjectKind.Node][uint160(node)][epoch].length >= scoringParams.minReports;
    }

    /// @notice Reports a node whose epoch score stayed under the threshold for the policy's
    ///         number of consecutive epochs to the Security DAO (an event its members act on).
    ///         Anyone may call; the streak restarts.
    function reportForSlashing(address node) external {
        Score storage s = _scores[SubjectKind.Node][uint160(node)];
        SlashingPolicy memory policy = slashingPolicy;
        if (s.lowStreak < policy.epochs) revert NotReportable(node, s.lowStreak, policy.epochs);
        emit NodeReportedForSlashing(node, s.epoch, s.lowStreak, s.smoothed);
        s.lowStreak = 0;
    }

    /// @notice The current epoch (the escrow's).
    function currentEpoch() external view returns (uint32) {
        return _currentEpoch();
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the scoring parameters (Protocol DAO); applies to later finalizations.
    function setScoringParams(ScoringParams calldata params) external restricted {
        _setScoringParams(params);
    }

    /// @notice Sets when a node may be reported for slashing (Security DAO).
    function setSlashingPolicy(SlashingPolicy calldata policy) external restricted {
        _setSlashingPolicy(policy);
    }

    // ---------------------------------------------------------------- internals

    function _currentEpoch() private view returns (uint32) {
        return uint32((block.timestamp - _epochGenesis) / _epochLength);
    }

    function _isEligible(address account) private view returns (bool) {
        return
            staking.isActive(account) && staking.getNode(account).nodeType == INodeStaking.NodeType.Validator;
    }

    /// @dev The member with the least active stake (an ineligible member counts as 0).
    function _smallestMember() private view returns (uint256 index, uint256 smallest) {
        smallest = type(uint256).max;
        for (uint256 i = 0; i < _validators.length; ++i) {
            address v = _validators[i];
            uint256 stake = _isEligible(v) ? staking.stakeOf(v) : 0;
            if (stake < smallest) (index, smallest) = (i, stake);
        }
    }

    function _removeValidator(address validator, bytes32 reason) private {
        uint256 slot = _validatorSlot[validator];
        if (slot == 0) revert NotInValidatorSet(validator);
        address last = _validators[_validators.length - 1];
        _validators[slot - 1] = last;
        _validatorSlot[last] = slot;
        _validators.pop();
        delete _validatorSlot[validator];
        emit ValidatorLeft(validator, reason);
    }

    function _storeNodeReports(Attestation calldata a, address validator, uint96 weight) private {
        address previous;
        for (uint256 i = 0; i < a.nodes.length; ++i) {
            NodeReport calldata r = a.nodes[i];
            if (r.node <= previous) revert SubjectsNotAscending(i);
            if (r.node == validator) revert SelfReport(validator);
            previous = r.node;
            _store(SubjectKind.Node, uint160(r.node), a.epoch, r.qos, weight, i);
        }
    }

    function _storeApiReports(Attestation calldata a, uint96 weight) private {
        uint256 offset = a.nodes.length;
        for (uint256 i = 0; i < a.apis.length; ++i) {
            ApiReport calldata r = a.apis[i];
            if (i != 0 && r.apiId <= a.apis[i - 1].apiId) revert SubjectsNotAscending(offset + i);
            _store(SubjectKind.Api, r.apiId, a.epoch, r.qos, weight, offset + i);
        }
    }

    function _store(SubjectKind kind, uint256 id, uint32 epoch, Qos calldata q, uint96 weight, uint256 index) private {
        if (q.successBps > BPS || q.availabilityBps > BPS || q.p50Micros > q.p99Micros) revert InvalidQos(index);
        _reports[kind][id][epoch].push(
            StoredReport(q.p50Micros, q.p99Micros, q.successBps, q.availabilityBps, weight)
        );
    }

    function _attestationDigest(Attestation calldata a) private view returns (bytes32) {
        bytes32[] memory nodeHashes = new bytes32[](a.nodes.length);
        for (uint256 i = 0; i < a.nodes.length; ++i) {
            nodeHashes[i] = keccak256(abi.encode(NODE_REPORT_TYPEHASH, a.nodes[i].node, _qosHash(a.nodes[i].qos)));
        }
        bytes32[] memory apiHashes = new bytes32[](a.apis.length);
        for (uint256 i = 0; i < a.apis.length; ++i) {
            apiHashes[i] = keccak256(abi.encode(API_REPORT_TYPEHASH, a.apis[i].apiId, _qosHash(a.apis[i].qos)));
        }
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        ATTESTATION_TYPEHASH,
                        a.epoch,
                        keccak256(abi.encodePacked(nodeHashes)),
                        keccak256(abi.encodePacked(apiHashes))
                    )
                )
            );
    }

    function _qosHash(Qos calldata q) private pure returns (bytes32) {
        return keccak256(abi.encode(QOS_TYPE, q.p50Micros, q.p99Micros, q.successBps, q.availabilityBps));
    }

    function _finalize(SubjectKind kind, uint256 id, uint32 epoch) private {
        uint32 current = _currentEpoch();
        if (current < uint256(epoch) + 2) revert FinalizeWindowNotOpen(epoch, current);
        if (current > uint256(epoch) + 2) revert FinalizeWindowClosed(epoch, current);
        StoredReport[] storage reports = _reports[kind][id][epoch];
        ScoringParams memory p = scoringParams;
        if (reports.length < p.minReports) revert NotEnoughReports(reports.length, p.minReports);
        Score memory s = _scores[kind][id];
        if (s.finalized && s.epoch >= epoch) revert EpochAlreadyFinalized(epoch, s.epoch);

        Qos memory q = _medians(reports);
        (uint16 ratingBps, uint256 ratingWeight) = ratingOf(kind, id);
        uint16 epochScore = _epochScore(q, p, ratingBps, ratingWeight);
        uint16 smoothed = s.finalized
            ? uint16((uint256(epochScore) * p.smoothingBps + uint256(s.smoothed) * (BPS - p.smoothingBps)) / BPS)
            : epochScore;

        uint16 lowStreak = 0;
        if (kind == SubjectKind.Node && epochScore < slashingPolicy.thresholdBps) {
            bool consecutive = s.finalized && s.epoch + 1 == epoch;
            lowStreak = consecutive ? s.lowStreak + 1 : 1;
        }
        _scores[kind][id] = Score(epochScore, smoothed, epoch, lowStreak, true);
        uint16 count = uint16(reports.length);
        if (kind == SubjectKind.Node) {
            address node = address(uint160(id));
            _nodeHistory[node][epoch] = EpochScore(smoothed, true);
            emit NodeScored(node, epoch, q, ratingBps, epochScore, smoothed, lowStreak, count);
        } else {
            emit ApiScored(id, epoch, q, ratingBps, epochScore, smoothed, count);
        }
    }

    /// @dev Validator score (success x availability x latency factor), blended with the rating by a
    ///      share that grows with the spend behind it, up to ratingShareBps at ratingFullSpend.
    function _epochScore(
        Qos memory q,
        ScoringParams memory p,
        uint16 ratingBps,
        uint256 ratingWeight
    ) private pure returns (uint16) {
        uint256 latencyFactor = q.p99Micros <= p.latencyTargetMicros
            ? BPS
            : (uint256(p.latencyTargetMicros) * BPS) / q.p99Micros;
        uint256 validatorScore = (uint256(q.successBps) * q.availabilityBps * latencyFactor) / (uint256(BPS) * BPS);
        if (ratingWeight == 0) return uint16(validatorScore);
        uint256 share = ratingWeight >= p.ratingFullSpend
            ? p.ratingShareBps
            : (uint256(p.ratingShareBps) * ratingWeight) / p.ratingFullSpend;
        return uint16((validatorScore * (BPS - share) + uint256(ratingBps) * share) / BPS);
    }

    /// @dev Stake-weighted lower median of each metric over at most MAX_VALIDATORS reports.
    function _medians(StoredReport[] storage reports) private view returns (Qos memory q) {
        uint256 n = reports.length;
        uint256[] memory p50 = new uint256[](n);
        uint256[] memory p99 = new uint256[](n);
        uint256[] memory success = new uint256[](n);
        uint256[] memory availability = new uint256[](n);
        uint256[] memory weights = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            StoredReport memory r = reports[i];
            (p50[i], p99[i], success[i], availability[i], weights[i]) = (
                r.p50Micros,
                r.p99Micros,
                r.successBps,
                r.availabilityBps,
                r.weight
            );
        }
        q.p50Micros = uint32(_weightedMedian(p50, weights));
        q.p99Micros = uint32(_weightedMedian(p99, weights));
        q.successBps = uint16(_weightedMedian(success, weights));
        q.availabilityBps = uint16(_weightedMedian(availability, weights));
    }

    /// @dev The smallest value whose cumulative weight (values ascending) reaches half the total.
    ///      Weights are active stakes, never 0.
    function _weightedMedian(uint256[] memory values, uint256[] memory weights) private pure returns (uint256) {
        uint256 n = values.length;
        uint256[] memory order = new uint256[](n);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            order[i] = i;
            total += weights[i];
        }
        // Insertion sort of indices by value: n <= MAX_VALIDATORS.
        for (uint256 i = 1; i < n; ++i) {
            uint256 key = order[i];
            uint256 j = i;
            while (j > 0 && values[order[j - 1]] > values[key]) {
                order[j] = order[j - 1];
                --j;
            }
            order[j] = key;
        }
        uint256 cumulative = 0;
        for (uint256 i = 0; i + 1 < n; ++i) {
            cumulative += weights[order[i]];
            if (cumulative * 2 >= total) return values[order[i]];
        }
        return values[order[n - 1]]; // the cumulative weight reaches the total here
    }

    function _starsBps(uint8 stars) private pure returns (uint256) {
        return uint256(stars - 1) * 2_500;
    }

    function _setScoringParams(ScoringParams memory p) private {
        if (
            p.latencyTargetMicros == 0 ||
            p.smoothingBps == 0 ||
            p.smoothingBps > BPS ||
            p.ratingShareBps > BPS / 2 ||
            p.minReports == 0 ||
            p.minReports > MAX_VALIDATORS ||
            p.ratingFullSpend == 0
        ) revert InvalidScoringParams();
        scoringParams = p;
        emit ScoringParamsUpdated(p);
    }

    function _setSlashingPolicy(SlashingPolicy memory policy) private {
        if (policy.thresholdBps > BPS || policy.epochs == 0) revert InvalidSlashingPolicy();
        slashingPolicy = policy;
        emit SlashingPolicyUpdated(policy);
    }
}
