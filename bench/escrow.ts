/**
 * npm run bench:escrow: gas of voucher redemption on the in-process EVM. One voucher alone, then
 * batches of 1, 10, 50 and 100 vouchers, each voucher on its own channel (its own payer, signed
 * by that payer's authorized hot key), all for one node, API and token. Baseline in the same
 * run: a plain ERC-20 transfer, what paying each call on-chain would cost at minimum.
 * Last line: {"redeemOneGas", "batchMarginalGas", ...}; batchMarginalGas = (batch100 - batch1) / 99.
 */
import { encodeBytes32String, parseEther, parseUnits, Wallet, type ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import { deployProtocol } from "../deploy/protocol.js";
import { listBenchApi } from "./listing.js";
import { escrowDomain, signSignerAuthorization, signVoucher } from "../sdk/vouchers.js";
import { MockERC20__factory } from "../types/ethers-contracts/index.js";

const BATCHES = [1, 10, 50, 100];
const { ethers, networkHelpers } = await network.create();
const [deployer, provider, operator, other] = (await ethers.getSigners()) as [
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
];
const { protocol } = await deployProtocol(deployer, { network: "bench" });
const { registry, staking, token, escrow } = protocol;
const usdc = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
const usdcAddress = await usdc.getAddress();
const escrowAddress = await escrow.getAddress();
const domain = escrowDomain((await ethers.provider.getNetwork()).chainId, escrowAddress);

async function gas(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

await listBenchApi(registry, provider, usdcAddress, parseUnits("0.001", 6));
await token.connect(deployer).transfer(operator.address, parseEther("5000"));
await token.connect(operator).approve(await staking.getAddress(), parseEther("5000"));
await staking.connect(operator).registerNode(0, encodeBytes32String("eu"), "https://n", 100, parseEther("5000"));

/** A payer with a funded channel to the node and an authorized hot key. */
async function newPayer() {
  const payer = Wallet.createRandom().connect(ethers.provider);
  const hot = Wallet.createRandom();
  await networkHelpers.setBalance(payer.address, parseEther("10"));
  await usdc.mint(payer.address, parseUnits("1000", 6));
  await usdc.connect(payer).approve(escrowAddress, parseUnits("1000", 6));
  await escrow.connect(payer).deposit(operator.address, 1n, usdcAddress, parseUnits("1000", 6));
  const deadline = BigInt((await networkHelpers.time.latest()) + 3600);
  await escrow
    .connect(payer)
    .authorizeSigner(hot.address, deadline, await signSignerAuthorization(hot, domain, payer.address, deadline));
  return { payer, hot, cumulative: 0n };
}
type Payer = Awaited<ReturnType<typeof newPayer>>;

/** The next voucher of a payer: 25 more calls at $0.001. */
async function nextVoucher(p: Payer) {
  p.cumulative += parseUnits("0.025", 6);
  const voucher = {
    payer: p.payer.address,
    node: operator.address,
    apiId: 1n,
    token: usdcAddress,
    cumulativeAmount: p.cumulative,
  };
  return { voucher, signature: await signVoucher(p.hot, domain, voucher) };
}

const payers: Payer[] = [];
for (let i = 0; i < Math.max(...BATCHES); i++) payers.push(await newPayer());

// Baseline: paying one call with a plain ERC-20 transfer (warm recipient).
await usdc.mint(other.address, parseUnits("10", 6));
await usdc.connect(other).transfer(provider.address, 1n);
const transferGas = await gas(usdc.connect(other).transfer(provider.address, 1n));

// The first redemption ever credits empty earnings slots (zero -> non-zero); measured apart.
const first = await nextVoucher(payers[0]!);
const firstEverGas = await gas(escrow.connect(operator).redeem(first.voucher, first.signature));
// Steady state: a channel's first redemption, with the node's and the API's earnings non-zero.
const one = await nextVoucher(payers[1]!);
const redeemOneGas = await gas(escrow.connect(operator).redeem(one.voucher, one.signature));
const again = await nextVoucher(payers[1]!);
const redeemAgainGas = await gas(escrow.connect(operator).redeem(again.voucher, again.signature));

const batchGas = new Map<number, bigint>();
for (const size of BATCHES) {
  const items = [];
  for (const p of payers.slice(0, size)) {
    const { voucher, signature } = await nextVoucher(p);
    items.push({ payer: voucher.payer, apiId: voucher.apiId, cumulativeAmount: voucher.cumulativeAmount, signature });
  }
  batchGas.set(size, await gas(escrow.connect(operator).redeemBatch(operator.address, usdcAddress, items)));
}
// The first redemption of a new epoch also archives the node's served count of the previous one.
await networkHelpers.time.increase(Number(await escrow.epochLength()));
const nextEpoch = await nextVoucher(payers[2]!);
const newEpochGas = await gas(escrow.connect(operator).redeem(nextEpoch.voucher, nextEpoch.signature));
const batch1 = batchGas.get(1)!;
const batch100 = batchGas.get(100)!;
const batchMarginalGas = Number(batch100 - batch1) / 99;

const row = (label: string, value: string, note = "") =>
  console.log(`${label.padEnd(52)}${value.padStart(12)}  ${note}`);
console.log("Meshgate escrow redemption gas (in-process EVM, optimizer 200 runs)\n");
row("case", "gas", "notes");
row("baseline: one ERC-20 transfer (pay a call on-chain)", transferGas.toString());
row("redeem one voucher, first ever (earnings 0 -> x)", firstEverGas.toString(), "one-time per node/API/token");
row("redeem one voucher (steady state)", redeemOneGas.toString(), "target <= 60000");
row("redeem the next voucher of the same channel", redeemAgainGas.toString());
row("redeem one voucher, node's first in a new epoch", newEpochGas.toString(), "once per node/token/epoch");
for (const [size, g] of batchGas) {
  row(`redeemBatch of ${size}`, g.toString(), `${(Number(g) / size).toFixed(0)} per voucher`);
}
row("batch marginal gas per voucher ((100 - 1) / 99)", batchMarginalGas.toFixed(0), "target <= 25000");
// Push instead of pull: paying provider, node and treasury directly means three token transfers
// per redemption; each costs what a warm transfer costs above the 21,000 transaction base.
const pushExtra = 3n * (transferGas - 21_000n);
row("push alternative: + 3 direct transfers per redeem", `+${pushExtra}`, "derived from the baseline");
console.log(
  JSON.stringify({
    redeemOneGas: Number(redeemOneGas),
    batchMarginalGas: Math.round(batchMarginalGas),
    redeemFirstEverGas: Number(firstEverGas),
    redeemNewEpochGas: Number(newEpochGas),
    batchGas: Object.fromEntries([...batchGas].map(([k, v]) => [k, Number(v)])),
    baselineTransferGas: Number(transferGas),
    pushAlternativeExtraGas: Number(pushExtra),
  }),
);
