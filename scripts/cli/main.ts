/**
 * meshgate: the command line for providers, node operators and token holders (DAO votes).
 *   npm run cli -- api show 1
 *   npm run cli -- node register --type edge --region eu-west --url https://n1.example --capacity 100 --stake 1000
 * Run without arguments for the full usage.
 */
import { attachProtocol } from "../../deploy/protocol.js";
import { connect, loadEnv } from "./env.js";
import { RevertError, UsageError } from "./errors.js";
import { attachGovernance } from "./governance.js";
import { parseCommand, USAGE } from "./run.js";

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const { command, args, opts } = parseCommand(argv);
  const { signer, deployment } = await connect(loadEnv(), opts.account);
  try {
    const ctx = {
      protocol: attachProtocol(deployment, signer),
      governance: attachGovernance(deployment, signer),
      startBlock: deployment.startBlock,
      signer,
      out: (l: string) => console.log(l),
    };
    await command(ctx, args, opts);
  } finally {
    signer.provider?.destroy();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof RevertError) {
      console.error(`error: the transaction was rejected: ${error.message}`);
      process.exit(1);
    }
    console.error(error);
    process.exit(1);
  },
);
