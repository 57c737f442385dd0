import { Contract, formatUnits } from "ethers";
import { send, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";

const ERC20_ABI = [
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
];

/** The decimals of an ERC-20, or a usage error naming the fix. */
export async function tokenDecimals(ctx: CliContext, token: string, what = "--token"): Promise<number> {
  const erc20 = new Contract(token, ERC20_ABI, ctx.signer);
  try {
    return Number(await erc20.getFunction("decimals")());
  } catch {
    throw new UsageError(`${what} ${token} has no decimals(): pass the address of an ERC-20`);
  }
}

/** Raises `spender`'s allowance of `token` to `needed` when it is short. */
export async function ensureAllowance(ctx: CliContext, token: string, spender: string, needed: bigint): Promise<void> {
  const erc20 = new Contract(token, ERC20_ABI, ctx.signer);
  const owner = await ctx.signer.getAddress();
  const allowance = (await erc20.getFunction("allowance")(owner, spender)) as bigint;
  if (allowance >= needed) return;
  const receipt = await send(() => erc20.getFunction("approve")(spender, needed));
  const decimals = await tokenDecimals(ctx, token);
  ctx.out(`Approved ${formatUnits(needed, decimals)} of ${token} for ${spender} in tx ${receipt.hash}`);
}
