import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import {
  ApiScored,
  Attested,
  AuthorityUpdated,
  NodeReportedForSlashing,
  NodeScored,
  Paused,
  Rated,
  ScoringParamsUpdated,
  SlashingPolicyUpdated,
  Unpaused,
  ValidatorJoined,
  ValidatorLeft,
} from "../../generated/Reputation/Reputation";
import { Api, ApiScore, Attestation, Node, NodeScore, Rating, SlashingReport, Validator } from "../../generated/schema";
import { setAuthority, setPaused } from "../shared/contracts";
import { eventId, joinId } from "../shared/ids";
import { getProtocol } from "../shared/protocol";
import { loadApi } from "../shared/registry";
import { channelId, ratingBpsOf, starsBps } from "../shared/reputation";

const CONTRACT = "Reputation";

/** A member of the validator set (ValidatorJoined came first: the contract checks membership). */
function loadValidator(address: Bytes): Validator {
  const validator = Validator.load(address);
  if (validator == null) throw new Error("Validator " + address.toHexString() + " is not indexed");
  return validator;
}

/** The node of a channel (a channel's node was active at its first deposit, so it registered). */
function loadNode(operator: Bytes): Node {
  const node = Node.load(operator);
  if (node == null) throw new Error("Node " + operator.toHexString() + " is not indexed");
  return node;
}

/** Id of a subject's record for one epoch: "0xoperator-12", "7-12". */
function epochId(subject: string, epoch: BigInt): string {
  return joinId(subject, epoch.toString());
}

export function handleValidatorJoined(event: ValidatorJoined): void {
  const p = event.params;
  // Only an active node of type Validator may join, so its Node is indexed.
  let validator = Validator.load(p.validator);
  if (validator == null) {
    validator = new Validator(p.validator);
    validator.node = p.validator;
    validator.joinCount = 0;
    validator.attestationCount = 0;
  }
  validator.active = true;
  validator.stakeAtJoin = p.stake;
  validator.joinedAt = event.block.timestamp;
  validator.joinCount = validator.joinCount + 1;
  validator.save();

  const protocol = getProtocol();
  protocol.validatorCount = protocol.validatorCount + 1;
  protocol.save();
}

export function handleValidatorLeft(event: ValidatorLeft): void {
  const validator = loadValidator(event.params.validator);
  validator.active = false;
  validator.leftAt = event.block.timestamp;
  validator.leftReason = event.params.reason;
  validator.save();

  const protocol = getProtocol();
  protocol.validatorCount = protocol.validatorCount - 1;
  protocol.save();
}

export function handleAttested(event: Attested): void {
  const p = event.params;
  const epoch = p.epoch.toI32();
  const validator = loadValidator(p.validator);
  validator.attestationCount = validator.attestationCount + 1;
  validator.lastAttestedEpoch = epoch;
  validator.save();

  // One per validator and epoch (the contract rejects a second).
  const attestation = new Attestation(epochId(p.validator.toHexString(), p.epoch));
  attestation.validator = p.validator;
  attestation.epoch = epoch;
  attestation.weight = p.weight;
  attestation.nodeCount = p.nodes.toI32();
  attestation.apiCount = p.apis.toI32();
  attestation.timestamp = event.block.timestamp;
  attestation.blockNumber = event.block.number;
  attestation.transactionHash = event.transaction.hash;
  attestation.save();
}

export function handleRated(event: Rated): void {
  const p = event.params;
  // The payer's channel with this node, API and token: it has redeemed spend, so it is indexed.
  const id = channelId(p.payer, p.node, p.apiId, p.token);
  const node = loadNode(p.node);
  const api = loadApi(p.apiId);
  let rating = Rating.load(id);
  if (rating == null) {
    rating = new Rating(id);
    rating.channel = id;
    rating.payer = p.payer;
    rating.node = p.node;
    rating.api = api.id;
    rating.token = p.token;
    rating.updateCount = 0;
    rating.createdAt = event.block.timestamp;
    node.ratingCount = node.ratingCount + 1;
    api.ratingCount = api.ratingCount + 1;
  } else {
    // Rating again replaces the channel's previous rating (Reputation.rate).
    node.ratingWeight = node.ratingWeight.minus(rating.weight);
    node.ratingWeightedBps = node.ratingWeightedBps.minus(rating.weight.times(starsBps(rating.nodeStars)));
    api.ratingWeight = api.ratingWeight.minus(rating.weight);
    api.ratingWeightedBps = api.ratingWeightedBps.minus(rating.weight.times(starsBps(rating.apiStars)));
  }
  rating.nodeStars = p.nodeStars;
  rating.apiStars = p.apiStars;
  rating.weight = p.weight;
  rating.updateCount = rating.updateCount + 1;
  rating.updatedAt = event.block.timestamp;
  rating.save();

  node.ratingWeight = node.ratingWeight.plus(p.weight);
  node.ratingWeightedBps = node.ratingWeightedBps.plus(p.weight.times(starsBps(p.nodeStars)));
  node.ratingBps = ratingBpsOf(node.ratingWeightedBps, node.ratingWeight);
  node.save();
  api.ratingWeight = api.ratingWeight.plus(p.weight);
  api.ratingWeightedBps = api.ratingWeightedBps.plus(p.weight.times(starsBps(p.apiStars)));
  api.ratingBps = ratingBpsOf(api.ratingWeightedBps, api.ratingWeight);
  api.save();
}

