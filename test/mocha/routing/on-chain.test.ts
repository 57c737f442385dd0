import { expect } from "chai";
import { AbiCoder, getAddress, id, keccak256 } from "ethers";
import {
  PEAK_EWMA_FLAG,
  readCandidates,
  readRolloutFlag,
  routingPolicyFromChain,
  seededRng,
} from "../../../sdk/routing/index.js";
import { deployFixture, networkHelpers, NodeType, region, type Fixture } from "../helpers/fixture.js";
import { addValidators, advanceToEpoch, attest, qos, report } from "../helpers/reputation.js";
import { E, NodeStatus, register } from "../helpers/staking.js";

const abi = AbiCoder.defaultAbiCoder();
/** 40 deterministic subjects. */
const SUBJECTS = Array.from({ length: 40 }, (_, i) =>
  getAddress(`0x${keccak256(abi.encode(["uint256"], [i])).slice(-40)}`),
);
/** 32 non-zero bytes: a region NodeStaking accepts that is no bytes32 string (no terminator). */
const UNDECODABLE_REGION = `0x${"ff".repeat(32)}`;

type Operator = Fixture["operator"];

/**
 * The deployed protocol with four Edge nodes (operator in eu-west-1, operator2 in us-east-1, `third`
 * in ap-south-1 staking 2,000 MESH, `odd` with an undecodable region; the others at the 1,000 MESH
 * minimum) and one validator in the set. The deployer holds every role, the Developer DAO's too.
 */
async function routingFixture() {
  const f = await deployFixture();
  const [third, odd] = f.rest as [Operator, Operator];
  for (const op of [third, odd]) {
    await f.token.connect(f.deployer).transfer(op.address, E(2_000));
    await f.token.connect(op).approve(await f.staking.getAddress(), E(2_000));
  }
  await register(f, f.operator, { region: region("eu-west-1") });
  await register(f, f.operator2, { region: region("us-east-1") });
  await register(f, third, { region: region("ap-south-1"), amount: E(2_000) });
  await register(f, odd, { region: UNDECODABLE_REGION });
  const [validator] = await addValidators(f, [E(10_000)]);
  return { ...f, third, odd, validator: validator! };
}

describe("routing from the chain: the Developer DAO flag and the nodes' candidates", () => {
  let f: Awaited<ReturnType<typeof routingFixture>>;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(routingFixture);
  });

  const setFlag = (enabled: boolean, rolloutBps: number, flag = PEAK_EWMA_FLAG) =>
    f.flags.connect(f.deployer).setFlag(flag, enabled, rolloutBps);
  const policyName = async (subject: string) => (await routingPolicyFromChain(f.flags, subject, seededRng(1))).name;

  describe("policy (routing.peak-ewma)", () => {
    it("routes round-robin while the flag is unset, and while it is off even with a full rollout", async () => {
      expect(await readRolloutFlag(f.flags)).to.deep.equal({ enabled: false, rolloutBps: 0 });
      expect(await policyName(SUBJECTS[0]!)).to.equal("round-robin");
      await setFlag(false, 10_000);
      expect(await readRolloutFlag(f.flags)).to.deep.equal({ enabled: false, rolloutBps: 10_000 });
      for (const s of SUBJECTS) expect(await policyName(s)).to.equal("round-robin");
    });

    it("routes every subject with peak-EWMA when the flag is on for a 10,000 bps rollout", async () => {
      await setFlag(true, 10_000);
      expect(await readRolloutFlag(f.flags)).to.deep.equal({ enabled: true, rolloutBps: 10_000 });
      for (const s of SUBJECTS) expect(await policyName(s)).to.equal("peak-ewma");
    });

    it("follows FeatureFlags.isEnabledFor subject by subject under a partial rollout", async () => {
      await setFlag(true, 2_500);
      const names: string[] = [];
      for (const s of SUBJECTS) {
        const name = await policyName(s);
        expect(name, s).to.equal((await f.flags.isEnabledFor(PEAK_EWMA_FLAG, s)) ? "peak-ewma" : "round-robin");
        names.push(name);
      }
      // Both policies occur: the subjects straddle the rollout boundary.
      expect(names).to.include("peak-ewma").and.to.include("round-robin");
    });

    it("reads the flag it is given", async () => {
      const other = id("routing.other");
      await setFlag(true, 500, other);
      expect(await readRolloutFlag(f.flags, other)).to.deep.equal({ enabled: true, rolloutBps: 500 });
      expect(await readRolloutFlag(f.flags)).to.deep.equal({ enabled: false, rolloutBps: 0 });
    });
  });

  describe("candidates", () => {
    const candidatesOf = (nodes: string[]) => readCandidates(f.staking, f.reputation, nodes);

    it("reads each node's registered region, checksums its address, keeps the given order; unscored", async () => {
      const nodes = [f.operator2.address, f.operator.address.toLowerCase(), f.third.address];
      expect(await candidatesOf(nodes)).to.deep.equal([
        { id: f.operator2.address, region: "us-east-1", reputationBps: undefined },
        { id: f.operator.address, region: "eu-west-1", reputationBps: undefined },
        { id: f.third.address, region: "ap-south-1", reputationBps: undefined },
      ]);
    });

    it("gives a node whose stored region is no bytes32 string the empty (unknown) region", async () => {
      expect(await candidatesOf([f.odd.address, f.operator.address])).to.deep.equal([
        { id: f.odd.address, region: "", reputationBps: undefined },
        { id: f.operator.address, region: "eu-west-1", reputationBps: undefined },
      ]);
    });

    it("leaves out nodes that may not serve: never registered, exited, or under a raised minimum stake", async () => {
      const nodes = [f.outsider.address, f.operator.address, f.operator2.address, f.third.address];
      const ids = async () => (await candidatesOf(nodes)).map((c) => c.id);
      expect(await ids()).to.deep.equal([f.operator.address, f.operator2.address, f.third.address]);
      await f.staking.connect(f.operator2).unstake(E(1_000)); // all of its stake: Exiting
      expect(await ids()).to.deep.equal([f.operator.address, f.third.address]);
      // operator is still Active, but its 1,000 MESH is under the new Edge minimum; third's 2,000 is not.
      await f.staking.connect(f.deployer).setMinStake(NodeType.Edge, E(1_500));
      expect((await f.staking.getNode(f.operator.address)).status).to.equal(NodeStatus.Active);
      expect(await ids()).to.deep.equal([f.third.address]);
    });

    it("reads the smoothed score once an epoch is finalized for a node; the others stay unscored", async () => {
      await advanceToEpoch(f, 1);
      await attest(f, f.validator, report(0, [{ node: f.operator.address, qos: qos({ successBps: 9_000 }) }]));
      await advanceToEpoch(f, 2);
      await f.reputation.finalizeNode(f.operator.address, 0);
      const [scored, unscored] = await candidatesOf([f.operator.address, f.operator2.address]);
      // Success 90% x availability 100% x latency factor 1 (p99 under the target), no ratings.
      expect(scored!.reputationBps).to.equal(9_000);
      expect(unscored!.reputationBps).to.equal(undefined);
    });
  });
});
