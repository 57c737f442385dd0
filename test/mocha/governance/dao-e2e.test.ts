import { expect } from "chai";
import { encodeBytes32String, id, parseEther } from "ethers";
import { DAOS, type DaoName } from "../../../deploy/governance.js";
import { signVoucher, type Voucher } from "../../../sdk/vouchers.js";
import { ethers, networkHelpers } from "../helpers/fixture.js";
import { USDC } from "../helpers/escrow.js";
import {
  API_ID,
  call,
  CHANNEL_DEPOSIT,
  DEVELOPER_FUND,
  execute,
  governanceFixture,
  impersonate,
  MESH,
  passProposal,
  ProposalState,
  readyProposal,
  SHORT,
  STAKE,
  type GovFixture,
} from "../helpers/governance.js";

const BPS = 10_000n;
const OLD_SPLIT = { providerBps: 8000n, nodeBps: 1500n, protocolBps: 500n };
const NEW_SPLIT = { providerBps: 7000n, nodeBps: 2000n, protocolBps: 1000n };
const TOTAL_SUPPLY = parseEther("1000000000");

/** The shares of `paid` under `split`: node and protocol round down, the provider gets the rest. */
function shares(paid: bigint, split: typeof OLD_SPLIT) {
  const node = (paid * split.nodeBps) / BPS;
  const protocol = (paid * split.protocolBps) / BPS;
  return { node, protocol, provider: paid - node - protocol };
}

