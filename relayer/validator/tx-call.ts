/**
 * What the reputation jobs hand to the node's transaction queue (the one TxSender of the operator
 * key sends it), and the dry run that decides whether a call is worth sending.
 */
import { isError } from "ethers";

/** A contract call to send from the operator key. */
export interface TxCall {
  /** Dedupes the queue: one waiting job per id. */
  jobId: string;
  /** What the call is (TxSender label, metrics kind): attest, finalizeNode, commit... */
  label: string;
  to: string;
  data: string;
  /** The epoch the call is about, when it is about one. */
  epoch?: number;
}

/** Where TxCalls go (RelayerJobs' transaction queue). */
export interface TxQueue {
  enqueue(call: TxCall): Promise<void>;
}

/**
 * Runs `call` (a staticCall) and returns undefined when it would succeed, or the name of the
 * revert (a custom error name, or "revert") when it would not. Anything else (RPC down) throws.
 */
export async function revertOf(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    if (!isError(error, "CALL_EXCEPTION")) throw error;
    return error.revert?.name ?? error.reason ?? "revert";
  }
}
