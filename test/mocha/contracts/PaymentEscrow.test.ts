import { expect } from "chai";
import { AbiCoder, getCreateAddress, id, keccak256, parseEther, ZeroAddress, type Signer } from "ethers";
import {
  channelId as sdkChannelId,
  escrowDomain,
  signSignerAuthorization,
  voucherDigest as sdkVoucherDigest,
  type Voucher,
} from "../../../sdk/vouchers.js";
import { PaymentEscrow__factory, type PaymentEscrow } from "../../../types/ethers-contracts/index.js";
import { apiInput, DAY, ethers, MODEL_SUBSCRIPTION, networkHelpers } from "../helpers/fixture.js";
import { nextTimestamp } from "../helpers/staking.js";
import {
  BPS,
  HOT_KEYS,
  MAX_THAW,
  MIN_THAW,
  SPLIT,
  STRANGER,
  THAW,
  USDC,
  authorize,
  compact,
  escrowFixture,
  expectEscrowSolvent,
  idOf,
  malleate,
  recovered,
  sign,
  tamper,
  voucherFor,
  withV,
  type EscrowFixture,
} from "../helpers/escrow.js";

/** An explicit gas limit skips estimation, so a failing call is really mined at the set timestamp. */
const GAS = { gasLimit: 2_000_000 };
/** Epoch bounds of the escrow's clock, and the deploy default (deploy/params.ts). */
const MIN_EPOCH = 5n * 60n;
const MAX_EPOCH = 30n * BigInt(DAY);
const EPOCH = BigInt(DAY);
const [HOT, HOT2] = HOT_KEYS as [(typeof HOT_KEYS)[0], (typeof HOT_KEYS)[0]];

interface Split {
  providerBps: bigint;
  nodeBps: bigint;
  protocolBps: bigint;
}

/** The shares of `paid`: node and protocol rounded down, the provider gets the remainder. */
function shares(paid: bigint, s: Split = SPLIT) {
  const node = (paid * s.nodeBps) / BPS;
  const protocol = (paid * s.protocolBps) / BPS;
  return { node, protocol, provider: paid - node - protocol };
}

type BatchVoucher = { payer: string; apiId: bigint; cumulativeAmount: bigint; signature: string };
const bv = (v: Voucher, signature: string): BatchVoucher => ({
  payer: v.payer,
  apiId: v.apiId,
  cumulativeAmount: v.cumulativeAmount,
  signature,
});

