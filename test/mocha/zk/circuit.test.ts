import { expect } from "chai";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildPoseidon, type Poseidon } from "circomlibjs";
import * as snarkjs from "snarkjs";
import { ACCESS_ARTIFACTS } from "../../../sdk/zk/artifacts.js";
import { SNARK_FIELD, mod } from "../../../sdk/zk/field.js";
import { GroupTree, type MerkleProof } from "../../../sdk/zk/group-tree.js";
import { createIdentity, type Identity } from "../../../sdk/zk/identity.js";
import {
  AccessProofInputError,
  UnsatisfiedCircuitError,
  type AccessCircuitInput,
  type AccessProofRequest,
} from "../../../sdk/zk/prover.js";
import { requestHash, type AccessRequest } from "../../../sdk/zk/request.js";
import { packScope, publicSignalValues, type AccessProof, type AccessSignals } from "../../../sdk/zk/signals.js";
import { leanImtRoot, rejection, zk } from "../helpers/access.js";

const ROOT_DIR = join(import.meta.dirname, "..", "..", "..");
const API_ID = 7n;
const EPOCH = 29_000_000n;
const LIMIT = 3n;

/** Lines of circuits/access.circom's checks (checked against the source below). */
const LINE = {
  secretNonZero: 46, // secretInv * identitySecret === 1
  lengthBits: 51, // Num2Bits(5)(merkleProofLength)
  lengthMax: 53, // lengthOk === 1
  root: 58, // root === computedRoot
  apiIdBits: 62,
  epochBits: 63,
  limitBits: 64,
  scope: 65, // scope === apiId * 2^80 + epoch * 2^16 + userMessageLimit
  indexBits: 68,
  indexBelowLimit: 70, // indexOk === 1
} as const;

const REQUEST: AccessRequest = {
  chainId: 31337n,
  node: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  method: "GET",
  target: "/7/v1/weather?city=Paris",
  body: new Uint8Array(),
};
const X = requestHash(REQUEST);
const OTHER_X = requestHash({ ...REQUEST, target: "/7/v1/weather?city=London" });

const vk = JSON.parse(readFileSync(ACCESS_ARTIFACTS.verificationKey, "utf8")) as Record<string, unknown>;

/** snarkjs's own verifier on the committed verification key (an independent check). */
async function snarkjsVerify(p: AccessProof): Promise<boolean> {
  return snarkjs.groth16.verify(vk, publicSignalValues(p.signals).map(String), p.proof);
}

/** Both verifiers' verdict; they must agree. */
async function verdict(p: AccessProof): Promise<boolean> {
  const { verifier } = await zk();
  const ours = verifier.verify(p);
  expect(await snarkjsVerify(p), "snarkjs.groth16.verify disagrees with AccessProofVerifier").to.equal(ours);
  return ours;
}

/** The circuit's raw inputs for `identity` with membership proof `mp` (valid unless overridden). */
function rawInput(
  identity: Pick<Identity, "secret">,
  mp: MerkleProof,
  o: { apiId?: bigint; epoch?: bigint; limit?: bigint; messageIndex?: bigint; x?: bigint } = {},
): AccessCircuitInput {
  const apiId = o.apiId ?? API_ID;
  const epoch = o.epoch ?? EPOCH;
  const limit = o.limit ?? LIMIT;
  return {
    identitySecret: identity.secret,
    messageIndex: o.messageIndex ?? 0n,
    merkleProofLength: BigInt(mp.length),
    merkleProofIndex: BigInt(mp.index),
    merkleProofSiblings: mp.siblings,
    apiId,
    epoch,
    userMessageLimit: limit,
    root: mp.root,
    scope: packScope(apiId, epoch, limit),
    x: o.x ?? X,
  };
}

function request(identity: Identity, mp: MerkleProof, o: Partial<AccessProofRequest> = {}): AccessProofRequest {
  return {
    identity,
    merkleProof: mp,
    apiId: API_ID,
    epoch: EPOCH,
    userMessageLimit: LIMIT,
    messageIndex: 0n,
    x: X,
    ...o,
  };
}

