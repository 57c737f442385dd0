import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { recoverSecret } from "../../../sdk/zk/shares.js";
import { publicSignalValues, toSolidityProof, type AccessProof } from "../../../sdk/zk/signals.js";
import {
  AccessVerifier__factory,
  AccessVerifierGroth16__factory,
  type AccessVerifierGroth16,
} from "../../../types/ethers-contracts/index.js";
import {
  accessFixture,
  EPOCH_LENGTH,
  groupSettings,
  joinWithNewIdentity,
  LIMIT,
  proveAccess,
  ROOT_WINDOW,
  syncedGroup,
  zk,
  type AccessFixture,
} from "../helpers/access.js";
import { ethers, networkHelpers } from "../helpers/fixture.js";

/** accessFixture plus two members (members[0] and members[1]) and the bare Groth16 verifier. */
async function verifierFixture() {
  const f = await accessFixture();
  const alice = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
  const bob = await joinWithNewIdentity(f, f.apiId, f.members[1]!);
  const groth16 = AccessVerifierGroth16__factory.connect(
    f.deployment.contracts.AccessVerifierGroth16.address,
    f.deployer,
  );
  return { ...f, alice, bob, groth16 };
}

type VerifierFixture = Awaited<ReturnType<typeof verifierFixture>>;

const consume = (f: AccessFixture, p: AccessProof) => f.accessVerifier.consume(toSolidityProof(p.proof), p.signals);
const check = (f: AccessFixture, p: AccessProof) => f.accessVerifier.checkAccess(toSolidityProof(p.proof), p.signals);

/** The generated verifier alone, on the circuit's public signals. */
async function groth16Accepts(groth16: AccessVerifierGroth16, p: AccessProof): Promise<boolean> {
  const s = toSolidityProof(p.proof);
  return groth16.verifyProof(s.a, s.b, s.c, publicSignalValues(p.signals) as [bigint, bigint, bigint, bigint, bigint]);
}

