import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { encodeBytes32String, getCreateAddress, Signature, ZeroAddress, ZeroHash } from "ethers";
import { NodeStaking__factory } from "../../../types/ethers-contracts/index.js";
import { deployFixture, ethers, networkHelpers, NodeType, DAY, type Fixture } from "../helpers/fixture.js";
import {
  E,
  EU,
  MAX_UNBONDING_PERIOD,
  MAX_URL_LENGTH,
  MIN_STAKE,
  MIN_STAKES,
  MIN_UNBONDING_PERIOD,
  NODE_URL,
  NODE_URL_2,
  NodeStatus,
  ROLE_PROTOCOL,
  ROLE_SECURITY,
  UNBONDING_PERIOD,
  US,
  expectNoNode,
  expectSolvent,
  minedAt,
  mineBlock,
  nextTimestamp,
  register,
} from "../helpers/staking.js";

const REASON = encodeBytes32String("double-serve");
const NODE_TYPES = [NodeType.Edge, NodeType.Mobile, NodeType.Cloud, NodeType.Validator] as const;

describe("NodeStaking", () => {
  let f: Fixture;
  let staking: string;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    staking = await f.staking.getAddress();
  });

  // Solvency after every scenario, whatever it did.
  afterEach(async () => {
    await expectSolvent(f);
  });

  // -------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired as the deploy params say", async () => {
      expect(await f.staking.stakingToken()).to.equal(await f.token.getAddress());
      expect(await f.staking.treasury()).to.equal(f.deployer.address);
      expect(await f.staking.authority()).to.equal(await f.accessManager.getAddress());
      expect(await f.staking.unbondingPeriod()).to.equal(UNBONDING_PERIOD);
      for (const t of NODE_TYPES) expect(await f.staking.minStake(t)).to.equal(MIN_STAKE[t]);
      expect(await f.staking.totalStaked()).to.equal(0n);
      expect(await f.staking.totalUnbonding()).to.equal(0n);
      expect(await f.staking.MIN_UNBONDING_PERIOD()).to.equal(MIN_UNBONDING_PERIOD);
      expect(await f.staking.MAX_UNBONDING_PERIOD()).to.equal(MAX_UNBONDING_PERIOD);
      expect(await f.staking.MAX_URL_LENGTH()).to.equal(BigInt(MAX_URL_LENGTH));
    });

    it("constructor emits the initial parameters", async () => {
      const minStakes = [E(1), E(2), E(3), E(4)] as const;
      const fresh = await new NodeStaking__factory(f.deployer).deploy(
        await f.accessManager.getAddress(),
        await f.token.getAddress(),
        f.outsider.address,
        2 * DAY,
        [...minStakes],
      );
      const tx = fresh.deploymentTransaction()!;
      await expect(tx)
        .to.emit(fresh, "UnbondingPeriodUpdated")
        .withArgs(2 * DAY);
      for (const t of NODE_TYPES) {
        await expect(tx).to.emit(fresh, "MinStakeUpdated").withArgs(t, minStakes[t]);
        expect(await fresh.minStake(t)).to.equal(minStakes[t]);
      }
      expect(await fresh.treasury()).to.equal(f.outsider.address);
      expect(await fresh.unbondingPeriod()).to.equal(BigInt(2 * DAY));
    });

    it("constructor rejects a zero authority, token or treasury (ZeroAddress)", async () => {
      const factory = new NodeStaking__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      const mins = MIN_STAKES;
      await expect(factory.deploy(ZeroAddress, token, f.deployer.address, 7 * DAY, mins)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, ZeroAddress, f.deployer.address, 7 * DAY, mins)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, token, ZeroAddress, 7 * DAY, mins)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
    });

    it("constructor rejects the contract itself as treasury (InvalidTreasury)", async () => {
      const factory = new NodeStaking__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      // The address the deployment will get: CREATE from the deployer at its next nonce.
      const nonce = await ethers.provider.getTransactionCount(f.deployer.address, "pending");
      const self = getCreateAddress({ from: f.deployer.address, nonce });
      await expect(factory.deploy(am, token, self, 7 * DAY, MIN_STAKES))
        .to.be.revertedWithCustomError(factory, "InvalidTreasury")
        .withArgs(self);
      expect(await ethers.provider.getCode(self)).to.equal("0x");
    });

    it("constructor validates the unbonding period and the minimum stakes", async () => {
      const factory = new NodeStaking__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      const mins = MIN_STAKES;
      await expect(factory.deploy(am, token, f.deployer.address, DAY - 1, mins))
        .to.be.revertedWithCustomError(factory, "UnbondingPeriodOutOfRange")
        .withArgs(DAY - 1, MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD);
      await expect(
        factory.deploy(am, token, f.deployer.address, 7 * DAY, [E(1), E(1), 0n, E(1)]),
      ).to.be.revertedWithCustomError(factory, "ZeroAmount");
    });
  });

  // -------------------------------------------------------------------- registerNode

  describe("registerNode", () => {
    it("registers, stakes, pulls the tokens and self-delegates", async () => {
      const amount = E(1500);
      const t = await nextTimestamp();
      const tx = register(f, f.operator, { nodeType: NodeType.Edge, region: EU, url: NODE_URL, capacity: 250, amount });
      await expect(tx)
        .to.emit(f.staking, "NodeRegistered")
        .withArgs(f.operator.address, NodeType.Edge, EU, NODE_URL, 250, amount);
      await expect(tx).to.emit(f.staking, "Staked").withArgs(f.operator.address, amount, amount);
      await expect(tx)
        .to.emit(f.staking, "DelegateChanged")
        .withArgs(f.operator.address, ZeroAddress, f.operator.address);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator, staking], [-amount, amount]);

      const n = await f.staking.getNode(f.operator.address);
      expect(n.stake).to.equal(amount);
      expect(n.unbonding).to.equal(0n);
      expect(n.unbondingReleaseAt).to.equal(0n);
      expect(n.registeredAt).to.equal(t);
      expect(n.capacity).to.equal(250n);
      expect(n.nodeType).to.equal(BigInt(NodeType.Edge));
      expect(n.status).to.equal(NodeStatus.Active);
      expect(n.region).to.equal(EU);
      expect(n.url).to.equal(NODE_URL);
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(amount);
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
      expect(await f.staking.totalStaked()).to.equal(amount);
      expect(await f.staking.totalUnbonding()).to.equal(0n);
      expect(await f.staking.delegates(f.operator.address)).to.equal(f.operator.address);
    });

    for (const t of NODE_TYPES) {
      it(`accepts exactly the minimum stake of node type ${t} and rejects one wei less`, async () => {
        await expect(register(f, f.operator, { nodeType: t, amount: MIN_STAKE[t] - 1n }))
          .to.be.revertedWithCustomError(f.staking, "StakeBelowMinimum")
          .withArgs(MIN_STAKE[t] - 1n, MIN_STAKE[t]);
        await expect(register(f, f.operator, { nodeType: t, amount: MIN_STAKE[t] })).to.emit(
          f.staking,
          "NodeRegistered",
        );
        const n = await f.staking.getNode(f.operator.address);
        expect(n.nodeType).to.equal(BigInt(t));
        expect(await f.staking.isActive(f.operator.address)).to.equal(true);
      });
    }

    it("sums the stakes of several operators", async () => {
      await register(f, f.operator, { amount: E(1000) });
      await register(f, f.operator2, { nodeType: NodeType.Cloud, amount: E(6000) });
      expect(await f.staking.totalStaked()).to.equal(E(7000));
      expect(await f.token.balanceOf(staking)).to.equal(E(7000));
    });

    it("reverts NodeAlreadyActive for an active operator", async () => {
      await register(f, f.operator);
      await expect(register(f, f.operator))
        .to.be.revertedWithCustomError(f.staking, "NodeAlreadyActive")
        .withArgs(f.operator.address);
    });

    it("reverts ZeroAmount for a zero stake", async () => {
      await expect(register(f, f.operator, { amount: 0n })).to.be.revertedWithCustomError(f.staking, "ZeroAmount");
    });

    it("validates the node info (ZeroRegion, EmptyNodeUrl, NodeUrlTooLong, ZeroCapacity)", async () => {
      await expect(register(f, f.operator, { region: ZeroHash })).to.be.revertedWithCustomError(
        f.staking,
        "ZeroRegion",
      );
      await expect(register(f, f.operator, { url: "" })).to.be.revertedWithCustomError(f.staking, "EmptyNodeUrl");
      await expect(register(f, f.operator, { url: "x".repeat(MAX_URL_LENGTH + 1) }))
        .to.be.revertedWithCustomError(f.staking, "NodeUrlTooLong")
        .withArgs(MAX_URL_LENGTH + 1, MAX_URL_LENGTH);
      await expect(register(f, f.operator, { capacity: 0 })).to.be.revertedWithCustomError(f.staking, "ZeroCapacity");
    });

    it("counts the URL length in bytes: 256 bytes pass, 257 fail", async () => {
      // "é" is two bytes in UTF-8: 128 characters = 256 bytes, plus one ASCII byte = 257.
      const url256 = "é".repeat(128);
      await expect(register(f, f.operator, { url: url256 + "a" }))
        .to.be.revertedWithCustomError(f.staking, "NodeUrlTooLong")
        .withArgs(257, MAX_URL_LENGTH);
      await register(f, f.operator, { url: url256 });
      expect((await f.staking.getNode(f.operator.address)).url).to.equal(url256);
    });

    it("needs an approval (the token transfer reverts without one)", async () => {
      await f.token.connect(f.operator).approve(staking, 0n);
      await expect(register(f, f.operator)).to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance");
    });
  });

  // -------------------------------------------------------------------- updateNode

  describe("updateNode", () => {
    it("changes region, URL and capacity and nothing else", async () => {
      const registeredAt = await minedAt(await register(f, f.operator, { nodeType: NodeType.Cloud, amount: E(5000) }));
      await expect(f.staking.connect(f.operator).updateNode(US, NODE_URL_2, 42))
        .to.emit(f.staking, "NodeUpdated")
        .withArgs(f.operator.address, US, NODE_URL_2, 42);
      const n = await f.staking.getNode(f.operator.address);
      expect(n.region).to.equal(US);
      expect(n.url).to.equal(NODE_URL_2);
      expect(n.capacity).to.equal(42n);
      expect(n.stake).to.equal(E(5000));
      expect(n.nodeType).to.equal(BigInt(NodeType.Cloud));
      expect(n.status).to.equal(NodeStatus.Active);
      expect(n.registeredAt).to.equal(registeredAt);
    });

    it("accepts a 256-byte URL and rejects 257 bytes", async () => {
      await register(f, f.operator);
      await expect(f.staking.connect(f.operator).updateNode(US, "u".repeat(MAX_URL_LENGTH + 1), 1))
        .to.be.revertedWithCustomError(f.staking, "NodeUrlTooLong")
        .withArgs(MAX_URL_LENGTH + 1, MAX_URL_LENGTH);
      await expect(f.staking.connect(f.operator).updateNode(US, "u".repeat(MAX_URL_LENGTH), 1))
        .to.emit(f.staking, "NodeUpdated")
        .withArgs(f.operator.address, US, "u".repeat(MAX_URL_LENGTH), 1);
    });

    it("validates the node info", async () => {
      await register(f, f.operator);
      const s = f.staking.connect(f.operator);
      await expect(s.updateNode(ZeroHash, NODE_URL, 1)).to.be.revertedWithCustomError(f.staking, "ZeroRegion");
      await expect(s.updateNode(US, "", 1)).to.be.revertedWithCustomError(f.staking, "EmptyNodeUrl");
      await expect(s.updateNode(US, NODE_URL, 0)).to.be.revertedWithCustomError(f.staking, "ZeroCapacity");
    });

    it("reverts NodeNotActive without a node and for an exiting node", async () => {
      await expect(f.staking.connect(f.operator).updateNode(US, NODE_URL, 1))
        .to.be.revertedWithCustomError(f.staking, "NodeNotActive")
        .withArgs(f.operator.address);
      await register(f, f.operator);
      await f.staking.connect(f.operator).unstake(MIN_STAKE[NodeType.Edge]);
      await expect(f.staking.connect(f.operator).updateNode(US, NODE_URL, 1))
        .to.be.revertedWithCustomError(f.staking, "NodeNotActive")
        .withArgs(f.operator.address);
    });
  });

  // -------------------------------------------------------------------- topUp

  describe("topUp", () => {
    it("adds to the stake, the total and the votes, and pulls the tokens", async () => {
      await register(f, f.operator, { amount: E(1000) });
      const votesBefore = await f.staking.getVotes(f.operator.address);
      const tx = f.staking.connect(f.operator).topUp(E(250));
      await expect(tx).to.emit(f.staking, "Staked").withArgs(f.operator.address, E(250), E(1250));
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator, staking], [-E(250), E(250)]);
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(E(1250));
      expect(await f.staking.totalStaked()).to.equal(E(1250));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(votesBefore + E(250));
    });

    it("reverts ZeroAmount", async () => {
      await register(f, f.operator);
      await expect(f.staking.connect(f.operator).topUp(0n)).to.be.revertedWithCustomError(f.staking, "ZeroAmount");
    });

    it("reverts NodeNotActive without a node and for an exiting node", async () => {
      await expect(f.staking.connect(f.operator).topUp(E(1)))
        .to.be.revertedWithCustomError(f.staking, "NodeNotActive")
        .withArgs(f.operator.address);
      await register(f, f.operator);
      await f.staking.connect(f.operator).unstake(MIN_STAKE[NodeType.Edge]);
      await expect(f.staking.connect(f.operator).topUp(E(1)))
        .to.be.revertedWithCustomError(f.staking, "NodeNotActive")
        .withArgs(f.operator.address);
    });
  });

  // -------------------------------------------------------------------- unstake

  describe("unstake", () => {
    it("moves stake into unbonding without moving tokens", async () => {
      await register(f, f.operator, { amount: E(3000) });
      const t = await nextTimestamp();
      const tx = f.staking.connect(f.operator).unstake(E(1200));
      await expect(tx)
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(1200), E(1200), t + UNBONDING_PERIOD);
      await expect(tx).not.to.emit(f.staking, "NodeExited");
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator, staking], [0n, 0n]);

      const n = await f.staking.getNode(f.operator.address);
      expect(n.stake).to.equal(E(1800));
      expect(n.unbonding).to.equal(E(1200));
      expect(n.unbondingReleaseAt).to.equal(t + UNBONDING_PERIOD);
      expect(n.status).to.equal(NodeStatus.Active);
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(E(1800));
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
      expect(await f.staking.totalStaked()).to.equal(E(1800));
      expect(await f.staking.totalUnbonding()).to.equal(E(1200));
    });

    it("may leave exactly the minimum", async () => {
      await register(f, f.operator, { amount: E(1500) });
      await f.staking.connect(f.operator).unstake(E(500));
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(MIN_STAKE[NodeType.Edge]);
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
    });

    it("a full unstake exits the node (status Exiting, NodeExited)", async () => {
      await register(f, f.operator, { amount: E(2000) });
      const t = await nextTimestamp();
      const tx = f.staking.connect(f.operator).unstake(E(2000));
      await expect(tx)
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(2000), E(2000), t + UNBONDING_PERIOD);
      await expect(tx).to.emit(f.staking, "NodeExited").withArgs(f.operator.address);
      const n = await f.staking.getNode(f.operator.address);
      expect(n.status).to.equal(NodeStatus.Exiting);
      expect(n.stake).to.equal(0n);
      expect(n.unbonding).to.equal(E(2000));
      expect(n.url).to.equal(NODE_URL); // the record stays until the funds are withdrawn
      expect(await f.staking.isActive(f.operator.address)).to.equal(false);
      expect(await f.staking.totalStaked()).to.equal(0n);
      expect(await f.staking.totalUnbonding()).to.equal(E(2000));
    });

    it("reverts StakeBelowMinimum when the remainder is non-zero but below the minimum", async () => {
      await register(f, f.operator, { amount: E(1500) });
      await expect(f.staking.connect(f.operator).unstake(E(500) + 1n))
        .to.be.revertedWithCustomError(f.staking, "StakeBelowMinimum")
        .withArgs(E(1000) - 1n, MIN_STAKE[NodeType.Edge]);
    });

    it("reverts ZeroAmount", async () => {
      await register(f, f.operator);
      await expect(f.staking.connect(f.operator).unstake(0n)).to.be.revertedWithCustomError(f.staking, "ZeroAmount");
    });

    it("reverts InsufficientStake above the active stake (unbonding funds do not count)", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(500));
      await expect(f.staking.connect(f.operator).unstake(E(1500) + 1n))
        .to.be.revertedWithCustomError(f.staking, "InsufficientStake")
        .withArgs(E(1500) + 1n, E(1500));
    });

    it("reverts NodeNotActive without a node and for an exiting node", async () => {
      await expect(f.staking.connect(f.operator).unstake(E(1)))
        .to.be.revertedWithCustomError(f.staking, "NodeNotActive")
        .withArgs(f.operator.address);
      await register(f, f.operator);
      await f.staking.connect(f.operator).unstake(MIN_STAKE[NodeType.Edge]);
      await expect(f.staking.connect(f.operator).unstake(E(1)))
        .to.be.revertedWithCustomError(f.staking, "NodeNotActive")
        .withArgs(f.operator.address);
    });

    it("a second unstake restarts the wait for all unbonding funds", async () => {
      await register(f, f.operator, { amount: E(3000) });
      const t1 = await nextTimestamp();
      await f.staking.connect(f.operator).unstake(E(500));
      const firstRelease = t1 + UNBONDING_PERIOD;

      const t2 = await nextTimestamp(3 * DAY);
      await expect(f.staking.connect(f.operator).unstake(E(700)))
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(700), E(1200), t2 + UNBONDING_PERIOD);
      const n = await f.staking.getNode(f.operator.address);
      expect(n.unbonding).to.equal(E(1200));
      expect(n.unbondingReleaseAt).to.equal(t2 + UNBONDING_PERIOD);

      // The first tranche is not released on its own schedule any more.
      await networkHelpers.time.setNextBlockTimestamp(firstRelease);
      await expect(f.staking.connect(f.operator).withdraw({ gasLimit: 500_000 }))
        .to.be.revertedWithCustomError(f.staking, "StillUnbonding")
        .withArgs(t2 + UNBONDING_PERIOD);

      await networkHelpers.time.setNextBlockTimestamp(t2 + UNBONDING_PERIOD);
      await expect(f.staking.connect(f.operator).withdraw()).to.changeTokenBalances(
        ethers,
        f.token,
        [f.operator, staking],
        [E(1200), -E(1200)],
      );
    });

    it("releaseAt uses the period in force at unstake time, even if governance changes it later", async () => {
      await register(f, f.operator, { amount: E(3000) });
      const t1 = await nextTimestamp();
      await f.staking.connect(f.operator).unstake(E(500));
      const release = t1 + UNBONDING_PERIOD;

      await f.staking.connect(f.deployer).setUnbondingPeriod(MAX_UNBONDING_PERIOD);
      expect((await f.staking.getNode(f.operator.address)).unbondingReleaseAt).to.equal(release);

      await networkHelpers.time.setNextBlockTimestamp(release);
      await expect(f.staking.connect(f.operator).withdraw())
        .to.emit(f.staking, "Withdrawn")
        .withArgs(f.operator.address, E(500));

      // A later unstake uses the new period.
      const t2 = await nextTimestamp();
      await expect(f.staking.connect(f.operator).unstake(E(500)))
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(500), E(500), t2 + MAX_UNBONDING_PERIOD);
    });

    it("a shortened period does not shorten funds already unbonding", async () => {
      await register(f, f.operator, { amount: E(3000) });
      const t1 = await nextTimestamp();
      await f.staking.connect(f.operator).unstake(E(500));
      await f.staking.connect(f.deployer).setUnbondingPeriod(MIN_UNBONDING_PERIOD);
      await networkHelpers.time.setNextBlockTimestamp(t1 + MIN_UNBONDING_PERIOD);
      await expect(f.staking.connect(f.operator).withdraw({ gasLimit: 500_000 }))
        .to.be.revertedWithCustomError(f.staking, "StillUnbonding")
        .withArgs(t1 + UNBONDING_PERIOD);
    });

    it("a later unstake under a shortened period does not shorten the wait on earlier funds", async () => {
      await register(f, f.operator, { amount: E(3000) });
      await f.staking.connect(f.deployer).setUnbondingPeriod(MAX_UNBONDING_PERIOD);
      const t1 = await nextTimestamp();
      await f.staking.connect(f.operator).unstake(E(500));
      const release = t1 + MAX_UNBONDING_PERIOD;

      await f.staking.connect(f.deployer).setUnbondingPeriod(MIN_UNBONDING_PERIOD);
      const t2 = await nextTimestamp(DAY);
      expect(t2 + MIN_UNBONDING_PERIOD).to.be.lessThan(release);
      await expect(f.staking.connect(f.operator).unstake(E(100)))
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(100), E(600), release);
      const n = await f.staking.getNode(f.operator.address);
      expect(n.unbonding).to.equal(E(600));
      expect(n.unbondingReleaseAt).to.equal(release);

      // Neither the new period nor the second unstake lets anything out early.
      await networkHelpers.time.setNextBlockTimestamp(t2 + MIN_UNBONDING_PERIOD);
      await expect(f.staking.connect(f.operator).withdraw({ gasLimit: 500_000 }))
        .to.be.revertedWithCustomError(f.staking, "StillUnbonding")
        .withArgs(release);
      await networkHelpers.time.setNextBlockTimestamp(release - 1n);
      await expect(f.staking.connect(f.operator).withdraw({ gasLimit: 500_000 }))
        .to.be.revertedWithCustomError(f.staking, "StillUnbonding")
        .withArgs(release);
      expect(BigInt(await networkHelpers.time.latest())).to.equal(release - 1n);

      await networkHelpers.time.setNextBlockTimestamp(release);
      const tx = f.staking.connect(f.operator).withdraw();
      await expect(tx).to.emit(f.staking, "Withdrawn").withArgs(f.operator.address, E(600));
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator, staking], [E(600), -E(600)]);
    });

    it("under a shortened period releaseAt is the later of the current release and now + period", async () => {
      await register(f, f.operator, { amount: E(3000) });
      const t1 = await nextTimestamp();
      await f.staking.connect(f.operator).unstake(E(500));
      const release = t1 + UNBONDING_PERIOD;
      await f.staking.connect(f.deployer).setUnbondingPeriod(MIN_UNBONDING_PERIOD);

      // now + 1 day is exactly the current release: it stays.
      await networkHelpers.time.setNextBlockTimestamp(release - MIN_UNBONDING_PERIOD);
      await expect(f.staking.connect(f.operator).unstake(E(100)))
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(100), E(600), release);

      // One second later, now + 1 day is past the current release: the new, later time wins.
      const t3 = await nextTimestamp(1);
      await expect(f.staking.connect(f.operator).unstake(E(100)))
        .to.emit(f.staking, "UnstakeStarted")
        .withArgs(f.operator.address, E(100), E(700), t3 + MIN_UNBONDING_PERIOD);
      expect((await f.staking.getNode(f.operator.address)).unbondingReleaseAt).to.equal(release + 1n);
    });
  });

  // -------------------------------------------------------------------- withdraw

  describe("withdraw", () => {
    it("fails one second before the release and succeeds exactly at it", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(400));
      const { unbondingReleaseAt: releaseAt } = await f.staking.getNode(f.operator.address);

      await networkHelpers.time.setNextBlockTimestamp(releaseAt - 1n);
      // An explicit gas limit skips estimation, so the failing call is really mined at releaseAt - 1.
      await expect(f.staking.connect(f.operator).withdraw({ gasLimit: 500_000 }))
        .to.be.revertedWithCustomError(f.staking, "StillUnbonding")
        .withArgs(releaseAt);
      expect(BigInt(await networkHelpers.time.latest())).to.equal(releaseAt - 1n);

      await networkHelpers.time.setNextBlockTimestamp(releaseAt);
      const tx = f.staking.connect(f.operator).withdraw();
      await expect(tx).to.emit(f.staking, "Withdrawn").withArgs(f.operator.address, E(400));
      await expect(tx).not.to.emit(f.staking, "NodeExited");
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator, staking], [E(400), -E(400)]);

      const n = await f.staking.getNode(f.operator.address);
      expect(n.unbonding).to.equal(0n);
      expect(n.unbondingReleaseAt).to.equal(0n);
      expect(n.stake).to.equal(E(1600));
      expect(n.status).to.equal(NodeStatus.Active);
      expect(await f.staking.totalUnbonding()).to.equal(0n);
      expect(await f.staking.totalStaked()).to.equal(E(1600));
    });

    it("after a full exit, deletes the node (status None)", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(2000));
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      const tx = f.staking.connect(f.operator).withdraw();
      await expect(tx).to.emit(f.staking, "Withdrawn").withArgs(f.operator.address, E(2000));
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.operator, staking], [E(2000), -E(2000)]);
      await expectNoNode(f, f.operator.address);
      expect(await f.staking.totalStaked()).to.equal(0n);
      expect(await f.staking.totalUnbonding()).to.equal(0n);
      expect(await f.token.balanceOf(f.operator.address)).to.equal(E(100000));
    });

    it("reverts NothingToWithdraw without a node, without unbonding funds and after a withdrawal", async () => {
      await expect(f.staking.connect(f.operator).withdraw())
        .to.be.revertedWithCustomError(f.staking, "NothingToWithdraw")
        .withArgs(f.operator.address);
      await register(f, f.operator, { amount: E(2000) });
      await expect(f.staking.connect(f.operator).withdraw())
        .to.be.revertedWithCustomError(f.staking, "NothingToWithdraw")
        .withArgs(f.operator.address);
      await f.staking.connect(f.operator).unstake(E(500));
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      await f.staking.connect(f.operator).withdraw();
      await expect(f.staking.connect(f.operator).withdraw())
        .to.be.revertedWithCustomError(f.staking, "NothingToWithdraw")
        .withArgs(f.operator.address);
    });

    it("re-registering while Exiting keeps the pending unbonding funds and their release time", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(2000));
      const { unbondingReleaseAt: releaseAt } = await f.staking.getNode(f.operator.address);
      await networkHelpers.time.increase(DAY);

      const t = await nextTimestamp();
      await expect(
        register(f, f.operator, {
          nodeType: NodeType.Mobile,
          region: US,
          url: NODE_URL_2,
          capacity: 7,
          amount: E(300),
        }),
      )
        .to.emit(f.staking, "NodeRegistered")
        .withArgs(f.operator.address, NodeType.Mobile, US, NODE_URL_2, 7, E(300));
      let n = await f.staking.getNode(f.operator.address);
      expect(n.status).to.equal(NodeStatus.Active);
      expect(n.nodeType).to.equal(BigInt(NodeType.Mobile));
      expect(n.stake).to.equal(E(300));
      expect(n.unbonding).to.equal(E(2000));
      expect(n.unbondingReleaseAt).to.equal(releaseAt);
      expect(n.registeredAt).to.equal(t);
      expect(n.region).to.equal(US);
      expect(n.url).to.equal(NODE_URL_2);
      expect(n.capacity).to.equal(7n);
      expect(await f.staking.totalStaked()).to.equal(E(300));
      expect(await f.staking.totalUnbonding()).to.equal(E(2000));

      await networkHelpers.time.setNextBlockTimestamp(releaseAt);
      await expect(f.staking.connect(f.operator).withdraw()).to.changeTokenBalances(
        ethers,
        f.token,
        [f.operator, staking],
        [E(2000), -E(2000)],
      );
      n = await f.staking.getNode(f.operator.address);
      expect(n.status).to.equal(NodeStatus.Active); // an active node is not deleted by a withdrawal
      expect(n.stake).to.equal(E(300));
      expect(n.unbonding).to.equal(0n);
    });

    it("a fully withdrawn operator can register afresh", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(2000));
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      await f.staking.connect(f.operator).withdraw();
      await register(f, f.operator, { nodeType: NodeType.Validator, amount: E(10000) });
      const n = await f.staking.getNode(f.operator.address);
      expect(n.status).to.equal(NodeStatus.Active);
      expect(n.stake).to.equal(E(10000));
      expect(n.unbonding).to.equal(0n);
      expect(n.unbondingReleaseAt).to.equal(0n);
    });
  });

  // -------------------------------------------------------------------- slash

  describe("slash", () => {
    it("takes from the active stake, sends it to the treasury and lowers the votes", async () => {
      await register(f, f.operator, { amount: E(3000) });
      const votesBefore = await f.staking.getVotes(f.operator.address);
      const tx = f.staking.connect(f.deployer).slash(f.operator.address, E(1000), REASON);
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(1000), 0n, f.deployer.address, REASON);
      await expect(tx).not.to.emit(f.staking, "NodeExited");
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [staking, f.deployer, f.operator],
        [-E(1000), E(1000), 0n],
      );
      const n = await f.staking.getNode(f.operator.address);
      expect(n.stake).to.equal(E(2000));
      expect(n.unbonding).to.equal(0n);
      expect(n.status).to.equal(NodeStatus.Active);
      expect(await f.staking.totalStaked()).to.equal(E(2000));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(votesBefore - E(1000));
    });

    it("below the minimum the node stays registered but is not active", async () => {
      await register(f, f.operator, { amount: E(1200) });
      await f.staking.connect(f.deployer).slash(f.operator.address, E(500), REASON);
      expect((await f.staking.getNode(f.operator.address)).status).to.equal(NodeStatus.Active);
      expect(await f.staking.isActive(f.operator.address)).to.equal(false);
      await f.staking.connect(f.operator).topUp(E(300));
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
    });

    it("takes the stake first, then unbonding funds (fromStake, fromUnbonding)", async () => {
      await register(f, f.operator, { amount: E(3000) });
      await f.staking.connect(f.operator).unstake(E(1000)); // stake 2000, unbonding 1000
      const tx = f.staking.connect(f.deployer).slash(f.operator.address, E(2600), REASON);
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(2000), E(600), f.deployer.address, REASON);
      await expect(tx).to.emit(f.staking, "NodeExited").withArgs(f.operator.address);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [staking, f.deployer], [-E(2600), E(2600)]);
      const n = await f.staking.getNode(f.operator.address);
      expect(n.stake).to.equal(0n);
      expect(n.unbonding).to.equal(E(400));
      expect(n.status).to.equal(NodeStatus.Exiting);
      expect(await f.staking.totalStaked()).to.equal(0n);
      expect(await f.staking.totalUnbonding()).to.equal(E(400));
    });

    it("an operator who unstaked everything cannot dodge it: unbonding funds are slashed", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(2000));
      const { unbondingReleaseAt: releaseAt } = await f.staking.getNode(f.operator.address);

      const tx = f.staking.connect(f.deployer).slash(f.operator.address, E(1500), REASON);
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, 0n, E(1500), f.deployer.address, REASON);
      await expect(tx).not.to.emit(f.staking, "NodeExited"); // already exiting
      const n = await f.staking.getNode(f.operator.address);
      expect(n.status).to.equal(NodeStatus.Exiting);
      expect(n.unbonding).to.equal(E(500));
      expect(n.unbondingReleaseAt).to.equal(releaseAt);
      expect(await f.staking.totalUnbonding()).to.equal(E(500));

      // Only the remainder comes back, and the exited node is then gone.
      await networkHelpers.time.setNextBlockTimestamp(releaseAt);
      await expect(f.staking.connect(f.operator).withdraw()).to.changeTokenBalances(
        ethers,
        f.token,
        [f.operator, staking],
        [E(500), -E(500)],
      );
      await expectNoNode(f, f.operator.address);
      expect(await f.token.balanceOf(f.operator.address)).to.equal(E(100000) - E(1500));
    });

    it("caps at what is there and then deletes the node", async () => {
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(500));
      const tx = f.staking.connect(f.deployer).slash(f.operator.address, E(1_000_000), REASON);
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(1500), E(500), f.deployer.address, REASON);
      await expect(tx).to.emit(f.staking, "NodeExited").withArgs(f.operator.address);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [staking, f.deployer, f.operator],
        [-E(2000), E(2000), 0n],
      );
      await expectNoNode(f, f.operator.address);
      expect(await f.staking.totalStaked()).to.equal(0n);
      expect(await f.staking.totalUnbonding()).to.equal(0n);
      await expect(f.staking.connect(f.operator).withdraw())
        .to.be.revertedWithCustomError(f.staking, "NothingToWithdraw")
        .withArgs(f.operator.address);
    });

    it("slashing the whole stake (no unbonding) emits NodeExited and deletes the node", async () => {
      await register(f, f.operator, { amount: E(2000) });
      const tx = f.staking.connect(f.deployer).slash(f.operator.address, E(2000), REASON);
      await expect(tx).to.emit(f.staking, "NodeExited").withArgs(f.operator.address);
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(2000), 0n, f.deployer.address, REASON);
      await expectNoNode(f, f.operator.address);
    });

    it("sends slashed tokens to the current treasury, never to the operator or the old treasury", async () => {
      const newTreasury = f.rest[0]!;
      await f.staking.connect(f.deployer).setTreasury(newTreasury.address);
      await register(f, f.operator, { amount: E(2000) });
      await f.staking.connect(f.operator).unstake(E(500));
      const tx = f.staking.connect(f.deployer).slash(f.operator.address, E(1800), REASON);
      await expect(tx)
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(1500), E(300), newTreasury.address, REASON);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [staking, newTreasury, f.deployer, f.operator],
        [-E(1800), E(1800), 0n, 0n],
      );
    });

    it("reverts ZeroAmount", async () => {
      await register(f, f.operator);
      await expect(f.staking.connect(f.deployer).slash(f.operator.address, 0n, REASON)).to.be.revertedWithCustomError(
        f.staking,
        "ZeroAmount",
      );
    });

    it("reverts NothingToSlash without stake or unbonding funds", async () => {
      await expect(f.staking.connect(f.deployer).slash(f.operator.address, E(1), REASON))
        .to.be.revertedWithCustomError(f.staking, "NothingToSlash")
        .withArgs(f.operator.address);
      await register(f, f.operator);
      await f.staking.connect(f.operator).unstake(MIN_STAKE[NodeType.Edge]);
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      await f.staking.connect(f.operator).withdraw();
      await expect(f.staking.connect(f.deployer).slash(f.operator.address, E(1), REASON))
        .to.be.revertedWithCustomError(f.staking, "NothingToSlash")
        .withArgs(f.operator.address);
    });

    it("is restricted to the SECURITY role (AccessManagedUnauthorized)", async () => {
      await register(f, f.operator);
      await expect(f.staking.connect(f.outsider).slash(f.operator.address, E(1), REASON))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
      await expect(f.staking.connect(f.operator).slash(f.operator2.address, E(1), REASON))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.operator.address);
      // PROTOCOL is not enough ...
      await f.accessManager.connect(f.deployer).grantRole(ROLE_PROTOCOL, f.outsider.address, 0);
      await expect(f.staking.connect(f.outsider).slash(f.operator.address, E(1), REASON))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
      // ... SECURITY is.
      await f.accessManager.connect(f.deployer).grantRole(ROLE_SECURITY, f.outsider.address, 0);
      await expect(f.staking.connect(f.outsider).slash(f.operator.address, E(1), REASON))
        .to.emit(f.staking, "NodeSlashed")
        .withArgs(f.operator.address, E(1), 0n, f.deployer.address, REASON);
    });
  });

  // -------------------------------------------------------------------- governance setters

  describe("setMinStake", () => {
    it("sets one type's minimum and emits MinStakeUpdated", async () => {
      await expect(f.staking.connect(f.deployer).setMinStake(NodeType.Cloud, E(7000)))
        .to.emit(f.staking, "MinStakeUpdated")
        .withArgs(NodeType.Cloud, E(7000));
      expect(await f.staking.minStake(NodeType.Cloud)).to.equal(E(7000));
      for (const t of [NodeType.Edge, NodeType.Mobile, NodeType.Validator]) {
        expect(await f.staking.minStake(t)).to.equal(MIN_STAKE[t]);
      }
      await expect(register(f, f.operator, { nodeType: NodeType.Cloud, amount: E(6999) }))
        .to.be.revertedWithCustomError(f.staking, "StakeBelowMinimum")
        .withArgs(E(6999), E(7000));
    });

    it("raising the minimum makes a node inactive until it tops up", async () => {
      await register(f, f.operator, { amount: E(1000) });
      await f.staking.connect(f.deployer).setMinStake(NodeType.Edge, E(2000));
      expect(await f.staking.isActive(f.operator.address)).to.equal(false);
      expect((await f.staking.getNode(f.operator.address)).status).to.equal(NodeStatus.Active);
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(E(1000));

      // A partial unstake is refused; still under the minimum after a first top-up.
      await expect(f.staking.connect(f.operator).unstake(E(1)))
        .to.be.revertedWithCustomError(f.staking, "StakeBelowMinimum")
        .withArgs(E(1000) - E(1), E(2000));
      await f.staking.connect(f.operator).topUp(E(999));
      expect(await f.staking.isActive(f.operator.address)).to.equal(false);
      await f.staking.connect(f.operator).topUp(E(1));
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
    });

    it("lowering the minimum re-activates an under-staked node", async () => {
      await register(f, f.operator, { amount: E(1000) });
      await f.staking.connect(f.deployer).setMinStake(NodeType.Edge, E(1001));
      expect(await f.staking.isActive(f.operator.address)).to.equal(false);
      await f.staking.connect(f.deployer).setMinStake(NodeType.Edge, E(1000));
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
    });

    it("reverts ZeroAmount", async () => {
      await expect(f.staking.connect(f.deployer).setMinStake(NodeType.Edge, 0n)).to.be.revertedWithCustomError(
        f.staking,
        "ZeroAmount",
      );
    });

    it("is restricted to the PROTOCOL role (AccessManagedUnauthorized)", async () => {
      await expect(f.staking.connect(f.outsider).setMinStake(NodeType.Edge, E(1)))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
      await f.accessManager.connect(f.deployer).grantRole(ROLE_SECURITY, f.outsider.address, 0);
      await expect(f.staking.connect(f.outsider).setMinStake(NodeType.Edge, E(1)))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
      await f.accessManager.connect(f.deployer).grantRole(ROLE_PROTOCOL, f.outsider.address, 0);
      await expect(f.staking.connect(f.outsider).setMinStake(NodeType.Edge, E(1)))
        .to.emit(f.staking, "MinStakeUpdated")
        .withArgs(NodeType.Edge, E(1));
    });
  });

  describe("setUnbondingPeriod", () => {
    it("sets the period and emits UnbondingPeriodUpdated; the exact bounds are accepted", async () => {
      for (const p of [MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD, BigInt(30 * DAY)]) {
        await expect(f.staking.connect(f.deployer).setUnbondingPeriod(p))
          .to.emit(f.staking, "UnbondingPeriodUpdated")
          .withArgs(p);
        expect(await f.staking.unbondingPeriod()).to.equal(p);
      }
    });

    it("reverts UnbondingPeriodOutOfRange on both sides", async () => {
      for (const p of [0n, MIN_UNBONDING_PERIOD - 1n, MAX_UNBONDING_PERIOD + 1n, 2n ** 64n - 1n]) {
        await expect(f.staking.connect(f.deployer).setUnbondingPeriod(p))
          .to.be.revertedWithCustomError(f.staking, "UnbondingPeriodOutOfRange")
          .withArgs(p, MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD);
      }
      expect(await f.staking.unbondingPeriod()).to.equal(UNBONDING_PERIOD);
    });

    it("is restricted (AccessManagedUnauthorized)", async () => {
      await expect(f.staking.connect(f.outsider).setUnbondingPeriod(MIN_UNBONDING_PERIOD))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
    });
  });

  describe("setTreasury", () => {
    it("sets the treasury and emits TreasuryUpdated", async () => {
      await expect(f.staking.connect(f.deployer).setTreasury(f.outsider.address))
        .to.emit(f.staking, "TreasuryUpdated")
        .withArgs(f.outsider.address);
      expect(await f.staking.treasury()).to.equal(f.outsider.address);
    });

    it("reverts ZeroAddress", async () => {
      await expect(f.staking.connect(f.deployer).setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        f.staking,
        "ZeroAddress",
      );
    });

    it("reverts InvalidTreasury for the staking contract itself; the treasury is kept", async () => {
      await expect(f.staking.connect(f.deployer).setTreasury(staking))
        .to.be.revertedWithCustomError(f.staking, "InvalidTreasury")
        .withArgs(staking);
      expect(await f.staking.treasury()).to.equal(f.deployer.address);
    });

    it("is restricted (AccessManagedUnauthorized)", async () => {
      await expect(f.staking.connect(f.outsider).setTreasury(f.outsider.address))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
    });
  });

  describe("setAuthority", () => {
    it("only the current authority may change it", async () => {
      await expect(f.staking.connect(f.deployer).setAuthority(f.outsider.address))
        .to.be.revertedWithCustomError(f.staking, "AccessManagedUnauthorized")
        .withArgs(f.deployer.address);
      expect(await f.staking.isConsumingScheduledOp()).to.equal("0x00000000");
    });
  });

  // -------------------------------------------------------------------- views

  describe("views", () => {
    it("getNode, stakeOf and isActive of an unknown operator are empty", async () => {
      await expectNoNode(f, f.outsider.address);
    });

    it("stakeOf excludes unbonding funds; isActive follows status and minimum", async () => {
      await register(f, f.operator, { amount: E(1500) });
      await f.staking.connect(f.operator).unstake(E(500));
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(E(1000));
      expect(await f.staking.isActive(f.operator.address)).to.equal(true);
      await f.staking.connect(f.operator).unstake(E(1000));
      expect(await f.staking.stakeOf(f.operator.address)).to.equal(0n);
      expect(await f.staking.isActive(f.operator.address)).to.equal(false);
    });

    it("totalStaked and totalUnbonding track several operators", async () => {
      await register(f, f.operator, { amount: E(3000) });
      await register(f, f.operator2, { nodeType: NodeType.Mobile, amount: E(500) });
      await f.staking.connect(f.operator).unstake(E(1000));
      await f.staking.connect(f.operator2).unstake(E(500));
      expect(await f.staking.totalStaked()).to.equal(E(2000));
      expect(await f.staking.totalUnbonding()).to.equal(E(1500));
      await f.staking.connect(f.deployer).slash(f.operator2.address, E(100), REASON);
      expect(await f.staking.totalUnbonding()).to.equal(E(1400));
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      await f.staking.connect(f.operator).withdraw();
      expect(await f.staking.totalUnbonding()).to.equal(E(400));
      expect(await f.token.balanceOf(staking)).to.equal(E(2400));
    });
  });

  // -------------------------------------------------------------------- IVotes / ERC-5805 / ERC-6372

  describe("votes", () => {
    it("uses a timestamp clock (ERC-6372)", async () => {
      expect(await f.staking.CLOCK_MODE()).to.equal("mode=timestamp");
      await mineBlock();
      expect(await f.staking.clock()).to.equal(BigInt(await networkHelpers.time.latest()));
      await networkHelpers.time.increase(1000);
      expect(await f.staking.clock()).to.equal(BigInt(await networkHelpers.time.latest()));
    });

    it("first registration self-delegates", async () => {
      expect(await f.staking.delegates(f.operator.address)).to.equal(ZeroAddress);
      await expect(register(f, f.operator))
        .to.emit(f.staking, "DelegateChanged")
        .withArgs(f.operator.address, ZeroAddress, f.operator.address);
      expect(await f.staking.delegates(f.operator.address)).to.equal(f.operator.address);
    });

    // Regression: at commit 5cfc8c8 registerNode wrote node.stake before the automatic
    // `_delegate(msg.sender, msg.sender)`, which moved `_getVotingUnits` (= the new stake) to the
    // operator; `_transferVotingUnits(address(0), msg.sender, amount)` then added it again:
    // votes = 2 x stake, vote supply = stake, and the phantom half survived a full exit.
    it("first registration gives exactly the stake in votes (no double count)", async () => {
      const tx = register(f, f.operator, { amount: E(1000) });
      await expect(tx).to.emit(f.staking, "DelegateVotesChanged").withArgs(f.operator.address, 0n, E(1000));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(E(1000));
      await mineBlock();
      const t = BigInt(await networkHelpers.time.latest()) - 1n;
      expect(await f.staking.getPastVotes(f.operator.address, t)).to.equal(E(1000));
      expect(await f.staking.getPastTotalSupply(t)).to.equal(E(1000));
      await f.staking.connect(f.operator).unstake(E(1000));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(0n);
    });

    it("does not override an existing delegate", async () => {
      await f.staking.connect(f.operator).delegate(f.operator2.address);
      const tx = register(f, f.operator, { amount: E(1200) });
      await expect(tx).not.to.emit(f.staking, "DelegateChanged");
      await expect(tx).to.emit(f.staking, "DelegateVotesChanged").withArgs(f.operator2.address, 0n, E(1200));
      expect(await f.staking.delegates(f.operator.address)).to.equal(f.operator2.address);
      expect(await f.staking.getVotes(f.operator2.address)).to.equal(E(1200));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(0n);
    });

    it("an explicit self-delegation before registering also gives exactly the stake", async () => {
      await expect(f.staking.connect(f.operator).delegate(f.operator.address)).not.to.emit(
        f.staking,
        "DelegateVotesChanged",
      );
      const tx = register(f, f.operator, { amount: E(1200) });
      await expect(tx).not.to.emit(f.staking, "DelegateChanged");
      expect(await f.staking.getVotes(f.operator.address)).to.equal(E(1200));
    });

    it("votes follow topUp, unstake and slash", async () => {
      await register(f, f.operator, { amount: E(3000) });
      await expect(f.staking.connect(f.operator).topUp(E(1000)))
        .to.emit(f.staking, "DelegateVotesChanged")
        .withArgs(f.operator.address, E(3000), E(4000));
      await expect(f.staking.connect(f.operator).unstake(E(1500)))
        .to.emit(f.staking, "DelegateVotesChanged")
        .withArgs(f.operator.address, E(4000), E(2500));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(E(2500)); // unbonding funds carry no votes
      await expect(f.staking.connect(f.deployer).slash(f.operator.address, E(500), REASON))
        .to.emit(f.staking, "DelegateVotesChanged")
        .withArgs(f.operator.address, E(2500), E(2000));
      // A slash that only hits unbonding funds does not touch the votes.
      await f.staking.connect(f.operator).unstake(E(2000));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(0n);
      await expect(f.staking.connect(f.deployer).slash(f.operator.address, E(100), REASON)).not.to.emit(
        f.staking,
        "DelegateVotesChanged",
      );
    });

    it("votes of a delegatee drop when the delegator unstakes or is slashed", async () => {
      await f.staking.connect(f.operator).delegate(f.outsider.address);
      await register(f, f.operator, { amount: E(3000) });
      await f.staking.connect(f.operator).unstake(E(1000));
      expect(await f.staking.getVotes(f.outsider.address)).to.equal(E(2000));
      await f.staking.connect(f.deployer).slash(f.operator.address, E(1500), REASON);
      expect(await f.staking.getVotes(f.outsider.address)).to.equal(E(500));
    });

    it("delegate moves the current stake to the new delegatee", async () => {
      await register(f, f.operator, { amount: E(2000) });
      const tx = f.staking.connect(f.operator).delegate(f.operator2.address);
      await expect(tx)
        .to.emit(f.staking, "DelegateChanged")
        .withArgs(f.operator.address, f.operator.address, f.operator2.address);
      await expect(tx).to.emit(f.staking, "DelegateVotesChanged").withArgs(f.operator.address, E(2000), 0n);
      await expect(tx).to.emit(f.staking, "DelegateVotesChanged").withArgs(f.operator2.address, 0n, E(2000));
      expect(await f.staking.getVotes(f.operator.address)).to.equal(0n);
      expect(await f.staking.getVotes(f.operator2.address)).to.equal(E(2000));
    });

    it("is checkpointed: getPastVotes before a top-up does not include it", async () => {
      const t0 = await minedAt(await register(f, f.operator, { amount: E(1000) }));
      const t1 = await minedAt(await f.staking.connect(f.operator).topUp(E(500)));
      const t2 = await minedAt(await f.staking.connect(f.operator).unstake(E(300)));
      await mineBlock();
      const op = f.operator.address;
      expect(await f.staking.getPastVotes(op, t0 - 1n)).to.equal(0n);
      expect(await f.staking.getPastVotes(op, t0)).to.equal(E(1000));
      expect(await f.staking.getPastVotes(op, t1 - 1n)).to.equal(E(1000));
      expect(await f.staking.getPastVotes(op, t1)).to.equal(E(1500));
      expect(await f.staking.getPastVotes(op, t2)).to.equal(E(1200));
      expect(await f.staking.getPastTotalSupply(t1 - 1n)).to.equal(E(1000));
      expect(await f.staking.getPastTotalSupply(t1)).to.equal(E(1500));
      expect(await f.staking.getPastTotalSupply(t2)).to.equal(E(1200));
    });

    it("getPastVotes and getPastTotalSupply reject a present or future timepoint", async () => {
      await register(f, f.operator, { amount: E(1000) });
      const future = BigInt(await networkHelpers.time.latest()) + 1000n;
      await expect(f.staking.getPastVotes(f.operator.address, future))
        .to.be.revertedWithCustomError(f.staking, "ERC5805FutureLookup")
        .withArgs(future, anyValue);
      await expect(f.staking.getPastTotalSupply(future))
        .to.be.revertedWithCustomError(f.staking, "ERC5805FutureLookup")
        .withArgs(future, anyValue);
    });

    it("after a full exit and withdrawal the operator has no votes; re-registering restores exactly the stake", async () => {
      await register(f, f.operator, { amount: E(1000) });
      await f.staking.connect(f.operator).unstake(E(1000));
      await networkHelpers.time.increase(UNBONDING_PERIOD);
      await f.staking.connect(f.operator).withdraw();
      expect(await f.staking.getVotes(f.operator.address)).to.equal(0n);
      expect(await f.staking.delegates(f.operator.address)).to.equal(f.operator.address);
      await register(f, f.operator, { amount: E(1500) });
      expect(await f.staking.getVotes(f.operator.address)).to.equal(E(1500));
    });

    it("delegateBySig delegates with an EIP-712 signature and uses a nonce", async () => {
      await register(f, f.operator, { amount: E(1000) });
      const { chainId } = await ethers.provider.getNetwork();
      const nonce = await f.staking.nonces(f.operator.address);
      const expiry = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = Signature.from(
        await f.operator.signTypedData(
          { name: "Meshgate NodeStaking", version: "1", chainId, verifyingContract: staking },
          {
            Delegation: [
              { name: "delegatee", type: "address" },
              { name: "nonce", type: "uint256" },
              { name: "expiry", type: "uint256" },
            ],
          },
          { delegatee: f.operator2.address, nonce, expiry },
        ),
      );
      await expect(f.staking.connect(f.outsider).delegateBySig(f.operator2.address, nonce, expiry, sig.v, sig.r, sig.s))
        .to.emit(f.staking, "DelegateChanged")
        .withArgs(f.operator.address, f.operator.address, f.operator2.address);
      expect(await f.staking.nonces(f.operator.address)).to.equal(nonce + 1n);
      expect(await f.staking.getVotes(f.operator2.address)).to.equal(E(1000));
      await expect(
        f.staking.connect(f.outsider).delegateBySig(f.operator2.address, nonce, expiry, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(f.staking, "InvalidAccountNonce");
    });
  });
});