/** Runs `fn` with console.log/error muted (the witness calculator prints every failed assert). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, error } = console;
  console.log = console.error = () => {};
  try {
    return await fn();
  } finally {
    Object.assign(console, { log, error });
  }
}

describe("zk/access circuit", function () {
  let poseidon: Poseidon;
  /** circomlibjs's Poseidon (independent of poseidon-lite, which the SDK uses). */
  const h = (...xs: bigint[]): bigint => poseidon.F.toObject(poseidon(xs));

  /** What the public signals must be, recomputed with circomlibjs. */
  function expectedSignals(secret: bigint, root: bigint, o: Partial<AccessSignals> & { messageIndex?: bigint } = {}) {
    const apiId = o.apiId ?? API_ID;
    const epoch = o.epoch ?? EPOCH;
    const x = o.x ?? X;
    const a1 = h(secret, h(apiId, epoch), o.messageIndex ?? 0n);
    return { y: mod(secret + a1 * x), nullifier: h(a1), root, apiId, epoch, userMessageLimit: LIMIT, x };
  }

  // Six members, the second one removed (its leaf is 0): depth 3, with a path that skips a level.
  const members = Array.from({ length: 6 }, () => createIdentity());
  const tree = new GroupTree();
  for (const m of members) tree.insert(m.commitment);
  tree.remove((members[1] as Identity).commitment);
  const leaves = members.map((m, i) => (i === 1 ? 0n : m.commitment));
  const member = members[2] as Identity;

  /** A valid proof, every other test in this file mutates a copy of it. */
  let base: AccessProof;

  before(async function () {
    this.timeout(60_000);
    poseidon = await buildPoseidon();
    base = await (await zk()).prover.proveInput(rawInput(member, tree.proof(member.commitment)));
  });

  describe("valid proofs", () => {
    it("the SDK's trees and commitments match circomlibjs's Poseidon", () => {
      for (const m of members) expect(m.commitment).to.equal(h(m.secret));
      expect(tree.root).to.equal(leanImtRoot(leaves, h));
    });

    it("a member alone in its group (depth 0): verifies, signals as recomputed", async () => {
      const { prover } = await zk();
      const alone = createIdentity();
      const t = new GroupTree();
      t.insert(alone.commitment);
      const mp = t.proof(alone.commitment);
      expect(mp).to.deep.include({ root: h(alone.secret), length: 0, index: 0 });
      const p = await prover.proveInput(rawInput(alone, mp));
      expect(p.signals).to.deep.equal(expectedSignals(alone.secret, h(alone.secret)));
      expect(await verdict(p)).to.equal(true);
    });

    it("members at several leaf positions, one after a removed leaf: verify, signals as recomputed", async () => {
      const { prover } = await zk();
      expect(base.signals).to.deep.equal(expectedSignals(member.secret, leanImtRoot(leaves, h)));
      expect(await verdict(base)).to.equal(true);
      // Leaf 0 (left sibling is the removed leaf), 3, and 5 (the last: its level-1 sibling does
      // not exist, so its path is shorter than the tree depth).
      for (const i of [0, 3, 5]) {
        const m = members[i] as Identity;
        const mp = tree.proof(m.commitment);
        if (i === 5) expect(mp.length).to.equal(2);
        else expect(mp.length).to.equal(3);
        const p = await prover.prove(request(m, mp, { messageIndex: BigInt(i % 3) }));
        expect(p.signals, `leaf ${i}`).to.deep.equal(
          expectedSignals(m.secret, leanImtRoot(leaves, h), { messageIndex: BigInt(i % 3) }),
        );
        expect(await verdict(p), `leaf ${i}`).to.equal(true);
      }
    });
  });

  describe("unsatisfiable inputs: no witness", () => {
    const valid = () => rawInput(member, tree.proof(member.commitment));

    /**
     * Witness generation fails at the `===` of access.circom's line `line` (the witness
     * calculator names the failing template line; circom_runtime appends each failure to the
     * messages of the previous ones, so the last Access line is this call's).
     */
    async function expectUnsatisfied(what: string, input: AccessCircuitInput, line: number) {
      const { prover } = await zk();
      const err = await quietly(() => rejection(prover.proveInput(input)));
      expect(err, what).to.be.instanceOf(UnsatisfiedCircuitError);
      expect(err, what).to.include({ code: "CIRCUIT_UNSATISFIED" });
      const lines = [...err.message.matchAll(/Error in template Access_\d+ line: (\d+)/g)].map((m) => Number(m[1]));
      expect(lines.at(-1), `${what}: failing line of access.circom`).to.equal(line);
    }

    it("wrong root, wrong leaf position, non-member", async () => {
      await expectUnsatisfied("root + 1", { ...valid(), root: tree.root + 1n }, LINE.root);
      await expectUnsatisfied("root 0", { ...valid(), root: 0n }, LINE.root);
      const mp = tree.proof(member.commitment);
      await expectUnsatisfied(
        "index of another leaf",
        { ...valid(), merkleProofIndex: BigInt(mp.index ^ 1) },
        LINE.root,
      );
      await expectUnsatisfied(
        "a real sibling dropped",
        { ...valid(), merkleProofLength: BigInt(mp.length - 1) },
        LINE.root,
      );
      // A stranger's secret with a member's path (and the group's real root).
      await expectUnsatisfied("non-member", rawInput(createIdentity(), mp), LINE.root);
      // A removed member: its old path now leads to another root.
      const removed = members[1] as Identity;
      const old = new GroupTree();
      for (const m of members) old.insert(m.commitment);
      await expectUnsatisfied(
        "removed member",
        { ...rawInput(removed, old.proof(removed.commitment)), root: tree.root },
        LINE.root,
      );
    });

    it("messageIndex at or above the limit", async () => {
      const mp = tree.proof(member.commitment);
      await expectUnsatisfied("index == limit", rawInput(member, mp, { messageIndex: LIMIT }), LINE.indexBelowLimit);
      await expectUnsatisfied(
        "index > limit",
        rawInput(member, mp, { messageIndex: LIMIT + 1n }),
        LINE.indexBelowLimit,
      );
      await expectUnsatisfied("index 2^16 (range)", rawInput(member, mp, { messageIndex: 1n << 16n }), LINE.indexBits);
      await expectUnsatisfied(
        "index -1 (r - 1)",
        rawInput(member, mp, { messageIndex: SNARK_FIELD - 1n }),
        LINE.indexBits,
      );
      await expectUnsatisfied("limit 0", rawInput(member, mp, { limit: 0n }), LINE.indexBelowLimit);
    });

    it("zero secret, even in a group whose leaf is Poseidon(0)", async () => {
      const zeroCommitment = h(0n);
      const t = new GroupTree();
      t.insert((members[0] as Identity).commitment);
      t.insert(zeroCommitment);
      // Everything but the secret check holds: root and path are those of the leaf Poseidon(0).
      await expectUnsatisfied("secret 0", rawInput({ secret: 0n }, t.proof(zeroCommitment)), LINE.secretNonZero);
    });

    it("scope that does not pack apiId, epoch and limit", async () => {
      const v = valid();
      await expectUnsatisfied("scope + 1", { ...v, scope: (v.scope as bigint) + 1n }, LINE.scope);
      await expectUnsatisfied("other apiId", { ...v, scope: packScope(API_ID + 1n, EPOCH, LIMIT) }, LINE.scope);
      await expectUnsatisfied("other epoch", { ...v, scope: packScope(API_ID, EPOCH + 1n, LIMIT) }, LINE.scope);
      await expectUnsatisfied("other limit", { ...v, scope: packScope(API_ID, EPOCH, LIMIT + 1n) }, LINE.scope);
      // Parts out of their bit ranges, with a scope packed (mod r) from them: the range checks
      // stop a part from overflowing into its neighbour.
      const packed = (apiId: bigint, epoch: bigint, limit: bigint) => mod((apiId << 80n) + (epoch << 16n) + limit);
      const outOfRange: [string, bigint, bigint, bigint, number][] = [
        ["apiId 2^170", 1n << 170n, EPOCH, LIMIT, LINE.apiIdBits],
        ["epoch 2^64", API_ID, 1n << 64n, LIMIT, LINE.epochBits],
        ["limit 2^16 (index 0)", API_ID, EPOCH, 1n << 16n, LINE.limitBits],
        ["epoch -1", API_ID, SNARK_FIELD - 1n, LIMIT, LINE.epochBits],
      ];
      for (const [what, apiId, epoch, limit, line] of outOfRange) {
        const scope = packed(apiId, epoch, limit);
        await expectUnsatisfied(what, { ...v, apiId, epoch, userMessageLimit: limit, scope }, line);
      }
    });

    it("merkleProofLength above MAX_DEPTH (where BinaryMerkleRoot gives root 0)", async () => {
      // With a length of 21 the library's root is 0, so root 0 satisfies everything but the
      // length bound: that bound alone must reject it.
      await expectUnsatisfied("length 21, root 0", { ...valid(), merkleProofLength: 21n, root: 0n }, LINE.lengthMax);
      await expectUnsatisfied("length 32, root 0", { ...valid(), merkleProofLength: 32n, root: 0n }, LINE.lengthBits);
    });

    it("the prover still works after rejected inputs", async () => {
      const { prover } = await zk();
      await expectUnsatisfied("root + 1", { ...valid(), root: tree.root + 1n }, LINE.root);
      const p = await prover.proveInput(valid());
      expect(p.signals).to.deep.equal(base.signals);
      expect(await verdict(p)).to.equal(true);
    });
  });

  describe("public signals are bound to the proof", () => {
    it("changing any one public signal makes the proof invalid", async () => {
      expect(await verdict(base)).to.equal(true);
      const s = base.signals;
      const tampered: [string, AccessSignals][] = [
        ["y", { ...s, y: mod(s.y + 1n) }],
        ["nullifier", { ...s, nullifier: mod(s.nullifier + 1n) }],
        ["root", { ...s, root: mod(s.root + 1n) }],
        ["apiId", { ...s, apiId: s.apiId + 1n }],
        ["epoch", { ...s, epoch: s.epoch + 1n }],
        ["previous epoch", { ...s, epoch: s.epoch - 1n }],
        ["userMessageLimit", { ...s, userMessageLimit: s.userMessageLimit + 1n }],
        ["x", { ...s, x: mod(s.x + 1n) }],
        ["another request's hash", { ...s, x: OTHER_X }],
        ["x + r (same value mod r)", { ...s, x: s.x + SNARK_FIELD }],
      ];
      for (const [what, signals] of tampered) {
        expect(await verdict({ proof: base.proof, signals }), what).to.equal(false);
      }
    });

    it("nullifiers: one per (identity, apiId, epoch, messageIndex), independent of x", async () => {
      const { prover } = await zk();
      const mp = tree.proof(member.commitment);
      const variants: [string, Partial<AccessProofRequest>][] = [
        ["messageIndex 1", { messageIndex: 1n }],
        ["next epoch", { epoch: EPOCH + 1n }],
        ["other API", { apiId: API_ID + 1n }],
      ];
      const nullifiers = [base.signals.nullifier];
      for (const [what, o] of variants) {
        const p = await prover.prove(request(member, mp, o));
        expect(await verdict(p), what).to.equal(true);
        expect(p.signals.nullifier, what).to.equal(expectedSignals(member.secret, tree.root, o).nullifier);
        nullifiers.push(p.signals.nullifier);
      }
      expect(new Set(nullifiers).size).to.equal(nullifiers.length);

      // The same call slot for another request: same nullifier, another share.
      const other = await prover.prove(request(member, mp, { x: OTHER_X }));
      expect(await verdict(other)).to.equal(true);
      expect(other.signals.nullifier).to.equal(base.signals.nullifier);
      expect(other.signals.y).to.not.equal(base.signals.y);
      // Neither proof verifies with the other's share or request.
      expect(await verdict({ proof: other.proof, signals: base.signals })).to.equal(false);
      expect(await verdict({ proof: base.proof, signals: other.signals })).to.equal(false);
    });
  });

  describe("prove() checks its request", () => {
    async function expectInputError(what: string, o: Partial<AccessProofRequest>, code: AccessProofInputError["code"]) {
      const { prover } = await zk();
      const err = await rejection(prover.prove(request(member, tree.proof(member.commitment), o)));
      expect(err, what).to.be.instanceOf(AccessProofInputError);
      expect(err, what).to.include({ code });
    }

    it("rejects out-of-range inputs with their codes, before proving", async () => {
      await expectInputError("index == limit", { messageIndex: LIMIT }, "MESSAGE_INDEX_OUT_OF_RANGE");
      await expectInputError("index > limit", { messageIndex: LIMIT + 5n }, "MESSAGE_INDEX_OUT_OF_RANGE");
      await expectInputError("index -1", { messageIndex: -1n }, "MESSAGE_INDEX_OUT_OF_RANGE");
      await expectInputError("limit 0", { userMessageLimit: 0n }, "LIMIT_OUT_OF_RANGE");
      await expectInputError("limit 2^16", { userMessageLimit: 1n << 16n }, "LIMIT_OUT_OF_RANGE");
      await expectInputError("x = r", { x: SNARK_FIELD }, "NOT_A_FIELD_ELEMENT");
      await expectInputError("x < 0", { x: -1n }, "NOT_A_FIELD_ELEMENT");
      await expectInputError("apiId 2^170", { apiId: 1n << 170n }, "SCOPE_OUT_OF_RANGE");
      await expectInputError("epoch 2^64", { epoch: 1n << 64n }, "SCOPE_OUT_OF_RANGE");
      await expectInputError("apiId < 0", { apiId: -1n }, "SCOPE_OUT_OF_RANGE");
    });

    it("accepts the extremes of every range", async () => {
      // Checked through the witness only (no proof): the largest limit, index, apiId and epoch.
      const { prover } = await zk();
      const mp = tree.proof(member.commitment);
      const max = { apiId: (1n << 170n) - 1n, epoch: (1n << 64n) - 1n, limit: (1n << 16n) - 1n };
      const input = rawInput(member, mp, { ...max, messageIndex: max.limit - 1n, x: SNARK_FIELD - 1n });
      // proveInput rejects unsatisfiable inputs before proving; use a bad root as a control.
      expect(await quietly(() => rejection(prover.proveInput({ ...input, root: 1n })))).to.be.instanceOf(
        UnsatisfiedCircuitError,
      );
      expect((await prover.proveInput(input)).signals).to.deep.include({
        apiId: max.apiId,
        epoch: max.epoch,
        userMessageLimit: max.limit,
      });
    });
  });

  describe("committed artifacts", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT_DIR, "circuits/artifacts/MANIFEST.json"), "utf8")) as {
      publicSignals: string[];
      tools: Record<string, string>;
      sources: Record<string, string>;
      files: Record<string, string>;
    };
    const sha256 = (path: string) =>
      createHash("sha256")
        .update(readFileSync(join(ROOT_DIR, path)))
        .digest("hex");

    it("access.circom has its checks on the lines these tests expect", () => {
      const source = readFileSync(join(ROOT_DIR, "circuits/access.circom"), "utf8").split("\n");
      const at = (line: number) => source[line - 1] ?? "";
      expect(at(LINE.secretNonZero)).to.include("secretInv * identitySecret === 1");
      expect(at(LINE.lengthBits)).to.include("Num2Bits(5)(merkleProofLength)");
      expect(at(LINE.lengthMax)).to.include("lengthOk === 1");
      expect(at(LINE.root)).to.include("root === computedRoot");
      expect(at(LINE.apiIdBits)).to.include("Num2Bits(API_BITS)(apiId)");
      expect(at(LINE.epochBits)).to.include("Num2Bits(EPOCH_BITS)(epoch)");
      expect(at(LINE.limitBits)).to.include("Num2Bits(LIMIT_BITS)(userMessageLimit)");
      expect(at(LINE.scope)).to.match(/^\s*scope === apiId/);
      expect(at(LINE.indexBits)).to.include("Num2Bits(LIMIT_BITS)(messageIndex)");
      expect(at(LINE.indexBelowLimit)).to.include("indexOk === 1");
    });

    it("are the files MANIFEST.json lists (sha256), built from the committed circuit", () => {
      const listed = Object.keys(manifest.files).sort();
      const committed = readdirSync(join(ROOT_DIR, "circuits/artifacts"))
        .filter((name) => name !== "MANIFEST.json")
        .map((name) => `circuits/artifacts/${name}`);
      expect(listed).to.deep.equal([...committed, "contracts/access/AccessVerifierGroth16.sol"].sort());
      for (const [path, hash] of Object.entries(manifest.files)) expect(sha256(path), path).to.equal(hash);
      expect(sha256("circuits/access.circom")).to.equal(manifest.sources["access.circom"]);
    });

    it("match the installed tool versions and the SDK's public signal layout", () => {
      for (const [pkg, version] of Object.entries(manifest.tools)) {
        const installed = JSON.parse(readFileSync(join(ROOT_DIR, "node_modules", pkg, "package.json"), "utf8")) as {
          version: string;
        };
        expect(installed.version, pkg).to.equal(version);
      }
      expect(manifest.publicSignals).to.deep.equal(["y", "nullifier", "root", "scope", "x"]);
      expect(vk).to.include({ protocol: "groth16", curve: "bn128", nPublic: 5 });
    });
  });
});
