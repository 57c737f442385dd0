import { formatUnits } from "ethers";
import { address, apiId, required, type Options } from "../args.js";
import { send, type CliContext } from "../context.js";
import { tokenDecimals } from "./tokens.js";

async function show(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const decimals = await tokenDecimals(ctx, token);
  const who = opts.node !== undefined ? address(opts.node, "--node") : await ctx.signer.getAddress();
  ctx.out(`Node ${who}: ${formatUnits(await ctx.protocol.escrow.nodeEarnings(token, who), decimals)} claimable`);
  if (opts.api !== undefined) {
    const e = await ctx.protocol.escrow.apiEarnings(token, apiId(opts.api));
    ctx.out(
      `API ${opts.api}: provider ${formatUnits(e.provider, decimals)}, protocol ${formatUnits(e.protocol, decimals)} claimable`,
    );
  }
}

async function claimNode(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const receipt = await send(() => ctx.protocol.escrow.connect(ctx.signer).claimNodeEarnings(token));
  ctx.out(`Claimed node earnings in tx ${receipt.hash}`);
}

async function claimProvider(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const token = address(required(opts, "token", "<payment token address>"), "--token");
  const id = apiId(required(opts, "api", "<API id>"));
  const receipt = await send(() => ctx.protocol.escrow.connect(ctx.signer).claimProviderEarnings(id, token));
  ctx.out(`Claimed API ${id}'s provider earnings in tx ${receipt.hash}`);
}

export const earningsCommands = { show, "claim-node": claimNode, "claim-provider": claimProvider };