describe("AccessVerifier", () => {
  let f: VerifierFixture;
  let valid: AccessProof;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(verifierFixture);
  });

  before(async () => {
    // One proof shared by the tests that only read: alice's identity and the root are the same
    // in every load of the fixture; its epoch stays current or previous for >= 60 s.
    f = await networkHelpers.loadFixture(verifierFixture);
    valid = await proveAccess(f, f.alice, { x: 42n });
  });

  it("consumes a valid proof: AccessConsumed with its share, nullifier recorded", async () => {
    const p = await proveAccess(f, f.alice, { x: 7n, messageIndex: 1n });
    expect(await f.accessVerifier.nullifierUsed(p.signals.nullifier)).to.equal(false);
    await expect(check(f, p)).not.to.revert(ethers);
    await expect(consume(f, p))
      .to.emit(f.accessVerifier, "AccessConsumed")
      .withArgs(f.apiId, p.signals.epoch, p.signals.nullifier, 7n, p.signals.y, f.deployer.address);
    expect(await f.accessVerifier.nullifierUsed(p.signals.nullifier)).to.equal(true);
  });

  it("rejects a replayed nullifier (NullifierAlreadyUsed), also for another request: the two shares reveal the secret", async () => {
    // Both proofs for one epoch, read once: on a loaded machine an epoch boundary can fall between
    // them, and the previous epoch is still accepted.
    const epoch = await f.accessGroups.currentEpoch(f.apiId);
    const first = await proveAccess(f, f.bob, { x: 1n, messageIndex: 0n, epoch });
    await consume(f, first);
    await expect(consume(f, first))
      .to.be.revertedWithCustomError(f.accessVerifier, "NullifierAlreadyUsed")
      .withArgs(first.signals.nullifier);
    const overuse = await proveAccess(f, f.bob, { x: 2n, messageIndex: 0n, epoch });
    expect(overuse.signals.nullifier).to.equal(first.signals.nullifier);
    await expect(consume(f, overuse))
      .to.be.revertedWithCustomError(f.accessVerifier, "NullifierAlreadyUsed")
      .withArgs(first.signals.nullifier);
    expect(recoverSecret(first.signals, overuse.signals)).to.equal(f.bob.secret);
    // Another message index in the same epoch is another nullifier: within the limit, accepted.
    const next = await proveAccess(f, f.bob, { x: 3n, messageIndex: 1n });
    await expect(consume(f, next)).to.emit(f.accessVerifier, "AccessConsumed");
  });

  it("on-chain and off-chain verification agree on valid, tampered and forged proofs", async () => {
    const { verifier } = await zk();
    const flip = (p: AccessProof, field: keyof AccessProof["signals"]): AccessProof => ({
      ...p,
      signals: { ...p.signals, [field]: p.signals[field] + 1n },
    });
    const cases: [string, AccessProof][] = [
      ["valid", valid],
      ["y", flip(valid, "y")],
      ["nullifier", flip(valid, "nullifier")],
      ["root", flip(valid, "root")],
      ["apiId", flip(valid, "apiId")],
      ["epoch", flip(valid, "epoch")],
      ["userMessageLimit", flip(valid, "userMessageLimit")],
      ["x", flip(valid, "x")],
      ["pi_a of another proof", { ...valid, proof: { ...valid.proof, pi_c: valid.proof.pi_a } }],
    ];
    for (const [name, p] of cases) {
      const offChain = verifier.verify(p);
      expect(await groth16Accepts(f.groth16, p), name).to.equal(offChain);
      expect(offChain, name).to.equal(name === "valid");
    }
  });

  it("rejects tampered shares and request hashes with InvalidProof", async () => {
    for (const field of ["y", "x", "nullifier"] as const) {
      const p = { ...valid, signals: { ...valid.signals, [field]: valid.signals[field] + 1n } };
      await expect(check(f, p), field).to.be.revertedWithCustomError(f.accessVerifier, "InvalidProof");
    }
  });

  it("accepts the previous epoch, rejects older and future epochs (EpochOutOfRange)", async () => {
    const current = await f.accessGroups.currentEpoch(f.apiId);
    const previous = await proveAccess(f, f.alice, { x: 5n, epoch: current - 1n });
    await expect(check(f, previous)).not.to.revert(ethers);
    for (const epoch of [current - 2n, current + 1n]) {
      const p = await proveAccess(f, f.alice, { x: 5n, epoch });
      await expect(check(f, p))
        .to.be.revertedWithCustomError(f.accessVerifier, "EpochOutOfRange")
        .withArgs(epoch, current);
    }
    // Once the clock moves two epochs on, the proof of the then-current epoch is stale.
    await networkHelpers.time.increase(2 * EPOCH_LENGTH);
    await expect(check(f, previous)).to.be.revertedWithCustomError(f.accessVerifier, "EpochOutOfRange");
  });

  it("a proof against a replaced root stays valid for the group's window, then UnknownRoot", async () => {
    const sync = await syncedGroup(f, f.apiId);
    const oldRoot = sync.tree.root;
    await joinWithNewIdentity(f, f.apiId, f.members[2]!);
    const replacedAt = await networkHelpers.time.latest();
    expect(await f.accessGroups.rootOf(f.apiId)).to.not.equal(oldRoot);
    // Near the end of the window, a member whose replica has not seen the join yet proves
    // against the old root (in the then-current epoch): still accepted.
    await networkHelpers.time.setNextBlockTimestamp(replacedAt + ROOT_WINDOW - 2);
    await networkHelpers.mine();
    const p = await proveAccess(f, f.alice, { x: 9n, sync });
    expect(p.signals.root).to.equal(oldRoot);
    await expect(check(f, p)).not.to.revert(ethers);
    await networkHelpers.time.setNextBlockTimestamp(replacedAt + ROOT_WINDOW);
    await networkHelpers.mine();
    await expect(check(f, p)).to.be.revertedWithCustomError(f.accessVerifier, "UnknownRoot").withArgs(f.apiId, oldRoot);
  });

  it("rejects a proof made for another message limit once the provider changes it (WrongMessageLimit)", async () => {
    await f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ userMessageLimit: LIMIT + 2 }));
    await expect(check(f, valid))
      .to.be.revertedWithCustomError(f.accessVerifier, "WrongMessageLimit")
      .withArgs(LIMIT, LIMIT + 2);
  });

  it("rejects proofs for an API without a group (GroupNotFound)", async () => {
    const p = { ...valid, signals: { ...valid.signals, apiId: 999n } };
    await expect(check(f, p)).to.be.revertedWithCustomError(f.accessGroups, "GroupNotFound").withArgs(999n);
  });

  it("refuses zero addresses at deployment (ZeroAddress)", async () => {
    const factory = new AccessVerifier__factory(f.deployer);
    await expect(factory.deploy(ZeroAddress, await f.groth16.getAddress())).to.be.revertedWithCustomError(
      factory,
      "ZeroAddress",
    );
    await expect(factory.deploy(await f.accessGroups.getAddress(), ZeroAddress)).to.be.revertedWithCustomError(
      factory,
      "ZeroAddress",
    );
  });
});
