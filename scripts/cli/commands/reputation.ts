import { formatEther, type ContractTransactionReceipt, type Interface, type LogDescription } from "ethers";
import { channelId } from "../../../sdk/vouchers.js";
import { address, apiId, epoch, required, type Options } from "../args.js";
import { type CliContext, read, send } from "../context.js";
import { UsageError } from "../errors.js";

/** IReputation.SubjectKind. */
const KIND = { node: 0, api: 1 } as const;

/** The first event named `name` that `contract` emitted in `receipt`. */
export function eventOf(
  receipt: ContractTransactionReceipt,
  contract: { interface: Interface },
  ...names: string[]
): LogDescription | undefined {
  for (const log of receipt.logs) {
    const parsed = contract.interface.parseLog(log);
    if (parsed !== null && names.includes(parsed.name)) return parsed;
  }
  return undefined;
}

/** Basis points as a percentage: 9200 -> "92.00%". */
export function percent(bps: bigint | number): string {
  return `${(Number(bps) / 100).toFixed(2)}%`;
}

/** US dollars in 18 decimals (rating weights) with at least cents: 2e18 -> "$2.00", 1e12 -> "$0.000001". */
export function dollars(amount: bigint): string {
  const [whole, fraction = ""] = formatEther(amount).split(".");
  return `$${whole}.${fraction.replace(/0+$/, "").padEnd(2, "0")}`;
}

function stars(value: string | undefined, name: string): number {
  if (value === undefined || value === "") throw new UsageError(`missing --${name}: pass --${name} <1-5>`);
  if (!/^[1-5]$/.test(value))
    throw new UsageError(`--${name} must be a whole number of stars from 1 to 5 (got "${value}")`);
  return Number(value);
}

async function join(ctx: CliContext): Promise<void> {
  const reputation = ctx.protocol.reputation;
  const receipt = await send(() => reputation.connect(ctx.signer).joinValidators());
  const joined = eventOf(receipt, reputation, "ValidatorJoined");
  const replaced = eventOf(receipt, reputation, "ValidatorLeft");
  ctx.out(
    `Joined the validator set with ${formatEther((joined?.args[1] as bigint) ?? 0n)} MESH staked in tx ${receipt.hash}`,
  );
  if (replaced !== undefined) ctx.out(`  replaced ${replaced.args[0]} (the member with the least stake)`);
}

async function leave(ctx: CliContext): Promise<void> {
  const receipt = await send(() => ctx.protocol.reputation.connect(ctx.signer).leaveValidators());
  ctx.out(`Left the validator set in tx ${receipt.hash}`);
}

async function list(ctx: CliContext): Promise<void> {
  const { reputation, staking } = ctx.protocol;
  const [members, max] = await Promise.all([reputation.validators(), reputation.MAX_VALIDATORS()]);
  const rows = await Promise.all(
    members.map(async (v) => ({ v, stake: await staking.stakeOf(v), active: await staking.isActive(v) })),
  );
  rows.sort((a, b) => (a.stake > b.stake ? -1 : a.stake < b.stake ? 1 : 0));
  ctx.out(`Validator set: ${members.length} of ${max}`);
  for (const { v, stake, active } of rows) {
    ctx.out(`  ${v}  ${formatEther(stake)} MESH${active ? "" : " (no longer an active validator node: removable)"}`);
  }
}

const VALIDATOR_COMMANDS: Record<string, (ctx: CliContext) => Promise<void>> = { join, leave, list };

async function validator(ctx: CliContext, args: string[]): Promise<void> {
  const sub = args[0];
  if (sub === undefined || !Object.hasOwn(VALIDATOR_COMMANDS, sub)) {
    throw new UsageError(
      `unknown command "reputation validator ${sub ?? ""}": use one of ${Object.keys(VALIDATOR_COMMANDS).join(", ")}`,
    );
  }
  await VALIDATOR_COMMANDS[sub]!(ctx);
}

async function rate(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const node = address(required(opts, "node", "<node operator address>"), "--node");
  const api = apiId(required(opts, "api", "<API id>"));
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const nodeStars = stars(opts["node-stars"], "node-stars");
  const apiStars = stars(opts["api-stars"], "api-stars");
  const reputation = ctx.protocol.reputation;
  const receipt = await send(() => reputation.connect(ctx.signer).rate(node, api, token, nodeStars, apiStars));
  const rated = eventOf(receipt, reputation, "Rated");
  const weight = (rated?.args[6] as bigint) ?? 0n;
  const id = channelId(await ctx.signer.getAddress(), node, api, token);
  ctx.out(
    `Rated node ${node} ${nodeStars}/5 and API ${api} ${apiStars}/5 through channel ${id}, weighted by ${dollars(weight)} paid (in USD at the token's feed price), in tx ${receipt.hash}`,
  );
}

