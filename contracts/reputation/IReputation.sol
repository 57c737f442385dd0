// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IReputation
/// @notice Types, events and errors of Meshgate's reputation: validators' signed quality-of-service
///         attestations and spend-weighted consumer ratings, aggregated per epoch into scores
///         for nodes and APIs.
interface IReputation {
    /// @notice What a score is about.
    enum SubjectKind {
        Node,
        Api
    }

    /// @notice Quality of service a validator measured over an epoch.
    /// @param p50Micros Median latency, microseconds.
    /// @param p99Micros 99th-percentile latency, microseconds (>= p50Micros).
    /// @param successBps Share of probes answered correctly, basis points.
    /// @param availabilityBps Share of probe rounds in which the subject was reachable, basis points.
    struct Qos {
        uint32 p50Micros;
        uint32 p99Micros;
        uint16 successBps;
        uint16 availabilityBps;
    }

    /// @notice A validator's measurement of one node.
    struct NodeReport {
        address node;
        Qos qos;
    }

    /// @notice A validator's measurement of one API (through the nodes that serve it).
    struct ApiReport {
        uint256 apiId;
        Qos qos;
    }

    /// @notice One validator's signed report for one epoch. Subjects strictly ascending (no
    ///         duplicates): nodes by address, APIs by id.
    struct Attestation {
        uint32 epoch;
        NodeReport[] nodes;
        ApiReport[] apis;
    }

    /// @notice Scoring parameters (Protocol DAO).
    /// @param latencyTargetMicros A p99 at or under this costs nothing; above it the latency
    ///        factor is target / p99.
    /// @param smoothingBps Weight of the newest epoch in the smoothed score (EWMA), basis points.
    /// @param ratingShareBps Weight of consumer ratings in an epoch score when there are any.
    /// @param minReports Reports an epoch needs before a subject's score can be finalized.
    /// @param ratingFullSpend Spend behind a subject's ratings (US dollars, 18 decimals) at which
    ///        they get their full share; less spend gets a proportionally smaller share, so a
    ///        rating bought with dust moves nothing.
    struct ScoringParams {
        uint32 latencyTargetMicros;
        uint16 smoothingBps;
        uint16 ratingShareBps;
        uint16 minReports;
        uint128 ratingFullSpend;
    }

    /// @notice When a node is reported to the Security DAO (Security DAO).
    /// @param thresholdBps An epoch score under this counts as a low epoch.
    /// @param epochs Consecutive low epochs after which anyone may report the node.
    struct SlashingPolicy {
        uint16 thresholdBps;
        uint16 epochs;
    }

    /// @notice The latest finalized score of a subject.
    /// @param epochScore Score of `epoch` alone, basis points.
    /// @param smoothed Exponentially smoothed score over finalized epochs, basis points.
    /// @param epoch The latest finalized epoch (meaningful when `finalized`).
    /// @param lowStreak Consecutive finalized epochs under the slashing threshold (nodes).
    /// @param finalized Whether any epoch has been finalized for the subject.
    struct Score {
        uint16 epochScore;
        uint16 smoothed;
        uint32 epoch;
        uint16 lowStreak;
        bool finalized;
    }

    event ValidatorJoined(address indexed validator, uint256 stake);
    event ValidatorLeft(address indexed validator, bytes32 reason);
    event Attested(address indexed validator, uint32 indexed epoch, uint256 weight, uint256 nodes, uint256 apis);
    event Rated(
        address indexed payer,
        address indexed node,
        uint256 indexed apiId,
        address token,
        uint8 nodeStars,
        uint8 apiStars,
        uint256 weight
    );
    event NodeScored(
        address indexed node,
        uint32 indexed epoch,
        Qos qos,
        uint16 ratingBps,
        uint16 epochScore,
        uint16 smoothed,
        uint16 lowStreak,
        uint16 reports
    );
    event ApiScored(
        uint256 indexed apiId,
        uint32 indexed epoch,
        Qos qos,
        uint16 ratingBps,
        uint16 epochScore,
        uint16 smoothed,
        uint16 reports
    );
    event NodeReportedForSlashing(address indexed node, uint32 indexed epoch, uint16 lowStreak, uint16 smoothed);
    event ScoringParamsUpdated(ScoringParams params);
    event SlashingPolicyUpdated(SlashingPolicy policy);

    error NotValidatorNode(address account);
    error AlreadyValidator(address validator);
    error NotInValidatorSet(address account);
    error JoinedAfterEpoch(address validator, uint32 joinedEpoch, uint32 epoch);
    error ValidatorSetFull(uint256 stake, uint256 smallestStake);
    error StillEligible(address validator);
    error InvalidSignature();
    error EpochNotOver(uint32 epoch, uint32 currentEpoch);
    error ReportTooLate(uint32 epoch, uint32 currentEpoch);
    error AlreadyAttested(address validator, uint32 epoch);
    error EmptyAttestation();
    error SubjectsNotAscending(uint256 index);
    error SelfReport(address validator);
    error InvalidQos(uint256 index);
    error InvalidRating(uint8 stars);
    error NoSpend(bytes32 channelId);
    error TokenNotRated(address token);
    error FinalizeWindowNotOpen(uint32 epoch, uint32 currentEpoch);
    error FinalizeWindowClosed(uint32 epoch, uint32 currentEpoch);
    error NotEnoughReports(uint256 reports, uint256 minReports);
    error EpochAlreadyFinalized(uint32 epoch, uint32 latestFinalized);
    error NotReportable(address node, uint16 lowStreak, uint16 requiredEpochs);
    error InvalidScoringParams();
    error InvalidSlashingPolicy();
    error ZeroAddress();

    /// @notice The latest finalized score of a subject (`id`: node address as uint, or API id).
    function scoreOf(SubjectKind kind, uint256 id) external view returns (Score memory);

    /// @notice The smoothed score of `node` as finalized for `epoch`, and whether it was.
    function nodeScoreAt(address node, uint32 epoch) external view returns (uint16 smoothed, bool finalized);

    /// @notice Whether `node` got enough reports for `epoch` to be finalized (finalized or not).
    function wasScorable(address node, uint32 epoch) external view returns (bool);
}