describe("governance: one real proposal per DAO, end to end", () => {
  let f: GovFixture;
  let protocolTimelock: string;
  let securityTimelock: string;
  let developerTimelock: string;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(governanceFixture);
    ({
      ProtocolTimelock: protocolTimelock,
      SecurityTimelock: securityTimelock,
      DeveloperTimelock: developerTimelock,
    } = f.addresses);
  });

  /** The payer's voucher to nodeOp for API 1 in USDC, signed by the payer itself. */
  async function voucher(cumulativeAmount: bigint) {
    const v: Voucher = {
      payer: f.payer.address,
      node: f.nodeOp.address,
      apiId: API_ID,
      token: f.usdcAddress,
      cumulativeAmount,
    };
    return { v, signature: await signVoucher(f.payer, f.domain, v) };
  }

  it("the hand-over left the money with the DAOs' timelocks", async () => {
    const distributed =
      MESH.voter1 + MESH.voter2 + MESH.voter3 + MESH.seller + STAKE.secVoter1 + STAKE.secVoter2 + STAKE.badNode;
    expect(await f.token.balanceOf(developerTimelock)).to.equal(DEVELOPER_FUND);
    expect(await f.token.balanceOf(protocolTimelock)).to.equal(
      TOTAL_SUPPLY - distributed - STAKE.nodeOp - DEVELOPER_FUND,
    );
    expect(await f.token.balanceOf(f.deployer.address)).to.equal(0n);
    for (const c of [f.registry, f.staking, f.escrow, f.subscriptions, f.accessGroups]) {
      expect(await c.treasury()).to.equal(protocolTimelock);
    }
    for (const name of DAOS) {
      const { governor, timelock } = f.governance[name];
      expect(await governor.timelock()).to.equal(await timelock.getAddress());
      expect(await governor.votingDelay()).to.equal(BigInt(SHORT.votingDelay));
      expect(await governor.votingPeriod()).to.equal(BigInt(SHORT.votingPeriod));
      expect(await timelock.getMinDelay()).to.equal(BigInt(SHORT.timelockDelay));
      expect(await governor.CLOCK_MODE()).to.equal("mode=timestamp");
    }
  });

  describe("Protocol DAO (MESH votes)", () => {
    it("sets a new revenue split, which the next voucher redemption uses, and spends from the treasury", async () => {
      // A redemption before the vote: the deploy's split.
      const first = await voucher(USDC(100));
      await f.escrow.connect(f.nodeOp).redeem(first.v, first.signature);
      const before = shares(USDC(100), OLD_SPLIT);
      expect(await f.escrow.nodeEarnings(f.usdcAddress, f.nodeOp.address)).to.equal(before.node);

      const grant = parseEther("250000");
      const { tx } = await passProposal(
        f,
        "protocol",
        f.voter1,
        [f.voter1, f.voter2],
        [
          await call(f.escrow, "setRevenueSplit", [NEW_SPLIT]),
          await call(f.token, "transfer", [f.grantee.address, grant]),
        ],
        "PIP-1: revenue split 70/20/10, and a 250k MESH grant",
      );
      await expect(tx)
        .to.emit(f.escrow, "RevenueSplitUpdated")
        .withArgs(NEW_SPLIT.providerBps, NEW_SPLIT.nodeBps, NEW_SPLIT.protocolBps);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [protocolTimelock, f.grantee.address], [-grant, grant]);
      const split = await f.escrow.revenueSplit();
      expect([split.providerBps, split.nodeBps, split.protocolBps]).to.deep.equal([
        NEW_SPLIT.providerBps,
        NEW_SPLIT.nodeBps,
        NEW_SPLIT.protocolBps,
      ]);

      // The next redemption (200 USDC more) is split the new way.
      const second = await voucher(USDC(300));
      const channel = await f.escrow.channelId(f.payer.address, f.nodeOp.address, API_ID, f.usdcAddress);
      await expect(f.escrow.connect(f.nodeOp).redeem(second.v, second.signature))
        .to.emit(f.escrow, "Redeemed")
        .withArgs(channel, USDC(300), USDC(200));
      const after = shares(USDC(200), NEW_SPLIT);
      expect(await f.escrow.nodeEarnings(f.usdcAddress, f.nodeOp.address)).to.equal(before.node + after.node);
      const earnings = await f.escrow.apiEarnings(f.usdcAddress, API_ID);
      expect(earnings.provider).to.equal(before.provider + after.provider);
      expect(earnings.protocol).to.equal(before.protocol + after.protocol);
      expect((await f.escrow.channels(channel)).balance).to.equal(CHANNEL_DEPOSIT - USDC(300));

      // Protocol fees land in the treasury: the Protocol DAO's timelock.
      await expect(f.escrow.connect(f.outsider).collectProtocolFees(f.usdcAddress, [API_ID])).to.changeTokenBalances(
        ethers,
        f.usdc,
        [protocolTimelock],
        [USDC(5) + USDC(20)],
      );
    });
  });

  describe("Security DAO (stake votes)", () => {
    it("slashes a node into the treasury and moves an API to a stricter rate-limit tier", async () => {
      const slashed = parseEther("500");
      const reason = encodeBytes32String("double-serve");
      const policy = { requestsPerWindow: 1000, windowSeconds: 60, burst: 50 };
      const { tx } = await passProposal(
        f,
        "security",
        f.secVoter1,
        [f.secVoter1, f.secVoter2],
        [
          await call(f.staking, "slash", [f.badNode.address, slashed, reason]),
          await call(f.rateLimits, "setPolicy", [1, policy]),
          await call(f.rateLimits, "setApiTier", [API_ID, 1]),
        ],
        "SIP-1: slash badNode 500 MESH; API 1 to tier 1",
      );
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.badNode.address, slashed, 0n, protocolTimelock, reason);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [await f.staking.getAddress(), protocolTimelock],
        [-slashed, slashed],
      );
      await expect(tx)
        .to.emit(f.rateLimits, "PolicySet")
        .withArgs(1, policy.requestsPerWindow, policy.windowSeconds, policy.burst);
      await expect(tx).to.emit(f.rateLimits, "ApiTierSet").withArgs(API_ID, 1);

      expect(await f.staking.stakeOf(f.badNode.address)).to.equal(STAKE.badNode - slashed);
      expect(await f.staking.getVotes(f.badNode.address)).to.equal(STAKE.badNode - slashed);
      expect(await f.staking.isActive(f.badNode.address)).to.equal(true); // 1,500 >= Edge minimum
      const [tier, p] = await f.rateLimits.policyOf(API_ID);
      expect(tier).to.equal(1n);
      expect([p.requestsPerWindow, p.windowSeconds, p.burst]).to.deep.equal([1000n, 60n, 50n]);
    });

    it("emergency: the Security timelock (GUARDIAN) pauses; only a Security vote unpauses", async () => {
      const pausables = [f.registry, f.staking, f.escrow, f.subscriptions, f.discounts];
      const { tx } = await passProposal(
        f,
        "security",
        f.secVoter1,
        [f.secVoter1, f.secVoter2],
        await Promise.all(pausables.map((c) => call(c, "emergencyPause"))),
        "SIP-2: emergency pause",
      );
      for (const c of pausables) {
        await expect(tx).to.emit(c, "Paused").withArgs(securityTimelock);
        expect(await c.paused()).to.equal(true);
      }
      await expect(
        f.escrow.connect(f.payer).deposit(f.nodeOp.address, API_ID, f.usdcAddress, USDC(1)),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");

      // The Protocol DAO votes to unpause the escrow: its timelock lacks the role, so the
      // proposal cannot execute (it stays queued).
      const unpause = [await call(f.escrow, "emergencyUnpause")];
      const attempt = await readyProposal(
        f,
        "protocol",
        f.voter1,
        [f.voter1, f.voter2],
        unpause,
        "PIP-2: unpause the escrow",
      );
      const protocolGovernor = f.governance.protocol.governor;
      await expect(execute(protocolGovernor, attempt))
        .to.be.revertedWithCustomError(f.escrow, "AccessManagedUnauthorized")
        .withArgs(protocolTimelock);
      expect(await protocolGovernor.state(attempt.id)).to.equal(ProposalState.Queued);
      expect(await f.escrow.paused()).to.equal(true);

      // A Security vote unpauses it.
      const { tx: lifted } = await passProposal(
        f,
        "security",
        f.secVoter2,
        [f.secVoter1, f.secVoter2],
        unpause,
        "SIP-3: unpause the escrow",
      );
      await expect(lifted).to.emit(f.escrow, "Unpaused").withArgs(securityTimelock);
      expect(await f.escrow.paused()).to.equal(false);
      await f.usdc.mint(f.payer.address, USDC(1));
      await expect(f.escrow.connect(f.payer).deposit(f.nodeOp.address, API_ID, f.usdcAddress, USDC(1))).not.to.revert(
        ethers,
      );
    });
  });

  describe("Developer DAO (credential votes)", () => {
    it("pays a grant from the developer fund and flips a feature flag", async () => {
      const grant = parseEther("10000");
      const flag = id("relayer.batch-redeem");
      const { tx } = await passProposal(
        f,
        "developer",
        f.dev1,
        [f.dev1, f.dev2],
        [
          await call(f.token, "transfer", [f.grantee.address, grant]),
          await call(f.flags, "setFlag", [flag, true, 2500]),
        ],
        "DIP-1: a 10k MESH grant; batch redemption to 25% of relayers",
      );
      await expect(tx).to.changeTokenBalances(ethers, f.token, [developerTimelock, f.grantee.address], [-grant, grant]);
      await expect(tx).to.emit(f.flags, "FlagSet").withArgs(flag, true, 2500);
      const at = (await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp;
      const set = await f.flags.getFlag(flag);
      expect([set.enabled, set.rolloutBps, set.updatedAt]).to.deep.equal([true, 2500n, BigInt(at)]);
      expect(await f.token.balanceOf(developerTimelock)).to.equal(DEVELOPER_FUND - grant);
    });
  });

  describe("each governor's own settings", () => {
    const proposers: Record<DaoName, (g: GovFixture) => GovFixture["voter1"][]> = {
      protocol: (g) => [g.voter1, g.voter2],
      security: (g) => [g.secVoter1, g.secVoter2],
      developer: (g) => [g.dev1, g.dev2],
    };

    for (const dao of DAOS) {
      it(`${dao}: change only by its own vote`, async () => {
        const { governor } = f.governance[dao];
        const settings: [string, unknown[]][] = [
          ["setVotingDelay", [120]],
          ["setVotingPeriod", [900]],
          ["setProposalThreshold", [7n]],
          ["updateQuorumNumerator", [20]],
          ["setMinQuorum", [5n]],
        ];

        // Directly: neither an EOA nor another DAO's timelock.
        const others = DAOS.filter((d) => d !== dao).map((d) => f.governance[d].timelock);
        const strangers = [
          f.deployer,
          f.outsider,
          ...(await Promise.all(others.map(async (t) => impersonate(await t.getAddress())))),
        ];
        for (const who of strangers) {
          for (const [fn, args] of settings) {
            await expect(governor.connect(who).getFunction(fn)(...args), `${fn} by ${who.address}`)
              .to.be.revertedWithCustomError(governor, "GovernorOnlyExecutor")
              .withArgs(who.address);
          }
        }

        const threshold = await governor.proposalThreshold();
        const [first, second] = proposers[dao](f) as [GovFixture["voter1"], GovFixture["voter1"]];
        const { tx } = await passProposal(
          f,
          dao,
          first,
          [first, second],
          await Promise.all(settings.map(([fn, args]) => call(governor, fn, args))),
          `${dao}: new voting rules`,
        );
        await expect(tx).to.emit(governor, "VotingDelaySet").withArgs(SHORT.votingDelay, 120);
        await expect(tx).to.emit(governor, "VotingPeriodSet").withArgs(SHORT.votingPeriod, 900);
        await expect(tx).to.emit(governor, "ProposalThresholdSet").withArgs(threshold, 7n);
        await expect(tx).to.emit(governor, "QuorumNumeratorUpdated").withArgs(f.params[dao].quorumPercent, 20);
        await expect(tx).to.emit(governor, "MinQuorumUpdated").withArgs(f.params[dao].minQuorum, 5n);
        expect(await governor.votingDelay()).to.equal(120n);
        expect(await governor.votingPeriod()).to.equal(900n);
        expect(await governor.proposalThreshold()).to.equal(7n);
        expect(await governor["quorumNumerator()"]()).to.equal(20n);
        expect(await governor.minQuorum()).to.equal(5n);
      });
    }

    it("another DAO's vote cannot change them either", async () => {
      // The Developer DAO votes to lengthen the Protocol DAO's voting period: it cannot execute.
      const protocolGovernor = f.governance.protocol.governor;
      const p = await readyProposal(
        f,
        "developer",
        f.dev1,
        [f.dev1, f.dev2],
        [await call(protocolGovernor, "setVotingPeriod", [60])],
        "DIP-2: shorten the Protocol DAO's vote",
      );
      await expect(execute(f.governance.developer.governor, p))
        .to.be.revertedWithCustomError(protocolGovernor, "GovernorOnlyExecutor")
        .withArgs(developerTimelock);
      expect(await protocolGovernor.votingPeriod()).to.equal(BigInt(SHORT.votingPeriod));
    });
  });
});