async function show(ctx: CliContext, args: string[]): Promise<void> {
  const [kindName, subject] = args;
  if (kindName !== "node" && kindName !== "api") {
    throw new UsageError(
      `say what to show: "reputation show node <address>" or "reputation show api <id>" (got "${kindName ?? ""}")`,
    );
  }
  const kind = KIND[kindName];
  if (subject === undefined) {
    throw new UsageError(
      kindName === "node"
        ? 'missing the node: "reputation show node <operator address>"'
        : 'missing the API: "reputation show api <id>"',
    );
  }
  let id: bigint;
  let label: string;
  if (kindName === "node") {
    const node = address(subject, "the node");
    [id, label] = [BigInt(node), `Node ${node}`];
  } else {
    id = apiId(subject);
    label = `API ${id}`;
  }
  const reputation = ctx.protocol.reputation;
  const [score, rating, current, policy, params] = await Promise.all([
    read(() => reputation.scoreOf(kind, id)),
    read(() => reputation.ratingOf(kind, id)),
    reputation.currentEpoch(),
    reputation.slashingPolicy(),
    reputation.scoringParams(),
  ]);
  const lines = [
    label,
    `  current epoch  ${current}`,
    score.finalized
      ? `  latest score   epoch ${score.epoch}: ${percent(score.epochScore)} (smoothed ${percent(score.smoothed)})`
      : "  latest score   none finalized yet",
  ];
  if (kindName === "node" && score.finalized) {
    lines.push(
      `  low streak     ${score.lowStreak} epoch(s) under ${percent(policy.thresholdBps)} (slashing report at ${policy.epochs})`,
    );
  }
  if (rating.weight === 0n) {
    lines.push("  rating         none (only payers who redeemed spend in a token with a USD feed can rate)");
  } else {
    // Reputation._epochScore: the rating's share grows with the spend behind it up to ratingFullSpend.
    const share =
      rating.weight >= params.ratingFullSpend
        ? params.ratingShareBps
        : (params.ratingShareBps * rating.weight) / params.ratingFullSpend;
    lines.push(
      `  rating         ${percent(rating.ratingBps)} (${(1 + Number(rating.ratingBps) / 2500).toFixed(1)} stars) over ${dollars(rating.weight)} of spend (USD when rated)`,
      `  rating share   ${percent(share)} of the epoch score (the full ${percent(params.ratingShareBps)} from ${dollars(params.ratingFullSpend)} of spend)`,
    );
  }
  const due = Number(current) - 2;
  if (due >= 0 && !(score.finalized && score.epoch >= BigInt(due))) {
    const reports = await reputation.reportCount(kind, id, due);
    lines.push(
      `  finalizable    epoch ${due} until epoch ${current} ends: ${reports} report(s), ${params.minReports} needed (reputation finalize --${kindName} ${subject} --epoch ${due})`,
    );
  }
  for (const line of lines) ctx.out(line);
}

async function finalize(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  if ((opts.node === undefined) === (opts.api === undefined)) {
    throw new UsageError("pass either --node <address> or --api <id> (one subject per call), with --epoch <n>");
  }
  const e = epoch(required(opts, "epoch", "<epoch to finalize: during epoch n + 2>"));
  const reputation = ctx.protocol.reputation.connect(ctx.signer);
  const node = opts.node !== undefined ? address(opts.node, "--node") : undefined;
  const api = opts.api !== undefined ? apiId(opts.api) : undefined;
  const receipt = await send(() =>
    node !== undefined ? reputation.finalizeNode(node, e) : reputation.finalizeApi(api!, e),
  );
  const scored = eventOf(receipt, reputation, "NodeScored", "ApiScored");
  const what = node !== undefined ? `node ${node}` : `API ${api}`;
  if (scored === undefined) {
    ctx.out(`Finalized ${what} for epoch ${e} in tx ${receipt.hash}`);
    return;
  }
  const s = scored.args;
  const reports = node !== undefined ? s[7] : s[6];
  ctx.out(
    `Finalized ${what} for epoch ${e}: epoch score ${percent(s[4] as bigint)}, smoothed ${percent(s[5] as bigint)}, ${reports} report(s), in tx ${receipt.hash}`,
  );
  if (node !== undefined && (s[6] as bigint) > 0n) ctx.out(`  low streak ${s[6]} epoch(s)`);
}

async function reportSlash(ctx: CliContext, args: string[]): Promise<void> {
  if (args[0] === undefined) throw new UsageError('missing the node: "reputation report-slash <operator address>"');
  const node = address(args[0], "the node");
  const reputation = ctx.protocol.reputation;
  const receipt = await send(() => reputation.connect(ctx.signer).reportForSlashing(node));
  const log = eventOf(receipt, reputation, "NodeReportedForSlashing");
  ctx.out(
    `Reported node ${node} to the Security DAO (${log?.args[2] ?? "?"} low epochs up to epoch ${log?.args[1] ?? "?"}, smoothed ${percent((log?.args[3] as bigint) ?? 0n)}) in tx ${receipt.hash}`,
  );
  ctx.out("  the Security DAO decides on a slash: gov propose --dao security --slash <operator>:<MESH>");
}

export const reputationCommands = { validator, rate, show, finalize, "report-slash": reportSlash };
