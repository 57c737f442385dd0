import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { id, Interface, JsonRpcProvider, parseEther, Wallet, type Signer } from "ethers";
import { deployGovernance, localGovernanceParams } from "../../../deploy/governance.js";
import { decodeRevert, RevertError, UsageError } from "../../../scripts/cli/errors.js";
import { MeshGovernor__factory, TimelockController__factory } from "../../../types/ethers-contracts/index.js";
import { cli, fails } from "../helpers/cli.js";
import { deployFixture, networkHelpers, NodeType, region } from "../helpers/fixture.js";

const DATE = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

/**
 * The protocol handed over to quick DAOs (60 s voting delay, 600 s voting period, 60 s timelock):
 * voters 1 and 2 hold 50M MESH each, delegated (the Protocol DAO's quorum is 4% of 1B); voter 1
 * holds a developer credential; the operator stakes 20,000 MESH (Security DAO votes); voter 3
 * holds 200,000 MESH, not delegated.
 */
async function govFixture() {
  const f = await deployFixture();
  const [voter1, voter2, voter3] = [f.rest[0]!, f.rest[1]!, f.rest[2]!];
  for (const voter of [voter1, voter2]) {
    await f.token.connect(f.deployer).transfer(await voter.getAddress(), parseEther("50000000"));
    await f.token.connect(voter).delegate(await voter.getAddress());
  }
  await f.token.connect(f.deployer).transfer(await voter3.getAddress(), parseEther("200000"));
  await f.staking.connect(f.operator).registerNode(NodeType.Edge, region("eu"), "https://n1", 10, parseEther("20000"));
  const { governance } = await deployGovernance(f, f.deployer, localGovernanceParams([await voter1.getAddress()]));
  const dir = await mkdtemp(path.join(tmpdir(), "meshgate-gov-cli-"));
  return { ...f, governance, startBlock: f.deployment.startBlock, voter1, voter2, voter3, dir };
}

type GovFixture = Awaited<ReturnType<typeof govFixture>>;

/** The CLI with the fixture's DAOs in its context. */
function gov(f: GovFixture, signer: Signer, line: string): Promise<string[]> {
  return cli(f, signer, line, { governance: f.governance, startBlock: f.startBlock });
}

/** Proposes with `line` and returns the new proposal's id. */
async function propose(f: GovFixture, signer: Signer, line: string): Promise<{ id: string; out: string[] }> {
  const out = await gov(f, signer, `gov propose ${line}`);
  const match = /^Proposed (\d+) to the \w+ DAO in tx 0x[0-9a-f]{64}$/.exec(out[0]!);
  expect(match, out.join("\n")).to.not.equal(null);
  return { id: match![1]!, out };
}

/** Votes For with `voters`, then queues and executes through the CLI, skipping time with `dev advance`. */
async function pass(f: GovFixture, id: string, dao: string, voters: Signer[]): Promise<string[]> {
  await gov(f, f.outsider, "dev advance 61");
  for (const voter of voters) await gov(f, voter, `gov vote ${id} --dao ${dao} --support for`);
  await gov(f, f.outsider, "dev advance 601");
  await gov(f, f.outsider, `gov queue ${id} --dao ${dao}`);
  await gov(f, f.outsider, "dev advance 61");
  return gov(f, f.outsider, `gov execute ${id} --dao ${dao}`);
}

