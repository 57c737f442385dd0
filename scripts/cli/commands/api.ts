import { ZeroAddress, decodeBytes32String, formatUnits, type Log } from "ethers";
import type { IApiRegistry } from "../../../types/ethers-contracts/index.js";
import { address, amount, apiId, duration, flag, metadataHash, required, shortText, type Options } from "../args.js";
import { type CliContext, read, send } from "../context.js";
import { UsageError } from "../errors.js";
import { tokenDecimals } from "./tokens.js";

const MODEL_PAY_PER_CALL = 1;
const MODEL_SUBSCRIPTION = 2;
const UNIT_TOKEN = 0;
const UNIT_USD = 1;
const STATUS = ["none", "active", "paused", "retired"];

type Pricing = IApiRegistry.PricingStruct;

/** Builds a price list from options, on top of `base` (the current one, for updates). */
async function pricingFrom(ctx: CliContext, opts: Options, base?: IApiRegistry.PricingStructOutput): Promise<Pricing> {
  if (opts.usd === "true" && opts.token !== undefined) throw new UsageError("pass either --token or --usd, not both");
  let unit = base ? Number(base.unit) : undefined;
  let paymentToken = base?.paymentToken;
  if (opts.usd === "true") {
    unit = UNIT_USD;
    paymentToken = ZeroAddress;
  } else if (opts.token !== undefined) {
    unit = UNIT_TOKEN;
    paymentToken = address(opts.token, "--token");
  }
  if (unit === undefined || paymentToken === undefined) {
    throw new UsageError("missing the price currency: pass --token <ERC-20 address> or --usd");
  }
  const decimals = unit === UNIT_USD ? 18 : await tokenDecimals(ctx, paymentToken);
  const currencyChanged = base !== undefined && (Number(base.unit) !== unit || base.paymentToken !== paymentToken);

  let models = base ? Number(base.models) : 0;
  let pricePerCall = base && !currencyChanged ? base.pricePerCall : 0n;
  let pricePerPeriod = base && !currencyChanged ? base.pricePerPeriod : 0n;
  let period = base ? Number(base.period) : 0;
  if (opts["per-call"] !== undefined) {
    pricePerCall = amount(opts["per-call"], decimals, "--per-call");
    models |= MODEL_PAY_PER_CALL;
  }
  if (opts["per-period"] !== undefined) {
    pricePerPeriod = amount(opts["per-period"], decimals, "--per-period");
    models |= MODEL_SUBSCRIPTION;
    if (opts.period === undefined && period === 0)
      throw new UsageError("--per-period needs --period, e.g. --period 30d");
  }
  if (opts.period !== undefined) period = duration(opts.period, "--period");
  for (const drop of (opts.drop ?? "").split(",").filter(Boolean)) {
    if (drop === "call") models &= ~MODEL_PAY_PER_CALL;
    else if (drop === "subscription") models &= ~MODEL_SUBSCRIPTION;
    else throw new UsageError(`--drop takes "call" or "subscription" (got "${drop}")`);
  }
  if (models === 0) throw new UsageError("no payment model: pass --per-call <amount> and/or --per-period <amount>");
  if (
    currencyChanged &&
    ((models & MODEL_PAY_PER_CALL && opts["per-call"] === undefined) ||
      (models & MODEL_SUBSCRIPTION && opts["per-period"] === undefined))
  ) {
    throw new UsageError("changing the currency needs new prices for every offered model (--per-call, --per-period)");
  }
  return {
    unit,
    paymentToken,
    models,
    stakerDiscount: flag(opts, "staker-discount") ?? base?.stakerDiscount ?? false,
    period: models & MODEL_SUBSCRIPTION ? period : 0,
    pricePerCall: models & MODEL_PAY_PER_CALL ? pricePerCall : 0n,
    pricePerPeriod: models & MODEL_SUBSCRIPTION ? pricePerPeriod : 0n,
  };
}

function registeredId(ctx: CliContext, logs: readonly Log[]): bigint {
  for (const log of logs) {
    const parsed = ctx.protocol.registry.interface.parseLog(log);
    if (parsed?.name === "ApiRegistered") return parsed.args[0] as bigint;
  }
  throw new Error("no ApiRegistered event in the receipt");
}

async function register(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const tags = (opts.tags ?? "")
    .split(",")
    .filter(Boolean)
    .map((t) => shortText(t, "each tag"));
  const input = {
    metadataUri: required(opts, "metadata-uri", "ipfs://<cid of the OpenAPI document>"),
    metadataHash: metadataHash(opts),
    upstreamUrl: required(opts, "upstream", "https://api.example.com"),
    category: shortText(required(opts, "category", "weather"), "--category"),
    tags,
    pricing: await pricingFrom(ctx, opts),
  };
  const receipt = await send(() => ctx.protocol.registry.connect(ctx.signer).register(input));
  const id = registeredId(ctx, receipt.logs);
  ctx.out(`Registered API ${id} (provider ${await ctx.signer.getAddress()}) in tx ${receipt.hash}`);
}

async function price(ctx: CliContext, args: string[], opts: Options): Promise<void> {
  const id = apiId(args[0]);
  const current = await read(() => ctx.protocol.registry.getPricing(id));
  const pricing = await pricingFrom(ctx, opts, current);
  const receipt = await send(() => ctx.protocol.registry.connect(ctx.signer).setPricing(id, pricing));
  ctx.out(`Updated pricing of API ${id} in tx ${receipt.hash}`);
}

function statusCommand(name: "pause" | "resume" | "retire", past: string) {
  return async (ctx: CliContext, args: string[]): Promise<void> => {
    const id = apiId(args[0]);
    const receipt = await send(() => ctx.protocol.registry.connect(ctx.signer)[name](id));
    ctx.out(`${past} API ${id} in tx ${receipt.hash}`);
  };
}

async function show(ctx: CliContext, args: string[]): Promise<void> {
  const id = apiId(args[0]);
  const api = await read(() => ctx.protocol.registry.getApi(id));
  const p = api.pricing;
  const usd = Number(p.unit) === UNIT_USD;
  const decimals = usd ? 18 : await tokenDecimals(ctx, p.paymentToken);
  const currency = usd ? "USD" : p.paymentToken;
  const lines = [
    `API ${id}`,
    `  provider      ${api.provider}`,
    `  status        ${STATUS[Number(api.status)]}`,
    `  metadata      ${api.metadataUri} (hash ${api.metadataHash})`,
    `  upstream      ${api.upstreamUrl}`,
    `  category      ${decodeBytes32String(api.category)}`,
    `  tags          ${api.tags.map((t) => decodeBytes32String(t)).join(", ") || "-"}`,
    `  per call      ${Number(p.models) & MODEL_PAY_PER_CALL ? `${formatUnits(p.pricePerCall, decimals)} ${currency}` : "not offered"}`,
    `  subscription  ${Number(p.models) & MODEL_SUBSCRIPTION ? `${formatUnits(p.pricePerPeriod, decimals)} ${currency} per ${p.period}s` : "not offered"}`,
    `  staker discount ${p.stakerDiscount ? "yes" : "no"}`,
  ];
  for (const line of lines) ctx.out(line);
}

export const apiCommands = {
  register,
  price,
  pause: statusCommand("pause", "Paused"),
  resume: statusCommand("resume", "Resumed"),
  retire: statusCommand("retire", "Retired"),
  show,
};
