import { expect } from "chai";
import fc from "fast-check";
import {
  getCreateAddress,
  MaxUint256,
  parseEther,
  parseUnits,
  ZeroAddress,
  type ContractTransactionResponse,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { AccessGroups__factory, MockFeeToken__factory } from "../../../types/ethers-contracts/index.js";
import { SNARK_FIELD } from "../../../sdk/zk/field.js";
import { GroupTree } from "../../../sdk/zk/group-tree.js";
import { createIdentity, identityFromSecret, type Identity } from "../../../sdk/zk/identity.js";
import { recoverSecret } from "../../../sdk/zk/shares.js";
import type { AccessProof } from "../../../sdk/zk/signals.js";
import { slashDigest } from "../../../sdk/zk/slashing.js";
import {
  accessFixture,
  DEPOSIT,
  EPOCH_LENGTH,
  groupSettings,
  joinWithNewIdentity,
  proveAccess,
  ROOT_WINDOW,
  syncedGroup,
  zk,
  type AccessFixture,
} from "../helpers/access.js";
import { apiInput, DAY, ethers, networkHelpers } from "../helpers/fixture.js";
import { minedAt, nextTimestamp } from "../helpers/staking.js";

type Signer = HardhatEthersSigner;

const E = (n: string | number) => parseEther(String(n));
const U = (n: string | number) => parseUnits(String(n), 6);
/** IAccessGroups.MemberStatus as the contract returns it. */
const Status = { None: 0n, Active: 1n, Exiting: 2n, Slashed: 3n } as const;
/** What `leave` / `removeLapsed` lock the deposit for: window + 2 epochs + SLASH_GRACE. */
const EXIT_DELAY = BigInt(ROOT_WINDOW + 2 * EPOCH_LENGTH + DAY);
/** deploy/params.ts accessSlashRewardBps. */
const REWARD_BPS = 5000n;
const BPS = 10_000n;

/** Fixed identities for the slashing scenarios (deterministic tree, so proofs can be reused). */
const VICTIM = identityFromSecret(0x5eed_0001_dead_beef_cafe_f00d_1234_5678_9abc_def0n);
const BYSTANDER = identityFromSecret(0x5eed_0002_0bad_c0de_0bad_f00d_8765_4321_0fed_cba9n);

// ------------------------------------------------------------------------ fixtures

/** accessFixture plus a second API of the provider (USDC-priced, subscriptions offered) without a group. */
async function twoApisFixture() {
  const f = await accessFixture();
  await f.registry.connect(f.provider).register(apiInput(await f.usdc.getAddress()));
  const bareApi = await f.registry.apiCount();
  return { ...f, bareApi };
}

/**
 * accessFixture plus API 2: a subscription group (no deposit, same epochs and window). The
 * members hold 1,000 USDC approved to Subscriptions (10 USDC per 30 days) but no subscription yet.
 */
async function subscriptionGroupFixture() {
  const f = await accessFixture();
  const usdcAddress = await f.usdc.getAddress();
  await f.registry.connect(f.provider).register(apiInput(usdcAddress));
  const subApi = await f.registry.apiCount();
  await f.accessGroups
    .connect(f.provider)
    .createGroup(subApi, f.tokenAddress, groupSettings({ deposit: 0n, requireSubscription: true }));
  const subsAddress = await f.subscriptions.getAddress();
  for (const m of f.members) {
    await f.usdc.mint(m.address, U(1000));
    await f.usdc.connect(m).approve(subsAddress, MaxUint256);
  }
  return { ...f, subApi, usdcAddress };
}

/** accessFixture with VICTIM (member 0) and BYSTANDER (member 1) in the deposit group. */
async function slashFixture() {
  const f = await accessFixture();
  await f.accessGroups.connect(f.members[0]!).join(f.apiId, VICTIM.commitment);
  await f.accessGroups.connect(f.members[1]!).join(f.apiId, BYSTANDER.commitment);
  return f;
}

// ------------------------------------------------------------------------ helpers

/** The root of the group of `apiId` once `commitment` joins it (computed off-chain). */
async function rootWith(f: AccessFixture, apiId: bigint, commitment: bigint): Promise<bigint> {
  const sync = await syncedGroup(f, apiId);
  sync.tree.insert(commitment);
  return sync.tree.root;
}

/** A settings override as text, for assertion messages (JSON.stringify cannot take bigints). */
const show = (o: Record<string, unknown>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(",");

async function siblingsOf(f: AccessFixture, commitment: bigint, apiId = f.apiId): Promise<bigint[]> {
  return (await syncedGroup(f, apiId)).tree.siblings(commitment);
}

async function leave(
  f: AccessFixture,
  owner: Signer,
  identity: Identity,
  apiId = f.apiId,
): Promise<ContractTransactionResponse> {
  return f.accessGroups
    .connect(owner)
    .leave(apiId, identity.commitment, await siblingsOf(f, identity.commitment, apiId));
}

/** Commits `slasher` to slashing `secret` and mines a block, so `slash` may follow. */
async function commitSlash(f: AccessFixture, slasher: Signer, secret: bigint, apiId = f.apiId): Promise<string> {
  const digest = slashDigest(slasher.address, apiId, secret);
  await f.accessGroups.connect(slasher).commitSlash(digest);
  await networkHelpers.mine();
  return digest;
}

async function statusOf(f: AccessFixture, commitment: bigint, apiId = f.apiId): Promise<bigint> {
  return (await f.accessGroups.getMember(apiId, commitment)).status;
}

/** Two honest-looking proofs of VICTIM in one epoch with the same message index: an overuse. */
let overuse: Promise<[AccessProof, AccessProof]> | undefined;
function overuseProofs(f: AccessFixture): Promise<[AccessProof, AccessProof]> {
  overuse ??= (async () => {
    const sync = await syncedGroup(f, f.apiId);
    const epoch = await f.accessGroups.currentEpoch(f.apiId);
    const p1 = await proveAccess(f, VICTIM, { x: 1n, messageIndex: 0n, epoch, sync });
    const p2 = await proveAccess(f, VICTIM, { x: 2n, messageIndex: 0n, epoch, sync });
    return [p1, p2];
  })();
  return overuse;
}

describe("AccessGroups", () => {
  // ---------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired to the registry, Subscriptions, the treasury and the deploy slash share", async () => {
      const f = await networkHelpers.loadFixture(accessFixture);
      const g = f.accessGroups;
      expect(await g.registry()).to.equal(await f.registry.getAddress());
      expect(await g.subscriptions()).to.equal(await f.subscriptions.getAddress());
      expect(await g.treasury()).to.equal(f.deployer.address);
      expect(await g.slashRewardBps()).to.equal(REWARD_BPS);
      expect(await g.authority()).to.equal(await f.accessManager.getAddress());
      expect(await g.MAX_DEPTH()).to.equal(20n);
      expect(await g.MAX_GROUP_SIZE()).to.equal(2n ** 20n);
      expect(await g.MAX_EPOCH_LENGTH()).to.equal(BigInt(30 * DAY));
      expect(await g.MAX_ROOT_HISTORY_WINDOW()).to.equal(BigInt(7 * DAY));
      expect(await g.SLASH_GRACE()).to.equal(BigInt(DAY));
      expect(await g.MAX_SLASH_REWARD_BPS()).to.equal(BPS);
    });

    it("constructor rejects zero addresses, itself as treasury and a share above 100%", async () => {
      const f = await networkHelpers.loadFixture(accessFixture);
      const factory = new AccessGroups__factory(
        {
          "npm/poseidon-solidity@0.0.5/PoseidonT2.sol:PoseidonT2": f.deployment.contracts.PoseidonT2!.address,
          "npm/poseidon-solidity@0.0.5/PoseidonT3.sol:PoseidonT3": f.deployment.contracts.PoseidonT3!.address,
        },
        f.deployer,
      );
      const [am, reg, subs, t] = [
        await f.accessManager.getAddress(),
        await f.registry.getAddress(),
        await f.subscriptions.getAddress(),
        f.deployer.address,
      ];
      for (const args of [
        [am, ZeroAddress, subs, t, 5000],
        [am, reg, ZeroAddress, t, 5000],
        [am, reg, subs, ZeroAddress, 5000],
      ] as const) {
        await expect(factory.deploy(...args)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      }
      await expect(factory.deploy(am, reg, subs, t, 10_001))
        .to.be.revertedWithCustomError(factory, "SlashRewardBpsTooHigh")
        .withArgs(10_001, 10_000);
      const self = getCreateAddress({
        from: f.deployer.address,
        nonce: await ethers.provider.getTransactionCount(f.deployer.address, "pending"),
      });
      await expect(factory.deploy(am, reg, subs, self, 5000))
        .to.be.revertedWithCustomError(factory, "InvalidTreasury")
        .withArgs(self);
    });
  });

  // ---------------------------------------------------------------------- provider

  describe("createGroup / updateGroup", () => {
    let f: Awaited<ReturnType<typeof twoApisFixture>>;
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(twoApisFixture);
    });

    it("the provider creates a group (GroupCreated) and getGroup returns what it stored", async () => {
      const settings = groupSettings({
        deposit: E(7),
        epochLength: 3600,
        userMessageLimit: 10,
        rootHistoryWindow: 120,
      });
      await expect(f.accessGroups.connect(f.provider).createGroup(f.bareApi, f.tokenAddress, settings))
        .to.emit(f.accessGroups, "GroupCreated")
        .withArgs(f.bareApi, f.tokenAddress, E(7), 3600, 10, 120, false);
      const g = await f.accessGroups.getGroup(f.bareApi);
      expect(g.depositToken).to.equal(f.tokenAddress);
      expect([g.deposit, g.epochLength, g.userMessageLimit, g.rootHistoryWindow]).to.deep.equal([
        E(7),
        3600n,
        10n,
        120n,
      ]);
      expect([g.requireSubscription, g.exists]).to.deep.equal([false, true]);
      expect(await f.accessGroups.rootOf(f.bareApi)).to.equal(0n);
      expect(await f.accessGroups.treeInfo(f.bareApi)).to.deep.equal([0n, 0n]);
      const [epochLength, limit, rootKnown] = await f.accessGroups.accessContext(f.bareApi, 0n);
      expect([epochLength, limit, rootKnown]).to.deep.equal([3600n, 10n, false]);
    });

    it("only the API's provider creates or updates its group (NotApiProvider)", async () => {
      for (const who of [f.outsider, f.provider2, f.deployer]) {
        await expect(f.accessGroups.connect(who).createGroup(f.bareApi, f.tokenAddress, groupSettings()))
          .to.be.revertedWithCustomError(f.accessGroups, "NotApiProvider")
          .withArgs(f.bareApi, who.address);
        await expect(f.accessGroups.connect(who).updateGroup(f.apiId, groupSettings({ deposit: 1n })))
          .to.be.revertedWithCustomError(f.accessGroups, "NotApiProvider")
          .withArgs(f.apiId, who.address);
      }
    });

    it("a group is created once per API (GroupExists)", async () => {
      await expect(f.accessGroups.connect(f.provider).createGroup(f.apiId, f.tokenAddress, groupSettings()))
        .to.be.revertedWithCustomError(f.accessGroups, "GroupExists")
        .withArgs(f.apiId);
    });

    it("the deposit token must be a contract (InvalidDepositToken for zero and an EOA)", async () => {
      for (const token of [ZeroAddress, f.outsider.address]) {
        await expect(f.accessGroups.connect(f.provider).createGroup(f.bareApi, token, groupSettings()))
          .to.be.revertedWithCustomError(f.accessGroups, "InvalidDepositToken")
          .withArgs(token);
      }
    });

    it("rejects every out-of-bounds setting on create and update (InvalidGroupSettings)", async () => {
      const bad = [
        { epochLength: 0 },
        { epochLength: 30 * DAY + 1 },
        { userMessageLimit: 0 },
        { rootHistoryWindow: 7 * DAY + 1 },
        { deposit: 0n, requireSubscription: false },
      ];
      const g = f.accessGroups.connect(f.provider);
      for (const overrides of bad) {
        const settings = groupSettings(overrides);
        await expect(g.createGroup(f.bareApi, f.tokenAddress, settings), show(overrides)).to.be.revertedWithCustomError(
          f.accessGroups,
          "InvalidGroupSettings",
        );
        await expect(g.updateGroup(f.apiId, settings), show(overrides)).to.be.revertedWithCustomError(
          f.accessGroups,
          "InvalidGroupSettings",
        );
      }
    });

    it("accepts the bounds themselves (1 s and 30 d epochs, 0 and 7 d windows, free seats with a subscription)", async () => {
      const g = f.accessGroups.connect(f.provider);
      for (const overrides of [
        { epochLength: 1 },
        { epochLength: 30 * DAY },
        { rootHistoryWindow: 7 * DAY },
        { rootHistoryWindow: 0 },
        { userMessageLimit: 65_535 },
        { deposit: 0n, requireSubscription: true },
      ]) {
        await f.registry.connect(f.provider).register(apiInput(await f.usdc.getAddress()));
        const apiId = await f.registry.apiCount();
        await expect(g.createGroup(apiId, f.tokenAddress, groupSettings(overrides)), show(overrides)).not.to.revert(
          ethers,
        );
        if (overrides.epochLength === undefined && overrides.requireSubscription === undefined) {
          await expect(g.updateGroup(f.apiId, groupSettings(overrides)), show(overrides)).not.to.revert(ethers);
        }
      }
    });

    it("updateGroup changes deposit, limit and window (GroupUpdated), never the token or the subscription rule (SubscriptionModeFixed)", async () => {
      await expect(
        f.accessGroups
          .connect(f.provider)
          .updateGroup(f.apiId, groupSettings({ deposit: E(5), userMessageLimit: 9, rootHistoryWindow: 30 })),
      )
        .to.emit(f.accessGroups, "GroupUpdated")
        .withArgs(f.apiId, E(5), EPOCH_LENGTH, 9, 30, false);
      const g = await f.accessGroups.getGroup(f.apiId);
      expect(g.depositToken).to.equal(f.tokenAddress);
      expect([g.deposit, g.epochLength, g.userMessageLimit, g.rootHistoryWindow]).to.deep.equal([
        E(5),
        BigInt(EPOCH_LENGTH),
        9n,
        30n,
      ]);
      const [epochLength, limit] = await f.accessGroups.accessContext(f.apiId, 0n);
      expect([epochLength, limit]).to.deep.equal([BigInt(EPOCH_LENGTH), 9n]);
      // Switching modes would let anyone remove deposit members as "lapsed", or keep free members.
      await expect(
        f.accessGroups
          .connect(f.provider)
          .updateGroup(f.apiId, groupSettings({ deposit: 0n, requireSubscription: true })),
      )
        .to.be.revertedWithCustomError(f.accessGroups, "SubscriptionModeFixed")
        .withArgs(f.apiId, false);
      expect((await f.accessGroups.getGroup(f.apiId)).requireSubscription).to.equal(false);
    });

    it("the epoch length is fixed at creation (EpochLengthFixed), so epoch numbers never repeat", async () => {
      // Lengthening the epoch would renumber epochs backwards and replay honest members' nullifiers.
      const before = await f.accessGroups.currentEpoch(f.apiId);
      for (const epochLength of [EPOCH_LENGTH + 1, EPOCH_LENGTH - 1, 2 * EPOCH_LENGTH]) {
        await expect(f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ epochLength })))
          .to.be.revertedWithCustomError(f.accessGroups, "EpochLengthFixed")
          .withArgs(f.apiId, EPOCH_LENGTH);
      }
      await networkHelpers.mine();
      const now = BigInt(await networkHelpers.time.latest());
      expect(await f.accessGroups.currentEpoch(f.apiId)).to.equal(now / BigInt(EPOCH_LENGTH));
      expect(await f.accessGroups.currentEpoch(f.apiId)).to.be.gte(before);
    });

    it("a registered API without a group, or an unknown API, has no group (GroupNotFound)", async () => {
      const g = f.accessGroups;
      await expect(g.connect(f.provider).updateGroup(f.bareApi, groupSettings()))
        .to.be.revertedWithCustomError(g, "GroupNotFound")
        .withArgs(f.bareApi);
      for (const apiId of [f.bareApi, 999n]) {
        await expect(g.getGroup(apiId)).to.be.revertedWithCustomError(g, "GroupNotFound").withArgs(apiId);
        await expect(g.currentEpoch(apiId)).to.be.revertedWithCustomError(g, "GroupNotFound").withArgs(apiId);
        await expect(g.accessContext(apiId, 1n)).to.be.revertedWithCustomError(g, "GroupNotFound").withArgs(apiId);
        await expect(g.connect(f.members[0]!).join(apiId, createIdentity().commitment))
          .to.be.revertedWithCustomError(g, "GroupNotFound")
          .withArgs(apiId);
        expect(await g.isKnownRoot(apiId, 1n)).to.equal(false);
      }
      // createGroup on an unregistered API fails in the registry's provider lookup.
      await expect(
        g.connect(f.provider).createGroup(999n, f.tokenAddress, groupSettings()),
      ).to.be.revertedWithCustomError(f.registry, "ApiNotFound");
    });

    it("createGroup is paused by the emergency brake (EnforcedPause); updateGroup is not", async () => {
      await f.accessGroups.connect(f.deployer).emergencyPause();
      await expect(
        f.accessGroups.connect(f.provider).createGroup(f.bareApi, f.tokenAddress, groupSettings()),
      ).to.be.revertedWithCustomError(f.accessGroups, "EnforcedPause");
      await expect(
        f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ deposit: 1n })),
      ).not.to.revert(ethers);
    });
  });

  // ---------------------------------------------------------------------- join

  describe("join", () => {
    let f: AccessFixture;
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(accessFixture);
    });

    it("locks the deposit and inserts the leaf (MemberJoined with index, deposit and the rebuilt root)", async () => {
      const tree = new GroupTree();
      const groupBefore = await f.token.balanceOf(f.groupsAddress);
      for (const [i, m] of f.members.entries()) {
        const id = createIdentity();
        tree.insert(id.commitment);
        const before = await f.token.balanceOf(m.address);
        await expect(f.accessGroups.connect(m).join(f.apiId, id.commitment))
          .to.emit(f.accessGroups, "MemberJoined")
          .withArgs(f.apiId, id.commitment, m.address, i, DEPOSIT, tree.root);
        expect(await f.token.balanceOf(m.address)).to.equal(before - DEPOSIT);
        expect(await f.accessGroups.rootOf(f.apiId)).to.equal(tree.root);
        expect(await f.accessGroups.indexOf(f.apiId, id.commitment)).to.equal(BigInt(i));
        const member = await f.accessGroups.getMember(f.apiId, id.commitment);
        expect([member.owner, member.status, member.unlockAt, member.deposit]).to.deep.equal([
          m.address,
          Status.Active,
          0n,
          DEPOSIT,
        ]);
      }
      expect(await f.token.balanceOf(f.groupsAddress)).to.equal(groupBefore + 3n * DEPOSIT);
      expect(await f.accessGroups.treeInfo(f.apiId)).to.deep.equal([3n, 2n]);
      // A single member's root is its own commitment (LeanIMT): the first root differs from later ones.
      expect((await syncedGroup(f, f.apiId)).tree.root).to.equal(tree.root);
    });

    it("accepts commitments in [1, r) only (InvalidCommitment for 0 and r)", async () => {
      const g = f.accessGroups.connect(f.members[0]!);
      for (const c of [0n, SNARK_FIELD, MaxUint256]) {
        await expect(g.join(f.apiId, c)).to.be.revertedWithCustomError(g, "InvalidCommitment").withArgs(c);
      }
      await expect(g.join(f.apiId, SNARK_FIELD - 1n)).not.to.revert(ethers);
      await expect(g.join(f.apiId, 1n)).not.to.revert(ethers);
    });

    it("a commitment is in one membership at a time (CommitmentInUse, Active then Exiting)", async () => {
      const id = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      for (const who of [f.members[0]!, f.members[1]!]) {
        await expect(f.accessGroups.connect(who).join(f.apiId, id.commitment))
          .to.be.revertedWithCustomError(f.accessGroups, "CommitmentInUse")
          .withArgs(f.apiId, id.commitment, Status.Active);
      }
      await leave(f, f.members[0]!, id);
      await expect(f.accessGroups.connect(f.members[1]!).join(f.apiId, id.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "CommitmentInUse")
        .withArgs(f.apiId, id.commitment, Status.Exiting);
    });

    it("needs an active API (ApiNotActive while the provider pauses it); exits still work", async () => {
      const id = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      await f.registry.connect(f.provider).pause(f.apiId);
      await expect(f.accessGroups.connect(f.members[1]!).join(f.apiId, createIdentity().commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "ApiNotActive")
        .withArgs(f.apiId);
      await expect(leave(f, f.members[0]!, id)).to.emit(f.accessGroups, "MemberExited");
      await f.registry.connect(f.provider).resume(f.apiId);
      await expect(f.accessGroups.connect(f.members[1]!).join(f.apiId, createIdentity().commitment)).not.to.revert(
        ethers,
      );
    });

    it("refuses a fee-on-transfer deposit token (UnexpectedReceipt) and leaves no member behind", async () => {
      const fee = await new MockFeeToken__factory(f.deployer).deploy();
      const feeAddress = await fee.getAddress();
      await f.registry.connect(f.provider).register(apiInput(await f.usdc.getAddress()));
      const apiId = await f.registry.apiCount();
      await f.accessGroups.connect(f.provider).createGroup(apiId, feeAddress, groupSettings());
      const m = f.members[0]!;
      await fee.mint(m.address, E(1000));
      await fee.connect(m).approve(f.groupsAddress, MaxUint256);
      const id = createIdentity();
      await expect(f.accessGroups.connect(m).join(apiId, id.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "UnexpectedReceipt")
        .withArgs(feeAddress, DEPOSIT, (DEPOSIT * 99n) / 100n);
      expect(await statusOf(f, id.commitment, apiId)).to.equal(Status.None);
      expect(await f.accessGroups.rootOf(apiId)).to.equal(0n);
    });

    it("is paused by the emergency brake (EnforcedPause), while leave and withdraw stay open", async () => {
      const id = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      await f.accessGroups.connect(f.deployer).emergencyPause();
      await expect(
        f.accessGroups.connect(f.members[1]!).join(f.apiId, createIdentity().commitment),
      ).to.be.revertedWithCustomError(f.accessGroups, "EnforcedPause");
      await expect(leave(f, f.members[0]!, id)).not.to.revert(ethers);
      await networkHelpers.time.increase(EXIT_DELAY);
      await expect(f.accessGroups.connect(f.members[0]!).withdraw(f.apiId, id.commitment)).to.changeTokenBalances(
        ethers,
        f.token,
        [f.members[0]!, f.groupsAddress],
        [DEPOSIT, -DEPOSIT],
      );
    });

    it("a changed deposit applies to later joins only; each member gets back what it locked", async () => {
      const [a, b] = [f.members[0]!, f.members[1]!];
      const early = await joinWithNewIdentity(f, f.apiId, a);
      await f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ deposit: E(250) }));
      const late = createIdentity();
      const root = await rootWith(f, f.apiId, late.commitment);
      await expect(f.accessGroups.connect(b).join(f.apiId, late.commitment))
        .to.emit(f.accessGroups, "MemberJoined")
        .withArgs(f.apiId, late.commitment, b.address, 1, E(250), root);
      expect((await f.accessGroups.getMember(f.apiId, early.commitment)).deposit).to.equal(DEPOSIT);
      expect((await f.accessGroups.getMember(f.apiId, late.commitment)).deposit).to.equal(E(250));
      expect(await f.token.balanceOf(f.groupsAddress)).to.equal(DEPOSIT + E(250));

      await leave(f, a, early);
      await leave(f, b, late);
      await networkHelpers.time.increase(EXIT_DELAY);
      await expect(f.accessGroups.withdraw(f.apiId, early.commitment)).to.changeTokenBalance(
        ethers,
        f.token,
        a,
        DEPOSIT,
      );
      await expect(f.accessGroups.withdraw(f.apiId, late.commitment)).to.changeTokenBalance(ethers, f.token, b, E(250));
      expect(await f.token.balanceOf(f.groupsAddress)).to.equal(0n);
    });
  });

  // ---------------------------------------------------------------------- subscription groups

  describe("subscription groups", () => {
    let f: Awaited<ReturnType<typeof subscriptionGroupFixture>>;
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(subscriptionGroupFixture);
    });

    const subscribe = (m: Signer) => f.subscriptions.connect(m).subscribe(f.subApi, f.usdcAddress, 1, MaxUint256);

    it("joining needs an active subscription (NotSubscribed)", async () => {
      const m = f.members[0]!;
      await expect(f.accessGroups.connect(m).join(f.subApi, createIdentity().commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "NotSubscribed")
        .withArgs(m.address, f.subApi);
    });

    it("a subscriber joins for free and holds one membership (AlreadySubscribedMember, also while exiting)", async () => {
      const m = f.members[0]!;
      await subscribe(m);
      const id = createIdentity();
      const before = await f.token.balanceOf(m.address);
      await expect(f.accessGroups.connect(m).join(f.subApi, id.commitment))
        .to.emit(f.accessGroups, "MemberJoined")
        .withArgs(f.subApi, id.commitment, m.address, 0, 0, id.commitment);
      expect(await f.token.balanceOf(m.address)).to.equal(before);
      expect(await f.accessGroups.subscriberCommitment(f.subApi, m.address)).to.equal(id.commitment);

      const second = createIdentity().commitment;
      await expect(f.accessGroups.connect(m).join(f.subApi, second))
        .to.be.revertedWithCustomError(f.accessGroups, "AlreadySubscribedMember")
        .withArgs(f.subApi, m.address, id.commitment);
      await leave(f, m, id, f.subApi);
      await expect(f.accessGroups.connect(m).join(f.subApi, second))
        .to.be.revertedWithCustomError(f.accessGroups, "AlreadySubscribedMember")
        .withArgs(f.subApi, m.address, id.commitment);
      // Another subscriber is not affected.
      await subscribe(f.members[1]!);
      await expect(f.accessGroups.connect(f.members[1]!).join(f.subApi, second)).not.to.revert(ethers);
    });

    it("anyone removes a member whose subscription lapsed (SubscriptionStillActive before); it may rejoin after withdrawing", async () => {
      const [m, keeper] = [f.members[0]!, f.outsider];
      await subscribe(m);
      const id = createIdentity();
      await f.accessGroups.connect(m).join(f.subApi, id.commitment);
      const subId = await f.subscriptions.subscriptionIdOf(m.address, f.subApi);
      const paidUntil = (await f.subscriptions.getSubscription(subId)).paidUntil;
      await f.subscriptions.connect(m).cancel(f.subApi);

      // One second before paidUntil the subscription is still active.
      await networkHelpers.time.setNextBlockTimestamp(paidUntil - 1n);
      await expect(f.accessGroups.connect(keeper).removeLapsed(f.subApi, id.commitment, []))
        .to.be.revertedWithCustomError(f.accessGroups, "SubscriptionStillActive")
        .withArgs(f.subApi, m.address);

      await networkHelpers.time.setNextBlockTimestamp(paidUntil);
      await expect(f.accessGroups.connect(keeper).removeLapsed(f.subApi, id.commitment, []))
        .to.emit(f.accessGroups, "MemberExited")
        .withArgs(f.subApi, id.commitment, true, paidUntil + EXIT_DELAY, 0n);
      expect(await statusOf(f, id.commitment, f.subApi)).to.equal(Status.Exiting);
      await expect(f.accessGroups.connect(keeper).removeLapsed(f.subApi, id.commitment, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotActiveMember")
        .withArgs(f.subApi, id.commitment);

      // Re-subscribing does not free the slot: the exit must complete first.
      await subscribe(m);
      const next = createIdentity();
      await expect(f.accessGroups.connect(m).join(f.subApi, next.commitment)).to.be.revertedWithCustomError(
        f.accessGroups,
        "AlreadySubscribedMember",
      );
      await networkHelpers.time.increaseTo(paidUntil + EXIT_DELAY);
      await expect(f.accessGroups.connect(keeper).withdraw(f.subApi, id.commitment))
        .to.emit(f.accessGroups, "DepositWithdrawn")
        .withArgs(f.subApi, id.commitment, m.address, 0);
      expect(await f.accessGroups.subscriberCommitment(f.subApi, m.address)).to.equal(0n);
      const root = await rootWith(f, f.subApi, next.commitment);
      await expect(f.accessGroups.connect(m).join(f.subApi, next.commitment))
        .to.emit(f.accessGroups, "MemberJoined")
        .withArgs(f.subApi, next.commitment, m.address, 1, 0, root);
    });

    it("removeLapsed needs the member's siblings like leave (WrongSiblingCount)", async () => {
      await subscribe(f.members[0]!);
      await subscribe(f.members[1]!);
      const a = await joinWithNewIdentity(f, f.subApi, f.members[0]!);
      await joinWithNewIdentity(f, f.subApi, f.members[1]!);
      await networkHelpers.time.increase(31 * DAY);
      await expect(f.accessGroups.removeLapsed(f.subApi, a.commitment, []))
        .to.be.revertedWithCustomError(f.accessGroups, "WrongSiblingCount")
        .withArgs(1, 0);
      const siblings = await siblingsOf(f, a.commitment, f.subApi);
      await expect(f.accessGroups.removeLapsed(f.subApi, a.commitment, siblings)).to.emit(
        f.accessGroups,
        "MemberExited",
      );
      expect(await f.accessGroups.rootOf(f.subApi)).to.equal((await syncedGroup(f, f.subApi)).tree.root);
    });

    it("removeLapsed only applies to subscription groups (NotSubscriptionGroup)", async () => {
      const id = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      await expect(f.accessGroups.removeLapsed(f.apiId, id.commitment, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotSubscriptionGroup")
        .withArgs(f.apiId);
    });

    it("a subscriber who leaves and withdraws may join again with a new identity", async () => {
      const m = f.members[0]!;
      await subscribe(m);
      const first = await joinWithNewIdentity(f, f.subApi, m);
      await leave(f, m, first, f.subApi);
      await networkHelpers.time.increase(EXIT_DELAY);
      await f.accessGroups.connect(m).withdraw(f.subApi, first.commitment);
      const second = await joinWithNewIdentity(f, f.subApi, m);
      expect(await f.accessGroups.subscriberCommitment(f.subApi, m.address)).to.equal(second.commitment);
    });

    it("a slashed subscriber keeps its membership slot and cannot join again (AlreadySubscribedMember)", async () => {
      const m = f.members[0]!;
      await subscribe(m);
      const id = await joinWithNewIdentity(f, f.subApi, m);
      await commitSlash(f, f.slasher, id.secret, f.subApi);
      await f.accessGroups.connect(f.slasher).slash(f.subApi, id.secret, []);
      expect(await statusOf(f, id.commitment, f.subApi)).to.equal(Status.Slashed);
      expect(await f.accessGroups.subscriberCommitment(f.subApi, m.address)).to.equal(id.commitment);
      await expect(f.accessGroups.connect(m).join(f.subApi, createIdentity().commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "AlreadySubscribedMember")
        .withArgs(f.subApi, m.address, id.commitment);
      await expect(f.accessGroups.withdraw(f.subApi, id.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "NothingToWithdraw")
        .withArgs(f.subApi, id.commitment);
    });
  });

  // ---------------------------------------------------------------------- leave / withdraw

  describe("leave and withdraw", () => {
    let f: AccessFixture;
    let ids: Identity[];
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(accessFixture);
      ids = [];
      for (const m of f.members) ids.push(await joinWithNewIdentity(f, f.apiId, m));
    });

    it("the owner leaves: the leaf becomes 0 and the deposit unlocks after window + 2 epochs + 1 day (MemberExited)", async () => {
      const [m, id] = [f.members[1]!, ids[1]!];
      const sync = await syncedGroup(f, f.apiId);
      const siblings = sync.tree.siblings(id.commitment);
      sync.tree.remove(id.commitment);
      const t = await nextTimestamp();
      await expect(f.accessGroups.connect(m).leave(f.apiId, id.commitment, siblings))
        .to.emit(f.accessGroups, "MemberExited")
        .withArgs(f.apiId, id.commitment, false, t + EXIT_DELAY, sync.tree.root);
      expect(t + EXIT_DELAY).to.equal(t + 600n + 2n * 60n + 86_400n);
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(sync.tree.root);
      const member = await f.accessGroups.getMember(f.apiId, id.commitment);
      expect([member.owner, member.status, member.unlockAt, member.deposit]).to.deep.equal([
        m.address,
        Status.Exiting,
        t + EXIT_DELAY,
        DEPOSIT,
      ]);
      await expect(f.accessGroups.indexOf(f.apiId, id.commitment)).to.be.revertedWithCustomError(
        f.accessGroups,
        "LeafDoesNotExist",
      );
      // The size stays: removed leaves are zeros.
      expect(await f.accessGroups.treeInfo(f.apiId)).to.deep.equal([3n, 2n]);
      // No money moves on leave.
      expect(await f.token.balanceOf(f.groupsAddress)).to.equal(3n * DEPOSIT);
    });

    it("only the owner leaves (NotMemberOwner)", async () => {
      const siblings = await siblingsOf(f, ids[0]!.commitment);
      for (const who of [f.members[1]!, f.provider, f.deployer]) {
        await expect(f.accessGroups.connect(who).leave(f.apiId, ids[0]!.commitment, siblings))
          .to.be.revertedWithCustomError(f.accessGroups, "NotMemberOwner")
          .withArgs(f.apiId, ids[0]!.commitment, who.address);
      }
    });

    it("only an Active member leaves (NotActiveMember for unknown and departed commitments)", async () => {
      const unknown = createIdentity().commitment;
      await expect(f.accessGroups.connect(f.members[0]!).leave(f.apiId, unknown, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotActiveMember")
        .withArgs(f.apiId, unknown);
      await leave(f, f.members[0]!, ids[0]!);
      await expect(f.accessGroups.connect(f.members[0]!).leave(f.apiId, ids[0]!.commitment, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotActiveMember")
        .withArgs(f.apiId, ids[0]!.commitment);
    });

    it("checks the sibling count per leaf position (WrongSiblingCount)", async () => {
      // Three leaves, depth 2: leaf 0 and 1 have two siblings, leaf 2 (alone on the right) one.
      const expected = [2, 2, 1];
      for (const [i, id] of ids.entries()) {
        const siblings = await siblingsOf(f, id.commitment);
        expect(siblings.length).to.equal(expected[i]);
        for (const wrong of [[], [...siblings, 1n]]) {
          await expect(f.accessGroups.connect(f.members[i]!).leave(f.apiId, id.commitment, wrong))
            .to.be.revertedWithCustomError(f.accessGroups, "WrongSiblingCount")
            .withArgs(expected[i], wrong.length);
        }
      }
    });

    it("rejects siblings that do not lead to the current root (WrongSiblingNodes)", async () => {
      const [m, id] = [f.members[0]!, ids[0]!];
      const siblings = await siblingsOf(f, id.commitment);
      const wrong = [siblings[0]! + 1n, siblings[1]!];
      await expect(f.accessGroups.connect(m).leave(f.apiId, id.commitment, wrong)).to.be.revertedWithCustomError(
        f.accessGroups,
        "WrongSiblingNodes",
      );
      // Siblings of a stale tree (before another member left) are wrong too.
      await leave(f, f.members[2]!, ids[2]!);
      await expect(f.accessGroups.connect(m).leave(f.apiId, id.commitment, siblings)).to.be.revertedWithCustomError(
        f.accessGroups,
        "WrongSiblingNodes",
      );
      await expect(leave(f, m, id)).not.to.revert(ethers);
    });

    it("withdraw pays the owner once unlocked (DepositLocked before, DepositWithdrawn, then NothingToWithdraw)", async () => {
      const [m, id] = [f.members[0]!, ids[0]!];
      await expect(f.accessGroups.withdraw(f.apiId, id.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "NothingToWithdraw")
        .withArgs(f.apiId, id.commitment);
      const unlockAt = (await minedAt(await leave(f, m, id))) + EXIT_DELAY;
      await networkHelpers.time.setNextBlockTimestamp(unlockAt - 1n);
      await expect(f.accessGroups.connect(m).withdraw(f.apiId, id.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "DepositLocked")
        .withArgs(f.apiId, id.commitment, unlockAt);

      // Anyone may trigger it; the owner is paid.
      await networkHelpers.time.setNextBlockTimestamp(unlockAt);
      const tx = f.accessGroups.connect(f.outsider).withdraw(f.apiId, id.commitment);
      await expect(tx).to.emit(f.accessGroups, "DepositWithdrawn").withArgs(f.apiId, id.commitment, m.address, DEPOSIT);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [m, f.groupsAddress, f.outsider],
        [DEPOSIT, -DEPOSIT, 0n],
      );
      const member = await f.accessGroups.getMember(f.apiId, id.commitment);
      expect([member.owner, member.status, member.unlockAt, member.deposit]).to.deep.equal([
        ZeroAddress,
        Status.None,
        0n,
        0n,
      ]);
      await expect(f.accessGroups.connect(m).withdraw(f.apiId, id.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "NothingToWithdraw")
        .withArgs(f.apiId, id.commitment);
    });

    it("a withdrawn commitment may join again, at a new leaf index", async () => {
      const [m, id] = [f.members[0]!, ids[0]!];
      await leave(f, m, id);
      await networkHelpers.time.increase(EXIT_DELAY);
      await f.accessGroups.connect(m).withdraw(f.apiId, id.commitment);
      // Even from another account: the commitment is free.
      const other = f.members[2]!;
      const root = await rootWith(f, f.apiId, id.commitment);
      await expect(f.accessGroups.connect(other).join(f.apiId, id.commitment))
        .to.emit(f.accessGroups, "MemberJoined")
        .withArgs(f.apiId, id.commitment, other.address, 3, DEPOSIT, root);
      expect(await f.accessGroups.indexOf(f.apiId, id.commitment)).to.equal(3n);
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal((await syncedGroup(f, f.apiId)).tree.root);
    });

    it("after every member left, the tree holds only zeros: no member, and the group keeps working", async () => {
      for (const [i, id] of ids.entries()) await leave(f, f.members[i]!, id);
      const sync = await syncedGroup(f, f.apiId);
      // Three zero leaves: a non-zero root that no identity is a member of.
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(sync.tree.root);
      for (const id of ids) expect(sync.tree.has(id.commitment)).to.equal(false);
      const fresh = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      await sync.sync();
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(sync.tree.root);
      expect(await f.accessGroups.indexOf(f.apiId, fresh.commitment)).to.equal(3n);
      await expect(leave(f, f.members[0]!, fresh)).not.to.revert(ethers);
    });
  });

  // ---------------------------------------------------------------------- root history

  describe("root history", () => {
    let f: AccessFixture;
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(accessFixture);
    });

    /** isKnownRoot in a freshly mined block at exactly `t`. */
    async function knownAt(t: bigint, root: bigint): Promise<boolean> {
      await networkHelpers.time.setNextBlockTimestamp(t);
      await networkHelpers.mine();
      return f.accessGroups.isKnownRoot(f.apiId, root);
    }

    it("a replaced root stays known for exactly rootHistoryWindow seconds; the current root for good", async () => {
      await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      const old = await f.accessGroups.rootOf(f.apiId);
      const replacedAt = await minedAt(
        await f.accessGroups.connect(f.members[1]!).join(f.apiId, createIdentity().commitment),
      );
      const current = await f.accessGroups.rootOf(f.apiId);
      expect(await f.accessGroups.isKnownRoot(f.apiId, old)).to.equal(true);
      expect(await knownAt(replacedAt + BigInt(ROOT_WINDOW) - 1n, old)).to.equal(true);
      expect(await knownAt(replacedAt + BigInt(ROOT_WINDOW), old)).to.equal(false);
      expect((await f.accessGroups.accessContext(f.apiId, old))[2]).to.equal(false);
      await networkHelpers.time.increase(30 * DAY);
      expect(await f.accessGroups.isKnownRoot(f.apiId, current)).to.equal(true);
      expect((await f.accessGroups.accessContext(f.apiId, current))[2]).to.equal(true);
    });

    it("a leave replaces the root the same way", async () => {
      const id = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      await joinWithNewIdentity(f, f.apiId, f.members[1]!);
      const old = await f.accessGroups.rootOf(f.apiId);
      const replacedAt = await minedAt(await leave(f, f.members[0]!, id));
      const current = await f.accessGroups.rootOf(f.apiId);
      expect(current).to.not.equal(old);
      expect(await knownAt(replacedAt + BigInt(ROOT_WINDOW) - 1n, old)).to.equal(true);
      expect(await knownAt(replacedAt + BigInt(ROOT_WINDOW), old)).to.equal(false);
      expect(await f.accessGroups.isKnownRoot(f.apiId, current)).to.equal(true);
    });

    it("root 0 is never known: not for an empty group, not after the last member leaves", async () => {
      expect(await f.accessGroups.isKnownRoot(f.apiId, 0n)).to.equal(false);
      const id = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      expect(await f.accessGroups.isKnownRoot(f.apiId, 0n)).to.equal(false);
      // A one-leaf tree's root is the leaf itself.
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(id.commitment);
      await leave(f, f.members[0]!, id);
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(0n);
      expect(await f.accessGroups.isKnownRoot(f.apiId, 0n)).to.equal(false);
      expect(await f.accessGroups.isKnownRoot(f.apiId, id.commitment)).to.equal(true);
      expect(await f.accessGroups.isKnownRoot(f.apiId, 12345n)).to.equal(false);
    });

    it("with a window of 0 a replaced root is unknown at once", async () => {
      await f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ rootHistoryWindow: 0 }));
      await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      const old = await f.accessGroups.rootOf(f.apiId);
      await joinWithNewIdentity(f, f.apiId, f.members[1]!);
      expect(await f.accessGroups.isKnownRoot(f.apiId, old)).to.equal(false);
      expect(await f.accessGroups.isKnownRoot(f.apiId, await f.accessGroups.rootOf(f.apiId))).to.equal(true);
    });

    it("roots are per group: another API's root is not known here", async () => {
      await joinWithNewIdentity(f, f.apiId, f.members[0]!);
      const root = await f.accessGroups.rootOf(f.apiId);
      await f.registry.connect(f.provider).register(apiInput(await f.usdc.getAddress()));
      const other = await f.registry.apiCount();
      await f.accessGroups.connect(f.provider).createGroup(other, f.tokenAddress, groupSettings());
      expect(await f.accessGroups.isKnownRoot(other, root)).to.equal(false);
    });
  });

  // ---------------------------------------------------------------------- slashing

  describe("slashing", () => {
    let f: AccessFixture;
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(slashFixture);
    });

    it("an overusing member is slashed by commit-reveal: removed, banned, its deposit split (MemberSlashed)", async () => {
      const { verifier } = await zk();
      const [p1, p2] = await overuseProofs(f);
      // Two valid proofs of one nullifier at different x: the member called twice with message index 0.
      expect(verifier.verify(p1) && verifier.verify(p2)).to.equal(true);
      expect(p1.signals.nullifier).to.equal(p2.signals.nullifier);
      const secret = recoverSecret(p1.signals, p2.signals);
      expect(secret).to.equal(VICTIM.secret);

      const s = f.slasher;
      const digest = slashDigest(s.address, f.apiId, secret);
      await expect(f.accessGroups.connect(s).commitSlash(digest))
        .to.emit(f.accessGroups, "SlashCommitted")
        .withArgs(digest, s.address);
      expect(await f.accessGroups.slashCommits(digest)).to.equal(BigInt(await ethers.provider.getBlockNumber()));
      await networkHelpers.mine();

      const treasury = await f.accessGroups.treasury();
      expect(treasury).to.equal(f.deployer.address);
      const sync = await syncedGroup(f, f.apiId);
      const siblings = sync.tree.siblings(VICTIM.commitment);
      sync.tree.remove(VICTIM.commitment);
      const reward = (DEPOSIT * REWARD_BPS) / BPS;
      const tx = f.accessGroups.connect(s).slash(f.apiId, secret, siblings);
      await expect(tx)
        .to.emit(f.accessGroups, "MemberSlashed")
        .withArgs(f.apiId, VICTIM.commitment, s.address, reward, DEPOSIT - reward, sync.tree.root);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [s, treasury, f.groupsAddress, f.members[0]!],
        [reward, DEPOSIT - reward, -DEPOSIT, 0n],
      );
      expect(reward).to.equal(E(50));

      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(sync.tree.root);
      expect(await syncedGroup(f, f.apiId).then((g) => g.tree.root)).to.equal(sync.tree.root);
      const member = await f.accessGroups.getMember(f.apiId, VICTIM.commitment);
      expect([member.owner, member.status, member.unlockAt, member.deposit]).to.deep.equal([
        f.members[0]!.address,
        Status.Slashed,
        0n,
        0n,
      ]);
      expect(await f.accessGroups.slashCommits(digest)).to.equal(0n);
      // Banned for good: not by its owner, not by anyone; no deposit left to withdraw.
      for (const who of [f.members[0]!, f.members[2]!]) {
        await expect(f.accessGroups.connect(who).join(f.apiId, VICTIM.commitment))
          .to.be.revertedWithCustomError(f.accessGroups, "CommitmentInUse")
          .withArgs(f.apiId, VICTIM.commitment, Status.Slashed);
      }
      await expect(f.accessGroups.withdraw(f.apiId, VICTIM.commitment))
        .to.be.revertedWithCustomError(f.accessGroups, "NothingToWithdraw")
        .withArgs(f.apiId, VICTIM.commitment);
      // The other member is untouched and can still leave with siblings of the new tree.
      expect(await statusOf(f, BYSTANDER.commitment)).to.equal(Status.Active);
      await expect(leave(f, f.members[1]!, BYSTANDER)).not.to.revert(ethers);
    });

    it("forged shares reveal no member's secret (NotSlashable)", async () => {
      const [p1, p2] = await overuseProofs(f);
      const forged = recoverSecret(p1.signals, { ...p2.signals, y: p2.signals.y + 1n });
      expect(forged).to.not.equal(VICTIM.secret);
      const notMember = identityFromSecret(forged).commitment;
      await commitSlash(f, f.slasher, forged);
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, forged, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotSlashable")
        .withArgs(f.apiId, notMember, Status.None);
      expect(await statusOf(f, VICTIM.commitment)).to.equal(Status.Active);
    });

    it("slash needs an earlier commitment by the caller (SlashNotCommitted); a front-runner cannot reuse it", async () => {
      const siblings = await siblingsOf(f, VICTIM.commitment);
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, siblings))
        .to.be.revertedWithCustomError(f.accessGroups, "SlashNotCommitted")
        .withArgs(slashDigest(f.slasher.address, f.apiId, VICTIM.secret));

      await commitSlash(f, f.slasher, VICTIM.secret);
      // Someone copying the revealed secret from the mempool has no commitment of its own.
      await expect(f.accessGroups.connect(f.outsider).slash(f.apiId, VICTIM.secret, siblings))
        .to.be.revertedWithCustomError(f.accessGroups, "SlashNotCommitted")
        .withArgs(slashDigest(f.outsider.address, f.apiId, VICTIM.secret));
      // Nor does the committer's digest work for another API.
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId + 1n, VICTIM.secret, siblings))
        .to.be.revertedWithCustomError(f.accessGroups, "SlashNotCommitted")
        .withArgs(slashDigest(f.slasher.address, f.apiId + 1n, VICTIM.secret));
      // Committing now puts the front-runner a block behind; the honest slasher reveals first.
      await f.accessGroups.connect(f.outsider).commitSlash(slashDigest(f.outsider.address, f.apiId, VICTIM.secret));
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, siblings)).to.emit(
        f.accessGroups,
        "MemberSlashed",
      );
      await networkHelpers.mine();
      await expect(f.accessGroups.connect(f.outsider).slash(f.apiId, VICTIM.secret, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotSlashable")
        .withArgs(f.apiId, VICTIM.commitment, Status.Slashed);
    });

    it("commit and slash in the same block fail (SlashCommitTooRecent); the commit works a block later", async () => {
      const s = f.slasher;
      const siblings = await siblingsOf(f, VICTIM.commitment);
      const digest = slashDigest(s.address, f.apiId, VICTIM.secret);
      await ethers.provider.send("evm_setAutomine", [false]);
      let slashTx: ContractTransactionResponse;
      try {
        await f.accessGroups.connect(s).commitSlash(digest, { gasLimit: 100_000 });
        slashTx = await f.accessGroups.connect(s).slash(f.apiId, VICTIM.secret, siblings, { gasLimit: 1_000_000 });
        await networkHelpers.mine();
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      const committedAt = await f.accessGroups.slashCommits(digest);
      expect((await slashTx.getTransaction())?.blockNumber).to.equal(Number(committedAt));
      await expect(slashTx).to.be.revertedWithCustomError(f.accessGroups, "SlashCommitTooRecent").withArgs(digest);
      await expect(f.accessGroups.connect(s).slash(f.apiId, VICTIM.secret, siblings)).to.emit(
        f.accessGroups,
        "MemberSlashed",
      );
    });

    it("a digest is committed once (SlashCommitExists)", async () => {
      const digest = slashDigest(f.slasher.address, f.apiId, VICTIM.secret);
      await f.accessGroups.connect(f.slasher).commitSlash(digest);
      for (const who of [f.slasher, f.outsider]) {
        await expect(f.accessGroups.connect(who).commitSlash(digest))
          .to.be.revertedWithCustomError(f.accessGroups, "SlashCommitExists")
          .withArgs(digest);
      }
    });

    it("the secret must be a field element without 0 (InvalidSecret)", async () => {
      for (const secret of [0n, SNARK_FIELD, SNARK_FIELD + VICTIM.secret]) {
        await commitSlash(f, f.slasher, secret);
        await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, secret, [])).to.be.revertedWithCustomError(
          f.accessGroups,
          "InvalidSecret",
        );
      }
    });

    it("wrong siblings for an Active member fail and keep the commitment for a retry", async () => {
      const s = f.slasher;
      const siblings = await siblingsOf(f, VICTIM.commitment);
      const digest = await commitSlash(f, s, VICTIM.secret);
      await expect(f.accessGroups.connect(s).slash(f.apiId, VICTIM.secret, []))
        .to.be.revertedWithCustomError(f.accessGroups, "WrongSiblingCount")
        .withArgs(1, 0);
      await expect(
        f.accessGroups.connect(s).slash(f.apiId, VICTIM.secret, [siblings[0]! + 1n]),
      ).to.be.revertedWithCustomError(f.accessGroups, "WrongSiblingNodes");
      expect(await f.accessGroups.slashCommits(digest)).to.not.equal(0n);
      await expect(f.accessGroups.connect(s).slash(f.apiId, VICTIM.secret, siblings)).to.emit(
        f.accessGroups,
        "MemberSlashed",
      );
    });

    it("an Exiting member (left, not withdrawn) is slashed with no siblings; the root does not change", async () => {
      await leave(f, f.members[0]!, VICTIM);
      const root = await f.accessGroups.rootOf(f.apiId);
      await commitSlash(f, f.slasher, VICTIM.secret);
      const reward = (DEPOSIT * REWARD_BPS) / BPS;
      const tx = f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, []);
      await expect(tx)
        .to.emit(f.accessGroups, "MemberSlashed")
        .withArgs(f.apiId, VICTIM.commitment, f.slasher.address, reward, DEPOSIT - reward, root);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [f.slasher, f.deployer, f.groupsAddress],
        [reward, DEPOSIT - reward, -DEPOSIT],
      );
      expect(await f.accessGroups.rootOf(f.apiId)).to.equal(root);
      expect(await statusOf(f, VICTIM.commitment)).to.equal(Status.Slashed);
      expect(await syncedGroup(f, f.apiId).then((g) => g.tree.root)).to.equal(root);
      await networkHelpers.time.increase(EXIT_DELAY);
      await expect(f.accessGroups.withdraw(f.apiId, VICTIM.commitment)).to.be.revertedWithCustomError(
        f.accessGroups,
        "NothingToWithdraw",
      );
    });

    it("an Exiting member stays slashable after unlockAt until it withdraws", async () => {
      await leave(f, f.members[0]!, VICTIM);
      await networkHelpers.time.increase(EXIT_DELAY + BigInt(DAY));
      await commitSlash(f, f.slasher, VICTIM.secret);
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, [])).to.emit(
        f.accessGroups,
        "MemberSlashed",
      );
    });

    it("a withdrawn (or never joined) commitment is not slashable (NotSlashable with status None)", async () => {
      await leave(f, f.members[0]!, VICTIM);
      await networkHelpers.time.increase(EXIT_DELAY);
      await f.accessGroups.withdraw(f.apiId, VICTIM.commitment);
      await commitSlash(f, f.slasher, VICTIM.secret);
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, []))
        .to.be.revertedWithCustomError(f.accessGroups, "NotSlashable")
        .withArgs(f.apiId, VICTIM.commitment, Status.None);
    });

    it("slashing works during an emergency pause", async () => {
      await f.accessGroups.connect(f.deployer).emergencyPause();
      const siblings = await siblingsOf(f, VICTIM.commitment);
      await commitSlash(f, f.slasher, VICTIM.secret);
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, siblings)).to.changeTokenBalance(
        ethers,
        f.token,
        f.slasher,
        (DEPOSIT * REWARD_BPS) / BPS,
      );
    });

    it("pays the governance-set share to the slasher and the rest to the current treasury", async () => {
      await f.accessGroups.connect(f.deployer).setTreasury(f.outsider.address);
      await f.accessGroups.connect(f.deployer).setSlashRewardBps(1234);
      const reward = (DEPOSIT * 1234n) / BPS;
      await commitSlash(f, f.slasher, VICTIM.secret);
      await expect(
        f.accessGroups.connect(f.slasher).slash(f.apiId, VICTIM.secret, await siblingsOf(f, VICTIM.commitment)),
      ).to.changeTokenBalances(ethers, f.token, [f.slasher, f.outsider, f.deployer], [reward, DEPOSIT - reward, 0n]);
      // 100%: nothing for the treasury; 0%: everything.
      await f.accessGroups.connect(f.deployer).setSlashRewardBps(10_000);
      await commitSlash(f, f.slasher, BYSTANDER.secret);
      const sync = await syncedGroup(f, f.apiId);
      const siblings = sync.tree.siblings(BYSTANDER.commitment);
      sync.tree.remove(BYSTANDER.commitment);
      await expect(f.accessGroups.connect(f.slasher).slash(f.apiId, BYSTANDER.secret, siblings))
        .to.emit(f.accessGroups, "MemberSlashed")
        .withArgs(f.apiId, BYSTANDER.commitment, f.slasher.address, DEPOSIT, 0, sync.tree.root);
      await f.accessGroups.connect(f.deployer).setSlashRewardBps(0);
      const third = await joinWithNewIdentity(f, f.apiId, f.members[2]!);
      await commitSlash(f, f.slasher, third.secret);
      await expect(
        f.accessGroups.connect(f.slasher).slash(f.apiId, third.secret, await siblingsOf(f, third.commitment)),
      ).to.changeTokenBalances(ethers, f.token, [f.slasher, f.outsider], [0n, DEPOSIT]);
    });
  });

  // ---------------------------------------------------------------------- governance

  describe("governance setters", () => {
    let f: AccessFixture;
    beforeEach(async () => {
      f = await networkHelpers.loadFixture(accessFixture);
    });

    it("setSlashRewardBps up to 100% (SlashRewardBpsUpdated; SlashRewardBpsTooHigh above)", async () => {
      await expect(f.accessGroups.setSlashRewardBps(10_000))
        .to.emit(f.accessGroups, "SlashRewardBpsUpdated")
        .withArgs(10_000);
      expect(await f.accessGroups.slashRewardBps()).to.equal(10_000n);
      await expect(f.accessGroups.setSlashRewardBps(0)).to.emit(f.accessGroups, "SlashRewardBpsUpdated").withArgs(0);
      await expect(f.accessGroups.setSlashRewardBps(10_001))
        .to.be.revertedWithCustomError(f.accessGroups, "SlashRewardBpsTooHigh")
        .withArgs(10_001, 10_000);
    });

    it("setTreasury (TreasuryUpdated; ZeroAddress; InvalidTreasury for itself)", async () => {
      await expect(f.accessGroups.setTreasury(f.outsider.address))
        .to.emit(f.accessGroups, "TreasuryUpdated")
        .withArgs(f.outsider.address);
      expect(await f.accessGroups.treasury()).to.equal(f.outsider.address);
      await expect(f.accessGroups.setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        f.accessGroups,
        "ZeroAddress",
      );
      await expect(f.accessGroups.setTreasury(f.groupsAddress))
        .to.be.revertedWithCustomError(f.accessGroups, "InvalidTreasury")
        .withArgs(f.groupsAddress);
    });

    it("both are restricted (AccessManagedUnauthorized for an outsider or a provider)", async () => {
      for (const who of [f.outsider, f.provider]) {
        await expect(f.accessGroups.connect(who).setSlashRewardBps(1))
          .to.be.revertedWithCustomError(f.accessGroups, "AccessManagedUnauthorized")
          .withArgs(who.address);
        await expect(f.accessGroups.connect(who).setTreasury(who.address))
          .to.be.revertedWithCustomError(f.accessGroups, "AccessManagedUnauthorized")
          .withArgs(who.address);
      }
    });
  });

  // ---------------------------------------------------------------------- invariants

  describe("invariants", () => {
    type Op =
      | { kind: "join"; who: number }
      | { kind: "leave"; pick: number }
      | { kind: "withdraw"; pick: number }
      | { kind: "rejoin"; pick: number }
      | { kind: "slash"; pick: number }
      | { kind: "deposit"; amount: bigint };

    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("join" as const), who: fc.nat(2) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("leave" as const), pick: fc.nat(9) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("withdraw" as const), pick: fc.nat(9) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("rejoin" as const), pick: fc.nat(9) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("slash" as const), pick: fc.nat(9) }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant("deposit" as const), amount: fc.constantFrom(E(1), E(100), E(333)) }),
      },
    );

    interface Model {
      identity: Identity;
      owner: number;
      status: bigint;
      deposit: bigint;
    }

    it("join / leave / withdraw / rejoin / slash: the synced root equals rootOf and the balance equals the Active + Exiting deposits after every step", async function () {
      this.timeout(120_000);
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 14 }), async (ops) => {
          const f = await networkHelpers.loadFixture(accessFixture);
          const sync = await syncedGroup(f, f.apiId);
          const base = await f.token.balanceOf(f.groupsAddress);
          const model: Model[] = [];
          let deposit = DEPOSIT;
          let joins = 0n;
          const pick = (status: bigint[], i: number) => {
            const candidates = model.filter((m) => status.includes(m.status));
            return candidates[i % Math.max(candidates.length, 1)];
          };
          for (const o of ops) {
            if (o.kind === "join") {
              const identity = createIdentity();
              await f.accessGroups.connect(f.members[o.who]!).join(f.apiId, identity.commitment);
              model.push({ identity, owner: o.who, status: Status.Active, deposit });
              joins++;
            } else if (o.kind === "leave") {
              const m = pick([Status.Active], o.pick);
              if (m === undefined) continue;
              const siblings = sync.tree.siblings(m.identity.commitment);
              await f.accessGroups.connect(f.members[m.owner]!).leave(f.apiId, m.identity.commitment, siblings);
              m.status = Status.Exiting;
            } else if (o.kind === "withdraw") {
              const m = pick([Status.Exiting], o.pick);
              if (m === undefined) continue;
              const { unlockAt } = await f.accessGroups.getMember(f.apiId, m.identity.commitment);
              if (BigInt(await networkHelpers.time.latest()) < unlockAt) await networkHelpers.time.increaseTo(unlockAt);
              await f.accessGroups.connect(f.members[m.owner]!).withdraw(f.apiId, m.identity.commitment);
              m.status = Status.None;
            } else if (o.kind === "rejoin") {
              const m = pick([Status.None], o.pick);
              if (m === undefined) continue;
              await f.accessGroups.connect(f.members[m.owner]!).join(f.apiId, m.identity.commitment);
              [m.status, m.deposit] = [Status.Active, deposit];
              joins++;
            } else if (o.kind === "slash") {
              const m = pick([Status.Active, Status.Exiting], o.pick);
              if (m === undefined) continue;
              const siblings = m.status === Status.Active ? sync.tree.siblings(m.identity.commitment) : [];
              await commitSlash(f, f.slasher, m.identity.secret);
              await f.accessGroups.connect(f.slasher).slash(f.apiId, m.identity.secret, siblings);
              m.status = Status.Slashed;
            } else {
              deposit = o.amount;
              await f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ deposit }));
            }

            await sync.sync();
            expect(sync.tree.root, "synced root").to.equal(await f.accessGroups.rootOf(f.apiId));
            const locked = model
              .filter((m) => m.status === Status.Active || m.status === Status.Exiting)
              .reduce((sum, m) => sum + m.deposit, 0n);
            expect(await f.token.balanceOf(f.groupsAddress), "balance").to.equal(base + locked);
            for (const m of model) {
              const onChain = await f.accessGroups.getMember(f.apiId, m.identity.commitment);
              expect(onChain.status, "status").to.equal(m.status);
              const held = m.status === Status.Active || m.status === Status.Exiting;
              expect(onChain.deposit, "deposit").to.equal(held ? m.deposit : 0n);
              expect(sync.tree.has(m.identity.commitment), "in tree").to.equal(m.status === Status.Active);
            }
          }
          expect(await f.accessGroups.treeInfo(f.apiId).then(([size]) => size)).to.equal(joins);
        }),
        { numRuns: 25 },
      );
    });
  });
});
