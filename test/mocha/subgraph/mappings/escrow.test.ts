import { expect } from "chai";
import { id, MaxUint256, parseEther, Wallet, type ContractTransactionReceipt, type Signer } from "ethers";
import {
  channelId,
  escrowDomain,
  signSignerAuthorization,
  signVoucher,
  type Voucher,
} from "../../../../sdk/vouchers.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  advance,
  apiInput,
  BPS,
  bytes32,
  contractEntity,
  DAY,
  dayOf,
  deployToken,
  entity,
  eventId,
  logOf,
  lower,
  MODEL_PAY_PER_CALL,
  NodeType,
  protocolEntity,
  send,
  sendAll,
  timeOf,
  USDC,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("escrow");
const THAW = 2n * BigInt(DAY);
const NEW_SPLIT = { providerBps: 7000n, nodeBps: 2000n, protocolBps: 1000n };
const REDEEMED = "Redeemed(bytes32,uint256,uint256)";

interface Split {
  providerBps: bigint;
  nodeBps: bigint;
  protocolBps: bigint;
}

/** One redeemed voucher as the chain paid it, with its split computed by PaymentEscrow's rule. */
interface Paid {
  id: string;
  channel: string;
  apiId: bigint;
  node: string;
  cumulativeAmount: bigint;
  paid: bigint;
  providerShare: bigint;
  nodeShare: bigint;
  protocolShare: bigint;
  timestamp: bigint;
  receipt: ContractTransactionReceipt;
}

/** PaymentEscrow.redeem/redeemBatch: node and protocol shares rounded down, the provider gets the rest. */
function splitOf(paid: bigint, s: Split) {
  const nodeShare = (paid * s.nodeBps) / BPS;
  const protocolShare = (paid * s.protocolBps) / BPS;
  return { nodeShare, protocolShare, providerShare: paid - nodeShare - protocolShare };
}

const sum = (xs: bigint[]) => xs.reduce((acc, x) => acc + x, 0n);

/**
 * PaymentEscrow: three channels (two payers, two nodes, two APIs of two providers) with repeated
 * deposits; single and batched redemptions signed by payers and by an authorized hot key, with
 * amounts that round, before and after a new revenue split; a cancelled withdrawal and a
 * completed one shrunk by a redemption during its thaw; a signer revocation; node, provider and
 * protocol claims; new thaw period and treasury; the emergency pause. Every figure is compared
 * with the escrow's own views and with the split computed by the contract's rule.
 */