describe("PaymentEscrow", () => {
  let fx: EscrowFixture;
  let escrow: PaymentEscrow;
  /** Tokens sent to the escrow outside deposits (the solvency check allows exactly these). */
  let surplus: Record<string, bigint>;

  beforeEach(async () => {
    fx = await networkHelpers.loadFixture(escrowFixture);
    escrow = fx.escrow;
    surplus = {};
  });

  // Solvency and exact accounting after every scenario, whatever it did.
  afterEach(async () => {
    await expectEscrowSolvent(fx.escrow, surplus);
  });

  /** Deposits `amount` into the channel of `v` (default: payer -> operator, apiToken, USDC). */
  async function fund(amount: bigint, over: Partial<Voucher> = {}, payer?: Signer) {
    const v = voucherFor(fx, 0n, over);
    const p = payer ?? [fx.payer, fx.payer2, fx.payer3].find((s) => s.address === v.payer)!;
    await escrow.connect(p).deposit(v.node, v.apiId, v.token, amount);
    return idOf(v);
  }

  async function channel(cid: string) {
    const c = await escrow.channels(cid);
    return { balance: c.balance, redeemed: c.redeemed };
  }

  async function earnings(token = fx.usdcAddress, apiId = fx.apiToken, node = fx.operator.address) {
    const e = await escrow.apiEarnings(token, apiId);
    return { node: await escrow.nodeEarnings(token, node), provider: e.provider, protocol: e.protocol };
  }

  // -------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired as the deploy params say", async () => {
      expect(await escrow.registry()).to.equal(await fx.registry.getAddress());
      expect(await escrow.staking()).to.equal(await fx.staking.getAddress());
      expect(await escrow.oracle()).to.equal(await fx.oracle.getAddress());
      expect(await escrow.treasury()).to.equal(fx.deployer.address);
      expect(await escrow.authority()).to.equal(await fx.accessManager.getAddress());
      expect(await escrow.thawPeriod()).to.equal(THAW);
      const s = await escrow.revenueSplit();
      expect([s.providerBps, s.nodeBps, s.protocolBps]).to.deep.equal([8000n, 1500n, 500n]);
      expect(await escrow.MIN_THAW_PERIOD()).to.equal(MIN_THAW);
      expect(await escrow.MAX_THAW_PERIOD()).to.equal(MAX_THAW);
      expect(await escrow.VOUCHER_TYPEHASH()).to.equal(
        id("Voucher(address payer,address node,uint256 apiId,address token,uint128 cumulativeAmount)"),
      );
      expect(await escrow.SIGNER_AUTHORIZATION_TYPEHASH()).to.equal(
        id("SignerAuthorization(address payer,uint256 deadline)"),
      );
      const d = await escrow.eip712Domain();
      expect(d.name).to.equal("Meshgate PaymentEscrow");
      expect(d.version).to.equal("1");
      expect(d.chainId).to.equal(fx.chainId);
      expect(d.verifyingContract).to.equal(fx.escrowAddress);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(0n);
      expect(await escrow.MIN_EPOCH_LENGTH()).to.equal(MIN_EPOCH);
      expect(await escrow.MAX_EPOCH_LENGTH()).to.equal(MAX_EPOCH);
      expect(await escrow.epochLength()).to.equal(EPOCH);
      // Epoch 0 starts at the escrow's deployment block.
      const block = await ethers.provider.getBlock(fx.deployment.contracts.PaymentEscrow.blockNumber);
      expect(await escrow.epochGenesis()).to.equal(BigInt(block!.timestamp));
    });

    it("constructor emits the initial parameters", async () => {
      const split = { providerBps: 7000, nodeBps: 2000, protocolBps: 1000 };
      const fresh = await new PaymentEscrow__factory(fx.deployer).deploy(
        await fx.accessManager.getAddress(),
        await fx.registry.getAddress(),
        await fx.staking.getAddress(),
        await fx.oracle.getAddress(),
        fx.outsider.address,
        MIN_THAW,
        split,
        MIN_EPOCH,
      );
      const tx = fresh.deploymentTransaction()!;
      await expect(tx).to.emit(fresh, "TreasuryUpdated").withArgs(fx.outsider.address);
      await expect(tx).to.emit(fresh, "ThawPeriodUpdated").withArgs(MIN_THAW);
      await expect(tx).to.emit(fresh, "RevenueSplitUpdated").withArgs(7000, 2000, 1000);
      expect(await fresh.thawPeriod()).to.equal(MIN_THAW);
      expect(await fresh.treasury()).to.equal(fx.outsider.address);
      // The epoch clock starts at the deployment's block, with the given length.
      const block = await ethers.provider.getBlock((await tx.wait())!.blockNumber);
      expect(await fresh.epochGenesis()).to.equal(BigInt(block!.timestamp));
      expect(await fresh.epochLength()).to.equal(MIN_EPOCH);
      expect(await fresh.currentEpoch()).to.equal(0n);
    });

    it("constructor takes an epoch length in [5 minutes, 30 days] (EpochLengthOutOfRange)", async () => {
      const factory = new PaymentEscrow__factory(fx.deployer);
      const args = [
        await fx.accessManager.getAddress(),
        await fx.registry.getAddress(),
        await fx.staking.getAddress(),
        await fx.oracle.getAddress(),
        fx.deployer.address,
        THAW,
        SPLIT,
      ] as const;
      for (const length of [0n, 1n, MIN_EPOCH - 1n, MAX_EPOCH + 1n, (1n << 64n) - 1n]) {
        await expect(factory.deploy(...args, length), `length ${length}`)
          .to.be.revertedWithCustomError(factory, "EpochLengthOutOfRange")
          .withArgs(length, MIN_EPOCH, MAX_EPOCH);
      }
      for (const length of [MIN_EPOCH, MAX_EPOCH]) {
        const ok = await factory.deploy(...args, length);
        expect(await ok.epochLength(), `length ${length}`).to.equal(length);
      }
    });

    it("constructor rejects zero addresses, itself as treasury, a bad thaw period or split", async () => {
      const factory = new PaymentEscrow__factory(fx.deployer);
      const am = await fx.accessManager.getAddress();
      const reg = await fx.registry.getAddress();
      const stk = await fx.staking.getAddress();
      const orc = await fx.oracle.getAddress();
      const t = fx.deployer.address;
      const args = [am, reg, stk, orc, t] as const;
      for (let i = 0; i < args.length; i++) {
        const a = [...args] as [string, string, string, string, string];
        a[i] = ZeroAddress;
        await expect(factory.deploy(...a, THAW, SPLIT, EPOCH)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      }
      const nonce = await ethers.provider.getTransactionCount(fx.deployer.address, "pending");
      const self = getCreateAddress({ from: fx.deployer.address, nonce });
      await expect(factory.deploy(am, reg, stk, orc, self, THAW, SPLIT, EPOCH))
        .to.be.revertedWithCustomError(factory, "InvalidTreasury")
        .withArgs(self);
      await expect(factory.deploy(...args, MIN_THAW - 1n, SPLIT, EPOCH))
        .to.be.revertedWithCustomError(factory, "ThawPeriodOutOfRange")
        .withArgs(MIN_THAW - 1n, MIN_THAW, MAX_THAW);
      await expect(factory.deploy(...args, THAW, { providerBps: 8000, nodeBps: 1500, protocolBps: 499 }, EPOCH))
        .to.be.revertedWithCustomError(factory, "InvalidRevenueSplit")
        .withArgs(8000, 1500, 499);
    });
  });

  // -------------------------------------------------------------------- deposit

  describe("deposit", () => {
    it("opens a channel on a token-priced API, then tops it up", async () => {
      const v = voucherFor(fx, 0n);
      const cid = idOf(v);
      const tx = escrow.connect(fx.payer).deposit(fx.operator.address, fx.apiToken, fx.usdcAddress, USDC(100));
      await expect(tx)
        .to.emit(escrow, "Deposited")
        .withArgs(cid, fx.payer.address, fx.operator.address, fx.apiToken, fx.usdcAddress, USDC(100), USDC(100));
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.payer, fx.escrowAddress], [-USDC(100), USDC(100)]);
      expect(await channel(cid)).to.deep.equal({ balance: USDC(100), redeemed: 0n });
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(USDC(100));

      const tx2 = escrow.connect(fx.payer).deposit(fx.operator.address, fx.apiToken, fx.usdcAddress, 7n);
      await expect(tx2)
        .to.emit(escrow, "Deposited")
        .withArgs(cid, fx.payer.address, fx.operator.address, fx.apiToken, fx.usdcAddress, 7n, USDC(100) + 7n);
      expect(await channel(cid)).to.deep.equal({ balance: USDC(100) + 7n, redeemed: 0n });
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(USDC(100) + 7n);
      expect(await escrow.withdrawals(cid)).to.deep.equal([0n, 0n]);
    });

    it("a USD-priced API accepts a token with a feed (DAI), in its own channel", async () => {
      const cid = idOf(voucherFor(fx, 0n, { apiId: fx.apiUsd, token: fx.daiAddress }));
      const amount = parseEther("12.5");
      const tx = escrow.connect(fx.payer).deposit(fx.operator.address, fx.apiUsd, fx.daiAddress, amount);
      await expect(tx)
        .to.emit(escrow, "Deposited")
        .withArgs(cid, fx.payer.address, fx.operator.address, fx.apiUsd, fx.daiAddress, amount, amount);
      await expect(tx).to.changeTokenBalances(ethers, fx.dai, [fx.payer, fx.escrowAddress], [-amount, amount]);
      expect(await channel(cid)).to.deep.equal({ balance: amount, redeemed: 0n });
      expect(await escrow.liabilities(fx.daiAddress)).to.equal(amount);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(0n);
    });

    it("channels are per payer, node, API and token", async () => {
      const ids = new Set([
        await fund(1n),
        await fund(2n, { payer: fx.payer2.address }),
        await fund(3n, { node: fx.operator2.address }),
        await fund(4n, { apiId: fx.apiToken2 }),
        await fund(5n, { apiId: fx.apiUsd, token: fx.daiAddress }),
      ]);
      expect(ids.size).to.equal(5);
      let i = 1n;
      for (const cid of ids) expect((await channel(cid)).balance).to.equal(i++);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(1n + 2n + 3n + 4n);
    });

    it("rejects a zero amount (ZeroAmount)", async () => {
      await expect(
        escrow.connect(fx.payer).deposit(fx.operator.address, fx.apiToken, fx.usdcAddress, 0n),
      ).to.be.revertedWithCustomError(escrow, "ZeroAmount");
    });

    it("requires an active node (NodeNotActive): unknown address, node that unstaked", async () => {
      await expect(escrow.connect(fx.payer).deposit(fx.outsider.address, fx.apiToken, fx.usdcAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "NodeNotActive")
        .withArgs(fx.outsider.address);
      await fx.staking.connect(fx.operator2).unstake(await fx.staking.stakeOf(fx.operator2.address));
      await expect(escrow.connect(fx.payer).deposit(fx.operator2.address, fx.apiToken, fx.usdcAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "NodeNotActive")
        .withArgs(fx.operator2.address);
    });

    it("a channel opened while the node was active stays usable after it leaves", async () => {
      const cid = await fund(1000n, { node: fx.operator2.address });
      await fx.staking.connect(fx.operator2).unstake(await fx.staking.stakeOf(fx.operator2.address));
      const v = voucherFor(fx, 400n, { node: fx.operator2.address });
      await expect(escrow.redeem(v, await sign(fx, fx.payer, v)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 400n, 400n);
    });

    it("rejects a token the API does not accept (TokenNotAccepted)", async () => {
      const p = escrow.connect(fx.payer);
      const op = fx.operator.address;
      // Token-priced API, another token.
      await expect(p.deposit(op, fx.apiToken, fx.daiAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "TokenNotAccepted")
        .withArgs(fx.apiToken, fx.daiAddress);
      // USD-priced API, a token without a feed, and the zero address.
      await expect(p.deposit(op, fx.apiUsd, fx.usdcAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "TokenNotAccepted")
        .withArgs(fx.apiUsd, fx.usdcAddress);
      await expect(p.deposit(op, fx.apiUsd, ZeroAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "TokenNotAccepted")
        .withArgs(fx.apiUsd, ZeroAddress);
      // Removing the feed stops new DAI deposits to the USD-priced API.
      await p.deposit(op, fx.apiUsd, fx.daiAddress, 1n);
      await fx.oracle.connect(fx.deployer).removeFeed(fx.daiAddress);
      await expect(p.deposit(op, fx.apiUsd, fx.daiAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "TokenNotAccepted")
        .withArgs(fx.apiUsd, fx.daiAddress);
    });

    it("rejects a fee-on-transfer token, token-priced or with a feed (TokenNotAccepted), state unchanged", async () => {
      const p = escrow.connect(fx.payer);
      const op = fx.operator.address;
      await expect(p.deposit(op, fx.apiFee, fx.feeAddress, parseEther("100")))
        .to.be.revertedWithCustomError(escrow, "TokenNotAccepted")
        .withArgs(fx.apiFee, fx.feeAddress);
      await fx.oracle.connect(fx.deployer).setFeed(fx.feeAddress, await fx.daiFeed.getAddress(), 3600);
      await expect(p.deposit(op, fx.apiUsd, fx.feeAddress, parseEther("100")))
        .to.be.revertedWithCustomError(escrow, "TokenNotAccepted")
        .withArgs(fx.apiUsd, fx.feeAddress);
      expect(await escrow.liabilities(fx.feeAddress)).to.equal(0n);
      expect(await fx.feeToken.balanceOf(fx.escrowAddress)).to.equal(0n);
      expect((await channel(idOf(voucherFor(fx, 0n, { apiId: fx.apiFee, token: fx.feeAddress })))).balance).to.equal(
        0n,
      );
    });

    it("requires an active API (ApiNotActive): paused, then resumed, then retired", async () => {
      const cid = await fund(100n);
      const deposit = (token = fx.usdcAddress) =>
        escrow.connect(fx.payer).deposit(fx.operator.address, fx.apiToken, token, 1n);
      await fx.registry.connect(fx.provider).pause(fx.apiToken);
      await expect(deposit()).to.be.revertedWithCustomError(escrow, "ApiNotActive").withArgs(fx.apiToken);
      // Checked before the token.
      await expect(deposit(fx.daiAddress)).to.be.revertedWithCustomError(escrow, "ApiNotActive").withArgs(fx.apiToken);
      // What is in the channel stays redeemable and withdrawable.
      const v = voucherFor(fx, 40n);
      await expect(escrow.redeem(v, await sign(fx, fx.payer, v)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 40n, 40n);
      await fx.registry.connect(fx.provider).resume(fx.apiToken);
      await expect(deposit()).to.emit(escrow, "Deposited");
      await fx.registry.connect(fx.provider).retire(fx.apiToken);
      await expect(deposit()).to.be.revertedWithCustomError(escrow, "ApiNotActive").withArgs(fx.apiToken);
      await escrow.connect(fx.payer).startWithdraw(fx.operator.address, fx.apiToken, fx.usdcAddress, 61n);
      await networkHelpers.time.increase(THAW);
      await expect(escrow.connect(fx.payer).finishWithdraw(fx.operator.address, fx.apiToken, fx.usdcAddress))
        .to.emit(escrow, "Withdrawn")
        .withArgs(cid, fx.payer.address, 61n, 0n);
    });

    it("requires pay-per-call (PayPerCallNotOffered) for a subscription-only API", async () => {
      const input = apiInput(fx.usdcAddress);
      await fx.registry.connect(fx.provider).register({
        ...input,
        pricing: { ...input.pricing, models: MODEL_SUBSCRIPTION, pricePerCall: 0n },
      });
      const apiId = await fx.registry.apiCount();
      await expect(escrow.connect(fx.payer).deposit(fx.operator.address, apiId, fx.usdcAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "PayPerCallNotOffered")
        .withArgs(apiId);
      // Both models: fine.
      await fx.registry.connect(fx.provider).register(input);
      const both = await fx.registry.apiCount();
      await expect(escrow.connect(fx.payer).deposit(fx.operator.address, both, fx.usdcAddress, 1n)).to.emit(
        escrow,
        "Deposited",
      );
    });

    it("an unknown API reverts in the registry (ApiNotFound)", async () => {
      await expect(escrow.connect(fx.payer).deposit(fx.operator.address, 99n, fx.usdcAddress, 1n))
        .to.be.revertedWithCustomError(fx.registry, "ApiNotFound")
        .withArgs(99n);
    });

    it("without allowance the token reverts (ERC20InsufficientAllowance)", async () => {
      await fx.usdc.connect(fx.payer).approve(fx.escrowAddress, 5n);
      await expect(escrow.connect(fx.payer).deposit(fx.operator.address, fx.apiToken, fx.usdcAddress, 6n))
        .to.be.revertedWithCustomError(fx.usdc, "ERC20InsufficientAllowance")
        .withArgs(fx.escrowAddress, 5n, 6n);
    });
  });

  // -------------------------------------------------------------------- withdrawals

  describe("withdrawals", () => {
    const op = () => fx.operator.address;

    it("startWithdraw records the request and moves nothing", async () => {
      const cid = await fund(1000n);
      const t = await nextTimestamp();
      const tx = escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 600n);
      await expect(tx)
        .to.emit(escrow, "WithdrawalStarted")
        .withArgs(cid, 600n, t + THAW);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.payer, fx.escrowAddress], [0n, 0n]);
      expect(await escrow.withdrawals(cid)).to.deep.equal([600n, t + THAW]);
      expect(await channel(cid)).to.deep.equal({ balance: 1000n, redeemed: 0n });
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(1000n);
    });

    it("startWithdraw replaces the withdrawal in progress and restarts its clock", async () => {
      const cid = await fund(1000n);
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 600n);
      const t2 = await nextTimestamp(3600);
      await expect(escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 1000n))
        .to.emit(escrow, "WithdrawalStarted")
        .withArgs(cid, 1000n, t2 + THAW);
      expect(await escrow.withdrawals(cid)).to.deep.equal([1000n, t2 + THAW]);
      // The first request's end is no longer enough.
      await networkHelpers.time.setNextBlockTimestamp(t2 + THAW - 1n);
      await expect(escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress, GAS))
        .to.be.revertedWithCustomError(escrow, "StillThawing")
        .withArgs(t2 + THAW);
    });

    it("startWithdraw rejects zero and more than the balance (ZeroAmount, InsufficientBalance)", async () => {
      await expect(
        escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 0n),
      ).to.be.revertedWithCustomError(escrow, "ZeroAmount");
      await expect(escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 1n))
        .to.be.revertedWithCustomError(escrow, "InsufficientBalance")
        .withArgs(1n, 0n);
      await fund(1000n);
      await expect(escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 1001n))
        .to.be.revertedWithCustomError(escrow, "InsufficientBalance")
        .withArgs(1001n, 1000n);
    });

    it("finishWithdraw fails one second before the thaw ends (StillThawing) and pays exactly at it", async () => {
      const cid = await fund(1000n);
      const t = await nextTimestamp();
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 600n);
      await networkHelpers.time.setNextBlockTimestamp(t + THAW - 1n);
      await expect(escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress, GAS))
        .to.be.revertedWithCustomError(escrow, "StillThawing")
        .withArgs(t + THAW);

      await networkHelpers.time.setNextBlockTimestamp(t + THAW);
      const tx = escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress);
      await expect(tx).to.emit(escrow, "Withdrawn").withArgs(cid, fx.payer.address, 600n, 400n);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.payer, fx.escrowAddress], [600n, -600n]);
      expect(await channel(cid)).to.deep.equal({ balance: 400n, redeemed: 0n });
      expect(await escrow.withdrawals(cid)).to.deep.equal([0n, 0n]);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(400n);
      // Done: nothing left to finish.
      await expect(escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NoWithdrawal")
        .withArgs(cid);
    });

    it("the node redeems during the thaw; finishWithdraw pays min(requested, balance left)", async () => {
      const cid = await fund(1000n);
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 800n);
      const v = voucherFor(fx, 300n);
      await expect(escrow.connect(fx.operator).redeem(v, await sign(fx, fx.payer, v)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 300n, 300n);
      await networkHelpers.time.increase(THAW);
      const tx = escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress);
      await expect(tx).to.emit(escrow, "Withdrawn").withArgs(cid, fx.payer.address, 700n, 0n);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.payer, fx.escrowAddress], [700n, -700n]);
      expect(await channel(cid)).to.deep.equal({ balance: 0n, redeemed: 300n });
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(300n); // the node's, provider's, protocol's
    });

    it("a small redemption during the thaw leaves the requested amount whole", async () => {
      const cid = await fund(1000n);
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 800n);
      const v = voucherFor(fx, 100n);
      await escrow.redeem(v, await sign(fx, fx.payer, v));
      await networkHelpers.time.increase(THAW);
      await expect(escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.emit(escrow, "Withdrawn")
        .withArgs(cid, fx.payer.address, 800n, 100n);
      expect(await channel(cid)).to.deep.equal({ balance: 100n, redeemed: 100n });
    });

    it("a channel drained during the thaw finishes with 0 and moves nothing", async () => {
      const cid = await fund(1000n);
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 1000n);
      const v = voucherFor(fx, 1000n);
      await escrow.redeem(v, await sign(fx, fx.payer, v));
      await networkHelpers.time.increase(THAW);
      const tx = escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress);
      await expect(tx).to.emit(escrow, "Withdrawn").withArgs(cid, fx.payer.address, 0n, 0n);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.payer, fx.escrowAddress], [0n, 0n]);
      expect(await escrow.withdrawals(cid)).to.deep.equal([0n, 0n]);
    });

    it("finishWithdraw and cancelWithdraw without a withdrawal (NoWithdrawal), only the payer's own", async () => {
      const cid = await fund(1000n);
      await expect(escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NoWithdrawal")
        .withArgs(cid);
      await expect(escrow.connect(fx.payer).cancelWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NoWithdrawal")
        .withArgs(cid);
      // Somebody else's request is for somebody else's channel.
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 1000n);
      await networkHelpers.time.increase(THAW);
      const otherId = idOf(voucherFor(fx, 0n, { payer: fx.outsider.address }));
      await expect(escrow.connect(fx.outsider).finishWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NoWithdrawal")
        .withArgs(otherId);
      await expect(escrow.connect(fx.outsider).cancelWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NoWithdrawal")
        .withArgs(otherId);
      expect(await escrow.withdrawals(cid)).to.not.deep.equal([0n, 0n]);
    });

    it("cancelWithdraw removes the request", async () => {
      const cid = await fund(1000n);
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 500n);
      const tx = escrow.connect(fx.payer).cancelWithdraw(op(), fx.apiToken, fx.usdcAddress);
      await expect(tx).to.emit(escrow, "WithdrawalCancelled").withArgs(cid);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.payer, fx.escrowAddress], [0n, 0n]);
      expect(await escrow.withdrawals(cid)).to.deep.equal([0n, 0n]);
      await networkHelpers.time.increase(THAW);
      await expect(escrow.connect(fx.payer).finishWithdraw(op(), fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NoWithdrawal")
        .withArgs(cid);
      expect(await channel(cid)).to.deep.equal({ balance: 1000n, redeemed: 0n });
    });

    it("a new thaw period applies to later withdrawals only", async () => {
      const cid = await fund(1000n);
      const t = await nextTimestamp();
      await escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 100n);
      await escrow.connect(fx.deployer).setThawPeriod(MIN_THAW);
      expect((await escrow.withdrawals(cid)).thawEndsAt).to.equal(t + THAW);
      const t2 = await nextTimestamp();
      await expect(escrow.connect(fx.payer).startWithdraw(op(), fx.apiToken, fx.usdcAddress, 100n))
        .to.emit(escrow, "WithdrawalStarted")
        .withArgs(cid, 100n, t2 + MIN_THAW);
    });
  });

  // -------------------------------------------------------------------- signers

  describe("signers", () => {
    async function proof(hot: Signer, payer: string, deadline: bigint, domain = fx.domain) {
      return signSignerAuthorization(hot, domain, payer, deadline);
    }

    it("authorizeSigner registers a key that consented", async () => {
      const deadline = BigInt(await networkHelpers.time.latest()) + 100n;
      const sig = await proof(HOT, fx.payer.address, deadline);
      await expect(escrow.connect(fx.payer).authorizeSigner(HOT.address, deadline, sig))
        .to.emit(escrow, "SignerAuthorized")
        .withArgs(fx.payer.address, HOT.address);
      expect(await escrow.signers(HOT.address)).to.deep.equal([fx.payer.address, 0n]);
      expect(await escrow.isAuthorizedSigner(HOT.address, fx.payer.address)).to.equal(true);
      expect(await escrow.isAuthorizedSigner(HOT.address, fx.payer2.address)).to.equal(false);
      // The key now signs vouchers the escrow pays.
      const cid = await fund(1000n);
      const v = voucherFor(fx, 10n);
      await expect(escrow.redeem(v, await sign(fx, HOT, v)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 10n, 10n);
    });

    it("accepts a proof whose deadline is now, rejects one past it (ProofExpired)", async () => {
      const t = await nextTimestamp();
      await expect(
        escrow.connect(fx.payer).authorizeSigner(HOT.address, t, await proof(HOT, fx.payer.address, t)),
      ).to.emit(escrow, "SignerAuthorized");
      const t2 = await nextTimestamp();
      const expired = t2 - 1n;
      await expect(
        escrow
          .connect(fx.payer)
          .authorizeSigner(HOT2.address, expired, await proof(HOT2, fx.payer.address, expired), GAS),
      )
        .to.be.revertedWithCustomError(escrow, "ProofExpired")
        .withArgs(expired);
    });

    it("rejects the zero address (ZeroAddress)", async () => {
      const deadline = BigInt(await networkHelpers.time.latest()) + 100n;
      await expect(
        escrow.connect(fx.payer).authorizeSigner(ZeroAddress, deadline, await proof(HOT, fx.payer.address, deadline)),
      ).to.be.revertedWithCustomError(escrow, "ZeroAddress");
    });

    it("rejects proofs that are not the key's consent for this payer here (InvalidSignerProof)", async () => {
      const deadline = BigInt(await networkHelpers.time.latest()) + 100n;
      const p = escrow.connect(fx.payer);
      const good = await proof(HOT, fx.payer.address, deadline);
      const bad: [string, string][] = [
        ["by another key", await proof(HOT2, fx.payer.address, deadline)],
        ["for another payer", await proof(HOT, fx.payer2.address, deadline)],
        ["for another deadline", await proof(HOT, fx.payer.address, deadline + 1n)],
        ["for another escrow", await proof(HOT, fx.payer.address, deadline, escrowDomain(fx.chainId, ZeroAddress))],
        ["for another chain", await proof(HOT, fx.payer.address, deadline, escrowDomain(1n, fx.escrowAddress))],
        ["tampered r", tamper(good, 5)],
        ["tampered s", tamper(good, 40)],
        ["malleable (high s)", malleate(good)],
        ["64 bytes (EIP-2098)", compact(good)],
        ["v = 29", withV(good, 29)],
        ["empty", "0x"],
      ];
      for (const [what, sig] of bad) {
        await expect(p.authorizeSigner(HOT.address, deadline, sig), what)
          .to.be.revertedWithCustomError(escrow, "InvalidSignerProof")
          .withArgs(HOT.address);
      }
      // A payer cannot use another payer's proof either: the digest binds msg.sender.
      const forPayer2 = await proof(HOT, fx.payer2.address, deadline);
      await expect(escrow.connect(fx.payer).authorizeSigner(HOT.address, deadline, forPayer2))
        .to.be.revertedWithCustomError(escrow, "InvalidSignerProof")
        .withArgs(HOT.address);
      await expect(escrow.connect(fx.payer2).authorizeSigner(HOT.address, deadline, forPayer2)).to.emit(
        escrow,
        "SignerAuthorized",
      );
      expect(await escrow.signers(HOT.address)).to.deep.equal([fx.payer2.address, 0n]);
    });

    it("a key signs for one payer at a time (SignerAlreadyAuthorized), also during its revocation", async () => {
      await authorize(fx, fx.payer, HOT);
      const deadline = BigInt(await networkHelpers.time.latest()) + 100n;
      await expect(
        escrow.connect(fx.payer).authorizeSigner(HOT.address, deadline, await proof(HOT, fx.payer.address, deadline)),
      )
        .to.be.revertedWithCustomError(escrow, "SignerAlreadyAuthorized")
        .withArgs(HOT.address, fx.payer.address);
      await expect(
        escrow.connect(fx.payer2).authorizeSigner(HOT.address, deadline, await proof(HOT, fx.payer2.address, deadline)),
      )
        .to.be.revertedWithCustomError(escrow, "SignerAlreadyAuthorized")
        .withArgs(HOT.address, fx.payer.address);

      const t = await nextTimestamp();
      await escrow.connect(fx.payer).revokeSigner(HOT.address);
      const revokedAt = t + THAW;
      const late = revokedAt + 100n;
      await networkHelpers.time.setNextBlockTimestamp(revokedAt - 1n);
      await expect(
        escrow.connect(fx.payer2).authorizeSigner(HOT.address, late, await proof(HOT, fx.payer2.address, late), GAS),
      )
        .to.be.revertedWithCustomError(escrow, "SignerAlreadyAuthorized")
        .withArgs(HOT.address, fx.payer.address);
    });

    it("a key can be authorized again once its revocation took effect, by the same or another payer", async () => {
      await authorize(fx, fx.payer, HOT);
      const t = await nextTimestamp();
      await escrow.connect(fx.payer).revokeSigner(HOT.address);
      const revokedAt = t + THAW;
      const late = revokedAt + 100n;
      const proof2 = await proof(HOT, fx.payer2.address, late);
      await networkHelpers.time.setNextBlockTimestamp(revokedAt);
      await expect(escrow.connect(fx.payer2).authorizeSigner(HOT.address, late, proof2))
        .to.emit(escrow, "SignerAuthorized")
        .withArgs(fx.payer2.address, HOT.address);
      expect(await escrow.signers(HOT.address)).to.deep.equal([fx.payer2.address, 0n]);
      expect(await escrow.isAuthorizedSigner(HOT.address, fx.payer.address)).to.equal(false);
      expect(await escrow.isAuthorizedSigner(HOT.address, fx.payer2.address)).to.equal(true);

      // Its old vouchers for the first payer are dead; new ones for the second payer work.
      await fund(1000n);
      const cid2 = await fund(1000n, { payer: fx.payer2.address });
      const old = voucherFor(fx, 10n);
      await expect(escrow.redeem(old, await sign(fx, HOT, old)))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(HOT.address, fx.payer.address);
      const v2 = voucherFor(fx, 10n, { payer: fx.payer2.address });
      await expect(escrow.redeem(v2, await sign(fx, HOT, v2)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid2, 10n, 10n);

      // And back to the first payer after the second one's revocation took effect.
      const t2 = await nextTimestamp();
      await escrow.connect(fx.payer2).revokeSigner(HOT.address);
      await networkHelpers.time.increaseTo(t2 + THAW);
      await expect(authorize(fx, fx.payer, HOT))
        .to.emit(escrow, "SignerAuthorized")
        .withArgs(fx.payer.address, HOT.address);
    });

    it("revokeSigner thaws: the key's vouchers pay until revokedAt, not at or after it", async () => {
      await authorize(fx, fx.payer, HOT);
      const cid = await fund(1000n);
      const t = await nextTimestamp();
      const revokedAt = t + THAW;
      await expect(escrow.connect(fx.payer).revokeSigner(HOT.address))
        .to.emit(escrow, "SignerRevocationStarted")
        .withArgs(fx.payer.address, HOT.address, revokedAt);
      expect(await escrow.signers(HOT.address)).to.deep.equal([fx.payer.address, revokedAt]);
      expect(await escrow.isAuthorizedSigner(HOT.address, fx.payer.address)).to.equal(true);

      const v1 = voucherFor(fx, 100n);
      await networkHelpers.time.setNextBlockTimestamp(revokedAt - 1n);
      await expect(escrow.redeem(v1, await sign(fx, HOT, v1)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 100n, 100n);

      const v2 = voucherFor(fx, 200n);
      const sig2 = await sign(fx, HOT, v2);
      await networkHelpers.time.setNextBlockTimestamp(revokedAt);
      await expect(escrow.redeem(v2, sig2, GAS))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(HOT.address, fx.payer.address);
      expect(await escrow.isAuthorizedSigner(HOT.address, fx.payer.address)).to.equal(false);
      await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [bv(v2, sig2)]))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(HOT.address, fx.payer.address);
      expect(await channel(cid)).to.deep.equal({ balance: 900n, redeemed: 100n });
    });

    it("a second revocation is refused: SignerRevocationPending while pending, SignerNotAuthorized once effective", async () => {
      await authorize(fx, fx.payer, HOT);
      const t = await nextTimestamp();
      await escrow.connect(fx.payer).revokeSigner(HOT.address);
      await expect(escrow.connect(fx.payer).revokeSigner(HOT.address))
        .to.be.revertedWithCustomError(escrow, "SignerRevocationPending")
        .withArgs(HOT.address, t + THAW);
      await networkHelpers.time.increase(THAW * 2n);
      await expect(escrow.connect(fx.payer).revokeSigner(HOT.address))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(HOT.address, fx.payer.address);
    });

    it("only the signer's payer can revoke it (SignerNotAuthorized)", async () => {
      await authorize(fx, fx.payer, HOT);
      await expect(escrow.connect(fx.payer2).revokeSigner(HOT.address))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(HOT.address, fx.payer2.address);
      await expect(escrow.connect(fx.payer).revokeSigner(HOT2.address))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(HOT2.address, fx.payer.address);
      // The payer's own key is not a registered signer, and cannot be revoked.
      await expect(escrow.connect(fx.payer).revokeSigner(fx.payer.address))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(fx.payer.address, fx.payer.address);
      expect(await escrow.signers(HOT.address)).to.deep.equal([fx.payer.address, 0n]);
    });

    it("the payer's own key is always a valid signer", async () => {
      expect(await escrow.isAuthorizedSigner(fx.payer.address, fx.payer.address)).to.equal(true);
      expect(await escrow.isAuthorizedSigner(ZeroAddress, ZeroAddress)).to.equal(false);
      expect(await escrow.isAuthorizedSigner(STRANGER.address, ZeroAddress)).to.equal(false);
      // Even when the payer's address is itself a revoked signer of another payer.
      await authorize(fx, fx.payer2, fx.payer);
      await escrow.connect(fx.payer2).revokeSigner(fx.payer.address);
      await networkHelpers.time.increase(THAW);
      expect(await escrow.isAuthorizedSigner(fx.payer.address, fx.payer2.address)).to.equal(false);
      expect(await escrow.isAuthorizedSigner(fx.payer.address, fx.payer.address)).to.equal(true);
      const cid = await fund(1000n);
      const v = voucherFor(fx, 1n);
      await expect(escrow.redeem(v, await sign(fx, fx.payer, v)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 1n, 1n);
    });

    it("doubt: an old consent proof re-authorizes a revoked key for the same payer until its deadline", async () => {
      // SignerAuthorization has no nonce: consent once given for (payer, deadline) can be replayed
      // by that payer after the revocation took effect. Documented behaviour, not a fund risk.
      const deadline = BigInt(await networkHelpers.time.latest()) + 10n * THAW;
      const consent = await proof(HOT, fx.payer.address, deadline);
      await escrow.connect(fx.payer).authorizeSigner(HOT.address, deadline, consent);
      await escrow.connect(fx.payer).revokeSigner(HOT.address);
      await networkHelpers.time.increase(THAW);
      await expect(escrow.connect(fx.payer).authorizeSigner(HOT.address, deadline, consent))
        .to.emit(escrow, "SignerAuthorized")
        .withArgs(fx.payer.address, HOT.address);
    });
  });

  // -------------------------------------------------------------------- redeem

  describe("redeem", () => {
    let cid: string;

    beforeEach(async () => {
      cid = await fund(1000n);
      await authorize(fx, fx.payer, HOT);
    });

    it("pays only the increase since the last redemption (100 then 250 pays 100 then 150)", async () => {
      const v1 = voucherFor(fx, 100n);
      const tx1 = escrow.connect(fx.operator).redeem(v1, await sign(fx, HOT, v1));
      await expect(tx1).to.emit(escrow, "Redeemed").withArgs(cid, 100n, 100n);
      await expect(tx1).to.changeTokenBalances(
        ethers,
        fx.usdc,
        [fx.escrowAddress, fx.operator, fx.payer],
        [0n, 0n, 0n],
      );
      expect(await channel(cid)).to.deep.equal({ balance: 900n, redeemed: 100n });
      const s1 = shares(100n);
      expect(await earnings()).to.deep.equal(s1);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(1000n);

      const v2 = voucherFor(fx, 250n);
      await expect(escrow.connect(fx.operator).redeem(v2, await sign(fx, HOT, v2)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 250n, 150n);
      expect(await channel(cid)).to.deep.equal({ balance: 750n, redeemed: 250n });
      const s2 = shares(150n);
      expect(await earnings()).to.deep.equal({
        node: s1.node + s2.node,
        provider: s1.provider + s2.provider,
        protocol: s1.protocol + s2.protocol,
      });
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(1000n);
    });

    it("anyone may submit a voucher; the node is credited all the same", async () => {
      const v = voucherFor(fx, 40n);
      await expect(escrow.connect(fx.outsider).redeem(v, await sign(fx, HOT, v)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 40n, 40n);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(6n);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.outsider.address)).to.equal(0n);
    });

    it("an equal or lower cumulative amount pays nothing (NothingToRedeem)", async () => {
      const v = voucherFor(fx, 0n);
      await expect(escrow.redeem(v, await sign(fx, HOT, v)))
        .to.be.revertedWithCustomError(escrow, "NothingToRedeem")
        .withArgs(cid, 0n, 0n);
      const v1 = voucherFor(fx, 300n);
      const sig1 = await sign(fx, HOT, v1);
      await escrow.redeem(v1, sig1);
      await expect(escrow.redeem(v1, sig1))
        .to.be.revertedWithCustomError(escrow, "NothingToRedeem")
        .withArgs(cid, 300n, 300n);
      const lower = voucherFor(fx, 299n);
      await expect(escrow.redeem(lower, await sign(fx, HOT, lower)))
        .to.be.revertedWithCustomError(escrow, "NothingToRedeem")
        .withArgs(cid, 299n, 300n);
      expect(await channel(cid)).to.deep.equal({ balance: 700n, redeemed: 300n });
    });

    it("more than the balance is refused (InsufficientBalance) and changes nothing", async () => {
      const v1 = voucherFor(fx, 100n);
      await escrow.redeem(v1, await sign(fx, HOT, v1));
      const before = await earnings();
      const over = voucherFor(fx, 1001n);
      await expect(escrow.redeem(over, await sign(fx, HOT, over)))
        .to.be.revertedWithCustomError(escrow, "InsufficientBalance")
        .withArgs(901n, 900n);
      expect(await channel(cid)).to.deep.equal({ balance: 900n, redeemed: 100n });
      expect(await earnings()).to.deep.equal(before);
      // Exactly the balance is fine.
      const all = voucherFor(fx, 1000n);
      await expect(escrow.redeem(all, await sign(fx, HOT, all)))
        .to.emit(escrow, "Redeemed")
        .withArgs(cid, 1000n, 900n);
      expect(await channel(cid)).to.deep.equal({ balance: 0n, redeemed: 1000n });
    });

    it("a top-up after the channel ran dry makes the same voucher redeemable", async () => {
      const v = voucherFor(fx, 1500n);
      const sig = await sign(fx, HOT, v);
      await expect(escrow.redeem(v, sig))
        .to.be.revertedWithCustomError(escrow, "InsufficientBalance")
        .withArgs(1500n, 1000n);
      await fund(500n);
      await expect(escrow.redeem(v, sig)).to.emit(escrow, "Redeemed").withArgs(cid, 1500n, 1500n);
      expect(await channel(cid)).to.deep.equal({ balance: 0n, redeemed: 1500n });
    });

    describe("signature attacks", () => {
      let v: Voucher;
      let sig: string;

      beforeEach(async () => {
        v = voucherFor(fx, 100n);
        sig = await sign(fx, HOT, v);
      });

      afterEach(async () => {
        // None of the attacks moved anything.
        expect(await channel(cid)).to.deep.equal({ balance: 1000n, redeemed: 0n });
      });

      it("malleable signature (s -> n - s, v flipped) is rejected (InvalidSignature)", async () => {
        const m = malleate(sig);
        expect(m).to.not.equal(sig);
        // It is the same signature to ecrecover: the precompile would accept it.
        await expect(escrow.redeem(v, m)).to.be.revertedWithCustomError(escrow, "InvalidSignature");
        await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [bv(v, m)])).to.be.revertedWithCustomError(
          escrow,
          "InvalidSignature",
        );
      });

      it("64-byte (EIP-2098), wrong v and malformed signatures are rejected (InvalidSignature)", async () => {
        const zeros = `0x${"00".repeat(65)}`;
        const cases: [string, string][] = [
          ["EIP-2098 compact", compact(sig)],
          ["v = 29", withV(sig, 29)],
          ["v = 0", withV(sig, 0)],
          ["v = 1", withV(sig, 1)],
          ["empty", "0x"],
          ["one byte", "0x01"],
          ["66 bytes", `${sig}00`],
          ["64 zero bytes", `0x${"00".repeat(64)}`],
          ["65 zero bytes", zeros],
          ["r = 0", `0x${"00".repeat(32)}${sig.slice(66)}`],
          ["s = 0", `${sig.slice(0, 66)}${"00".repeat(32)}${sig.slice(130)}`],
        ];
        for (const [what, bad] of cases) {
          await expect(escrow.redeem(v, bad), what).to.be.revertedWithCustomError(escrow, "InvalidSignature");
        }
      });

      it("a voucher signed for another chain id is not the signer's (SignerNotAuthorized)", async () => {
        const bad = await sign(fx, HOT, v, escrowDomain(1n, fx.escrowAddress));
        const who = recovered(fx, v, bad);
        expect(who).to.not.equal(HOT.address);
        await expect(escrow.redeem(v, bad))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(who, fx.payer.address);
      });

      it("a voucher signed for another escrow is not the signer's here (SignerNotAuthorized)", async () => {
        const other = await new PaymentEscrow__factory(fx.deployer).deploy(
          await fx.accessManager.getAddress(),
          await fx.registry.getAddress(),
          await fx.staking.getAddress(),
          await fx.oracle.getAddress(),
          fx.deployer.address,
          THAW,
          SPLIT,
          EPOCH,
        );
        const otherDomain = escrowDomain(fx.chainId, await other.getAddress());
        // Signed by the payer's own key: valid on the other escrow (which has no funds for it)...
        const bad = await sign(fx, fx.payer, v, otherDomain);
        await expect(other.redeem(v, bad))
          .to.be.revertedWithCustomError(other, "InsufficientBalance")
          .withArgs(100n, 0n);
        // ...and a stranger's signature here.
        const who = recovered(fx, v, bad);
        expect(who).to.not.equal(fx.payer.address);
        await expect(escrow.redeem(v, bad))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(who, fx.payer.address);
      });

      it("a voucher replayed on another funded channel recovers another address (SignerNotAuthorized)", async () => {
        await fx.oracle.connect(fx.deployer).setFeed(fx.usdcAddress, await fx.daiFeed.getAddress(), 3600);
        const base = voucherFor(fx, 100n, { apiId: fx.apiUsd, token: fx.daiAddress });
        const baseSig = await sign(fx, HOT, base);
        await fund(1000n, { apiId: fx.apiUsd, token: fx.daiAddress });
        const targets: [string, Voucher][] = [
          ["other node", { ...base, node: fx.operator2.address }],
          ["other api", { ...base, apiId: fx.apiToken2, token: fx.usdcAddress }],
          ["other token", { ...base, token: fx.usdcAddress }],
          ["other payer", { ...base, payer: fx.payer2.address }],
          ["other amount", { ...base, cumulativeAmount: 101n }],
        ];
        for (const [what, t] of targets) {
          const tid = await fund(1000n, t);
          const who = recovered(fx, t, baseSig);
          expect(who, what).to.not.equal(HOT.address);
          await expect(escrow.redeem(t, baseSig), what)
            .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
            .withArgs(who, t.payer);
          expect((await channel(tid)).redeemed, what).to.equal(0n);
        }
        // The original still works.
        await expect(escrow.redeem(base, baseSig)).to.emit(escrow, "Redeemed");
      });

      it("keys that do not sign for the payer are refused (SignerNotAuthorized)", async () => {
        // A stranger's key.
        const s1 = await sign(fx, STRANGER, v);
        await expect(escrow.redeem(v, s1))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(STRANGER.address, fx.payer.address);
        // Another payer's authorized key, signing a well-formed voucher naming this payer.
        await authorize(fx, fx.payer2, HOT2);
        const s2 = await sign(fx, HOT2, v);
        await expect(escrow.redeem(v, s2))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(HOT2.address, fx.payer.address);
        // Another payer's own key.
        const s3 = await sign(fx, fx.payer2, v);
        await expect(escrow.redeem(v, s3))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(fx.payer2.address, fx.payer.address);
        // The node itself.
        const s4 = await sign(fx, fx.operator, v);
        await expect(escrow.redeem(v, s4))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(fx.operator.address, fx.payer.address);
        // A voucher naming the zero payer: no key signs for it.
        const z = { ...v, payer: ZeroAddress };
        await expect(escrow.redeem(z, await sign(fx, STRANGER, z)))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(STRANGER.address, ZeroAddress);
      });

      it("a revoked key is refused once the revocation took effect (SignerNotAuthorized)", async () => {
        await escrow.connect(fx.payer).revokeSigner(HOT.address);
        await networkHelpers.time.increase(THAW);
        await expect(escrow.redeem(v, sig))
          .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
          .withArgs(HOT.address, fx.payer.address);
      });
    });
  });

  // -------------------------------------------------------------------- revenue split

  describe("revenue split", () => {
    beforeEach(async () => {
      await fund(USDC(1000));
    });

    it("is exact: node and protocol rounded down, the provider gets the remainder (no dust)", async () => {
      let cumulative = 0n;
      let total = { node: 0n, provider: 0n, protocol: 0n };
      for (const paid of [12_345n, 1n, 7n, 9_999n, 10_001n, 333_333n]) {
        cumulative += paid;
        const v = voucherFor(fx, cumulative);
        await escrow.redeem(v, await sign(fx, fx.payer, v));
        const s = shares(paid);
        expect(s.node + s.protocol + s.provider).to.equal(paid);
        total = {
          node: total.node + s.node,
          provider: total.provider + s.provider,
          protocol: total.protocol + s.protocol,
        };
        expect(await earnings()).to.deep.equal(total);
      }
      // 12345 at 80/15/5: node 1851 (1851.75), protocol 617 (617.25), provider 9877.
      expect(shares(12_345n)).to.deep.equal({ node: 1851n, protocol: 617n, provider: 9877n });
      expect(total.node + total.provider + total.protocol).to.equal(cumulative);
    });

    it("setRevenueSplit applies to later redemptions only", async () => {
      const v1 = voucherFor(fx, 10_001n);
      await escrow.redeem(v1, await sign(fx, fx.payer, v1));
      const before = await earnings();
      expect(before).to.deep.equal(shares(10_001n));

      const split = { providerBps: 3333n, nodeBps: 3333n, protocolBps: 3334n };
      await expect(escrow.connect(fx.deployer).setRevenueSplit(split))
        .to.emit(escrow, "RevenueSplitUpdated")
        .withArgs(3333, 3333, 3334);
      const s = await escrow.revenueSplit();
      expect([s.providerBps, s.nodeBps, s.protocolBps]).to.deep.equal([3333n, 3333n, 3334n]);
      expect(await earnings()).to.deep.equal(before);

      const v2 = voucherFor(fx, 10_008n); // pays 7: node 2 (2.33), protocol 2 (2.33), provider 3
      await escrow.redeem(v2, await sign(fx, fx.payer, v2));
      expect(shares(7n, split)).to.deep.equal({ node: 2n, protocol: 2n, provider: 3n });
      expect(await earnings()).to.deep.equal({
        node: before.node + 2n,
        protocol: before.protocol + 2n,
        provider: before.provider + 3n,
      });
    });

    it("a split may give everything to one party", async () => {
      await escrow.connect(fx.deployer).setRevenueSplit({ providerBps: 0, nodeBps: 10_000, protocolBps: 0 });
      const v = voucherFor(fx, 999n);
      await escrow.redeem(v, await sign(fx, fx.payer, v));
      expect(await earnings()).to.deep.equal({ node: 999n, provider: 0n, protocol: 0n });
    });

    it("rejects splits that do not sum to 10,000 (InvalidRevenueSplit), even if they wrap in uint16", async () => {
      for (const [p, n, pr] of [
        [8000, 1500, 499],
        [8000, 1500, 501],
        [0, 0, 0],
        [10_000, 65_535, 1], // 75,536 == 10,000 mod 2^16
        [65_535, 65_535, 65_535],
      ] as const) {
        await expect(escrow.connect(fx.deployer).setRevenueSplit({ providerBps: p, nodeBps: n, protocolBps: pr }))
          .to.be.revertedWithCustomError(escrow, "InvalidRevenueSplit")
          .withArgs(p, n, pr);
      }
      const s = await escrow.revenueSplit();
      expect([s.providerBps, s.nodeBps, s.protocolBps]).to.deep.equal([8000n, 1500n, 500n]);
    });

    it("only governance sets the split, the thaw period and the treasury (AccessManagedUnauthorized)", async () => {
      const o = escrow.connect(fx.outsider);
      await expect(o.setRevenueSplit({ providerBps: 10_000, nodeBps: 0, protocolBps: 0 }))
        .to.be.revertedWithCustomError(escrow, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
      await expect(o.setThawPeriod(MIN_THAW))
        .to.be.revertedWithCustomError(escrow, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
      await expect(o.setTreasury(fx.outsider.address))
        .to.be.revertedWithCustomError(escrow, "AccessManagedUnauthorized")
        .withArgs(fx.outsider.address);
    });
  });

  describe("setThawPeriod", () => {
    it("accepts both bounds and emits ThawPeriodUpdated", async () => {
      for (const p of [MIN_THAW, MAX_THAW]) {
        await expect(escrow.connect(fx.deployer).setThawPeriod(p)).to.emit(escrow, "ThawPeriodUpdated").withArgs(p);
        expect(await escrow.thawPeriod()).to.equal(p);
      }
    });

    it("rejects periods outside [1 hour, 30 days] (ThawPeriodOutOfRange)", async () => {
      for (const p of [0n, MIN_THAW - 1n, MAX_THAW + 1n]) {
        await expect(escrow.connect(fx.deployer).setThawPeriod(p))
          .to.be.revertedWithCustomError(escrow, "ThawPeriodOutOfRange")
          .withArgs(p, MIN_THAW, MAX_THAW);
      }
      expect(await escrow.thawPeriod()).to.equal(THAW);
    });

    it("a new period applies to later revocations only", async () => {
      await authorize(fx, fx.payer, HOT);
      await escrow.connect(fx.deployer).setThawPeriod(MAX_THAW);
      const t = await nextTimestamp();
      await expect(escrow.connect(fx.payer).revokeSigner(HOT.address))
        .to.emit(escrow, "SignerRevocationStarted")
        .withArgs(fx.payer.address, HOT.address, t + MAX_THAW);
    });
  });

  // -------------------------------------------------------------------- redeemBatch

  describe("redeemBatch", () => {
    const payers = () => [fx.payer, fx.payer2, fx.payer3];
    /** Who signs for each payer: a hot key, a hot key, the payer's own key. */
    const keys = () => [HOT, HOT2, fx.payer3] as Signer[];

    beforeEach(async () => {
      await authorize(fx, fx.payer, HOT);
      await authorize(fx, fx.payer2, HOT2);
      for (const p of payers()) {
        await fund(10_000n, { payer: p.address });
        await fund(10_000n, { payer: p.address, apiId: fx.apiToken2 });
      }
    });

    async function signed(payerIndex: number, cumulativeAmount: bigint, apiId = fx.apiToken) {
      const v = voucherFor(fx, cumulativeAmount, { payer: payers()[payerIndex]!.address, apiId });
      return { v, sig: await sign(fx, keys()[payerIndex]!, v), id: idOf(v) };
    }

    async function snapshot() {
      const out: unknown[] = [];
      for (const p of payers()) {
        for (const apiId of [fx.apiToken, fx.apiToken2])
          out.push(await channel(idOf(voucherFor(fx, 0n, { payer: p.address, apiId }))));
      }
      out.push(await earnings(), await earnings(fx.usdcAddress, fx.apiToken2));
      return out;
    }

    it("rejects an empty batch (EmptyBatch)", async () => {
      await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [])).to.be.revertedWithCustomError(
        escrow,
        "EmptyBatch",
      );
    });

    it("redeems many channels at once, crediting each API and the node exactly", async () => {
      const items = [
        await signed(0, 1001n),
        await signed(1, 2003n),
        await signed(2, 3007n),
        await signed(0, 4001n, fx.apiToken2),
        await signed(1, 5003n, fx.apiToken2),
        await signed(2, 9999n, fx.apiToken2),
      ];
      const tx = escrow.connect(fx.operator).redeemBatch(
        fx.operator.address,
        fx.usdcAddress,
        items.map((i) => bv(i.v, i.sig)),
      );
      for (const i of items)
        await expect(tx).to.emit(escrow, "Redeemed").withArgs(i.id, i.v.cumulativeAmount, i.v.cumulativeAmount);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.escrowAddress], [0n]);
      for (const i of items) {
        expect(await channel(i.id)).to.deep.equal({
          balance: 10_000n - i.v.cumulativeAmount,
          redeemed: i.v.cumulativeAmount,
        });
      }
      const sum = (apiId: bigint) =>
        items
          .filter((i) => i.v.apiId === apiId)
          .map((i) => shares(i.v.cumulativeAmount))
          .reduce((a, s) => ({
            node: a.node + s.node,
            provider: a.provider + s.provider,
            protocol: a.protocol + s.protocol,
          }));
      const a1 = sum(fx.apiToken);
      const a2 = sum(fx.apiToken2);
      const e1 = await earnings(fx.usdcAddress, fx.apiToken);
      const e2 = await earnings(fx.usdcAddress, fx.apiToken2);
      expect([e1.provider, e1.protocol]).to.deep.equal([a1.provider, a1.protocol]);
      expect([e2.provider, e2.protocol]).to.deep.equal([a2.provider, a2.protocol]);
      expect(e1.node).to.equal(a1.node + a2.node);
      expect(e1.node + e1.provider + e1.protocol + e2.provider + e2.protocol).to.equal(
        items.reduce((a, i) => a + i.v.cumulativeAmount, 0n),
      );
    });

    it("is idempotent: the same batch twice pays once", async () => {
      const batch = [await signed(0, 100n), await signed(1, 200n), await signed(2, 300n, fx.apiToken2)].map((i) =>
        bv(i.v, i.sig),
      );
      await escrow.redeemBatch(fx.operator.address, fx.usdcAddress, batch);
      const after = await snapshot();
      await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, batch)).not.to.emit(escrow, "Redeemed");
      await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, batch)).not.to.revert(ethers);
      expect(await snapshot()).to.deep.equal(after);
    });

    it("skips a voucher already redeemed, pays the others", async () => {
      const a = await signed(0, 100n);
      const b = await signed(1, 200n, fx.apiToken2);
      const c = await signed(2, 300n);
      await escrow.redeem(a.v, a.sig);
      const before = await earnings();
      const tx = escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [
        bv(a.v, a.sig),
        bv(b.v, b.sig),
        bv(c.v, c.sig),
      ]);
      await expect(tx).to.emit(escrow, "Redeemed").withArgs(b.id, 200n, 200n);
      await expect(tx).to.emit(escrow, "Redeemed").withArgs(c.id, 300n, 300n);
      const receipt = await (await tx).wait();
      const redeemed = receipt!.logs.filter((l) => escrow.interface.parseLog(l)?.name === "Redeemed");
      expect(redeemed.length).to.equal(2);
      expect(await channel(a.id)).to.deep.equal({ balance: 9900n, redeemed: 100n });
      const e1 = await earnings();
      expect(e1.provider).to.equal(before.provider + shares(300n).provider);
      expect(e1.protocol).to.equal(before.protocol + shares(300n).protocol);
      expect(e1.node).to.equal(before.node + shares(200n).node + shares(300n).node);
      const e2 = await earnings(fx.usdcAddress, fx.apiToken2);
      expect([e2.provider, e2.protocol]).to.deep.equal([shares(200n).provider, shares(200n).protocol]);
    });

    for (const [name, order] of [
      ["adjacent", [0, 1, 2, 3, 4, 5]],
      ["interleaved", [0, 3, 1, 4, 2, 5]],
      ["interleaved, starting with the second API", [3, 0, 4, 1, 5, 2]],
    ] as const) {
      it(`mixed APIs (${name}) credit each API exactly`, async () => {
        const all = [
          await signed(0, 101n),
          await signed(1, 203n),
          await signed(2, 307n),
          await signed(0, 401n, fx.apiToken2),
          await signed(1, 503n, fx.apiToken2),
          await signed(2, 607n, fx.apiToken2),
        ];
        const items = order.map((i) => all[i]!);
        await escrow.redeemBatch(
          fx.operator.address,
          fx.usdcAddress,
          items.map((i) => bv(i.v, i.sig)),
        );
        for (const [apiId, idx] of [
          [fx.apiToken, [0, 1, 2]],
          [fx.apiToken2, [3, 4, 5]],
        ] as const) {
          const s = idx.map((i) => shares(all[i]!.v.cumulativeAmount));
          const e = await escrow.apiEarnings(fx.usdcAddress, apiId);
          expect(e.provider, `provider of ${apiId}`).to.equal(s.reduce((a, x) => a + x.provider, 0n));
          expect(e.protocol, `protocol of ${apiId}`).to.equal(s.reduce((a, x) => a + x.protocol, 0n));
        }
        const nodeTotal = all.reduce((a, i) => a + shares(i.v.cumulativeAmount).node, 0n);
        expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(nodeTotal);
      });
    }

    it("three APIs interleaved, the first voucher skipped, credit each API exactly", async () => {
      await fx.oracle.connect(fx.deployer).setFeed(fx.usdcAddress, await fx.daiFeed.getAddress(), 3600);
      await fund(10_000n, { apiId: fx.apiUsd });
      const a = await signed(0, 11n);
      await escrow.redeem(a.v, a.sig);
      const u1 = await signed(0, 1234n, fx.apiUsd);
      const t2 = await signed(1, 777n, fx.apiToken2);
      const t1 = await signed(2, 5555n);
      const u2 = await signed(0, 2234n, fx.apiUsd);
      const before = await escrow.apiEarnings(fx.usdcAddress, fx.apiToken);
      await escrow.redeemBatch(
        fx.operator.address,
        fx.usdcAddress,
        [a, u1, t2, t1, u2].map((i) => bv(i.v, i.sig)),
      );
      const eu = await escrow.apiEarnings(fx.usdcAddress, fx.apiUsd);
      const su = [shares(1234n), shares(1000n)];
      expect([eu.provider, eu.protocol]).to.deep.equal([
        su[0]!.provider + su[1]!.provider,
        su[0]!.protocol + su[1]!.protocol,
      ]);
      const e2 = await escrow.apiEarnings(fx.usdcAddress, fx.apiToken2);
      expect([e2.provider, e2.protocol]).to.deep.equal([shares(777n).provider, shares(777n).protocol]);
      const e1 = await escrow.apiEarnings(fx.usdcAddress, fx.apiToken);
      expect([e1.provider, e1.protocol]).to.deep.equal([
        before.provider + shares(5555n).provider,
        before.protocol + shares(5555n).protocol,
      ]);
    });

    it("the same channel twice in a batch: increases pay in order, a lower one after is skipped", async () => {
      const a = await signed(0, 100n);
      const b = await signed(0, 250n);
      const tx = escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [bv(a.v, a.sig), bv(b.v, b.sig)]);
      await expect(tx).to.emit(escrow, "Redeemed").withArgs(a.id, 100n, 100n);
      await expect(tx).to.emit(escrow, "Redeemed").withArgs(a.id, 250n, 150n);
      const c = await signed(0, 400n);
      const d = await signed(0, 300n);
      await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [bv(c.v, c.sig), bv(d.v, d.sig)]))
        .to.emit(escrow, "Redeemed")
        .withArgs(a.id, 400n, 150n);
      expect(await channel(a.id)).to.deep.equal({ balance: 9600n, redeemed: 400n });
      expect(await earnings()).to.deep.equal({
        node: shares(100n).node + shares(150n).node + shares(150n).node,
        provider: shares(100n).provider + shares(150n).provider + shares(150n).provider,
        protocol: shares(100n).protocol + shares(150n).protocol + shares(150n).protocol,
      });
    });

    it("one bad voucher reverts the whole batch", async () => {
      const good1 = await signed(0, 100n);
      const good2 = await signed(1, 200n, fx.apiToken2);
      const before = await snapshot();
      const over = await signed(2, 10_001n);
      const stranger = voucherFor(fx, 5n, { payer: fx.payer3.address });
      const strangerSig = await sign(fx, STRANGER, stranger);
      const otherNode = voucherFor(fx, 5n, { payer: fx.payer3.address, node: fx.operator2.address });
      const otherNodeSig = await sign(fx, fx.payer3, otherNode);
      const asBatch = { ...otherNode, node: fx.operator.address };
      const cases: [string, BatchVoucher, string, unknown[]][] = [
        ["malleable", bv(good1.v, malleate(good1.sig)), "InvalidSignature", []],
        ["64 bytes", bv(good1.v, compact(good1.sig)), "InvalidSignature", []],
        ["over balance", bv(over.v, over.sig), "InsufficientBalance", [10_001n, 10_000n]],
        ["stranger", bv(stranger, strangerSig), "SignerNotAuthorized", [STRANGER.address, fx.payer3.address]],
        [
          "signed for another node",
          bv(otherNode, otherNodeSig),
          "SignerNotAuthorized",
          [recovered(fx, asBatch, otherNodeSig), fx.payer3.address],
        ],
      ];
      for (const [what, bad, error, args] of cases) {
        const batch = [bv(good1.v, good1.sig), bad, bv(good2.v, good2.sig)];
        await expect(escrow.redeemBatch(fx.operator.address, fx.usdcAddress, batch), what)
          .to.be.revertedWithCustomError(escrow, error)
          .withArgs(...args);
        expect(await snapshot(), what).to.deep.equal(before);
      }
      // A stale voucher with a bad signature is not skipped: the signature is checked first.
      await escrow.redeem(good1.v, good1.sig);
      await expect(
        escrow.redeemBatch(fx.operator.address, fx.usdcAddress, [bv(good1.v, malleate(good1.sig))]),
      ).to.be.revertedWithCustomError(escrow, "InvalidSignature");
    });

    it("the batch's node and token bind every voucher", async () => {
      const a = await signed(0, 100n);
      // Submitted for operator2 / DAI, the digest changes and recovers someone else.
      const asOp2 = { ...a.v, node: fx.operator2.address };
      await expect(escrow.redeemBatch(fx.operator2.address, fx.usdcAddress, [bv(a.v, a.sig)]))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(recovered(fx, asOp2, a.sig), fx.payer.address);
      const asDai = { ...a.v, token: fx.daiAddress };
      await expect(escrow.redeemBatch(fx.operator.address, fx.daiAddress, [bv(a.v, a.sig)]))
        .to.be.revertedWithCustomError(escrow, "SignerNotAuthorized")
        .withArgs(recovered(fx, asDai, a.sig), fx.payer.address);
    });

    // Regression: three channels of 2^127 base units redeemed in one batch sum an API's provider
    // share to 1.2 * 2^128. EarningsLedger._creditApi must refuse (SafeCast), never truncate.
    it("redeemBatch never truncates an API's summed shares above uint128", async () => {
      const big = 1n << 127n;
      for (const p of payers()) {
        await fx.usdc.mint(p.address, big);
        await fund(big - 10_000n, { payer: p.address });
      }
      const items = [await signed(0, big), await signed(1, big), await signed(2, big)];
      const tx = escrow.redeemBatch(
        fx.operator.address,
        fx.usdcAddress,
        items.map((i) => bv(i.v, i.sig)),
      );
      await expect(tx).to.be.revertedWithCustomError(escrow, "SafeCastOverflowedUintDowncast");
    });
  });

  // -------------------------------------------------------------------- earnings

  describe("claims", () => {
    beforeEach(async () => {
      await fund(USDC(100));
      await fund(USDC(100), { apiId: fx.apiToken2 });
      await fund(parseEther("100"), { apiId: fx.apiUsd, token: fx.daiAddress });
      const vs = [
        voucherFor(fx, 12_345n),
        voucherFor(fx, 54_321n, { apiId: fx.apiToken2 }),
        voucherFor(fx, 1_000_001n, { apiId: fx.apiUsd, token: fx.daiAddress }),
      ];
      for (const v of vs) await escrow.redeem(v, await sign(fx, fx.payer, v));
    });

    it("claimNodeEarnings pays the node its earnings in one token", async () => {
      const amount = shares(12_345n).node + shares(54_321n).node;
      const tx = escrow.connect(fx.operator).claimNodeEarnings(fx.usdcAddress);
      await expect(tx).to.emit(escrow, "NodeEarningsClaimed").withArgs(fx.operator.address, fx.usdcAddress, amount);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.operator, fx.escrowAddress], [amount, -amount]);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(0n);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(USDC(200) - amount);
      // DAI earnings stay until claimed in DAI.
      const dai = shares(1_000_001n).node;
      expect(await escrow.nodeEarnings(fx.daiAddress, fx.operator.address)).to.equal(dai);
      await expect(escrow.connect(fx.operator).claimNodeEarnings(fx.daiAddress))
        .to.emit(escrow, "NodeEarningsClaimed")
        .withArgs(fx.operator.address, fx.daiAddress, dai);
    });

    it("claimNodeEarnings with nothing to claim (NothingToClaim)", async () => {
      await escrow.connect(fx.operator).claimNodeEarnings(fx.usdcAddress);
      await expect(escrow.connect(fx.operator).claimNodeEarnings(fx.usdcAddress)).to.be.revertedWithCustomError(
        escrow,
        "NothingToClaim",
      );
      await expect(escrow.connect(fx.operator2).claimNodeEarnings(fx.usdcAddress)).to.be.revertedWithCustomError(
        escrow,
        "NothingToClaim",
      );
    });

    it("claimProviderEarnings pays the API's provider share, protocol share untouched", async () => {
      const s = shares(12_345n);
      const tx = escrow.connect(fx.provider).claimProviderEarnings(fx.apiToken, fx.usdcAddress);
      await expect(tx)
        .to.emit(escrow, "ProviderEarningsClaimed")
        .withArgs(fx.apiToken, fx.provider.address, fx.usdcAddress, s.provider);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.usdc,
        [fx.provider, fx.escrowAddress],
        [s.provider, -s.provider],
      );
      const e = await escrow.apiEarnings(fx.usdcAddress, fx.apiToken);
      expect([e.provider, e.protocol]).to.deep.equal([0n, s.protocol]);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(USDC(200) - s.provider);
      await expect(
        escrow.connect(fx.provider).claimProviderEarnings(fx.apiToken, fx.usdcAddress),
      ).to.be.revertedWithCustomError(escrow, "NothingToClaim");
      // A USD-priced API's earnings are per token.
      const d = shares(1_000_001n);
      await expect(escrow.connect(fx.provider2).claimProviderEarnings(fx.apiUsd, fx.daiAddress))
        .to.emit(escrow, "ProviderEarningsClaimed")
        .withArgs(fx.apiUsd, fx.provider2.address, fx.daiAddress, d.provider);
      await expect(
        escrow.connect(fx.provider2).claimProviderEarnings(fx.apiUsd, fx.usdcAddress),
      ).to.be.revertedWithCustomError(escrow, "NothingToClaim");
    });

    it("only the API's provider claims (NotApiProvider); unknown APIs revert in the registry", async () => {
      await expect(escrow.connect(fx.outsider).claimProviderEarnings(fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NotApiProvider")
        .withArgs(fx.apiToken, fx.outsider.address);
      await expect(escrow.connect(fx.provider2).claimProviderEarnings(fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NotApiProvider")
        .withArgs(fx.apiToken, fx.provider2.address);
      await expect(escrow.connect(fx.provider).claimProviderEarnings(99n, fx.usdcAddress))
        .to.be.revertedWithCustomError(fx.registry, "ApiNotFound")
        .withArgs(99n);
    });

    it("after transferApi + acceptApi the new provider claims, the old one cannot", async () => {
      const s = shares(12_345n);
      await fx.registry.connect(fx.provider).transferApi(fx.apiToken, fx.newProvider.address);
      // Pending: still the old provider's.
      await expect(escrow.connect(fx.newProvider).claimProviderEarnings(fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NotApiProvider")
        .withArgs(fx.apiToken, fx.newProvider.address);
      await fx.registry.connect(fx.newProvider).acceptApi(fx.apiToken);
      await expect(escrow.connect(fx.provider).claimProviderEarnings(fx.apiToken, fx.usdcAddress))
        .to.be.revertedWithCustomError(escrow, "NotApiProvider")
        .withArgs(fx.apiToken, fx.provider.address);
      const tx = escrow.connect(fx.newProvider).claimProviderEarnings(fx.apiToken, fx.usdcAddress);
      await expect(tx)
        .to.emit(escrow, "ProviderEarningsClaimed")
        .withArgs(fx.apiToken, fx.newProvider.address, fx.usdcAddress, s.provider);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.newProvider, fx.provider], [s.provider, 0n]);
    });

    it("collectProtocolFees sends the listed APIs' protocol shares to the treasury; anyone may call", async () => {
      const total = shares(12_345n).protocol + shares(54_321n).protocol;
      const tx = escrow.connect(fx.outsider).collectProtocolFees(fx.usdcAddress, [fx.apiToken, fx.apiToken2]);
      await expect(tx).to.emit(escrow, "ProtocolFeesCollected").withArgs(fx.usdcAddress, fx.deployer.address, total);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.usdc,
        [fx.deployer, fx.escrowAddress, fx.outsider],
        [total, -total, 0n],
      );
      for (const [apiId, paid] of [
        [fx.apiToken, 12_345n],
        [fx.apiToken2, 54_321n],
      ] as const) {
        const e = await escrow.apiEarnings(fx.usdcAddress, apiId);
        expect([e.provider, e.protocol]).to.deep.equal([shares(paid).provider, 0n]);
      }
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(USDC(200) - total);
    });

    it("collectProtocolFees: duplicate ids pay once", async () => {
      const total = shares(12_345n).protocol + shares(54_321n).protocol;
      const tx = escrow.collectProtocolFees(fx.usdcAddress, [
        fx.apiToken,
        fx.apiToken,
        fx.apiToken2,
        fx.apiToken,
        fx.apiToken2,
      ]);
      await expect(tx).to.emit(escrow, "ProtocolFeesCollected").withArgs(fx.usdcAddress, fx.deployer.address, total);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.deployer], [total]);
    });

    it("collectProtocolFees with nothing to collect (NothingToClaim)", async () => {
      await expect(escrow.collectProtocolFees(fx.usdcAddress, [])).to.be.revertedWithCustomError(
        escrow,
        "NothingToClaim",
      );
      await expect(escrow.collectProtocolFees(fx.usdcAddress, [fx.apiUsd, 99n])).to.be.revertedWithCustomError(
        escrow,
        "NothingToClaim",
      );
      await escrow.collectProtocolFees(fx.usdcAddress, [fx.apiToken]);
      await expect(escrow.collectProtocolFees(fx.usdcAddress, [fx.apiToken])).to.be.revertedWithCustomError(
        escrow,
        "NothingToClaim",
      );
    });

    it("setTreasury redirects later fees", async () => {
      await expect(escrow.connect(fx.deployer).setTreasury(fx.outsider.address))
        .to.emit(escrow, "TreasuryUpdated")
        .withArgs(fx.outsider.address);
      expect(await escrow.treasury()).to.equal(fx.outsider.address);
      const d = shares(1_000_001n).protocol;
      const tx = escrow.collectProtocolFees(fx.daiAddress, [fx.apiUsd]);
      await expect(tx).to.emit(escrow, "ProtocolFeesCollected").withArgs(fx.daiAddress, fx.outsider.address, d);
      await expect(tx).to.changeTokenBalances(ethers, fx.dai, [fx.outsider, fx.deployer], [d, 0n]);
    });

    it("setTreasury rejects zero (ZeroAddress) and the escrow itself (InvalidTreasury)", async () => {
      await expect(escrow.connect(fx.deployer).setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        escrow,
        "ZeroAddress",
      );
      await expect(escrow.connect(fx.deployer).setTreasury(fx.escrowAddress))
        .to.be.revertedWithCustomError(escrow, "InvalidTreasury")
        .withArgs(fx.escrowAddress);
      expect(await escrow.treasury()).to.equal(fx.deployer.address);
    });

    it("everyone claims everything: the escrow ends holding exactly the channel balances", async () => {
      await escrow.connect(fx.operator).claimNodeEarnings(fx.usdcAddress);
      await escrow.connect(fx.provider).claimProviderEarnings(fx.apiToken, fx.usdcAddress);
      await escrow.connect(fx.provider2).claimProviderEarnings(fx.apiToken2, fx.usdcAddress);
      await escrow.collectProtocolFees(fx.usdcAddress, [fx.apiToken, fx.apiToken2]);
      const left = USDC(200) - 12_345n - 54_321n;
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(left);
      expect(await fx.usdc.balanceOf(fx.escrowAddress)).to.equal(left);
    });
  });

  // -------------------------------------------------------------------- epoch clock

  describe("epoch clock", () => {
    let genesis: bigint;

    beforeEach(async () => {
      genesis = await escrow.epochGenesis();
      for (const p of [fx.payer, fx.payer2, fx.payer3]) {
        await fund(USDC(1000), { payer: p.address });
        await fund(USDC(1000), { payer: p.address, apiId: fx.apiToken2 });
      }
    });

    /** Mines a block at `offset` seconds into epoch `e`. */
    async function toEpoch(e: number, offset = 0n) {
      await networkHelpers.time.increaseTo(genesis + BigInt(e) * EPOCH + offset);
    }

    /** The signing payer of a voucher (each payer signs its own vouchers here). */
    const payerOf = (v: Voucher) => [fx.payer, fx.payer2, fx.payer3].find((p) => p.address === v.payer)!;

    /** Redeems a voucher alone, signed by its payer. */
    async function redeemOne(cumulativeAmount: bigint, over: Partial<Voucher> = {}) {
      const v = voucherFor(fx, cumulativeAmount, over);
      return escrow.redeem(v, await sign(fx, payerOf(v), v));
    }

    /** Redeems vouchers of the operator in USDC as one batch, each signed by its payer. */
    async function redeemMany(items: [Partial<Voucher>, bigint][]) {
      const batch: BatchVoucher[] = [];
      for (const [over, cumulativeAmount] of items) {
        const v = voucherFor(fx, cumulativeAmount, over);
        batch.push(bv(v, await sign(fx, payerOf(v), v)));
      }
      return escrow.redeemBatch(fx.operator.address, fx.usdcAddress, batch);
    }

    const served = (epoch: number, node = fx.operator.address, token = fx.usdcAddress) =>
      escrow.servedValue(token, node, epoch);

    async function servedAll(epochs: number[], node?: string, token?: string) {
      const out: bigint[] = [];
      for (const e of epochs) out.push(await served(e, node, token));
      return out;
    }

    it("currentEpoch counts epochLength-second epochs from the genesis", async () => {
      expect(await escrow.currentEpoch()).to.equal(0n);
      for (const [t, e] of [
        [EPOCH - 1n, 0n],
        [EPOCH, 1n],
        [2n * EPOCH - 1n, 1n],
        [2n * EPOCH, 2n],
        [1000n * EPOCH + 12_345n, 1000n],
      ] as const) {
        await networkHelpers.time.increaseTo(genesis + t);
        expect(await escrow.currentEpoch(), `at genesis + ${t}`).to.equal(e);
      }
    });

    it("servedValue counts what single redemptions paid in the epoch, whatever the node's share", async () => {
      expect(await servedAll([0, 1])).to.deep.equal([0n, 0n]);
      await redeemOne(100n);
      expect(await served(0)).to.equal(100n);
      await redeemOne(250n);
      expect(await served(0)).to.equal(250n); // 100 + 150: the increases, not the cumulative amounts
      await redeemOne(40n, { payer: fx.payer2.address, apiId: fx.apiToken2 });
      expect(await served(0)).to.equal(290n);
      // The node's earnings are its share; served value is the whole payment.
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(
        shares(100n).node + shares(150n).node + shares(40n).node,
      );
      // A refused redemption counts nothing.
      await expect(redeemOne(250n)).to.be.revertedWithCustomError(escrow, "NothingToRedeem");
      expect(await served(0)).to.equal(290n);
      // Only this node, this token, this epoch.
      expect(await served(0, fx.operator2.address)).to.equal(0n);
      expect(await served(0, fx.operator.address, fx.daiAddress)).to.equal(0n);
      expect(await servedAll([1, 2, 2 ** 32 - 1])).to.deep.equal([0n, 0n, 0n]);
    });

    it("redeemBatch adds the batch's payments; skipped vouchers count nothing", async () => {
      await redeemOne(100n);
      await redeemMany([
        [{}, 100n], // already redeemed: skipped
        [{ payer: fx.payer2.address }, 200n],
        [{ payer: fx.payer3.address, apiId: fx.apiToken2 }, 300n],
        [{ payer: fx.payer3.address, apiId: fx.apiToken2 }, 301n],
      ]);
      expect(await served(0)).to.equal(100n + 200n + 301n);
      // A batch of nothing but stale vouchers changes nothing.
      await redeemMany([
        [{}, 100n],
        [{ payer: fx.payer2.address }, 150n],
      ]);
      expect(await served(0)).to.equal(601n);
      // Single and batched redemptions add up in the same epoch.
      await redeemOne(150n);
      await redeemMany([[{ payer: fx.payer2.address }, 207n]]);
      expect(await served(0)).to.equal(601n + 50n + 7n);
      expect(await served(0, fx.operator2.address)).to.equal(0n);
    });

    it("an epoch's count is archived at the node's first redemption of a later epoch and stays readable", async () => {
      await redeemOne(100n); // epoch 0
      await toEpoch(2);
      expect(await servedAll([0, 1, 2])).to.deep.equal([100n, 0n, 0n]);
      await redeemMany([
        [{ payer: fx.payer2.address }, 200n],
        [{ payer: fx.payer3.address, apiId: fx.apiToken2 }, 300n],
      ]); // epoch 2, archives epoch 0
      expect(await servedAll([0, 1, 2])).to.deep.equal([100n, 0n, 500n]);
      await redeemOne(107n); // epoch 2 again: no archive, adds up
      expect(await servedAll([0, 1, 2])).to.deep.equal([100n, 0n, 507n]);
      await toEpoch(3, 5n);
      await redeemOne(118n); // epoch 3, archives epoch 2
      expect(await servedAll([0, 1, 2, 3, 4])).to.deep.equal([100n, 0n, 507n, 11n, 0n]);
      await toEpoch(6);
      await redeemMany([[{ payer: fx.payer2.address }, 233n]]); // epoch 6, archives epoch 3
      expect(await servedAll([0, 1, 2, 3, 4, 5, 6, 7])).to.deep.equal([100n, 0n, 507n, 11n, 0n, 0n, 33n, 0n]);
    });

    it("the last second of an epoch counts in it, the next second in the next epoch", async () => {
      await networkHelpers.time.setNextBlockTimestamp(genesis + 4n * EPOCH - 1n);
      await redeemOne(10n);
      await networkHelpers.time.setNextBlockTimestamp(genesis + 4n * EPOCH);
      await redeemMany([[{}, 30n]]);
      expect(await servedAll([3, 4, 5])).to.deep.equal([10n, 20n, 0n]);
    });

    it("served values are per node and per token: one account rolling over leaves the others", async () => {
      await fund(parseEther("10"), { apiId: fx.apiUsd, token: fx.daiAddress });
      await fund(USDC(10), { node: fx.operator2.address });
      await redeemOne(100n);
      await redeemOne(parseEther("1"), { apiId: fx.apiUsd, token: fx.daiAddress });
      await redeemOne(70n, { node: fx.operator2.address });
      await toEpoch(1);
      await redeemOne(105n); // rolls operator's USDC account only
      expect(await servedAll([0, 1])).to.deep.equal([100n, 5n]);
      expect(await servedAll([0, 1], fx.operator.address, fx.daiAddress)).to.deep.equal([parseEther("1"), 0n]);
      expect(await servedAll([0, 1], fx.operator2.address)).to.deep.equal([70n, 0n]);
      await redeemOne(parseEther("3"), { apiId: fx.apiUsd, token: fx.daiAddress });
      expect(await servedAll([0, 1], fx.operator.address, fx.daiAddress)).to.deep.equal([
        parseEther("1"),
        parseEther("2"),
      ]);
    });

    it("nodeEarnings keeps its meaning: the node's unclaimed shares, across epochs", async () => {
      let expected = 0n;
      let cumulative = 0n;
      for (const [epoch, paid] of [
        [0, 12_345n],
        [0, 7n],
        [1, 9_999n],
        [3, 10_001n],
        [3, 1n],
      ] as const) {
        if ((await escrow.currentEpoch()) < BigInt(epoch)) await toEpoch(epoch);
        cumulative += paid;
        await redeemOne(cumulative);
        expected += shares(paid).node;
        expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(expected);
      }
      expect(await servedAll([0, 1, 2, 3])).to.deep.equal([12_352n, 9_999n, 0n, 10_002n]);
      // With no node share the node earns nothing, yet served value still counts the payment.
      await escrow.connect(fx.deployer).setRevenueSplit({ providerBps: 9500, nodeBps: 0, protocolBps: 500 });
      await redeemOne(cumulative + 1000n);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(expected);
      expect(await served(3)).to.equal(11_002n);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator2.address)).to.equal(0n);
    });

    it("claimNodeEarnings pays the earnings and keeps the served counters", async () => {
      await redeemOne(1000n);
      await toEpoch(1);
      await redeemOne(1500n);
      const earned = shares(1000n).node + shares(500n).node;
      const tx = escrow.connect(fx.operator).claimNodeEarnings(fx.usdcAddress);
      await expect(tx).to.emit(escrow, "NodeEarningsClaimed").withArgs(fx.operator.address, fx.usdcAddress, earned);
      await expect(tx).to.changeTokenBalances(ethers, fx.usdc, [fx.operator], [earned]);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(0n);
      expect(await servedAll([0, 1])).to.deep.equal([1000n, 500n]);
      // Later redemptions in the same epoch add to the counter; earnings start again from 0.
      await redeemOne(1600n);
      expect(await served(1)).to.equal(600n);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(shares(100n).node);
      await escrow.connect(fx.operator).claimNodeEarnings(fx.usdcAddress);
      await toEpoch(2);
      await redeemOne(1601n); // archives epoch 1 after the claims
      expect(await servedAll([0, 1, 2])).to.deep.equal([1000n, 600n, 1n]);
      expect(await escrow.nodeEarnings(fx.usdcAddress, fx.operator.address)).to.equal(0n); // 15% of 1 rounds to 0
    });

    it("a node's value served in one token and epoch saturates at 2^96 - 1 and never blocks redemption", async () => {
      // Channels hold uint128 amounts, but the per-epoch counter shares the node's slot as a uint96:
      // 7.9e28 base units (79 billion tokens of 18 decimals) per node, token and epoch.
      const max96 = (1n << 96n) - 1n;
      await fx.usdc.mint(fx.payer.address, max96 + 3n);
      await fund(max96 + 3n - USDC(1000));
      await redeemOne(max96 + 1n);
      expect(await served(0)).to.equal(max96);
      await redeemOne(max96 + 2n);
      expect(await served(0)).to.equal(max96);
      await toEpoch(1);
      await redeemOne(max96 + 3n);
      expect(await servedAll([0, 1])).to.deep.equal([max96, 1n]);
    });
  });

  // -------------------------------------------------------------------- views and solvency

  describe("views", () => {
    it("channelId and voucherDigest match the SDK and the EIP-712 / ABI definitions", async () => {
      const v = voucherFor(fx, (1n << 128n) - 1n, { apiId: 2n ** 255n + 7n });
      const expected = keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ["address", "address", "uint256", "address"],
          [v.payer, v.node, v.apiId, v.token],
        ),
      );
      expect(await escrow.channelId(v.payer, v.node, v.apiId, v.token)).to.equal(expected);
      expect(sdkChannelId(v.payer, v.node, v.apiId, v.token)).to.equal(expected);
      expect(await escrow.voucherDigest(v)).to.equal(sdkVoucherDigest(fx.domain, v));
    });
  });

  describe("solvency", () => {
    it("a donation is surplus: balance > liabilities, liabilities still equal what is owed", async () => {
      await fund(1000n);
      await fx.usdc.connect(fx.donor).transfer(fx.escrowAddress, 77n);
      surplus[fx.usdcAddress] = 77n;
      expect(await fx.usdc.balanceOf(fx.escrowAddress)).to.equal(1077n);
      expect(await escrow.liabilities(fx.usdcAddress)).to.equal(1000n);
    });
  });
});
