/**
 * Recovers a voucher's signer on the hot path: the EIP-712 digest from a precomputed domain
 * separator (two keccak256 calls), the channel id without ethers' ABI coder, and secp256k1 recovery in native code (libsecp256k1), about
 * 25x faster than ethers' pure-JS recovery. Accepts exactly what OpenZeppelin's ECDSA accepts;
 * test/mocha/relayer/voucher-signer.test.ts checks it against sdk/vouchers.ts.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { getAddress, TypedDataEncoder, type TypedDataDomain } from "ethers";
import secp256k1 from "secp256k1";

const VOUCHER_TYPEHASH = keccak_256(
  Buffer.from("Voucher(address payer,address node,uint256 apiId,address token,uint128 cumulativeAmount)"),
);
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

function word(value: bigint, out: Uint8Array, offset: number): void {
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function addressWord(address: string, out: Uint8Array, offset: number): void {
  out.set(Buffer.from(address.slice(2), "hex"), offset + 12);
}

export class VoucherSigner {
  private readonly prefix: Uint8Array;

  constructor(domain: TypedDataDomain) {
    this.prefix = new Uint8Array(34);
    this.prefix.set([0x19, 0x01]);
    this.prefix.set(Buffer.from(TypedDataEncoder.hashDomain(domain).slice(2), "hex"), 2);
  }

  /** The EIP-712 digest of a voucher (same as sdk/vouchers.ts voucherDigest). */
  digest(payer: string, node: string, apiId: bigint, token: string, cumulativeAmount: bigint): Uint8Array {
    const struct = new Uint8Array(192);
    struct.set(VOUCHER_TYPEHASH, 0);
    addressWord(payer, struct, 32);
    addressWord(node, struct, 64);
    word(apiId, struct, 96);
    addressWord(token, struct, 128);
    word(cumulativeAmount, struct, 160);
    const message = new Uint8Array(66);
    message.set(this.prefix, 0);
    message.set(keccak_256(struct), 34);
    return keccak_256(message);
  }

  /** The channel id, keccak256(abi.encode(payer, node, apiId, token)) (same as sdk/vouchers.ts channelId). */
  channelId(payer: string, node: string, apiId: bigint, token: string): string {
    const encoded = new Uint8Array(128);
    addressWord(payer, encoded, 0);
    addressWord(node, encoded, 32);
    word(apiId, encoded, 64);
    addressWord(token, encoded, 96);
    return `0x${Buffer.from(keccak_256(encoded)).toString("hex")}`;
  }

  /** The checksummed signer of a 65-byte hex signature, or undefined where ECDSA.recover would fail. */
  recover(digest: Uint8Array, signature: string): string | undefined {
    const sig = Buffer.from(signature.slice(2), "hex");
    if (sig.length !== 65) return undefined;
    const v = sig[64]!;
    if (v !== 27 && v !== 28) return undefined;
    if (BigInt(`0x${signature.slice(66, 130)}`) > HALF_ORDER) return undefined;
    try {
      const pub = secp256k1.ecdsaRecover(sig.subarray(0, 64), v - 27, digest, false);
      return getAddress(`0x${Buffer.from(keccak_256(pub.subarray(1)).subarray(12)).toString("hex")}`);
    } catch {
      return undefined;
    }
  }
}
