import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import type { Governance } from "../../deploy/governance.js";
import type { Protocol } from "../../deploy/protocol.js";
import { decodeRevert } from "./errors.js";

/** What every command runs with: the protocol, the acting account and an output sink. */
export interface CliContext {
  readonly protocol: Protocol;
  readonly signer: Signer;
  readonly out: (line: string) => void;
  /** The DAOs (`gov` commands); absent when the deployment kept every role with the deployer. */
  readonly governance?: Governance;
  /** The deployment's first block: where `gov` commands start reading proposal events (default 0). */
  readonly startBlock?: number;
}

/** Sends a transaction and waits for it; a revert becomes a RevertError with a hint. */
export async function send(tx: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  try {
    const receipt = await (await tx()).wait();
    if (receipt === null) throw new Error("transaction was dropped from the mempool");
    return receipt;
  } catch (error) {
    throw decodeRevert(error) ?? error;
  }
}

/** Runs a read-only call; a revert becomes a RevertError with a hint. */
export async function read<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw decodeRevert(error) ?? error;
  }
}
