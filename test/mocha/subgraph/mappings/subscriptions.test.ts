import { expect } from "chai";
import { AbiCoder, MaxUint256, type ContractTransactionReceipt } from "ethers";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  advanceTo,
  apiInput,
  BPS,
  contractEntity,
  DAY,
  deployToken,
  entity,
  eventId,
  logOf,
  lower,
  MODEL_SUBSCRIPTION,
  protocolEntity,
  send,
  sendAll,
  timeOf,
  USDC,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("subscriptions");
const PERIOD_1 = 30 * DAY;
const PERIOD_2 = 3600;
const PRICE_1 = USDC(10);
/** An odd price: its protocol share rounds down. */
const PRICE_2 = 1_000_001n;
const NEW_BPS = 1234n;
const SUBSCRIBED = "Subscribed(uint256,address,uint256,address,uint256,uint256,uint256,uint32,uint40)";
const RENEWED = "Renewed(uint256,address,uint256,address,uint256,uint32,uint40)";

interface Payment {
  id: string;
  subscriptionId: bigint;
  kind: "Subscribe" | "Renew";
  apiId: bigint;
  periods: bigint;
  pricePerPeriod: bigint;
  amount: bigint;
  protocolShare: bigint;
  providerShare: bigint;
  paidUntil: bigint;
  receipt: ContractTransactionReceipt;
}

const sum = (xs: bigint[]) => xs.reduce((acc, x) => acc + x, 0n);

/**
 * Subscriptions: three subscriptions on two APIs (one with a price that rounds); a prepaid
 * balance topped up and partly withdrawn; a new protocol share; a renewal by anyone, and a keeper
 * batch that renews one subscription and fails another (no prepaid balance, auto-renewal off);
 * a cancellation; a lapsed subscriber subscribing again; the provider's claim and the protocol's
 * fees; new treasury; the emergency pause. Compared with Subscriptions' own views and with the
 * split computed by the contract's rule.
 */
