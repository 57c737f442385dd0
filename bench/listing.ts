/** The API listing the gas benchmarks share: pay per call in `token`, nothing else. */
import { encodeBytes32String, id, type Signer } from "ethers";
import type { ApiRegistry } from "../types/ethers-contracts/index.js";

/** Lists a pay-per-call API priced at `pricePerCall` base units of `token`; returns its id. */
export async function listBenchApi(
  registry: ApiRegistry,
  provider: Signer,
  token: string,
  pricePerCall: bigint,
): Promise<bigint> {
  await (
    await registry.connect(provider).register({
      metadataUri: "ipfs://bench",
      metadataHash: id("bench"),
      upstreamUrl: "https://bench.example",
      category: encodeBytes32String("bench"),
      tags: [],
      pricing: {
        unit: 0,
        paymentToken: token,
        models: 1,
        stakerDiscount: false,
        period: 0,
        pricePerCall,
        pricePerPeriod: 0,
      },
    })
  ).wait();
  return registry.apiCount();
}
