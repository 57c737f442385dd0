import { expect } from "chai";
import fc from "fast-check";
import { MaxUint256 } from "ethers";
import { DAY, networkHelpers } from "../helpers/fixture.js";
import { escrowFixture, sign, voucherFor } from "../helpers/escrow.js";
import { E, register } from "../helpers/staking.js";

/**
 * Property tests of NodeRewards' split: whatever the served values, factors, emission and funds,
 * an epoch's claims sum exactly to its pool (no dust lost or created), in any claim order.
 * Factors vary per node through the unscored factor, set just before each node's commit (the
 * scored path is covered by NodeRewards.test.ts).
 */

const EPOCH = BigInt(DAY);
const MAX_NODES = 6;
const SEED = 20_260_301;
/** Per node channel: enough for any served value drawn here, across both epochs. */
const CHANNEL = 10n ** 28n;

/**
 * The escrow fixture plus four more Edge nodes (six in all), each with a USDC channel from
 * `payer` holding CHANNEL; the treasury approved NodeRewards for its MESH.
 */
async function fuzzFixture() {
  const fx = await escrowFixture();
  const extra = fx.rest.slice(5, 5 + MAX_NODES - 2);
  const stakingAddress = await fx.staking.getAddress();
  for (const op of extra) {
    await fx.token.connect(fx.deployer).transfer(op.address, E(1000));
    await fx.token.connect(op).approve(stakingAddress, E(1000));
    await register(fx, op);
  }
  const nodes = [fx.operator, fx.operator2, ...extra].map((s) => s.address);
  await fx.usdc.mint(fx.payer.address, CHANNEL * BigInt(nodes.length));
  for (const node of nodes) await fx.escrow.connect(fx.payer).deposit(node, fx.apiToken, fx.usdcAddress, CHANNEL);
  const rewardsAddress = await fx.rewards.getAddress();
  await fx.token.connect(fx.deployer).approve(rewardsAddress, MaxUint256);
  return { ...fx, nodes, rewardsAddress, genesis: await fx.escrow.epochGenesis() };
}

type FuzzFixture = Awaited<ReturnType<typeof fuzzFixture>>;

const amount = (small: bigint, large: bigint) =>
  fc.oneof(fc.bigInt({ min: 0n, max: small }), fc.bigInt({ min: 0n, max: large }));

/** One epoch of one node: value served (0: none) and the factor its commit gets. */
const work = fc.record({
  served: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 1n, max: 10n ** 24n })),
  factor: fc.oneof(fc.constant(10_000), fc.integer({ min: 1, max: 10_000 })),
});

const scenario = fc.integer({ min: 2, max: MAX_NODES }).chain((n) =>
  fc.record({
    /** Per node: epoch 0 and epoch 1. */
    work: fc.array(fc.tuple(work, work), { minLength: n, maxLength: n }),
    perUnit: fc.oneof(fc.constant(1n), fc.bigInt({ min: 1n, max: 10n ** 12n })),
    /** Emission when epoch 0's pool is set aside, then when epoch 1's is. */
    emission: fc.tuple(amount(1000n, 10n ** 26n), amount(1000n, 10n ** 26n)),
    funding: amount(3000n, 2n * 10n ** 26n),
    /** Sort keys for commit and claim orders (and their interleaving in epoch 4). */
    keys: fc.array(fc.integer(), { minLength: 4 * n, maxLength: 4 * n }),
    again: fc.nat(),
  }),
);

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface EpochModel {
  pool: bigint;
  totalWeight: bigint;
  weights: Map<string, bigint>;
  paid: bigint;
  claimedWeight: bigint;
  claims: { node: string; amount: bigint; floor: bigint }[];
}

