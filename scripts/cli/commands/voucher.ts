import { writeFile } from "node:fs/promises";
import { Wallet } from "ethers";
import { PaidClient } from "../../../sdk/client.js";
import { signVoucher, type Voucher } from "../../../sdk/vouchers.js";
import { address, amount, apiId, required, type Options } from "../args.js";
import { read, type CliContext } from "../context.js";
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
  if (opts["signer-key"] !== undefined) signer = hotKey(opts["signer-key"]);
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

/**
 * Makes one paid call through a relayer: signs a voucher for the channel's latest accepted
 * amount plus the API's current price and prints the answer.
 */
async function call(ctx: CliContext, args: string[], opts: Options): Promise<void> {
  const [id, path = "/"] = args;
  if (id === undefined) throw new UsageError("usage: voucher call <apiId> <path> --token <erc20> [--relayer <url>]");
  const api = apiId(id);
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const relayerUrl = opts.relayer ?? process.env.MESHGATE_RELAYER_URL ?? "http://127.0.0.1:8787";
  const payer = await ctx.signer.getAddress();
  let signer: Wallet | CliContext["signer"] = ctx.signer;
  if (opts["signer-key"] !== undefined) signer = hotKey(opts["signer-key"]);
  const price = await read(() => ctx.protocol.quoter.quoteCall(api, token, payer));
  if (price === 0n) throw new UsageError(`API ${api} does not offer pay-per-call`);
  const client = new PaidClient({ relayerUrl, signer, payer, apiId: api, token, pricePerCall: price });
  let res: Response;
  try {
    res = await client.call(path);
  } catch (error) {
    throw new UsageError(
      `cannot reach the relayer at ${relayerUrl} (${(error as Error).message}): start it (npm start) or pass --relayer`,
    );
  }
  ctx.out(`HTTP ${res.status}  paid ${price} (cumulative ${res.headers.get("meshgate-cumulative") ?? "unchanged"})`);
  ctx.out(await res.text());
}

function hotKey(key: string): Wallet {
  try {
    return new Wallet(key);
  } catch {
    throw new UsageError("--signer-key must be a private key (0x + 64 hex digits)");
  }
}

export const voucherCommands = { sign, call };
