import { expect } from "chai";
import fc from "fast-check";
import { getBytes, hexlify, Wallet, id } from "ethers";
import { VoucherSigner } from "../../../relayer/auth/voucher-signer.js";
import {
  channelId,
  escrowDomain,
  recoverVoucherSigner,
  voucherDigest,
  VOUCHER_TYPES,
  type Voucher,
} from "../../../sdk/vouchers.js";
import { malleate, withV } from "../helpers/escrow.js";

const domain = escrowDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
const signer = new VoucherSigner(domain);
const key = new Wallet(id("voucher-signer test key"));
const address = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((b) => Wallet.createRandom().address.slice(0, 2) + hexlify(b).slice(2));
const voucher = fc.record({
  payer: address,
  node: address,
  apiId: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  token: address,
  cumulativeAmount: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
});

describe("relayer hot-path voucher hashing and recovery (relayer/auth/voucher-signer.ts)", () => {
  it("computes the same EIP-712 digest and channel id as the SDK (ethers) for any voucher", () => {
    fc.assert(
      fc.property(voucher, (v: Voucher) => {
        expect(hexlify(signer.digest(v.payer, v.node, v.apiId, v.token, v.cumulativeAmount))).to.equal(
          voucherDigest(domain, v),
        );
        expect(signer.channelId(v.payer, v.node, v.apiId, v.token)).to.equal(
          channelId(v.payer, v.node, v.apiId, v.token),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("recovers the signer exactly where the SDK (OpenZeppelin's rules) does, and refuses where it refuses", async () => {
    const v: Voucher = {
      payer: key.address,
      node: key.address,
      apiId: 7n,
      token: key.address,
      cumulativeAmount: 1_000n,
    };
    const signature = await key.signTypedData(domain, VOUCHER_TYPES, v);
    const digest = signer.digest(v.payer, v.node, v.apiId, v.token, v.cumulativeAmount);
    expect(signer.recover(digest, signature)).to.equal(key.address);
    for (const bad of [
      malleate(signature),
      withV(signature, 0),
      withV(signature, 29),
      `${signature.slice(0, 130)}`,
      "0x" + "00".repeat(65),
    ]) {
      expect(signer.recover(digest, bad), bad).to.equal(recoverVoucherSigner(domain, v, bad));
      expect(signer.recover(digest, bad)).to.equal(undefined);
    }
    // Another message recovers another address, as ecrecover would.
    const other = signer.digest(v.payer, v.node, v.apiId, v.token, 1_001n);
    expect(signer.recover(other, signature)).to.not.equal(key.address);
    expect(getBytes(digest)).to.have.length(32);
  });
});