export function handleNodeScored(event: NodeScored): void {
  const p = event.params;
  const epoch = p.epoch.toI32();
  // Validators may report any address: a node that never registered has no Node.
  const node = Node.load(p.node);
  const score = new NodeScore(epochId(p.node.toHexString(), p.epoch));
  score.node = p.node;
  score.operator = p.node;
  score.epoch = epoch;
  score.p50Micros = p.qos.p50Micros;
  score.p99Micros = p.qos.p99Micros;
  score.successBps = p.qos.successBps;
  score.availabilityBps = p.qos.availabilityBps;
  score.ratingBps = p.ratingBps;
  // The contract blends the rating totals as they are now, which the Node holds.
  score.ratingWeight = node == null ? BigInt.zero() : node.ratingWeight;
  score.epochScore = p.epochScore;
  score.smoothedScore = p.smoothed;
  score.lowStreak = p.lowStreak;
  score.reports = p.reports;
  score.timestamp = event.block.timestamp;
  score.blockNumber = event.block.number;
  score.transactionHash = event.transaction.hash;
  score.save();

  if (node == null) return;
  node.epochScore = p.epochScore;
  node.smoothedScore = p.smoothed;
  node.lowStreak = p.lowStreak;
  node.scoredEpoch = epoch;
  node.save();
}

export function handleApiScored(event: ApiScored): void {
  const p = event.params;
  const epoch = p.epoch.toI32();
  const apiKey = p.apiId.toString();
  // Validators may report any id: an API that was never listed has no Api.
  const api = Api.load(apiKey);
  const score = new ApiScore(epochId(apiKey, p.epoch));
  score.api = apiKey;
  score.apiId = p.apiId;
  score.epoch = epoch;
  score.p50Micros = p.qos.p50Micros;
  score.p99Micros = p.qos.p99Micros;
  score.successBps = p.qos.successBps;
  score.availabilityBps = p.qos.availabilityBps;
  score.ratingBps = p.ratingBps;
  score.ratingWeight = api == null ? BigInt.zero() : api.ratingWeight;
  score.epochScore = p.epochScore;
  score.smoothedScore = p.smoothed;
  score.reports = p.reports;
  score.timestamp = event.block.timestamp;
  score.blockNumber = event.block.number;
  score.transactionHash = event.transaction.hash;
  score.save();

  if (api == null) return;
  api.epochScore = p.epochScore;
  api.smoothedScore = p.smoothed;
  api.scoredEpoch = epoch;
  api.save();
}

export function handleNodeReportedForSlashing(event: NodeReportedForSlashing): void {
  const p = event.params;
  const report = new SlashingReport(eventId(event));
  report.node = p.node;
  report.operator = p.node;
  report.epoch = p.epoch.toI32();
  report.lowStreak = p.lowStreak;
  report.smoothedScore = p.smoothed;
  report.timestamp = event.block.timestamp;
  report.blockNumber = event.block.number;
  report.transactionHash = event.transaction.hash;
  report.save();

  // The streak restarts.
  const node = Node.load(p.node);
  if (node == null) return;
  node.lowStreak = 0;
  node.save();
}

export function handleScoringParamsUpdated(event: ScoringParamsUpdated): void {
  const params = event.params.params;
  const protocol = getProtocol();
  protocol.scoreLatencyTargetMicros = params.latencyTargetMicros;
  protocol.scoreSmoothingBps = params.smoothingBps;
  protocol.scoreRatingShareBps = params.ratingShareBps;
  protocol.scoreMinReports = params.minReports;
  protocol.scoreRatingFullSpend = params.ratingFullSpend;
  protocol.save();
}

export function handleSlashingPolicyUpdated(event: SlashingPolicyUpdated): void {
  const policy = event.params.policy;
  const protocol = getProtocol();
  protocol.slashingThresholdBps = policy.thresholdBps;
  protocol.slashingEpochs = policy.epochs;
  protocol.save();
}

export function handlePaused(event: Paused): void {
  setPaused(CONTRACT, event, true);
}

export function handleUnpaused(event: Unpaused): void {
  setPaused(CONTRACT, event, false);
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
