import { formatEther } from "ethers";
import { address, amount, epoch, required, type Options } from "../args.js";
import { type CliContext, read, send } from "../context.js";
import { UsageError } from "../errors.js";
import { eventOf, percent } from "./reputation.js";
import { ensureAllowance } from "./tokens.js";

const mesh = (v: bigint) => `${formatEther(v)} MESH`;

/** Where epoch `e` stands in its timeline when the current epoch is `c`. */
function phase(e: number, c: number): string {
  if (c < e) return "not started";
  if (c === e) return "serving: redemptions count now";
  if (c === e + 1) return `validators attest; scores finalize during epoch ${e + 2}`;
  if (c === e + 2) return `scores finalize now; commits open in epoch ${e + 3}`;
  if (c === e + 3) return "commit window open";
  return "claimable";
}

async function nodeOf(ctx: CliContext, opts: Options): Promise<string> {
  return opts.node !== undefined ? address(opts.node, "--node") : await ctx.signer.getAddress();
}

async function status(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const rewards = ctx.protocol.rewards;
  const current = Number(await rewards.currentEpoch());
  const e = opts.epoch !== undefined ? epoch(opts.epoch) : Math.max(current - 3, 0);
  const node = await nodeOf(ctx, opts);
  const [emission, unallocated, reserved, unscored, pool, weight, claimed, score, scorable] = await Promise.all([
    rewards.emissionPerEpoch(),
    rewards.unallocated(),
    rewards.reserved(),
    rewards.unscoredFactorBps(),
    read(() => rewards.poolOf(e)),
    rewards.weightOf(e, node),
    rewards.claimed(e, node),
    ctx.protocol.reputation.nodeScoreAt(node, e),
    ctx.protocol.reputation.wasScorable(node, e),
  ]);
  // NodeRewards' factor without a finalized score: 0 if validators reported enough to score the
  // node (its score could have been finalized), else the unscored factor.
  const lines = [
    "Node rewards",
    `  current epoch  ${current}`,
    `  emission       ${mesh(emission)} per epoch`,
    `  unallocated    ${mesh(unallocated)} (funded, not set aside for an epoch)`,
    `  reserved       ${mesh(reserved)} (set aside, not yet claimed)`,
    `Epoch ${e} (${phase(e, current)})`,
    pool.allocated
      ? `  pool           ${mesh(pool.pool)}, paid ${mesh(pool.paid)}`
      : `  pool           not set aside yet (at the first commit: up to ${mesh(emission)})`,
    `  total weight   ${pool.totalWeight} (claimed ${pool.claimedWeight})`,
    `Node ${node}`,
    score.finalized
      ? `  reputation     ${percent(score.smoothed)} (smoothed score finalized for epoch ${e})`
      : scorable
        ? `  reputation     not finalized for epoch ${e}: counts as ${percent(0)} (validators reported enough; finalize during epoch ${e + 2})`
        : `  reputation     not scored for epoch ${e}: counts as ${percent(unscored)}`,
  ];
  if (weight === 0n) {
    lines.push("  weight         none committed");
  } else {
    const share = pool.totalWeight === 0n ? 0n : (pool.pool * weight) / pool.totalWeight;
    lines.push(
      `  weight         ${weight} (about ${mesh(share)} of the pool)`,
      `  claimed        ${claimed ? "yes" : "no"}`,
    );
  }
  for (const line of lines) ctx.out(line);
}

/** `--tokens a,b`: the reward tokens to count, strictly ascending as the contract requires. */
function tokenList(value: string): string[] {
  const tokens = value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .map((t) => address(t, "each of --tokens"));
  if (tokens.length === 0)
    throw new UsageError("--tokens needs at least one payment token address, e.g. --tokens 0x..,0x..");
  tokens.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  const twice = tokens.find((t, i) => i > 0 && t === tokens[i - 1]);
  if (twice !== undefined) throw new UsageError(`--tokens lists ${twice} twice: name each token once`);
  return tokens;
}

async function commit(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const e = epoch(required(opts, "epoch", "<served epoch: commit during epoch n + 3>"));
  const tokens = tokenList(required(opts, "tokens", "<reward token addresses, comma-separated>"));
  const node = await nodeOf(ctx, opts);
  const rewards = ctx.protocol.rewards;
  const receipt = await send(() => rewards.connect(ctx.signer).commit(node, e, tokens));
  const log = eventOf(receipt, rewards, "RewardCommitted");
  ctx.out(
    `Committed node ${node} for epoch ${e}: ${log?.args[2] ?? "?"} points x reputation ${percent((log?.args[3] as bigint) ?? 0n)} = weight ${log?.args[4] ?? "?"} in tx ${receipt.hash}`,
  );
  ctx.out(`  claim from epoch ${e + 4}: rewards claim --epoch ${e} --node ${node}`);
}

async function claim(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const e = epoch(required(opts, "epoch", "<served epoch: claimable from epoch n + 4>"));
  const node = await nodeOf(ctx, opts);
  const rewards = ctx.protocol.rewards;
  const receipt = await send(() => rewards.connect(ctx.signer).claim(node, e));
  const log = eventOf(receipt, rewards, "RewardClaimed");
  ctx.out(`Paid node ${node} ${mesh((log?.args[2] as bigint) ?? 0n)} for epoch ${e} in tx ${receipt.hash}`);
}

async function fund(ctx: CliContext, args: string[]): Promise<void> {
  if (args[0] === undefined) throw new UsageError('missing the amount: "rewards fund <MESH>", e.g. rewards fund 1000');
  const value = amount(args[0], 18, "the amount");
  const rewards = ctx.protocol.rewards;
  await ensureAllowance(ctx, await ctx.protocol.token.getAddress(), await rewards.getAddress(), value);
  const receipt = await send(() => rewards.connect(ctx.signer).fund(value));
  ctx.out(
    `Funded node rewards with ${mesh(value)} (unallocated now ${mesh(await rewards.unallocated())}) in tx ${receipt.hash}`,
  );
}

export const rewardsCommands = { status, commit, claim, fund };
