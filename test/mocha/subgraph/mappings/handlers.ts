/**
 * Which mapping test file exercises which data sources, and the check that it did: every
 * handler of those data sources had at least one log on the file's chain routed to it (read
 * with eth_getLogs over the indexed range and routed through the built manifest exactly as the
 * runner routes them). `index()` fails on any handler error, so a routed log is a handler that
 * ran. coverage.test.ts checks that the files together own every handler of
 * subgraph/scripts/data-sources.ts and that each of them runs this check.
 */
import { expect } from "chai";
import { DATA_SOURCES, type IndexedContract } from "../../../../subgraph/scripts/data-sources.js";
import { bindToDeployment, loadManifest } from "../../../../subgraph/runner/manifest.js";
import { SUBGRAPH_BUILD, type IndexedChain } from "../../helpers/subgraph.js";

/** Mapping test file (`<key>.test.ts`) -> the data sources whose every handler it triggers. */
export const OWNERS = {
  registry: ["ApiRegistry"],
  staking: ["NodeStaking"],
  escrow: ["PaymentEscrow"],
  subscriptions: ["Subscriptions"],
  discounts: ["DiscountStaking"],
  access: ["AccessGroups", "AccessVerifier"],
  governance: ["ProtocolGovernor", "SecurityGovernor", "DeveloperGovernor"],
  "token-and-credential": ["MeshToken", "DeveloperCredential"],
  "policy-flags-oracle-roles": ["AccessManager", "UsdPriceOracle", "FeatureFlags", "RateLimitPolicy"],
  reputation: ["Reputation"],
  rewards: ["NodeRewards"],
} as const satisfies Record<string, readonly IndexedContract[]>;

export type MappingTest = keyof typeof OWNERS;

/** `DataSource.handler`: handler names repeat across data sources (handlePaused, ...). */
export const handlerKey = (dataSource: string, handler: string) => `${dataSource}.${handler}`;

/** Every handler of the subgraph, from the data-source table. */
export function allHandlers(): string[] {
  return DATA_SOURCES.flatMap((ds) => Object.values(ds.handlers).map((h) => handlerKey(ds.name, h)));
}

/** The handlers of one data source (fails for an unknown name). */
export function handlersOf(dataSource: IndexedContract): string[] {
  const ds = DATA_SOURCES.find((d) => d.name === dataSource);
  if (ds === undefined) throw new Error(`no data source ${dataSource}`);
  return Object.values(ds.handlers).map((h) => handlerKey(ds.name, h));
}

/** Declares a mapping test file (coverage.test.ts checks that each owner file does). */
export function mappingTest(test: MappingTest): MappingTest {
  return test;
}

/**
 * Handlers that logs of the chain, up to the block the runner indexed, are routed to
 * (`DataSource.handler`).
 */
export async function triggeredHandlers(chain: IndexedChain): Promise<Set<string>> {
  const runner = await chain.index();
  const head = runner.store.head()?.number;
  if (head === undefined) throw new Error("the runner indexed nothing");
  const manifest = bindToDeployment(await loadManifest(SUBGRAPH_BUILD), chain.deployment);
  const found = new Set<string>();
  for (const ds of manifest.dataSources) {
    const logs = await chain.provider.getLogs({ address: ds.address, fromBlock: ds.startBlock, toBlock: head });
    for (const log of logs) {
      const route = log.topics[0] === undefined ? undefined : ds.routes.get(log.topics[0]);
      if (route !== undefined) found.add(handlerKey(ds.name, route.handler));
    }
  }
  return found;
}

/** Fails unless every handler of the data sources `test` owns was triggered on `chain`. */
export async function expectOwnedHandlersTriggered(chain: IndexedChain, test: MappingTest): Promise<void> {
  const found = await triggeredHandlers(chain);
  const owned = OWNERS[test].flatMap((ds) => handlersOf(ds));
  expect(
    owned.filter((h) => !found.has(h)),
    `handlers of ${OWNERS[test].join(", ")} never triggered`,
  ).to.deep.equal([]);
}
