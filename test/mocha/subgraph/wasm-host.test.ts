import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Interface, keccak256, toUtf8Bytes, type InterfaceAbi } from "ethers";
import type { Entity, MappingStore, StoreValue } from "../../../subgraph/runner/store/types.js";
import {
  addDecimals,
  decimalToCanonical,
  multiplyDecimals,
  parseDecimal,
} from "../../../subgraph/runner/wasm/big-decimal.js";
import { type EthValue, type EventInput, ethValueFromAbi } from "../../../subgraph/runner/wasm/ethereum-event.js";
import type { MappingLogger } from "../../../subgraph/runner/wasm/host-imports.js";
import { MappingHandlerError, MappingModule } from "../../../subgraph/runner/wasm/mapping-module.js";

const ROOT = path.join(import.meta.dirname, "..", "..", "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "subgraph-host");
const DATA_SOURCE = { name: "Fixture", address: "0x00000000000000000000000000000000000000f1", network: "mainnet" };
const abi = JSON.parse(readFileSync(path.join(FIXTURE, "abis", "Fixture.json"), "utf8")) as InterfaceAbi;
const iface = new Interface(abi);

const hex = (byte: string, length: number) => "0x" + byte.repeat(length);
const TX_HASH = hex("44", 32);

/** A MappingStore over a Map, keeping exactly what the host hands it. */
class MemoryStore implements MappingStore {
  readonly entities = new Map<string, Entity>();
  get(type: string, id: string): Entity | null {
    return this.entities.get(`${type}/${id}`) ?? null;
  }
  set(type: string, id: string, entity: Entity): void {
    this.entities.set(`${type}/${id}`, entity);
  }
  remove(type: string, id: string): void {
    this.entities.delete(`${type}/${id}`);
  }
  entity(type: string, id: string): Record<string, StoreValue> {
    const entity = this.get(type, id);
    if (entity === null) throw new Error(`no ${type} ${id}`);
    return Object.fromEntries(entity);
  }
}

interface LogLine {
  level: keyof MappingLogger;
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(lines: LogLine[]): MappingLogger {
  const at = (level: keyof MappingLogger) => (obj: Record<string, unknown>, msg: string) =>
    lines.push({ level, obj, msg });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A trigger in block 12345678 (or `block`), log index 7. */
function trigger(params: EventInput["params"], block = { number: 12345678n, hash: hex("11", 32) }): EventInput {
  return {
    address: DATA_SOURCE.address,
    logIndex: 7n,
    transactionLogIndex: 2n,
    logType: null,
    block: {
      hash: block.hash,
      parentHash: hex("22", 32),
      number: block.number,
      timestamp: 1700000000n,
      gasUsed: 21000n,
      gasLimit: 30000000n,
      author: hex("33", 20),
      baseFeePerGas: 7n,
      stateRoot: hex("66", 32),
    },
    transaction: {
      hash: TX_HASH,
      index: 2n,
      from: hex("55", 20),
      to: null,
      value: 10n ** 18n,
      gasLimit: 100000n,
      gasPrice: 9n,
      input: "0xdeadbeef",
      nonce: 5n,
    },
    params,
  };
}

/** Encodes `args` as a real log and decodes it the way the indexer does (ethers parseLog). */
function decodedParams(event: string, args: unknown[]): EventInput["params"] {
  const fragment = iface.getEvent(event);
  if (fragment === null) throw new Error(`no event ${event}`);
  const log = iface.parseLog(iface.encodeEventLog(fragment, args));
  if (log === null) throw new Error(`cannot parse ${event}`);
  return log.fragment.inputs.map((input, i) => ({ name: input.name, value: ethValueFromAbi(input, log.args[i]) }));
}

const str = (value: string): StoreValue => ({ kind: "String", value });
const big = (value: bigint): StoreValue => ({ kind: "BigInt", value });
const bytes = (value: string): StoreValue => ({ kind: "Bytes", value });
const int = (value: number): StoreValue => ({ kind: "Int", value });
const bool = (value: boolean): StoreValue => ({ kind: "Bool", value });
const array = (value: StoreValue[]): StoreValue => ({ kind: "Array", value });
const NULL: StoreValue = { kind: "Null" };

describe("subgraph WASM host", function () {
  let buildDir: string;
  let store: MemoryStore;
  let logs: LogLine[];
  let mapping: MappingModule;

  before(async function () {
    this.timeout(120_000);
    buildDir = mkdtempSync(path.join(tmpdir(), "meshgate-subgraph-host-"));
    cpSync(FIXTURE, buildDir, { recursive: true });
    // graph-cli finds graph-ts through a node_modules directory above the manifest.
    symlinkSync(path.join(ROOT, "node_modules"), path.join(buildDir, "node_modules"), "dir");
    const graph = path.join(ROOT, "node_modules", ".bin", "graph");
    for (const args of [
      ["codegen", "subgraph.yaml", "--output-dir", "generated"],
      ["build", "subgraph.yaml", "--output-dir", "build"],
    ]) {
      try {
        execFileSync(graph, args, { cwd: buildDir, stdio: "pipe" });
      } catch (error) {
        const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`graph ${args[0]} failed:\n${stdout?.toString() ?? ""}${stderr?.toString() ?? ""}`, {
          cause: error,
        });
      }
    }
  });

  after(function () {
    rmSync(buildDir, { recursive: true, force: true });
  });

  beforeEach(async function () {
    store = new MemoryStore();
    logs = [];
    mapping = await MappingModule.load(path.join(buildDir, "build", "Fixture", "Fixture.wasm"), {
      logger: recordingLogger(logs),
      dataSource: DATA_SOURCE,
    });
  });

  it("passes every event parameter kind and the block/transaction fields to the mapping", function () {
    const who = hex("12", 20);
    const pair = [hex("aa", 20), "0x" + "0".repeat(39) + "1"];
    const params = decodedParams("Everything", [
      who,
      hex("ab", 32),
      "0x626262",
      -(2n ** 255n),
      2n ** 256n - 1n,
      true,
      "h\u00e9llo\u0000\u0000",
      [0n, 1n, 2n ** 200n],
      pair,
      [42n, "", "0x"],
      [
        [-128n, [true, false]],
        [127n, []],
      ],
      "topic",
    ]);
    expect(params.map((p) => p.value.kind)).to.deep.equal([
      "address",
      "fixedBytes",
      "bytes",
      "int",
      "uint",
      "bool",
      "string",
      "array",
      "fixedArray",
      "tuple",
      "array",
      "fixedBytes", // an indexed string is only its topic hash
    ]);

    mapping.handle("handleEverything", trigger(params), store);

    const id = TX_HASH + "07000000"; // transaction hash ++ little-endian i32 log index
    expect(store.entity("EventRecord", id)).to.deep.equal({
      id: bytes(id),
      address: bytes(DATA_SOURCE.address),
      logIndex: big(7n),
      transactionLogIndex: big(2n),
      logType: NULL,
      who: bytes(who),
      fixedData: bytes(hex("ab", 32)),
      data: bytes("0x626262"),
      signedValue: big(-(2n ** 255n)),
      unsignedValue: big(2n ** 256n - 1n),
      flag: bool(true),
      text: str("h\u00e9llo\u0000\u0000"),
      numbers: array([big(0n), big(1n), big(2n ** 200n)]),
      pair: array(pair.map(bytes)),
      infoA: big(42n),
      infoB: str(""),
      infoC: bytes("0x"),
      nestedX: array([int(-128), int(127)]),
      nestedYs: array([bool(true), bool(false)]),
      label: bytes(keccak256(toUtf8Bytes("topic"))),
      blockHash: bytes(hex("11", 32)),
      parentHash: bytes(hex("22", 32)),
      unclesHash: bytes(hex("00", 32)),
      author: bytes(hex("33", 20)),
      stateRoot: bytes(hex("66", 32)),
      number: big(12345678n),
      gasUsed: big(21000n),
      gasLimit: big(30000000n),
      timestamp: big(1700000000n),
      difficulty: big(0n),
      totalDifficulty: big(0n),
      size: NULL,
      baseFeePerGas: big(7n),
      txHash: bytes(TX_HASH),
      txIndex: big(2n),
      from: bytes(hex("55", 20)),
      to: NULL,
      value: big(10n ** 18n),
      txGasLimit: big(100000n),
      gasPrice: big(9n),
      input: bytes("0xdeadbeef"),
      nonce: big(5n),
      dataSourceAddress: bytes(DATA_SOURCE.address),
      dataSourceNetwork: str("mainnet"),
      addressFromString: bytes("0x00000000000000000000000000000000000000ab"),
      base58: str("a3gV"), // Bitcoin's base58 test vector for 0x626262
      bytesAsString: str("h\u00e9llo"), // trailing NULs trimmed, as graph-node does
      keccak: bytes(keccak256("0x626262")),
      moduleCalls: int(1),
    });
    expect(logs).to.deep.include({
      level: "info",
      obj: { component: "UserMapping" },
      msg: `everything h\u00e9llo\u0000\u0000 ${-(2n ** 255n)}`,
    });
  });

  describe("BigInt host functions", function () {
    function arith(a: bigint, b: bigint, e: bigint): Record<string, StoreValue> {
      const params: Array<{ name: string; value: EthValue }> = [
        { name: "a", value: { kind: "int", value: a } },
        { name: "b", value: { kind: "int", value: b } },
        { name: "e", value: { kind: "uint", value: e } },
      ];
      mapping.handle("handleArith", trigger(params), store);
      return store.entity("Arith", `${a}/${b}`);
    }

    it("computes with negative numbers like num-bigint (truncating division, floor shift)", function () {
      expect(arith(-7n, 2n, 3n)).to.deep.equal({
        id: str("-7/2"),
        a: big(-7n),
        b: big(2n),
        plus: big(-5n),
        minus: big(-9n),
        times: big(-14n),
        div: big(-3n),
        mod: big(-1n),
        pow: big(-343n),
        shl: big(-56n),
        shr: big(-1n),
        bitOr: big(-5n),
        bitAnd: big(0n),
        parsed: big(-7000n),
        aString: str("-7"),
        aHex: str("0x7"), // graph-node prints the magnitude only
        aBytesHex: str("0xf9"), // -7 as one two's complement byte
        aI32: int(-7),
        isZero: bool(false),
        decSum: { kind: "BigDecimal", value: "-6.75" },
        decProduct: { kind: "BigDecimal", value: "10.5" },
        decString: str("10.5"),
        decEqual: bool(true),
      });
    });

    it("handles zero (one 0x00 byte, 0^0 = 1)", function () {
      expect(arith(0n, 5n, 0n)).to.deep.equal({
        id: str("0/5"),
        a: big(0n),
        b: big(5n),
        plus: big(5n),
        minus: big(-5n),
        times: big(0n),
        div: big(0n),
        mod: big(0n),
        pow: big(1n),
        shl: big(0n),
        shr: big(0n),
        bitOr: big(5n),
        bitAnd: big(0n),
        parsed: big(0n),
        aString: str("0"),
        aHex: str("0x0"),
        aBytesHex: str("0x00"),
        aI32: int(0),
        isZero: bool(true),
        decSum: { kind: "BigDecimal", value: "0.25" },
        decProduct: { kind: "BigDecimal", value: "0" },
        decString: str("0"),
        decEqual: bool(true),
      });
    });

    it("handles 256-bit values", function () {
      const a = 2n ** 255n - 1n; // int256 max
      const b = -(2n ** 128n);
      const entity = arith(a, b, 2n);
      expect(entity).to.deep.include({
        plus: big(2n ** 255n - 1n - 2n ** 128n),
        minus: big(2n ** 255n - 1n + 2n ** 128n),
        times: big(-(2n ** 383n) + 2n ** 128n),
        div: big(-(2n ** 127n - 1n)),
        mod: big(2n ** 128n - 1n),
        pow: big(2n ** 510n - 2n ** 256n + 1n),
        shl: big(2n ** 257n - 4n),
        shr: big(2n ** 253n - 1n),
        bitOr: big(-1n),
        bitAnd: big(2n ** 255n - 2n ** 128n),
        parsed: big(a * 1000n),
        aString: str("57896044618658097711785492504343953926634992332820282019728792003956564819967"),
        aHex: str("0x7" + "f".repeat(63)),
        aBytesHex: str("0x" + "ff".repeat(31) + "7f"),
        aI32: int(0),
      });
    });

    it("fails the handler on division by zero, naming handler, data source, block and log index", function () {
      let error: unknown;
      try {
        arith(5n, 0n, 1n);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(MappingHandlerError);
      const failure = error as MappingHandlerError;
      expect(failure.message).to.equal(
        "handler handleArith of data source Fixture failed at block 12345678, log index 7: " +
          "attempted to divide BigInt `5` by zero",
      );
      expect([failure.handler, failure.dataSource, failure.blockNumber, failure.logIndex]).to.deep.equal([
        "handleArith",
        "Fixture",
        12345678n,
        7n,
      ]);
      // The next trigger starts from a clean instance.
      expect(arith(1n, 1n, 1n)).to.deep.include({ div: big(1n) });
    });
  });

  it("round-trips every store value kind through store.set and store.get", function () {
    mapping.handle("handleKitchen", trigger([{ name: "id", value: { kind: "string", value: "k1" } }]), store);
    const expected = {
      id: str("k1"),
      str: str("h\u00e9llo \u2713 \u{1d11e}"),
      int: int(-2147483648),
      int8: { kind: "Int8", value: -(2n ** 63n) },
      big: big(-(2n ** 256n - 1n)),
      bytes: bytes("0x"),
      flag: bool(true),
      ts: { kind: "Timestamp", value: 1700000000123456n },
      dec: { kind: "BigDecimal", value: "-123.45" },
      strs: array([str("a"), str(""), str("\u00fc")]),
      ints: array([int(0), int(-1), int(2147483647)]),
      bigs: array([big(0n), big(-1n), big(2n ** 255n)]),
      bytesList: array([bytes("0x"), bytes("0x00ff")]),
      bools: array([bool(true), bool(false)]),
      maybe: NULL,
      maybeBig: big(1n),
    };
    expect(store.entity("Kitchen", "k1")).to.deep.equal(expected);
    // Loaded through store.get, re-saved under another id by the mapping.
    expect(store.entity("Kitchen", "k1-copy")).to.deep.equal({ ...expected, id: str("k1-copy") });
  });

  it("removes entities and scopes store.get_in_block to the block's writes", function () {
    const block1 = { number: 1n, hash: hex("a1", 32) };
    const block2 = { number: 2n, hash: hex("a2", 32) };
    const kitchen = (id: string, block: typeof block1) =>
      mapping.handle("handleKitchen", trigger([{ name: "id", value: { kind: "string", value: id } }], block), store);
    const remove = (id: string, block: typeof block1) =>
      mapping.handle("handleRemove", trigger([{ name: "id", value: { kind: "string", value: id } }], block), store);

    kitchen("k1", block1);
    kitchen("k2", block1);
    remove("k1", block1);
    remove("k2", block2);
    remove("k3", block2);

    expect(store.entity("Removal", "k1")).to.deep.include({ presentBefore: bool(true), presentInBlock: bool(true) });
    expect(store.entity("Removal", "k2")).to.deep.include({ presentBefore: bool(true), presentInBlock: bool(false) });
    expect(store.entity("Removal", "k3")).to.deep.include({ presentBefore: bool(false), presentInBlock: bool(false) });
    for (const id of ["k1", "k2", "k3"]) {
      expect(store.entity("Removal", id)).to.deep.include({ presentAfter: bool(false) });
      expect(store.get("Kitchen", id)).to.equal(null);
    }
    expect(store.get("Kitchen", "k1-copy")).to.not.equal(null);
  });

  it("writes to the store passed for the call and keeps no state between calls", function () {
    const count = (amount: bigint, target: MappingStore = store) =>
      mapping.handle(
        "handleCount",
        trigger([
          { name: "id", value: { kind: "string", value: "c" } },
          { name: "amount", value: { kind: "uint", value: amount } },
        ]),
        target,
      );
    const other = new MemoryStore();
    count(5n);
    count(6n);
    count(100n, other);
    expect(store.entity("Counter", "c")).to.deep.include({ total: big(11n), count: int(2) });
    expect(other.entity("Counter", "c")).to.deep.include({ total: big(100n), count: int(1) });

    // Module-level variables are reset for every trigger, as in graph-node's fresh instances.
    mapping.handle("handleKitchen", trigger([{ name: "id", value: { kind: "string", value: "k" } }]), store);
    mapping.handle("handleKitchen", trigger([{ name: "id", value: { kind: "string", value: "k" } }]), store);
    expect(store.entity("Kitchen", "k")).to.deep.include({ maybeBig: big(1n) });
  });

  it("does not grow memory across calls, and drops a large heap by re-instantiating", function () {
    const count = (id: string) =>
      mapping.handle(
        "handleCount",
        trigger([
          { name: "id", value: { kind: "string", value: id } },
          { name: "amount", value: { kind: "uint", value: 1n } },
        ]),
        store,
      );
    count("warm-up");
    const baseline = mapping.memoryBytes;
    for (let i = 0; i < 2000; i++) count(`c${i % 10}`);
    expect(mapping.memoryBytes).to.equal(baseline);

    count("x".repeat(3_000_000)); // 6 MB as UTF-16
    expect(mapping.memoryBytes).to.be.greaterThan(4 * 1024 * 1024);
    count("c0");
    expect(mapping.memoryBytes).to.equal(baseline);
    expect(store.entity("Counter", "c0")).to.deep.include({ count: int(201) });
  });

  it("surfaces an abort with its message and location", function () {
    const params = [{ name: "reason", value: { kind: "string", value: "boom" } as EthValue }];
    expect(() => mapping.handle("handleFail", trigger(params), store))
      .to.throw(MappingHandlerError)
      .with.property("message")
      .that.matches(
        /^handler handleFail of data source Fixture failed at block 12345678, log index 7: Mapping aborted at src\/mapping\.ts, line \d+, column \d+, with message: fixture failure: boom$/,
      );
  });

  it("aborts the handler on a critical log", function () {
    const params = [{ name: "message", value: { kind: "string", value: "oops" } as EthValue }];
    expect(() => mapping.handle("handleCritical", trigger(params), store)).to.throw(
      MappingHandlerError,
      "Critical error logged in mapping: fixture critical: oops",
    );
    expect(logs).to.deep.include({
      level: "error",
      obj: { component: "UserMapping", critical: true },
      msg: "fixture critical: oops",
    });
    expect(store.get("Removal", "after-critical")).to.equal(null);
  });

  it("rejects an unknown handler name", function () {
    expect(() => mapping.handle("handleNothing", trigger([]), store)).to.throw(
      'data source Fixture has no exported handler "handleNothing"',
    );
  });

  it("refuses to load a module importing host functions it does not implement", async function () {
    const load = MappingModule.load(path.join(buildDir, "build", "Unsupported", "Unsupported.wasm"), {
      logger: recordingLogger(logs),
      dataSource: { ...DATA_SOURCE, name: "Unsupported" },
    });
    let error: unknown;
    try {
      await load;
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal(
      "mapping module imports host functions the local runner does not implement: ipfs.cat, ens.nameByHash",
    );
  });

  describe("BigDecimal (graph-node normalization)", function () {
    const canonical = (text: string) => decimalToCanonical(parseDecimal(text));

    it("strips trailing zeros and prints without exponents", function () {
      expect(parseDecimal("-123.4500")).to.deep.equal({ digits: -12345n, exp: -2n });
      expect(canonical("-123.4500")).to.equal("-123.45");
      expect(canonical("1e3")).to.equal("1000");
      expect(canonical("0.00100")).to.equal("0.001");
      expect(canonical("15e-1")).to.equal("1.5");
      expect(canonical("+.5")).to.equal("0.5");
      expect(canonical("-0.000")).to.equal("0");
      expect(decimalToCanonical(addDecimals(parseDecimal("0.1"), parseDecimal("0.2")))).to.equal("0.3");
      expect(decimalToCanonical(multiplyDecimals(parseDecimal("1.5"), parseDecimal("-2")))).to.equal("-3");
    });

    it("rejects malformed strings and values graph-node would round", function () {
      for (const text of ["", ".", "-", "1.2.3", "abc", "1e"]) {
        expect(() => parseDecimal(text), text).to.throw(`string is not a BigDecimal: '${text}'`);
      }
      expect(() => parseDecimal("1234567890123456789012345678901234.5")).to.throw("more than 34 significant digits");
    });
  });
});
