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

    /// @dev A stored report is 128 bits: this presence bit | p50 (32) | p99 (32) | success (16) |
    ///      availability (16). The reports of attesters 2k and 2k + 1 on a subject share one slot,
    ///      so every other report updates a slot instead of creating one.
    uint256 private constant PRESENT = 1 << 96;

    /// @dev The reports of one subject and epoch, unpacked for aggregation.
    struct Reports {
        uint256 count;
        uint256[] p50;
        uint256[] p99;
        uint256[] success;
        uint256[] availability;
        uint256[] weights;
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
    /// @dev Stake of each validator that attested an epoch, by attestation order (the attester
    ///      index); at most MAX_VALIDATORS, since only members at the epoch's end attest.
    mapping(uint32 epoch => uint96[]) private _attesterWeights;
    mapping(SubjectKind kind => mapping(uint256 id => mapping(uint32 epoch => mapping(uint256 pair => uint256))))
        private _reportPairs;
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
        uint256 attester = _attesterWeights[a.epoch].length;
        _attesterWeights[a.epoch].push(weight);
        _storeNodeReports(a, validator, attester);
        _storeApiReports(a, attester);
        emit Attested(validator, a.epoch, weight, a.nodes.length, a.apis.length);
    }

    /// @notice The EIP-712 digest a validator signs for `a`.
    function attestationDigest(Attestation calldata a) external view returns (bytes32) {
        return _attestationDigest(a);
    }

    /// @notice Number of reports stored for a subject's epoch.
    function reportCount(SubjectKind kind, uint256 id, uint32 epoch) external view returns (uint256) {
        return _loadReports(kind, id, epoch).count;
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
        return _loadReports(SubjectKind.Node, uint160(node), epoch).count >= scoringParams.minReports;
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

    function _storeNodeReports(Attestation calldata a, address validator, uint256 attester) private {
        address previous;
        for (uint256 i = 0; i < a.nodes.length; ++i) {
            NodeReport calldata r = a.nodes[i];
            if (r.node <= previous) revert SubjectsNotAscending(i);
            if (r.node == validator) revert SelfReport(validator);
            previous = r.node;
            _store(SubjectKind.Node, uint160(r.node), a.epoch, r.qos, attester, i);
        }
    }

    function _storeApiReports(Attestation calldata a, uint256 attester) private {
        uint256 offset = a.nodes.length;
        for (uint256 i = 0; i < a.apis.length; ++i) {
            ApiReport calldata r = a.apis[i];
            if (i != 0 && r.apiId <= a.apis[i - 1].apiId) revert SubjectsNotAscending(offset + i);
            _store(SubjectKind.Api, r.apiId, a.epoch, r.qos, attester, offset + i);
        }
    }

    function _store(
        SubjectKind kind,
        uint256 id,
        uint32 epoch,
        Qos calldata q,
        uint256 attester,
        uint256 index
    ) private {
        if (q.successBps > BPS || q.availabilityBps > BPS || q.p50Micros > q.p99Micros) revert InvalidQos(index);
        uint256 packed = PRESENT |
            (uint256(q.p50Micros) << 64) |
            (uint256(q.p99Micros) << 32) |
            (uint256(q.successBps) << 16) |
            q.availabilityBps;
        _reportPairs[kind][id][epoch][attester >> 1] |= packed << ((attester & 1) * 128);
    }

    /// @dev The reports on a subject for an epoch, with their attesters' weights.
    function _loadReports(SubjectKind kind, uint256 id, uint32 epoch) private view returns (Reports memory r) {
        uint96[] storage weights = _attesterWeights[epoch];
        uint256 attesters = weights.length;
        (r.p50, r.p99, r.success, r.availability, r.weights) = (
            new uint256[](attesters),
            new uint256[](attesters),
            new uint256[](attesters),
            new uint256[](attesters),
            new uint256[](attesters)
        );
        mapping(uint256 pair => uint256) storage pairs = _reportPairs[kind][id][epoch];
        uint256 pair;
        for (uint256 i = 0; i < attesters; ++i) {
            if (i & 1 == 0) pair = pairs[i >> 1];
            uint256 packed = (pair >> ((i & 1) * 128)) & type(uint128).max;
            if (packed & PRESENT == 0) continue;
            uint256 n = r.count++;
            r.p50[n] = uint32(packed >> 64);
            r.p99[n] = uint32(packed >> 32);
            r.success[n] = uint16(packed >> 16);
            r.availability[n] = uint16(packed);
            r.weights[n] = weights[i];
        }
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
        Reports memory reports = _loadReports(kind, id, epoch);
        ScoringParams memory p = scoringParams;
        if (reports.count < p.minReports) revert NotEnoughReports(reports.count, p.minReports);
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
        uint16 count = uint16(reports.count);
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
    function _medians(Reports memory r) private pure returns (Qos memory q) {
        q.p50Micros = uint32(_weightedMedian(r.p50, r.weights, r.count));
        q.p99Micros = uint32(_weightedMedian(r.p99, r.weights, r.count));
        q.successBps = uint16(_weightedMedian(r.success, r.weights, r.count));
        q.availabilityBps = uint16(_weightedMedian(r.availability, r.weights, r.count));
    }

    /// @dev The smallest of the first `n` values whose cumulative weight (values ascending)
    ///      reaches half the total. Weights are active stakes, never 0.
    function _weightedMedian(
        uint256[] memory values,
        uint256[] memory weights,
        uint256 n
    ) private pure returns (uint256) {
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
