import { expect } from "chai";
import { parseEther, ZeroAddress, type ContractTransactionReceipt } from "ethers";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  advance,
  bytes32,
  contractEntity,
  DAY,
  entity,
  eventId,
  logOf,
  lower,
  NODE_TYPES,
  NodeType,
  protocolEntity,
  send,
  sendAll,
  timeOf,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("staking");
const E = (n: number) => parseEther(String(n));
const UNBONDING = 2 * DAY;
const NODE_STATUS = ["Exited", "Active", "Exiting"] as const; // on-chain None = deleted

interface NodeRow {
  nodeType: string;
  region: string;
  url: string;
  capacity: string;
  status: string;
  stake: string;
  unbonding: string;
  unbondingReleaseAt: string | null;
  totalStaked: string;
  totalWithdrawn: string;
  slashedFromStake: string;
  slashedFromUnbonding: string;
  registeredAt: string;
}

const NODE_FIELDS = `nodeType region url capacity status stake unbonding unbondingReleaseAt totalStaked totalWithdrawn
  slashedFromStake slashedFromUnbonding registeredAt`;

/**
 * NodeStaking: five operators through registration, update, top-up, partial and full unstakes,
 * withdrawals (an exited node's record is deleted on-chain), a re-registration, slashes (from
 * stake, from stake and unbonding, to nothing), a delegation of stake votes (Security DAO), new
 * minimum stake, unbonding period and treasury, and the emergency pause.
 */
