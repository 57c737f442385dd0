import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { DATA_SOURCES } from "../../../../subgraph/scripts/data-sources.js";
import { allHandlers, handlersOf, OWNERS, type MappingTest } from "./handlers.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TESTS = Object.keys(OWNERS) as MappingTest[];

/**
 * Every handler of the subgraph is exercised: each data source of data-sources.ts is owned by
 * one mapping test file, and each owner file ends with a test that fails unless every handler of
 * its data sources had a log routed to it on its chain (handlers.ts).
 */
describe("subgraph mapping tests: every handler is exercised", () => {
  it("has 156 handlers over 18 data sources (the three governors' handlers are per DAO)", () => {
    expect(DATA_SOURCES).to.have.length(18);
    expect(allHandlers()).to.have.length(156);
    expect(new Set(allHandlers()).size).to.equal(156);
  });

  it("assigns every data source, hence every handler, to exactly one mapping test file", () => {
    const owned = TESTS.flatMap((t) => [...OWNERS[t]]);
    expect([...owned].sort()).to.deep.equal(DATA_SOURCES.map((ds) => ds.name).sort());
    expect(owned.flatMap((ds) => handlersOf(ds)).sort()).to.deep.equal(allHandlers().sort());
  });

  it("has each owner file declare itself and check that its data sources' handlers were all triggered", () => {
    for (const t of TESTS) {
      const file = path.join(HERE, `${t}.test.ts`);
      expect(existsSync(file), `${t}.test.ts exists`).to.equal(true);
      const source = readFileSync(file, "utf8");
      expect(source, `${t}.test.ts declares itself`).to.include(`const TEST = mappingTest("${t}");`);
      expect(source, `${t}.test.ts runs the check`).to.match(
        /\bit\("triggered every [^"]*handler[^"]*", async \(\) => \{\s*await expectOwnedHandlersTriggered\(chain, TEST\);\s*\}\);/,
      );
    }
  });
});
