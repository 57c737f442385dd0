import { writeFile } from "node:fs/promises";
import { Wallet } from "ethers";
import { signVoucher, type Voucher } from "../../../sdk/vouchers.js";
import { address, amount, apiId, required, type Options } from "../args.js";
import type { CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { domainOf } from "./channel.js";
import { tokenDecimals } from "./tokens.js";

/**
 * Signs a voucher for the cumulative amount owed on a channel, with the payer's hot key
 * (--signer-key) or the acting account. Prints it as JSON, or writes it to --out.
 */
async function sign(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const decimals = await tokenDecimals(ctx, token);
  let signer: Wallet | CliContext["signer"] = ctx.signer;
  if (opts["signer-key"] !== undefined) {
    try {
      signer = new Wallet(opts["signer-key"]);
    } catch {
      throw new UsageError("--signer-key must be a private key (0x + 64 hex digits)");
    }
  }
  const voucher: Voucher = {
    payer: opts.payer !== undefined ? address(opts.payer, "--payer") : await ctx.signer.getAddress(),
    node: address(required(opts, "node", "<node operator address>"), "--node"),
    apiId: apiId(required(opts, "api", "<API id>")),
    token,
    cumulativeAmount: amount(required(opts, "cumulative", "<total owed so far, e.g. 0.25>"), decimals, "--cumulative"),
  };
  const signature = await signVoucher(signer, await domainOf(ctx), voucher);
  const json = JSON.stringify(
    {
      voucher: { ...voucher, apiId: voucher.apiId.toString(), cumulativeAmount: voucher.cumulativeAmount.toString() },
      signature,
    },
    null,
    2,
  );
  if (opts.out !== undefined) {
    await writeFile(opts.out, `${json}\n`);
    ctx.out(`Signed voucher written to ${opts.out}`);
  } else {
    ctx.out(json);
  }
}

export const voucherCommands = { sign };