describe("NodeRewards (property)", () => {
  it("an epoch's claims sum exactly to its pool, in any order; each is floor(pool x w / W) but the last", async function () {
    this.timeout(120_000);
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const fx = await networkHelpers.loadFixture(fuzzFixture);
        await run(fx, s);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});

async function run(fx: FuzzFixture, s: Scenario): Promise<void> {
  const { rewards } = fx;
  const nodes = fx.nodes.slice(0, s.work.length);
  const toEpoch = (e: number) => networkHelpers.time.increaseTo(fx.genesis + BigInt(e) * EPOCH);
  const key = (phase: number, i: number) => s.keys[phase * nodes.length + i]!;
  /** Node indexes sorted by their key in `phase`. */
  const order = (phase: number, among: number[]) => [...among].sort((a, b) => key(phase, a) - key(phase, b));

  await rewards.connect(fx.deployer).setRewardToken(fx.usdcAddress, s.perUnit);
  await rewards.connect(fx.deployer).setEmission(s.emission[0]);
  if (s.funding > 0n) await rewards.connect(fx.deployer).fund(s.funding);

  // Epochs 0 and 1: each node redeems what it served (one voucher on its channel).
  const cumulative = nodes.map(() => 0n);
  for (const epoch of [0, 1]) {
    if (epoch === 1) await toEpoch(1);
    for (const [i, node] of nodes.entries()) {
      const served = s.work[i]![epoch]!.served;
      if (served === 0n) continue;
      cumulative[i]! += served;
      const v = voucherFor(fx, cumulative[i]!, { node });
      await fx.escrow.redeem(v, await sign(fx, fx.payer, v));
    }
  }

  const models: EpochModel[] = [0, 1].map(() => ({
    pool: 0n,
    totalWeight: 0n,
    weights: new Map(),
    paid: 0n,
    claimedWeight: 0n,
    claims: [],
  }));
  const serving = (epoch: number) => nodes.map((_, i) => i).filter((i) => s.work[i]![epoch]!.served > 0n);
  let unallocated = s.funding;

  async function commit(epoch: number, i: number) {
    const m = models[epoch]!;
    const { served, factor } = s.work[i]![epoch]!;
    await rewards.connect(fx.deployer).setUnscoredFactor(factor);
    const first = m.weights.size === 0;
    const tx = await rewards.connect(fx.outsider).commit(nodes[i]!, epoch, [fx.usdcAddress]);
    if (first) {
      const emission = s.emission[epoch]!;
      m.pool = emission < unallocated ? emission : unallocated;
      unallocated -= m.pool;
      await expect(tx).to.emit(rewards, "EpochPoolAllocated").withArgs(epoch, m.pool);
    }
    const weight = served * s.perUnit * BigInt(factor);
    await expect(tx)
      .to.emit(rewards, "RewardCommitted")
      .withArgs(epoch, nodes[i]!, served * s.perUnit, factor, weight);
    m.weights.set(nodes[i]!, weight);
    m.totalWeight += weight;
  }

  async function claim(epoch: number, i: number) {
    const m = models[epoch]!;
    const node = nodes[i]!;
    const w = m.weights.get(node)!;
    const before = await fx.token.balanceOf(node);
    const receipt = await (await rewards.connect(fx.outsider).claim(node, epoch)).wait();
    const event = receipt!.logs.map((l) => rewards.interface.parseLog(l)).find((e) => e?.name === "RewardClaimed");
    const paid = event!.args.amount as bigint;
    expect(await fx.token.balanceOf(node), "paid to the node").to.equal(before + paid);
    const floor = (m.pool * w) / m.totalWeight;
    m.claimedWeight += w;
    const last = m.claimedWeight === m.totalWeight;
    expect(paid, `claim of node ${i} in epoch ${epoch}`).to.equal(last ? m.pool - m.paid : floor);
    m.paid += paid;
    m.claims.push({ node, amount: paid, floor });
  }

  // Epoch 3: epoch 0's commits, each node at its own factor.
  await toEpoch(3);
  for (const i of order(0, serving(0))) await commit(0, i);
  // Epoch 4: epoch 1's pool comes from what epoch 0 left unallocated, whatever epoch 0's
  // claims do meanwhile: its commits and epoch 0's claims interleave.
  await toEpoch(4);
  await rewards.connect(fx.deployer).setEmission(s.emission[1]);
  const actions = [
    ...serving(1).map((i) => ({ k: key(1, i), run: () => commit(1, i) })),
    ...serving(0).map((i) => ({ k: key(2, i), run: () => claim(0, i) })),
  ].sort((a, b) => a.k - b.k);
  for (const a of actions) await a.run();
  // Epoch 5: epoch 1's claims.
  await toEpoch(5);
  for (const i of order(3, serving(1))) await claim(1, i);

  for (const epoch of [0, 1]) {
    const m = models[epoch]!;
    const p = await rewards.poolOf(epoch);
    expect(p.allocated, `epoch ${epoch} allocated`).to.equal(m.weights.size > 0);
    expect(p.pool, `epoch ${epoch} pool`).to.equal(m.pool);
    expect(p.totalWeight).to.equal(m.totalWeight);
    expect(p.claimedWeight).to.equal(m.totalWeight);
    // No dust lost or created: the claims sum to the pool exactly.
    const sum = m.claims.reduce((a, c) => a + c.amount, 0n);
    expect(sum, `epoch ${epoch}: sum of claims`).to.equal(m.pool);
    expect(p.paid).to.equal(m.pool);
    // Only the last claim differs from its pro-rata share, by less than one unit per claim.
    for (const c of m.claims.slice(0, -1)) expect(c.amount).to.equal(c.floor);
    const lastClaim = m.claims.at(-1);
    if (lastClaim !== undefined) {
      expect(lastClaim.amount >= lastClaim.floor).to.equal(true);
      expect(lastClaim.amount - lastClaim.floor < BigInt(m.claims.length)).to.equal(true);
      // A claim cannot be made twice.
      const again = m.claims[s.again % m.claims.length]!.node;
      await expect(rewards.claim(again, epoch))
        .to.be.revertedWithCustomError(rewards, "AlreadyClaimed")
        .withArgs(again, epoch);
    }
  }
  expect(await rewards.reserved(), "reserved after all claims").to.equal(0n);
  expect(await rewards.unallocated()).to.equal(unallocated);
  expect(await fx.token.balanceOf(fx.rewardsAddress)).to.equal(unallocated);
  expect(unallocated).to.equal(s.funding - models[0]!.pool - models[1]!.pool);
}
