import { decodeBytes32String, formatEther } from "ethers";
import { address, amount, positiveInt, required, shortText, type Options } from "../args.js";
import { type CliContext, read, send } from "../context.js";
import { UsageError } from "../errors.js";
import { ensureAllowance } from "./tokens.js";

export const NODE_TYPES = ["edge", "mobile", "cloud", "validator"] as const;
const STATUS = ["none", "active", "exiting"];
const UINT32_MAX = 2 ** 32 - 1;

function nodeType(value: string): number {
  const index = NODE_TYPES.indexOf(value as (typeof NODE_TYPES)[number]);
  if (index < 0) throw new UsageError(`--type must be one of ${NODE_TYPES.join(", ")} (got "${value}")`);
  return index;
}

function meshAmount(value: string | undefined, what: string): bigint {
  if (value === undefined) throw new UsageError(`missing ${what}: pass it in MESH, e.g. 1000`);
  return amount(value, 18, what);
}

/** Raises the staking contract's MESH allowance to `needed` when it is short. */
async function ensureStakingAllowance(ctx: CliContext, needed: bigint): Promise<void> {
  await ensureAllowance(ctx, await ctx.protocol.token.getAddress(), await ctx.protocol.staking.getAddress(), needed);
}

async function register(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const type = nodeType(required(opts, "type", NODE_TYPES.join("|")));
  const region = shortText(required(opts, "region", "eu-west"), "--region");
  const url = required(opts, "url", "https://node.example.com");
  const capacity = positiveInt(required(opts, "capacity", "100 (requests per second)"), "--capacity", UINT32_MAX);
  const stake = meshAmount(opts.stake, "--stake");
  await ensureStakingAllowance(ctx, stake);
  const receipt = await send(() =>
    ctx.protocol.staking.connect(ctx.signer).registerNode(type, region, url, capacity, stake),
  );
  ctx.out(
    `Registered ${NODE_TYPES[type]} node ${await ctx.signer.getAddress()} with ${formatEther(stake)} MESH in tx ${receipt.hash}`,
  );
}

async function update(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const current = await ctx.protocol.staking.getNode(await ctx.signer.getAddress());
  const region = opts.region !== undefined ? shortText(opts.region, "--region") : current.region;
  const url = opts.url ?? current.url;
  const capacity =
    opts.capacity !== undefined ? positiveInt(opts.capacity, "--capacity", UINT32_MAX) : current.capacity;
  const receipt = await send(() => ctx.protocol.staking.connect(ctx.signer).updateNode(region, url, capacity));
  ctx.out(`Updated node ${await ctx.signer.getAddress()} in tx ${receipt.hash}`);
}

async function topUp(ctx: CliContext, args: string[]): Promise<void> {
  const value = meshAmount(args[0], "the amount");
  await ensureStakingAllowance(ctx, value);
  const receipt = await send(() => ctx.protocol.staking.connect(ctx.signer).topUp(value));
  ctx.out(`Staked ${formatEther(value)} more MESH in tx ${receipt.hash}`);
}

async function unstake(ctx: CliContext, args: string[]): Promise<void> {
  const value = meshAmount(args[0], "the amount");
  const receipt = await send(() => ctx.protocol.staking.connect(ctx.signer).unstake(value));
  const node = await ctx.protocol.staking.getNode(await ctx.signer.getAddress());
  const releaseAt = new Date(Number(node.unbondingReleaseAt) * 1000).toISOString();
  ctx.out(`Unstaking ${formatEther(value)} MESH, withdrawable from ${releaseAt}, in tx ${receipt.hash}`);
}

async function withdraw(ctx: CliContext): Promise<void> {
  const before = await ctx.protocol.staking.getNode(await ctx.signer.getAddress());
  const receipt = await send(() => ctx.protocol.staking.connect(ctx.signer).withdraw());
  ctx.out(`Withdrew ${formatEther(before.unbonding)} MESH in tx ${receipt.hash}`);
}

async function show(ctx: CliContext, args: string[]): Promise<void> {
  const operator = args[0] !== undefined ? address(args[0], "the operator") : await ctx.signer.getAddress();
  const staking = ctx.protocol.staking;
  const node = await read(() => staking.getNode(operator));
  if (Number(node.status) === 0) {
    ctx.out(`${operator} has no node`);
    return;
  }
  const type = Number(node.nodeType);
  const lines = [
    `Node ${operator}`,
    `  type        ${NODE_TYPES[type]}`,
    `  status      ${STATUS[Number(node.status)]}${(await staking.isActive(operator)) ? " (serving)" : " (not serving)"}`,
    `  region      ${decodeBytes32String(node.region)}`,
    `  url         ${node.url}`,
    `  capacity    ${node.capacity} req/s`,
    `  stake       ${formatEther(node.stake)} MESH (minimum ${formatEther(await staking.minStake(type))})`,
    `  unbonding   ${formatEther(node.unbonding)} MESH${node.unbonding > 0n ? ` until ${new Date(Number(node.unbondingReleaseAt) * 1000).toISOString()}` : ""}`,
    `  votes       ${formatEther(await staking.getVotes(operator))}`,
  ];
  for (const line of lines) ctx.out(line);
}

export const nodeCommands = { register, update, topup: topUp, unstake, withdraw, show };
