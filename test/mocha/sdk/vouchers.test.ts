import { expect } from "chai";
import { concat, parseEther, toBeHex, Wallet, ZeroAddress, id, zeroPadValue, type Signer } from "ethers";
import {
  channelId,
  escrowDomain,
  readVoucherState,
  recoverVoucherSigner,
  verifyVoucher,
  voucherDigest,
  type VerifyResult,
  type Voucher,
} from "../../../sdk/vouchers.js";
import { networkHelpers } from "../helpers/fixture.js";
import {
  HOT_KEYS,
  SECP256K1_N,
  STRANGER,
  THAW,
  authorize,
  compact,
  escrowFixture,
  expectEscrowSolvent,
  malleate,
  sign,
  voucherFor,
  withV,
  type EscrowFixture,
} from "../helpers/escrow.js";

const [HOT, HOT2, HOT3, HOT4] = HOT_KEYS as [Wallet, Wallet, Wallet, Wallet];

type Outcome = { ok: true; paid: bigint } | { ok: false; reason: string; args: unknown[] };

/**
 * State every vector runs against (payer -> operator, apiToken, USDC: balance 900, redeemed 100):
 * HOT signs for payer; HOT2 was payer's, revoked (effective); HOT3 is payer's, revocation pending;
 * HOT4 was payer's, revoked, and now signs for payer2. payer2 and the DAI channel are funded.
 */
async function vectorsFixture() {
  const fx = await escrowFixture();
  const e = fx.escrow;
  await e.connect(fx.payer).deposit(fx.operator.address, fx.apiToken, fx.usdcAddress, 1000n);
  await e.connect(fx.payer2).deposit(fx.operator.address, fx.apiToken, fx.usdcAddress, 1000n);
  await e.connect(fx.payer).deposit(fx.operator.address, fx.apiUsd, fx.daiAddress, parseEther("1"));
  await e.connect(fx.payer).deposit(fx.operator2.address, fx.apiToken, fx.usdcAddress, 1000n);
  await e.connect(fx.payer).deposit(fx.operator.address, fx.apiToken2, fx.usdcAddress, 1000n);
  for (const k of [HOT, HOT2, HOT4]) await authorize(fx, fx.payer, k);
  await e.connect(fx.payer).revokeSigner(HOT2.address);
  await e.connect(fx.payer).revokeSigner(HOT4.address);
  await networkHelpers.time.increase(THAW);
  await authorize(fx, fx.payer2, HOT4);
  await authorize(fx, fx.payer, HOT3);
  await e.connect(fx.payer).revokeSigner(HOT3.address);
  const first = voucherFor(fx, 100n);
  await e.redeem(first, await sign(fx, HOT, first));
  return fx;
}

