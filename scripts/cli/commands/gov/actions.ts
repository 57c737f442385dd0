import { readFile } from "node:fs/promises";
import {
  Contract,
  formatEther,
  formatUnits,
  getAddress,
  id as textHash,
  Interface,
  isAddress,
  type BaseContract,
  type ParamType,
  type Result,
} from "ethers";
import { z } from "zod";
import { DAOS, type DaoName } from "../../../../deploy/governance.js";
import { managedTargets } from "../../../../deploy/protocol.js";
import { address, amount, shortText, type Options } from "../../args.js";
import { read, type CliContext } from "../../context.js";
import { UsageError } from "../../errors.js";
import { NODE_TYPES } from "../node.js";
import { tokenDecimals } from "../tokens.js";
import { DAO_LABELS, governanceOf } from "./proposals.js";

/** One call a proposal makes from the DAO's timelock; `label` says where it came from. */
export interface Action {
  target: string;
  value: bigint;
  data: string;
  label: string;
}

const ERC20 = new Interface(["function transfer(address to, uint256 amount) returns (bool)"]);
const BPS = 10_000;
const UINT32_MAX = 2 ** 32 - 1;

/** Every contract a proposal may name: the protocol's, and each DAO's governor and timelock. */
export async function knownContracts(ctx: CliContext): Promise<Map<string, BaseContract>> {
  const p = ctx.protocol;
  const named = new Map<string, BaseContract>([
    ["AccessManager", p.accessManager],
    ["MeshToken", p.token],
    ...Object.entries(managedTargets(p)),
  ]);
  if (ctx.governance !== undefined) {
    for (const dao of DAOS) {
      const title = `${dao[0]!.toUpperCase()}${dao.slice(1)}`;
      named.set(`${title}Governor`, ctx.governance[dao].governor);
      named.set(`${title}Timelock`, ctx.governance[dao].timelock);
    }
  }
  return named;
}

async function byAddress(ctx: CliContext): Promise<Map<string, { name: string; contract: BaseContract }>> {
  const result = new Map<string, { name: string; contract: BaseContract }>();
  for (const [name, contract] of await knownContracts(ctx)) {
    result.set((await contract.getAddress()).toLowerCase(), { name, contract });
  }
  return result;
}

function formatValue(param: ParamType, value: unknown): string {
  if (param.isTuple()) {
    const r = value as Result;
    return `{${param.components.map((c, i) => `${c.name || i}: ${formatValue(c, r[i])}`).join(", ")}}`;
  }
  if (param.isArray()) return `[${(value as Result).map((v) => formatValue(param.arrayChildren, v)).join(", ")}]`;
  return String(value);
}

/** "PaymentEscrow.setRevenueSplit(split: {...})" for known contracts; the raw call otherwise. */
export async function describeActions(ctx: CliContext, actions: readonly Omit<Action, "label">[]): Promise<string[]> {
  const known = await byAddress(ctx);
  return actions.map(({ target, value, data }) => {
    const eth = value > 0n ? ` + ${formatEther(value)} ETH` : "";
    const contract = known.get(target.toLowerCase());
    const iface =
      contract?.contract.interface ?? (data.startsWith(ERC20.getFunction("transfer")!.selector) ? ERC20 : undefined);
    const parsed = iface === undefined ? null : safeParse(iface, data, value);
    if (parsed === null) {
      if (data === "0x") return `send ${formatEther(value)} ETH to ${target}`;
      return `${contract?.name ?? target} calldata ${data.slice(0, 10)}... (${(data.length - 2) / 2} bytes)${eth}`;
    }
    const args = parsed.fragment.inputs.map((p, i) => `${p.name || i}: ${formatValue(p, parsed.args[i])}`);
    return `${contract?.name ?? `ERC-20 ${target}`}.${parsed.name}(${args.join(", ")})${eth}`;
  });
}

function safeParse(iface: Interface, data: string, value: bigint) {
  try {
    return iface.parseTransaction({ data, value });
  } catch {
    return null;
  }
}

function parts(value: string, flag: string, pattern: RegExp, example: string): RegExpExecArray {
  const m = pattern.exec(value);
  if (m === null) throw new UsageError(`${flag} takes ${example} (got "${value}")`);
  return m;
}

