/**
 * Reputation and reward upkeep every node runs for itself (validators also for what they
 * reported), following the contracts' timeline for epoch e:
 * - during e + 2: Reputation.finalizeNode for this node and, on a validator, for every node and
 *   API of its attestation of e;
 * - during e + 3: NodeRewards.commit for this node, with the reward tokens it redeemed in;
 * - from e + 4: NodeRewards.claim of this node's committed, unclaimed epochs, looking back a
 *   fixed number of epochs.
 * Every call is dry-run first (staticCall): whatever the contract refuses (window not open or
 * closed, already finalized or committed, not enough reports, nothing to commit) is skipped, and
 * no window-bound call is started in the last seconds of its window.
 * So that nodes and validators do not all send the same finalization (all but one would revert
 * and pay for nothing), they take turns through the window: a node finalizes itself at once; an
 * API a validator reported is finalized at once by its designated validator (the member of the
 * validator set picked by hash(subject, epoch)), by the others from half the window; a node a
 * validator reported (it normally finalizes itself) by its designated validator from half the
 * window, by the others from three quarters.
 */
import { AbiCoder, keccak256 } from "ethers";
import type { NodeRewards, PaymentEscrow, Reputation } from "../../types/ethers-contracts/index.js";
import type { Logger } from "../log.js";
import type { EpochClock } from "./epoch-clock.js";
import type { RedeemedTokens } from "./redeemed-tokens.js";
import type { SampleStore } from "./sample-store.js";
import { revertOf, type TxCall } from "./tx-call.js";

/** IReputation.SubjectKind. */
const SUBJECT_NODE = 0;
const SUBJECT_API = 1;

export interface RewardUpkeepOptions {
  self: string;
  reputation: Reputation;
  rewards: NodeRewards;
  escrow: PaymentEscrow;
  clock: EpochClock;
  tokens: RedeemedTokens;
  /** The validator's kept attestations (whose subjects it finalizes); undefined on other nodes. */
  attestations: SampleStore | undefined;
  lookbackEpochs: number;
  log: Logger;
}

export class RewardUpkeep {
  private addresses: { reputation: string; rewards: string } | undefined;

  constructor(private readonly opts: RewardUpkeepOptions) {}

  /** The upkeep transactions due now. */
  async due(): Promise<TxCall[]> {
    const { reputation, rewards } = this.opts;
    this.addresses ??= { reputation: await reputation.getAddress(), rewards: await rewards.getAddress() };
    const { epoch: current, elapsed, closing } = await this.opts.clock.now();
    const calls: TxCall[] = [];
    // Finalize and commit windows end with the epoch: nothing is started in its last seconds.
    if (current >= 2 && !closing) {
      calls.push(...(await this.finalizations(current - 2, elapsed / this.opts.clock.length)));
    }
    if (current >= 3 && !closing) calls.push(...(await this.commit(current - 3)));
    if (current >= 4) calls.push(...(await this.claims(current - 4)));
    return calls;
  }