describe("subgraph mappings: Subscriptions", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let usdc: string, subsAddress: string, provider: string, payerP: string, payerQ: string, treasury: string;
  const payments: Payment[] = [];
  const receipts: Record<string, ContractTransactionReceipt> = {};
  let claimed: { provider: bigint; protocol: bigint };

  before(async () => {
    chain = await startIndexedChain();
    const { subscriptions, registry } = chain.protocol;
    const deployer = chain.account(0);
    const [a, p, q] = accounts(chain, 1, 2, 3);
    [provider, payerP, payerQ, treasury] = await addressesOf(a, p, q, chain.account(4));
    const token = await deployToken(deployer);
    usdc = await token.getAddress();
    subsAddress = await subscriptions.getAddress();

    await sendAll(
      registry.connect(a).register(apiInput(usdc, { pricing: { period: PERIOD_1, pricePerPeriod: PRICE_1 } })),
      token.connect(deployer).mint(payerP, USDC(1000)),
      token.connect(deployer).mint(payerQ, USDC(1000)),
    );
    await sendAll(
      registry.connect(a).register(
        apiInput(usdc, {
          pricing: { models: MODEL_SUBSCRIPTION, pricePerCall: 0n, period: PERIOD_2, pricePerPeriod: PRICE_2 },
        }),
      ),
      token.connect(p).approve(subsAddress, MaxUint256),
      token.connect(q).approve(subsAddress, MaxUint256),
    );

    let bps = await subscriptions.protocolBps();
    const record = async (receipt: ContractTransactionReceipt, kind: Payment["kind"], nth = 0) => {
      const log = logOf(receipt, subsAddress, kind === "Subscribe" ? SUBSCRIBED : RENEWED, nth);
      const parsed = subscriptions.interface.parseLog(log)!;
      const [periods, price] =
        kind === "Subscribe" ? [parsed.args.periods, parsed.args.pricePerPeriod] : [1n, parsed.args.price];
      const amount = (periods as bigint) * (price as bigint);
      const protocolShare = (amount * bps) / BPS;
      payments.push({
        id: eventId(receipt, log.index),
        subscriptionId: parsed.args.subscriptionId as bigint,
        kind,
        apiId: parsed.args.apiId as bigint,
        periods: periods as bigint,
        pricePerPeriod: price as bigint,
        amount,
        protocolShare,
        providerShare: amount - protocolShare,
        paidUntil: parsed.args.paidUntil as bigint,
        receipt,
      });
    };

    // P: 2 periods of API 1 (subscription 1); Q: 1 period (subscription 2).
    await record(await send(subscriptions.connect(p).subscribe(1n, usdc, 2n, PRICE_1)), "Subscribe");
    await record(await send(subscriptions.connect(q).subscribe(1n, usdc, 1n, USDC(12))), "Subscribe");
    receipts.deposit = await send(subscriptions.connect(p).depositBalance(usdc, USDC(25)));
    receipts.withdraw = await send(subscriptions.connect(p).withdrawBalance(usdc, USDC(4)));

    // A new protocol share; P subscribes to API 2 for 3 hours (subscription 3) under it.
    receipts.bps = await send(subscriptions.connect(deployer).setProtocolBps(NEW_BPS));
    bps = NEW_BPS;
    await record(await send(subscriptions.connect(p).subscribe(2n, usdc, 3n, USDC(2))), "Subscribe");

    // Subscription 1 is due a day before it ends: anyone renews it from P's prepaid balance.
    await advanceTo(chain, (await subscriptions.renewableAt(1n)) + 1n);
    await record(await send(subscriptions.connect(q).renew(1n)), "Renew");
    // A keeper's batch: subscription 2 (Q has no prepaid balance) fails, subscription 3 renews.
    receipts.upkeep = await send(
      subscriptions.connect(deployer).performUpkeep(AbiCoder.defaultAbiCoder().encode(["uint256[]"], [[2n, 3n]])),
    );
    await record(receipts.upkeep, "Renew");

    receipts.cancel = await send(subscriptions.connect(p).cancel(1n));
    // Q's lapsed subscription 2 starts again (same id, auto-renewal back on).
    await record(await send(subscriptions.connect(q).subscribe(1n, usdc, 1n, PRICE_1)), "Subscribe");

    await send(subscriptions.connect(deployer).setTreasury(treasury));
    receipts.providerClaim = await send(subscriptions.connect(a).claimProviderEarnings(1n, usdc));
    receipts.collect = await send(subscriptions.connect(q).collectProtocolFees(usdc, [1n, 2n]));
    claimed = {
      provider: BigInt(
        logOf(receipts.providerClaim, subsAddress, "ProviderEarningsClaimed(uint256,address,address,uint256)").data,
      ),
      protocol: BigInt(logOf(receipts.collect, subsAddress, "ProtocolFeesCollected(address,address,uint256)").data),
    };
    receipts.pause = await send(subscriptions.connect(deployer).emergencyPause());
    await send(subscriptions.connect(deployer).emergencyUnpause());
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("records every payment with the split Subscriptions credited (before and after the new share)", async () => {
    expect(payments.map((x) => [x.subscriptionId, x.kind])).to.deep.equal([
      [1n, "Subscribe"],
      [2n, "Subscribe"],
      [3n, "Subscribe"],
      [1n, "Renew"],
      [3n, "Renew"],
      [2n, "Subscribe"],
    ]);
    for (const x of payments) {
      expect(
        await entity(
          chain,
          "SubscriptionPayment",
          x.id,
          "subscription { id } kind token { id } periods pricePerPeriod amount providerShare protocolShare paidUntil timestamp blockNumber transactionHash",
        ),
        `${x.kind} ${x.subscriptionId}`,
      ).to.deep.equal({
        subscription: { id: x.subscriptionId.toString() },
        kind: x.kind,
        token: { id: lower(usdc) },
        periods: x.periods.toString(),
        pricePerPeriod: x.pricePerPeriod.toString(),
        amount: x.amount.toString(),
        providerShare: x.providerShare.toString(),
        protocolShare: x.protocolShare.toString(),
        paidUntil: x.paidUntil.toString(),
        timestamp: (await timeOf(chain, x.receipt)).toString(),
        blockNumber: x.receipt.blockNumber.toString(),
        transactionHash: x.receipt.hash,
      });
    }
    // 3 x 1.000001 USDC at 12.34%: 370,200.37 rounds down.
    expect(payments[2]).to.deep.include({ amount: 3_000_003n, protocolShare: 370_200n, providerShare: 2_629_803n });
  });

  it("holds every subscription as Subscriptions.getSubscription returns it, with its lifetime counts", async () => {
    const { subscriptions } = chain.protocol;
    const expected: Record<string, { renewalCount: number; failedRenewalCount: number; cancelled: boolean }> = {
      "1": { renewalCount: 1, failedRenewalCount: 0, cancelled: true },
      "2": { renewalCount: 0, failedRenewalCount: 1, cancelled: false },
      "3": { renewalCount: 1, failedRenewalCount: 0, cancelled: false },
    };
    for (const subscriptionId of [1n, 2n, 3n]) {
      const counts = expected[subscriptionId.toString()]!;
      const s = await subscriptions.getSubscription(subscriptionId);
      const mine = payments.filter((x) => x.subscriptionId === subscriptionId);
      const row = await entity(
        chain,
        "ApiSubscription",
        subscriptionId.toString(),
        "subscriptionId payer api { apiId } token { id } period paidUntil autoRenew maxPricePerPeriod lastPricePerPeriod periodsPaid totalPaid renewalCount failedRenewalCount createdAt cancelledAt",
      );
      expect(row, `subscription ${subscriptionId}`).to.deep.equal({
        subscriptionId: subscriptionId.toString(),
        payer: lower(s.payer),
        api: { apiId: s.apiId.toString() },
        token: { id: lower(s.token) },
        period: s.period.toString(),
        paidUntil: s.paidUntil.toString(),
        autoRenew: s.autoRenew,
        maxPricePerPeriod: s.maxPricePerPeriod.toString(),
        lastPricePerPeriod: mine.at(-1)!.pricePerPeriod.toString(),
        periodsPaid: sum(mine.map((x) => x.periods)).toString(),
        totalPaid: sum(mine.map((x) => x.amount)).toString(),
        renewalCount: counts.renewalCount,
        failedRenewalCount: counts.failedRenewalCount,
        createdAt: (await timeOf(chain, mine[0]!.receipt)).toString(),
        cancelledAt: counts.cancelled ? (await timeOf(chain, receipts.cancel!)).toString() : null,
      });
    }
    // Subscription 2 had auto-renewal off after its failed renewal, until Q subscribed again.
    expect(await entity(chain, "ApiSubscription", "2", "autoRenew", receipts.upkeep!.blockNumber)).to.deep.equal({
      autoRenew: false,
    });
  });

  it("records the failed renewal with the contract's ABI-encoded error", async () => {
    const { subscriptions } = chain.protocol;
    const reason = subscriptions.interface.encodeErrorResult("InsufficientPrepaidBalance", [payerQ, usdc, PRICE_1, 0n]);
    const log = logOf(receipts.upkeep!, subsAddress, "RenewalFailed(uint256,bytes)");
    expect(
      await entity(
        chain,
        "RenewalFailure",
        eventId(receipts.upkeep!, log.index),
        "subscription { id } reason errorSelector",
      ),
    ).to.deep.equal({
      subscription: { id: "2" },
      reason,
      errorSelector: subscriptions.interface.getError("InsufficientPrepaidBalance")!.selector,
    });
  });

  it("keeps the prepaid balance, its deposits, withdrawals and renewal spending as the contract holds it", async () => {
    const { subscriptions } = chain.protocol;
    const spent = sum(payments.filter((x) => x.kind === "Renew").map((x) => x.amount));
    expect(
      await entity(
        chain,
        "PrepaidBalance",
        `${lower(payerP)}-${lower(usdc)}`,
        "payer token { id } balance deposited withdrawn spent",
      ),
    ).to.deep.equal({
      payer: lower(payerP),
      token: { id: lower(usdc) },
      balance: (await subscriptions.prepaidBalanceOf(payerP, usdc)).toString(),
      deposited: USDC(25).toString(),
      withdrawn: USDC(4).toString(),
      spent: spent.toString(),
    });
    expect(await subscriptions.prepaidBalanceOf(payerP, usdc)).to.equal(USDC(21) - spent);
    expect(
      await entity(
        chain,
        "PrepaidBalance",
        `${lower(payerP)}-${lower(usdc)}`,
        "balance",
        receipts.withdraw!.blockNumber,
      ),
    ).to.deep.equal({ balance: USDC(21).toString() });
  });

  it("keeps the APIs' and the provider's earnings equal to the Subscriptions ledger", async () => {
    const { subscriptions } = chain.protocol;
    for (const apiId of [1n, 2n]) {
      const mine = payments.filter((x) => x.apiId === apiId);
      const providerEarned = sum(mine.map((x) => x.providerShare));
      const providerClaimed = apiId === 1n ? claimed.provider : 0n;
      const onChain = await subscriptions.apiEarnings(usdc, apiId);
      expect(
        await entity(
          chain,
          "ApiEarnings",
          `Subscriptions-${apiId}-${lower(usdc)}`,
          "ledger providerEarned providerClaimed providerUnclaimed protocolEarned",
        ),
      ).to.deep.equal({
        ledger: "Subscriptions",
        providerEarned: providerEarned.toString(),
        providerClaimed: providerClaimed.toString(),
        providerUnclaimed: onChain.provider.toString(),
        protocolEarned: sum(mine.map((x) => x.protocolShare)).toString(),
      });
      expect(onChain.provider).to.equal(providerEarned - providerClaimed);
      expect(onChain.protocol).to.equal(0n);
      expect(
        await entity(
          chain,
          "Api",
          apiId.toString(),
          "subscriptionPaidValue subscriptionCount providerRevenue protocolRevenue nodeRevenue",
        ),
      ).to.deep.equal({
        subscriptionPaidValue: sum(mine.map((x) => x.amount)).toString(),
        subscriptionCount: apiId === 1n ? 2 : 1,
        providerRevenue: providerEarned.toString(),
        protocolRevenue: sum(mine.map((x) => x.protocolShare)).toString(),
        nodeRevenue: "0",
      });
    }
    expect(await entity(chain, "Provider", lower(provider), "revenue earningsClaimed apiCount")).to.deep.equal({
      revenue: sum(payments.map((x) => x.providerShare)).toString(),
      earningsClaimed: claimed.provider.toString(),
      apiCount: 2,
    });
  });

  it("keeps the token's and the protocol's totals, and the ledger's liabilities, equal to the chain's", async () => {
    const { subscriptions } = chain.protocol;
    const paid = sum(payments.map((x) => x.amount));
    const protocolRevenue = sum(payments.map((x) => x.protocolShare));
    const providerRevenue = sum(payments.map((x) => x.providerShare));
    const prepaid =
      (await subscriptions.prepaidBalanceOf(payerP, usdc)) + (await subscriptions.prepaidBalanceOf(payerQ, usdc));
    expect(
      await entity(
        chain,
        "PaymentToken",
        lower(usdc),
        "subscriptionPaid prepaidDeposited prepaidWithdrawn prepaidBalance providerRevenue protocolRevenue providerEarningsClaimed protocolFeesCollected",
      ),
    ).to.deep.equal({
      subscriptionPaid: paid.toString(),
      prepaidDeposited: USDC(25).toString(),
      prepaidWithdrawn: USDC(4).toString(),
      prepaidBalance: prepaid.toString(),
      providerRevenue: providerRevenue.toString(),
      protocolRevenue: protocolRevenue.toString(),
      providerEarningsClaimed: claimed.provider.toString(),
      protocolFeesCollected: protocolRevenue.toString(),
    });
    expect(claimed.protocol).to.equal(protocolRevenue);
    const unclaimed =
      (await subscriptions.apiEarnings(usdc, 1n)).provider + (await subscriptions.apiEarnings(usdc, 2n)).provider;
    expect(await subscriptions.liabilities(usdc)).to.equal(prepaid + unclaimed);
    expect(
      await protocolEntity(
        chain,
        "subscriptionCount totalSubscriptionPaid providerRevenue protocolRevenue subscriptionProtocolBps",
      ),
    ).to.deep.equal({
      subscriptionCount: Number(await subscriptions.subscriptionCount()),
      totalSubscriptionPaid: paid.toString(),
      providerRevenue: providerRevenue.toString(),
      protocolRevenue: protocolRevenue.toString(),
      subscriptionProtocolBps: Number(await subscriptions.protocolBps()),
    });
    expect(await protocolEntity(chain, "subscriptionProtocolBps", receipts.bps!.blockNumber - 1)).to.deep.equal({
      subscriptionProtocolBps: 500,
    });
  });

  it("keeps Subscriptions' pause switch, treasury and authority in its Contract entity", async () => {
    const { subscriptions, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "Subscriptions")).to.deep.equal({
      address: lower(subsAddress),
      paused: false,
      treasury: lower(await subscriptions.treasury()),
      authority: lower(await accessManager.getAddress()),
    });
    expect(await subscriptions.treasury()).to.equal(treasury);
    expect(await contractEntity(chain, "Subscriptions", receipts.pause!.blockNumber)).to.deep.include({ paused: true });
  });

  it("triggered every Subscriptions handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
