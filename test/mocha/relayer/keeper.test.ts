import { expect } from "chai";
import { parseUnits } from "ethers";
import { DevStablecoin__factory } from "../../../types/ethers-contracts/index.js";
import { startTestNetwork, type TestNetwork } from "../helpers/relayer.js";

describe("relayer keeper: renews due subscriptions on a repeatable job", function () {
  this.timeout(120_000);
  let net: TestNetwork;

  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => net?.stop());

  it("performs upkeep once a subscription is due, and only then", async () => {
    const { protocol, seed, accounts } = net;
    const subscriptions = protocol.subscriptions.connect(accounts.payer);
    const coin = DevStablecoin__factory.connect(seed.stablecoin, accounts.payer);
    // One period of the demo API ($5 / 30 days) now, and a balance that pays the renewal.
    await (await coin.approve(await subscriptions.getAddress(), parseUnits("20", 6))).wait();
    await (await subscriptions.subscribe(seed.apiId, seed.stablecoin, 1, parseUnits("5", 6))).wait();
    await (await subscriptions.depositBalance(seed.stablecoin, parseUnits("10", 6))).wait();
    const id = await subscriptions.subscriptionIdOf(seed.payer, seed.apiId);
    const paidUntil = (await subscriptions.getSubscription(id)).paidUntil;

    await net.startRelayer({ MESHGATE_KEEPER_INTERVAL_MS: "300" });
    // Not due yet: the keeper scans but sends nothing.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await protocol.subscriptions.queryFilter(protocol.subscriptions.filters.Renewed(), 0)).to.have.length(0);

    // A period later the keeper renews it from the payer's balance.
    await net.provider.send("evm_increaseTime", [30 * 24 * 60 * 60 + 1]);
    await net.provider.send("evm_mine", []);
    const deadline = Date.now() + 20_000;
    while ((await protocol.subscriptions.queryFilter(protocol.subscriptions.filters.Renewed(), 0)).length === 0) {
      if (Date.now() > deadline) throw new Error("the keeper did not renew the subscription");
      await new Promise((r) => setTimeout(r, 200));
    }
    const renewed = await protocol.subscriptions.queryFilter(protocol.subscriptions.filters.Renewed(), 0);
    expect(renewed).to.have.length(1);
    expect(renewed[0]!.args.subscriptionId).to.equal(id);
    // Renewed from the renewal time (the old period had lapsed by a few seconds).
    expect((await subscriptions.getSubscription(id)).paidUntil >= paidUntil + 30n * 24n * 60n * 60n).to.be.true;
    // Sent by the node operator's key (the relayer), as a performUpkeep.
    const tx = await net.provider.getTransaction(renewed[0]!.transactionHash);
    expect(tx?.from).to.equal(seed.operator);
  });
});
