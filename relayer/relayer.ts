/**
 * Composition root: wires one relayer process from its configuration (chain, Redis, caches,
 * auth, gateway, jobs) and starts it. `npm run relayer`, `npm start` and the tests all use it.
 */
import { JsonRpcProvider, Network, Wallet } from "ethers";
import { readDeployment, type Deployment } from "../deploy/deployments.js";
import { attachProtocol, type Protocol } from "../deploy/protocol.js";
import { NodeSigningKey, signRequest } from "../sdk/http-signatures.js";
import { PEAK_EWMA_FLAG, readRolloutFlag } from "../sdk/routing/index.js";
import { escrowDomain } from "../sdk/vouchers.js";
import { AccessProofVerifier } from "../sdk/zk/verifier.js";
import { VoucherAuthenticator } from "./auth/voucher-auth.js";
import { VoucherSigner } from "./auth/voucher-signer.js";
import { ZkAuthenticator } from "./auth/zk-auth.js";
import { ChainAccessGroups } from "./chain/access-groups.js";
import { ApiCatalog } from "./chain/api-catalog.js";
import { ChannelState } from "./chain/channel-state.js";
import { LogFollower } from "./chain/log-follower.js";
import { ConfigError, type RelayerConfig } from "./config.js";
import { Gateway, type ForwardSigner } from "./http/gateway.js";
import { Prefetcher } from "./http/prefetcher.js";
import { ReplicaRouter } from "./http/replica-router.js";
import { ResponseCache } from "./http/response-cache.js";
import { RelayerServer } from "./http/server.js";
import { UpstreamClient } from "./http/upstream.js";
import { UpstreamDispatcher } from "./http/upstream-dispatch.js";
import { createLogger, type Logger } from "./log.js";
import { RelayerMetrics } from "./metrics.js";
import { Keeper } from "./settlement/keeper.js";
import { RelayerJobs } from "./settlement/jobs.js";
import { Settler } from "./settlement/settler.js";
import { TxSender } from "./settlement/tx-sender.js";
import { NullifierStore } from "./store/nullifier-store.js";
import { RateLimiter } from "./store/rate-limiter.js";
import { hasAppendOnlyFile, hotPathRedis, queueRedis } from "./store/redis.js";
import { VoucherStore } from "./store/voucher-store.js";
import { AdaptiveThrottle, TrafficForecast } from "./traffic/guard.js";
import { PrefetchPlanner } from "./traffic/prefetch-planner.js";
import { RedeemedTokens } from "./validator/redeemed-tokens.js";
import { startReputation } from "./validator/reputation.js";

const LOCAL_CHAIN_ID = 31337n;
/** The public Hardhat key `config.ts` defaults to: only ever acceptable on a local chain. */
const DEMO_OPERATOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

export interface Relayer {
  url: string;
  node: string;
  chainId: bigint;
  deployment: Deployment;
  protocol: Protocol;
  metrics: RelayerMetrics;
  /** Drains calls in flight and jobs, then closes every connection. */
  stop(): Promise<void>;
}

