/** Prometheus metrics of the subgraph runner, served at GET /metrics next to the GraphQL endpoint. */
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Indexer } from "./indexer.js";
import type { EntityStore } from "./store/entity-store.js";

export function subgraphMetrics(indexer: Indexer, store: EntityStore): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "meshgate_subgraph_head_block",
    help: "The latest indexed block",
    registers: [registry],
    collect() {
      this.set(store.head()?.number ?? -1);
    },
  });
  new Gauge({
    name: "meshgate_subgraph_events_handled",
    help: "Events handled by the mappings since the runner started",
    registers: [registry],
    collect() {
      this.set(indexer.eventsHandled);
    },
  });
  new Gauge({
    name: "meshgate_subgraph_entities",
    help: "Entities at the head, by type",
    labelNames: ["type"] as const,
    registers: [registry],
    collect() {
      for (const [type, count] of store.counts()) this.set({ type }, count);
    },
  });
  new Gauge({
    name: "meshgate_subgraph_indexing_failed",
    help: "1 once a handler failed (indexing stopped; queries answer with indexing_error)",
    registers: [registry],
    collect() {
      this.set(indexer.failure ? 1 : 0);
    },
  });
  new Gauge({
    name: "meshgate_subgraph_chain_read_failures",
    help: "Consecutive polls that could not read the chain",
    registers: [registry],
    collect() {
      this.set(indexer.chainReadFailures);
    },
  });
  return registry;
}
