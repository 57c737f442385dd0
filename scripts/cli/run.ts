import { parseArgs } from "node:util";
import { apiCommands } from "./commands/api.js";
import { channelCommands } from "./commands/channel.js";
import { devCommands } from "./commands/dev.js";
import { discountCommands } from "./commands/discount.js";
import { earningsCommands } from "./commands/earnings.js";
import { govCommands } from "./commands/gov.js";
import { nodeCommands } from "./commands/node.js";
import { reputationCommands } from "./commands/reputation.js";
import { rewardsCommands } from "./commands/rewards.js";
import { signerCommands } from "./commands/signer.js";
import { subscriptionCommands } from "./commands/subscription.js";
import { voucherCommands } from "./commands/voucher.js";
import type { CliContext } from "./context.js";
import { UsageError } from "./errors.js";
import type { Options } from "./args.js";

type Command = (ctx: CliContext, args: string[], opts: Options) => Promise<void>;

const GROUPS: Record<string, Record<string, Command>> = {
  api: apiCommands,
  node: nodeCommands,
  channel: channelCommands,
  signer: signerCommands,
  voucher: voucherCommands,
  earnings: earningsCommands,
  subscription: subscriptionCommands,
  discount: discountCommands,
  reputation: reputationCommands,
  rewards: rewardsCommands,
  gov: govCommands,
  dev: devCommands,
};

export const USAGE = `meshgate <group> <command> [args] [--options]

  api register --metadata-uri <uri> (--openapi <file> | --metadata-hash <0x..>) --upstream "<url> [<url> ...]"
               --category <name> [--tags a,b] (--token <erc20> | --usd)
               [--per-call <amount>] [--per-period <amount> --period <30d>] [--staker-discount]
  api price <id> [--token <erc20> | --usd] [--per-call <amount>] [--per-period <amount>] [--period <30d>]
               [--drop call|subscription] [--staker-discount | --no-staker-discount]
  api pause <id> | api resume <id> | api retire <id> | api show <id>
  node register --type edge|mobile|cloud|validator --region <code> --url <url> --capacity <rps> --stake <MESH>
  node update [--region <code>] [--url <url>] [--capacity <rps>]
  node topup <MESH> | node unstake <MESH> | node withdraw | node show [operator]
  channel deposit|withdraw --node <addr> --api <id> --token <erc20> --amount <x>   (deposit also tops up)
  channel finish-withdraw|cancel-withdraw|show --node <addr> --api <id> --token <erc20> [--payer <addr>]
  channel redeem <vouchers.json>            (one signed voucher or an array; batches per node and token)
  signer authorize --signer-key <0x key | new> | signer revoke <address>
  voucher sign --node <addr> --api <id> --token <erc20> --cumulative <x> [--signer-key <0x key>] [--out <file>]
  voucher call <apiId> <path> --token <erc20> [--relayer <url>] [--signer-key <0x key>]
                                            (one paid call through a relayer; default http://127.0.0.1:8787)
  earnings show --token <erc20> [--node <addr>] [--api <id>]
  earnings claim-node --token <erc20> | earnings claim-provider --api <id> --token <erc20>
  subscription buy --api <id> --token <erc20> --periods <n> [--max-price <x>] | subscription cancel --api <id>
  subscription deposit|withdraw --token <erc20> --amount <x>   (prepaid balance for renewals)
  subscription show --api <id> [--payer <addr>] | subscription renew <subscription id>
  discount stake <MESH> | discount unstake <MESH> | discount withdraw | discount show [account]
  reputation validator join|leave|list      (join: an active validator node; list: members and stakes)
  reputation rate --node <addr> --api <id> --token <erc20> --node-stars <1-5> --api-stars <1-5>
                                            (rates a channel you paid through, weighted by its spend)
  reputation show node <addr> | reputation show api <id>
  reputation finalize (--node <addr> | --api <id>) --epoch <n>   (during epoch n + 2)
  reputation report-slash <node>            (after the slashing policy's run of low epochs)
  rewards status [--epoch <n>] [--node <addr>]   (default: the epoch in its commit window; your node)
  rewards commit --epoch <n> --tokens <erc20,erc20> [--node <addr>]   (during epoch n + 3)
  rewards claim --epoch <n> [--node <addr>]  (from epoch n + 4) | rewards fund <MESH>
  gov delegate [--to <address>] [--dao protocol|security]   (developer credentials are self-delegated)
  gov propose --dao protocol|security|developer --description "<text>" with --file <proposal.json> or shorthands:
               --set-fee <bps> | --set-min-stake <type>=<MESH> | --transfer <MESH|ETH|token>:<to>:<amount>
               | --slash <operator>:<MESH>[:<reason>] | --rate-limit <tier>:<requests>/<window s>:<burst>
               | --flag <name>:<on|off>:<rollout bps>
               proposal.json: {"actions":[{"contract":"PaymentEscrow","function":"setRevenueSplit","args":[...]},
                               {"target":"0x..","value":"0","calldata":"0x.."}]}
  gov vote <proposal id> --support for|against|abstain [--reason "<text>"] [--dao <name>]
  gov queue|execute|show <proposal id> [--dao <name>] | gov list [--dao <name>]
  dev advance <seconds>                     (local chain only: skips voting delays and timelocks)

Environment: MESHGATE_RPC_URL (default http://127.0.0.1:8545), MESHGATE_PRIVATE_KEY or --account <n>
(a local dev account; chain 31337 only), MESHGATE_DEPLOYMENT (default deployments/localhost.json).`;

