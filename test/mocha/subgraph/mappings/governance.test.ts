import { expect } from "chai";
import { id, parseEther, type BaseContract, type ContractTransactionReceipt, type Signer } from "ethers";
import type { Governance } from "../../../../deploy/governance.js";
import type { MeshGovernor } from "../../../../types/ethers-contracts/index.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import { accounts, advance, bytes32, entity, lower, NodeType, protocolEntity, send, sendAll, timeOf } from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("governance");
const E = (n: number) => parseEther(String(n));
const SUPPORT = ["Against", "For", "Abstain"] as const;
const NEW_MIN_QUORUM = E(1000);
const POLICY = { requestsPerWindow: 1000, windowSeconds: 60, burst: 50 };
const FLAG = bytes32("zk-auth");

type DaoKey = "Protocol" | "Security" | "Developer";
const KEYS: Record<DaoKey, keyof Governance> = { Protocol: "protocol", Security: "security", Developer: "developer" };

interface Ballot {
  voter: Signer;
  support: 0 | 1 | 2;
  reason?: string;
  params?: string;
}

interface Plan {
  dao: DaoKey;
  governor: MeshGovernor;
  proposer: Signer;
  target: BaseContract;
  fn: string;
  args: unknown[];
  ballots: Ballot[];
}

interface Proposed {
  plan: Plan;
  proposalId: bigint;
  targets: string[];
  calldatas: string[];
  description: string;
  created: ContractTransactionReceipt;
  queued?: ContractTransactionReceipt;
  executed?: ContractTransactionReceipt;
  canceled?: ContractTransactionReceipt;
  votes: {
    voter: string;
    support: number;
    reason: string;
    params: string | null;
    receipt: ContractTransactionReceipt;
  }[];
}

/**
 * The three DAOs, deployed and handed over by the real deploy code: on each, one proposal goes
 * the whole way (created, voted For, Against or Abstain, with and without reasons and params,
 * queued in the timelock, executed) and a second one is cancelled by its proposer. The executed
 * proposals change the Protocol governor's own quorum floor, a rate-limit tier (Security) and a
 * feature flag (Developer). The governors' constructor events give every DAO its settings.
 */
