// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {
    GovernorVotesQuorumFraction
} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

/// @title MeshGovernor
/// @notice One OpenZeppelin Governor per Meshgate DAO, each with its own votes source,
///         timelock and parameters: the Protocol DAO votes with MESH, the Security DAO with
///         staked MESH (NodeStaking), the Developer DAO with developer credentials. Voting
///         delay, period, proposal threshold and quorum change only by the DAO's own vote.
///         Clocks are timestamps (ERC-6372), taken from the votes source.
contract MeshGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @notice Quorum never falls below this many votes, however small the votes supply (a DAO
    ///         with few voters must not pass proposals on one vote). Changed only by its own vote.
    uint256 public minQuorum;

    event MinQuorumUpdated(uint256 oldMinQuorum, uint256 newMinQuorum);

    /// @param name_ The DAO's name (EIP-712 domain of vote signatures).
    /// @param votes The checkpointed votes source (ERC-5805).
    /// @param timelock_ The DAO's timelock: it executes proposals and holds the DAO's roles.
    /// @param votingDelay_ Seconds between proposing and the vote snapshot.
    /// @param votingPeriod_ Seconds the vote lasts.
    /// @param proposalThreshold_ Votes needed to propose.
    /// @param quorumPercent Percent of the total votes at the snapshot that must vote For or Abstain.
    /// @param minQuorum_ The quorum floor, in votes.
    constructor(
        string memory name_,
        IVotes votes,
        TimelockController timelock_,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent,
        uint256 minQuorum_
    )
        Governor(name_)
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(votes)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock_)
    {
        _setMinQuorum(minQuorum_);
    }

    /// @notice Sets the quorum floor (only by this DAO's own vote).
    function setMinQuorum(uint256 newMinQuorum) external onlyGovernance {
        _setMinQuorum(newMinQuorum);
    }

    /// @notice The quorum at `timepoint`: the fraction of the votes supply, at least `minQuorum`.
    function quorum(
        uint256 timepoint
    ) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        uint256 fraction = super.quorum(timepoint);
        return fraction > minQuorum ? fraction : minQuorum;
    }

    /// @inheritdoc Governor
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(
        uint256 proposalId
    ) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    function _setMinQuorum(uint256 newMinQuorum) private {
        emit MinQuorumUpdated(minQuorum, newMinQuorum);
        minQuorum = newMinQuorum;
    }
}