const OPTION_NAMES = [
  "metadata-uri",
  "metadata-hash",
  "openapi",
  "upstream",
  "relayer",
  "category",
  "tags",
  "token",
  "per-call",
  "per-period",
  "period",
  "drop",
  "type",
  "region",
  "url",
  "capacity",
  "stake",
  "account",
  "node",
  "api",
  "amount",
  "payer",
  "signer-key",
  "cumulative",
  "out",
  "periods",
  "max-price",
  "dao",
  "to",
  "description",
  "file",
  "set-fee",
  "set-min-stake",
  "transfer",
  "slash",
  "rate-limit",
  "flag",
  "support",
  "reason",
  "node-stars",
  "api-stars",
  "epoch",
  "tokens",
] as const;
const FLAG_NAMES = ["usd", "staker-discount", "no-staker-discount", "help"] as const;

export interface ParsedCommand {
  command: Command;
  args: string[];
  opts: Options;
}

/** Parses argv into a command; unknown groups, commands and options name the fix. */
export function parseCommand(argv: string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(OPTION_NAMES.map((n) => [n, { type: "string" as const }])),
        ...Object.fromEntries(FLAG_NAMES.map((n) => [n, { type: "boolean" as const }])),
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]}\n\n${USAGE}`);
  }
  const [groupName, commandName, ...args] = parsed.positionals;
  const group = groupName === undefined ? undefined : GROUPS[groupName];
  if (group === undefined)
    throw new UsageError(
      `unknown group "${groupName ?? ""}": use one of ${Object.keys(GROUPS).join(", ")}\n\n${USAGE}`,
    );
  const command = commandName === undefined ? undefined : group[commandName];
  if (command === undefined) {
    throw new UsageError(
      `unknown command "${groupName} ${commandName ?? ""}": use one of ${Object.keys(group).join(", ")}\n\n${USAGE}`,
    );
  }
  const opts = Object.fromEntries(
    Object.entries(parsed.values).map(([k, v]) => [k, v === undefined ? undefined : String(v)]),
  );
  return { command, args, opts };
}

/** Runs one CLI invocation against `ctx`. */
export async function runCli(argv: string[], ctx: CliContext): Promise<void> {
  const { command, args, opts } = parseCommand(argv);
  await command(ctx, args, opts);
}
