/**
 * Checks subgraph/subgraph.yaml against the compiled contracts (npm run subgraph:check): every
 * eventHandlers signature matches an event of its contract's ABI and names a handler its mapping
 * exports; every event of an indexed contract has a handler or an ignore-list entry
 * (data-sources.ts); every contract of the deployment is indexed or listed as unindexed.
 * Exits 1 listing each problem.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { deploymentSchema } from "../../deploy/deployments.js";
import { DATA_SOURCES, UNINDEXED_CONTRACTS, type DataSourceSpec, type UnindexedContract } from "./data-sources.js";
import { eventSignature } from "./event-signature.js";
import { MANIFEST_FILE, ROOT_DIR, SUBGRAPH_DIR, readEvents } from "./manifest.js";

const manifestSchema = z.object({
  dataSources: z.array(
    z.object({
      name: z.string(),
      source: z.object({ abi: z.string() }),
      mapping: z.object({
        file: z.string(),
        eventHandlers: z.array(z.object({ event: z.string(), handler: z.string() })),
      }),
    }),
  ),
});
type ManifestDataSource = z.infer<typeof manifestSchema>["dataSources"][number];

const REGENERATE = "run npm run subgraph:manifest";
const problems: string[] = [];
let handlerCount = 0;
let ignoredCount = 0;

function fail(message: string): never {
  console.error(`subgraph check: ${message}`);
  process.exit(1);
}

function checkDataSource(ds: ManifestDataSource, spec: DataSourceSpec): void {
  const contract = spec.artifact.contract;
  if (ds.source.abi !== contract) problems.push(`${ds.name}: uses ABI ${ds.source.abi}, expected ${contract}`);
  const events = readEvents(spec.artifact);
  const bySignature = new Map(events.map((e) => [eventSignature(e), e]));
  const mappingFile = path.join(SUBGRAPH_DIR, ds.mapping.file);
  const mapping = existsSync(mappingFile) ? readFileSync(mappingFile, "utf8") : undefined;
  if (mapping === undefined) problems.push(`${ds.name}: mapping ${ds.mapping.file} does not exist`);

  const handled = new Set<string>();
  for (const { event, handler } of ds.mapping.eventHandlers) {
    handlerCount++;
    const abiEvent = bySignature.get(event);
    if (abiEvent === undefined) {
      const name = event.slice(0, event.indexOf("("));
      const actual = events.find((e) => e.name === name);
      problems.push(
        `${ds.name}: handler signature ${event} matches no event of ${contract}` +
          (actual === undefined ? "" : ` (the ABI has ${eventSignature(actual)})`) +
          `: ${REGENERATE}, or fix subgraph/scripts/data-sources.ts`,
      );
      // Reported here; not again as an event without a handler.
      if (actual !== undefined) handled.add(actual.name);
      continue;
    }
    handled.add(abiEvent.name);
    if (mapping !== undefined && !new RegExp(`export function ${handler}\\(`).test(mapping)) {
      problems.push(`${ds.name}: ${ds.mapping.file} does not export ${handler} (for ${event})`);
    }
  }

  for (const e of events) {
    const ignored = spec.ignored[e.name] !== undefined;
    if (handled.has(e.name) && ignored) {
      problems.push(`${ds.name}: ${e.name} is both handled and in the ignore list`);
    } else if (!handled.has(e.name) && !ignored) {
      problems.push(
        `${ds.name}: event ${eventSignature(e)} of ${contract} has no handler and no ignore-list entry ` +
          `(subgraph/scripts/data-sources.ts)`,
      );
    }
    if (ignored) ignoredCount++;
  }
  for (const name of Object.keys(spec.ignored)) {
    if (!events.some((e) => e.name === name)) {
      problems.push(`${ds.name}: ignore-list entry ${name} names no event of ${contract}`);
    }
  }
}

if (!existsSync(MANIFEST_FILE)) fail(`${path.relative(ROOT_DIR, MANIFEST_FILE)} is missing: ${REGENERATE}`);
const parsed = manifestSchema.safeParse(parse(readFileSync(MANIFEST_FILE, "utf8")));
if (!parsed.success) fail(`subgraph.yaml is malformed (${z.prettifyError(parsed.error)}): ${REGENERATE}`);
const manifest = parsed.data;

for (const ds of manifest.dataSources) {
  const spec = DATA_SOURCES.find((s) => s.name === ds.name);
  if (spec === undefined) {
    problems.push(`${ds.name}: data source not in subgraph/scripts/data-sources.ts: ${REGENERATE}`);
    continue;
  }
  try {
    checkDataSource(ds, spec);
  } catch (error) {
    problems.push(`${ds.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
for (const spec of DATA_SOURCES) {
  if (!manifest.dataSources.some((ds) => ds.name === spec.name)) {
    problems.push(`${spec.name}: missing from subgraph.yaml: ${REGENERATE}`);
  }
}

// A contract added to the deployment must be indexed or explicitly left out.
const deployed = [
  ...Object.keys(deploymentSchema.shape.contracts.shape),
  ...Object.keys(deploymentSchema.shape.governance.unwrap().shape),
];
const unindexed: Readonly<Record<string, UnindexedContract>> = UNINDEXED_CONTRACTS;
for (const name of deployed) {
  if (!DATA_SOURCES.some((s) => s.name === name) && unindexed[name] === undefined) {
    problems.push(`${name}: deployed but neither a data source nor in UNINDEXED_CONTRACTS (data-sources.ts)`);
  }
}
for (const [name, { eventless }] of Object.entries(unindexed)) {
  if (eventless === undefined) continue;
  try {
    const events = readEvents(eventless).map(eventSignature);
    if (events.length > 0) {
      problems.push(`${name}: unindexed as eventless but emits ${events.join(", ")}: give it a data source`);
    }
  } catch (error) {
    problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

if (problems.length > 0) {
  console.error(`subgraph check: ${problems.length} problem(s)`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log(
  `subgraph check OK: ${manifest.dataSources.length} data sources, ${handlerCount} event handlers, ` +
    `${ignoredCount} ignored events, ${Object.keys(unindexed).length} unindexed contracts`,
);
