import { formatEther, id as textHash } from "ethers";
import { DAOS, type Dao, type DaoName, type Governance } from "../../../../deploy/governance.js";
import type { CliContext } from "../../context.js";
import { UsageError } from "../../errors.js";

/** OpenZeppelin Governor's ProposalState, in enum order. */
export const STATES = [
  "Pending",
  "Active",
  "Canceled",
  "Defeated",
  "Succeeded",
  "Queued",
  "Expired",
  "Executed",
] as const;
export type StateName = (typeof STATES)[number];

export const DAO_LABELS: Record<DaoName, string> = {
  protocol: "Protocol DAO",
  security: "Security DAO",
  developer: "Developer DAO",
};

export const date = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString();

/** The DAOs, or the error naming how to get them. */
export function governanceOf(ctx: CliContext): Governance {
  if (ctx.governance === undefined) {
    throw new UsageError("this deployment has no DAOs: deploy without MESHGATE_SKIP_HANDOVER");
  }
  return ctx.governance;
}

export function daoName(value: string | undefined, example = "protocol"): DaoName {
  if (value === undefined) throw new UsageError(`missing --dao: pass --dao ${example} (one of ${DAOS.join(", ")})`);
  if (!(DAOS as readonly string[]).includes(value)) {
    throw new UsageError(`unknown DAO "${value}": use --dao ${DAOS.join(", --dao ")}`);
  }
  return value as DaoName;
}

/** The checkpointed votes (ERC-5805) a DAO counts. */
export interface VotesSource {
  getVotes(account: string): Promise<bigint>;
  delegates(account: string): Promise<string>;
}

/** Each DAO's source of votes: MESH, staked MESH, developer credentials. */
export function votesSource(ctx: CliContext, dao: DaoName): VotesSource {
  const p = ctx.protocol;
  const source = { protocol: p.token, security: p.staking, developer: p.credential }[dao];
  return { getVotes: (a) => source.getVotes(a), delegates: (a) => source.delegates(a) };
}

/** Votes in a DAO's own unit: MESH amounts, or a number of credentials. */
export function formatVotes(dao: DaoName, value: bigint): string {
  if (dao === "developer") return `${value} ${value === 1n ? "vote" : "votes"}`;
  return `${formatEther(value)} ${dao === "security" ? "staked MESH" : "MESH"}`;
}

export function proposalId(value: string | undefined, usage: string): bigint {
  if (value === undefined) throw new UsageError(`missing the proposal id: "${usage}" ("gov list" prints the ids)`);
  if (!/^(\d+|0x[0-9a-fA-F]{1,64})$/.test(value) || BigInt(value) === 0n) {
    throw new UsageError(
      `the proposal id must be a whole number as printed by "gov propose" or "gov list" (got "${value}")`,
    );
  }
  return BigInt(value);
}

/** Finds the DAO holding proposal `id`: the one named by --dao, else whichever has it. */
export async function proposalDao(ctx: CliContext, id: bigint, dao: string | undefined): Promise<DaoName> {
  const governance = governanceOf(ctx);
  const exists = async (name: DaoName) => (await governance[name].governor.proposalSnapshot(id)) !== 0n;
  if (dao !== undefined) {
    const name = daoName(dao);
    if (!(await exists(name))) {
      throw new UsageError(
        `proposal ${id} does not exist in the ${DAO_LABELS[name]}: list its proposals with "gov list --dao ${name}"`,
      );
    }
    return name;
  }
  const found: DaoName[] = [];
  for (const name of DAOS) if (await exists(name)) found.push(name);
  if (found.length === 0) throw new UsageError(`no DAO has a proposal ${id}: list the proposals with "gov list"`);
  if (found.length > 1) throw new UsageError(`proposal ${id} exists in ${found.join(" and ")}: pass --dao`);
  return found[0]!;
}

/** A proposal as its ProposalCreated event recorded it (the governor keeps only its hash). */
export interface Proposal {
  id: bigint;
  proposer: string;
  targets: string[];
  values: bigint[];
  calldatas: string[];
  description: string;
  descriptionHash: string;
  blockNumber: number;
}

/** Every proposal of a DAO, oldest first, from the governor's events since the deployment. */
export async function proposalsOf(ctx: CliContext, dao: Dao): Promise<Proposal[]> {
  const events = await dao.governor.queryFilter(dao.governor.filters.ProposalCreated(), ctx.startBlock ?? 0);
  return events.map((e) => ({
    id: e.args.proposalId,
    proposer: e.args.proposer,
    targets: [...e.args.targets],
    // By position: `values` on an ethers Result is Array.prototype.values.
    values: [...(e.args[3] as bigint[])],
    calldatas: [...e.args.calldatas],
    description: e.args.description,
    descriptionHash: textHash(e.args.description),
    blockNumber: e.blockNumber,
  }));
}

export async function findProposal(ctx: CliContext, name: DaoName, id: bigint): Promise<Proposal> {
  const proposal = (await proposalsOf(ctx, governanceOf(ctx)[name])).find((p) => p.id === id);
  if (proposal === undefined) {
    throw new UsageError(
      `proposal ${id} has no ProposalCreated event since block ${ctx.startBlock ?? 0}: check the deployment file's startBlock`,
    );
  }
  return proposal;
}

/**
 * Reads at the pending block: what the next transaction will see. At the latest block a proposal
 * whose voting opens (or ends) in the next second still reads Pending (or Active).
 */
export const NEXT_BLOCK = { blockTag: "pending" } as const;

export async function stateOf(dao: Dao, id: bigint): Promise<StateName> {
  return STATES[Number(await dao.governor.state(id, NEXT_BLOCK))] ?? "Pending";
}

/** The governor's clock (a timestamp) at the next block. */
export async function nextTimepoint(dao: Dao): Promise<bigint> {
  return dao.governor.clock(NEXT_BLOCK);
}

/** Why proposal `id` in `state` does not allow `action`, and when it will. */
export async function wrongState(
  dao: Dao,
  id: bigint,
  state: StateName,
  action: "vote on" | "queue" | "execute",
): Promise<UsageError> {
  const [snapshot, deadline, eta] = await Promise.all([
    dao.governor.proposalSnapshot(id),
    dao.governor.proposalDeadline(id),
    dao.governor.proposalEta(id),
  ]);
  const verb = action === "vote on" ? "vote" : action === "queue" ? "queue it" : "queue and execute it";
  const why: Record<StateName, string> = {
    Pending: `voting starts at ${date(snapshot)}; ${verb} after that`,
    Active: `voting ends at ${date(deadline)}; ${verb} after that`,
    Canceled: `it was canceled and cannot be ${action === "vote on" ? "voted on" : `${action}d`}`,
    Defeated: `the vote ended at ${date(deadline)} without a majority For and quorum; propose it again`,
    Succeeded:
      action === "execute" ? 'it passed but is not queued: "gov queue" it first' : `voting ended at ${date(deadline)}`,
    Queued:
      action === "execute"
        ? `executable from ${date(eta)}; execute it after that`
        : `voting ended and it waits in the timelock: execute it from ${date(eta)}`,
    Expired: "it was not executed in time; propose it again",
    Executed: "it already ran",
  };
  if (state === "Succeeded" && action === "vote on")
    return new UsageError(`proposal ${id} is Succeeded: ${why.Succeeded}`);
  return new UsageError(`proposal ${id} is ${state}: ${why[state]}`);
}
