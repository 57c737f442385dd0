import { readFile } from "node:fs/promises";
import { formatUnits, getAddress, isAddress } from "ethers";
import { channelId, escrowDomain, type Voucher } from "../../../sdk/vouchers.js";
import { address, amount, apiId, required, type Options } from "../args.js";
import { send, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { ensureAllowance, tokenDecimals } from "./tokens.js";

interface ChannelKey {
  payer: string;
  node: string;
  apiId: bigint;
  token: string;
}

async function channelKey(ctx: CliContext, opts: Options): Promise<ChannelKey> {
  return {
    payer: opts.payer !== undefined ? address(opts.payer, "--payer") : await ctx.signer.getAddress(),
    node: address(required(opts, "node", "<node operator address>"), "--node"),
    apiId: apiId(required(opts, "api", "<API id>")),
    token: address(required(opts, "token", "<payment token address>"), "--token"),
  };
}

async function deposit(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const key = await channelKey(ctx, opts);
  const decimals = await tokenDecimals(ctx, key.token);
  const value = amount(required(opts, "amount", "<amount, e.g. 25>"), decimals, "--amount");
  await ensureAllowance(ctx, key.token, await ctx.protocol.escrow.getAddress(), value);
  const receipt = await send(() =>
    ctx.protocol.escrow.connect(ctx.signer).deposit(key.node, key.apiId, key.token, value),
  );
  ctx.out(
    `Deposited ${formatUnits(value, decimals)} into channel ${channelId(key.payer, key.node, key.apiId, key.token)} in tx ${receipt.hash}`,
  );
}

async function withdraw(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const key = await channelKey(ctx, opts);
  const decimals = await tokenDecimals(ctx, key.token);
  const value = amount(required(opts, "amount", "<amount>"), decimals, "--amount");
  const escrow = ctx.protocol.escrow.connect(ctx.signer);
  const receipt = await send(() => escrow.startWithdraw(key.node, key.apiId, key.token, value));
  const w = await escrow.withdrawals(channelId(key.payer, key.node, key.apiId, key.token));
  ctx.out(
    `Withdrawal of ${formatUnits(value, decimals)} thaws until ${new Date(Number(w.thawEndsAt) * 1000).toISOString()} (then: channel finish-withdraw) in tx ${receipt.hash}`,
  );
}

async function finishWithdraw(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const key = await channelKey(ctx, opts);
  const receipt = await send(() =>
    ctx.protocol.escrow.connect(ctx.signer).finishWithdraw(key.node, key.apiId, key.token),
  );
  const log = receipt.logs.map((l) => ctx.protocol.escrow.interface.parseLog(l)).find((l) => l?.name === "Withdrawn");
  const decimals = await tokenDecimals(ctx, key.token);
  ctx.out(`Withdrew ${formatUnits((log?.args[2] as bigint) ?? 0n, decimals)} in tx ${receipt.hash}`);
}

async function cancelWithdraw(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const key = await channelKey(ctx, opts);
  const receipt = await send(() =>
    ctx.protocol.escrow.connect(ctx.signer).cancelWithdraw(key.node, key.apiId, key.token),
  );
  ctx.out(`Cancelled the withdrawal in tx ${receipt.hash}`);
}

async function show(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const key = await channelKey(ctx, opts);
  const id = channelId(key.payer, key.node, key.apiId, key.token);
  const escrow = ctx.protocol.escrow;
  const [channel, w, decimals] = await Promise.all([
    escrow.channels(id),
    escrow.withdrawals(id),
    tokenDecimals(ctx, key.token),
  ]);
  const fmt = (v: bigint) => formatUnits(v, decimals);
  const lines = [
    `Channel ${id}`,
    `  payer       ${key.payer}`,
    `  node        ${key.node}`,
    `  api         ${key.apiId}`,
    `  token       ${key.token}`,
    `  balance     ${fmt(channel.balance)}`,
    `  redeemed    ${fmt(channel.redeemed)} (cumulative paid to the node)`,
    `  withdrawal  ${w.thawEndsAt === 0n ? "none" : `${fmt(w.amount)} thawing until ${new Date(Number(w.thawEndsAt) * 1000).toISOString()}`}`,
  ];
  for (const line of lines) ctx.out(line);
}

interface SignedVoucherJson {
  voucher: { payer: string; node: string; apiId: string; token: string; cumulativeAmount: string };
  signature: string;
}

function parseSigned(entry: unknown, index: number): { voucher: Voucher; signature: string } {
  const e = entry as Partial<SignedVoucherJson>;
  const v = e?.voucher;
  const valid =
    v !== undefined &&
    typeof e.signature === "string" &&
    [v.payer, v.node, v.token].every((a) => typeof a === "string" && isAddress(a)) &&
    /^\d+$/.test(String(v.apiId)) &&
    /^\d+$/.test(String(v.cumulativeAmount));
  if (!valid) {
    throw new UsageError(
      `voucher #${index} is malformed: expected {"voucher":{"payer","node","apiId","token","cumulativeAmount"},"signature"} as printed by "voucher sign"`,
    );
  }
  return {
    voucher: {
      payer: getAddress(v.payer),
      node: getAddress(v.node),
      apiId: BigInt(v.apiId),
      token: getAddress(v.token),
      cumulativeAmount: BigInt(v.cumulativeAmount),
    },
    signature: e.signature!,
  };
}

/** Redeems the vouchers in a JSON file (one signed voucher or an array): one tx per node and token. */
async function redeem(ctx: CliContext, args: string[]): Promise<void> {
  const file = args[0];
  if (file === undefined) throw new UsageError('missing the voucher file: "channel redeem <file.json>"');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    throw new UsageError(`cannot read JSON from "${file}": pass a file written by "voucher sign"`);
  }
  const signed = (Array.isArray(parsed) ? parsed : [parsed]).map(parseSigned);
  if (signed.length === 0) throw new UsageError(`"${file}" holds no vouchers`);
  const escrow = ctx.protocol.escrow.connect(ctx.signer);
  if (signed.length === 1) {
    const { voucher, signature } = signed[0]!;
    const receipt = await send(() => escrow.redeem(voucher, signature));
    ctx.out(`Redeemed 1 voucher in tx ${receipt.hash}`);
    return;
  }
  const groups = new Map<string, typeof signed>();
  for (const s of signed) {
    const k = `${s.voucher.node}:${s.voucher.token}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const group of groups.values()) {
    // Adjacent vouchers of one API are credited with one write.
    group.sort((a, b) => (a.voucher.apiId < b.voucher.apiId ? -1 : a.voucher.apiId > b.voucher.apiId ? 1 : 0));
    const { node, token } = group[0]!.voucher;
    const items = group.map(({ voucher, signature }) => ({
      payer: voucher.payer,
      apiId: voucher.apiId,
      cumulativeAmount: voucher.cumulativeAmount,
      signature,
    }));
    const receipt = await send(() => escrow.redeemBatch(node, token, items));
    ctx.out(`Redeemed ${items.length} vouchers for node ${node} in tx ${receipt.hash}`);
  }
}

/** Verifying context for other commands: the escrow's EIP-712 domain. */
export async function domainOf(ctx: CliContext) {
  const network = await ctx.signer.provider!.getNetwork();
  return escrowDomain(network.chainId, await ctx.protocol.escrow.getAddress());
}

export const channelCommands = {
  deposit,
  withdraw,
  "finish-withdraw": finishWithdraw,
  "cancel-withdraw": cancelWithdraw,
  show,
  redeem,
};
