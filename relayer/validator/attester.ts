/**
 * The validator's attestation of the epoch that just ended: built once from the sample store,
 * signed (EIP-712), kept in Redis, and handed to the transaction queue while the contract would
 * take it. Idempotent: nothing is built or sent once `hasAttested(epoch, validator)` is true on
 * chain, and a restart re-sends the attestation kept for the epoch rather than a new one. A
 * validator outside the validator set first joins it.
 */
import type { Signer, TypedDataDomain } from "ethers";
import type { Reputation } from "../../types/ethers-contracts/index.js";
import type { Logger } from "../log.js";
import type { RelayerMetrics } from "../metrics.js";
import { signAttestation } from "./attestation.js";
import type { EpochClock } from "./epoch-clock.js";
import { buildAttestation } from "./qos.js";
import type { SampleStore, SignedAttestation } from "./sample-store.js";
import { revertOf, type TxCall } from "./tx-call.js";

export interface AttesterOptions {
  self: string;
  signer: Signer;
  reputation: Reputation;
  domain: TypedDataDomain;
  store: SampleStore;
  clock: EpochClock;
  /** Reported as p50/p99 of a subject no probe got an answer from (the probe timeout). */
  noAnswerMicros: number;
  metrics: RelayerMetrics;
  log: Logger;
}

export class Attester {
  private to = "";
  private logged = "";

  constructor(private readonly opts: AttesterOptions) {}

  /** The transactions due now: joining the validator set, or the last epoch's attestation. */
  async due(): Promise<TxCall[]> {
    const { reputation, self, log } = this.opts;
    this.to ||= await reputation.getAddress();
    if (!(await reputation.isValidator(self))) {
      const revert = await revertOf(() => reputation.joinValidators.staticCall());
      if (revert !== undefined) {
        this.once("warn", `join:${revert}`, { revert }, "cannot join the validator set; not attesting");
        return [];
      }
      const data = reputation.interface.encodeFunctionData("joinValidators");
      return [{ jobId: "join-validators", label: "joinValidators", to: this.to, data }];
    }
    const { epoch: current, closing } = await this.opts.clock.now();
    if (current === 0 || closing) return [];
    const epoch = current - 1;
    if (await reputation.hasAttested(epoch, self)) {
      this.opts.metrics.lastAttestedEpoch.set(epoch);
      return [];
    }

    const signed = (await this.opts.store.loadAttestation(epoch)) ?? (await this.sign(epoch));
    if (!signed) {
      this.once("info", `empty:${epoch}`, { epoch }, "nothing measured in the epoch; no attestation");
      return [];
    }
    const revert = await revertOf(() => reputation.attest.staticCall(signed.attestation, signed.signature));
    if (revert !== undefined) {
      this.once("warn", `attest:${epoch}:${revert}`, { epoch, revert }, "attestation would revert; not sent");
      return [];
    }
    log.debug(
      { epoch, nodes: signed.attestation.nodes.length, apis: signed.attestation.apis.length },
      "attestation due",
    );
    const data = reputation.interface.encodeFunctionData("attest", [signed.attestation, signed.signature]);
    return [{ jobId: `attest-${epoch}`, label: "attest", to: this.to, data, epoch }];
  }

  /** Builds and signs the attestation of `epoch`, and keeps it; undefined when nothing was measured. */
  private async sign(epoch: number): Promise<SignedAttestation | undefined> {
    const stats = await this.opts.store.read(epoch);
    const attestation = buildAttestation(epoch, stats, this.opts.self, this.opts.noAnswerMicros);
    if (!attestation) return undefined;
    const signature = await signAttestation(this.opts.signer, this.opts.domain, attestation);
    const signed = { attestation, signature };
    await this.opts.store.saveAttestation(signed);
    this.opts.log.info(
      { epoch, nodes: attestation.nodes.length, apis: attestation.apis.length },
      "attestation built and signed",
    );
    return signed;
  }

  /** Logs a condition once, not at every scan while it lasts. */
  private once(level: "info" | "warn", key: string, fields: Record<string, unknown>, message: string): void {
    if (this.logged === key) return;
    this.logged = key;
    this.opts.log[level](fields, message);
  }
}