describe("sdk/vouchers", () => {
  let fx: EscrowFixture;

  beforeEach(async () => {
    fx = await networkHelpers.loadFixture(vectorsFixture);
  });

  afterEach(async () => {
    await expectEscrowSolvent(fx.escrow);
  });

  /** What the contract says: redeem.staticCall accepts (how much) or reverts (which custom error). */
  async function onChain(v: Voucher, signature: string): Promise<Outcome> {
    const before = (await fx.escrow.channels(channelId(v.payer, v.node, v.apiId, v.token))).redeemed;
    try {
      await fx.escrow.redeem.staticCall(v, signature);
      return { ok: true, paid: v.cumulativeAmount - before };
    } catch (e) {
      const data = (e as { data?: string }).data;
      const parsed = data ? fx.escrow.interface.parseError(data) : null;
      if (!parsed) throw e;
      return { ok: false, reason: parsed.name, args: [...parsed.args] };
    }
  }

  /** What the SDK says, the way a relayer uses it: recover, read that signer's state, verify. */
  async function offChain(v: Voucher, signature: string, domain = fx.domain): Promise<VerifyResult> {
    const signer = recoverVoucherSigner(domain, v, signature);
    const state = await readVoucherState(fx.escrow, v, signer ?? ZeroAddress);
    return verifyVoucher(domain, v, signature, state);
  }

  /** Both accept (the same amount, the same signer) or both reject for the same reason. */
  async function agree(what: string, v: Voucher, signature: string, expected: "ok" | string) {
    const [sdk, chain] = [await offChain(v, signature), await onChain(v, signature)];
    if (chain.ok) {
      expect(sdk, what).to.deep.include({ ok: true });
      if (sdk.ok) expect(sdk.redeemable, what).to.equal(chain.paid);
      expect("ok", what).to.equal(expected);
    } else {
      expect(sdk.ok, `${what}: SDK accepts, contract says ${chain.reason}`).to.equal(false);
      if (!sdk.ok) {
        expect(sdk.reason, what).to.equal(chain.reason);
        if (chain.reason === "SignerNotAuthorized") expect(sdk.signer, what).to.equal(chain.args[0]);
      }
      expect(chain.reason, what).to.equal(expected);
    }
  }

  it("the domain, channelId and voucherDigest equal the contract's", async () => {
    const d = await fx.escrow.eip712Domain();
    expect(escrowDomain(d.chainId, d.verifyingContract)).to.deep.equal({
      name: d.name,
      version: d.version,
      chainId: d.chainId,
      verifyingContract: d.verifyingContract,
    });
    const vouchers: Voucher[] = [
      voucherFor(fx, 0n),
      voucherFor(fx, 250n),
      voucherFor(fx, (1n << 128n) - 1n, { apiId: (1n << 256n) - 1n }),
      voucherFor(fx, 1n, { payer: ZeroAddress, node: ZeroAddress, token: ZeroAddress, apiId: 0n }),
      voucherFor(fx, 12345n, { payer: fx.payer2.address, node: fx.operator2.address, token: fx.daiAddress }),
    ];
    for (const v of vouchers) {
      expect(channelId(v.payer, v.node, v.apiId, v.token)).to.equal(
        await fx.escrow.channelId(v.payer, v.node, v.apiId, v.token),
      );
      expect(voucherDigest(fx.domain, v)).to.equal(await fx.escrow.voucherDigest(v));
    }
    // Lower-case addresses hash the same.
    const v = voucherFor(fx, 5n);
    const lower = { ...v, payer: v.payer.toLowerCase(), node: v.node.toLowerCase(), token: v.token.toLowerCase() };
    expect(channelId(lower.payer, lower.node, lower.apiId, lower.token)).to.equal(
      channelId(v.payer, v.node, v.apiId, v.token),
    );
    expect(voucherDigest(fx.domain, lower)).to.equal(await fx.escrow.voucherDigest(v));
  });

  it("valid vouchers: both accept the same amount", async () => {
    const cases: [string, Signer, Voucher][] = [
      ["hot key", HOT, voucherFor(fx, 250n)],
      ["exactly the balance", HOT, voucherFor(fx, 1000n)],
      ["payer's own key", fx.payer, voucherFor(fx, 101n)],
      ["revoked, not yet effective", HOT3, voucherFor(fx, 300n)],
      ["re-authorized key for its new payer", HOT4, voucherFor(fx, 10n, { payer: fx.payer2.address })],
      ["USD-priced API in DAI", HOT, voucherFor(fx, parseEther("0.5"), { apiId: fx.apiUsd, token: fx.daiAddress })],
      ["other node's channel", HOT, voucherFor(fx, 1n, { node: fx.operator2.address })],
    ];
    for (const [what, key, v] of cases) await agree(what, v, await sign(fx, key, v), "ok");
    // And the SDK names the signer the contract recovers.
    const v = voucherFor(fx, 250n);
    const r = await offChain(v, await sign(fx, HOT, v));
    expect(r).to.deep.equal({ ok: true, signer: HOT.address, redeemable: 150n });
  });

  it("amounts: equal, lower, over balance", async () => {
    const cases: [string, Signer, Voucher, string][] = [
      ["equal cumulative", HOT, voucherFor(fx, 100n), "NothingToRedeem"],
      ["lower cumulative", HOT, voucherFor(fx, 99n), "NothingToRedeem"],
      ["zero cumulative", fx.payer, voucherFor(fx, 0n), "NothingToRedeem"],
      ["over balance", HOT, voucherFor(fx, 1001n), "InsufficientBalance"],
      ["far over balance", HOT, voucherFor(fx, (1n << 128n) - 1n), "InsufficientBalance"],
      ["unfunded channel", fx.payer3, voucherFor(fx, 1n, { payer: fx.payer3.address }), "InsufficientBalance"],
      ["stale and unauthorized", STRANGER, voucherFor(fx, 50n), "SignerNotAuthorized"],
    ];
    for (const [what, key, v, expected] of cases) await agree(what, v, await sign(fx, key, v), expected);
  });

  it("malformed signatures: both say InvalidSignature", async () => {
    const v = voucherFor(fx, 250n);
    const sig = await sign(fx, HOT, v);
    const cases: [string, string][] = [
      ["malleable s", malleate(sig)],
      ["v = 29", withV(sig, 29)],
      ["v = 0", withV(sig, 0)],
      ["v = 1", withV(sig, 1)],
      ["64-byte (EIP-2098)", compact(sig)],
      ["empty", "0x"],
      ["garbage", "0xdeadbeef"],
      ["66 bytes", `${sig}00`],
      ["65 zero bytes", `0x${"00".repeat(65)}`],
      ["r = 0", `0x${"00".repeat(32)}${sig.slice(66)}`],
      ["s = 0", `${sig.slice(0, 66)}${"00".repeat(32)}${sig.slice(130)}`],
      ["r = n", concat([zeroPadValue(toBeHex(SECP256K1_N), 32), `0x${sig.slice(66)}`])],
      [
        "s = n - 1 (high)",
        concat([sig.slice(0, 66), zeroPadValue(toBeHex(SECP256K1_N - 1n), 32), `0x${sig.slice(130)}`]),
      ],
    ];
    for (const [what, bad] of cases) await agree(what, v, bad, "InvalidSignature");
  });

  it("signatures that recover to the wrong key: both say SignerNotAuthorized", async () => {
    const base = voucherFor(fx, 250n);
    const baseSig = await sign(fx, HOT, base);
    const otherChain = await sign(fx, HOT, base, escrowDomain(1n, fx.escrowAddress));
    const otherContract = await sign(fx, HOT, base, escrowDomain(fx.chainId, await fx.registry.getAddress()));
    const cases: [string, Voucher, string][] = [
      ["wrong chain id", base, otherChain],
      ["wrong verifying contract", base, otherContract],
      ["other payer", { ...base, payer: fx.payer2.address }, baseSig],
      ["other node", { ...base, node: fx.operator2.address }, baseSig],
      ["other api", { ...base, apiId: fx.apiToken2 }, baseSig],
      ["other token", { ...base, apiId: fx.apiUsd, token: fx.daiAddress }, baseSig],
      ["v flipped", base, withV(baseSig, baseSig.endsWith("1b") ? 28 : 27)],
    ];
    for (const [what, v, s] of cases) await agree(what, v, s, "SignerNotAuthorized");

    const keys: [string, Signer][] = [
      ["unauthorized key", STRANGER],
      ["another payer's own key", fx.payer2],
      ["another payer's hot key", HOT4],
      ["revoked and effective", HOT2],
      ["the node's key", fx.operator],
      ["a random key", new Wallet(id("random"))],
    ];
    for (const [what, key] of keys) await agree(what, base, await sign(fx, key, base), "SignerNotAuthorized");
  });

  it("revocation: valid until revokedAt, refused from it, and both sides agree at each step", async () => {
    const v = voucherFor(fx, 250n);
    const sig = await sign(fx, HOT3, v);
    const { revokedAt } = await fx.escrow.signers(HOT3.address);
    await networkHelpers.time.increaseTo(revokedAt - 1n);
    await agree("one second before", v, sig, "ok");
    await networkHelpers.time.increaseTo(revokedAt);
    await agree("at revokedAt", v, sig, "SignerNotAuthorized");
  });

  it("doubt: at revokedAt - 1 both accept, yet a transaction lands at revokedAt and fails", async () => {
    // The SDK judges revocation against the latest block (as eth_call does); the next block is
    // later. A relayer accepting a voucher this close to the revocation cannot redeem it.
    const v = voucherFor(fx, 250n);
    const sig = await sign(fx, HOT3, v);
    const { revokedAt } = await fx.escrow.signers(HOT3.address);
    await networkHelpers.time.increaseTo(revokedAt - 1n);
    expect((await offChain(v, sig)).ok).to.equal(true);
    await expect(fx.escrow.redeem(v, sig, { gasLimit: 1_000_000 }))
      .to.be.revertedWithCustomError(fx.escrow, "SignerNotAuthorized")
      .withArgs(HOT3.address, fx.payer.address);
  });

  it("a redemption moves the SDK's view with the contract's", async () => {
    const v1 = voucherFor(fx, 400n);
    const s1 = await sign(fx, HOT, v1);
    await agree("before", v1, s1, "ok");
    await fx.escrow.redeem(v1, s1);
    await agree("after: replay", v1, s1, "NothingToRedeem");
    const v2 = voucherFor(fx, 1000n);
    await agree("after: the rest", v2, await sign(fx, HOT, v2), "ok");
    const v3 = voucherFor(fx, 1001n);
    await agree("after: one over", v3, await sign(fx, HOT, v3), "InsufficientBalance");
  });

  it("out-of-range vouchers are refused off-chain before anything else (InvalidVoucher)", async () => {
    const v = voucherFor(fx, 1n << 128n);
    const state = await readVoucherState(fx.escrow, v, HOT.address);
    expect(verifyVoucher(fx.domain, v, "0x", state)).to.deep.equal({ ok: false, reason: "InvalidVoucher" });
    expect(verifyVoucher(fx.domain, { ...v, cumulativeAmount: -1n }, "0x", state)).to.deep.equal({
      ok: false,
      reason: "InvalidVoucher",
    });
  });

  // Regression: readVoucherState returns signerPayer == 0x0 for an unregistered key, which must
  // not match a voucher naming the zero payer (the contract requires payer != address(0)).
  it("a voucher for the zero payer: both refuse with SignerNotAuthorized", async () => {
    const v = voucherFor(fx, 5n, { payer: ZeroAddress });
    await agree("zero payer", v, await sign(fx, STRANGER, v), "SignerNotAuthorized");
  });

  // Regression: a state read for another key (the one a relayer expected) must not authorize a
  // signature that recovers to a different address (here: signed for another chain).
  it("state read for the expected signer instead of the recovered one never makes the SDK accept", async () => {
    const v = voucherFor(fx, 250n);
    const wrongChain = await sign(fx, HOT, v, escrowDomain(1n, fx.escrowAddress));
    const state = await readVoucherState(fx.escrow, v, HOT.address);
    const chain = await onChain(v, wrongChain);
    expect(chain).to.deep.include({ ok: false, reason: "SignerNotAuthorized" });
    expect(verifyVoucher(fx.domain, v, wrongChain, state).ok).to.equal(false);
  });
});