  /** Finalizations of `epoch` due `progress` (0 to 1) into its window: see the turns above. */
  private async finalizations(epoch: number, progress: number): Promise<TxCall[]> {
    const { reputation, self } = this.opts;
    const me = self.toLowerCase();
    const signed = await this.opts.attestations?.loadAttestation(epoch);
    let reported = (signed?.attestation.nodes ?? []).map((r) => r.node.toLowerCase());
    let apis = signed?.attestation.apis.map((r) => r.apiId) ?? [];
    if (progress < 0.75 && reported.length + apis.length > 0) {
      const set = (await reputation.validators()).map((v) => v.toLowerCase());
      const mine = (kind: number, id: bigint) => designated(set, kind, id, epoch) === me;
      reported = progress < 0.5 ? [] : reported.filter((node) => mine(SUBJECT_NODE, BigInt(node)));
      if (progress < 0.5) apis = apis.filter((apiId) => mine(SUBJECT_API, apiId));
    }
    const nodes = new Set([me, ...reported]);
    const calls: TxCall[] = [];
    for (const node of nodes) {
      const revert = await revertOf(() => reputation.finalizeNode.staticCall(node, epoch));
      if (revert !== undefined) {
        this.skipped("finalizeNode", epoch, revert, { node });
        continue;
      }
      calls.push({
        jobId: `finalize-node-${epoch}-${node}`,
        label: "finalizeNode",
        to: this.addresses!.reputation,
        data: reputation.interface.encodeFunctionData("finalizeNode", [node, epoch]),
        epoch,
      });
    }
    for (const apiId of apis) {
      const revert = await revertOf(() => reputation.finalizeApi.staticCall(apiId, epoch));
      if (revert !== undefined) {
        this.skipped("finalizeApi", epoch, revert, { apiId: apiId.toString() });
        continue;
      }
      calls.push({
        jobId: `finalize-api-${epoch}-${apiId}`,
        label: "finalizeApi",
        to: this.addresses!.reputation,
        data: reputation.interface.encodeFunctionData("finalizeApi", [apiId, epoch]),
        epoch,
      });
    }
    return calls;
  }

  private async commit(epoch: number): Promise<TxCall[]> {
    const { rewards, escrow, self } = this.opts;
    // No early exit on an existing commit: one that left out tokens can be raised (AlreadyCommitted otherwise).
    // Reward tokens this node served value in during the epoch, strictly ascending.
    const tokens: string[] = [];
    for (const token of await this.opts.tokens.list()) {
      if ((await rewards.pointsPerUnit(token)) === 0n) continue;
      if ((await escrow.servedValue(token, self, epoch)) === 0n) continue;
      tokens.push(token);
    }
    if (tokens.length === 0) return [];
    tokens.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const revert = await revertOf(() => rewards.commit.staticCall(self, epoch, tokens));
    if (revert !== undefined) {
      this.skipped("commit", epoch, revert, { tokens });
      return [];
    }
    return [
      {
        jobId: `commit-${epoch}`,
        label: "commit",
        to: this.addresses!.rewards,
        data: rewards.interface.encodeFunctionData("commit", [self, epoch, tokens]),
        epoch,
      },
    ];
  }

  /** Claims of `newest` and up to lookbackEpochs - 1 epochs before it. */
  private async claims(newest: number): Promise<TxCall[]> {
    const { rewards, self } = this.opts;
    const calls: TxCall[] = [];
    for (let epoch = newest; epoch >= 0 && epoch > newest - this.opts.lookbackEpochs; epoch--) {
      const [weight, claimed] = await Promise.all([rewards.weightOf(epoch, self), rewards.claimed(epoch, self)]);
      if (weight === 0n || claimed) continue;
      const revert = await revertOf(() => rewards.claim.staticCall(self, epoch));
      if (revert !== undefined) {
        this.skipped("claim", epoch, revert, {});
        continue;
      }
      calls.push({
        jobId: `claim-${epoch}`,
        label: "claim",
        to: this.addresses!.rewards,
        data: rewards.interface.encodeFunctionData("claim", [self, epoch]),
        epoch,
      });
    }
    return calls;
  }

  private skipped(call: string, epoch: number, revert: string, fields: Record<string, unknown>): void {
    this.opts.log.debug({ call, epoch, revert, ...fields }, "upkeep call not due");
  }
}

/**
 * The validator of `set` designated to finalize a subject's epoch first: picked by
 * keccak256(abi.encode(kind, id, epoch)), so every validator computes the same one.
 */
export function designated(set: readonly string[], kind: number, id: bigint, epoch: number): string | undefined {
  if (set.length === 0) return undefined;
  const hash = keccak256(AbiCoder.defaultAbiCoder().encode(["uint8", "uint256", "uint32"], [kind, id, epoch]));
  return set[Number(BigInt(hash) % BigInt(set.length))];
}
