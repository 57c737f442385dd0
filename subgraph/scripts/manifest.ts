/**
 * Writes subgraph/subgraph.yaml and the ABIs it names (subgraph/abis/, events only) from the
 * data-source table (data-sources.ts), the compiled contracts (artifacts/) and a deployment file:
 *   npm run subgraph:manifest                    deployments/localhost.json, zero addresses if absent
 *   npx tsx subgraph/scripts/manifest.ts --deployment deployments/default.json [--network localhost]
 *   npx tsx subgraph/scripts/manifest.ts --template   zero addresses whatever deployment exists
 *                                                    (the local runner binds addresses itself)
 * MESHGATE_DEPLOYMENT names the deployment file too (the CLI and the relayer read it as well).
 * `--network` overrides the deployment's network name (it must match graph-node's chain name).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { z } from "zod";
import { deploymentPath, readDeployment, type Deployment } from "../../deploy/deployments.js";
import { DATA_SOURCES, type ContractArtifact, type DataSourceSpec } from "./data-sources.js";
import { eventSignature, type AbiEvent, type AbiParam } from "./event-signature.js";

export const SUBGRAPH_DIR = path.resolve(import.meta.dirname, "..");
export const ROOT_DIR = path.resolve(SUBGRAPH_DIR, "..");
export const MANIFEST_FILE = path.join(SUBGRAPH_DIR, "subgraph.yaml");
const ABIS_DIR = path.join(SUBGRAPH_DIR, "abis");
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
/** What graph-cli 0.98 scaffolds, and the mapping API of graph-ts 0.38. */
const SPEC_VERSION = "1.3.0";
const API_VERSION = "0.0.9";

const abiParam: z.ZodType<AbiParam> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.string(),
    indexed: z.boolean().optional(),
    components: z.array(abiParam).optional(),
  }),
);
const abiEvent = z.object({
  type: z.literal("event"),
  name: z.string(),
  inputs: z.array(abiParam),
  anonymous: z.boolean(),
});
const artifactSchema = z.object({ abi: z.array(z.looseObject({ type: z.string() })) });

/** A path as messages show it: relative inside the repository. */
function display(file: string): string {
  const relative = path.relative(ROOT_DIR, file);
  return relative.startsWith("..") ? file : relative;
}

export function artifactFile(artifact: ContractArtifact): string {
  return path.join(ROOT_DIR, "artifacts", artifact.source, `${artifact.contract}.json`);
}

