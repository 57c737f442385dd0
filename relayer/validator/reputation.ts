/**
 * Wires a node's reputation work from its configuration: on every node the reward upkeep
 * (finalize its score, commit and claim its rewards); on a validator also the node directory,
 * probe rounds, the sample store and attestations. Called by the composition root
 * (relayer/relayer.ts); `stop()` ends the jobs and the directory's chain follower.
 */
import type { JsonRpcProvider, Wallet } from "ethers";
import type { Redis } from "ioredis";
import type { Deployment } from "../../deploy/deployments.js";
import type { Protocol } from "../../deploy/protocol.js";
import { escrowDomain } from "../../sdk/vouchers.js";
import { ConfigError, type RelayerConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import { reputationDomain } from "./attestation.js";
import { Attester } from "./attester.js";
import { EpochClock } from "./epoch-clock.js";
import { ReputationJobs } from "./jobs.js";
import { NodeDirectory } from "./node-directory.js";
import { PaidProber } from "./paid-probe.js";
import { ProbeRound } from "./probe-round.js";
import type { RedeemedTokens } from "./redeemed-tokens.js";
import { RewardUpkeep } from "./reward-upkeep.js";
import { SampleStore } from "./sample-store.js";
import type { TxQueue } from "./tx-call.js";

/** NodeStaking.NodeType.Validator. */
const VALIDATOR_NODE_TYPE = 3n;
/** Measurements and attestations are kept this many epochs (finalization reads them two epochs later). */
const KEEP_EPOCHS = 8;

export interface ReputationDeps {
  config: RelayerConfig;
  deployment: Deployment;
  protocol: Protocol;
  provider: JsonRpcProvider;
  wallet: Wallet;
  redis: Redis;
  /** `<MESHGATE_REDIS_PREFIX>:<node>`. */
  prefix: string;
  queuePrefix: string;
  queueConnection: () => Redis;
  tokens: RedeemedTokens;
  txs: TxQueue;
  metrics: RelayerMetrics;
  log: Logger;
}

export interface ReputationService {
  stop(): Promise<void>;
}

export async function startReputation(deps: ReputationDeps): Promise<ReputationService> {
  const { config, protocol, wallet, redis, prefix, metrics, log } = deps;
  const self = wallet.address;
  const v = config.validator;

  const clock = await EpochClock.load(protocol.escrow, deps.provider);
  const chainId = BigInt(deps.deployment.chainId);
  const store = new SampleStore(redis, prefix, {
    maxSamples: v.samples,
    ttlSeconds: clock.length * KEEP_EPOCHS,
  });

  let directory: NodeDirectory | undefined;
  let validator: ConstructorParameters<typeof ReputationJobs>[0]["validator"];
  if (v.enabled) {
    const node = await protocol.staking.getNode(self);
    if (node.nodeType !== VALIDATOR_NODE_TYPE) {
      throw new ConfigError(
        `MESHGATE_VALIDATOR is set but node ${self} is not a Validator node: register one (type Validator) or unset it`,
      );
    }
    directory = new NodeDirectory({
      staking: protocol.staking,
      provider: deps.provider,
      redis,
      key: `${prefix}:val:directory`,
      fromBlock: deps.deployment.contracts.NodeStaking.blockNumber,
      confirmations: config.chain.confirmations,
      pollMs: config.chain.pollMs,
      log,
    });
    await directory.start();
    const paid = v.paidProbe
      ? new PaidProber({
          signer: wallet,
          self,
          escrow: protocol.escrow,
          quoter: protocol.quoter,
          domain: escrowDomain(chainId, deps.deployment.contracts.PaymentEscrow.address),
          redis,
          prefix,
          config: v.paidProbe,
          timeoutMs: v.probeTimeoutMs,
          log,
        })
      : undefined;
    const round = new ProbeRound({
      self,
      directory,
      store,
      clock,
      paid,
      healthPath: v.healthPath,
      timeoutMs: v.probeTimeoutMs,
      maxNodes: v.maxNodes,
      metrics,
      log,
    });
    const attester = new Attester({
      self,
      signer: wallet,
      reputation: protocol.reputation,
      domain: reputationDomain(chainId, deps.deployment.contracts.Reputation.address),
      store,
      clock,
      noAnswerMicros: v.probeTimeoutMs * 1_000,
      metrics,
      log,
    });
    validator = { round, attester, probeMs: v.probeMs, attestScanMs: v.attestScanMs };
    log.info({ probeMs: v.probeMs, paidProbes: paid !== undefined }, "validator mode");
  }

  const upkeep = config.rewards.enabled
    ? {
        upkeep: new RewardUpkeep({
          self,
          reputation: protocol.reputation,
          rewards: protocol.rewards,
          escrow: protocol.escrow,
          clock,
          tokens: deps.tokens,
          attestations: v.enabled ? store : undefined,
          lookbackEpochs: config.rewards.lookbackEpochs,
          log,
        }),
        scanMs: config.rewards.scanMs,
      }
    : undefined;

  const jobs = new ReputationJobs({
    prefix: deps.queuePrefix,
    connection: deps.queueConnection,
    validator,
    upkeep,
    txs: deps.txs,
    log,
  });
  try {
    await jobs.start();
  } catch (error) {
    await jobs.close().catch(() => undefined);
    await directory?.stop();
    throw error;
  }
  return {
    stop: async () => {
      await jobs.close();
      await directory?.stop();
    },
  };
}