export async function startRelayer(
  config: RelayerConfig,
  log: Logger = createLogger(config.logLevel),
): Promise<Relayer> {
  const deployment = await readDeployment(config.deploymentFile);
  const chainId = BigInt(deployment.chainId);
  const provider = new JsonRpcProvider(config.rpcUrl, Network.from(chainId), {
    staticNetwork: true,
    pollingInterval: config.chain.pollMs,
    // No reuse of identical reads (ethers' default: 250 ms). The relayer's own caches decide what is fresh;
    // a reused read served, after a reorganization, the orphaned chain's state to the reloaded catalogue.
    cacheTimeout: -1,
  });
  const cleanups: (() => Promise<void> | void)[] = [() => provider.destroy()];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const reported = await provider.send("eth_chainId", []).catch((error: Error) => {
      throw new ConfigError(
        `cannot reach the chain at ${config.rpcUrl} (${error.message}): start it or set MESHGATE_RPC_URL`,
      );
    });
    if (BigInt(reported as string) !== chainId) {
      throw new ConfigError(
        `${config.rpcUrl} is chain ${BigInt(reported as string)}, the deployment is for ${chainId}: set MESHGATE_RPC_URL or MESHGATE_DEPLOYMENT`,
      );
    }
    const wallet = new Wallet(config.operatorKey, provider);
    const node = wallet.address;
    if (node === DEMO_OPERATOR && chainId !== LOCAL_CHAIN_ID) {
      throw new ConfigError("MESHGATE_OPERATOR_KEY is the public demo key: set your staked operator's key");
    }
    const nodeLog = log.child({ node });
    const protocol = attachProtocol(deployment, wallet);
    if (!(await protocol.staking.isActive(node))) {
      throw new ConfigError(
        `node ${node} is not an active staked node: register it first (npm run cli -- node register)`,
      );
    }

    const redis = hotPathRedis(config.redisUrl);
    cleanups.push(() => redis.disconnect());
    await redis.connect().catch((error: Error) => {
      throw new ConfigError(
        `cannot reach Redis at ${config.redisUrl} (${error.message}): start redis-server or set MESHGATE_REDIS_URL`,
      );
    });
    if (!config.allowVolatileRedis && !(await hasAppendOnlyFile(redis))) {
      throw new ConfigError(
        "Redis has no append-only file, so a Redis crash would lose accepted vouchers: run it with --appendonly yes, or set MESHGATE_ALLOW_VOLATILE_REDIS=true",
      );
    }

    const metrics = new RelayerMetrics();
    const prefix = `${config.redisPrefix}:${node.toLowerCase()}`;
    const catalog = new ApiCatalog(protocol.registry, protocol.rateLimits, nodeLog);
    const state = new ChannelState(protocol.escrow, protocol.quoter, config.chain.priceTtlMs);
    const startBlock = await provider.getBlockNumber();
    await catalog.load();

    const registryAddress = deployment.contracts.ApiRegistry.address.toLowerCase();
    const escrowAddress = deployment.contracts.PaymentEscrow.address.toLowerCase();
    const flagsAddress = deployment.contracts.FeatureFlags.address.toLowerCase();
    const replicas = new ReplicaRouter({ node, flag: await readRolloutFlag(protocol.flags) });
    const follower = new LogFollower(provider, {
      addresses: [registryAddress, escrowAddress, deployment.contracts.RateLimitPolicy.address, flagsAddress],
      fromBlock: startBlock,
      confirmations: config.chain.confirmations,
      pollMs: config.chain.pollMs,
      log: nodeLog,
      onLogs: async (logs) => {
        const escrowLogs = logs.filter((l) => l.address.toLowerCase() === escrowAddress);
        state.apply(escrowLogs);
        if (logs.some((l) => l.address.toLowerCase() === registryAddress)) state.clearQuotes();
        await catalog.apply(logs.filter((l) => ![escrowAddress, flagsAddress].includes(l.address.toLowerCase())));
        if (logs.some((l) => l.address.toLowerCase() === flagsAddress && l.topics[1] === PEAK_EWMA_FLAG)) {
          replicas.setFlag(await readRolloutFlag(protocol.flags));
        }
      },
      onSynced: (block) => metrics.chainHead.set(block),
      // Everything cached may come from an orphaned block: read it again from the canonical chain.
      onReorg: async () => {
        state.reset();
        await catalog.load();
        replicas.setFlag(await readRolloutFlag(protocol.flags));
        metrics.chainReorgs.inc();
      },
    });
    await follower.catchUp();
    follower.start();
    cleanups.push(() => follower.stop());

    const store = new VoucherStore(redis, prefix);
    const vouchers = new VoucherAuthenticator({
      node,
      signer: new VoucherSigner(escrowDomain(chainId, deployment.contracts.PaymentEscrow.address)),
      state,
      store,
      limiter: new RateLimiter(redis, `${prefix}:rl`),
      // Chain time: the later of the wall clock and the newest block (tests move chain time ahead).
      now: () => BigInt(Math.max(Math.floor(Date.now() / 1000), follower.headTimestamp)),
    });
    const zk = new ZkAuthenticator({
      verifier: await AccessProofVerifier.load(),
      groups: new ChainAccessGroups(protocol.accessGroups),
      nullifiers: new NullifierStore(redis, prefix),
      chainId,
      node,
    });
    const upstream = new UpstreamClient(config.upstream);
    cleanups.push(() => upstream.close());

    const sender = new TxSender({
      wallet,
      redis,
      key: `${prefix}:tx:pending`,
      bumpAfterMs: config.tx.bumpAfterMs,
      maxFeePerGasCap: config.tx.maxFeePerGas,
      errors: [protocol.escrow.interface, protocol.reputation.interface, protocol.rewards.interface],
      log: nodeLog,
    });
    const redeemedTokens = new RedeemedTokens(redis, prefix);
    const settler = new Settler({
      node,
      escrow: protocol.escrow,
      store,
      sender,
      policy: config.settlement,
      metrics,
      log: nodeLog,
      onRedeemed: (token) => redeemedTokens.add(token),
    });
    const queuePrefix = `${config.redisPrefix}-${node.toLowerCase()}`;
    const jobs = new RelayerJobs({
      prefix: queuePrefix,
      connection: () => queueRedis(config.redisUrl),
      settler,
      keeper: new Keeper(protocol.subscriptions),
      sender,
      to: { subscriptions: deployment.contracts.Subscriptions.address },
      settleScanMs: config.settlement.scanMs,
      keeperIntervalMs: config.keeperIntervalMs,
      metrics,
      log: nodeLog,
      onCall: (call, outcome) => {
        if (call.label !== "attest" || outcome !== "mined") return;
        metrics.attestations.inc();
        if (call.epoch !== undefined) metrics.lastAttestedEpoch.set(call.epoch);
      },
    });
    await jobs.start();
    cleanups.push(() => jobs.close());
    const reputation = await startReputation({
      config,
      deployment,
      protocol,
      provider,
      wallet,
      redis,
      prefix,
      queuePrefix,
      queueConnection: () => queueRedis(config.redisUrl),
      tokens: redeemedTokens,
      txs: jobs,
      metrics,
      log: nodeLog,
    });
    // Stopped before the transaction queue (cleanups run in reverse): no scan enqueues into a closed queue.
    cleanups.push(() => reputation.stop());
    state.onUrgent = (reason) => {
      nodeLog.info({ reason }, "settling early");
      settler.markUrgent();
      void jobs.settleSoon().catch(() => undefined);
    };

    const signingKey = new NodeSigningKey(config.operatorKey);
    const forecast = new TrafficForecast({
      bucketMs: config.forecast.bucketMs,
      // The registered capacity, read once at start, unless the operator sizes this process.
      capacityRps: config.forecast.capacityRps ?? Number((await protocol.staking.getNode(node)).capacity),
      metrics,
      log: nodeLog,
    });
    const cache =
      config.cache.maxBytes > 0
        ? new ResponseCache({
            maxBytes: config.cache.maxBytes,
            maxEntryBytes: Math.min(config.cache.maxEntryBytes, config.cache.maxBytes),
          })
        : undefined;
    const dispatcher = new UpstreamDispatcher({ upstream, replicas, metrics });
    const signer: ForwardSigner = { sign: (req) => signRequest(signingKey, req) };
    const prefetcher =
      cache && config.prefetch.enabled
        ? new Prefetcher({
            planner: new PrefetchPlanner({
              topK: config.prefetch.topK,
              halfLifeMs: config.prefetch.halfLifeMs,
              minExpectedHits: config.prefetch.minExpectedHits,
            }),
            cache,
            catalog,
            dispatcher,
            signer,
            tickMs: config.prefetch.tickMs,
            forecast: (api, now) => forecast.forecastRate(api, now),
            metrics,
            log: nodeLog,
          })
        : undefined;
    prefetcher?.start();
    cleanups.push(() => prefetcher?.stop());
    const gateway = new Gateway({
      node,
      catalog,
      vouchers,
      zk,
      dispatcher,
      signer,
      cache,
      maxBodyBytes: config.maxBodyBytes,
      metrics,
      log: nodeLog,
      throttle: config.adaptive.enabled
        ? new AdaptiveThrottle({
            rateFloorPerSec: config.adaptive.rateFloorPerSec,
            limitShare: config.adaptive.limitShare,
            rateTauMs: config.adaptive.rateTauMs,
            baselineTauMs: config.adaptive.baselineTauMs,
            metrics,
            log: nodeLog,
          })
        : undefined,
      forecast,
      prefetcher,
    });
    const server = new RelayerServer({
      gateway,
      metrics,
      log: nodeLog,
      info: {
        node,
        chainId: chainId.toString(),
        escrow: deployment.contracts.PaymentEscrow.address,
        voucherHeader: "Meshgate-Voucher",
        proofHeader: "Meshgate-Proof",
      },
      ready: async () => {
        const checks = { chain: follower.healthy, redis: redis.status === "ready" };
        return { ready: checks.chain && checks.redis, checks };
      },
      // The chain's redeemed total counts too: vouchers below it can never be accepted again.
      latestVoucher: async (id) => {
        const [latest, channel] = await Promise.all([store.latest(id), state.channel(id)]);
        return latest > channel.redeemed ? latest : channel.redeemed;
      },
      beforeMetrics: async () => {
        forecast.publish();
        metrics.unsettledChannels.set(await store.unsettledCount());
        await jobs.depth();
      },
    });
    const url = await server.listen(config.port, config.host).catch((error: Error) => {
      throw new ConfigError(
        `cannot listen on ${config.host}:${config.port} (${error.message}): set MESHGATE_RELAYER_PORT`,
      );
    });
    nodeLog.info({ url, apis: catalog.size, block: follower.syncedBlock }, "relayer listening");

    return {
      url,
      node,
      chainId,
      deployment,
      protocol,
      metrics,
      stop: async () => {
        await server.close(config.shutdownGraceMs);
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
