import { id as textHash, ZeroAddress } from "ethers";
import type { DaoName } from "../../../deploy/governance.js";
import { DAOS } from "../../../deploy/governance.js";
import { address, required, type Options } from "../args.js";
import { read, send, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { actionsFrom, checkPowers, describeActions } from "./gov/actions.js";
import {
  DAO_LABELS,
  date,
  daoName,
  findProposal,
  formatVotes,
  governanceOf,
  NEXT_BLOCK,
  nextTimepoint,
  proposalDao,
  proposalId,
  proposalsOf,
  stateOf,
  votesSource,
  wrongState,
} from "./gov/proposals.js";

/** GovernorCountingSimple's vote types. */
const SUPPORT = { against: 0, for: 1, abstain: 2 } as const;
const SUPPORT_LABELS = ["Against", "For", "Abstain"];

/**
 * Delegates votes: MESH for the Protocol DAO (default), stake for the Security DAO. Developer
 * credentials need none: they are self-delegated when issued. Works before the DAOs exist too.
 */
async function delegate(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const dao = opts.dao === undefined ? "protocol" : daoName(opts.dao);
  const me = await ctx.signer.getAddress();
  if (dao === "developer") {
    const held = await ctx.protocol.credential.balanceOf(me);
    ctx.out(
      held > 0n
        ? `Developer DAO votes are developer credentials, self-delegated when issued: ${me} already votes with its credential, nothing to do`
        : `Developer DAO votes are developer credentials, self-delegated when issued: ${me} holds none; providers earn one by keeping an API listed (DeveloperCredential.claim), or the Protocol DAO issues one`,
    );
    return;
  }
  const to = opts.to !== undefined ? address(opts.to, "--to") : me;
  let weight: bigint;
  let hash: string;
  if (dao === "protocol") {
    hash = (await send(() => ctx.protocol.token.connect(ctx.signer).delegate(to))).hash;
    weight = await ctx.protocol.token.balanceOf(me);
  } else {
    hash = (await send(() => ctx.protocol.staking.connect(ctx.signer).delegate(to))).hash;
    weight = await ctx.protocol.staking.stakeOf(me);
  }
  ctx.out(
    `Delegated the votes of ${me} (${formatVotes(dao, weight)}) in the ${DAO_LABELS[dao]} to ${to === me ? "itself" : to} in tx ${hash}`,
  );
  ctx.out("  they count for proposals made from now on; proposals already made keep their snapshot");
}

/** What to do when `account` has fewer votes than the proposal threshold. */
async function thresholdFix(ctx: CliContext, dao: DaoName, account: string, threshold: bigint): Promise<string> {
  if (dao === "developer") return "only developer credential holders may propose";
  if (dao === "security") {
    return 'stake more (node register, node topup) or gather delegations ("gov delegate --dao security --to <you>")';
  }
  const [balance, delegatee] = await Promise.all([
    ctx.protocol.token.balanceOf(account),
    votesSource(ctx, dao).delegates(account),
  ]);
  if (balance >= threshold && delegatee !== account) {
    const where = delegatee === ZeroAddress ? "not delegated them" : `delegated them to ${delegatee}`;
    return `you hold ${formatVotes(dao, balance)} but have ${where}: run "gov delegate", then propose`;
  }
  return 'gather delegations: holders run "gov delegate --to <you>"';
}

async function propose(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const governance = governanceOf(ctx);
  const dao = daoName(opts.dao);
  const description = required(opts, "description", '"<what the proposal does, and why>"');
  const actions = await actionsFrom(ctx, dao, opts);
  await checkPowers(ctx, dao, actions);
  const { governor } = governance[dao];
  const me = await ctx.signer.getAddress();
  const [threshold, votes] = await Promise.all([governor.proposalThreshold(), votesSource(ctx, dao).getVotes(me)]);
  if (votes < threshold) {
    throw new UsageError(
      `you have ${formatVotes(dao, votes)} in the ${DAO_LABELS[dao]}; proposing needs ${formatVotes(dao, threshold)} (the proposal threshold): ${await thresholdFix(ctx, dao, me, threshold)}`,
    );
  }
  const targets = actions.map((a) => a.target);
  const values = actions.map((a) => a.value);
  const calldatas = actions.map((a) => a.data);
  const id = await governor.getProposalId(targets, values, calldatas, textHash(description));
  if ((await governor.proposalSnapshot(id)) !== 0n) {
    throw new UsageError(
      `the ${DAO_LABELS[dao]} already has this proposal (${id}, ${await stateOf(governance[dao], id)}): change --description to propose the same actions again`,
    );
  }
  const receipt = await send(() => governor.connect(ctx.signer).propose(targets, values, calldatas, description));
  const [snapshot, deadline] = await Promise.all([governor.proposalSnapshot(id), governor.proposalDeadline(id)]);
  ctx.out(`Proposed ${id} to the ${DAO_LABELS[dao]} in tx ${receipt.hash}`);
  for (const [i, line] of (await describeActions(ctx, actions)).entries()) ctx.out(`  action ${i + 1}   ${line}`);
  ctx.out(`  snapshot   ${date(snapshot)} (votes count as delegated then; voting opens)`);
  ctx.out(`  deadline   ${date(deadline)}`);
  ctx.out(`  next       gov vote ${id} --dao ${dao} --support for|against|abstain`);
}

function support(value: string | undefined): number {
  if (value === undefined)
    throw new UsageError("missing --support: pass --support for, --support against or --support abstain");
  const index = SUPPORT[value as keyof typeof SUPPORT];
  if (index === undefined) throw new UsageError(`--support must be for, against or abstain (got "${value}")`);
  return index;
}

async function vote(ctx: CliContext, args: string[], opts: Options): Promise<void> {
  const id = proposalId(args[0], "gov vote <proposalId> --support for");
  const choice = support(opts.support);
  const name = await proposalDao(ctx, id, opts.dao);
  const dao = governanceOf(ctx)[name];
  const state = await stateOf(dao, id);
  if (state !== "Active") throw await wrongState(dao, id, state, "vote on");
  const me = await ctx.signer.getAddress();
  if (await dao.governor.hasVoted(id, me)) {
    throw new UsageError(`${me} already voted on proposal ${id}: a vote cannot be changed`);
  }
  const snapshot = await dao.governor.proposalSnapshot(id);
  const weight = await read(() => dao.governor.getVotes(me, snapshot, NEXT_BLOCK));
  if (weight === 0n) {
    const fix = {
      protocol: '"gov delegate" makes your MESH count for later proposals',
      security: '"gov delegate --dao security" makes your stake count for later proposals',
      developer: "a developer credential counts for proposals made after it is issued",
    }[name];
    throw new UsageError(
      `you had 0 votes at the snapshot ${date(snapshot)}: delegate before proposals are made (${fix})`,
    );
  }
  const receipt = await send(() => dao.governor.connect(ctx.signer).castVoteWithReason(id, choice, opts.reason ?? ""));
  const [against, forVotes, abstain] = await dao.governor.proposalVotes(id);
  ctx.out(`Voted ${SUPPORT_LABELS[choice]} on proposal ${id} with ${formatVotes(name, weight)} in tx ${receipt.hash}`);
  ctx.out(
    `  tally: For ${formatVotes(name, forVotes)}, Against ${formatVotes(name, against)}, Abstain ${formatVotes(name, abstain)}; voting ends at ${date(await dao.governor.proposalDeadline(id))}`,
  );
}

/** Queues a passed proposal in the DAO's timelock; its actions come from its ProposalCreated event. */
async function queue(ctx: CliContext, args: string[], opts: Options): Promise<void> {
  const id = proposalId(args[0], "gov queue <proposalId> --dao protocol");
  const name = await proposalDao(ctx, id, opts.dao);
  const dao = governanceOf(ctx)[name];
  const state = await stateOf(dao, id);
  if (state !== "Succeeded") throw await wrongState(dao, id, state, "queue");
  const p = await findProposal(ctx, name, id);
  const receipt = await send(() =>
    dao.governor.connect(ctx.signer).queue(p.targets, p.values, p.calldatas, p.descriptionHash),
  );
  ctx.out(`Queued proposal ${id} in the ${DAO_LABELS[name]}'s timelock in tx ${receipt.hash}`);
  ctx.out(`  executable from ${date(await dao.governor.proposalEta(id))}: gov execute ${id} --dao ${name}`);
}

async function execute(ctx: CliContext, args: string[], opts: Options): Promise<void> {
  const id = proposalId(args[0], "gov execute <proposalId> --dao protocol");
  const name = await proposalDao(ctx, id, opts.dao);
  const dao = governanceOf(ctx)[name];
  const state = await stateOf(dao, id);
  if (state !== "Queued" || (await dao.governor.proposalEta(id)) > (await nextTimepoint(dao))) {
    throw await wrongState(dao, id, state, "execute");
  }
  const p = await findProposal(ctx, name, id);
  const receipt = await send(() =>
    dao.governor.connect(ctx.signer).execute(p.targets, p.values, p.calldatas, p.descriptionHash),
  );
  ctx.out(`Executed proposal ${id} of the ${DAO_LABELS[name]} in tx ${receipt.hash}`);
  for (const line of await describeActions(
    ctx,
    p.targets.map((t, i) => ({ target: t, value: p.values[i]!, data: p.calldatas[i]! })),
  )) {
    ctx.out(`  ran  ${line}`);
  }
}

async function show(ctx: CliContext, args: string[], opts: Options): Promise<void> {
  const id = proposalId(args[0], "gov show <proposalId> --dao protocol");
  const name = await proposalDao(ctx, id, opts.dao);
  const dao = governanceOf(ctx)[name];
  const g = dao.governor;
  const [state, snapshot, deadline, eta, proposer, tally, now] = await Promise.all([
    stateOf(dao, id),
    g.proposalSnapshot(id),
    g.proposalDeadline(id),
    g.proposalEta(id),
    g.proposalProposer(id),
    g.proposalVotes(id),
    nextTimepoint(dao),
  ]);
  const [against, forVotes, abstain] = tally;
  // The quorum is fixed at the snapshot; before it, show today's.
  const settled = snapshot < now;
  const quorum = await read(() => g.quorum(settled ? snapshot : now - 1n, NEXT_BLOCK));
  const reached = forVotes + abstain >= quorum;
  const hint: Partial<Record<typeof state, string>> = {
    Pending: `voting starts at ${date(snapshot)}`,
    Active: `voting ends at ${date(deadline)}`,
    Succeeded: `queue it: gov queue ${id} --dao ${name}`,
    Queued: `executable from ${date(eta)}: gov execute ${id} --dao ${name}`,
  };
  const p = await findProposal(ctx, name, id);
  const actions = await describeActions(
    ctx,
    p.targets.map((t, i) => ({ target: t, value: p.values[i]!, data: p.calldatas[i]! })),
  );
  const lines = [
    `Proposal ${id} (${DAO_LABELS[name]})`,
    `  state       ${state}${hint[state] ? ` (${hint[state]})` : ""}`,
    `  proposer    ${proposer}`,
    `  description ${p.description.split("\n").join("\n              ")}`,
    `  votes       For ${formatVotes(name, forVotes)}, Against ${formatVotes(name, against)}, Abstain ${formatVotes(name, abstain)}`,
    `  quorum      ${formatVotes(name, quorum)} For or Abstain${settled ? "" : " (so far; fixed at the snapshot)"}: ${reached ? "reached" : "not reached"}`,
    `  snapshot    ${date(snapshot)}`,
    `  deadline    ${date(deadline)}`,
    `  eta         ${eta === 0n ? "-" : date(eta)}`,
    "  actions",
    ...actions.map((a, i) => `    ${i + 1}. ${a}`),
  ];
  for (const line of lines) ctx.out(line);
}

async function list(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const governance = governanceOf(ctx);
  const names = opts.dao === undefined ? DAOS : [daoName(opts.dao)];
  for (const name of names) {
    const proposals = await proposalsOf(ctx, governance[name]);
    if (proposals.length === 0) {
      ctx.out(`${DAO_LABELS[name]}: no proposals yet`);
      continue;
    }
    ctx.out(`${DAO_LABELS[name]}: ${proposals.length} proposal${proposals.length === 1 ? "" : "s"}`);
    for (const p of proposals) {
      const [state, deadline] = await Promise.all([
        stateOf(governance[name], p.id),
        governance[name].governor.proposalDeadline(p.id),
      ]);
      const title = p.description.split("\n")[0]!;
      ctx.out(
        `  ${p.id}  ${state.padEnd(9)}  voting ends ${date(deadline)}  ${title.length > 60 ? `${title.slice(0, 57)}...` : title}`,
      );
    }
  }
}

export const govCommands = { delegate, propose, vote, queue, execute, show, list };
