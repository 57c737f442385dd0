import type { Signer } from "ethers";
import type { Protocol } from "../../../deploy/protocol.js";
import type { CliContext } from "../../../scripts/cli/context.js";
import type { RevertError } from "../../../scripts/cli/errors.js";
import { runCli } from "../../../scripts/cli/run.js";

/**
 * Runs the CLI in-process as `signer` against `protocol` (and `extra`: the DAOs); returns what it
 * printed. "Quoted args" stay whole.
 */
export async function cli(
  protocol: Protocol,
  signer: Signer,
  line: string,
  extra: Pick<CliContext, "governance" | "startBlock"> = {},
): Promise<string[]> {
  const out: string[] = [];
  const argv = line.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ""));
  await runCli(argv, { protocol, signer, out: (l) => out.push(l), ...extra });
  return out;
}

/** The error a command fails with (a UsageError, a RevertError, ...); throws if it succeeds. */
export async function fails(promise: Promise<unknown>): Promise<RevertError> {
  try {
    await promise;
  } catch (error) {
    return error as RevertError;
  }
  throw new Error("expected the command to fail");
}
