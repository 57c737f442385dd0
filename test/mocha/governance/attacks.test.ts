import { expect } from "chai";
import { id, parseEther, toBeHex, zeroPadValue, ZeroHash } from "ethers";
import { defaultGovernanceParams, deployGovernance } from "../../../deploy/governance.js";
import { deployProtocol } from "../../../deploy/protocol.js";
import { ROLES } from "../../../deploy/roles.js";
import { apiInput, DAY, ethers, networkHelpers } from "../helpers/fixture.js";
import {
  call,
  execute,
  governanceFixture,
  guardianGovernanceFixture,
  MESH,
  OperationState,
  propose,
  ProposalState,
  queue,
  readyProposal,
  stateBitmap,
  STAKE,
  toDeadline,
  toVoting,
  Vote,
  type GovFixture,
  type Proposal,
} from "../helpers/governance.js";

const NEW_SPLIT = { providerBps: 7000, nodeBps: 2000, protocolBps: 1000 };
/** 4% of the 1B MESH supply. */
const PROTOCOL_QUORUM = parseEther("40000000");

describe("governance: attacks", () => {
  let f: GovFixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(governanceFixture);
  });

  /** A one-call Protocol DAO proposal (a new revenue split) from `proposer`. */
  async function splitProposal(proposer = f.voter3, description = "PIP: revenue split 70/20/10"): Promise<Proposal> {
    return propose(
      f.governance.protocol.governor,
      proposer,
      [await call(f.escrow, "setRevenueSplit", [NEW_SPLIT])],
      description,
    );
  }

  describe("vote buying after the snapshot", () => {
    it("MESH bought and delegated after the snapshot adds no weight", async () => {
      const governor = f.governance.protocol.governor;
      const p = await splitProposal();
      await toVoting(governor, p);
      const snapshot = await governor.proposalSnapshot(p.id);

      // The late buyer gets the seller's 5M MESH and delegates to itself: it has votes now...
      await f.token.connect(f.seller).transfer(f.lateBuyer.address, MESH.seller);
      await f.token.connect(f.lateBuyer).delegate(f.lateBuyer.address);
      expect(await f.token.getVotes(f.lateBuyer.address)).to.equal(MESH.seller);
      // ...but none at the snapshot, so its vote weighs nothing.
      expect(await governor.getVotes(f.lateBuyer.address, snapshot)).to.equal(0n);
      await expect(governor.connect(f.lateBuyer).castVote(p.id, Vote.For))
        .to.emit(governor, "VoteCast")
        .withArgs(f.lateBuyer.address, p.id, Vote.For, 0n, "");
      expect(await governor.hasVoted(p.id, f.lateBuyer.address)).to.equal(true);
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, 0n, 0n]);
    });

    it("delegating after the snapshot moves no weight: the delegator still votes its own", async () => {
      const governor = f.governance.protocol.governor;
      const p = await splitProposal();
      await toVoting(governor, p);

      // voter2 delegates its 15M to voter3 after the snapshot.
      await f.token.connect(f.voter2).delegate(f.voter3.address);
      expect(await f.token.getVotes(f.voter3.address)).to.equal(MESH.voter3 + MESH.voter2);
      await expect(governor.connect(f.voter3).castVote(p.id, Vote.For))
        .to.emit(governor, "VoteCast")
        .withArgs(f.voter3.address, p.id, Vote.For, MESH.voter3, "");
      await expect(governor.connect(f.voter2).castVote(p.id, Vote.For))
        .to.emit(governor, "VoteCast")
        .withArgs(f.voter2.address, p.id, Vote.For, MESH.voter2, "");
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, MESH.voter3 + MESH.voter2, 0n]);
    });

    it("tokens passed on after voting vote nothing a second time", async () => {
      const governor = f.governance.protocol.governor;
      const p = await splitProposal();
      await toVoting(governor, p);
      await governor.connect(f.voter1).castVote(p.id, Vote.For);
      await f.token.connect(f.lateBuyer).delegate(f.lateBuyer.address);
      await f.token.connect(f.voter1).transfer(f.lateBuyer.address, MESH.voter1);
      await expect(governor.connect(f.lateBuyer).castVote(p.id, Vote.For))
        .to.emit(governor, "VoteCast")
        .withArgs(f.lateBuyer.address, p.id, Vote.For, 0n, "");
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, MESH.voter1, 0n]);
    });

    it("stake registered after the snapshot adds no Security DAO weight", async () => {
      const governor = f.governance.security.governor;
      const p = await propose(
        governor,
        f.secVoter1,
        [await call(f.rateLimits, "setApiTier", [1n, 0])],
        "SIP: API 1 to tier 0",
      );
      await toVoting(governor, p);
      // badNode doubles its stake after the snapshot: it still votes its snapshot stake.
      await f.token.connect(f.seller).transfer(f.badNode.address, STAKE.badNode);
      await f.token.connect(f.badNode).approve(await f.staking.getAddress(), STAKE.badNode);
      await f.staking.connect(f.badNode).topUp(STAKE.badNode);
      expect(await f.staking.getVotes(f.badNode.address)).to.equal(2n * STAKE.badNode);
      await expect(governor.connect(f.badNode).castVote(p.id, Vote.Against))
        .to.emit(governor, "VoteCast")
        .withArgs(f.badNode.address, p.id, Vote.Against, STAKE.badNode, "");
    });
  });

  describe("the timelock delay", () => {
    it("a queued proposal cannot execute before its delay, nor an unqueued one at all", async () => {
      const { governor, timelock } = f.governance.protocol;
      const p = await splitProposal(f.voter1);

      // While voting: neither queue nor execute.
      await toVoting(governor, p);
      await expect(queue(governor, p))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Active, stateBitmap(ProposalState.Succeeded));
      await governor.connect(f.voter1).castVote(p.id, Vote.For);
      await governor.connect(f.voter2).castVote(p.id, Vote.For);
      await expect(execute(governor, p))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Active, stateBitmap(ProposalState.Queued));

      // Succeeded but not queued: execution needs the queue.
      await toDeadline(governor, p);
      expect(await governor.state(p.id)).to.equal(ProposalState.Succeeded);
      await expect(execute(governor, p))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Succeeded, stateBitmap(ProposalState.Queued));

      // Queued: the timelock refuses until the operation is ready.
      await queue(governor, p);
      const salt = zeroPadValue(toBeHex((BigInt(await governor.getAddress()) << 96n) ^ BigInt(p.descriptionHash)), 32);
      const operation = await timelock.hashOperationBatch(p.targets, p.values, p.calldatas, ZeroHash, salt);
      expect(await timelock.getOperationState(operation)).to.equal(BigInt(OperationState.Waiting));
      const eta = await governor.proposalEta(p.id);
      expect(await timelock.getTimestamp(operation)).to.equal(eta);
      await expect(execute(governor, p))
        .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState")
        .withArgs(operation, stateBitmap(OperationState.Ready));
      await networkHelpers.time.setNextBlockTimestamp(eta - 1n);
      await expect(execute(governor, p))
        .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState")
        .withArgs(operation, stateBitmap(OperationState.Ready));
      expect(await governor.state(p.id)).to.equal(ProposalState.Queued);

      // At the eta it runs.
      await networkHelpers.time.setNextBlockTimestamp(eta);
      await expect(execute(governor, p)).to.emit(governor, "ProposalExecuted").withArgs(p.id);
      expect(await timelock.getOperationState(operation)).to.equal(BigInt(OperationState.Done));
    });

    it("nobody can bypass the governor by scheduling on the timelock directly", async () => {
      const { timelock } = f.governance.protocol;
      const c = await call(f.escrow, "setRevenueSplit", [NEW_SPLIT]);
      const proposer = await timelock.PROPOSER_ROLE();
      for (const who of [f.deployer, f.voter1, f.outsider]) {
        await expect(timelock.connect(who).schedule(c.target, 0n, c.data, ZeroHash, ZeroHash, 120))
          .to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, proposer);
      }
    });
  });

  describe("the emergency guardian", () => {
    it("can pause but not unpause, and has no other power", async () => {
      const g = await networkHelpers.loadFixture(guardianGovernanceFixture);
      const [member] = await g.accessManager.hasRole(ROLES.GUARDIAN, g.guardian.address);
      expect(member).to.equal(true);
      for (const c of [g.registry, g.staking, g.escrow, g.subscriptions, g.discounts]) {
        await expect(c.connect(g.guardian).emergencyPause()).to.emit(c, "Paused").withArgs(g.guardian.address);
        await expect(c.connect(g.guardian).emergencyUnpause())
          .to.be.revertedWithCustomError(c, "AccessManagedUnauthorized")
          .withArgs(g.guardian.address);
        expect(await c.paused()).to.equal(true);
      }
      await expect(g.staking.connect(g.guardian).slash(g.badNode.address, 1n, ZeroHash))
        .to.be.revertedWithCustomError(g.staking, "AccessManagedUnauthorized")
        .withArgs(g.guardian.address);
      // It cannot make more guardians, nor keep the Security DAO from removing it.
      await expect(g.accessManager.connect(g.guardian).grantRole(ROLES.GUARDIAN, g.outsider.address, 0))
        .to.be.revertedWithCustomError(g.accessManager, "AccessManagerUnauthorizedAccount")
        .withArgs(g.guardian.address, ROLES.SECURITY);
      for (const role of [ROLES.ADMIN, ROLES.PROTOCOL, ROLES.SECURITY, ROLES.DEVELOPER]) {
        const [held] = await g.accessManager.hasRole(role, g.guardian.address);
        expect(held, `guardian holds role ${role}`).to.equal(false);
      }
    });
  });

  describe("developer credentials", () => {
    it("cannot be transferred to vote twice", async () => {
      const governor = f.governance.developer.governor;
      const tokenId = 1n; // dev1's
      expect(await f.credential.ownerOf(tokenId)).to.equal(f.dev1.address);
      const p = await propose(
        governor,
        f.dev1,
        [await call(f.flags, "setFlag", [id("flag.a"), true, 100])],
        "DIP: a flag",
      );
      await toVoting(governor, p);
      await governor.connect(f.dev1).castVote(p.id, Vote.For);

      // Every way to move the credential is closed, approved or not.
      await f.credential.connect(f.dev1).approve(f.outsider.address, tokenId);
      const asHolder = f.credential.connect(f.dev1);
      await expect(
        f.credential.connect(f.dev1).transferFrom(f.dev1.address, f.outsider.address, tokenId),
      ).to.be.revertedWithCustomError(f.credential, "CredentialNotTransferable");
      await expect(
        asHolder["safeTransferFrom(address,address,uint256)"](f.dev1.address, f.outsider.address, tokenId),
      ).to.be.revertedWithCustomError(f.credential, "CredentialNotTransferable");
      await expect(
        f.credential.connect(f.outsider).transferFrom(f.dev1.address, f.outsider.address, tokenId),
      ).to.be.revertedWithCustomError(f.credential, "CredentialNotTransferable");
      expect(await f.credential.ownerOf(tokenId)).to.equal(f.dev1.address);

      // And the holder cannot vote again.
      await expect(governor.connect(f.dev1).castVote(p.id, Vote.For))
        .to.be.revertedWithCustomError(governor, "GovernorAlreadyCastVote")
        .withArgs(f.dev1.address);
      await expect(governor.connect(f.dev1).castVoteWithReason(p.id, Vote.Against, "changed my mind"))
        .to.be.revertedWithCustomError(governor, "GovernorAlreadyCastVote")
        .withArgs(f.dev1.address);
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, 1n, 0n]);
    });

    it("a delegated credential votes once, through its delegate", async () => {
      const governor = f.governance.developer.governor;
      await f.credential.connect(f.dev2).delegate(f.dev1.address);
      await networkHelpers.mine();
      const p = await propose(governor, f.dev1, [await call(f.flags, "setFlag", [id("flag.b"), true, 1])], "DIP: b");
      await toVoting(governor, p);
      await expect(governor.connect(f.dev1).castVote(p.id, Vote.For))
        .to.emit(governor, "VoteCast")
        .withArgs(f.dev1.address, p.id, Vote.For, 2n, "");
      await expect(governor.connect(f.dev2).castVote(p.id, Vote.For))
        .to.emit(governor, "VoteCast")
        .withArgs(f.dev2.address, p.id, Vote.For, 0n, "");
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, 2n, 0n]);
    });
  });

  describe("quorum and majority", () => {
    it("a proposal with For votes below quorum ends Defeated and cannot be queued", async () => {
      const governor = f.governance.protocol.governor;
      const p = await splitProposal();
      await toVoting(governor, p);
      const snapshot = await governor.proposalSnapshot(p.id);
      expect(await governor.quorum(snapshot)).to.equal(PROTOCOL_QUORUM);
      // 1M For, nothing against: a unanimous vote, but 1M < 40M.
      await governor.connect(f.voter3).castVote(p.id, Vote.For);
      await toDeadline(governor, p);
      expect(await governor.state(p.id)).to.equal(ProposalState.Defeated);
      await expect(queue(governor, p))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Defeated, stateBitmap(ProposalState.Succeeded));
      await expect(execute(governor, p))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Defeated, stateBitmap(ProposalState.Queued));
    });

    it("Abstain counts toward quorum but a majority Against defeats", async () => {
      const governor = f.governance.protocol.governor;
      const p = await splitProposal();
      await toVoting(governor, p);
      await governor.connect(f.voter1).castVote(p.id, Vote.Against); // 30M
      await governor.connect(f.voter2).castVote(p.id, Vote.For); // 15M
      await governor.connect(f.voter3).castVote(p.id, Vote.Abstain); // 1M
      expect(await governor.proposalVotes(p.id)).to.deep.equal([MESH.voter1, MESH.voter2, MESH.voter3]);
      await toDeadline(governor, p);
      expect(await governor.state(p.id)).to.equal(ProposalState.Defeated);
    });

    it("the quorum is a share of the supply at the snapshot: undelegated MESH counts against turnout", async () => {
      // The Protocol timelock's treasury is not delegated, yet it is part of the supply the
      // quorum is computed from: 4% of 1B = 40M, more than voter1 alone (30M) can bring.
      const governor = f.governance.protocol.governor;
      const p = await splitProposal(f.voter1);
      await toVoting(governor, p);
      await governor.connect(f.voter1).castVote(p.id, Vote.For);
      await toDeadline(governor, p);
      expect(await governor.state(p.id)).to.equal(ProposalState.Defeated);
    });
  });

  describe("proposal threshold", () => {
    it("a proposer below the threshold cannot propose, in every DAO", async () => {
      const { protocol, security, developer } = f.governance;
      const c = [await call(f.escrow, "setRevenueSplit", [NEW_SPLIT])];
      const threshold = parseEther("100000");
      await expect(protocol.governor.connect(f.outsider).propose([c[0]!.target], [0n], [c[0]!.data], "x"))
        .to.be.revertedWithCustomError(protocol.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.outsider.address, 0n, threshold);
      // Just below: 99,999.99... MESH delegated.
      await f.token.connect(f.seller).transfer(f.lateBuyer.address, threshold - 1n);
      await f.token.connect(f.lateBuyer).delegate(f.lateBuyer.address);
      await expect(protocol.governor.connect(f.lateBuyer).propose([c[0]!.target], [0n], [c[0]!.data], "x"))
        .to.be.revertedWithCustomError(protocol.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.lateBuyer.address, threshold - 1n, threshold);
      // Undelegated MESH is no voting power either.
      await expect(protocol.governor.connect(f.seller).propose([c[0]!.target], [0n], [c[0]!.data], "x"))
        .to.be.revertedWithCustomError(protocol.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.seller.address, 0n, threshold);

      await expect(security.governor.connect(f.badNode).propose([c[0]!.target], [0n], [c[0]!.data], "x"))
        .to.be.revertedWithCustomError(security.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.badNode.address, STAKE.badNode, parseEther("5000"));
      await expect(developer.governor.connect(f.outsider).propose([c[0]!.target], [0n], [c[0]!.data], "x"))
        .to.be.revertedWithCustomError(developer.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.outsider.address, 0n, 1n);
    });

    it("voting power gained in the proposing block does not count toward the threshold", async () => {
      const governor = f.governance.protocol.governor;
      const c = await call(f.escrow, "setRevenueSplit", [NEW_SPLIT]);
      await f.token.connect(f.lateBuyer).delegate(f.lateBuyer.address);
      await networkHelpers.mine();
      // Buy and propose in the same block: the threshold reads the votes one second earlier.
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const bought = await f.token.connect(f.seller).transfer(f.lateBuyer.address, parseEther("100000"));
        const tx = await governor
          .connect(f.lateBuyer)
          .propose([c.target], [0n], [c.data], "flash", { gasLimit: 1_000_000 });
        await networkHelpers.mine();
        const [boughtIn, proposedIn] = await Promise.all(
          [bought.hash, tx.hash].map(async (h) => (await ethers.provider.getTransactionReceipt(h))!.blockNumber),
        );
        expect(boughtIn).to.equal(proposedIn);
        await expect(tx)
          .to.be.revertedWithCustomError(governor, "GovernorInsufficientProposerVotes")
          .withArgs(f.lateBuyer.address, 0n, parseEther("100000"));
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
    });
  });

  describe("votes without voting power", () => {
    it("count zero, whoever casts them", async () => {
      const governor = f.governance.protocol.governor;
      const p = await splitProposal();
      await toVoting(governor, p);
      // An outsider with nothing, the seller with 5M undelegated MESH, a developer with a
      // credential but no MESH, a node operator whose stake is not MESH votes.
      for (const who of [f.outsider, f.seller, f.dev1, f.secVoter1]) {
        await expect(governor.connect(who).castVote(p.id, Vote.For))
          .to.emit(governor, "VoteCast")
          .withArgs(who.address, p.id, Vote.For, 0n, "");
      }
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, 0n, 0n]);
      await toDeadline(governor, p);
      expect(await governor.state(p.id)).to.equal(ProposalState.Defeated);
    });
  });

  describe("the Developer DAO with the deploy defaults", () => {
    /** The real deploy: default governance params, no initial developers, a 50M MESH fund. */
    async function defaultDeveloperDaoFixture() {
      const [deployer, attacker] = (await ethers.getSigners()) as [GovFixture["deployer"], GovFixture["deployer"]];
      const { protocol } = await deployProtocol(deployer, { network: "test" });
      const { governance, addresses } = await deployGovernance(protocol, deployer, defaultGovernanceParams());
      return { ...protocol, governance, addresses, attacker };
    }

    // Regression: with the defaults, 10% of a handful of credentials rounds down to 0, and
    // anyone can earn a credential (free listing + 30 days). The governor's quorum floor
    // (minQuorum, 3 votes for the Developer DAO) stops a lone claimant from passing a transfer
    // of the whole developer fund to itself.
    it("a lone, freshly claimed credential cannot pass a proposal (quorum floor)", async () => {
      const d = await networkHelpers.loadFixture(defaultDeveloperDaoFixture);
      const { governor } = d.governance.developer;
      await d.registry.connect(d.attacker).register(apiInput(await d.token.getAddress()));
      await networkHelpers.time.increase(30 * DAY);
      await d.credential.connect(d.attacker).claim(1n);
      await networkHelpers.mine();
      const fund = await d.token.balanceOf(d.addresses.DeveloperTimelock);
      expect(fund).to.equal(parseEther("50000000"));
      const p = await propose(
        governor,
        d.attacker,
        [await call(d.token, "transfer", [d.attacker.address, fund])],
        "DIP: fund my project",
      );
      await toVoting(governor, p);
      await governor.connect(d.attacker).castVote(p.id, Vote.For);
      await toDeadline(governor, p);
      expect(await governor.quorum(await governor.proposalSnapshot(p.id))).to.equal(3n);
      expect(await governor.state(p.id)).to.equal(ProposalState.Defeated);
    });
  });

  it("the proposer can cancel a pending proposal, and nobody else can", async () => {
    const governor = f.governance.protocol.governor;
    const p = await propose(
      governor,
      f.voter1,
      [await call(f.escrow, "setRevenueSplit", [NEW_SPLIT])],
      "PIP: withdrawn before the vote",
    );
    const cancel = (who: typeof f.voter1) =>
      governor.connect(who).cancel(p.targets, p.values, p.calldatas, p.descriptionHash);
    await expect(cancel(f.voter2)).to.be.revertedWithCustomError(governor, "GovernorUnableToCancel");
    await expect(cancel(f.voter1)).to.emit(governor, "ProposalCanceled").withArgs(p.id);
    expect(await governor.state(p.id)).to.equal(ProposalState.Canceled);
  });

  it("a passed proposal runs once", async () => {
    const governor = f.governance.protocol.governor;
    const p = await readyProposal(
      f,
      "protocol",
      f.voter1,
      [f.voter1, f.voter2],
      [await call(f.escrow, "setRevenueSplit", [NEW_SPLIT])],
      "PIP: once",
    );
    await execute(governor, p);
    await expect(execute(governor, p))
      .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
      .withArgs(p.id, ProposalState.Executed, stateBitmap(ProposalState.Queued));
  });
});
