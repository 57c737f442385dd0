/**
 * Realistic marketplace activity on a deployed protocol, for the subgraph's scenario test and
 * benchmark: providers list APIs, operators stake edge nodes in several regions, payers open a
 * channel per (node, API) in a dev stablecoin, and nodes redeem signed vouchers in batches, round
 * after round, as relayers settling paid calls do. Deterministic keys: the same plan gives the
 * same accounts. Run it before the governance hand-over (it registers the stablecoin's price feed).
 */
import {
  encodeBytes32String,
  id,
  keccak256,
  NonceManager,
  parseEther,
  parseUnits,
  toUtf8Bytes,
  Wallet,
  ZeroAddress,
  type Signer,
} from "ethers";
import secp256k1 from "secp256k1";
import type { Protocol } from "../../deploy/protocol.js";
import { VoucherSigner } from "../../relayer/auth/voucher-signer.js";
import { escrowDomain } from "../../sdk/vouchers.js";
import { DevStablecoin__factory } from "../../types/ethers-contracts/index.js";
import { deployDevStablecoin } from "./seed.js";

export interface ActivityPlan {
  providers: number;
  apisPerProvider: number;
  nodes: number;
  payers: number;
  /** Settlement rounds: in each, every node redeems one voucher per channel it serves. */
  rounds: number;
  /** Vouchers per redeemBatch transaction. */
  batchSize: number;
}

export interface Activity {
  stablecoin: string;
  apiIds: bigint[];
  providers: string[];
  nodes: string[];
  payers: string[];
  /** Every voucher redeemed, in order: what the chain and the subgraph must agree on. */
  redemptions: { payer: string; node: string; apiId: bigint; token: string; cumulativeAmount: bigint }[];
  /** Transactions sent. */
  transactions: number;
  /** More settlement rounds on the same channels (needs no admin role: works after the hand-over). */
  settle(rounds: number): Promise<void>;
  claimNodeEarnings(nodeIndex: number): Promise<void>;
}

const CATEGORIES = ["weather", "finance", "maps", "ai-models"];
const REGIONS = ["eu-west", "us-east", "ap-south"];
/** $0.001 per call, priced in USD (18 decimals) and paid in the 6-decimal dev stablecoin. */
const PRICE_PER_CALL_USD = parseEther("0.001");
const CALL_PRICE_TOKEN = 1_000n;
const CHANNEL_DEPOSIT = parseUnits("1000", 6);

