import { expect } from "chai";
import { readFileSync } from "node:fs";
import { buildPoseidon, type Poseidon } from "circomlibjs";
import * as snarkjs from "snarkjs";
import fc from "fast-check";
import { LeanIMT } from "@zk-kit/lean-imt";
import { poseidon2 } from "poseidon-lite";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ACCESS_ARTIFACTS } from "../../../sdk/zk/artifacts.js";
import { SNARK_FIELD, mod } from "../../../sdk/zk/field.js";
import { GroupSync, GroupSyncError } from "../../../sdk/zk/group-sync.js";
import { GroupTree, MAX_DEPTH, NotAMemberError } from "../../../sdk/zk/group-tree.js";
import { createIdentity, identityFromSecret, InvalidSecretError, type Identity } from "../../../sdk/zk/identity.js";
import type { AccessProofRequest } from "../../../sdk/zk/prover.js";
import { requestHash, type AccessRequest } from "../../../sdk/zk/request.js";
import { recoverSecret, ShareRecoveryError } from "../../../sdk/zk/shares.js";
import {
  packScope,
  publicSignalValues,
  ScopeRangeError,
  signalsFromPublic,
  toSolidityProof,
  type AccessProof,
} from "../../../sdk/zk/signals.js";
import { slashDigest } from "../../../sdk/zk/slashing.js";
import { AccessVerifierGroth16__factory, type AccessGroups } from "../../../types/ethers-contracts/index.js";
import { accessFixture, groupSettings, leanImtRoot, rejection, zk, type AccessFixture } from "../helpers/access.js";
import { apiInput, connection, networkHelpers } from "../helpers/fixture.js";

/** The BN254 base field (curve point coordinates live in it). */
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

const vk = JSON.parse(readFileSync(ACCESS_ARTIFACTS.verificationKey, "utf8")) as Record<string, unknown>;

/** A request for the proofs below (their x). */
const REQUEST: AccessRequest = {
  chainId: 31337n,
  node: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  method: "GET",
  target: "/1/a",
  body: new Uint8Array(),
};

