import { formatEther } from "ethers";
import { address, amount, type Options } from "../args.js";
import { send, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { ensureAllowance } from "./tokens.js";

function mesh(value: string | undefined): bigint {
  if (value === undefined) throw new UsageError("missing the amount: pass it in MESH, e.g. 1000");
  return amount(value, 18, "the amount");
}

async function stake(ctx: CliContext, args: string[]): Promise<void> {
  const value = mesh(args[0]);
  await ensureAllowance(ctx, await ctx.protocol.token.getAddress(), await ctx.protocol.discounts.getAddress(), value);
  const receipt = await send(() => ctx.protocol.discounts.connect(ctx.signer).stake(value));
  const bps = await ctx.protocol.discounts.discountBpsOf(await ctx.signer.getAddress());
  ctx.out(`Staked ${formatEther(value)} MESH for discounts (now ${Number(bps) / 100}% off) in tx ${receipt.hash}`);
}

async function unstake(ctx: CliContext, args: string[]): Promise<void> {
  const value = mesh(args[0]);
  const receipt = await send(() => ctx.protocol.discounts.connect(ctx.signer).requestUnstake(value));
  ctx.out(`Cooling down ${formatEther(value)} MESH (then: discount withdraw) in tx ${receipt.hash}`);
}

async function withdraw(ctx: CliContext): Promise<void> {
  const receipt = await send(() => ctx.protocol.discounts.connect(ctx.signer).withdraw());
  ctx.out(`Withdrew cooled-down MESH in tx ${receipt.hash}`);
}

async function show(ctx: CliContext, args: string[], _opts: Options): Promise<void> {
  const who = args[0] !== undefined ? address(args[0], "the account") : await ctx.signer.getAddress();
  const d = ctx.protocol.discounts;
  const [staked, bps, tiers] = await Promise.all([d.stakeOf(who), d.discountBpsOf(who), d.getTiers()]);
  ctx.out(`${who}: ${formatEther(staked)} MESH staked, ${Number(bps) / 100}% discount`);
  for (const t of tiers) ctx.out(`  tier: from ${formatEther(t.minStake)} MESH -> ${Number(t.discountBps) / 100}% off`);
}

export const discountCommands = { stake, unstake, withdraw, show };