function whole(value: string, what: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

/** --set-fee <bps>: the escrow's protocol share; the node share stays, providers get the rest. */
async function setFee(ctx: CliContext, value: string): Promise<Action> {
  const escrow = ctx.protocol.escrow;
  const split = await read(() => escrow.revenueSplit());
  const nodeBps = Number(split.nodeBps);
  const fee = whole(value, "--set-fee (basis points; 300 = 3%)", 0, BPS);
  if (fee + nodeBps > BPS) {
    throw new UsageError(
      `--set-fee ${fee} leaves providers nothing: nodes keep ${nodeBps} bps, so at most ${BPS - nodeBps}`,
    );
  }
  if (fee === Number(split.protocolBps))
    throw new UsageError(`the protocol fee already is ${fee} bps: nothing to change`);
  const next = { providerBps: BPS - nodeBps - fee, nodeBps, protocolBps: fee };
  return {
    target: await escrow.getAddress(),
    value: 0n,
    data: escrow.interface.encodeFunctionData("setRevenueSplit", [next]),
    label: "--set-fee",
  };
}

/** --set-min-stake <type>=<MESH>. */
async function setMinStake(ctx: CliContext, value: string): Promise<Action> {
  const [, type, mesh] = parts(
    value,
    "--set-min-stake",
    /^(\w+)=(.+)$/,
    `<${NODE_TYPES.join("|")}>=<MESH>, e.g. edge=2000`,
  );
  const index = NODE_TYPES.indexOf(type as (typeof NODE_TYPES)[number]);
  if (index < 0)
    throw new UsageError(`--set-min-stake: the node type must be one of ${NODE_TYPES.join(", ")} (got "${type}")`);
  const stake = amount(mesh!, 18, "--set-min-stake's MESH amount");
  if (stake === 0n) throw new UsageError("--set-min-stake: the minimum must be greater than zero");
  const staking = ctx.protocol.staking;
  return {
    target: await staking.getAddress(),
    value: 0n,
    data: staking.interface.encodeFunctionData("setMinStake", [index, stake]),
    label: "--set-min-stake",
  };
}

/** --transfer <MESH|ETH|token address>:<to>:<amount>: a treasury spend or grant from the DAO's timelock. */
async function transfer(ctx: CliContext, dao: DaoName, value: string): Promise<Action> {
  const [, tokenArg, toArg, amountArg] = parts(
    value,
    "--transfer",
    /^([^:]+):([^:]+):([^:]+)$/,
    "<MESH|ETH|token address>:<recipient>:<amount>, e.g. MESH:0xabc...:1000",
  );
  const to = address(toArg!, "--transfer's recipient");
  const timelock = await governanceOf(ctx)[dao].timelock.getAddress();
  const treasury = `the ${DAO_LABELS[dao]}'s timelock`;
  if (tokenArg!.toUpperCase() === "ETH") {
    const wei = amount(amountArg!, 18, "--transfer's amount");
    const balance = await ctx.signer.provider!.getBalance(timelock);
    if (balance < wei) throw new UsageError(`${treasury} holds only ${formatEther(balance)} ETH`);
    return { target: to, value: wei, data: "0x", label: "--transfer" };
  }
  const token = tokenArg!.toUpperCase() === "MESH" ? await ctx.protocol.token.getAddress() : tokenArg!;
  if (!isAddress(token))
    throw new UsageError(`--transfer's token must be MESH, ETH or an ERC-20 address (got "${tokenArg}")`);
  const decimals = await tokenDecimals(ctx, getAddress(token), "--transfer's token");
  const units = amount(amountArg!, decimals, "--transfer's amount");
  if (units === 0n) throw new UsageError("--transfer's amount must be greater than zero");
  const erc20 = new Contract(getAddress(token), ["function balanceOf(address) view returns (uint256)"], ctx.signer);
  const balance = (await erc20.getFunction("balanceOf")(timelock)) as bigint;
  if (balance < units) {
    throw new UsageError(`${treasury} holds only ${formatUnits(balance, decimals)} of ${tokenArg}: lower the amount`);
  }
  return {
    target: getAddress(token),
    value: 0n,
    data: ERC20.encodeFunctionData("transfer", [to, units]),
    label: "--transfer",
  };
}

/** --slash <operator>:<MESH>[:<reason>] (Security DAO). */
async function slash(ctx: CliContext, value: string): Promise<Action> {
  const [, op, mesh, reason] = parts(value, "--slash", /^([^:]+):([^:]+)(?::(.+))?$/, "<operator>:<MESH>[:<reason>]");
  const operator = address(op!, "--slash's operator");
  const stake = amount(mesh!, 18, "--slash's MESH amount");
  if (stake === 0n) throw new UsageError("--slash's amount must be greater than zero");
  const staking = ctx.protocol.staking;
  const node = await staking.getNode(operator);
  if (node.stake + node.unbonding === 0n) throw new UsageError(`${operator} has no stake to slash`);
  return {
    target: await staking.getAddress(),
    value: 0n,
    data: staking.interface.encodeFunctionData("slash", [
      operator,
      stake,
      shortText(reason ?? "security-dao", "--slash's reason"),
    ]),
    label: "--slash",
  };
}

/** --rate-limit <tier>:<requests>/<window s>:<burst> (Security DAO). */
async function rateLimit(ctx: CliContext, value: string): Promise<Action> {
  const [, tierArg, requestsArg, windowArg, burstArg] = parts(
    value,
    "--rate-limit",
    /^(\d+):(\d+)\/(\d+)s?:(\d+)$/,
    "<tier>:<requests>/<window seconds>:<burst>, e.g. 1:600/60:100",
  );
  const tier = whole(tierArg!, "--rate-limit's tier", 0, 255);
  const requestsPerWindow = whole(requestsArg!, "--rate-limit's requests", 1, UINT32_MAX);
  const windowSeconds = whole(windowArg!, "--rate-limit's window", 1, UINT32_MAX);
  const burst = whole(burstArg!, "--rate-limit's burst", 0, UINT32_MAX);
  if (burst > requestsPerWindow)
    throw new UsageError(`--rate-limit's burst ${burst} is above its ${requestsPerWindow} requests`);
  const policy = ctx.protocol.rateLimits;
  return {
    target: await policy.getAddress(),
    value: 0n,
    data: policy.interface.encodeFunctionData("setPolicy", [tier, { requestsPerWindow, windowSeconds, burst }]),
    label: "--rate-limit",
  };
}

/** --flag <name>:<on|off>:<rolloutBps> (Developer DAO); the flag id is keccak256 of the name. */
async function flag(ctx: CliContext, value: string): Promise<Action> {
  const [, name, state, rollout] = parts(
    value,
    "--flag",
    /^(.+):(on|off):(\d+)$/,
    "<name>:<on|off>:<rollout bps>, e.g. http3:on:2500",
  );
  const flags = ctx.protocol.flags;
  return {
    target: await flags.getAddress(),
    value: 0n,
    data: flags.interface.encodeFunctionData("setFlag", [
      textHash(name!),
      state === "on",
      whole(rollout!, "--flag's rollout (basis points)", 0, BPS),
    ]),
    label: "--flag",
  };
}

export const SHORTHANDS = ["set-fee", "set-min-stake", "transfer", "slash", "rate-limit", "flag"] as const;

const uint = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform((v) => BigInt(v));
const fileSchema = z.object({
  actions: z
    .array(
      z.union([
        z.strictObject({
          contract: z.string(),
          function: z.string(),
          args: z.array(z.unknown()).default([]),
          value: uint.default(0n),
        }),
        z.strictObject({
          target: z.string().refine((v) => isAddress(v), "expected a 0x-prefixed 20-byte address"),
          value: uint.default(0n),
          calldata: z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "expected 0x-prefixed hex bytes"),
        }),
      ]),
    )
    .min(1, "a proposal needs at least one action"),
});