describe("subgraph mappings: NodeStaking", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let ops: string[];
  let treasury: string;
  const receipts: Record<string, ContractTransactionReceipt> = {};

  before(async () => {
    chain = await startIndexedChain();
    const { staking, token } = chain.protocol;
    const deployer = chain.account(0);
    const signers = accounts(chain, 1, 2, 3, 4, 5);
    ops = await addressesOf(...signers);
    treasury = await chain.account(6).getAddress();
    const [s1, s2, s3, s4, s5] = signers;
    const stakingAddress = await staking.getAddress();

    await send(staking.connect(deployer).setMinStake(NodeType.Mobile, E(200)));
    await send(staking.connect(deployer).setUnbondingPeriod(UNBONDING));
    await send(staking.connect(deployer).setTreasury(treasury));
    receipts.pause = await send(staking.connect(deployer).emergencyPause());
    await send(staking.connect(deployer).emergencyUnpause());
    await sendAll(...ops.map((op) => token.connect(deployer).transfer(op, E(20_000))));
    await sendAll(...signers.map((s) => token.connect(s).approve(stakingAddress, E(20_000))));

    receipts.register1 = await send(
      staking.connect(s1).registerNode(NodeType.Edge, bytes32("eu-west"), "https://n1.example", 100, E(2000)),
    );
    await sendAll(
      staking.connect(s2).registerNode(NodeType.Mobile, bytes32("us-east"), "https://n2.example", 10, E(300)),
      staking.connect(s3).registerNode(NodeType.Cloud, bytes32("ap-south"), "https://n3.example", 50, E(6000)),
      staking.connect(s4).registerNode(NodeType.Validator, bytes32("eu-west"), "wss://n4.example", 500, E(10_000)),
      staking.connect(s5).registerNode(NodeType.Edge, bytes32("eu-north"), "https://n5.example", 1, E(1000)),
    );
    await send(staking.connect(s1).updateNode(bytes32("us-west"), "https://n1b.example", 150));
    await send(staking.connect(s1).topUp(E(500)));
    receipts.unstake1 = await send(staking.connect(s1).unstake(E(1500)));
    receipts.exit2 = await send(staking.connect(s2).unstake(E(300)));
    await send(staking.connect(s3).unstake(E(1000)));

    await advance(chain, UNBONDING + 1);
    await sendAll(staking.connect(s1).withdraw(), staking.connect(s2).withdraw());
    // node 2 was deleted on-chain: it registers afresh.
    await send(staking.connect(s2).registerNode(NodeType.Mobile, bytes32("us-east"), "https://n2.example", 12, E(250)));

    // Slashes: node 3 loses its whole stake and part of its unbonding funds (it exits), node 4
    // part of its stake, node 5 everything (deleted on-chain).
    receipts.slash3 = await send(staking.connect(deployer).slash(ops[2]!, E(5800), bytes32("double-sign")));
    receipts.slash4 = await send(staking.connect(deployer).slash(ops[3]!, E(3000), bytes32("downtime")));
    receipts.slash5 = await send(staking.connect(deployer).slash(ops[4]!, E(5000), bytes32("fraud")));

    // Stake votes: node 1 delegates to node 4.
    await send(staking.connect(s1).delegate(ops[3]!));
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds every node as NodeStaking.getNode returns it (a deleted node is Exited)", async () => {
    const { staking } = chain.protocol;
    for (const op of ops) {
      const node = (await entity<NodeRow>(chain, "Node", lower(op), NODE_FIELDS))!;
      const n = await staking.getNode(op);
      const status = NODE_STATUS[Number(n.status)];
      expect(node.status, op).to.equal(status);
      expect({ stake: node.stake, unbonding: node.unbonding, releaseAt: node.unbondingReleaseAt }, op).to.deep.equal({
        stake: n.stake.toString(),
        unbonding: n.unbonding.toString(),
        releaseAt: n.unbondingReleaseAt === 0n ? null : n.unbondingReleaseAt.toString(),
      });
      if (status !== "Exited") {
        expect(node, op).to.deep.include({
          nodeType: NODE_TYPES[Number(n.nodeType)],
          region: n.region,
          url: n.url,
          capacity: n.capacity.toString(),
          registeredAt: n.registeredAt.toString(),
        });
      }
    }
  });

  it("tracks each node's lifetime stake, withdrawals and slashes", async () => {
    const rows = await Promise.all(ops.map((op) => entity<NodeRow>(chain, "Node", lower(op), NODE_FIELDS)));
    const totals = rows.map((r) => ({
      status: r!.status,
      totalStaked: r!.totalStaked,
      totalWithdrawn: r!.totalWithdrawn,
      slashedFromStake: r!.slashedFromStake,
      slashedFromUnbonding: r!.slashedFromUnbonding,
    }));
    const t = (status: string, staked: number, withdrawn: number, fromStake: number, fromUnbonding: number) => ({
      status,
      totalStaked: E(staked).toString(),
      totalWithdrawn: E(withdrawn).toString(),
      slashedFromStake: E(fromStake).toString(),
      slashedFromUnbonding: E(fromUnbonding).toString(),
    });
    expect(totals).to.deep.equal([
      t("Active", 2500, 1500, 0, 0),
      t("Active", 550, 300, 0, 0),
      t("Exiting", 6000, 0, 5000, 800),
      t("Active", 10_000, 0, 3000, 0),
      t("Exited", 1000, 0, 1000, 0),
    ]);
    expect(rows[0]).to.deep.include({ region: bytes32("us-west"), url: "https://n1b.example", capacity: "150" });
  });

  it("records every stake movement of a node as a StakeEvent with the balances after it", async () => {
    const { node } = await chain.query<{
      node: {
        stakeEvents: {
          kind: string;
          amount: string;
          stakeAfter: string;
          unbondingAfter: string;
          releaseAt: string | null;
          blockNumber: string;
        }[];
      };
    }>(
      `query($id: ID!) { node(id: $id) { stakeEvents(orderBy: blockNumber) { kind amount stakeAfter unbondingAfter releaseAt blockNumber } } }`,
      { id: lower(ops[0]!) },
    );
    const releaseAt = BigInt(await timeOf(chain, receipts.unstake1!)) + BigInt(UNBONDING);
    expect(node.stakeEvents.map(({ blockNumber: _, ...e }) => e)).to.deep.equal([
      {
        kind: "Staked",
        amount: E(2000).toString(),
        stakeAfter: E(2000).toString(),
        unbondingAfter: "0",
        releaseAt: null,
      },
      {
        kind: "Staked",
        amount: E(500).toString(),
        stakeAfter: E(2500).toString(),
        unbondingAfter: "0",
        releaseAt: null,
      },
      {
        kind: "UnstakeStarted",
        amount: E(1500).toString(),
        stakeAfter: E(1000).toString(),
        unbondingAfter: E(1500).toString(),
        releaseAt: releaseAt.toString(),
      },
      {
        kind: "Withdrawn",
        amount: E(1500).toString(),
        stakeAfter: E(1000).toString(),
        unbondingAfter: "0",
        releaseAt: null,
      },
    ]);
    expect(node.stakeEvents[0]!.blockNumber).to.equal(receipts.register1!.blockNumber.toString());
    // Node 2 was Exiting between its full unstake and its withdrawal.
    expect(await entity(chain, "Node", lower(ops[1]!), "status", receipts.exit2!.blockNumber)).to.deep.equal({
      status: "Exiting",
    });
  });

  it("records each slash with its split between stake and unbonding funds", async () => {
    const { staking } = chain.protocol;
    const address = await staking.getAddress();
    const sig = "NodeSlashed(address,uint256,uint256,address,bytes32)";
    for (const [receipt, op, fromStake, fromUnbonding, reason] of [
      [receipts.slash3!, ops[2]!, 5000, 800, "double-sign"],
      [receipts.slash4!, ops[3]!, 3000, 0, "downtime"],
      [receipts.slash5!, ops[4]!, 1000, 0, "fraud"],
    ] as const) {
      const log = logOf(receipt, address, sig);
      const slash = await entity(
        chain,
        "NodeSlash",
        eventId(receipt, log.index),
        "node { id } fromStake fromUnbonding amount recipient reason timestamp blockNumber transactionHash",
      );
      expect(slash, reason).to.deep.equal({
        node: { id: lower(op) },
        fromStake: E(fromStake).toString(),
        fromUnbonding: E(fromUnbonding).toString(),
        amount: E(fromStake + fromUnbonding).toString(),
        recipient: lower(treasury),
        reason: bytes32(reason),
        timestamp: (await timeOf(chain, receipt)).toString(),
        blockNumber: receipt.blockNumber.toString(),
        transactionHash: receipt.hash,
      });
    }
  });

  it("keeps the protocol's node counts and MESH totals equal to NodeStaking's", async () => {
    const { staking } = chain.protocol;
    let active = 0;
    for (const op of ops) if ((await staking.getNode(op)).status === 1n) active++;
    expect(
      await protocolEntity(
        chain,
        "nodeCount activeNodeCount nodeTotalStaked nodeTotalUnbonding nodeTotalSlashed nodeUnbondingPeriod",
      ),
    ).to.deep.equal({
      nodeCount: 5,
      activeNodeCount: active,
      nodeTotalStaked: (await staking.totalStaked()).toString(),
      nodeTotalUnbonding: (await staking.totalUnbonding()).toString(),
      nodeTotalSlashed: E(5800 + 3000 + 1000).toString(),
      nodeUnbondingPeriod: (await staking.unbondingPeriod()).toString(),
    });
    expect(active).to.equal(3);
  });

  it("holds each node type's minimum stake", async () => {
    const { nodeTypeConfigs } = await chain.query<{
      nodeTypeConfigs: { id: string; nodeType: string; minStake: string }[];
    }>(`{ nodeTypeConfigs(orderBy: id) { id nodeType minStake } }`);
    const expected = await Promise.all(
      NODE_TYPES.map(async (name, i) => ({
        id: name,
        nodeType: name,
        minStake: (await chain.protocol.staking.minStake(i)).toString(),
      })),
    );
    expect(nodeTypeConfigs).to.deep.equal(expected.sort((x, y) => x.id.localeCompare(y.id)));
    expect(nodeTypeConfigs.find((c) => c.id === "Mobile")!.minStake).to.equal(E(200).toString());
  });

  it("holds the Security DAO's stake votes and delegations as NodeStaking's Votes do", async () => {
    const { staking } = chain.protocol;
    for (const op of ops) {
      const delegate = await entity<{ votes: string; delegatorCount: number; dao: { id: string } }>(
        chain,
        "Delegate",
        `Security-${lower(op)}`,
        "votes delegatorCount dao { id }",
      );
      expect(delegate!.votes, op).to.equal((await staking.getVotes(op)).toString());
      expect(delegate!.dao.id).to.equal("Security");
      const to = await staking.delegates(op);
      const delegation = await entity(chain, "Delegation", `Security-${lower(op)}`, "delegator delegate { address }");
      expect(delegation, op).to.deep.equal({
        delegator: lower(op),
        delegate: to === ZeroAddress ? null : { address: lower(to) },
      });
    }
    expect(await entity(chain, "Delegate", `Security-${lower(ops[3]!)}`, "votes delegatorCount")).to.deep.equal({
      votes: E(7000 + 1000).toString(),
      delegatorCount: 2,
    });
    expect(await entity(chain, "Delegate", `Security-${lower(ops[0]!)}`, "votes delegatorCount")).to.deep.equal({
      votes: "0",
      delegatorCount: 0,
    });
  });

  it("keeps NodeStaking's pause switch, treasury and authority in its Contract entity", async () => {
    const { staking, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "NodeStaking")).to.deep.equal({
      address: lower(await staking.getAddress()),
      paused: false,
      treasury: lower(await staking.treasury()),
      authority: lower(await accessManager.getAddress()),
    });
    expect(await staking.treasury()).to.equal(treasury);
    expect(await contractEntity(chain, "NodeStaking", receipts.pause!.blockNumber)).to.deep.include({ paused: true });
  });

  it("triggered every NodeStaking handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