describe("subgraph mappings: PaymentEscrow", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let usdc: string, escrowAddress: string, treasury: string;
  let providerA: string, providerB: string, op1: string, op2: string, payerP: string, payerQ: string;
  const hot1 = new Wallet(id("mapping test hot key 1"));
  const hot2 = new Wallet(id("mapping test hot key 2"));
  const paid: Paid[] = [];
  const receipts: Record<string, ContractTransactionReceipt> = {};
  let channels: { c1: string; c2: string; c3: string };
  let deposits: { channel: string; amount: bigint; balance: bigint; receipt: ContractTransactionReceipt }[];
  let claimed: { node: bigint; provider: bigint; protocol: bigint; withdrawn: bigint };

  before(async () => {
    chain = await startIndexedChain();
    const { escrow, registry, staking, token } = chain.protocol;
    const deployer = chain.account(0);
    const [a, b, s1, s2, p, q] = accounts(chain, 1, 2, 3, 4, 5, 6);
    [providerA, providerB, op1, op2, payerP, payerQ, treasury] = await addressesOf(
      a,
      b,
      s1,
      s2,
      p,
      q,
      chain.account(7),
    );
    escrowAddress = await escrow.getAddress();
    const usdcToken = await deployToken(deployer);
    usdc = await usdcToken.getAddress();
    const domain = escrowDomain(chain.deployment.chainId, escrowAddress);
    const stakingAddress = await staking.getAddress();

    // Two Edge nodes, two pay-per-call APIs priced in USDC, two funded payers.
    await sendAll(
      token.connect(deployer).transfer(op1, parseEther("1000")),
      token.connect(deployer).transfer(op2, parseEther("1000")),
    );
    await sendAll(
      token.connect(s1).approve(stakingAddress, parseEther("1000")),
      token.connect(s2).approve(stakingAddress, parseEther("1000")),
      usdcToken.connect(deployer).mint(payerP, USDC(1000)),
      usdcToken.connect(deployer).mint(payerQ, USDC(1000)),
    );
    await sendAll(
      staking.connect(s1).registerNode(NodeType.Edge, bytes32("eu"), "https://n1.example", 10, parseEther("1000")),
      staking.connect(s2).registerNode(NodeType.Edge, bytes32("us"), "https://n2.example", 10, parseEther("1000")),
      registry.connect(a).register(apiInput(usdc)),
      usdcToken.connect(p).approve(escrowAddress, MaxUint256),
      usdcToken.connect(q).approve(escrowAddress, MaxUint256),
    );
    await send(
      registry
        .connect(b)
        .register(apiInput(usdc, { pricing: { models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0n } })),
    );
    channels = {
      c1: channelId(payerP, op1, 1n, usdc),
      c2: channelId(payerP, op1, 2n, usdc),
      c3: channelId(payerQ, op2, 1n, usdc),
    };

    const deposit = async (payer: Signer, node: string, apiId: bigint, amount: bigint, channel: string) => {
      const receipt = await send(escrow.connect(payer).deposit(node, apiId, usdc, amount));
      return { channel, amount, balance: (await escrow.channels(channel)).balance, receipt };
    };
    deposits = [
      await deposit(p, op1, 1n, USDC(100), channels.c1),
      await deposit(p, op1, 1n, USDC(50), channels.c1),
      await deposit(p, op1, 2n, USDC(80), channels.c2),
      await deposit(q, op2, 1n, USDC(60), channels.c3),
    ];

    // A hot key signs for P; a second one is authorized and then revoked (thawing).
    const deadline = BigInt((await chain.provider.getBlock("latest"))!.timestamp) + 3600n;
    receipts.authorize1 = await send(
      escrow
        .connect(p)
        .authorizeSigner(hot1.address, deadline, await signSignerAuthorization(hot1, domain, payerP, deadline)),
    );
    await send(
      escrow
        .connect(p)
        .authorizeSigner(hot2.address, deadline, await signSignerAuthorization(hot2, domain, payerP, deadline)),
    );
    receipts.revoke2 = await send(escrow.connect(p).revokeSigner(hot2.address));

    let split: Split = await escrow.revenueSplit();
    const voucher = (payer: string, node: string, apiId: bigint, cumulativeAmount: bigint): Voucher => ({
      payer,
      node,
      apiId,
      token: usdc,
      cumulativeAmount,
    });
    const record = async (receipt: ContractTransactionReceipt, redeemed: [string, bigint, string, bigint][]) => {
      const timestamp = await timeOf(chain, receipt);
      for (const [i, [channel, apiId, node, cumulativeAmount]] of redeemed.entries()) {
        const log = logOf(receipt, escrowAddress, REDEEMED, i);
        // What the escrow paid, as its Redeemed event says: the increase of the cumulative amount.
        const amount = escrow.interface.parseLog(log)!.args.paid as bigint;
        const previous = paid.filter((x) => x.channel === channel).at(-1)?.cumulativeAmount ?? 0n;
        if (amount !== cumulativeAmount - previous)
          throw new Error(`Redeemed paid ${amount}, expected ${cumulativeAmount - previous}`);
        paid.push({
          id: eventId(receipt, log.index),
          channel,
          apiId,
          node,
          cumulativeAmount,
          paid: amount,
          ...splitOf(amount, split),
          timestamp,
          receipt,
        });
      }
    };

    // Under the deploy split (80/15/5): one voucher alone, then a batch of two (hot key and payer).
    const v1 = voucher(payerP, op1, 1n, 10_001n);
    await record(await send(escrow.connect(s1).redeem(v1, await signVoucher(p, domain, v1))), [
      [channels.c1, 1n, op1, 10_001n],
    ]);
    const b1 = voucher(payerP, op1, 1n, 33_337n);
    const b2 = voucher(payerP, op1, 2n, 7_777n);
    await record(
      await send(
        escrow.connect(s1).redeemBatch(op1, usdc, [
          { payer: payerP, apiId: 1n, cumulativeAmount: 33_337n, signature: await signVoucher(hot1, domain, b1) },
          { payer: payerP, apiId: 2n, cumulativeAmount: 7_777n, signature: await signVoucher(p, domain, b2) },
        ]),
      ),
      [
        [channels.c1, 1n, op1, 33_337n],
        [channels.c2, 2n, op1, 7_777n],
      ],
    );

    // A new split applies to later redemptions only.
    receipts.split = await send(escrow.connect(deployer).setRevenueSplit(NEW_SPLIT));
    split = await escrow.revenueSplit();
    const v3 = voucher(payerQ, op2, 1n, 12_345n);
    await record(await send(escrow.connect(s2).redeem(v3, await signVoucher(q, domain, v3))), [
      [channels.c3, 1n, op2, 12_345n],
    ]);
    const v4 = voucher(payerP, op1, 1n, 50_000n);
    await record(await send(escrow.connect(s2).redeem(v4, await signVoucher(hot1, domain, v4))), [
      [channels.c1, 1n, op1, 50_000n],
    ]);

    // Withdrawals: one started and cancelled, one of the whole of channel 2, which a redemption
    // during the thaw shrinks.
    receipts.withdrawStart1 = await send(escrow.connect(p).startWithdraw(op1, 1n, usdc, USDC(20)));
    receipts.withdrawCancel1 = await send(escrow.connect(p).cancelWithdraw(op1, 1n, usdc));
    const c2Balance = (await escrow.channels(channels.c2)).balance;
    receipts.withdrawStart2 = await send(escrow.connect(p).startWithdraw(op1, 2n, usdc, c2Balance));
    await advance(chain, THAW);
    const v5 = voucher(payerP, op1, 2n, 20_000n);
    await record(await send(escrow.connect(s1).redeem(v5, await signVoucher(p, domain, v5))), [
      [channels.c2, 2n, op1, 20_000n],
    ]);
    receipts.withdraw2 = await send(escrow.connect(p).finishWithdraw(op1, 2n, usdc));

    // Claims: node 1, provider A (API 1), then the protocol fees of both APIs to a new treasury.
    await send(escrow.connect(deployer).setTreasury(treasury));
    receipts.nodeClaim = await send(escrow.connect(s1).claimNodeEarnings(usdc));
    receipts.providerClaim = await send(escrow.connect(a).claimProviderEarnings(1n, usdc));
    receipts.collect = await send(escrow.connect(q).collectProtocolFees(usdc, [1n, 2n]));
    // Each claim event's data is its amount alone.
    const amountOf = (r: ContractTransactionReceipt, sig: string) => BigInt(logOf(r, escrowAddress, sig).data);
    claimed = {
      node: amountOf(receipts.nodeClaim, "NodeEarningsClaimed(address,address,uint256)"),
      provider: amountOf(receipts.providerClaim, "ProviderEarningsClaimed(uint256,address,address,uint256)"),
      protocol: amountOf(receipts.collect, "ProtocolFeesCollected(address,address,uint256)"),
      withdrawn: c2Balance - 20_000n + 7_777n,
    };

    await send(escrow.connect(deployer).setThawPeriod(BigInt(DAY)));
    receipts.pause = await send(escrow.connect(deployer).emergencyPause());
    await send(escrow.connect(deployer).emergencyUnpause());
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("records every redemption with the split PaymentEscrow credited (old split, then the new one)", async () => {
    expect(paid).to.have.length(6);
    for (const r of paid) {
      const redemption = await entity(
        chain,
        "Redemption",
        r.id,
        "channel { id } api { apiId } node { id } cumulativeAmount paid providerShare nodeShare protocolShare timestamp blockNumber transactionHash",
      );
      expect(redemption, r.id).to.deep.equal({
        channel: { id: r.channel },
        api: { apiId: r.apiId.toString() },
        node: { id: lower(r.node) },
        cumulativeAmount: r.cumulativeAmount.toString(),
        paid: r.paid.toString(),
        providerShare: r.providerShare.toString(),
        nodeShare: r.nodeShare.toString(),
        protocolShare: r.protocolShare.toString(),
        timestamp: r.timestamp.toString(),
        blockNumber: r.receipt.blockNumber.toString(),
        transactionHash: r.receipt.hash,
      });
    }
    // The rounding is visible: 10,001 at 15% / 5% gives 1,500 and 500, the provider 8,001.
    expect(paid[0]).to.deep.include({ paid: 10_001n, nodeShare: 1_500n, protocolShare: 500n, providerShare: 8_001n });
    // 16,663 at the new 20% / 10%: 3,332 and 1,666, the provider 11,665.
    expect(paid[4]).to.deep.include({
      paid: 16_663n,
      nodeShare: 3_332n,
      protocolShare: 1_666n,
      providerShare: 11_665n,
    });
  });

  it("holds each channel's balance and redeemed total as PaymentEscrow.channels does, with its lifetime flows", async () => {
    const { escrow } = chain.protocol;
    for (const [name, cid] of Object.entries(channels)) {
      const onChain = await escrow.channels(cid);
      const depositedHere = deposits.filter((d) => d.channel === cid);
      const redeemedHere = paid.filter((r) => r.channel === cid);
      const withdrawn = cid === channels.c2 ? claimed.withdrawn : 0n;
      const row = await entity(
        chain,
        "Channel",
        cid,
        "payer node { id } api { apiId } token { id } balance redeemed deposited withdrawn pendingWithdrawal withdrawalThawEndsAt depositCount redemptionCount createdAt",
      );
      expect(row, name).to.deep.equal({
        payer: lower(cid === channels.c3 ? payerQ : payerP),
        node: { id: lower(cid === channels.c3 ? op2 : op1) },
        api: { apiId: cid === channels.c2 ? "2" : "1" },
        token: { id: lower(usdc) },
        balance: onChain.balance.toString(),
        redeemed: onChain.redeemed.toString(),
        deposited: sum(depositedHere.map((d) => d.amount)).toString(),
        withdrawn: withdrawn.toString(),
        pendingWithdrawal: null,
        withdrawalThawEndsAt: null,
        depositCount: depositedHere.length,
        redemptionCount: redeemedHere.length,
        createdAt: (await timeOf(chain, depositedHere[0]!.receipt)).toString(),
      });
      expect(onChain.balance).to.equal(
        sum(depositedHere.map((d) => d.amount)) - sum(redeemedHere.map((r) => r.paid)) - withdrawn,
      );
    }
  });

  it("records deposits, the pending, cancelled and completed withdrawals", async () => {
    for (const d of deposits) {
      const log = logOf(d.receipt, escrowAddress, "Deposited(bytes32,address,address,uint256,address,uint256,uint256)");
      expect(
        await entity(chain, "Deposit", eventId(d.receipt, log.index), "channel { id } amount balanceAfter payer"),
      ).to.deep.equal({
        channel: { id: d.channel },
        amount: d.amount.toString(),
        balanceAfter: d.balance.toString(),
        payer: lower(d.channel === channels.c3 ? payerQ : payerP),
      });
    }
    const started = receipts.withdrawStart1!;
    expect(
      await entity(chain, "Channel", channels.c1, "pendingWithdrawal withdrawalThawEndsAt", started.blockNumber),
    ).to.deep.equal({
      pendingWithdrawal: USDC(20).toString(),
      withdrawalThawEndsAt: ((await timeOf(chain, started)) + THAW).toString(),
    });
    expect(
      await entity(
        chain,
        "Channel",
        channels.c1,
        "pendingWithdrawal withdrawalThawEndsAt",
        receipts.withdrawCancel1!.blockNumber,
      ),
    ).to.deep.equal({ pendingWithdrawal: null, withdrawalThawEndsAt: null });

    const done = receipts.withdraw2!;
    const log = logOf(done, escrowAddress, "Withdrawn(bytes32,address,uint256,uint256)");
    expect(
      await entity(chain, "Withdrawal", eventId(done, log.index), "channel { id } payer amount balanceAfter"),
    ).to.deep.equal({
      channel: { id: channels.c2 },
      payer: lower(payerP),
      amount: claimed.withdrawn.toString(),
      balanceAfter: "0",
    });
  });

  it("keeps every API's, provider's and node's earnings equal to the escrow's ledgers", async () => {
    const { escrow } = chain.protocol;
    for (const apiId of [1n, 2n]) {
      const here = paid.filter((r) => r.apiId === apiId);
      const onChain = await escrow.apiEarnings(usdc, apiId);
      const providerClaimed = apiId === 1n ? claimed.provider : 0n;
      const providerEarned = sum(here.map((r) => r.providerShare));
      expect(
        await entity(
          chain,
          "ApiEarnings",
          `PaymentEscrow-${apiId}-${lower(usdc)}`,
          "ledger api { apiId } token { id } providerEarned providerClaimed providerUnclaimed protocolEarned",
        ),
        `API ${apiId}`,
      ).to.deep.equal({
        ledger: "PaymentEscrow",
        api: { apiId: apiId.toString() },
        token: { id: lower(usdc) },
        providerEarned: providerEarned.toString(),
        providerClaimed: providerClaimed.toString(),
        providerUnclaimed: onChain.provider.toString(),
        protocolEarned: sum(here.map((r) => r.protocolShare)).toString(),
      });
      expect(onChain.provider).to.equal(providerEarned - providerClaimed);
      expect(onChain.protocol).to.equal(0n); // collected
      expect(
        await entity(
          chain,
          "Api",
          apiId.toString(),
          "callsPaidValue redemptionCount providerRevenue nodeRevenue protocolRevenue channelCount",
        ),
      ).to.deep.equal({
        callsPaidValue: sum(here.map((r) => r.paid)).toString(),
        redemptionCount: here.length,
        providerRevenue: providerEarned.toString(),
        nodeRevenue: sum(here.map((r) => r.nodeShare)).toString(),
        protocolRevenue: sum(here.map((r) => r.protocolShare)).toString(),
        channelCount: apiId === 1n ? 2 : 1,
      });
    }
    expect(claimed.provider).to.equal(sum(paid.filter((r) => r.apiId === 1n).map((r) => r.providerShare)));
    for (const [provider, apiId, claim] of [
      [providerA, 1n, claimed.provider],
      [providerB, 2n, 0n],
    ] as const) {
      expect(await entity(chain, "Provider", lower(provider), "revenue earningsClaimed")).to.deep.equal({
        revenue: sum(paid.filter((r) => r.apiId === apiId).map((r) => r.providerShare)).toString(),
        earningsClaimed: claim.toString(),
      });
    }
    for (const node of [op1, op2]) {
      const here = paid.filter((r) => r.node === node);
      const earned = sum(here.map((r) => r.nodeShare));
      const claim = node === op1 ? claimed.node : 0n;
      expect(
        await entity(chain, "NodeEarnings", `${lower(node)}-${lower(usdc)}`, "earned claimed unclaimed"),
      ).to.deep.equal({
        earned: earned.toString(),
        claimed: claim.toString(),
        unclaimed: (await escrow.nodeEarnings(usdc, node)).toString(),
      });
      expect(await escrow.nodeEarnings(usdc, node)).to.equal(earned - claim);
      expect(
        await entity(chain, "Node", lower(node), "servedValue redemptionCount earned earningsClaimed"),
      ).to.deep.equal({
        servedValue: sum(here.map((r) => r.paid)).toString(),
        redemptionCount: here.length,
        earned: earned.toString(),
        earningsClaimed: claim.toString(),
      });
    }
    expect(claimed.node).to.equal(sum(paid.filter((r) => r.node === op1).map((r) => r.nodeShare)));
  });

  it("buckets redemptions by UTC day per API and per node", async () => {
    const buckets = new Map<string, Paid[]>();
    for (const r of paid) {
      for (const key of [`api:${r.apiId}-${dayOf(r.timestamp)}`, `node:${lower(r.node)}-${dayOf(r.timestamp)}`]) {
        buckets.set(key, [...(buckets.get(key) ?? []), r]);
      }
    }
    const { apiDailyUsages, nodeDailyUsages } = await chain.query<{
      apiDailyUsages: Record<string, unknown>[];
      nodeDailyUsages: Record<string, unknown>[];
    }>(`{
      apiDailyUsages(orderBy: id) { id api { apiId } day dayStart redeemedValue redemptionCount providerRevenue nodeRevenue protocolRevenue }
      nodeDailyUsages(orderBy: id) { id node { id } day dayStart redeemedValue redemptionCount earned }
    }`);
    const expectedApi = [...buckets]
      .filter(([k]) => k.startsWith("api:"))
      .map(([k, rs]) => {
        const [apiId, day] = k.slice(4).split("-") as [string, string];
        return {
          id: `${apiId}-${day}`,
          api: { apiId },
          day: Number(day),
          dayStart: (BigInt(day) * BigInt(DAY)).toString(),
          redeemedValue: sum(rs.map((r) => r.paid)).toString(),
          redemptionCount: rs.length,
          providerRevenue: sum(rs.map((r) => r.providerShare)).toString(),
          nodeRevenue: sum(rs.map((r) => r.nodeShare)).toString(),
          protocolRevenue: sum(rs.map((r) => r.protocolShare)).toString(),
        };
      });
    const expectedNode = [...buckets]
      .filter(([k]) => k.startsWith("node:"))
      .map(([k, rs]) => {
        const [node, day] = k.slice(5).split("-") as [string, string];
        return {
          id: `${node}-${day}`,
          node: { id: node },
          day: Number(day),
          dayStart: (BigInt(day) * BigInt(DAY)).toString(),
          redeemedValue: sum(rs.map((r) => r.paid)).toString(),
          redemptionCount: rs.length,
          earned: sum(rs.map((r) => r.nodeShare)).toString(),
        };
      });
    const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
    expect(apiDailyUsages).to.deep.equal(expectedApi.sort(byId));
    expect(nodeDailyUsages).to.deep.equal(expectedNode.sort(byId));
    // The thaw moved the clock two days: the last redemption is in a later bucket.
    expect(dayOf(paid.at(-1)!.timestamp)).to.be.greaterThan(dayOf(paid[0]!.timestamp));
  });

  it("keeps the token's and the protocol's totals, and the escrow's liabilities, equal to the chain's", async () => {
    const { escrow } = chain.protocol;
    const balances = await Promise.all(Object.values(channels).map((cid) => escrow.channels(cid)));
    const escrowBalance = sum(balances.map((c) => c.balance));
    const deposited = sum(deposits.map((d) => d.amount));
    const redeemed = sum(paid.map((r) => r.paid));
    const providerRevenue = sum(paid.map((r) => r.providerShare));
    const nodeRevenue = sum(paid.map((r) => r.nodeShare));
    const protocolRevenue = sum(paid.map((r) => r.protocolShare));
    const token = await entity<Record<string, string | number>>(
      chain,
      "PaymentToken",
      lower(usdc),
      "escrowDeposited escrowWithdrawn escrowBalance redeemed providerRevenue nodeRevenue protocolRevenue providerEarningsClaimed nodeEarningsClaimed protocolFeesCollected channelCount",
    );
    expect(token).to.deep.equal({
      escrowDeposited: deposited.toString(),
      escrowWithdrawn: claimed.withdrawn.toString(),
      escrowBalance: escrowBalance.toString(),
      redeemed: redeemed.toString(),
      providerRevenue: providerRevenue.toString(),
      nodeRevenue: nodeRevenue.toString(),
      protocolRevenue: protocolRevenue.toString(),
      providerEarningsClaimed: claimed.provider.toString(),
      nodeEarningsClaimed: claimed.node.toString(),
      protocolFeesCollected: protocolRevenue.toString(),
      channelCount: 3,
    });
    expect(claimed.protocol).to.equal(protocolRevenue);
    // Liabilities: channel balances plus unclaimed earnings (protocol fees were all collected).
    const unclaimed =
      (await escrow.apiEarnings(usdc, 1n)).provider +
      (await escrow.apiEarnings(usdc, 2n)).provider +
      (await escrow.nodeEarnings(usdc, op1)) +
      (await escrow.nodeEarnings(usdc, op2));
    expect(await escrow.liabilities(usdc)).to.equal(escrowBalance + unclaimed);
    expect(unclaimed).to.equal(providerRevenue - claimed.provider + nodeRevenue - claimed.node);

    const split = await escrow.revenueSplit();
    expect(
      await protocolEntity(
        chain,
        "channelCount totalDeposited totalWithdrawn totalRedeemed providerRevenue nodeRevenue protocolRevenue providerBps nodeBps escrowProtocolBps escrowThawPeriod",
      ),
    ).to.deep.equal({
      channelCount: 3,
      totalDeposited: deposited.toString(),
      totalWithdrawn: claimed.withdrawn.toString(),
      totalRedeemed: redeemed.toString(),
      providerRevenue: providerRevenue.toString(),
      nodeRevenue: nodeRevenue.toString(),
      protocolRevenue: protocolRevenue.toString(),
      providerBps: Number(split.providerBps),
      nodeBps: Number(split.nodeBps),
      escrowProtocolBps: Number(split.protocolBps),
      escrowThawPeriod: (await escrow.thawPeriod()).toString(),
    });
    expect(
      await protocolEntity(
        chain,
        "providerBps nodeBps escrowProtocolBps escrowThawPeriod",
        receipts.split!.blockNumber - 1,
      ),
    ).to.deep.equal({ providerBps: 8000, nodeBps: 1500, escrowProtocolBps: 500, escrowThawPeriod: THAW.toString() });
  });

  it("records signer authorizations and the revocation's effective time as the escrow holds them", async () => {
    const { escrow } = chain.protocol;
    const one = await escrow.signers(hot1.address);
    const two = await escrow.signers(hot2.address);
    expect(
      await entity(
        chain,
        "SignerAuthorization",
        lower(hot1.address),
        "payer authorizedAt revokedAt revocationStartedAt",
      ),
    ).to.deep.equal({
      payer: lower(one.payer),
      authorizedAt: (await timeOf(chain, receipts.authorize1!)).toString(),
      revokedAt: null,
      revocationStartedAt: null,
    });
    expect(
      await entity(chain, "SignerAuthorization", lower(hot2.address), "payer revokedAt revocationStartedAt"),
    ).to.deep.equal({
      payer: lower(two.payer),
      revokedAt: two.revokedAt.toString(),
      revocationStartedAt: (await timeOf(chain, receipts.revoke2!)).toString(),
    });
    expect(two.revokedAt).to.equal((await timeOf(chain, receipts.revoke2!)) + THAW);
  });

  it("keeps the escrow's pause switch, treasury and authority in its Contract entity", async () => {
    const { escrow, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "PaymentEscrow")).to.deep.equal({
      address: lower(escrowAddress),
      paused: false,
      treasury: lower(await escrow.treasury()),
      authority: lower(await accessManager.getAddress()),
    });
    expect(await escrow.treasury()).to.equal(treasury);
    expect(await contractEntity(chain, "PaymentEscrow", receipts.pause!.blockNumber)).to.deep.include({ paused: true });
  });

  it("triggered every PaymentEscrow handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
