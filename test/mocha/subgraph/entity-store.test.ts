import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { EntityStore } from "../../../subgraph/runner/store/entity-store.js";
import { Journal } from "../../../subgraph/runner/store/journal.js";
import type { BlockPointer, Entity, StoreValue } from "../../../subgraph/runner/store/types.js";

const block = (number: number): BlockPointer => ({
  number,
  hash: `0x${number.toString(16).padStart(64, "0")}`,
  timestamp: 1_700_000_000 + number,
});
const str = (value: string): StoreValue => ({ kind: "String", value });
const big = (value: bigint): StoreValue => ({ kind: "BigInt", value });

function api(id: string, provider: string, paid: bigint): Entity {
  return new Map([
    ["id", str(id)],
    ["provider", str(provider)],
    ["paid", big(paid)],
  ]);
}

function ids(entities: Iterable<Entity>): string[] {
  return [...entities].map((e) => (e.get("id") as { value: string }).value);
}

function paidOf(store: EntityStore, id: string, at?: number): bigint | undefined {
  const value = store.get("Api", id, at)?.get("paid");
  return value?.kind === "BigInt" ? value.value : undefined;
}

describe("subgraph entity store", function () {
  it("keeps every version: reads at a past block see that block's state", function () {
    const store = new EntityStore();
    let w = store.beginBlock(block(5));
    w.set("Api", "1", api("1", "p1", 10n));
    w.commit();
    w = store.beginBlock(block(8));
    w.set("Api", "1", api("1", "p1", 25n));
    w.set("Api", "2", api("2", "p2", 1n));
    w.commit();
    w = store.beginBlock(block(9));
    w.remove("Api", "2");
    w.commit();

    expect(paidOf(store, "1", 4)).to.equal(undefined);
    expect(paidOf(store, "1", 5)).to.equal(10n);
    expect(paidOf(store, "1", 7)).to.equal(10n);
    expect(paidOf(store, "1", 8)).to.equal(25n);
    expect(paidOf(store, "1")).to.equal(25n);
    expect(ids(store.list("Api", 8))).to.deep.equal(["1", "2"]);
    expect(ids(store.list("Api"))).to.deep.equal(["1"]);
    expect(store.head()).to.deep.equal(block(9));
    expect(store.counts().get("Api")).to.equal(1);
  });

  it("shows a block's pending writes to its mappings only, and keeps the last write of an entity", function () {
    const store = new EntityStore();
    const w = store.beginBlock(block(1));
    w.set("Api", "1", api("1", "p1", 1n));
    w.set("Api", "1", api("1", "p1", 2n));
    expect(w.get("Api", "1")?.get("paid")).to.deep.equal(big(2n));
    expect(store.get("Api", "1")).to.equal(null);
    expect(w.commit()).to.have.length(1);
    expect(paidOf(store, "1")).to.equal(2n);
  });

  it("refuses an entity whose id field differs from its key, and blocks at or below the head", function () {
    const store = new EntityStore();
    const w = store.beginBlock(block(3));
    expect(() => w.set("Api", "1", api("2", "p", 1n))).to.throw(/different id/);
    w.commit();
    expect(() => store.beginBlock(block(3))).to.throw(/not above the head/);
    expect(() => store.advanceHead(block(2))).to.throw(/cannot move back/);
  });

  it("answers reverse lookups from an index that follows writes, removals and reverts", function () {
    const store = new EntityStore();
    let w = store.beginBlock(block(1));
    w.set("Api", "1", api("1", "p1", 1n));
    w.set("Api", "2", api("2", "p1", 1n));
    w.commit();
    expect(ids(store.referencing("Api", "provider", "p1"))).to.deep.equal(["1", "2"]);

    w = store.beginBlock(block(2));
    w.set("Api", "2", api("2", "p2", 1n)); // transferred
    w.set("Api", "3", api("3", "p1", 1n));
    w.commit();
    expect(ids(store.referencing("Api", "provider", "p1"))).to.deep.equal(["1", "3"]);
    expect(ids(store.referencing("Api", "provider", "p2"))).to.deep.equal(["2"]);
    // A past block is answered from the versions, not the head index.
    expect(ids(store.referencing("Api", "provider", "p1", 1))).to.deep.equal(["1", "2"]);

    store.revert(block(1));
    expect(ids(store.referencing("Api", "provider", "p1"))).to.deep.equal(["1", "2"]);
    expect(ids(store.referencing("Api", "provider", "p2"))).to.deep.equal([]);
    expect(store.get("Api", "3")).to.equal(null);
    expect(store.head()).to.deep.equal(block(1));
  });

  it("follows array references for many-to-many lookups", function () {
    const store = new EntityStore();
    const w = store.beginBlock(block(1));
    w.set(
      "Group",
      "g",
      new Map([
        ["id", str("g")],
        ["members", { kind: "Array", value: [str("a"), str("b")] }],
      ]),
    );
    w.commit();
    expect(ids(store.referencing("Group", "members", "b"))).to.deep.equal(["g"]);
    expect(ids(store.referencing("Group", "members", "c"))).to.deep.equal([]);
  });

  describe("journal", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "mg-journal-"));
    const every: Entity = new Map<string, StoreValue>([
      ["id", str("x")],
      ["s", str('é"\n')],
      ["i", { kind: "Int", value: -7 }],
      ["i8", { kind: "Int8", value: -(2n ** 63n) }],
      ["t", { kind: "Timestamp", value: 1_700_000_000_000_000n }],
      ["b", big(-(2n ** 255n))],
      ["d", { kind: "BigDecimal", value: "-1.25" }],
      ["bool", { kind: "Bool", value: false }],
      ["bytes", { kind: "Bytes", value: "0x00ff" }],
      ["arr", { kind: "Array", value: [big(1n), { kind: "Null" }] }],
      ["n", { kind: "Null" }],
    ]);

    it("round-trips every value kind and replays blocks and reverts", function () {
      const file = path.join(dir, "roundtrip.jsonl");
      const first = Journal.open(file, "id-1");
      expect(first.records).to.deep.equal([]);
      first.journal.append([
        { kind: "block", pointer: block(1), changes: [{ entityType: "T", id: "x", entity: every }] },
        { kind: "block", pointer: block(2), changes: [{ entityType: "T", id: "x", entity: null }] },
        { kind: "revert", pointer: block(1) },
      ]);
      first.journal.close();

      const again = Journal.open(file, "id-1");
      again.journal.close();
      expect(again.records).to.have.length(3);
      const [one, two, three] = again.records;
      expect(one).to.deep.equal({
        kind: "block",
        pointer: block(1),
        changes: [{ entityType: "T", id: "x", entity: every }],
      });
      expect(two).to.deep.equal({
        kind: "block",
        pointer: block(2),
        changes: [{ entityType: "T", id: "x", entity: null }],
      });
      expect(three).to.deep.equal({ kind: "revert", pointer: block(1) });
    });

    it("cuts a torn last line and keeps appending after it", function () {
      const file = path.join(dir, "torn.jsonl");
      const { journal } = Journal.open(file, "id-1");
      journal.append([{ kind: "block", pointer: block(1), changes: [] }]);
      journal.close();
      writeFileSync(file, `${readFileSync(file, "utf8")}{"b":{"number":2,"ha`);

      const reopened = Journal.open(file, "id-1");
      expect(reopened.records.map((r) => r.pointer.number)).to.deep.equal([1]);
      reopened.journal.append([{ kind: "block", pointer: block(2), changes: [] }]);
      reopened.journal.close();
      expect(Journal.open(file, "id-1").records.map((r) => r.pointer.number)).to.deep.equal([1, 2]);
    });

    it("sets aside a journal written for another deployment instead of replaying it", function () {
      const file = path.join(dir, "identity.jsonl");
      const { journal } = Journal.open(file, "chain-1");
      journal.append([{ kind: "block", pointer: block(1), changes: [] }]);
      journal.close();

      const other = Journal.open(file, "chain-2");
      other.journal.close();
      expect(other.records).to.deep.equal([]);
      expect(other.discarded).to.be.a("string");
      expect(existsSync(other.discarded!)).to.be.true;
      expect(readdirSync(dir).filter((f) => f.startsWith("identity.jsonl.")).length).to.equal(1);
      expect(readFileSync(file, "utf8")).to.equal(`${JSON.stringify({ identity: "chain-2" })}\n`);
    });
  });
});
