/**
 * Reads the manifest `graph build` wrote (subgraph/build/subgraph.yaml): which contracts to
 * follow, which handler of which compiled WASM each event goes to. Event signatures are
 * resolved to topic0 against the ABI shipped with the build, so a handler whose event is not
 * in the ABI fails here, before any block is indexed.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type EventFragment, Interface, type InterfaceAbi } from "ethers";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Deployment } from "../../deploy/deployments.js";
import { eventSignature, type AbiEvent } from "../scripts/event-signature.js";

const manifestSchema = z.object({
  schema: z.object({ file: z.string() }),
  dataSources: z
    .array(
      z.object({
        kind: z.literal("ethereum/contract"),
        name: z.string().min(1),
        network: z.string().min(1),
        source: z.object({
          address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
          abi: z.string(),
          startBlock: z.number().int().nonnegative().default(0),
        }),
        mapping: z.object({
          file: z.string(),
          abis: z.array(z.object({ name: z.string(), file: z.string() })),
          eventHandlers: z.array(z.object({ event: z.string(), handler: z.string() })).default([]),
        }),
      }),
    )
    .min(1),
});

export interface EventRoute {
  readonly handler: string;
  readonly fragment: EventFragment;
}

export interface DataSource {
  readonly name: string;
  readonly network: string;
  readonly address: string;
  readonly startBlock: number;
  readonly abi: Interface;
  /** Absolute path of the compiled mapping. */
  readonly wasmFile: string;
  /** topic0 -> handler. */
  readonly routes: ReadonlyMap<string, EventRoute>;
}

export interface SubgraphManifest {
  readonly schemaFile: string;
  readonly dataSources: readonly DataSource[];
}

/** Loads `<buildDir>/subgraph.yaml`; the error says how to produce it. */
export async function loadManifest(buildDir: string): Promise<SubgraphManifest> {
  const file = path.join(buildDir, "subgraph.yaml");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`no built subgraph at ${file}: run npm run subgraph:build:local`);
  }
  const parsed = manifestSchema.safeParse(parseYaml(text));
  if (!parsed.success) throw new Error(`${file} is not a subgraph manifest: ${z.prettifyError(parsed.error)}`);
  const dataSources = await Promise.all(
    parsed.data.dataSources.map(async (ds) => {
      const abiFile = ds.mapping.abis.find((a) => a.name === ds.source.abi)?.file;
      if (!abiFile) throw new Error(`${file}: data source ${ds.name} names ABI ${ds.source.abi} but does not list it`);
      const abi = new Interface(JSON.parse(await readFile(path.join(buildDir, abiFile), "utf8")) as InterfaceAbi);
      const routes = new Map<string, EventRoute>();
      for (const { event, handler } of ds.mapping.eventHandlers) {
        const fragment = eventFragment(abi, event);
        if (!fragment)
          throw new Error(`${file}: data source ${ds.name}: event ${event} is not in ABI ${ds.source.abi}`);
        routes.set(fragment.topicHash, { handler, fragment });
      }
      return {
        name: ds.name,
        network: ds.network,
        address: ds.source.address.toLowerCase(),
        startBlock: ds.source.startBlock,
        abi,
        wasmFile: path.join(buildDir, ds.mapping.file),
        routes,
      };
    }),
  );
  return { schemaFile: path.join(buildDir, parsed.data.schema.file), dataSources };
}

/** Finds the ABI event a manifest signature such as `Staked(indexed address,uint256)` names. */
function eventFragment(abi: Interface, signature: string): EventFragment | undefined {
  let found: EventFragment | undefined;
  abi.forEachEvent((fragment) => {
    if (eventSignature(JSON.parse(fragment.format("json")) as AbiEvent) === signature) found = fragment;
  });
  return found;
}

/**
 * Points each data source at the address a deployment file gives for the contract of the same
 * name (contracts.<name> or governance.<name>), so one build serves any chain the protocol was
 * deployed to: the mapping code does not depend on addresses. Before the governance hand-over a
 * deployment has no DAOs; their data sources are left out then.
 */
export function bindToDeployment(manifest: SubgraphManifest, deployment: Deployment): SubgraphManifest {
  const contracts: Record<string, { address: string; blockNumber: number }> = { ...deployment.contracts };
  for (const [name, address] of Object.entries(deployment.governance ?? {})) {
    contracts[name] = { address, blockNumber: deployment.startBlock };
  }
  const dataSources: DataSource[] = [];
  for (const ds of manifest.dataSources) {
    const deployed = contracts[ds.name];
    if (deployed)
      dataSources.push({ ...ds, address: deployed.address.toLowerCase(), startBlock: deployed.blockNumber });
    else if (!(deployment.governance === undefined && GOVERNANCE_DATA_SOURCES.has(ds.name))) {
      throw new Error(`the deployment has no contract named ${ds.name} (a data source of the subgraph)`);
    }
  }
  return { ...manifest, dataSources };
}

const GOVERNANCE_DATA_SOURCES = new Set(["ProtocolGovernor", "SecurityGovernor", "DeveloperGovernor"]);
