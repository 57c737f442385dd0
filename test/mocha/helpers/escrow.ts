import { expect } from "chai";
import {
  concat,
  getBytes,
  hexlify,
  id,
  MaxUint256,
  parseEther,
  parseUnits,
  recoverAddress,
  Signature,
  toBeHex,
  Wallet,
  zeroPadValue,
  type Signer,
  type TypedDataDomain,
} from "ethers";
import {
  channelId,
  escrowDomain,
  signSignerAuthorization,
  signVoucher,
  voucherDigest,
  type Voucher,
} from "../../../sdk/vouchers.js";
import {
  MockAggregatorV3__factory,
  MockERC20__factory,
  MockFeeToken__factory,
  type PaymentEscrow,
} from "../../../types/ethers-contracts/index.js";
import {
  apiInput,
  deployFixture,
  ethers,
  MODEL_PAY_PER_CALL,
  networkHelpers,
  PriceUnit,
  type Fixture,
} from "./fixture.js";
import { register } from "./staking.js";

type Account = Fixture["outsider"];

/** secp256k1 group order. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Deploy defaults (deploy/params.ts). */
export const THAW = 2n * 24n * 60n * 60n;
export const MIN_THAW = 60n * 60n;
export const MAX_THAW = 30n * 24n * 60n * 60n;
export const SPLIT = { providerBps: 8000n, nodeBps: 1500n, protocolBps: 500n } as const;
export const BPS = 10_000n;
export const FEED_HEARTBEAT = 3600;

export const USDC = (n: string | number) => parseUnits(String(n), 6);

/** Deterministic hot keys (an app's or agent's signing keys; never funded). */
export const HOT_KEYS = [1, 2, 3, 4].map((i) => new Wallet(id(`meshgate hot key ${i}`)));
/** A key nobody authorized. */
export const STRANGER = new Wallet(id("meshgate stranger key"));

/**
 * The protocol with everything an escrow test needs:
 * - two active nodes (operator, operator2: Edge nodes at the minimum stake);
 * - apiToken (id 1, provider): pay-per-call, priced in 6-decimal USDC;
 * - apiUsd (id 2, provider2): pay-per-call, priced in USD; DAI has a feed (USDC has none);
 * - apiToken2 (id 3, provider2): pay-per-call in USDC (a second API for mixed batches);
 * - apiFee (id 4, provider): priced in a fee-on-transfer token;
 * - three payers holding 1,000,000 USDC, DAI and FEE each, with the escrow approved.
 */
export async function escrowFixture() {
  const f = await deployFixture();
  const [payer, payer2, payer3, newProvider, donor] = f.rest as [Account, Account, Account, Account, Account];
  const escrowAddress = await f.escrow.getAddress();
  const usdcAddress = await f.usdc.getAddress();
  const daiAddress = await f.dai.getAddress();

  await register(f, f.operator);
  await register(f, f.operator2);

  const feeToken = await new MockFeeToken__factory(f.deployer).deploy();
  const feeAddress = await feeToken.getAddress();
  const payPerCall = { models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0n, stakerDiscount: false };
  const tokenPricing = (token: string) => ({ ...apiInput(token).pricing, ...payPerCall });
  await f.registry.connect(f.provider).register({ ...apiInput(usdcAddress), pricing: tokenPricing(usdcAddress) });
  await f.registry.connect(f.provider2).register({
    ...apiInput(usdcAddress),
    pricing: {
      ...tokenPricing(usdcAddress),
      unit: PriceUnit.Usd,
      paymentToken: "0x0000000000000000000000000000000000000000",
      pricePerCall: parseEther("0.002"),
    },
  });
  await f.registry.connect(f.provider2).register({ ...apiInput(usdcAddress), pricing: tokenPricing(usdcAddress) });
  await f.registry.connect(f.provider).register({ ...apiInput(feeAddress), pricing: tokenPricing(feeAddress) });

  const daiFeed = await new MockAggregatorV3__factory(f.deployer).deploy(8, 100_000_000n);
  await f.oracle.connect(f.deployer).setFeed(daiAddress, await daiFeed.getAddress(), FEED_HEARTBEAT);

  for (const p of [payer, payer2, payer3]) {
    const a = p.address;
    await f.usdc.mint(a, USDC(1_000_000));
    await f.dai.mint(a, parseEther("1000000"));
    await feeToken.mint(a, parseEther("1000000"));
    await f.usdc.connect(p).approve(escrowAddress, MaxUint256);
    await f.dai.connect(p).approve(escrowAddress, MaxUint256);
    await feeToken.connect(p).approve(escrowAddress, MaxUint256);
  }
  await f.usdc.mint(donor.address, USDC(1_000_000));

  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ...f,
    payer,
    payer2,
    payer3,
    newProvider,
    donor,
    feeToken,
    daiFeed,
    escrowAddress,
    usdcAddress,
    daiAddress,
    feeAddress,
    chainId,
    domain: escrowDomain(chainId, escrowAddress),
    apiToken: 1n,
    apiUsd: 2n,
    apiToken2: 3n,
    apiFee: 4n,
  };
}

