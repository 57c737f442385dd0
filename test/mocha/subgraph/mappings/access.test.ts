import { expect } from "chai";
import { AbiCoder, keccak256, MaxUint256, parseEther, type ContractTransactionReceipt, type Signer } from "ethers";
import { GroupSync } from "../../../../sdk/zk/group-sync.js";
import { GroupTree } from "../../../../sdk/zk/group-tree.js";
import { identityFromSecret, type Identity } from "../../../../sdk/zk/identity.js";
import { AccessProver } from "../../../../sdk/zk/prover.js";
import { toSolidityProof, type AccessProof } from "../../../../sdk/zk/signals.js";
import { releaseZkThreads } from "../../../../sdk/zk/verifier.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  advance,
  apiInput,
  contractEntity,
  DAY,
  deployToken,
  entity,
  eventId,
  logOf,
  lower,
  MODEL_SUBSCRIPTION,
  protocolEntity,
  send,
  sendAll,
  timeOf,
  USDC,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("access");
const E = (n: number) => parseEther(String(n));
const SETTINGS = {
  deposit: E(100),
  epochLength: 60,
  userMessageLimit: 3,
  rootHistoryWindow: 600,
  requireSubscription: false,
};
const UPDATED = { ...SETTINGS, deposit: E(150), userMessageLimit: 5, rootHistoryWindow: 900 };
const SUB_GROUP = {
  deposit: 0n,
  epochLength: 60,
  userMessageLimit: 2,
  rootHistoryWindow: 60,
  requireSubscription: true,
};
const REWARD_BPS = 4000n;
const MEMBER_STATUS = ["Withdrawn", "Active", "Exiting", "Slashed"] as const; // on-chain None = deleted

interface MemberRow {
  commitment: string;
  owner: string;
  index: string;
  deposit: string;
  status: string;
  lapsed: boolean;
  unlockAt: string | null;
  joinedAt: string;
  exitedAt: string | null;
  slashedBy: string | null;
  slashReward: string | null;
  slashToTreasury: string | null;
  withdrawnAt: string | null;
}

const MEMBER_FIELDS =
  "commitment owner index deposit status lapsed unlockAt joinedAt exitedAt slashedBy slashReward slashToTreasury withdrawnAt";

/**
 * AccessGroups and AccessVerifier: a deposit group created and updated (later joins lock the new
 * deposit); members that join, leave, get slashed while active and while exiting (commit, then
 * reveal), withdraw and join again with the same commitment; a subscription group whose member is
 * removed when its subscription lapses; new slash reward and treasury; the emergency pause; and
 * one real Groth16 access proof consumed on-chain.
 */
