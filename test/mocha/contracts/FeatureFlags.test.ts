import { expect } from "chai";
import { AbiCoder, getAddress, id, keccak256, ZeroAddress, ZeroHash } from "ethers";
import { ROLES } from "../../../deploy/roles.js";
import { FeatureFlags__factory } from "../../../types/ethers-contracts/index.js";
import { deployFixture, ethers, networkHelpers, type Fixture } from "../helpers/fixture.js";
import { minedAt } from "../helpers/staking.js";

const BPS = 10_000n;
const abi = AbiCoder.defaultAbiCoder();
const FLAG = id("meshgate.flags.streaming-responses");
const OTHER_FLAG = id("meshgate.flags.batch-vouchers");

/** The documented bucket of `subject` for `flag`: keccak256(abi.encode(flag, subject)) mod 10,000. */
function bucketOf(flag: string, subject: string): bigint {
  return BigInt(keccak256(abi.encode(["bytes32", "address"], [flag, subject]))) % BPS;
}

/** 120 deterministic subjects (payers, nodes), plus the zero address. */
const SUBJECTS = [
  ZeroAddress,
  ...Array.from({ length: 120 }, (_, i) => getAddress(`0x${keccak256(abi.encode(["uint256"], [i])).slice(-40)}`)),
];

describe("FeatureFlags", () => {
  let f: Fixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
  });

  async function enabledSubjects(flag: string): Promise<string[]> {
    const out: string[] = [];
    for (const s of SUBJECTS) if (await f.flags.isEnabledFor(flag, s)) out.push(s);
    return out;
  }

  describe("deployment", () => {
    it("is governed by the AccessManager; every flag starts unset and off for everyone", async () => {
      expect(await f.flags.authority()).to.equal(await f.accessManager.getAddress());
      const unset = await f.flags.getFlag(FLAG);
      expect([unset.enabled, unset.rolloutBps, unset.updatedAt]).to.deep.equal([false, 0n, 0n]);
      expect(await enabledSubjects(FLAG)).to.deep.equal([]);
    });
  });

  describe("setFlag (Developer DAO)", () => {
    it("stores the flag with its update time and emits FlagSet", async () => {
      const tx = await f.flags.connect(f.deployer).setFlag(FLAG, true, 2500);
      await expect(tx).to.emit(f.flags, "FlagSet").withArgs(FLAG, true, 2500);
      const t = await minedAt(tx);
      const flag = await f.flags.getFlag(FLAG);
      expect([flag.enabled, flag.rolloutBps, flag.updatedAt]).to.deep.equal([true, 2500n, t]);
      // Other flags are untouched.
      expect((await f.flags.getFlag(OTHER_FLAG)).updatedAt).to.equal(0n);
    });

    it("overwrites the previous setting (off keeps the rollout for later)", async () => {
      await f.flags.connect(f.deployer).setFlag(FLAG, true, 10_000);
      await networkHelpers.time.increase(60);
      const tx = await f.flags.connect(f.deployer).setFlag(FLAG, false, 7000);
      await expect(tx).to.emit(f.flags, "FlagSet").withArgs(FLAG, false, 7000);
      const flag = await f.flags.getFlag(FLAG);
      expect([flag.enabled, flag.rolloutBps, flag.updatedAt]).to.deep.equal([false, 7000n, await minedAt(tx)]);
    });

    it("accepts exactly 10,000 bps and reverts with RolloutTooHigh above it", async () => {
      await expect(f.flags.connect(f.deployer).setFlag(FLAG, true, 10_000)).not.to.revert(ethers);
      for (const bps of [10_001, 65_535]) {
        await expect(f.flags.connect(f.deployer).setFlag(FLAG, true, bps))
          .to.be.revertedWithCustomError(f.flags, "RolloutTooHigh")
          .withArgs(bps, 10_000);
      }
      expect((await f.flags.getFlag(FLAG)).rolloutBps).to.equal(10_000n);
    });

    it("reverts with ZeroFlag for the zero flag", async () => {
      await expect(f.flags.connect(f.deployer).setFlag(ZeroHash, true, 100)).to.be.revertedWithCustomError(
        f.flags,
        "ZeroFlag",
      );
    });

    it("only the DEVELOPER role may set flags (not PROTOCOL, SECURITY or GUARDIAN holders)", async () => {
      const [protocol, security, guardian, developer] = f.rest as [
        Fixture["outsider"],
        Fixture["outsider"],
        Fixture["outsider"],
        Fixture["outsider"],
      ];
      await f.accessManager.grantRole(ROLES.PROTOCOL, protocol.address, 0);
      await f.accessManager.grantRole(ROLES.SECURITY, security.address, 0);
      await f.accessManager.grantRole(ROLES.GUARDIAN, guardian.address, 0);
      await f.accessManager.grantRole(ROLES.DEVELOPER, developer.address, 0);
      for (const signer of [protocol, security, guardian, f.outsider]) {
        await expect(f.flags.connect(signer).setFlag(FLAG, true, 1))
          .to.be.revertedWithCustomError(f.flags, "AccessManagedUnauthorized")
          .withArgs(signer.address);
      }
      await expect(f.flags.connect(developer).setFlag(FLAG, true, 1))
        .to.emit(f.flags, "FlagSet")
        .withArgs(FLAG, true, 1);
    });

    it("a fresh FeatureFlags deploys with any authority", async () => {
      const fresh = await new FeatureFlags__factory(f.deployer).deploy(f.outsider.address);
      expect(await fresh.authority()).to.equal(f.outsider.address);
    });
  });

  describe("isEnabledFor (deterministic rollout)", () => {
    it("matches keccak256(abi.encode(flag, subject)) % 10000 < rolloutBps for every subject", async () => {
      for (const bps of [1, 2500, 5000, 9999]) {
        await f.flags.connect(f.deployer).setFlag(FLAG, true, bps);
        const expected = SUBJECTS.filter((s) => bucketOf(FLAG, s) < BigInt(bps));
        expect(await enabledSubjects(FLAG), `${bps} bps`).to.deep.equal(expected);
      }
    });

    it("the bucket boundary is exact: rollout == bucket excludes the subject, bucket + 1 includes it", async () => {
      for (const subject of SUBJECTS.slice(0, 10)) {
        const bucket = bucketOf(FLAG, subject);
        await f.flags.connect(f.deployer).setFlag(FLAG, true, bucket);
        expect(await f.flags.isEnabledFor(FLAG, subject), `bucket ${bucket}`).to.equal(false);
        await f.flags.connect(f.deployer).setFlag(FLAG, true, bucket + 1n);
        expect(await f.flags.isEnabledFor(FLAG, subject), `bucket ${bucket} + 1`).to.equal(true);
      }
    });

    it("0 bps reaches nobody and 10,000 bps everybody", async () => {
      await f.flags.connect(f.deployer).setFlag(FLAG, true, 0);
      expect(await enabledSubjects(FLAG)).to.deep.equal([]);
      await f.flags.connect(f.deployer).setFlag(FLAG, true, 10_000);
      expect(await enabledSubjects(FLAG)).to.deep.equal(SUBJECTS);
    });

    it("a disabled flag reaches nobody, whatever its rollout", async () => {
      await f.flags.connect(f.deployer).setFlag(FLAG, false, 10_000);
      expect(await enabledSubjects(FLAG)).to.deep.equal([]);
    });

    it("a subject's bucket depends on the flag: rollouts of different flags are independent", async () => {
      await f.flags.connect(f.deployer).setFlag(FLAG, true, 5000);
      await f.flags.connect(f.deployer).setFlag(OTHER_FLAG, true, 5000);
      const a = await enabledSubjects(FLAG);
      const b = await enabledSubjects(OTHER_FLAG);
      expect(b).to.deep.equal(SUBJECTS.filter((s) => bucketOf(OTHER_FLAG, s) < 5000n));
      expect(a).to.not.deep.equal(b);
    });

    it("widening a rollout only adds subjects (everyone enabled at 20% stays enabled at 60%)", async () => {
      await f.flags.connect(f.deployer).setFlag(FLAG, true, 2000);
      const narrow = await enabledSubjects(FLAG);
      await f.flags.connect(f.deployer).setFlag(FLAG, true, 6000);
      const wide = await enabledSubjects(FLAG);
      expect(narrow.length).to.be.greaterThan(0);
      expect(wide.length).to.be.greaterThan(narrow.length);
      for (const s of narrow) expect(wide).to.include(s);
    });
  });
});