export type EscrowFixture = Awaited<ReturnType<typeof escrowFixture>>;

/** A voucher with defaults: payer, operator, apiToken, USDC. */
export function voucherFor(fx: EscrowFixture, cumulativeAmount: bigint, over: Partial<Voucher> = {}): Voucher {
  return {
    payer: fx.payer.address,
    node: fx.operator.address,
    apiId: fx.apiToken,
    token: fx.usdcAddress,
    cumulativeAmount,
    ...over,
  };
}

/** Signs `voucher` with `key` over the fixture escrow's domain (or `domain`). */
export function sign(fx: EscrowFixture, key: Signer, voucher: Voucher, domain?: TypedDataDomain): Promise<string> {
  return signVoucher(key, domain ?? fx.domain, voucher);
}

/** The address a signature of `voucher` over `domain` recovers to on the fixture escrow. */
export function recovered(fx: EscrowFixture, voucher: Voucher, signature: string): string {
  return recoverAddress(voucherDigest(fx.domain, voucher), signature);
}

/** The id of the voucher's channel. */
export function idOf(v: Voucher): string {
  return channelId(v.payer, v.node, v.apiId, v.token);
}

/** Authorizes `hot` to sign for `payer` with a fresh consent proof (deadline: in one hour). */
export async function authorize(fx: EscrowFixture, payer: Signer, hot: Signer) {
  const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
  const proof = await signSignerAuthorization(hot, fx.domain, await payer.getAddress(), deadline);
  return fx.escrow.connect(payer).authorizeSigner(await hot.getAddress(), deadline, proof);
}

// ------------------------------------------------------------------ signature surgery

/** The same signature with s replaced by n - s and v flipped (a valid but high-s signature). */
export function malleate(signature: string): string {
  const sig = Signature.from(signature);
  const highS = SECP256K1_N - BigInt(sig.s);
  return concat([sig.r, zeroPadValue(toBeHex(highS), 32), toBeHex(sig.v === 27 ? 28 : 27, 1)]);
}

/** The signature with its last byte (v) replaced. */
export function withV(signature: string, v: number): string {
  const bytes = getBytes(signature);
  bytes[64] = v;
  return hexlify(bytes);
}

/** EIP-2098 compact form (64 bytes). */
export function compact(signature: string): string {
  return Signature.from(signature).compactSerialized;
}

/** Flips one bit of the byte at `index`. */
export function tamper(signature: string, index = 10): string {
  const bytes = getBytes(signature);
  bytes[index] = bytes[index]! ^ 1;
  return hexlify(bytes);
}

// ------------------------------------------------------------------ solvency

/**
 * The escrow's accounting invariant over everything the test touched (every channel that ever
 * got a deposit, and the nodes and APIs of those channels, per token):
 *   token.balanceOf(escrow) >= liabilities(token), == unless `surplus` says tokens were donated;
 *   liabilities(token) == sum of channel balances + node earnings + API earnings.
 */
export async function expectEscrowSolvent(escrow: PaymentEscrow, surplus: Record<string, bigint> = {}): Promise<void> {
  const escrowAddress = await escrow.getAddress();
  const deposits = await escrow.queryFilter(escrow.filters.Deposited());
  const byToken = new Map<string, { channels: Set<string>; nodes: Set<string>; apis: Set<bigint> }>();
  for (const e of deposits) {
    const { channelId: cid, node, apiId, token } = e.args;
    const t = byToken.get(token) ?? { channels: new Set(), nodes: new Set(), apis: new Set() };
    t.channels.add(cid);
    t.nodes.add(node);
    t.apis.add(apiId);
    byToken.set(token, t);
  }
  for (const [token, used] of byToken) {
    let tracked = 0n;
    for (const cid of used.channels) tracked += (await escrow.channels(cid)).balance;
    for (const node of used.nodes) tracked += await escrow.nodeEarnings(token, node);
    for (const api of used.apis) {
      const e = await escrow.apiEarnings(token, api);
      tracked += e.provider + e.protocol;
    }
    const liabilities = await escrow.liabilities(token);
    const held = await MockERC20__factory.connect(token, ethers.provider).balanceOf(escrowAddress);
    expect(liabilities, `liabilities(${token}) == channel balances + earnings`).to.equal(tracked);
    expect(held >= liabilities, `balanceOf(escrow) >= liabilities(${token})`).to.equal(true);
    expect(held, `balanceOf(escrow) == liabilities(${token}) + donations`).to.equal(
      liabilities + (surplus[token] ?? 0n),
    );
  }
}
