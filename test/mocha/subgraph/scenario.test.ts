import { expect } from "chai";
import { id, parseEther } from "ethers";
import { generateActivity, type Activity } from "../../../scripts/demo/activity.js";
import { channelId } from "../../../sdk/vouchers.js";
import { startIndexedChain, type IndexedChain } from "../helpers/subgraph.js";

interface ApiRow {
  apiId: string;
  status: string;
  provider: { id: string };
  callsPaidValue: string;
  redemptionCount: number;
  channels: { id: string }[];
}

const NEW_SPLIT = { providerBps: 7000, nodeBps: 2000, protocolBps: 1000 };

/**
 * A realistic marketplace on a real chain: providers list APIs, nodes stake, payers open
 * channels and nodes redeem vouchers over several rounds, a node claims, the Protocol DAO votes
 * a new revenue split and executes it, and more calls are paid under the new split. Every answer
 * of the subgraph endpoint is compared with the chain's own state read through the contracts.
 */
describe("subgraph: marketplace scenario against the chain's own state", function () {
  this.timeout(240_000);
  let chain: IndexedChain;
  let activity: Activity;
  let proposalId: bigint;
  let blockBeforeSplit: number;

  before(async () => {
    chain = await startIndexedChain();
    const { protocol } = chain;
    const deployer = chain.account(0);
    activity = await generateActivity(protocol, deployer, {
      providers: 3,
      apisPerProvider: 2,
      nodes: 3,
      payers: 3,
      rounds: 2,
      batchSize: 20,
    });

    // Voters hold MESH before the hand-over moves the treasury to the Protocol timelock.
    const voters = [chain.account(3), chain.account(4)];
    for (const voter of voters) {
      await (await protocol.token.connect(deployer).transfer(await voter.getAddress(), parseEther("50000000"))).wait();
      await (await protocol.token.connect(voter).delegate(await voter.getAddress())).wait();
    }
    const governance = await chain.handOver();
    const governor = governance.protocol.governor;

    const calldata = protocol.escrow.interface.encodeFunctionData("setRevenueSplit", [NEW_SPLIT]);
    const target = await protocol.escrow.getAddress();
    const description = "Raise the node share to 20%";
    const proposed = await (await governor.connect(voters[0]!).propose([target], [0], [calldata], description)).wait();
    proposalId = governor.interface.parseLog(proposed!.logs[0]!)!.args[0] as bigint;
    await chain.provider.send("evm_increaseTime", [61]);
    await chain.provider.send("evm_mine", []);
    await (await governor.connect(voters[0]!).castVote(proposalId, 1)).wait();
    await (await governor.connect(voters[1]!).castVoteWithReason(proposalId, 2, "no opinion")).wait();
    await chain.provider.send("evm_increaseTime", [601]);
    await chain.provider.send("evm_mine", []);
    await (await governor.connect(voters[0]!).queue([target], [0], [calldata], id(description))).wait();
    await chain.provider.send("evm_increaseTime", [61]);
    await chain.provider.send("evm_mine", []);
    blockBeforeSplit = await chain.provider.getBlockNumber();
    await (await governor.connect(voters[0]!).execute([target], [0], [calldata], id(description))).wait();

    // Later calls are paid under the new split; one node takes its earnings out.
    await activity.settle(1);
    await activity.claimNodeEarnings(0);
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("lists every API with its provider, status and channels as the registry and escrow hold them", async () => {
    const { apis } = await chain.query<{ apis: ApiRow[] }>(
      `{ apis(first: 100, orderBy: apiId) { apiId status provider { id } callsPaidValue redemptionCount channels(first: 1000) { id } } }`,
    );
    const onChainCount = await chain.protocol.registry.apiCount();
    expect(apis.map((a) => BigInt(a.apiId))).to.deep.equal(
      Array.from({ length: Number(onChainCount) }, (_, i) => BigInt(i + 1)),
    );
    for (const api of apis) {
      const onChain = await chain.protocol.registry.getApi(api.apiId);
      expect(api.provider.id).to.equal(onChain.provider.toLowerCase());
      expect(api.status).to.equal(["None", "Active", "Paused", "Retired", "Delisted"][Number(onChain.status)]);
    }
  });

  it("holds every channel's balance and redeemed total exactly as the escrow does", async () => {
    const { channels } = await chain.query<{
      channels: {
        id: string;
        payer: string;
        node: { id: string };
        api: { apiId: string };
        balance: string;
        redeemed: string;
      }[];
    }>(`{ channels(first: 1000) { id payer node { id } api { apiId } balance redeemed } }`);
    const redeemedChannels = new Set(
      activity.redemptions.map((r) => channelId(r.payer, r.node, r.apiId, r.token).toLowerCase()),
    );
    expect(new Set(channels.map((c) => c.id))).to.deep.equal(redeemedChannels);
    for (const channel of channels) {
      const [balance, redeemed] = await chain.protocol.escrow.channels(channel.id);
      expect(BigInt(channel.balance), channel.id).to.equal(balance);
      expect(BigInt(channel.redeemed), channel.id).to.equal(redeemed);
      expect(channel.id).to.equal(
        channelId(channel.payer, channel.node.id, BigInt(channel.api.apiId), await tokenOf(channel.id)),
      );
    }
  });

  async function tokenOf(channel: string): Promise<string> {
    const { channel: c } = await chain.query<{ channel: { token: { id: string } } }>(
      `query($id: ID!) { channel(id: $id) { token { id } } }`,
      { id: channel },
    );
    return c.token.id;
  }

  it("splits revenue exactly as the contracts credited it, before and after the DAO's new split", async () => {
    const { apiEarnings_collection: earnings } = await chain.query<{
      apiEarnings_collection: {
        api: { apiId: string };
        token: { id: string };
        providerUnclaimed: string;
        protocolEarned: string;
      }[];
    }>(
      `{ apiEarnings_collection(first: 1000, where: { ledger: PaymentEscrow }) { api { apiId } token { id } providerUnclaimed protocolEarned } }`,
    );
    expect(earnings).to.have.length(activity.apiIds.length);
    for (const e of earnings) {
      const onChain = await chain.protocol.escrow.apiEarnings(e.token.id, e.api.apiId);
      expect(BigInt(e.providerUnclaimed)).to.equal(onChain.provider);
    }
    const { nodeEarnings_collection: nodes } = await chain.query<{
      nodeEarnings_collection: { node: { id: string }; token: { id: string }; unclaimed: string }[];
    }>(`{ nodeEarnings_collection(first: 1000) { node { id } token { id } unclaimed } }`);
    expect(nodes).to.have.length(activity.nodes.length);
    for (const n of nodes) {
      expect(BigInt(n.unclaimed)).to.equal(await chain.protocol.escrow.nodeEarnings(n.token.id, n.node.id));
    }
  });

  it("agrees with the chain's Redeemed events on the protocol totals", async () => {
    const logs = await chain.protocol.escrow.queryFilter(chain.protocol.escrow.filters.Redeemed(), 0, "latest");
    const paid = logs.reduce((sum, log) => sum + (log.args[2] as bigint), 0n);
    const { protocol } = await chain.query<{
      protocol: { totalRedeemed: string; providerRevenue: string; nodeRevenue: string; protocolRevenue: string };
    }>(`{ protocol(id: "1") { totalRedeemed providerRevenue nodeRevenue protocolRevenue } }`);
    expect(BigInt(protocol.totalRedeemed)).to.equal(paid);
    expect(BigInt(protocol.providerRevenue) + BigInt(protocol.nodeRevenue) + BigInt(protocol.protocolRevenue)).to.equal(
      paid,
    );
  });

  it("records the DAO vote and its execution as the governor counted them", async () => {
    const { proposal } = await chain.query<{
      proposal: {
        status: string;
        forVotes: string;
        againstVotes: string;
        abstainVotes: string;
        voteCount: number;
        dao: { name: string };
      };
    }>(`query($id: ID!) { proposal(id: $id) { status forVotes againstVotes abstainVotes voteCount dao { name } } }`, {
      id: `Protocol-${proposalId}`,
    });
    expect(proposal.dao.name).to.equal("Protocol");
    expect(proposal.status).to.equal("Executed");
    expect(proposal.voteCount).to.equal(2);
    expect(BigInt(proposal.forVotes)).to.equal(parseEther("50000000"));
    expect(BigInt(proposal.abstainVotes)).to.equal(parseEther("50000000"));
    expect(BigInt(proposal.againstVotes)).to.equal(0n);
    const { protocol } = await chain.query<{
      protocol: { providerBps: number; nodeBps: number; escrowProtocolBps: number };
    }>(`{ protocol(id: "1") { providerBps nodeBps escrowProtocolBps } }`);
    expect(protocol).to.deep.equal({
      providerBps: NEW_SPLIT.providerBps,
      nodeBps: NEW_SPLIT.nodeBps,
      escrowProtocolBps: NEW_SPLIT.protocolBps,
    });
  });

  it("answers for a past block as the chain does at that block (time travel)", async () => {
    const { protocol } = await chain.query<{ protocol: { nodeBps: number } }>(
      `query($b: Int!) { protocol(id: "1", block: { number: $b }) { nodeBps } }`,
      { b: blockBeforeSplit },
    );
    const [, nodeBps] = await chain.protocol.escrow.revenueSplit({ blockTag: blockBeforeSplit });
    expect(protocol.nodeBps).to.equal(Number(nodeBps));
    expect(protocol.nodeBps).to.not.equal(NEW_SPLIT.nodeBps);
    const meta = await chain.query<{ _meta: { block: { number: number; hash: string } } }>(
      `{ _meta { block { number hash } } }`,
    );
    const head = await chain.provider.getBlock("latest");
    expect(meta._meta.block).to.deep.equal({ number: head!.number, hash: head!.hash });
  });
});
