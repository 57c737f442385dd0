import { expect } from "chai";
import { parseEther } from "ethers";
import { channelId } from "../../../sdk/vouchers.js";
import { type RevertError, UsageError } from "../../../scripts/cli/errors.js";
import { USDC } from "../helpers/escrow.js";
import { cli, fails } from "../helpers/cli.js";
import { networkHelpers } from "../helpers/fixture.js";
import {
  advanceToEpoch,
  attest,
  qos,
  refreshFeeds,
  report,
  reputationFixture,
  spend,
  USDC_FEED_HEARTBEAT,
  type ReputationFixture,
} from "../helpers/reputation.js";

/** The error a command fails with, checked to be the contract's `name` with a hint containing `hint`. */
async function refused(promise: Promise<unknown>, name: string, hint: string | RegExp): Promise<RevertError> {
  const error = await fails(promise);
  expect(error.errorName, error.message).to.equal(name);
  if (typeof hint === "string") expect(error.message).to.include(hint);
  else expect(error.message).to.match(hint);
  return error;
}

/** A bad command line: a UsageError whose message matches `expected`, before anything is sent. */
async function usage(f: ReputationFixture, line: string, expected: RegExp): Promise<void> {
  const error = await fails(cli(f, f.payer, line));
  expect(error, line).to.be.instanceOf(UsageError);
  expect(error.message, line).to.match(expected);
}

