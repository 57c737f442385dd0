import { expect } from "chai";
import { parseEther, type ContractTransactionReceipt } from "ethers";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  advance,
  contractEntity,
  DAY,
  entity,
  lower,
  protocolEntity,
  send,
  sendAll,
  timeOf,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("discounts");
const E = (n: number) => parseEther(String(n));
const FOUR_TIERS = [
  { minStake: E(500), discountBps: 100 },
  { minStake: E(1000), discountBps: 300 },
  { minStake: E(5000), discountBps: 700 },
  { minStake: E(50_000), discountBps: 1500 },
];
const TWO_TIERS = [
  { minStake: E(2000), discountBps: 400 },
  { minStake: E(20_000), discountBps: 900 },
];

interface StakerRow {
  staked: string;
  cooling: string;
  cooldownEndsAt: string | null;
  totalStaked: string;
  totalWithdrawn: string;
  updatedAt: string;
}

/**
 * DiscountStaking: two stakers staking twice, unstake requests whose cooldowns merge (never
 * shorter), a withdrawal, a new cooldown, tier lists replaced by a longer and then a shorter one
 * (the tiers beyond it are removed), and the emergency pause.
 */
describe("subgraph mappings: DiscountStaking", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let s1: string, s2: string;
  const receipts: Record<string, ContractTransactionReceipt> = {};

  before(async () => {
    chain = await startIndexedChain();
    const { discounts, token } = chain.protocol;
    const deployer = chain.account(0);
    const [a, b] = accounts(chain, 1, 2);
    [s1, s2] = await addressesOf(a, b);
    const discountsAddress = await discounts.getAddress();

    await sendAll(token.connect(deployer).transfer(s1, E(20_000)), token.connect(deployer).transfer(s2, E(20_000)));
    await sendAll(
      token.connect(a).approve(discountsAddress, E(20_000)),
      token.connect(b).approve(discountsAddress, E(20_000)),
    );
    await sendAll(discounts.connect(a).stake(E(1500)), discounts.connect(b).stake(E(500)));
    await send(discounts.connect(a).stake(E(10_000)));
    receipts.unstake1 = await send(discounts.connect(a).requestUnstake(E(2000)));
    await advance(chain, DAY);
    receipts.cooldown = await send(discounts.connect(deployer).setCooldown(2 * DAY));
    // A later request under the shorter cooldown joins the running one, which does not end earlier.
    receipts.unstake2 = await send(discounts.connect(a).requestUnstake(E(500)));
    await advance(chain, 6 * DAY);
    receipts.withdraw = await send(discounts.connect(a).withdraw());
    receipts.unstakeB = await send(discounts.connect(b).requestUnstake(E(500)));

    receipts.fourTiers = await send(discounts.connect(deployer).setTiers(FOUR_TIERS));
    receipts.twoTiers = await send(discounts.connect(deployer).setTiers(TWO_TIERS));
    receipts.pause = await send(discounts.connect(deployer).emergencyPause());
    await send(discounts.connect(deployer).emergencyUnpause());
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds each staker's position as DiscountStaking.getPosition returns it, with lifetime totals", async () => {
    const { discounts } = chain.protocol;
    const fields = "staked cooling cooldownEndsAt totalStaked totalWithdrawn updatedAt";
    for (const [staker, totalStaked, totalWithdrawn, last] of [
      [s1, E(11_500), E(2500), receipts.withdraw!],
      [s2, E(500), 0n, receipts.unstakeB!],
    ] as const) {
      const p = await discounts.getPosition(staker);
      expect(await entity<StakerRow>(chain, "DiscountStaker", lower(staker), fields)).to.deep.equal({
        staked: p.staked.toString(),
        cooling: p.cooling.toString(),
        cooldownEndsAt: p.cooldownEndsAt === 0n ? null : p.cooldownEndsAt.toString(),
        totalStaked: totalStaked.toString(),
        totalWithdrawn: totalWithdrawn.toString(),
        updatedAt: (await timeOf(chain, last)).toString(),
      });
    }
    // S2's cooldown is the new 2-day one.
    expect((await discounts.getPosition(s2)).cooldownEndsAt).to.equal(
      (await timeOf(chain, receipts.unstakeB!)) + 2n * BigInt(DAY),
    );
  });

  it("merges cooling funds under the later cooldown end, as the contract does", async () => {
    const firstEnd = (await timeOf(chain, receipts.unstake1!)) + 7n * BigInt(DAY);
    expect(
      await entity<StakerRow>(
        chain,
        "DiscountStaker",
        lower(s1),
        "staked cooling cooldownEndsAt",
        receipts.unstake1!.blockNumber,
      ),
    ).to.deep.equal({ staked: E(9500).toString(), cooling: E(2000).toString(), cooldownEndsAt: firstEnd.toString() });
    expect(
      await entity<StakerRow>(
        chain,
        "DiscountStaker",
        lower(s1),
        "staked cooling cooldownEndsAt",
        receipts.unstake2!.blockNumber,
      ),
    ).to.deep.equal({ staked: E(9000).toString(), cooling: E(2500).toString(), cooldownEndsAt: firstEnd.toString() });
  });

  it("keeps the protocol's discount totals, staker count, cooldown and tier count equal to the contract's", async () => {
    const { discounts } = chain.protocol;
    expect(
      await protocolEntity(
        chain,
        "discountStakerCount discountTotalStaked discountTotalCooling discountCooldown discountTierCount",
      ),
    ).to.deep.equal({
      discountStakerCount: 2,
      discountTotalStaked: (await discounts.totalStaked()).toString(),
      discountTotalCooling: (await discounts.totalCooling()).toString(),
      discountCooldown: (await discounts.cooldown()).toString(),
      discountTierCount: (await discounts.getTiers()).length,
    });
    expect(await protocolEntity(chain, "discountCooldown", receipts.cooldown!.blockNumber - 1)).to.deep.equal({
      discountCooldown: String(7 * DAY),
    });
  });

  it("replaces the tier list as a whole: the deploy's three, then four, then two", async () => {
    const tiersAt = async (block?: number) => {
      const at = block === undefined ? "" : `, block: { number: ${block} }`;
      const { discountTiers } = await chain.query<{
        discountTiers: { id: string; index: number; minStake: string; discountBps: number }[];
      }>(`{ discountTiers(orderBy: index${at}) { id index minStake discountBps } }`);
      return discountTiers;
    };
    const rows = (tiers: readonly { minStake: bigint; discountBps: number | bigint }[]) =>
      tiers.map((t, i) => ({
        id: String(i),
        index: i,
        minStake: t.minStake.toString(),
        discountBps: Number(t.discountBps),
      }));
    const onChain = await chain.protocol.discounts.getTiers();
    expect(await tiersAt()).to.deep.equal(rows(onChain));
    expect(await tiersAt()).to.deep.equal(rows(TWO_TIERS));
    expect(await tiersAt(receipts.fourTiers!.blockNumber)).to.deep.equal(rows(FOUR_TIERS));
    expect(await tiersAt(receipts.fourTiers!.blockNumber - 1)).to.have.length(3);
  });

  it("keeps DiscountStaking's pause switch and authority in its Contract entity (it has no treasury)", async () => {
    const { discounts, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "DiscountStaking")).to.deep.equal({
      address: lower(await discounts.getAddress()),
      paused: false,
      treasury: null,
      authority: lower(await accessManager.getAddress()),
    });
    expect(await contractEntity(chain, "DiscountStaking", receipts.pause!.blockNumber)).to.deep.include({
      paused: true,
    });
  });

  it("triggered every DiscountStaking handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