const FILE_FORMAT =
  '{"actions":[{"contract":"PaymentEscrow","function":"setRevenueSplit","args":[...]}, {"target":"0x...","value":"0","calldata":"0x..."}]}';

/** --file proposal.json: calls by contract name and function, or raw target/value/calldata. */
async function fromFile(ctx: CliContext, file: string): Promise<Action[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UsageError(
      `cannot read JSON from --file "${file}" (${(error as Error).message}): expected ${FILE_FORMAT}`,
    );
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(`--file "${file}" is malformed: ${z.prettifyError(parsed.error)}\nexpected ${FILE_FORMAT}`);
  const contracts = await knownContracts(ctx);
  const actions: Action[] = [];
  for (const [i, a] of parsed.data.actions.entries()) {
    const label = `action #${i + 1}`;
    if ("target" in a) {
      actions.push({ target: getAddress(a.target), value: a.value, data: a.calldata.toLowerCase(), label });
      continue;
    }
    const contract = contracts.get(a.contract);
    if (contract === undefined) {
      throw new UsageError(
        `${label}: unknown contract "${a.contract}": use one of ${[...contracts.keys()].join(", ")}, or a raw target`,
      );
    }
    let fragment;
    try {
      fragment = contract.interface.getFunction(a.function);
    } catch {
      throw new UsageError(
        `${label}: ${a.contract}.${a.function} is overloaded: give the full signature, e.g. "name(uint256)"`,
      );
    }
    if (fragment === null || fragment.constant) {
      const writable = contract.interface.fragments
        .filter((f) => f.type === "function" && !(f as unknown as { constant: boolean }).constant)
        .map((f) => (f as unknown as { name: string }).name);
      throw new UsageError(
        `${label}: ${a.contract} has no function "${a.function}" to call: use one of ${writable.join(", ")}`,
      );
    }
    let data: string;
    try {
      data = contract.interface.encodeFunctionData(fragment, a.args);
    } catch (error) {
      const reason = (error as { shortMessage?: string }).shortMessage ?? (error as Error).message;
      throw new UsageError(`${label}: the args do not fit ${a.contract}.${fragment.format("sighash")}: ${reason}`);
    }
    actions.push({ target: await contract.getAddress(), value: a.value, data, label });
  }
  return actions;
}