describe("subgraph mappings: the three DAOs' governors", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let governance: Governance;
  const passed: Proposed[] = [];
  const cancelled: Proposed[] = [];

  before(async () => {
    chain = await startIndexedChain();
    const { token, staking, rateLimits, flags } = chain.protocol;
    const deployer = chain.account(0);
    const [pv1, pv2, pv3, sv1, sv2, dv1, dv2, keeper] = accounts(chain, 1, 2, 3, 4, 5, 6, 7, 8);
    const addr = (s: Signer) => s.getAddress();

    // Protocol DAO votes: MESH, self-delegated. Security DAO: node stake (self-delegated on
    // registration). Developer DAO: credentials issued at the hand-over (self-delegated).
    await sendAll(
      token.connect(deployer).transfer(await addr(pv1), E(100_000_000)),
      token.connect(deployer).transfer(await addr(pv2), E(10_000_000)),
      token.connect(deployer).transfer(await addr(pv3), E(1_000_000)),
      token.connect(deployer).transfer(await addr(sv1), E(20_000)),
      token.connect(deployer).transfer(await addr(sv2), E(5000)),
    );
    const stakingAddress = await staking.getAddress();
    await sendAll(
      ...[pv1, pv2, pv3].map(async (v) => token.connect(v).delegate(await addr(v))),
      token.connect(sv1).approve(stakingAddress, E(20_000)),
      token.connect(sv2).approve(stakingAddress, E(5000)),
    );
    await sendAll(
      staking.connect(sv1).registerNode(NodeType.Validator, bytes32("eu"), "https://sv1.example", 10, E(20_000)),
      staking.connect(sv2).registerNode(NodeType.Cloud, bytes32("us"), "https://sv2.example", 10, E(5000)),
    );
    governance = await chain.handOver([await addr(dv1), await addr(dv2)]);

    const plans: Plan[] = [
      {
        dao: "Protocol",
        governor: governance.protocol.governor,
        proposer: pv1,
        target: governance.protocol.governor,
        fn: "setMinQuorum",
        args: [NEW_MIN_QUORUM],
        ballots: [
          { voter: pv1, support: 1 },
          { voter: pv2, support: 0, reason: "too risky", params: "0x1234" },
          { voter: pv3, support: 2, reason: "no opinion" },
        ],
      },
      {
        dao: "Security",
        governor: governance.security.governor,
        proposer: sv1,
        target: rateLimits,
        fn: "setPolicy",
        args: [1, POLICY],
        ballots: [
          { voter: sv1, support: 1, reason: "needed" },
          { voter: sv2, support: 0, reason: "", params: "0xabcdef" },
        ],
      },
      {
        dao: "Developer",
        governor: governance.developer.governor,
        proposer: dv1,
        target: flags,
        fn: "setFlag",
        args: [FLAG, true, 5000],
        ballots: [
          { voter: dv1, support: 1 },
          { voter: dv2, support: 2, reason: "fine by me", params: "0x01" },
        ],
      },
    ];

    const propose = async (plan: Plan, description: string): Promise<Proposed> => {
      const targets = [await plan.target.getAddress()];
      const calldatas = [plan.target.interface.encodeFunctionData(plan.fn, plan.args)];
      const created = await send(plan.governor.connect(plan.proposer).propose(targets, [0n], calldatas, description));
      const proposalId = await plan.governor.hashProposal(targets, [0n], calldatas, id(description));
      return { plan, proposalId, targets, calldatas, description, created, votes: [] };
    };
    for (const plan of plans) {
      passed.push(await propose(plan, `${plan.dao}: ${plan.fn}`));
      const doomed = await propose(plan, `${plan.dao}: ${plan.fn}, second thoughts`);
      doomed.canceled = await send(
        plan.governor.connect(plan.proposer).cancel(doomed.targets, [0n], doomed.calldatas, id(doomed.description)),
      );
      cancelled.push(doomed);
    }

    await advance(chain, 61);
    for (const p of passed) {
      const receipts = await sendAll(
        ...p.plan.ballots.map((b) =>
          b.params !== undefined
            ? p.plan.governor
                .connect(b.voter)
                .castVoteWithReasonAndParams(p.proposalId, b.support, b.reason ?? "", b.params)
            : b.reason !== undefined
              ? p.plan.governor.connect(b.voter).castVoteWithReason(p.proposalId, b.support, b.reason)
              : p.plan.governor.connect(b.voter).castVote(p.proposalId, b.support),
        ),
      );
      for (const [i, b] of p.plan.ballots.entries()) {
        p.votes.push({
          voter: await addr(b.voter),
          support: b.support,
          reason: b.reason ?? "",
          params: b.params ?? null,
          receipt: receipts[i]!,
        });
      }
    }
    await advance(chain, 601);
    for (const p of passed)
      p.queued = await send(p.plan.governor.connect(keeper).queue(p.targets, [0n], p.calldatas, id(p.description)));
    await advance(chain, 61);
    for (const p of passed) {
      p.executed = await send(p.plan.governor.connect(keeper).execute(p.targets, [0n], p.calldatas, id(p.description)));
    }
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds each DAO's governor, timelock and voting rules as its governor returns them", async () => {
    for (const dao of Object.keys(KEYS) as DaoKey[]) {
      const { governor, timelock } = governance[KEYS[dao]];
      expect(
        await entity(
          chain,
          "Dao",
          dao,
          "name governor timelock votingDelay votingPeriod proposalThreshold quorumNumerator minQuorum proposalCount",
        ),
        dao,
      ).to.deep.equal({
        name: dao,
        governor: lower(await governor.getAddress()),
        timelock: lower(await timelock.getAddress()),
        votingDelay: (await governor.votingDelay()).toString(),
        votingPeriod: (await governor.votingPeriod()).toString(),
        proposalThreshold: (await governor.proposalThreshold()).toString(),
        quorumNumerator: (await governor["quorumNumerator()"]()).toString(),
        minQuorum: (await governor.minQuorum()).toString(),
        proposalCount: 2,
      });
      expect(await governor.timelock()).to.equal(await timelock.getAddress());
    }
    // The Protocol DAO's executed proposal raised its own quorum floor (MinQuorumUpdated).
    const p = passed[0]!;
    expect(await entity(chain, "Dao", "Protocol", "minQuorum")).to.deep.equal({ minQuorum: NEW_MIN_QUORUM.toString() });
    expect(await entity(chain, "Dao", "Protocol", "minQuorum", p.executed!.blockNumber - 1)).to.deep.equal({
      minQuorum: "1",
    });
    expect(await protocolEntity(chain, "proposalCount")).to.deep.equal({ proposalCount: 6 });
  });

  it("holds every proposal's content, voting window, tally and lifecycle as the governor does", async () => {
    for (const p of [...passed, ...cancelled]) {
      const { governor, dao } = p.plan;
      const [againstVotes, forVotes, abstainVotes] = await governor.proposalVotes(p.proposalId);
      const eta = await governor.proposalEta(p.proposalId);
      const time = async (r: ContractTransactionReceipt | undefined) =>
        r === undefined ? null : (await timeOf(chain, r)).toString();
      const row = await entity(
        chain,
        "Proposal",
        `${dao}-${p.proposalId}`,
        `dao { id } proposalId proposer targets values signatures calldatas description voteStart voteEnd status forVotes
         againstVotes abstainVotes voteCount eta createdAt createdAtBlock transactionHash queuedAt executedAt canceledAt`,
      );
      expect(row, p.description).to.deep.equal({
        dao: { id: dao },
        proposalId: p.proposalId.toString(),
        proposer: lower(await governor.proposalProposer(p.proposalId)),
        targets: p.targets.map(lower),
        values: ["0"],
        signatures: [""],
        calldatas: p.calldatas,
        description: p.description,
        voteStart: (await governor.proposalSnapshot(p.proposalId)).toString(),
        voteEnd: (await governor.proposalDeadline(p.proposalId)).toString(),
        status: p.canceled ? "Canceled" : "Executed",
        forVotes: forVotes.toString(),
        againstVotes: againstVotes.toString(),
        abstainVotes: abstainVotes.toString(),
        voteCount: p.votes.length,
        eta: eta === 0n ? null : eta.toString(),
        createdAt: await time(p.created),
        createdAtBlock: p.created.blockNumber.toString(),
        transactionHash: p.created.hash,
        queuedAt: await time(p.queued),
        executedAt: await time(p.executed),
        canceledAt: await time(p.canceled),
      });
      // Governor states: Executed (7) or Canceled (2).
      expect(await governor.state(p.proposalId)).to.equal(p.canceled ? 2n : 7n);
    }
  });

  it("shows each proposal's status as events left it at each step", async () => {
    for (const p of passed) {
      const statusAt = async (block: number) =>
        (await entity<{ status: string }>(chain, "Proposal", `${p.plan.dao}-${p.proposalId}`, "status", block))!.status;
      expect(await statusAt(p.created.blockNumber)).to.equal("Proposed");
      expect(await statusAt(p.votes.at(-1)!.receipt.blockNumber)).to.equal("Proposed");
      expect(await statusAt(p.queued!.blockNumber)).to.equal("Queued");
      expect(await statusAt(p.executed!.blockNumber)).to.equal("Executed");
    }
  });

  it("records every vote with its weight at the snapshot, reason and params", async () => {
    for (const p of passed) {
      const { governor, dao } = p.plan;
      const snapshot = await governor.proposalSnapshot(p.proposalId);
      for (const v of p.votes) {
        expect(
          await entity(
            chain,
            "Vote",
            `${dao}-${p.proposalId}-${lower(v.voter)}`,
            "proposal { id } voter { id address } support weight reason params timestamp blockNumber transactionHash",
          ),
          `${dao} ${v.voter}`,
        ).to.deep.equal({
          proposal: { id: `${dao}-${p.proposalId}` },
          voter: { id: `${dao}-${lower(v.voter)}`, address: lower(v.voter) },
          support: SUPPORT[v.support],
          weight: (await governor.getVotes(v.voter, snapshot)).toString(),
          reason: v.reason,
          params: v.params,
          timestamp: (await timeOf(chain, v.receipt)).toString(),
          blockNumber: v.receipt.blockNumber.toString(),
          transactionHash: v.receipt.hash,
        });
        expect(await governor.hasVoted(p.proposalId, v.voter)).to.equal(true);
      }
    }
  });

  it("holds each voter's votes in its DAO as the DAO's votes source does, with the votes it cast", async () => {
    const { token, staking, credential } = chain.protocol;
    const sources: Record<DaoKey, { getVotes(account: string): Promise<bigint> }> = {
      Protocol: token,
      Security: staking,
      Developer: credential,
    };
    for (const p of passed) {
      for (const v of p.votes) {
        const delegate = await entity<{ votes: string; delegatorCount: number; votesCast: { id: string }[] }>(
          chain,
          "Delegate",
          `${p.plan.dao}-${lower(v.voter)}`,
          "votes delegatorCount votesCast { id }",
        );
        expect(delegate, `${p.plan.dao} ${v.voter}`).to.deep.equal({
          votes: (await sources[p.plan.dao].getVotes(v.voter)).toString(),
          delegatorCount: 1,
          votesCast: [{ id: `${p.plan.dao}-${p.proposalId}-${lower(v.voter)}` }],
        });
      }
    }
  });

  it("shows what the executed proposals changed: a rate-limit tier and a feature flag set by the timelocks", async () => {
    const { rateLimits, flags } = chain.protocol;
    const policy = await rateLimits.policyOfTier(1);
    expect(
      await entity(chain, "RateLimitTier", "1", "tier requestsPerWindow windowSeconds burst updatedAt"),
    ).to.deep.equal({
      tier: 1,
      requestsPerWindow: policy.requestsPerWindow.toString(),
      windowSeconds: policy.windowSeconds.toString(),
      burst: policy.burst.toString(),
      updatedAt: (await timeOf(chain, passed[1]!.executed!)).toString(),
    });
    const flag = await flags.getFlag(FLAG);
    expect(await entity(chain, "FeatureFlag", FLAG, "enabled rolloutBps updateCount")).to.deep.equal({
      enabled: flag.enabled,
      rolloutBps: Number(flag.rolloutBps),
      updateCount: 1,
    });
  });

  it("triggered every handler of the three governors (per-DAO handler names)", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
