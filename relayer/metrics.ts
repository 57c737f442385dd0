/** Prometheus metrics of one relayer process, served at GET /metrics. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export class RelayerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "meshgate_requests_total",
    help: "Calls answered, by API, auth kind and HTTP status",
    labelNames: ["api", "auth", "status"] as const,
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: "meshgate_rejections_total",
    help: "Calls refused by the relayer, by error code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "meshgate_request_duration_seconds",
    help: "Time from request to the end of the response, by API and cache outcome",
    labelNames: ["api", "cache"] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: "meshgate_upstream_duration_seconds",
    help: "Time to the upstream's response headers",
    labelNames: ["api"] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly upstreamFailovers = new Counter({
    name: "meshgate_upstream_failovers_total",
    help: "Calls sent to another replica of an API after one could not be reached, by API",
    labelNames: ["api"] as const,
    registers: [this.registry],
  });
  readonly cache = new Counter({
    name: "meshgate_cache_events_total",
    help: "Response cache lookups and stores",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });
  readonly acceptedValue = new Counter({
    name: "meshgate_voucher_value_accepted_total",
    help: "Value of accepted voucher increases, in token base units, by token",
    labelNames: ["token"] as const,
    registers: [this.registry],
  });
  readonly refundedValue = new Counter({
    name: "meshgate_voucher_value_refunded_total",
    help: "Value of accepted voucher increases taken back because the upstream failed the call, by token",
    labelNames: ["token"] as const,
    registers: [this.registry],
  });
  readonly settledValue = new Counter({
    name: "meshgate_settled_value_total",
    help: "Value paid on-chain by this node's redemptions, in token base units, by token",
    labelNames: ["token"] as const,
    registers: [this.registry],
  });
  readonly unsettledChannels = new Gauge({
    name: "meshgate_unsettled_channels",
    help: "Channels holding a voucher above their on-chain redeemed total",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "meshgate_queue_jobs",
    help: "BullMQ jobs by queue and state",
    labelNames: ["queue", "state"] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: "meshgate_in_flight_requests",
    help: "Calls being served",
    registers: [this.registry],
  });
  readonly chainReorgs = new Counter({
    name: "meshgate_chain_reorgs_total",
    help: "Chain reorganizations the log follower rewound through (its caches were read again)",
    registers: [this.registry],
  });
  readonly chainHead = new Gauge({
    name: "meshgate_chain_synced_block",
    help: "Last block whose events the relayer applied",
    registers: [this.registry],
  });

  readonly adaptiveThrottles = new Counter({
    name: "meshgate_relayer_adaptive_throttles_total",
    help: "Calls refused by adaptive throttling (adaptive_throttle), by signal; a call naming several signals counts once under each",
    labelNames: ["signal"] as const,
    registers: [this.registry],
  });
  readonly adaptiveLastThrottle = new Gauge({
    name: "meshgate_relayer_adaptive_last_throttle_seconds",
    help: "Unix time of the last adaptive throttle, by signal (its explanation is in the warn log)",
    labelNames: ["signal"] as const,
    registers: [this.registry],
  });
  readonly forecastRps = new Gauge({
    name: "meshgate_relayer_forecast_rps",
    help: "Holt-Winters forecast of accepted calls per second for the current bucket, by API",
    labelNames: ["api"] as const,
    registers: [this.registry],
  });
  readonly capacityRps = new Gauge({
    name: "meshgate_relayer_capacity_rps",
    help: "Calls per second this relayer process is sized for (MESHGATE_CAPACITY_RPS)",
    registers: [this.registry],
  });
  readonly scaleUp = new Gauge({
    name: "meshgate_relayer_scale_up",
    help: "1 while the forecast total over all APIs exceeds MESHGATE_CAPACITY_RPS, else 0",
    registers: [this.registry],
  });

  readonly probes = new Counter({
    name: "meshgate_validator_probes_total",
    help: "Probes this validator sent, by node, kind (health, paid) and outcome (ok, status, timeout, error, skipped)",
    labelNames: ["node", "kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly probeLatency = new Histogram({
    name: "meshgate_validator_probe_duration_seconds",
    help: "Time to a probe's complete answer, by kind",
    labelNames: ["kind"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly probedNodes = new Gauge({
    name: "meshgate_validator_probed_nodes",
    help: "Active nodes the last probe round covered",
    registers: [this.registry],
  });
  readonly attestations = new Counter({
    name: "meshgate_validator_attestations_total",
    help: "Attestations this validator submitted (mined)",
    registers: [this.registry],
  });
  readonly lastAttestedEpoch = new Gauge({
    name: "meshgate_validator_last_attested_epoch",
    help: "Latest epoch this validator's attestation is recorded on-chain for",
    registers: [this.registry],
  });
  readonly reputationTxs = new Counter({
    name: "meshgate_reputation_transactions_total",
    help: "Reputation and reward transactions (joinValidators, attest, finalize, commit, claim) by kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