/** The events of a compiled contract, in ABI order; event names are unique (handlers key on them). */
export function readEvents(artifact: ContractArtifact): AbiEvent[] {
  const file = artifactFile(artifact);
  const where = display(file);
  if (!existsSync(file)) throw new Error(`${where} is missing: run npx hardhat build`);
  const parsed = artifactSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${where} is not a Hardhat artifact: run npx hardhat build`);
  const events = parsed.data.abi.filter((item) => item.type === "event").map((item) => abiEvent.parse(item));
  const names = events.map((e) => e.name);
  const overloaded = names.filter((name, i) => names.indexOf(name) !== i);
  if (overloaded.length > 0) {
    throw new Error(`${artifact.contract} overloads event(s) ${overloaded.join(", ")}: key its handlers by signature`);
  }
  return events;
}

/** Where each data source reads: network, address and first block. */
export interface Target {
  readonly network: string;
  readonly description: string;
  source(spec: DataSourceSpec): { address: string; startBlock: number };
}

function deploymentTarget(deployment: Deployment, file: string, network: string | undefined): Target {
  const governance = deployment.governance;
  if (governance === undefined) {
    console.warn(
      `${display(file)} has no DAOs (deployed with MESHGATE_SKIP_HANDOVER=1): the governor data sources get the zero address`,
    );
  }
  return {
    network: network ?? deployment.network,
    description: display(file),
    source(spec) {
      if (spec.section === "contracts") {
        const contract = deployment.contracts[spec.name];
        return { address: contract.address, startBlock: contract.blockNumber };
      }
      // Governors have no block number of their own; they are deployed after the protocol.
      const address = governance?.[spec.name] ?? ZERO_ADDRESS;
      return { address, startBlock: deployment.startBlock };
    },
  };
}

function zeroTarget(network: string | undefined): Target {
  return {
    network: network ?? "localhost",
    description: "no deployment (zero addresses)",
    source: () => ({ address: ZERO_ADDRESS, startBlock: 0 }),
  };
}

/** The manifest, and the trimmed ABIs it references (file name -> events). */
export function buildManifest(target: Target): { manifest: object; abis: Map<string, AbiEvent[]> } {
  const abis = new Map<string, AbiEvent[]>();
  const dataSources = DATA_SOURCES.map((spec) => {
    const events = readEvents(spec.artifact);
    const byName = new Map(events.map((e) => [e.name, e]));
    for (const name of Object.keys(spec.handlers)) {
      if (!byName.has(name)) {
        throw new Error(
          `${spec.name}: ${spec.artifact.contract} has no event ${name}: ` +
            `run npx hardhat build, or fix subgraph/scripts/data-sources.ts`,
        );
      }
    }
    const abiFile = `${spec.artifact.contract}.json`;
    abis.set(abiFile, events);
    const { address, startBlock } = target.source(spec);
    return {
      kind: "ethereum/contract",
      name: spec.name,
      network: target.network,
      source: { address, abi: spec.artifact.contract, startBlock },
      mapping: {
        kind: "ethereum/events",
        apiVersion: API_VERSION,
        language: "wasm/assemblyscript",
        entities: [...spec.entities],
        abis: [{ name: spec.artifact.contract, file: `./abis/${abiFile}` }],
        eventHandlers: events.flatMap((e) => {
          const handler = spec.handlers[e.name];
          return handler === undefined ? [] : [{ event: eventSignature(e), handler }];
        }),
        file: `./${spec.mapping}`,
      },
    };
  });
  return { manifest: { specVersion: SPEC_VERSION, schema: { file: "./schema.graphql" }, dataSources }, abis };
}

function parseOptions(): { deployment?: string | undefined; network?: string | undefined; template?: boolean } {
  try {
    return parseArgs({
      options: { deployment: { type: "string" }, network: { type: "string" }, template: { type: "boolean" } },
    }).values;
  } catch (error) {
    const usage = "usage: npx tsx subgraph/scripts/manifest.ts [--deployment <file> | --template] [--network <name>]";
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${usage}`, { cause: error });
  }
}

async function main(): Promise<void> {
  const values = parseOptions();
  if (values.template && values.deployment !== undefined)
    throw new Error("--template and --deployment exclude each other");
  const chosen = values.template ? undefined : (values.deployment ?? (process.env.MESHGATE_DEPLOYMENT || undefined));
  const file = path.resolve(chosen ?? deploymentPath("localhost"));
  // Only the default file may be absent: CI builds the subgraph without a chain. A template
  // (the local runner's build: it binds addresses from the deployment when it starts) ignores it.
  let target: Target;
  if (values.template || (chosen === undefined && !existsSync(file))) {
    target = zeroTarget(values.network);
  } else {
    const deployment = await readDeployment(file).catch((error: unknown) => {
      if (!existsSync(file) || !(error instanceof Error)) throw error;
      // A file from an older deployment: its chain is gone and its shape may be too.
      const hint = chosen === undefined ? ", or delete it to build with zero addresses" : "";
      throw new Error(`${error.message}\nRedeploy (npm start)${hint}.`, { cause: error });
    });
    target = deploymentTarget(deployment, file, values.network);
  }

  const { manifest, abis } = buildManifest(target);
  rmSync(ABIS_DIR, { recursive: true, force: true });
  mkdirSync(ABIS_DIR, { recursive: true });
  for (const [name, events] of abis) writeFileSync(path.join(ABIS_DIR, name), `${JSON.stringify(events, null, 2)}\n`);
  const header = `# Generated by subgraph/scripts/manifest.ts from ${target.description}: do not edit.\n`;
  writeFileSync(MANIFEST_FILE, header + stringify(manifest, { lineWidth: 0 }));
  console.log(
    `${display(MANIFEST_FILE)}: ${DATA_SOURCES.length} data sources on "${target.network}" ` +
      `from ${target.description}`,
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  try {
    await main();
  } catch (error) {
    console.error(`subgraph manifest: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
