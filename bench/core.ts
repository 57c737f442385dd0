/**
 * npm run bench:core: gas of the core user actions on the in-process EVM, next to plain ERC-20
 * transfers measured in the same run as the baseline. Each figure is the median over several
 * fresh accounts (first-time actions: cold storage, as users meet them).
 * The last line is one JSON object: {registerApiGas, stakeGas, unstakeGas, withdrawGas, ...}.
 */
import { encodeBytes32String, id, parseEther, parseUnits, type ContractTransactionResponse } from "ethers";
import { network } from "hardhat";
import { deployProtocol } from "../deploy/protocol.js";
import { MockERC20__factory } from "../types/ethers-contracts/index.js";

const SAMPLES = 5;
const { ethers, networkHelpers } = await network.create();
const signers = await ethers.getSigners();
const deployer = signers[0]!;
const accounts = signers.slice(1, 1 + 2 * SAMPLES);
const { protocol } = await deployProtocol(deployer, { network: "bench" });
const { registry, staking, token } = protocol;
const usdc = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
const stakingAddress = await staking.getAddress();

async function gas(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}

function median(values: bigint[]): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor(sorted.length / 2)]!;
}

const samples: Record<string, bigint[]> = {
  "ERC-20 transfer, plain (baseline)": [],
  "MESH transfer, votes delegated (baseline)": [],
  "register API": [],
  "stake (register node)": [],
  "top up": [],
  unstake: [],
  withdraw: [],
};

// Baselines: a plain OpenZeppelin ERC-20 transfer and a MESH (ERC20Votes) transfer between
// two delegated holders, both to fresh recipients.
for (let i = 0; i < SAMPLES; i++) {
  const [from, to] = [accounts[2 * i]!, accounts[2 * i + 1]!];
  await usdc.mint(from.address, parseUnits("10", 6));
  samples["ERC-20 transfer, plain (baseline)"]!.push(await gas(usdc.connect(from).transfer(to.address, 1n)));
}
for (let i = 0; i < SAMPLES; i++) {
  const [from, to] = [accounts[2 * i]!, accounts[2 * i + 1]!];
  await token.connect(deployer).transfer(from.address, parseEther("20000"));
  await token.connect(from).delegate(from.address);
  await token.connect(to).delegate(to.address);
  samples["MESH transfer, votes delegated (baseline)"]!.push(await gas(token.connect(from).transfer(to.address, 1n)));
}

for (let i = 0; i < SAMPLES; i++) {
  const provider = accounts[2 * i + 1]!;
  const input = {
    metadataUri: `ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbz${i}`,
    metadataHash: id(`openapi ${i}`),
    upstreamUrl: `https://api${i}.example.com/v1`,
    category: encodeBytes32String("weather"),
    tags: [encodeBytes32String("forecast"), encodeBytes32String("geo")],
    pricing: {
      unit: 0,
      paymentToken: await usdc.getAddress(),
      models: 3,
      stakerDiscount: true,
      period: 30 * 24 * 3600,
      pricePerCall: parseUnits("0.001", 6),
      pricePerPeriod: parseUnits("10", 6),
    },
  };
  samples["register API"]!.push(await gas(registry.connect(provider).register(input)));
}

for (let i = 0; i < SAMPLES; i++) {
  const operator = accounts[2 * i]!;
  await token.connect(operator).approve(stakingAddress, parseEther("20000"));
  samples["stake (register node)"]!.push(
    await gas(
      staking
        .connect(operator)
        .registerNode(0, encodeBytes32String("eu-west"), `https://node${i}.example.com`, 100, parseEther("5000")),
    ),
  );
  samples["top up"]!.push(await gas(staking.connect(operator).topUp(parseEther("1000"))));
  samples.unstake!.push(await gas(staking.connect(operator).unstake(parseEther("1000"))));
}
await networkHelpers.time.increase(7 * 24 * 3600);
for (let i = 0; i < SAMPLES; i++) {
  samples.withdraw!.push(await gas(staking.connect(accounts[2 * i]!).withdraw()));
}

const rows = Object.entries(samples).map(([action, values]) => ({ action, gas: median(values) }));
const baseline = rows[0]!.gas;
console.log(`Meshgate core gas (median of ${SAMPLES} first-time actions, in-process EVM, optimizer 200 runs)\n`);
console.log(`${"action".padEnd(44)}${"gas".padStart(10)}${"x plain ERC-20 transfer".padStart(26)}`);
for (const { action, gas: g } of rows) {
  console.log(
    `${action.padEnd(44)}${g.toString().padStart(10)}${(Number(g) / Number(baseline)).toFixed(2).padStart(26)}`,
  );
}
const figure = (name: string) => Number(rows.find((r) => r.action === name)!.gas);
console.log(
  JSON.stringify({
    registerApiGas: figure("register API"),
    stakeGas: figure("stake (register node)"),
    topUpGas: figure("top up"),
    unstakeGas: figure("unstake"),
    withdrawGas: figure("withdraw"),
    baselineErc20TransferGas: Number(baseline),
    baselineMeshTransferGas: figure("MESH transfer, votes delegated (baseline)"),
  }),
);
