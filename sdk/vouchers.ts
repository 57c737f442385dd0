/**
 * Vouchers: EIP-712 usage receipts for the PaymentEscrow, built, signed and verified off-chain
 * exactly as the contract checks them. Used by consumers (to pay) and by relayers (to accept).
 */
import {
  AbiCoder,
  getAddress,
  keccak256,
  recoverAddress,
  TypedDataEncoder,
  ZeroAddress,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

/** A voucher: `payer` owes `node` `cumulativeAmount` in total for calls to `apiId`, in `token`. */
export interface Voucher {
  payer: string;
  node: string;
  apiId: bigint;
  token: string;
  cumulativeAmount: bigint;
}

export const VOUCHER_TYPES: Record<string, TypedDataField[]> = {
  Voucher: [
    { name: "payer", type: "address" },
    { name: "node", type: "address" },
    { name: "apiId", type: "uint256" },
    { name: "token", type: "address" },
    { name: "cumulativeAmount", type: "uint128" },
  ],
};

export const SIGNER_AUTHORIZATION_TYPES: Record<string, TypedDataField[]> = {
  SignerAuthorization: [
    { name: "payer", type: "address" },
    { name: "deadline", type: "uint256" },
  ],
};

const UINT128_MAX = (1n << 128n) - 1n;
/** secp256k1 group order / 2: the contract (OpenZeppelin ECDSA) rejects larger s values. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** The escrow's EIP-712 domain: binds vouchers to one chain and one contract. */
export function escrowDomain(chainId: bigint | number, escrow: string): TypedDataDomain {
  return {
    name: "Meshgate PaymentEscrow",
    version: "1",
    chainId: BigInt(chainId),
    verifyingContract: getAddress(escrow),
  };
}

/** The channel a voucher draws from: keccak256(abi.encode(payer, node, apiId, token)). */
export function channelId(payer: string, node: string, apiId: bigint, token: string): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["address", "address", "uint256", "address"], [payer, node, apiId, token]),
  );
}

/** The digest the contract recovers the signer from. */
export function voucherDigest(domain: TypedDataDomain, voucher: Voucher): string {
  return TypedDataEncoder.hash(domain, VOUCHER_TYPES, voucher);
}

/** Signs a voucher with an authorized signer key (or the payer's own key). */
export async function signVoucher(signer: Signer, domain: TypedDataDomain, voucher: Voucher): Promise<string> {
  return signer.signTypedData(domain, VOUCHER_TYPES, voucher);
}

/** Signs the consent a signer key gives before a payer can authorize it. */
export async function signSignerAuthorization(
  signer: Signer,
  domain: TypedDataDomain,
  payer: string,
  deadline: bigint,
): Promise<string> {
  return signer.signTypedData(domain, SIGNER_AUTHORIZATION_TYPES, { payer, deadline });
}

/** Why a voucher is refused; the names match the contract's custom errors. */
export type VoucherRejection =
  "InvalidSignature" | "SignerNotAuthorized" | "NothingToRedeem" | "InsufficientBalance" | "InvalidVoucher";

/** What verification needs to know about on-chain state (read it with `readVoucherState`). */
export interface VoucherState {
  /** The key whose signer record was read: it must be the key that signed the voucher. */
  signer: string;
  /** The channel's balance and redeemed total. */
  balance: bigint;
  redeemed: bigint;
  /** Who the recovered signer signs for, and when its revocation takes effect (0: never). */
  signerPayer: string;
  signerRevokedAt: bigint;
  /** The time to judge revocation against (the chain's latest block timestamp). */
  now: bigint;
}

export type VerifyResult =
  { ok: true; signer: string; redeemable: bigint } | { ok: false; reason: VoucherRejection; signer?: string };

/**
 * Recovers the signer of a voucher signature exactly as OpenZeppelin's ECDSA.tryRecoverCalldata
 * does: 65 bytes, v in {27, 28}, low s, non-zero result. Returns undefined when it would fail.
 */
export function recoverVoucherSigner(domain: TypedDataDomain, voucher: Voucher, signature: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return undefined;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (s > HALF_ORDER || (v !== 27 && v !== 28) || r === 0n || s === 0n) return undefined;
  try {
    return getAddress(recoverAddress(voucherDigest(domain, voucher), signature));
  } catch {
    return undefined;
  }
}

/**
 * Verifies a voucher against channel state exactly as `PaymentEscrow.redeem` would, without a
 * transaction: signature, signer authorization, increase over the redeemed total, balance.
 */
export function verifyVoucher(
  domain: TypedDataDomain,
  voucher: Voucher,
  signature: string,
  state: VoucherState,
): VerifyResult {
  if (voucher.cumulativeAmount < 0n || voucher.cumulativeAmount > UINT128_MAX || voucher.apiId < 0n) {
    return { ok: false, reason: "InvalidVoucher" };
  }
  const signer = recoverVoucherSigner(domain, voucher, signature);
  if (signer === undefined) return { ok: false, reason: "InvalidSignature" };
  const payer = getAddress(voucher.payer);
  if (signer !== payer && signer !== getAddress(state.signer)) {
    // The signer record in `state` belongs to another key: it says nothing about this signature.
    return { ok: false, reason: "SignerNotAuthorized", signer };
  }
  const authorized =
    (signer === payer && payer !== ZeroAddress) ||
    (payer !== ZeroAddress &&
      getAddress(state.signerPayer) === payer &&
      (state.signerRevokedAt === 0n || state.now < state.signerRevokedAt));
  if (!authorized) return { ok: false, reason: "SignerNotAuthorized", signer };
  if (voucher.cumulativeAmount <= state.redeemed) return { ok: false, reason: "NothingToRedeem", signer };
  const redeemable = voucher.cumulativeAmount - state.redeemed;
  if (redeemable > state.balance) return { ok: false, reason: "InsufficientBalance", signer };
  return { ok: true, signer, redeemable };
}

/** The escrow calls `readVoucherState` needs (a TypeChain PaymentEscrow satisfies it). */
export interface EscrowReader {
  channels(id: string): Promise<[bigint, bigint] & { balance: bigint; redeemed: bigint }>;
  signers(signer: string): Promise<[string, bigint] & { payer: string; revokedAt: bigint }>;
  runner: { provider: { getBlock(tag: "latest"): Promise<{ timestamp: number } | null> } | null } | null;
}

/**
 * Reads the on-chain state `verifyVoucher` needs for `voucher` signed by `signer` (use the
 * address `recoverVoucherSigner` returns; a record read for another key never authorizes).
 */
export async function readVoucherState(escrow: EscrowReader, voucher: Voucher, signer: string): Promise<VoucherState> {
  const provider = escrow.runner?.provider;
  if (!provider) throw new Error("the escrow contract has no provider to read from");
  const [channel, info, block] = await Promise.all([
    escrow.channels(channelId(voucher.payer, voucher.node, voucher.apiId, voucher.token)),
    escrow.signers(signer),
    provider.getBlock("latest"),
  ]);
  if (!block) throw new Error("cannot read the latest block");
  return {
    signer: getAddress(signer),
    balance: channel.balance,
    redeemed: channel.redeemed,
    signerPayer: info.payer,
    signerRevokedAt: info.revokedAt,
    now: BigInt(block.timestamp),
  };
}
