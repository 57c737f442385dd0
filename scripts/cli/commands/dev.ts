import type { Provider } from "ethers";
import { duration } from "../args.js";
import type { CliContext } from "../context.js";
import { LOCAL_CHAIN_ID } from "../env.js";
import { UsageError } from "../errors.js";

type RpcProvider = Provider & { send(method: string, params: unknown[]): Promise<unknown> };

/** Skips chain time on a local chain (evm_increaseTime + evm_mine): votes and timelocks in minutes. */
async function advance(ctx: CliContext, args: string[]): Promise<void> {
  if (args[0] === undefined) throw new UsageError('missing the seconds: "dev advance <seconds>", e.g. dev advance 60');
  const seconds = duration(args[0], "the time to advance");
  if (seconds <= 0) throw new UsageError(`the time to advance must be more than zero (got "${args[0]}")`);
  const provider = ctx.signer.provider as RpcProvider | null;
  const chainId = provider === null ? undefined : Number((await provider.getNetwork()).chainId);
  if (provider === null || chainId !== LOCAL_CHAIN_ID || typeof provider.send !== "function") {
    throw new UsageError(
      `dev advance only works on a local chain (chain ${LOCAL_CHAIN_ID}, e.g. "npm start"); this is chain ${chainId ?? "unknown"}: wait for real time instead`,
    );
  }
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
  const block = await provider.getBlock("latest");
  ctx.out(
    `Advanced the chain by ${seconds} s: block ${block?.number} at ${new Date((block?.timestamp ?? 0) * 1000).toISOString()}`,
  );
}

export const devCommands = { advance };
