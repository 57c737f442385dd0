import { formatUnits } from "ethers";
import { address, amount, apiId, positiveInt, required, type Options } from "../args.js";
import { read, send, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { ensureAllowance, tokenDecimals } from "./tokens.js";

const date = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString();

/** Buys N periods at the current quote (USD converted, staking discount applied). */
async function buy(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const id = apiId(required(opts, "api", "<API id>"));
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const periods = positiveInt(required(opts, "periods", "<number of periods, e.g. 3>"), "--periods", 120);
  const decimals = await tokenDecimals(ctx, token);
  const payer = await ctx.signer.getAddress();
  const [price, period] = await read(() => ctx.protocol.quoter.quotePeriod(id, token, payer));
  if (price === 0n) throw new UsageError(`API ${id} offers no subscription: use a channel (pay per call)`);
  // Without --max-price, accept exactly the quote: a price raised before the tx lands reverts.
  const maxPrice = opts["max-price"] !== undefined ? amount(opts["max-price"], decimals, "--max-price") : price;
  await ensureAllowance(ctx, token, await ctx.protocol.subscriptions.getAddress(), price * BigInt(periods));
  const receipt = await send(() =>
    ctx.protocol.subscriptions.connect(ctx.signer).subscribe(id, token, periods, maxPrice),
  );
  const sub = await ctx.protocol.subscriptions.getSubscription(
    await ctx.protocol.subscriptions.subscriptionIdOf(payer, id),
  );
  ctx.out(
    `Subscribed to API ${id} for ${periods} x ${period}s at ${formatUnits(price, decimals)} per period, paid until ${date(sub.paidUntil)}, in tx ${receipt.hash}`,
  );
}

async function cancel(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const id = apiId(required(opts, "api", "<API id>"));
  const receipt = await send(() => ctx.protocol.subscriptions.connect(ctx.signer).cancel(id));
  ctx.out(`Cancelled the renewal of API ${id} (access lasts until the paid period ends) in tx ${receipt.hash}`);
}

/** Prepaid balance that renewals draw from. */
async function deposit(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const decimals = await tokenDecimals(ctx, token);
  const value = amount(required(opts, "amount", "<amount>"), decimals, "--amount");
  await ensureAllowance(ctx, token, await ctx.protocol.subscriptions.getAddress(), value);
  const receipt = await send(() => ctx.protocol.subscriptions.connect(ctx.signer).depositBalance(token, value));
  ctx.out(`Prepaid ${formatUnits(value, decimals)} for renewals in tx ${receipt.hash}`);
}

async function withdraw(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const decimals = await tokenDecimals(ctx, token);
  const value = amount(required(opts, "amount", "<amount>"), decimals, "--amount");
  const receipt = await send(() => ctx.protocol.subscriptions.connect(ctx.signer).withdrawBalance(token, value));
  ctx.out(`Withdrew ${formatUnits(value, decimals)} of prepaid balance in tx ${receipt.hash}`);
}

async function renew(ctx: CliContext, args: string[]): Promise<void> {
  if (args[0] === undefined || !/^\d+$/.test(args[0])) {
    throw new UsageError('missing the subscription id: "subscription renew <id>" (subscription show prints it)');
  }
  const receipt = await send(() => ctx.protocol.subscriptions.connect(ctx.signer).renew(BigInt(args[0]!)));
  ctx.out(`Renewed subscription ${args[0]} in tx ${receipt.hash}`);
}

async function show(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const id = apiId(required(opts, "api", "<API id>"));
  const payer = opts.payer !== undefined ? address(opts.payer, "--payer") : await ctx.signer.getAddress();
  const subs = ctx.protocol.subscriptions;
  const subscriptionId = await subs.subscriptionIdOf(payer, id);
  if (subscriptionId === 0n) {
    ctx.out(`${payer} has no subscription to API ${id}`);
    return;
  }
  const s = await subs.getSubscription(subscriptionId);
  const decimals = await tokenDecimals(ctx, s.token);
  const lines = [
    `Subscription ${subscriptionId}`,
    `  payer        ${s.payer}`,
    `  api          ${s.apiId}`,
    `  access       ${(await subs.isSubscribed(payer, id)) ? "active" : "expired"} (paid until ${date(s.paidUntil)})`,
    `  renewal      ${s.autoRenew ? `automatic, up to ${formatUnits(s.maxPricePerPeriod, decimals)} per ${s.period}s period` : "cancelled"}`,
    `  prepaid      ${formatUnits(await subs.prepaidBalanceOf(payer, s.token), decimals)} of ${s.token}`,
  ];
  for (const line of lines) ctx.out(line);
}

export const subscriptionCommands = { buy, cancel, deposit, withdraw, renew, show };