/** The proposal's actions, from --file or the shorthand flags. */
export async function actionsFrom(ctx: CliContext, dao: DaoName, opts: Options): Promise<Action[]> {
  const given = SHORTHANDS.filter((s) => opts[s] !== undefined);
  if (opts.file !== undefined && given.length > 0) {
    throw new UsageError(`pass either --file or shorthand flags (--${given.join(", --")}), not both`);
  }
  if (opts.file !== undefined) return fromFile(ctx, opts.file);
  if (given.length === 0) {
    throw new UsageError(
      `missing the actions: pass --file proposal.json or a shorthand: --${SHORTHANDS.join(", --")} (see "meshgate --help")`,
    );
  }
  const actions: Action[] = [];
  for (const s of given) {
    const value = opts[s]!;
    if (s === "set-fee") actions.push(await setFee(ctx, value));
    else if (s === "set-min-stake") actions.push(await setMinStake(ctx, value));
    else if (s === "transfer") actions.push(await transfer(ctx, dao, value));
    else if (s === "slash") actions.push(await slash(ctx, value));
    else if (s === "rate-limit") actions.push(await rateLimit(ctx, value));
    else actions.push(await flag(ctx, value));
  }
  return actions;
}

/**
 * Refuses actions on protocol contracts that the DAO's timelock may not call (they would pass
 * the vote and then revert at execution), naming the DAO that may.
 */
export async function checkPowers(ctx: CliContext, dao: DaoName, actions: readonly Action[]): Promise<void> {
  const governance = governanceOf(ctx);
  const managed = new Map<string, string>();
  for (const [name, contract] of Object.entries(managedTargets(ctx.protocol))) {
    managed.set((await contract.getAddress()).toLowerCase(), name);
  }
  const manager = ctx.protocol.accessManager;
  for (const action of actions) {
    if (!managed.has(action.target.toLowerCase()) || action.data.length < 10) continue;
    const selector = action.data.slice(0, 10);
    const can = async (name: DaoName) =>
      (await manager.canCall(await governance[name].timelock.getAddress(), action.target, selector)).immediate;
    if (await can(dao)) continue;
    const [call] = await describeActions(ctx, [action]);
    const others: DaoName[] = [];
    for (const other of DAOS) if (other !== dao && (await can(other))) others.push(other);
    const fix =
      others[0] !== undefined
        ? `: propose it to the ${DAO_LABELS[others[0]]} (--dao ${others[0]})`
        : " (see docs/roles.md)";
    throw new UsageError(`${action.label} calls ${call}, which the ${DAO_LABELS[dao]} may not call${fix}`);
  }
}
