import { Wallet } from "ethers";
import { signSignerAuthorization } from "../../../sdk/vouchers.js";
import { address, required, type Options } from "../args.js";
import { send, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { domainOf } from "./channel.js";

function hotKey(value: string): Wallet {
  try {
    return new Wallet(value);
  } catch {
    throw new UsageError("--signer-key must be a private key (0x + 64 hex digits)");
  }
}

/** Authorizes a hot key to sign vouchers for the caller; `--signer-key new` makes a fresh one. */
async function authorize(ctx: CliContext, _args: string[], opts: Options): Promise<void> {
  const keyArg = required(opts, "signer-key", "<0x private key of the app's hot key, or 'new'>");
  const hot = keyArg === "new" ? Wallet.createRandom() : hotKey(keyArg);
  const payer = await ctx.signer.getAddress();
  const block = await ctx.signer.provider!.getBlock("latest");
  const deadline = BigInt((block?.timestamp ?? Math.floor(Date.now() / 1000)) + 600);
  const proof = await signSignerAuthorization(hot, await domainOf(ctx), payer, deadline);
  const receipt = await send(() =>
    ctx.protocol.escrow.connect(ctx.signer).authorizeSigner(hot.address, deadline, proof),
  );
  ctx.out(`Authorized signer ${hot.address} for ${payer} in tx ${receipt.hash}`);
  if (keyArg === "new") ctx.out(`  its private key (keep it secret): ${hot.privateKey}`);
}

async function revoke(ctx: CliContext, args: string[]): Promise<void> {
  if (args[0] === undefined) throw new UsageError('missing the signer address: "signer revoke <address>"');
  const signer = address(args[0], "the signer");
  const receipt = await send(() => ctx.protocol.escrow.connect(ctx.signer).revokeSigner(signer));
  const info = await ctx.protocol.escrow.signers(signer);
  ctx.out(
    `Revoking ${signer}: effective ${new Date(Number(info.revokedAt) * 1000).toISOString()}, in tx ${receipt.hash}`,
  );
}

export const signerCommands = { authorize, revoke };