describe("subgraph mappings: AccessGroups and AccessVerifier", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let mesh: string, groupsAddress: string, treasury: string, slasher: string;
  let owners: string[];
  const ids: Record<"a" | "b" | "c" | "d" | "e", Identity> = {
    a: identityFromSecret(1001n),
    b: identityFromSecret(1002n),
    c: identityFromSecret(1003n),
    d: identityFromSecret(1004n),
    e: identityFromSecret(1005n),
  };
  const receipts: Record<string, ContractTransactionReceipt> = {};
  let proof: AccessProof;

  before(async () => {
    chain = await startIndexedChain();
    const { accessGroups, registry, subscriptions, token, accessVerifier } = chain.protocol;
    const deployer = chain.account(0);
    const provider = chain.account(1);
    const members = accounts(chain, 2, 3, 4, 5, 6);
    const slasherSigner = chain.account(7);
    owners = await Promise.all(members.map((m) => m.getAddress()));
    [slasher, treasury] = await Promise.all([slasherSigner.getAddress(), chain.account(8).getAddress()]);
    mesh = await token.getAddress();
    groupsAddress = await accessGroups.getAddress();
    const usdc = await deployToken(deployer);
    const usdcAddress = await usdc.getAddress();

    await sendAll(
      registry.connect(provider).register(apiInput(usdcAddress)),
      ...owners.map((o) => token.connect(deployer).transfer(o, E(1000))),
      usdc.connect(deployer).mint(owners[4]!, USDC(10)),
    );
    await sendAll(
      registry.connect(provider).register(
        apiInput(usdcAddress, {
          pricing: { models: MODEL_SUBSCRIPTION, pricePerCall: 0n, period: 3600, pricePerPeriod: USDC(1) },
        }),
      ),
      ...members.map((m) => token.connect(m).approve(groupsAddress, MaxUint256)),
      usdc.connect(members[4]).approve(await subscriptions.getAddress(), MaxUint256),
    );
    await send(accessGroups.connect(provider).createGroup(1n, mesh, SETTINGS));
    await send(accessGroups.connect(provider).createGroup(2n, mesh, SUB_GROUP));
    await send(accessGroups.connect(deployer).setSlashRewardBps(REWARD_BPS));
    await send(accessGroups.connect(deployer).setTreasury(treasury));

    // Group 1: A joins at the first deposit; B, C, D after the update.
    const tree = new GroupTree();
    const join = async (m: Signer, who: Identity) => {
      const receipt = await send(accessGroups.connect(m).join(1n, who.commitment));
      tree.insert(who.commitment);
      return receipt;
    };
    const exit = (who: Identity) => {
      const siblings = tree.siblings(who.commitment);
      tree.remove(who.commitment);
      return siblings;
    };
    receipts.joinA = await join(members[0], ids.a);
    receipts.update = await send(accessGroups.connect(provider).updateGroup(1n, UPDATED));
    receipts.joinB = await join(members[1], ids.b);
    receipts.joinC = await join(members[2], ids.c);
    receipts.joinD = await join(members[3], ids.d);
    receipts.leaveA = await send(accessGroups.connect(members[0]).leave(1n, ids.a.commitment, exit(ids.a)));
    receipts.leaveD = await send(accessGroups.connect(members[3]).leave(1n, ids.d.commitment, exit(ids.d)));

    // Slashes (commit, then reveal in a later block): B while active, D while exiting.
    const digest = (who: Identity) =>
      keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256", "uint256"], [slasher, 1n, who.secret]));
    receipts.commitB = await send(accessGroups.connect(slasherSigner).commitSlash(digest(ids.b)));
    receipts.commitD = await send(accessGroups.connect(slasherSigner).commitSlash(digest(ids.d)));
    receipts.slashB = await send(accessGroups.connect(slasherSigner).slash(1n, ids.b.secret, exit(ids.b)));
    receipts.slashD = await send(accessGroups.connect(slasherSigner).slash(1n, ids.d.secret, []));

    // Group 2: E joins with a one-hour subscription, which lapses.
    await send(subscriptions.connect(members[4]).subscribe(2n, usdcAddress, 1n, USDC(1)));
    receipts.joinE = await send(accessGroups.connect(members[4]).join(2n, ids.e.commitment));
    await advance(chain, UPDATED.rootHistoryWindow + 2 * UPDATED.epochLength + DAY);
    receipts.removeE = await send(accessGroups.connect(slasherSigner).removeLapsed(2n, ids.e.commitment, []));

    // A takes its deposit back and joins again with the same commitment.
    receipts.withdrawA = await send(accessGroups.connect(members[0]).withdraw(1n, ids.a.commitment));
    receipts.rejoinA = await join(members[0], ids.a);

    receipts.pause = await send(accessGroups.connect(deployer).emergencyPause());
    await send(accessGroups.connect(deployer).emergencyUnpause());

    // One anonymous call by C, proven against the group's current root.
    const sync = new GroupSync(accessGroups, 1n, chain.deployment.contracts.AccessGroups.blockNumber);
    await sync.sync();
    const prover = await AccessProver.load();
    proof = await prover.prove({
      identity: ids.c,
      merkleProof: sync.tree.proof(ids.c.commitment),
      apiId: 1n,
      epoch: await accessGroups.currentEpoch(1n),
      userMessageLimit: BigInt(UPDATED.userMessageLimit),
      messageIndex: 0n,
      x: 42n,
    });
    receipts.consume = await send(
      accessVerifier.connect(members[1]).consume(toSolidityProof(proof.proof), proof.signals),
    );
    await chain.index();
  });

  after(async () => {
    await releaseZkThreads();
    await chain?.stop();
  });

  it("holds both groups' settings, root, size and active members as AccessGroups does", async () => {
    const { accessGroups } = chain.protocol;
    for (const [apiId, settings, active] of [
      [1n, UPDATED, 2],
      [2n, SUB_GROUP, 0],
    ] as const) {
      const g = await accessGroups.getGroup(apiId);
      const [size] = await accessGroups.treeInfo(apiId);
      expect(
        await entity(
          chain,
          "AccessGroup",
          apiId.toString(),
          "api { apiId } depositToken deposit epochLength userMessageLimit rootHistoryWindow requireSubscription root size activeMemberCount",
        ),
        `group ${apiId}`,
      ).to.deep.equal({
        api: { apiId: apiId.toString() },
        depositToken: lower(g.depositToken),
        deposit: g.deposit.toString(),
        epochLength: g.epochLength.toString(),
        userMessageLimit: Number(g.userMessageLimit),
        rootHistoryWindow: g.rootHistoryWindow.toString(),
        requireSubscription: g.requireSubscription,
        root: (await accessGroups.rootOf(apiId)).toString(),
        size: Number(size),
        activeMemberCount: active,
      });
      expect(g.deposit).to.equal(settings.deposit);
    }
    expect(
      await entity(chain, "AccessGroup", "1", "deposit userMessageLimit", receipts.update!.blockNumber - 1),
    ).to.deep.equal({
      deposit: E(100).toString(),
      userMessageLimit: 3,
    });
    expect(await protocolEntity(chain, "accessGroupCount accessSlashRewardBps")).to.deep.equal({
      accessGroupCount: 2,
      accessSlashRewardBps: Number(await accessGroups.slashRewardBps()),
    });
  });

  it("holds every membership's status and unlock time as getMember does, and its history", async () => {
    const { accessGroups } = chain.protocol;
    const t = (r: ContractTransactionReceipt) => timeOf(chain, r);
    const expected: Record<string, Partial<MemberRow> & { apiId: bigint; who: Identity }> = {
      a: {
        apiId: 1n,
        who: ids.a,
        owner: lower(owners[0]!),
        index: "4",
        deposit: E(150).toString(),
        joinedAt: (await t(receipts.rejoinA!)).toString(),
      },
      b: {
        apiId: 1n,
        who: ids.b,
        owner: lower(owners[1]!),
        index: "1",
        deposit: E(150).toString(),
        exitedAt: null,
        slashedBy: lower(slasher),
        slashReward: ((E(150) * REWARD_BPS) / 10_000n).toString(),
        slashToTreasury: (E(150) - (E(150) * REWARD_BPS) / 10_000n).toString(),
      },
      c: {
        apiId: 1n,
        who: ids.c,
        owner: lower(owners[2]!),
        index: "2",
        deposit: E(150).toString(),
        exitedAt: null,
        slashedBy: null,
      },
      d: {
        apiId: 1n,
        who: ids.d,
        owner: lower(owners[3]!),
        index: "3",
        exitedAt: (await t(receipts.leaveD!)).toString(),
        slashReward: ((E(150) * REWARD_BPS) / 10_000n).toString(),
      },
      e: {
        apiId: 2n,
        who: ids.e,
        owner: lower(owners[4]!),
        index: "0",
        deposit: "0",
        lapsed: true,
        exitedAt: (await t(receipts.removeE!)).toString(),
      },
    };
    for (const [name, { apiId, who, ...fields }] of Object.entries(expected)) {
      const m = await accessGroups.getMember(apiId, who.commitment);
      const row = await entity<MemberRow>(chain, "AccessGroupMember", `${apiId}-${who.commitment}`, MEMBER_FIELDS);
      expect(row, name).to.deep.include({
        commitment: who.commitment.toString(),
        owner: lower(m.owner),
        status: MEMBER_STATUS[Number(m.status)],
        unlockAt: m.unlockAt === 0n ? null : m.unlockAt.toString(),
        ...fields,
      });
    }
    expect(await entity(chain, "AccessGroupMember", `2-${ids.e.commitment}`, "unlockAt")).to.deep.equal({
      unlockAt: (
        (await t(receipts.removeE!)) + BigInt(SUB_GROUP.rootHistoryWindow + 2 * SUB_GROUP.epochLength + DAY)
      ).toString(),
    });
  });

  it("starts a withdrawn commitment's membership afresh when it joins again", async () => {
    const id = `1-${ids.a.commitment}`;
    const left = await timeOf(chain, receipts.leaveA!);
    expect(
      await entity<MemberRow>(chain, "AccessGroupMember", id, MEMBER_FIELDS, receipts.withdrawA!.blockNumber),
    ).to.deep.include({
      status: "Withdrawn",
      index: "0",
      deposit: E(100).toString(),
      exitedAt: left.toString(),
      unlockAt: null,
      withdrawnAt: (await timeOf(chain, receipts.withdrawA!)).toString(),
    });
    expect(await entity<MemberRow>(chain, "AccessGroupMember", id, MEMBER_FIELDS)).to.deep.equal({
      commitment: ids.a.commitment.toString(),
      owner: lower(owners[0]!),
      index: "4",
      deposit: E(150).toString(),
      status: "Active",
      lapsed: false,
      unlockAt: null,
      joinedAt: (await timeOf(chain, receipts.rejoinA!)).toString(),
      exitedAt: null,
      slashedBy: null,
      slashReward: null,
      slashToTreasury: null,
      withdrawnAt: null,
    });
  });

  it("counts active members down once per member: a member slashed while exiting had left already", async () => {
    const at = async (r: ContractTransactionReceipt) =>
      (await entity<{ activeMemberCount: number }>(chain, "AccessGroup", "1", "activeMemberCount", r.blockNumber))!
        .activeMemberCount;
    expect(await at(receipts.joinD!)).to.equal(4);
    expect(await at(receipts.leaveD!)).to.equal(2);
    expect(await at(receipts.slashB!)).to.equal(1);
    expect(await at(receipts.slashD!)).to.equal(1);
    expect(await at(receipts.rejoinA!)).to.equal(2);
  });

  it("records slash commitments", async () => {
    for (const r of [receipts.commitB!, receipts.commitD!]) {
      const log = logOf(r, groupsAddress, "SlashCommitted(bytes32,address)");
      expect(
        await entity(chain, "AccessSlashCommit", eventId(r, log.index), "digest committer blockNumber transactionHash"),
      ).to.deep.equal({
        digest: log.topics[1],
        committer: lower(slasher),
        blockNumber: r.blockNumber.toString(),
        transactionHash: r.hash,
      });
    }
  });

  it("records the consumed access proof with its Shamir share", async () => {
    const r = receipts.consume!;
    const log = logOf(
      r,
      await chain.protocol.accessVerifier.getAddress(),
      "AccessConsumed(uint256,uint256,uint256,uint256,uint256,address)",
    );
    expect(
      await entity(
        chain,
        "AccessConsumption",
        eventId(r, log.index),
        "group { id } apiId epoch nullifier x y consumer timestamp",
      ),
    ).to.deep.equal({
      group: { id: "1" },
      apiId: "1",
      epoch: proof.signals.epoch.toString(),
      nullifier: proof.signals.nullifier.toString(),
      x: "42",
      y: proof.signals.y.toString(),
      consumer: lower(owners[1]!),
      timestamp: (await timeOf(chain, r)).toString(),
    });
    expect(await chain.protocol.accessVerifier.nullifierUsed(proof.signals.nullifier)).to.equal(true);
  });

  it("keeps AccessGroups' pause switch, treasury and authority in its Contract entity", async () => {
    const { accessGroups, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "AccessGroups")).to.deep.equal({
      address: lower(groupsAddress),
      paused: false,
      treasury: lower(await accessGroups.treasury()),
      authority: lower(await accessManager.getAddress()),
    });
    expect(await accessGroups.treasury()).to.equal(treasury);
    expect(await contractEntity(chain, "AccessGroups", receipts.pause!.blockNumber)).to.deep.include({ paused: true });
  });

  it("triggered every AccessGroups and AccessVerifier handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
