import { expect } from "chai";
import { getAddress } from "ethers";
import { Redis } from "ioredis";
import { VoucherStore } from "../../../relayer/store/voucher-store.js";
import { startRedis, type RedisServer } from "../../../scripts/dev/redis-server.js";

const PRICE = 10n;
const PAYER = getAddress(`0x${"a".repeat(40)}`);

describe("VoucherStore refunds (real Redis)", function () {
  let server: RedisServer;
  let redis: Redis;
  let store: VoucherStore;
  let channels = 0;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new VoucherStore(redis, "mg:refund-test");
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  /** A channel no other test touched, and a way to accept its vouchers (each signed distinctly). */
  function channel() {
    const channelId = `0x${(++channels).toString(16).padStart(64, "0")}`;
    const accept = (cumulativeAmount: bigint, redeemed = 0n) =>
      store.accept(
        {
          channelId,
          payer: PAYER,
          apiId: 1n,
          token: PAYER,
          signer: PAYER,
          cumulativeAmount,
          signature: `0x${cumulativeAmount.toString(16).padStart(4, "0")}`,
        },
        PRICE,
        redeemed,
      );
    const stored = async () => (await store.read([{ channelId, since: 0 }]))[0];
    const unsettled = async () => (await store.unsettled(1_000)).some((u) => u.channelId === channelId);
    return { channelId, accept, stored, unsettled };
  }

  it("restores the voucher the refunded one replaced, signature included, once", async () => {
    const c = channel();
    await c.accept(10n);
    await c.accept(20n);
    expect(await store.refund(c.channelId, 20n)).to.equal(10n);
    const restored = (await c.stored())!;
    expect([restored.cumulativeAmount, restored.signature]).to.deep.equal([10n, "0x000a"]);
    expect(await c.unsettled()).to.equal(true);
    // The same amount is accepted again afterwards: the payer signs it anew.
    expect(await c.accept(20n)).to.deep.equal({ accepted: true, previous: 10n });
  });

  it("forgets a channel whose first voucher is refunded", async () => {
    const c = channel();
    await c.accept(10n);
    expect(await store.refund(c.channelId, 10n)).to.equal(0n);
    expect(await c.stored()).to.equal(undefined);
    expect(await c.unsettled()).to.equal(false);
    expect(await store.latest(c.channelId)).to.equal(0n);
  });

  it("refuses to refund a voucher a later one replaced, or one it cannot restore the predecessor of", async () => {
    const c = channel();
    await c.accept(10n);
    await c.accept(20n);
    await c.accept(30n);
    // 20's call failed after 30 was accepted: 20 stays charged (30's cumulative amount includes it).
    expect(await store.refund(c.channelId, 20n)).to.equal(undefined);
    expect(await store.latest(c.channelId)).to.equal(30n);
    // 30 refunded restores 20; 20 cannot be refunded in turn (its predecessor 10 is no longer known), so
    // nothing served is ever lost by a chain of refunds.
    expect(await store.refund(c.channelId, 30n)).to.equal(20n);
    expect(await store.refund(c.channelId, 20n)).to.equal(undefined);
    expect(await store.latest(c.channelId)).to.equal(20n);
    expect(await store.refund(c.channelId, 999n)).to.equal(undefined);
    expect(await store.refund(channel().channelId, 10n)).to.equal(undefined);
  });

  it("refuses to refund a voucher settlement already recorded as paid", async () => {
    const c = channel();
    await c.accept(10n);
    await c.accept(20n);
    expect(await store.markSettled(c.channelId, 20n)).to.equal(true);
    expect(await store.refund(c.channelId, 20n)).to.equal(undefined);
    expect(await store.latest(c.channelId)).to.equal(20n);
  });

  it("leaves the unsettled set when the restored voucher is already paid on-chain", async () => {
    const c = channel();
    await c.accept(10n);
    expect(await store.markSettled(c.channelId, 10n)).to.equal(true);
    expect(await c.unsettled()).to.equal(false);
    await c.accept(20n, 10n);
    expect(await c.unsettled()).to.equal(true);
    expect(await store.refund(c.channelId, 20n)).to.equal(10n);
    expect(await c.unsettled()).to.equal(false);
  });
});
