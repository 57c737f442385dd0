import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, getAddress, keccak256, toUtf8Bytes } from "ethers";
import {
  isEnabledFor,
  PEAK_EWMA_FLAG,
  PEAK_EWMA_FLAG_NAME,
  rolloutBucket,
  routingPolicyFor,
  seededRng,
} from "../../../sdk/routing/index.js";
import { AccessManager__factory, FeatureFlags__factory } from "../../../types/ethers-contracts/index.js";

const abi = AbiCoder.defaultAbiCoder();
/** 40 deterministic subjects. */
const SUBJECTS = Array.from({ length: 40 }, (_, i) =>
  getAddress(`0x${keccak256(abi.encode(["uint256"], [i])).slice(-40)}`),
);

describe("routing policy selection (Developer DAO flag)", () => {
  it("names the flag routing.peak-ewma and encodes it as the CLI does (keccak256 of the name)", () => {
    expect(PEAK_EWMA_FLAG_NAME).to.equal("routing.peak-ewma");
    expect(PEAK_EWMA_FLAG).to.equal(keccak256(toUtf8Bytes("routing.peak-ewma")));
  });

  it("buckets like the contract's documented formula: keccak256(abi.encode(flag, subject)) mod 10,000", () => {
    const subject = SUBJECTS[0]!;
    const hand = BigInt(keccak256(abi.encode(["bytes32", "address"], [PEAK_EWMA_FLAG, subject]))) % 10_000n;
    expect(rolloutBucket(PEAK_EWMA_FLAG, subject)).to.equal(Number(hand));
    for (const s of SUBJECTS) expect(rolloutBucket(PEAK_EWMA_FLAG, s)).to.be.within(0, 9_999);
  });

  it("agrees with FeatureFlags.isEnabledFor on an in-process chain", async () => {
    const { ethers } = await network.create();
    const [admin] = await ethers.getSigners();
    const manager = await new AccessManager__factory(admin).deploy(admin!.address);
    const flags = await new FeatureFlags__factory(admin).deploy(await manager.getAddress());
    for (const [enabled, rolloutBps] of [
      [true, 2_500],
      [true, 10_000],
      [true, 0],
      [false, 10_000],
    ] as const) {
      await flags.setFlag(PEAK_EWMA_FLAG, enabled, rolloutBps);
      for (const s of SUBJECTS)
        expect(isEnabledFor(PEAK_EWMA_FLAG, { enabled, rolloutBps }, s)).to.equal(
          await flags.isEnabledFor(PEAK_EWMA_FLAG, s),
        );
    }
  });

  it("rolls peak-EWMA out to the covered subjects and round-robin to the rest", () => {
    const rng = seededRng(1);
    const name = (enabled: boolean, rolloutBps: number, s: string) =>
      routingPolicyFor({ enabled, rolloutBps }, s, rng).name;
    for (const s of SUBJECTS) {
      expect(name(true, 10_000, s)).to.equal("peak-ewma");
      expect(name(false, 10_000, s)).to.equal("round-robin");
      expect(name(true, 0, s)).to.equal("round-robin");
      const covered = rolloutBucket(PEAK_EWMA_FLAG, s) < 5_000;
      expect(name(true, 5_000, s)).to.equal(covered ? "peak-ewma" : "round-robin");
    }
    // A 50% rollout covers roughly half of the subjects.
    const covered = SUBJECTS.filter((s) => name(true, 5_000, s) === "peak-ewma").length;
    expect(covered).to.be.within(10, 30);
  });
});
