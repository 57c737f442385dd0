/**
 * Every way the relayer refuses a call: an HTTP status and a stable, machine-readable code.
 * Clients branch on `code`; the table is documented in docs/relayer.md.
 */
export const ERROR_CODES = {
  // Routing and request shape
  bad_path: {
    status: 400,
    message: "the path must be /{apiId}/... with no dot segments, backslashes or encoded separators",
  },
  unknown_api: { status: 404, message: "no API with this id is listed" },
  api_paused: { status: 503, message: "the provider paused this API" },
  api_gone: { status: 410, message: "this API was retired or delisted" },
  method_not_allowed: { status: 405, message: "this method is not proxied" },
  body_too_large: { status: 413, message: "the request body exceeds the relayer's limit" },
  bad_request: { status: 400, message: "the request is malformed" },
  // Payment
  payment_required: { status: 402, message: "send a Meshgate-Voucher or Meshgate-Proof header" },
  bad_voucher: {
    status: 400,
    message: "the Meshgate-Voucher header is not base64url JSON of {payer, apiId, token, cumulativeAmount, signature}",
  },
  wrong_node: { status: 400, message: "the voucher is for another node" },
  wrong_api: { status: 400, message: "the voucher is for another API than the path names" },
  token_not_accepted: { status: 400, message: "this API is not paid in the voucher's token" },
  pay_per_call_not_offered: { status: 402, message: "this API does not offer pay-per-call" },
  invalid_signature: { status: 401, message: "the voucher signature is malformed or does not recover" },
  signer_not_authorized: {
    status: 403,
    message:
      "the voucher's signer is not authorized for the payer (revoked, never authorized, or signed for another chain or escrow)",
  },
  stale_voucher: {
    status: 409,
    message: "the voucher does not exceed the last accepted one for this channel (replayed or out of order)",
  },
  underpaid: { status: 402, message: "the voucher's increase is less than the API's price per call" },
  insufficient_balance: {
    status: 402,
    message: "the channel's balance (less pending withdrawals) does not cover the voucher",
  },
  // Zero-knowledge access
  bad_proof: {
    status: 400,
    message: "the Meshgate-Proof header is not base64url JSON of a Groth16 proof and its public signals",
  },
  invalid_proof: { status: 401, message: "the access proof does not verify" },
  unknown_root: { status: 403, message: "the proof's group root is not a current root of this API's access group" },
  wrong_scope: { status: 400, message: "the proof is for another API, epoch or limit" },
  wrong_request: { status: 400, message: "the proof is bound to another request" },
  proof_replayed: { status: 409, message: "this proof was already used" },
  zk_limit_exceeded: {
    status: 429,
    message: "the identity exceeded its per-epoch message limit (its secret share was recorded)",
  },
  // Limits
  rate_limited: { status: 429, message: "the payer exceeded the API's rate limit; retry after Retry-After seconds" },
  adaptive_throttle: {
    status: 429,
    message: "the caller's traffic is anomalous on this node (rate, paths or errors); retry after Retry-After seconds",
  },
  // Upstream and node state
  upstream_error: { status: 502, message: "the upstream API failed" },
  upstream_timeout: { status: 504, message: "the upstream API did not answer in time" },
  price_unavailable: {
    status: 503,
    message: "the API's price cannot be quoted right now (price feed stale or broken); retry later",
  },
  chain_unavailable: { status: 503, message: "the relayer cannot read the chain right now; nothing was charged" },
  store_unavailable: { status: 503, message: "the relayer cannot store vouchers right now; nothing was charged" },
  not_ready: { status: 503, message: "the relayer is starting or shutting down" },
  internal_error: { status: 500, message: "the relayer failed" },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A refusal with its code; `detail` is safe to show the caller. */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? ERROR_CODES[code].message);
    this.status = ERROR_CODES[code].status;
  }

  /** The JSON body sent to the caller. */
  body(): { error: { code: ErrorCode; message: string; detail?: string } } {
    return {
      error: {
        code: this.code,
        message: ERROR_CODES[this.code].message,
        ...(this.detail ? { detail: this.detail } : {}),
      },
    };
  }
}

/**
 * A dependency that failed (RPC endpoint or Redis down) refuses the call with a 503 and the
 * given code; refusals the dependency itself raised pass through unchanged.
 */
export async function orUnavailable<T>(
  promise: Promise<T>,
  code: "chain_unavailable" | "store_unavailable",
): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError(code, error instanceof Error ? error.message.slice(0, 200) : undefined);
  }
}