/** The error `fn` throws, or a promise's rejection (fails the test if there is none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  expect.fail("expected an error");
}

describe("sdk/zk", function () {
  let poseidon: Poseidon;
  /** circomlibjs's Poseidon: an implementation independent of poseidon-lite (the SDK's). */
  const h = (...xs: bigint[]): bigint => poseidon.F.toObject(poseidon(xs));

  before(async function () {
    this.timeout(60_000);
    poseidon = await buildPoseidon();
  });

  describe("identity", () => {
    it("createIdentity: distinct secrets in [1, r), commitment Poseidon(secret)", () => {
      const ids = Array.from({ length: 16 }, () => createIdentity());
      expect(new Set(ids.map((i) => i.secret)).size).to.equal(ids.length);
      for (const id of ids) {
        expect(id.secret > 0n && id.secret < SNARK_FIELD).to.equal(true);
        expect(id.commitment).to.equal(h(id.secret));
        expect(identityFromSecret(id.secret)).to.deep.equal(id);
      }
    });

    it("identityFromSecret: the extremes 1 and r - 1; rejects 0, r and negatives (INVALID_SECRET)", () => {
      expect(identityFromSecret(1n).commitment).to.equal(h(1n));
      expect(identityFromSecret(SNARK_FIELD - 1n).commitment).to.equal(h(SNARK_FIELD - 1n));
      for (const bad of [0n, SNARK_FIELD, SNARK_FIELD + 1n, -1n]) {
        const err = thrown(() => identityFromSecret(bad));
        expect(err, `${bad}`).to.be.instanceOf(InvalidSecretError);
        expect(err, `${bad}`).to.include({ code: "INVALID_SECRET" });
      }
    });
  });

  describe("requestHash", () => {
    const base: AccessRequest = {
      chainId: 31337n,
      node: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      method: "POST",
      target: "/1/v1/weather?units=metric",
      body: toUtf8Bytes('{"city":"Paris","days":3}'),
    };

    it("matches the documented encoding (fixed test vector)", () => {
      // x = uint256(keccak256(abi.encode(keccak256("meshgate.access.request.v1"), chainId, node,
      //       METHOD, target, keccak256(body)))) mod r
      const encoded = AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "uint256", "address", "string", "string", "bytes32"],
        [
          keccak256(toUtf8Bytes("meshgate.access.request.v1")),
          31337n,
          "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
          "POST",
          "/1/v1/weather?units=metric",
          keccak256(toUtf8Bytes('{"city":"Paris","days":3}')),
        ],
      );
      const raw = BigInt(keccak256(encoded));
      expect(raw >= SNARK_FIELD, "this vector exercises the reduction mod r").to.equal(true);
      expect(requestHash(base)).to.equal(raw % SNARK_FIELD);
      expect(requestHash(base)).to.equal(679127324033797052709457928963754008811468217377317374726313076333273773745n);
    });

    it("is deterministic and changes with every part of the request", () => {
      const x = requestHash(base);
      expect(requestHash({ ...base, body: toUtf8Bytes('{"city":"Paris","days":3}') })).to.equal(x);
      const variants: [string, Partial<AccessRequest>][] = [
        ["chainId", { chainId: 1n }],
        ["node", { node: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" }],
        ["method", { method: "GET" }],
        ["path", { target: "/1/v1/forecast?units=metric" }],
        ["query", { target: "/1/v1/weather?units=imperial" }],
        ["no query", { target: "/1/v1/weather" }],
        ["body", { body: toUtf8Bytes('{"city":"Paris","days":4}') }],
        ["empty body", { body: new Uint8Array() }],
      ];
      const seen = new Set([x]);
      for (const [what, o] of variants) {
        const v = requestHash({ ...base, ...o });
        expect(seen.has(v), what).to.equal(false);
        seen.add(v);
      }
    });

    it("method is case-insensitive, the node address too; rejects a target without a leading /", () => {
      const x = requestHash(base);
      expect(requestHash({ ...base, method: "post" })).to.equal(x);
      expect(requestHash({ ...base, method: "Post" })).to.equal(x);
      expect(requestHash({ ...base, node: base.node.toLowerCase() })).to.equal(x);
      for (const target of ["1/v1/weather", "", "https://node.example/1/v1/weather", "*"]) {
        expect(
          thrown(() => requestHash({ ...base, target })),
          target,
        ).to.be.instanceOf(RangeError);
      }
    });

    it("is always a field element", () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          fc.string(),
          fc.uint8Array({ maxLength: 64 }),
          (chainId, path, body) => {
            const x = requestHash({ ...base, chainId, target: `/${path}`, body });
            return x >= 0n && x < SNARK_FIELD;
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe("proofs", () => {
    const member = createIdentity();
    const tree = new GroupTree();
    tree.insert(createIdentity().commitment);
    tree.insert(member.commitment);
    tree.insert(createIdentity().commitment);
    const req = (o: Partial<AccessProofRequest>): AccessProofRequest => ({
      identity: member,
      merkleProof: tree.proof(member.commitment),
      apiId: 1n,
      epoch: 1000n,
      userMessageLimit: 3n,
      messageIndex: 1n,
      x: 11n,
      ...o,
    });
    /** Two calls in one slot (same index and epoch) for different requests, and another slot. */
    let first: AccessProof, second: AccessProof, otherSlot: AccessProof;

    before(async function () {
      this.timeout(60_000);
      const { prover } = await zk();
      first = await prover.prove(req({ x: requestHash({ ...REQUEST, target: "/1/a" }) }));
      second = await prover.prove(req({ x: requestHash({ ...REQUEST, target: "/1/b" }) }));
      otherSlot = await prover.prove(req({ x: requestHash({ ...REQUEST, target: "/1/b" }), messageIndex: 2n }));
    });

    describe("recoverSecret", () => {
      it("recovers the secret from two real proofs of one slot for different requests", () => {
        expect(first.signals.nullifier).to.equal(second.signals.nullifier);
        expect(recoverSecret(first.signals, second.signals)).to.equal(member.secret);
        expect(recoverSecret(second.signals, first.signals)).to.equal(member.secret);
        expect(identityFromSecret(recoverSecret(first.signals, second.signals)).commitment).to.equal(member.commitment);
      });

      it("DIFFERENT_NULLIFIERS for shares of different slots, SAME_X for a replay", () => {
        const cases: [string, () => unknown, string][] = [
          ["other slot", () => recoverSecret(first.signals, otherSlot.signals), "DIFFERENT_NULLIFIERS"],
          ["same share twice", () => recoverSecret(first.signals, first.signals), "SAME_X"],
          [
            "x + r (the same field element)",
            () => recoverSecret(first.signals, { ...second.signals, x: first.signals.x + SNARK_FIELD }),
            "SAME_X",
          ],
        ];
        for (const [what, fn, code] of cases) {
          const err = thrown(fn);
          expect(err, what).to.be.instanceOf(ShareRecoveryError);
          expect(err, what).to.include({ code });
        }
      });

      it("any two points of a line y = secret + a1 * x give its secret", () => {
        const field = (min: bigint) => fc.bigInt({ min, max: SNARK_FIELD - 1n });
        fc.assert(
          fc.property(field(1n), field(0n), field(0n), field(0n), (secret, a1, x1, x2) => {
            fc.pre(x1 !== x2);
            const nullifier = 5n;
            const share = (x: bigint) => ({ x, y: mod(secret + a1 * x), nullifier });
            return recoverSecret(share(x1), share(x2)) === secret;
          }),
          { numRuns: 300 },
        );
      });
    });

    describe("AccessProofVerifier", () => {
      /** snarkjs's verdict; snarkjs throws on some malformed shapes, which counts as a rejection. */
      async function snarkjsSays(p: AccessProof): Promise<boolean> {
        try {
          return await snarkjs.groth16.verify(vk, publicSignalValues(p.signals).map(String), p.proof);
        } catch {
          return false;
        }
      }

      /** The SDK verifier returns (never throws) the expected verdict, and snarkjs agrees. */
      async function agree(what: string, p: AccessProof, expected: boolean) {
        const { verifier } = await zk();
        let ours: boolean;
        try {
          ours = verifier.verify(p);
        } catch (err) {
          expect.fail(`${what}: AccessProofVerifier threw ${(err as Error).message}`);
        }
        expect(ours, what).to.equal(expected);
        expect(await snarkjsSays(p), `${what}: snarkjs`).to.equal(expected);
      }

      /** A copy of `first` with some proof fields replaced (any shape: these are malformed on purpose). */
      const withProof = (o: Record<string, unknown>): AccessProof =>
        ({ proof: { ...first.proof, ...o }, signals: first.signals }) as AccessProof;

      it("valid proofs: both accept", async () => {
        for (const [what, p] of [
          ["first", first],
          ["second", second],
          ["other slot", otherSlot],
        ] as const) {
          await agree(what, p, true);
        }
        // The affine form of A (no z coordinate) is the same point: snarkjs accepts it as well.
        await agree("A without z", withProof({ pi_a: first.proof.pi_a.slice(0, 2) }), true);
      });

      it("tampered proofs and signals: both reject", async () => {
        const s = first.signals;
        const { pi_a, pi_c } = first.proof;
        const cases: [string, AccessProof][] = [
          ["another proof's signals", { proof: first.proof, signals: second.signals }],
          ["another slot's proof", { proof: otherSlot.proof, signals: s }],
          ["A and C swapped", withProof({ pi_a: pi_c, pi_c: pi_a })],
          ["A negated", withProof({ pi_a: [pi_a[0], String(BASE_FIELD - BigInt(pi_a[1] as string)), "1"] })],
          ["y", { ...first, signals: { ...s, y: mod(s.y + 1n) } }],
          ["nullifier", { ...first, signals: { ...s, nullifier: mod(s.nullifier + 1n) } }],
          ["root", { ...first, signals: { ...s, root: mod(s.root + 1n) } }],
          ["apiId", { ...first, signals: { ...s, apiId: s.apiId + 1n } }],
          ["epoch", { ...first, signals: { ...s, epoch: s.epoch + 1n } }],
          ["userMessageLimit", { ...first, signals: { ...s, userMessageLimit: s.userMessageLimit - 1n } }],
          ["x", { ...first, signals: { ...s, x: second.signals.x } }],
          ["y + r (not a field element)", { ...first, signals: { ...s, y: s.y + SNARK_FIELD } }],
          ["x - r (negative)", { ...first, signals: { ...s, x: s.x - SNARK_FIELD } }],
          ["apiId 2^170 (scope out of range)", { ...first, signals: { ...s, apiId: 1n << 170n } }],
        ];
        for (const [what, p] of cases) await agree(what, p, false);
      });

      it("malformed proofs: false, never an exception", async () => {
        const { pi_a, pi_b } = first.proof;
        const cases: [string, AccessProof][] = [
          ["A not on the curve", withProof({ pi_a: ["1", "3", "1"] })],
          ["A the point at infinity", withProof({ pi_a: ["0", "1", "0"] })],
          ["A non-numeric", withProof({ pi_a: ["abc", "1", "1"] })],
          ["A negative", withProof({ pi_a: ["-1", "2", "1"] })],
          ["A with z = 2", withProof({ pi_a: [pi_a[0], pi_a[1], "2"] })],
          ["A of 1 coordinate", withProof({ pi_a: [pi_a[0]] })],
          ["A empty", withProof({ pi_a: [] })],
          ["A missing", withProof({ pi_a: undefined })],
          [
            "B not on the curve",
            withProof({
              pi_b: [
                ["1", "2"],
                ["3", "4"],
                ["1", "0"],
              ],
            }),
          ],
          ["B of 1 coordinate", withProof({ pi_b: [pi_b[0]] })],
          ["B with a short coordinate", withProof({ pi_b: [[pi_b[0]?.[0]], pi_b[1], pi_b[2]] })],
          ["B flat", withProof({ pi_b: pi_a })],
          ["C garbage", withProof({ pi_c: ["0x", "1", "1"] })],
          ["C a string", withProof({ pi_c: "12" })],
          ["C null", withProof({ pi_c: null })],
        ];
        for (const [what, p] of cases) await agree(what, p, false);
      });

      // Non-canonical coordinates (value + p): ffjavascript and snarkjs reduce them and accept,
      // the ecPairing precompile (EIP-197) rejects them; the SDK must side with the chain.
      it("rejects proofs with coordinates >= p, as the on-chain verifier does", async () => {
        const f = await networkHelpers.loadFixture(accessFixture);
        const groth16 = AccessVerifierGroth16__factory.connect(await f.accessVerifier.groth16(), f.deployer);
        const { verifier } = await zk();
        const onChain = (p: AccessProof) => {
          const { a, b, c } = toSolidityProof(p.proof);
          return groth16.verifyProof(
            a,
            b,
            c,
            publicSignalValues(p.signals) as [bigint, bigint, bigint, bigint, bigint],
          );
        };
        expect(await onChain(first)).to.equal(true);
        const plusP = (v: string | undefined) => String(BigInt(v as string) + BASE_FIELD);
        const { pi_a, pi_b, pi_c } = first.proof;
        const b0 = pi_b[0] as string[];
        const cases: [string, AccessProof][] = [
          ["A.x + p", withProof({ pi_a: [plusP(pi_a[0]), pi_a[1], "1"] })],
          // The same point in Jacobian coordinates with z = 2: ffjavascript would accept it.
          [
            "A rescaled to z = 2",
            withProof({
              pi_a: [
                String((BigInt(pi_a[0] as string) * 4n) % BASE_FIELD),
                String((BigInt(pi_a[1] as string) * 8n) % BASE_FIELD),
                "2",
              ],
            }),
          ],
          ["A.y + p", withProof({ pi_a: [pi_a[0], plusP(pi_a[1]), "1"] })],
          ["B.x.c0 + p", withProof({ pi_b: [[plusP(b0[0]), b0[1]], pi_b[1], pi_b[2]] })],
          ["C.x + p", withProof({ pi_c: [plusP(pi_c[0]), pi_c[1], "1"] })],
        ];
        for (const [what, p] of cases) {
          expect(await onChain(p), `${what}: on-chain`).to.equal(false);
          expect(verifier.verify(p), `${what}: AccessProofVerifier`).to.equal(false);
        }
      });
    });
  });

  describe("scope packing", () => {
    const parts = {
      apiId: fc.bigInt({ min: 0n, max: (1n << 170n) - 1n }),
      epoch: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      limit: fc.bigInt({ min: 0n, max: (1n << 16n) - 1n }),
      field: fc.bigInt({ min: 0n, max: SNARK_FIELD - 1n }),
    };

    it("packScope / signalsFromPublic / publicSignalValues round trip", () => {
      fc.assert(
        fc.property(
          parts.apiId,
          parts.epoch,
          parts.limit,
          fc.tuple(parts.field, parts.field, parts.field, parts.field),
          (apiId, epoch, userMessageLimit, [y, nullifier, root, x]) => {
            const scope = packScope(apiId, epoch, userMessageLimit);
            expect(scope).to.equal(apiId * 2n ** 80n + epoch * 2n ** 16n + userMessageLimit);
            expect(scope < SNARK_FIELD).to.equal(true);
            const pub = [y, nullifier, root, scope, x];
            const signals = signalsFromPublic(pub.map(String));
            expect(signals).to.deep.equal({ y, nullifier, root, apiId, epoch, userMessageLimit, x });
            expect(publicSignalValues(signals)).to.deep.equal(pub);
          },
        ),
        { numRuns: 200 },
      );
    });

    it("packScope rejects parts outside their bit ranges (ScopeRangeError)", () => {
      const cases: [string, bigint, bigint, bigint][] = [
        ["apiId 2^170", 1n << 170n, 0n, 1n],
        ["apiId -1", -1n, 0n, 1n],
        ["epoch 2^64", 1n, 1n << 64n, 1n],
        ["epoch -1", 1n, -1n, 1n],
        ["limit 2^16", 1n, 0n, 1n << 16n],
        ["limit -1", 1n, 0n, -1n],
      ];
      for (const [what, apiId, epoch, limit] of cases) {
        const err = thrown(() => packScope(apiId, epoch, limit));
        expect(err, what).to.be.instanceOf(ScopeRangeError);
        expect(err, what).to.include({ code: "SCOPE_OUT_OF_RANGE" });
      }
      expect(packScope((1n << 170n) - 1n, (1n << 64n) - 1n, (1n << 16n) - 1n)).to.equal((1n << 250n) - 1n);
    });

    it("signalsFromPublic wants exactly 5 signals", () => {
      for (const n of [0, 4, 6, 7]) {
        expect(
          thrown(() => signalsFromPublic(Array<string>(n).fill("1"))),
          `${n}`,
        ).to.be.instanceOf(RangeError);
      }
    });
  });

  describe("GroupTree", () => {
    const verify = (t: GroupTree, commitment: bigint) => {
      const p = t.proof(commitment);
      expect(p.siblings).to.have.length(MAX_DEPTH);
      expect(p.siblings.slice(p.length).every((s) => s === 0n)).to.equal(true);
      const siblings = p.siblings.slice(0, p.length);
      expect(t.siblings(commitment)).to.deep.equal(siblings);
      expect(p.root).to.equal(t.root);
      return LeanIMT.verifyProof({ root: p.root, leaf: commitment, index: p.index, siblings }, (a, b) =>
        poseidon2([a, b]),
      );
    };

    it("the empty tree's root is 0", () => {
      const t = new GroupTree();
      expect(t.root).to.equal(0n);
      expect(t.size).to.equal(0);
      expect(t.has(0n)).to.equal(false);
    });

    it("inserts and removals keep every member's proof valid, roots as recomputed", () => {
      const ids = Array.from({ length: 9 }, () => createIdentity());
      const t = new GroupTree();
      const leaves: bigint[] = [];
      for (const id of ids) {
        t.insert(id.commitment);
        leaves.push(id.commitment);
        expect(t.root).to.equal(leanImtRoot(leaves, h));
        for (const m of leaves) expect(verify(t, m)).to.equal(true);
      }
      for (const i of [4, 0, 8]) {
        const gone = ids[i] as Identity;
        const before = t.root;
        t.remove(gone.commitment);
        leaves[i] = 0n;
        expect(t.root).to.not.equal(before);
        expect(t.root).to.equal(leanImtRoot(leaves, h));
        expect(t.size).to.equal(ids.length);
        expect(t.has(gone.commitment)).to.equal(false);
        for (const m of leaves.filter((l) => l !== 0n)) expect(verify(t, m)).to.equal(true);
      }
    });

    it("NotAMemberError for unknown, removed and 0 commitments", () => {
      const [a, b] = [createIdentity(), createIdentity()];
      const t = new GroupTree();
      t.insert(a.commitment);
      t.insert(b.commitment);
      t.remove(a.commitment); // leaf 0 is now 0
      for (const [what, c] of [
        ["unknown", createIdentity().commitment],
        ["removed", a.commitment],
        ["zero (a removed leaf's value)", 0n],
      ] as const) {
        for (const op of [() => t.proof(c), () => t.siblings(c), () => t.remove(c)]) {
          const err = thrown(op);
          expect(err, what).to.be.instanceOf(NotAMemberError);
          expect(err, what).to.include({ code: "NOT_A_MEMBER", commitment: c });
        }
        expect(t.has(c), what).to.equal(false);
      }
    });
  });

  describe("GroupSync", () => {
    let f: AccessFixture;
    let startBlock: number;

    beforeEach(async () => {
      f = await networkHelpers.loadFixture(accessFixture);
      startBlock = f.deployment.contracts.AccessGroups.blockNumber;
    });

    async function join(owner: HardhatEthersSigner, apiId = f.apiId): Promise<Identity> {
      const id = createIdentity();
      await f.accessGroups.connect(owner).join(apiId, id.commitment);
      return id;
    }

    async function expectSynced(sync: GroupSync, apiId = f.apiId) {
      const root = await sync.sync();
      expect(root).to.equal(await f.accessGroups.rootOf(apiId));
      expect(sync.tree.root).to.equal(root);
      const [size] = await f.accessGroups.treeInfo(apiId);
      expect(BigInt(sync.tree.size)).to.equal(size);
    }

    it("rebuilds the group from joins, a leave and slashes, one block per query", async () => {
      const [m0, m1, m2] = f.members as [HardhatEthersSigner, HardhatEthersSigner, HardhatEthersSigner];
      const ids = [await join(m0), await join(m1), await join(m2), await join(m0), await join(m1)];
      const live = new GroupSync(f.accessGroups, f.apiId, startBlock);
      await expectSynced(live);

      // Member 1 leaves with siblings from the synced tree.
      const leaver = ids[1] as Identity;
      await f.accessGroups.connect(m1).leave(f.apiId, leaver.commitment, live.tree.siblings(leaver.commitment));
      await expectSynced(live);
      expect(live.tree.has(leaver.commitment)).to.equal(false);

      // Slash an active member (ids[3]) and the one that left (still slashable while exiting).
      for (const victim of [ids[3] as Identity, leaver]) {
        await f.accessGroups.connect(f.slasher).commitSlash(slashDigest(f.slasher.address, f.apiId, victim.secret));
        const siblings = live.tree.has(victim.commitment) ? live.tree.siblings(victim.commitment) : [];
        await f.accessGroups.connect(f.slasher).slash(f.apiId, victim.secret, siblings);
        await expectSynced(live);
      }
      expect(live.tree.has((ids[3] as Identity).commitment)).to.equal(false);

      // A fresh sync of the whole history, one block at a time, reaches the same tree.
      const chunked = new GroupSync(f.accessGroups, f.apiId, startBlock, 1);
      await expectSynced(chunked);
      for (const id of ids) expect(chunked.tree.has(id.commitment)).to.equal(live.tree.has(id.commitment));

      // And a member proves membership against it: the chain knows that root.
      const member = ids[2] as Identity;
      const { prover, verifier } = await zk();
      const proof = await prover.prove({
        identity: member,
        merkleProof: chunked.tree.proof(member.commitment),
        apiId: f.apiId,
        epoch: await f.accessGroups.currentEpoch(f.apiId),
        userMessageLimit: (await f.accessGroups.getGroup(f.apiId)).userMessageLimit,
        messageIndex: 0n,
        x: 1234n,
      });
      expect(verifier.verify(proof)).to.equal(true);
      expect(proof.signals.root).to.equal(await f.accessGroups.rootOf(f.apiId));
      expect(await f.accessGroups.isKnownRoot(f.apiId, proof.signals.root)).to.equal(true);
    });

    it("syncs incrementally, up to a given block, and only its own API's group", async () => {
      const [m0, m1, m2] = f.members as [HardhatEthersSigner, HardhatEthersSigner, HardhatEthersSigner];
      // A second API with its own group, interleaved with the first one's joins.
      await f.registry.connect(f.provider2).register(apiInput(await f.usdc.getAddress()));
      const other = await f.registry.apiCount();
      await f.accessGroups.connect(f.provider2).createGroup(other, f.tokenAddress, groupSettings());

      const sync = new GroupSync(f.accessGroups, f.apiId, startBlock, 2);
      const otherSync = new GroupSync(f.accessGroups, other, startBlock, 3);
      await expectSynced(sync);
      expect(sync.tree.root).to.equal(0n);

      const a = await join(m0);
      await join(m1, other);
      await expectSynced(sync);
      const afterA = await connection.ethers.provider.getBlockNumber();
      await join(m2);
      await join(m2, other);
      const c = await join(m1);
      await expectSynced(sync);
      await expectSynced(otherSync, other);
      expect(sync.tree.size).to.equal(3);
      expect(otherSync.tree.size).to.equal(2);

      await f.accessGroups.connect(m0).leave(f.apiId, a.commitment, sync.tree.siblings(a.commitment));
      await expectSynced(sync);
      expect(sync.tree.has(c.commitment)).to.equal(true);

      // Up to a past block: the root the chain had then.
      const past = new GroupSync(f.accessGroups, f.apiId, startBlock, 4);
      expect(await past.sync(afterA)).to.equal(await f.accessGroups.rootOf(f.apiId, { blockTag: afterA }));
      expect(past.tree.size).to.equal(1);
      await expectSynced(past);
    });

    it("applies a join and a leave mined in one block in log order", async () => {
      const [m0, m1, m2] = f.members as [HardhatEthersSigner, HardhatEthersSigner, HardhatEthersSigner];
      const [a, b] = [await join(m0), await join(m1)];
      const sync = new GroupSync(f.accessGroups, f.apiId, startBlock, 1);
      await expectSynced(sync);
      const send = async (txs: (() => Promise<unknown>)[]) => {
        await connection.provider.request({ method: "evm_setAutomine", params: [false] });
        try {
          for (const tx of txs) await tx();
          await networkHelpers.mine();
        } finally {
          await connection.provider.request({ method: "evm_setAutomine", params: [true] });
        }
      };
      const gas = { gasLimit: 2_000_000n };

      // Leave first, then join: the leave's siblings are those of the current tree.
      const c = createIdentity();
      const leaveA = sync.tree.siblings(a.commitment);
      await send([
        () => f.accessGroups.connect(m0).leave(f.apiId, a.commitment, leaveA, gas),
        () => f.accessGroups.connect(m2).join(f.apiId, c.commitment, gas),
      ]);
      expect((await f.accessGroups.getMember(f.apiId, c.commitment)).status).to.equal(1n); // Active
      await expectSynced(sync);

      // Join first, then leave: the leave's siblings are those of the tree after the join.
      const d = createIdentity();
      const next = new GroupTree();
      for (const id of [a, b, c, d]) next.insert(id.commitment);
      next.remove(a.commitment);
      await send([
        () => f.accessGroups.connect(m0).join(f.apiId, d.commitment, gas),
        () => f.accessGroups.connect(m1).leave(f.apiId, b.commitment, next.siblings(b.commitment), gas),
      ]);
      await expectSynced(sync);
      expect(sync.tree.has(b.commitment)).to.equal(false);
      expect(sync.tree.has(d.commitment)).to.equal(true);
    });

    it("a chunkSize below 1 fails instead of looping forever", async () => {
      let queries = 0;
      // A stand-in AccessGroups without events whose log queries fail after a while (so this
      // test ends even while the bug is there).
      const groups = {
        runner: { provider: { getBlockNumber: () => Promise.resolve(10) } },
        filters: { MemberJoined: () => ({}), MemberExited: () => ({}), MemberSlashed: () => ({}) },
        queryFilter: () => (++queries > 300 ? Promise.reject(new Error("still looping")) : Promise.resolve([])),
      } as unknown as AccessGroups;
      for (const chunkSize of [0, -1]) {
        queries = 0;
        const err = await rejection((async () => new GroupSync(groups, 1n, 0, chunkSize).sync())());
        expect(err.message, `chunkSize ${chunkSize}`).to.not.equal("still looping");
      }
    });

    it("started after the group's first join: GROUP_OUT_OF_SYNC, not a wrong root", async () => {
      const [m0, m1] = f.members as [HardhatEthersSigner, HardhatEthersSigner];
      const a = await join(m0);
      const tooLate = (await connection.ethers.provider.getBlockNumber()) + 1;
      await join(m1);
      const err = await rejection(new GroupSync(f.accessGroups, f.apiId, tooLate, 1).sync());
      expect(err).to.be.instanceOf(GroupSyncError);
      expect(err).to.include({ code: "GROUP_OUT_OF_SYNC" });

      // A too-late start whose first event is an exit fails the same way.
      const live = new GroupSync(f.accessGroups, f.apiId, startBlock);
      await live.sync();
      const late = (await connection.ethers.provider.getBlockNumber()) + 1;
      await f.accessGroups.connect(m0).leave(f.apiId, a.commitment, live.tree.siblings(a.commitment));
      const err2 = await rejection(new GroupSync(f.accessGroups, f.apiId, late).sync());
      expect(err2).to.be.instanceOf(GroupSyncError);
      expect(err2).to.include({ code: "GROUP_OUT_OF_SYNC" });
    });
  });
});