export async function generateActivity(
  protocol: Protocol,
  treasury: Signer,
  plan: ActivityPlan,
  onProgress: (message: string) => void = () => undefined,
): Promise<Activity> {
  const provider = treasury.provider!;
  const wallets = (role: string, n: number) =>
    Array.from({ length: n }, (_, i) => new Wallet(id(`meshgate activity ${role} ${i}`), provider));
  const providers = wallets("provider", plan.providers);
  const nodes = wallets("node", plan.nodes);
  const payers = wallets("payer", plan.payers);
  // One nonce manager per account for the whole run: ethers caches nonce reads for 250 ms.
  const signers = new Map([...providers, ...nodes, ...payers].map((w) => [w.address, new NonceManager(w)]));
  const signerOf = (w: Wallet) => signers.get(w.address)!;
  let transactions = 0;
  const send = async (tx: Promise<{ wait(): Promise<unknown> }>) => {
    transactions++;
    await (await tx).wait();
  };

  const funder = new NonceManager(treasury);
  for (const w of [...providers, ...nodes, ...payers]) {
    await send(funder.sendTransaction({ to: w.address, value: parseEther("100") }));
  }
  const stablecoin = await deployDevStablecoin(
    protocol,
    treasury,
    payers.map((p) => p.address),
  );
  onProgress(`funded ${providers.length + nodes.length + payers.length} accounts`);

  const apiIds: bigint[] = [];
  await Promise.all(
    providers.map(async (p, pi) => {
      const signer = signerOf(p);
      for (let a = 0; a < plan.apisPerProvider; a++) {
        const n = pi * plan.apisPerProvider + a;
        const tx = await protocol.registry.connect(signer).register({
          metadataUri: `https://api${n}.example.com/openapi.json`,
          metadataHash: keccak256(toUtf8Bytes(`openapi ${n}`)),
          upstreamUrl: `https://api${n}.example.com`,
          category: encodeBytes32String(CATEGORIES[n % CATEGORIES.length]!),
          tags: [encodeBytes32String(`tag-${n % 7}`)],
          pricing: {
            unit: 1,
            paymentToken: ZeroAddress,
            models: 1,
            stakerDiscount: false,
            period: 0,
            pricePerCall: PRICE_PER_CALL_USD,
            pricePerPeriod: 0,
          },
        });
        transactions++;
        const receipt = await tx.wait();
        for (const log of receipt?.logs ?? []) {
          const parsed = protocol.registry.interface.parseLog(log);
          if (parsed?.name === "ApiRegistered") apiIds.push(parsed.args[0] as bigint);
        }
      }
    }),
  );
  apiIds.sort((a, b) => (a < b ? -1 : 1));
  onProgress(`listed ${apiIds.length} APIs`);

  const stake = parseEther("5000");
  for (const n of nodes) await send(protocol.token.connect(funder).transfer(n.address, stake));
  await Promise.all(
    nodes.map(async (n, i) => {
      const signer = signerOf(n);
      await send(protocol.token.connect(signer).approve(await protocol.staking.getAddress(), stake));
      await send(
        protocol.staking
          .connect(signer)
          .registerNode(
            0,
            encodeBytes32String(REGIONS[i % REGIONS.length]!),
            `https://node${i}.example.com`,
            100,
            stake,
          ),
      );
    }),
  );
  onProgress(`staked ${nodes.length} nodes`);

  const escrowAddress = await protocol.escrow.getAddress();
  await Promise.all(
    payers.map(async (p) => {
      const signer = signerOf(p);
      await send(DevStablecoin__factory.connect(stablecoin, signer).approve(escrowAddress, 2n ** 128n));
      for (const n of nodes) {
        for (const apiId of apiIds) {
          await send(protocol.escrow.connect(signer).deposit(n.address, apiId, stablecoin, CHANNEL_DEPOSIT));
        }
      }
    }),
  );
  onProgress(`opened ${payers.length * nodes.length * apiIds.length} channels`);

  const chainId = (await provider.getNetwork()).chainId;
  const vouchers = new VoucherSigner(escrowDomain(chainId, escrowAddress));
  const activity: Activity = {
    stablecoin,
    apiIds,
    providers: providers.map((p) => p.address),
    nodes: nodes.map((n) => n.address),
    payers: payers.map((p) => p.address),
    redemptions: [],
    transactions: 0,
    settle: async (rounds) => {
      for (let i = 0; i < rounds; i++) {
        const round = ++roundsDone;
        await Promise.all(nodes.map((n) => settleRound(n, round)));
        onProgress(`settlement round ${round}`);
      }
      activity.transactions = transactions;
    },
    claimNodeEarnings: async (nodeIndex) => {
      const node = nodes[nodeIndex];
      if (!node) throw new Error(`no node ${nodeIndex}`);
      await send(protocol.escrow.connect(signerOf(node)).claimNodeEarnings(stablecoin));
      activity.transactions = transactions;
    },
  };
  let roundsDone = 0;

  /** Node `n` redeems one voucher per channel it serves, in batches, as its relayer would. */
  async function settleRound(n: Wallet, round: number): Promise<void> {
    const signer = signerOf(n);
    const batch: { payer: string; apiId: bigint; cumulativeAmount: bigint; signature: string }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await send(protocol.escrow.connect(signer).redeemBatch(n.address, stablecoin, batch.splice(0)));
    };
    for (const [pi, p] of payers.entries()) {
      for (const [ai, apiId] of apiIds.entries()) {
        // Channels get different call volumes (a popular API, a heavy payer) so totals differ.
        const calls = BigInt(round * (1 + ((pi + ai) % 5)));
        const cumulativeAmount = calls * CALL_PRICE_TOKEN;
        const digest = vouchers.digest(p.address, n.address, apiId, stablecoin, cumulativeAmount);
        const { signature, recid } = secp256k1.ecdsaSign(digest, Buffer.from(p.privateKey.slice(2), "hex"));
        batch.push({
          payer: p.address,
          apiId,
          cumulativeAmount,
          signature: `0x${Buffer.from(signature).toString("hex")}${(27 + recid).toString(16)}`,
        });
        activity.redemptions.push({ payer: p.address, node: n.address, apiId, token: stablecoin, cumulativeAmount });
        if (batch.length === plan.batchSize) await flush();
      }
    }
    await flush();
  }

  await activity.settle(plan.rounds);
  return activity;
}