describe("scripts: meshgate CLI (governance)", () => {
  it("runs a Protocol DAO --set-fee proposal: propose, vote, queue, execute, with state checks between", async () => {
    const f = await networkHelpers.loadFixture(govFixture);
    const { id: pid, out } = await propose(
      f,
      f.voter1,
      '--dao protocol --set-fee 300 --description "Lower the protocol fee to 3%"',
    );
    expect(out.join("\n"))
      .to.include("PaymentEscrow.setRevenueSplit(split: {providerBps: 8200, nodeBps: 1500, protocolBps: 300})")
      .and.match(new RegExp(`snapshot   ${DATE.source}`))
      .and.match(new RegExp(`deadline   ${DATE.source}`));

    const early = await fails(gov(f, f.voter1, `gov vote ${pid} --support for`));
    expect(early).to.be.instanceOf(UsageError);
    expect(early.message).to.match(
      new RegExp(`^proposal ${pid} is Pending: voting starts at ${DATE.source}; vote after that$`),
    );

    expect((await gov(f, f.outsider, "dev advance 61"))[0]).to.match(/^Advanced the chain by 61 s: block \d+ at /);
    const voted = await gov(f, f.voter1, `gov vote ${pid} --support for --reason "cheaper calls"`);
    expect(voted[0]).to.match(new RegExp(`^Voted For on proposal ${pid} with 50000000.0 MESH in tx 0x`));
    expect(voted[1]).to.include("tally: For 50000000.0 MESH, Against 0.0 MESH, Abstain 0.0 MESH");
    await gov(f, f.voter2, `gov vote ${pid} --dao protocol --support abstain`);

    const again = await fails(gov(f, f.voter1, `gov vote ${pid} --support against`));
    expect(again.message).to.include("already voted on proposal").and.include("a vote cannot be changed");
    const noVotes = await fails(gov(f, f.voter3, `gov vote ${pid} --support for`));
    expect(noVotes.message).to.match(
      new RegExp(`^you had 0 votes at the snapshot ${DATE.source}: delegate before proposals are made`),
    );
    const active = await fails(gov(f, f.outsider, `gov queue ${pid} --dao protocol`));
    expect(active.message).to.match(
      new RegExp(`^proposal ${pid} is Active: voting ends at ${DATE.source}; queue it after that$`),
    );

    await gov(f, f.outsider, "dev advance 601");
    const shown = (await gov(f, f.outsider, `gov show ${pid} --dao protocol`)).join("\n");
    expect(shown)
      .to.include(`Proposal ${pid} (Protocol DAO)`)
      .and.include("state       Succeeded (queue it:")
      .and.include("description Lower the protocol fee to 3%")
      .and.include("votes       For 50000000.0 MESH, Against 0.0 MESH, Abstain 50000000.0 MESH")
      .and.include("quorum      40000000.0 MESH For or Abstain: reached")
      .and.include("eta         -")
      .and.include("1. PaymentEscrow.setRevenueSplit(split: {providerBps: 8200, nodeBps: 1500, protocolBps: 300})");
    const notQueued = await fails(gov(f, f.outsider, `gov execute ${pid}`));
    expect(notQueued.message).to.include(`proposal ${pid} is Succeeded: it passed but is not queued`);

    const queued = await gov(f, f.outsider, `gov queue ${pid} --dao protocol`);
    expect(queued[0]).to.match(new RegExp(`^Queued proposal ${pid} in the Protocol DAO's timelock in tx 0x`));
    expect(queued[1]).to.match(new RegExp(`^  executable from ${DATE.source}: gov execute ${pid} --dao protocol$`));
    const waiting = await fails(gov(f, f.outsider, `gov execute ${pid} --dao protocol`));
    expect(waiting.message).to.match(
      new RegExp(`^proposal ${pid} is Queued: executable from ${DATE.source}; execute it after that$`),
    );
    const requeue = await fails(gov(f, f.outsider, `gov queue ${pid} --dao protocol`));
    expect(requeue.message).to.include(`proposal ${pid} is Queued: voting ended and it waits in the timelock`);

    await gov(f, f.outsider, "dev advance 61");
    const executed = await gov(f, f.outsider, `gov execute ${pid} --dao protocol`);
    expect(executed[0]).to.match(new RegExp(`^Executed proposal ${pid} of the Protocol DAO in tx 0x`));
    const split = await f.escrow.revenueSplit();
    expect([split.providerBps, split.nodeBps, split.protocolBps]).to.deep.equal([8200n, 1500n, 300n]);

    const listed = await gov(f, f.outsider, "gov list --dao protocol");
    expect(listed[0]).to.equal("Protocol DAO: 1 proposal");
    expect(listed[1]).to.match(new RegExp(`^  ${pid}  Executed   voting ends ${DATE.source}  Lower the protocol fee`));
    const all = await gov(f, f.outsider, "gov list");
    expect(all).to.include("Security DAO: no proposals yet").and.include("Developer DAO: no proposals yet");
    const done = await fails(gov(f, f.outsider, `gov execute ${pid}`));
    expect(done.message).to.equal(`proposal ${pid} is Executed: it already ran`);
  });

  it("runs a Developer DAO --flag proposal with a credential; delegating credentials is automatic", async () => {
    const f = await networkHelpers.loadFixture(govFixture);
    const explained = await gov(f, f.voter1, "gov delegate --dao developer");
    expect(explained[0]).to.include("self-delegated when issued").and.include("nothing to do");
    expect((await gov(f, f.voter2, "gov delegate --dao developer"))[0]).to.include("holds none");

    const { id: pid, out } = await propose(
      f,
      f.voter1,
      '--dao developer --flag http3:on:2500 --description "Roll out HTTP/3 to a quarter of payers"',
    );
    expect(out[1]).to.include(`FeatureFlags.setFlag(flag: ${id("http3")}, enabled: true, rolloutBps: 2500)`);
    const executed = await pass(f, pid, "developer", [f.voter1]);
    expect(executed[1]).to.include("FeatureFlags.setFlag(");
    const flag = await f.flags.getFlag(id("http3"));
    expect([flag.enabled, flag.rolloutBps]).to.deep.equal([true, 2500n]);
    expect((await gov(f, f.outsider, `gov show ${pid}`)).join("\n")).to.include(
      "votes       For 1 vote, Against 0 votes",
    );
  });

  it("runs a --file proposal: calls by contract name and raw calldata, decoded by show", async () => {
    const f = await networkHelpers.loadFixture(govFixture);
    const voter3 = await f.voter3.getAddress();
    const grant = f.token.interface.encodeFunctionData("transfer", [voter3, parseEther("1000")]);
    const file = path.join(f.dir, "proposal.json");
    await writeFile(
      file,
      JSON.stringify({
        actions: [
          { contract: "NodeStaking", function: "setMinStake", args: [0, "2000000000000000000000"] },
          { target: await f.token.getAddress(), value: "0", calldata: grant },
        ],
      }),
    );
    const { id: pid } = await propose(
      f,
      f.voter2,
      `--dao protocol --file ${file} --description "Edge stake 2000; a grant"`,
    );
    const shown = (await gov(f, f.outsider, `gov show ${pid}`)).join("\n");
    expect(shown)
      .to.include("state       Pending (voting starts at")
      .and.include("(so far; fixed at the snapshot)")
      .and.include("1. NodeStaking.setMinStake(nodeType: 0, amount: 2000000000000000000000)")
      .and.include(`2. MeshToken.transfer(to: ${voter3}, value: 1000000000000000000000)`);
    await pass(f, pid, "protocol", [f.voter2]);
    expect(await f.staking.minStake(NodeType.Edge)).to.equal(parseEther("2000"));
    expect(await f.token.balanceOf(voter3)).to.equal(parseEther("201000"));
  });

  it("runs a Security DAO --rate-limit proposal with staked votes, and --transfer from its timelock", async () => {
    const f = await networkHelpers.loadFixture(govFixture);
    const delegated = await gov(f, f.operator, "gov delegate --dao security");
    expect(delegated[0]).to.match(
      /^Delegated the votes of 0x[0-9a-fA-F]{40} \(20000.0 staked MESH\) in the Security DAO to itself/,
    );
    const { id: pid } = await propose(
      f,
      f.operator,
      '--dao security --rate-limit 1:1200/60:200 --description "A premium tier"',
    );
    await pass(f, pid, "security", [f.operator]);
    const policy = await f.rateLimits.policyOfTier(1);
    expect([policy.requestsPerWindow, policy.windowSeconds, policy.burst]).to.deep.equal([1200n, 60n, 200n]);

    // The Developer DAO's timelock holds the developer fund: a grant from it.
    const voter3 = await f.voter3.getAddress();
    const { id: grant, out } = await propose(
      f,
      f.voter1,
      `--dao developer --transfer MESH:${voter3}:5000 --description "Grant for the SDK"`,
    );
    expect(out[1]).to.include(`MeshToken.transfer(to: ${voter3}, value: 5000000000000000000000)`);
    await pass(f, grant, "developer", [f.voter1]);
    expect(await f.token.balanceOf(voter3)).to.equal(parseEther("205000"));
  });

  it("delegates MESH votes to self or another account", async () => {
    const f = await networkHelpers.loadFixture(govFixture);
    const voter3 = await f.voter3.getAddress();
    const out = await gov(f, f.voter3, "gov delegate");
    expect(out[0]).to.match(
      /^Delegated the votes of 0x[0-9a-fA-F]{40} \(200000.0 MESH\) in the Protocol DAO to itself in tx 0x/,
    );
    expect(await f.token.getVotes(voter3)).to.equal(parseEther("200000"));
    const voter1 = await f.voter1.getAddress();
    expect((await gov(f, f.voter3, `gov delegate --to ${voter1}`))[0]).to.include(`to ${voter1} in tx`);
    expect(await f.token.getVotes(voter1)).to.equal(parseEther("50200000"));
    // Delegating needs no DAO: holders may delegate before the hand-over.
    await cli(f, f.voter3, "gov delegate");
    expect(await f.token.delegates(voter3)).to.equal(voter3);
  });

  it("names the fix for bad input, unknown DAOs and proposals, missing votes and powers", async () => {
    const f = await networkHelpers.loadFixture(govFixture);
    const { id: pid } = await propose(f, f.voter1, '--dao protocol --set-fee 300 --description "fee"');
    const json = async (name: string, content: unknown) => {
      const file = path.join(f.dir, name);
      await writeFile(file, typeof content === "string" ? content : JSON.stringify(content));
      return file;
    };
    const unknownContract = await json("c.json", { actions: [{ contract: "Bank", function: "pay", args: [] }] });
    const badArgs = await json("a.json", {
      actions: [{ contract: "PaymentEscrow", function: "setRevenueSplit", args: ["x"] }],
    });
    const viewFn = await json("v.json", { actions: [{ contract: "PaymentEscrow", function: "revenueSplit" }] });
    const malformed = await json("m.json", { actions: [{ target: "0x12", calldata: "0x" }] });
    const notJson = await json("n.json", "{nope");
    const voter3 = await f.voter3.getAddress();
    const cases: [Signer, string, RegExp][] = [
      [
        f.voter1,
        "gov list --dao treasury",
        /^unknown DAO "treasury": use --dao protocol, --dao security, --dao developer$/,
      ],
      [f.voter1, "gov propose --set-fee 300 --description x", /^missing --dao: pass --dao protocol/],
      [f.voter1, "gov show 123 --dao protocol", /^proposal 123 does not exist in the Protocol DAO: list its proposals/],
      [f.voter1, "gov vote 123 --support for", /^no DAO has a proposal 123: list the proposals with "gov list"$/],
      [f.voter1, "gov vote abc --support for", /^the proposal id must be a whole number/],
      [f.voter1, "gov queue", /^missing the proposal id: "gov queue <proposalId> --dao protocol"/],
      [f.voter1, `gov vote ${pid} --support maybe`, /^--support must be for, against or abstain \(got "maybe"\)$/],
      [f.voter1, `gov vote ${pid}`, /^missing --support/],
      [f.voter1, "gov propose --dao protocol --set-fee 300", /^missing --description/],
      [
        f.voter1,
        "gov propose --dao protocol --description x",
        /^missing the actions: pass --file proposal.json or a shorthand/,
      ],
      [
        f.voter1,
        `gov propose --dao protocol --set-fee 300 --file ${badArgs} --description x`,
        /^pass either --file or shorthand flags \(--set-fee\), not both$/,
      ],
      [
        f.voter1,
        "gov propose --dao protocol --set-fee 9000 --description x",
        /leaves providers nothing: nodes keep 1500 bps, so at most 8500/,
      ],
      [f.voter1, "gov propose --dao protocol --set-fee 500 --description x", /the protocol fee already is 500 bps/],
      [
        f.voter1,
        "gov propose --dao protocol --set-fee 3% --description x",
        /--set-fee \(basis points; 300 = 3%\) must be a whole number/,
      ],
      [
        f.voter1,
        `gov propose --dao protocol --slash ${await f.operator.getAddress()}:100 --description x`,
        /^--slash calls NodeStaking.slash\(.*\), which the Protocol DAO may not call: propose it to the Security DAO \(--dao security\)$/,
      ],
      [
        f.operator,
        "gov propose --dao security --set-fee 300 --description x",
        /which the Security DAO may not call: propose it to the Protocol DAO \(--dao protocol\)$/,
      ],
      [f.operator, `gov propose --dao security --slash ${voter3}:100 --description x`, /has no stake to slash/],
      [
        f.operator,
        "gov propose --dao security --rate-limit 1:100/60 --description x",
        /^--rate-limit takes <tier>:<requests>\/<window seconds>:<burst>/,
      ],
      [
        f.operator,
        "gov propose --dao security --rate-limit 1:100/60:200 --description x",
        /burst 200 is above its 100 requests/,
      ],
      [
        f.voter1,
        "gov propose --dao developer --flag http3:maybe:1 --description x",
        /^--flag takes <name>:<on\|off>:<rollout bps>/,
      ],
      [
        f.voter1,
        "gov propose --dao developer --flag http3:on:10001 --description x",
        /rollout \(basis points\) must be a whole number from 0 to 10000/,
      ],
      [
        f.voter1,
        "gov propose --dao protocol --set-min-stake boat=1 --description x",
        /node type must be one of edge, mobile, cloud, validator/,
      ],
      [
        f.voter1,
        `gov propose --dao developer --transfer MESH:${voter3}:60000000 --description x`,
        /the Developer DAO's timelock holds only 50000000.0 of MESH/,
      ],
      [
        f.voter1,
        `gov propose --dao developer --transfer DOGE:${voter3}:1 --description x`,
        /token must be MESH, ETH or an ERC-20 address/,
      ],
      [
        f.voter1,
        `gov propose --dao protocol --file ${unknownContract} --description x`,
        /^action #1: unknown contract "Bank": use one of AccessManager, MeshToken/,
      ],
      [
        f.voter1,
        `gov propose --dao protocol --file ${badArgs} --description x`,
        /^action #1: the args do not fit PaymentEscrow.setRevenueSplit/,
      ],
      [
        f.voter1,
        `gov propose --dao protocol --file ${viewFn} --description x`,
        /^action #1: PaymentEscrow has no function "revenueSplit" to call/,
      ],
      [
        f.voter1,
        `gov propose --dao protocol --file ${malformed} --description x`,
        /is malformed: .*\n?.*expected \{"actions"/s,
      ],
      [f.voter1, `gov propose --dao protocol --file ${notJson} --description x`, /^cannot read JSON from --file/],
      [
        f.voter1,
        `gov propose --dao protocol --file ${path.join(f.dir, "none.json")} --description x`,
        /^cannot read JSON from --file/,
      ],
      [
        f.voter1,
        'gov propose --dao protocol --set-fee 300 --description "fee"',
        /^the Protocol DAO already has this proposal \(\d+, Pending\): change --description/,
      ],
      [
        f.voter3,
        "gov propose --dao protocol --set-fee 400 --description x",
        /^you have 0.0 MESH in the Protocol DAO; proposing needs 100000.0 MESH \(the proposal threshold\): you hold 200000.0 MESH but have not delegated them: run "gov delegate", then propose$/,
      ],
      [
        f.outsider,
        "gov propose --dao protocol --set-fee 400 --description x",
        /proposing needs 100000.0 MESH .*gather delegations/,
      ],
      [
        f.voter2,
        "gov propose --dao developer --flag a:on:1 --description x",
        /^you have 0 votes in the Developer DAO; proposing needs 1 vote .*only developer credential holders/,
      ],
      [f.voter1, "gov delegate --dao security --to 0x12", /^--to must be a 0x-prefixed 20-byte address/],
      [f.voter1, "dev advance", /^missing the seconds/],
      [f.voter1, "dev advance soon", /the time to advance must be a duration/],
      [
        f.voter1,
        "gov fly",
        /unknown command "gov fly": use one of delegate, propose, vote, queue, execute, show, list/,
      ],
    ];
    for (const [signer, line, expected] of cases) {
      const error = await fails(gov(f, signer, line));
      expect(error, line).to.be.instanceOf(UsageError);
      expect(error.message, line).to.match(expected);
    }

    // Without DAOs (a deployment made with MESHGATE_SKIP_HANDOVER) every gov command but delegate says so.
    for (const line of ["gov list", `gov show ${pid}`, "gov propose --dao protocol --set-fee 300 --description x"]) {
      const error = await fails(cli(f, f.voter1, line));
      expect(error.message, line).to.equal("this deployment has no DAOs: deploy without MESHGATE_SKIP_HANDOVER");
    }

    // dev advance refuses any chain but a local one, before sending anything.
    const remote = Wallet.createRandom().connect(new JsonRpcProvider("http://127.0.0.1:9", 1, { staticNetwork: true }));
    const refused = await fails(gov(f, remote, "dev advance 60"));
    expect(refused).to.be.instanceOf(UsageError);
    expect(refused.message).to.match(/^dev advance only works on a local chain \(chain 31337.*this is chain 1/);
    remote.provider!.destroy();
  });

  it("decodes governor and timelock errors with hints", () => {
    const governor = new Interface(MeshGovernor__factory.abi);
    const timelock = new Interface(TimelockController__factory.abi);
    const bit = (i: number) => `0x${(1n << BigInt(i)).toString(16).padStart(64, "0")}`;
    const cases: [string, string, RegExp][] = [
      [
        governor.encodeErrorResult("GovernorUnexpectedProposalState", [7n, 1, bit(4)]),
        "GovernorUnexpectedProposalState",
        /proposal 7 is Active; this needs it Succeeded/,
      ],
      [
        governor.encodeErrorResult("GovernorUnexpectedProposalState", [7n, 0, `0x${"0".repeat(64)}`]),
        "GovernorUnexpectedProposalState",
        /proposal 7 already exists \(Pending\): change the description/,
      ],
      [
        governor.encodeErrorResult("GovernorInsufficientProposerVotes", [
          Wallet.createRandom().address,
          parseEther("5"),
          parseEther("100000"),
        ]),
        "GovernorInsufficientProposerVotes",
        /has 5.0 votes; proposing needs 100000.0 votes: delegate first/,
      ],
      [
        governor.encodeErrorResult("GovernorAlreadyCastVote", [Wallet.createRandom().address]),
        "GovernorAlreadyCastVote",
        /already voted/,
      ],
      [governor.encodeErrorResult("GovernorNonexistentProposal", [9n]), "GovernorNonexistentProposal", /gov list/],
      [
        timelock.encodeErrorResult("TimelockUnexpectedOperationState", [id("op"), bit(2)]),
        "TimelockUnexpectedOperationState",
        /timelock delay has not passed/,
      ],
    ];
    for (const [data, name, hint] of cases) {
      const error = decodeRevert({ data });
      expect(error).to.be.instanceOf(RevertError);
      expect(error!.errorName).to.equal(name);
      expect(error!.message).to.match(hint);
    }
  });
});
