import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, parseEther, parseUnits } from "ethers";
import { channelId } from "../../../sdk/vouchers.js";
import { type RevertError, UsageError } from "../../../scripts/cli/errors.js";
import { cli, fails } from "../helpers/cli.js";
import {
  apiInput,
  DAY,
  deployFixture,
  MODEL_PAY_PER_CALL,
  networkHelpers,
  NodeType,
  region,
} from "../helpers/fixture.js";

/** An API priced in USDC, an active node, and a payer holding 1,000 USDC. */
async function escrowFixture() {
  const f = await deployFixture();
  const usdc = await f.usdc.getAddress();
  await f.registry.connect(f.provider).register(
    apiInput(usdc, {
      pricing: { ...apiInput(usdc).pricing, models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0 },
    }),
  );
  await f.staking.connect(f.operator).registerNode(NodeType.Edge, region("eu"), "https://n1", 10, parseEther("2000"));
  const payer = f.rest[0]!;
  await f.usdc.mint(payer.address, parseUnits("1000", 6));
  const dir = await mkdtemp(path.join(tmpdir(), "meshgate-escrow-cli-"));
  return { ...f, usdcAddress: usdc, payer, dir, channel: `--node ${f.operator.address} --api 1 --token ${usdc}` };
}

describe("scripts: meshgate CLI (escrow)", () => {
  it("deposits (approving), authorizes a hot key, signs vouchers, redeems them and claims earnings", async () => {
    const f = await networkHelpers.loadFixture(escrowFixture);
    const dep = await cli(f, f.payer, `channel deposit ${f.channel} --amount 25`);
    expect(dep[0]).to.match(/^Approved 25.0 of 0x/);
    expect(dep[1]).to.match(/^Deposited 25.0 into channel 0x[0-9a-f]{64} in tx 0x/);
    const id = channelId(f.payer.address, f.operator.address, 1n, f.usdcAddress);
    expect((await f.escrow.channels(id)).balance).to.equal(parseUnits("25", 6));

    const hot = Wallet.createRandom();
    expect((await cli(f, f.payer, `signer authorize --signer-key ${hot.privateKey}`))[0]).to.include(
      `Authorized signer ${hot.address}`,
    );
    expect((await f.escrow.signers(hot.address)).payer).to.equal(f.payer.address);

    // Two vouchers from the hot key, then a batch file with the latest: pays 1.5 in total.
    const first = path.join(f.dir, "v1.json");
    await cli(f, f.payer, `voucher sign ${f.channel} --cumulative 0.5 --signer-key ${hot.privateKey} --out ${first}`);
    expect((await cli(f, f.operator, `channel redeem ${first}`))[0]).to.match(/^Redeemed 1 voucher in tx 0x/);
    const second = JSON.parse(
      (await cli(f, f.payer, `voucher sign ${f.channel} --cumulative 1.5 --signer-key ${hot.privateKey}`)).join("\n"),
    );
    const batch = path.join(f.dir, "batch.json");
    await writeFile(batch, JSON.stringify([second, JSON.parse(await readFile(first, "utf8"))]));
    expect((await cli(f, f.outsider, `channel redeem ${batch}`))[0]).to.match(/^Redeemed 2 vouchers for node 0x/);
    const channel = await f.escrow.channels(id);
    expect([channel.balance, channel.redeemed]).to.deep.equal([parseUnits("23.5", 6), parseUnits("1.5", 6)]);

    const shown = (await cli(f, f.payer, `channel show ${f.channel}`)).join("\n");
    expect(shown).to.include("balance     23.5").and.include("redeemed    1.5");
    const earnings = (await cli(f, f.operator, `earnings show --token ${f.usdcAddress} --api 1`)).join("\n");
    expect(earnings).to.include("0.225 claimable").and.include("provider 1.2, protocol 0.075");

    await cli(f, f.operator, `earnings claim-node --token ${f.usdcAddress}`);
    expect(await f.usdc.balanceOf(f.operator.address)).to.equal(parseUnits("0.225", 6));
    await cli(f, f.provider, `earnings claim-provider --api 1 --token ${f.usdcAddress}`);
    expect(await f.usdc.balanceOf(f.provider.address)).to.equal(parseUnits("1.2", 6));
  });

  it("withdraws only after the thaw, and explains refusals", async () => {
    const f = await networkHelpers.loadFixture(escrowFixture);
    await cli(f, f.payer, `channel deposit ${f.channel} --amount 10`);
    expect((await cli(f, f.payer, `channel withdraw ${f.channel} --amount 4`))[0]).to.match(
      /^Withdrawal of 4.0 thaws until \d{4}-/,
    );
    const early = await fails(cli(f, f.payer, `channel finish-withdraw ${f.channel}`));
    expect((early as RevertError).errorName).to.equal("StillThawing");
    await networkHelpers.time.increase(2 * DAY);
    expect((await cli(f, f.payer, `channel finish-withdraw ${f.channel}`))[0]).to.match(/^Withdrew 4.0 in tx/);
    expect(await f.usdc.balanceOf(f.payer.address)).to.equal(parseUnits("994", 6));

    const wrongToken = await fails(
      cli(
        f,
        f.payer,
        `channel deposit --node ${f.operator.address} --api 1 --token ${await f.dai.getAddress()} --amount 1`,
      ),
    );
    expect((wrongToken as RevertError).errorName).to.equal("TokenNotAccepted");
    expect(wrongToken.message).to.include("use the API's payment token");

    const stranger = Wallet.createRandom();
    const unauthorized = path.join(f.dir, "bad.json");
    await cli(
      f,
      f.payer,
      `voucher sign ${f.channel} --cumulative 1 --signer-key ${stranger.privateKey} --out ${unauthorized}`,
    );
    const refused = await fails(cli(f, f.operator, `channel redeem ${unauthorized}`));
    expect((refused as RevertError).errorName).to.equal("SignerNotAuthorized");

    const malformed = path.join(f.dir, "malformed.json");
    await writeFile(malformed, JSON.stringify({ voucher: { payer: "0x12" }, signature: "0x" }));
    const usage = await fails(cli(f, f.operator, `channel redeem ${malformed}`));
    expect(usage).to.be.instanceOf(UsageError);
    expect(usage.message).to.include('as printed by "voucher sign"');
    expect((await fails(cli(f, f.payer, "channel deposit --api 1 --amount 1"))).message).to.include("missing --node");
  });

  it("revokes a signer with a thaw", async () => {
    const f = await networkHelpers.loadFixture(escrowFixture);
    const out = await cli(f, f.payer, "signer authorize --signer-key new");
    const signer = /Authorized signer (0x[0-9a-fA-F]{40})/.exec(out[0]!)![1]!;
    expect(out[1]).to.match(/its private key \(keep it secret\): 0x[0-9a-f]{64}/);
    expect((await cli(f, f.payer, `signer revoke ${signer}`))[0]).to.match(
      /^Revoking 0x[0-9a-fA-F]{40}: effective \d{4}-/,
    );
    expect((await f.escrow.signers(signer)).revokedAt).to.be.greaterThan(0n);
  });
});