describe("scripts: meshgate CLI (reputation and rewards)", () => {
  it("joins, lists and leaves the validator set; tells a non-validator to register a validator node", async () => {
    const f = await networkHelpers.loadFixture(reputationFixture);
    const [v1, v2, v3] = f.validators;
    expect((await cli(f, f.candidate, "reputation validator join"))[0]).to.match(
      /^Joined the validator set with 10000.0 MESH staked in tx 0x[0-9a-f]{64}$/,
    );
    const list = await cli(f, f.outsider, "reputation validator list");
    expect(list[0]).to.equal("Validator set: 4 of 32");
    expect(list.slice(1)).to.deep.equal([
      `  ${v3.address}  30000.0 MESH`,
      `  ${v2.address}  20000.0 MESH`,
      `  ${v1.address}  10000.0 MESH`,
      `  ${f.candidate.address}  10000.0 MESH`,
    ]);
    await refused(cli(f, f.candidate, "reputation validator join"), "AlreadyValidator", "already in the validator set");
    expect((await cli(f, f.candidate, "reputation validator leave"))[0]).to.match(/^Left the validator set in tx 0x/);
    expect(await f.reputation.isValidator(f.candidate.address)).to.equal(false);
    await refused(cli(f, f.candidate, "reputation validator leave"), "NotInValidatorSet", "reputation validator join");

    // The hint's fix works: register a validator node with the CLI, then join.
    await refused(
      cli(f, f.outsider, "reputation validator join"),
      "NotValidatorNode",
      "register a validator node first: node register --type validator",
    );
    await f.token.connect(f.deployer).transfer(f.outsider.address, parseEther("10000"));
    await cli(
      f,
      f.outsider,
      "node register --type validator --region eu-west --url https://v.example --capacity 10 --stake 10000",
    );
    await cli(f, f.outsider, "reputation validator join");
    expect(await f.reputation.isValidator(f.outsider.address)).to.equal(true);

    await usage(f, "reputation validator fly", /unknown command "reputation validator fly": use one of join, leave/);
    await usage(f, "reputation validator", /unknown command "reputation validator ": use one of join, leave, list/);
  });

  it("rates a channel the payer paid through and shows the rating in USD; explains NoSpend, TokenNotRated, a stale feed and bad stars", async () => {
    const f = await networkHelpers.loadFixture(reputationFixture);
    const op = f.operator.address;
    const channel = `--node ${op} --api 1 --token ${f.usdcAddress}`;
    await spend(f, f.payer, USDC(2));
    const id = channelId(f.payer.address, op, 1n, f.usdcAddress);
    expect((await cli(f, f.payer, `reputation rate ${channel} --node-stars 5 --api-stars 4`))[0]).to.match(
      new RegExp(
        `^Rated node ${op} 5/5 and API 1 4/5 through channel ${id}, weighted by \\$2\\.00 paid \\(in USD at the token's feed price\\), in tx 0x`,
      ),
    );
    const node = await cli(f, f.outsider, `reputation show node ${op}`);
    // $2 (USDC at $1) of the $100 that give ratings their full 20%: 0.40%.
    expect(node.slice(0, 5)).to.deep.equal([
      `Node ${op}`,
      `  current epoch  ${await f.reputation.currentEpoch()}`,
      "  latest score   none finalized yet",
      "  rating         100.00% (5.0 stars) over $2.00 of spend (USD when rated)",
      "  rating share   0.40% of the epoch score (the full 20.00% from $100.00 of spend)",
    ]);
    const api = (await cli(f, f.outsider, "reputation show api 1")).join("\n");
    expect(api).to.include("API 1").and.include("rating         75.00% (4.0 stars)");
    const unrated = (await cli(f, f.outsider, "reputation show api 2")).join("\n");
    expect(unrated).to.include("rating         none").and.not.include("rating share");

    const noSpend = await refused(
      cli(f, f.payer2, `reputation rate ${channel} --node-stars 1 --api-stars 1`),
      "NoSpend",
      "pay for calls through this channel first: only redeemed spend can rate",
    );
    expect(noSpend.message).to.include(channelId(f.payer2.address, op, 1n, f.usdcAddress));
    // The fee-on-transfer token has no USD feed: its channels cannot rate.
    const notRated = await refused(
      cli(f, f.payer, `reputation rate --node ${op} --api 4 --token ${f.feeAddress} --node-stars 1 --api-stars 1`),
      "TokenNotRated",
      "only channels paid in a token with a USD feed can rate",
    );
    expect(notRated.message).to.include(f.feeAddress);
    // A feed older than its heartbeat: the oracle's StalePrice, then a fresh round rates again.
    await networkHelpers.time.increase(USDC_FEED_HEARTBEAT + 1);
    await refused(
      cli(f, f.payer, `reputation rate ${channel} --node-stars 5 --api-stars 4`),
      "StalePrice",
      `the USD feed for ${f.usdcAddress} is stale`,
    );
    await refreshFeeds(f);

    const cases: [string, RegExp][] = [
      [
        `reputation rate ${channel} --node-stars 6 --api-stars 4`,
        /--node-stars must be a whole number of stars from 1 to 5 \(got "6"\)/,
      ],
      [
        `reputation rate ${channel} --node-stars 5 --api-stars 0`,
        /--api-stars must be a whole number of stars from 1 to 5/,
      ],
      [`reputation rate ${channel} --node-stars 2.5 --api-stars 4`, /--node-stars must be a whole number/],
      [`reputation rate ${channel} --node-stars 5`, /missing --api-stars: pass --api-stars <1-5>/],
      [`reputation rate --node ${op} --token ${f.usdcAddress} --node-stars 5 --api-stars 5`, /missing --api/],
      ["reputation show bridge 1", /reputation show node <address>" or "reputation show api <id>/],
      ["reputation show node", /missing the node/],
      ["reputation show node 0x12", /the node must be a 0x-prefixed 20-byte address/],
      ["reputation show api zero", /API id must be a positive whole number/],
      ["reputation finalize --epoch 1", /pass either --node <address> or --api <id>/],
      [`reputation finalize --node ${op} --api 1 --epoch 1`, /pass either --node <address> or --api <id>/],
      [`reputation finalize --node ${op}`, /missing --epoch/],
      [`reputation finalize --node ${op} --epoch first`, /--epoch must be an epoch number/],
      ["reputation report-slash", /missing the node/],
      ["rewards commit --tokens 0x12 --epoch 1", /each of --tokens must be a 0x-prefixed/],
      [`rewards commit --epoch 1 --tokens ${f.usdcAddress},${f.usdcAddress}`, /--tokens lists 0x[0-9a-fA-F]{40} twice/],
      [`rewards commit --epoch 1 --tokens ,`, /--tokens needs at least one payment token address/],
      [`rewards commit --tokens ${f.usdcAddress}`, /missing --epoch/],
      ["rewards claim --epoch 4294967296", /--epoch must be an epoch number/],
      ["rewards fund", /missing the amount: "rewards fund <MESH>"/],
      ["rewards fund lots", /the amount must be a decimal amount/],
      ["rewards status --epoch x", /--epoch must be an epoch number/],
    ];
    for (const [line, expected] of cases) await usage(f, line, expected);
    // The rejected commands sent nothing: the rating is the first one.
    expect((await f.reputation.ratingOf(0, BigInt(op))).weight).to.equal(parseEther("2"));
  });

  it("finalizes a score from a validator's attestation, reports a low streak, commits and claims rewards across epochs", async () => {
    const f = await networkHelpers.loadFixture(reputationFixture);
    const op = f.operator.address;
    const [first] = f.validators;
    // Every epoch under 100% is low and one is enough to report (the Security DAO's policy); both
    // payment tokens earn points (the Protocol DAO's); the deployer holds both roles here.
    await f.reputation.connect(f.deployer).setSlashingPolicy({ thresholdBps: 10_000, epochs: 1 });
    await f.rewards.connect(f.deployer).setRewardToken(f.usdcAddress, 10n ** 12n);
    await f.rewards.connect(f.deployer).setRewardToken(f.daiAddress, 1n);

    const e = Number(await f.reputation.currentEpoch());
    // 100 USDC at $1: the $100 of spend from which ratings get their full share (deploy default).
    await spend(f, f.payer, USDC(100));
    await cli(f, f.payer, `reputation rate --node ${op} --api 1 --token ${f.usdcAddress} --node-stars 5 --api-stars 4`);
    const funded = await cli(f, f.deployer, "rewards fund 1000");
    expect(funded[0]).to.match(/^Approved 1000.0 of 0x[0-9a-fA-F]{40} for 0x[0-9a-fA-F]{40} in tx/);
    expect(funded[1]).to.match(/^Funded node rewards with 1000.0 MESH \(unallocated now 1000.0 MESH\) in tx 0x/);
    await refused(
      cli(f, f.outsider, `reputation finalize --node ${op} --epoch ${e}`),
      "FinalizeWindowNotOpen",
      `epoch ${e} is finalized during epoch ${e + 2} (now epoch ${e}): try again then`,
    );

    // Epoch e + 1: one validator reports 90% success on the node and the API.
    await advanceToEpoch(f, e + 1);
    const measured = qos({ successBps: 9000 });
    await attest(f, first, report(e, [{ node: op, qos: measured }], [{ apiId: 1n, qos: measured }]));

    // Epoch e + 2: finalize (validators 90%, blended 80/20 with the ratings: 5 stars, 4 stars).
    expect((await cli(f, f.outsider, "dev advance 1d"))[0]).to.match(/^Advanced the chain by 86400 s/);
    expect(await f.reputation.currentEpoch()).to.equal(BigInt(e + 2));
    const nodeScore = await cli(f, f.outsider, `reputation finalize --node ${op} --epoch ${e}`);
    expect(nodeScore[0]).to.match(
      new RegExp(
        `^Finalized node ${op} for epoch ${e}: epoch score 92.00%, smoothed 92.00%, 1 report\\(s\\), in tx 0x`,
      ),
    );
    expect(nodeScore[1]).to.equal("  low streak 1 epoch(s)");
    expect((await cli(f, f.outsider, `reputation finalize --api 1 --epoch ${e}`))[0]).to.match(
      new RegExp(`^Finalized API 1 for epoch ${e}: epoch score 87.00%, smoothed 87.00%, 1 report\\(s\\)`),
    );
    await refused(
      cli(f, f.outsider, `reputation finalize --api 1 --epoch ${e}`),
      "EpochAlreadyFinalized",
      `epoch ${e} cannot be finalized again`,
    );
    const shown = await cli(f, f.outsider, `reputation show node ${op}`);
    expect(shown).to.include(`  latest score   epoch ${e}: 92.00% (smoothed 92.00%)`);
    expect(shown).to.include("  low streak     1 epoch(s) under 100.00% (slashing report at 1)");
    expect(shown).to.include(`  current epoch  ${e + 2}`);
    expect(shown).to.include("  rating share   20.00% of the epoch score (the full 20.00% from $100.00 of spend)");

    expect((await cli(f, f.outsider, `reputation report-slash ${op}`))[0]).to.match(
      new RegExp(
        `^Reported node ${op} to the Security DAO \\(1 low epochs up to epoch ${e}, smoothed 92.00%\\) in tx 0x`,
      ),
    );
    await refused(
      cli(f, f.outsider, `reputation report-slash ${op}`),
      "NotReportable",
      "has 0 low epoch(s) in a row; a slashing report needs 1",
    );

    await refused(
      cli(f, f.operator, `rewards commit --epoch ${e} --tokens ${f.usdcAddress}`),
      "CommitWindowNotOpen",
      `epoch ${e}'s commit window opens in epoch ${e + 3} (now epoch ${e + 2})`,
    );

    // Epoch e + 3: anyone commits the operator's weight (tokens given in any order).
    await advanceToEpoch(f, e + 3);
    const [low, high] = [f.usdcAddress, f.daiAddress].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const points = USDC(100) * 10n ** 12n;
    const committed = await cli(f, f.outsider, `rewards commit --epoch ${e} --tokens ${high},${low} --node ${op}`);
    expect(committed[0]).to.match(
      new RegExp(
        `^Committed node ${op} for epoch ${e}: ${points} points x reputation 92.00% = weight ${points * 9200n} in tx 0x`,
      ),
    );
    expect(committed[1]).to.equal(`  claim from epoch ${e + 4}: rewards claim --epoch ${e} --node ${op}`);
    expect(await f.rewards.weightOf(e, op)).to.equal(points * 9200n);
    await refused(
      cli(f, f.operator2, `rewards commit --epoch ${e} --tokens ${f.usdcAddress}`),
      "NothingToCommit",
      `served nothing in these reward tokens during epoch ${e}`,
    );
    await refused(
      cli(f, f.operator, `rewards claim --epoch ${e}`),
      "ClaimNotOpen",
      `epoch ${e}'s rewards are claimable from epoch ${e + 4} (now epoch ${e + 3})`,
    );
    const status = await cli(f, f.outsider, `rewards status --epoch ${e} --node ${op}`);
    expect(status).to.deep.equal([
      "Node rewards",
      `  current epoch  ${e + 3}`,
      "  emission       100000.0 MESH per epoch",
      "  unallocated    0.0 MESH (funded, not set aside for an epoch)",
      "  reserved       1000.0 MESH (set aside, not yet claimed)",
      `Epoch ${e} (commit window open)`,
      "  pool           1000.0 MESH, paid 0.0 MESH",
      `  total weight   ${points * 9200n} (claimed 0)`,
      `Node ${op}`,
      `  reputation     92.00% (smoothed score finalized for epoch ${e})`,
      `  weight         ${points * 9200n} (about 1000.0 MESH of the pool)`,
      "  claimed        no",
    ]);

    // Epoch e + 4: the operator's claim pays it the whole pool (the only committed node).
    await advanceToEpoch(f, e + 4);
    const before = await f.token.balanceOf(op);
    expect((await cli(f, f.outsider, `rewards claim --epoch ${e} --node ${op}`))[0]).to.match(
      new RegExp(`^Paid node ${op} 1000.0 MESH for epoch ${e} in tx 0x`),
    );
    expect((await f.token.balanceOf(op)) - before).to.equal(parseEther("1000"));
    await refused(
      cli(f, f.operator, `rewards claim --epoch ${e}`),
      "AlreadyClaimed",
      `already claimed its reward for epoch ${e}`,
    );
    await refused(
      cli(f, f.operator2, `rewards claim --epoch ${e}`),
      "NothingToClaim",
      `committed no reward weight for epoch ${e}: commit during epoch ${e + 3}`,
    );
    // The operator's own view (no --node); without --epoch, the epoch whose commits are open.
    const own = (await cli(f, f.operator, `rewards status --epoch ${e}`)).join("\n");
    expect(own).to.include(`Epoch ${e} (claimable)`).and.include("claimed        yes");
    expect(own).to.include("pool           1000.0 MESH, paid 1000.0 MESH");
    const latest = (await cli(f, f.operator, "rewards status")).join("\n");
    expect(latest)
      .to.include(`Epoch ${e + 1} (commit window open)`)
      .and.include("not set aside yet");
    expect(latest).to.include(`not scored for epoch ${e + 1}: counts as 50.00%`);
    // Reported on enough but not finalized: 0 (NodeRewards gives the unscored factor only to nodes
    // validators could not score).
    await attest(f, first, report(e + 3, [{ node: op, qos: measured }]));
    expect(await cli(f, f.outsider, `rewards status --epoch ${e + 3} --node ${op}`)).to.include(
      `  reputation     not finalized for epoch ${e + 3}: counts as 0.00% (validators reported enough; finalize during epoch ${e + 5})`,
    );
  });
});
