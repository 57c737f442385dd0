import { expect } from "chai";
import { id, parseEther, ZeroAddress, type ContractTransactionReceipt } from "ethers";
import { defaultParams } from "../../../../deploy/params.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  addressesOf,
  apiInput,
  bytes32,
  contractEntity,
  deployToken,
  entity,
  lower,
  MODEL_PAY_PER_CALL,
  MODEL_SUBSCRIPTION,
  PriceUnit,
  protocolEntity,
  send,
  sendAll,
  timeOf,
  USDC,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("registry");
const STATUS = ["None", "Active", "Paused", "Retired", "Delisted"] as const;
const FEE = parseEther("5");

interface ApiRow {
  apiId: string;
  provider: { id: string };
  pendingProvider: string | null;
  status: string;
  metadataUri: string;
  metadataHash: string;
  upstreamUrl: string;
  category: string;
  tags: string[];
  priceUnit: string;
  paymentToken: string;
  models: number;
  payPerCall: boolean;
  subscription: boolean;
  stakerDiscount: boolean;
  period: string;
  pricePerCall: string;
  pricePerPeriod: string;
  delistReason: string | null;
  listingFeePaid: string;
  createdAt: string;
  createdAtBlock: string;
  updatedAt: string;
}

const API_FIELDS = `apiId provider { id } pendingProvider status metadataUri metadataHash upstreamUrl category tags
  priceUnit paymentToken models payPerCall subscription stakerDiscount period pricePerCall pricePerPeriod
  delistReason listingFeePaid createdAt createdAtBlock updatedAt`;

/**
 * ApiRegistry: four APIs from three providers through every listing event: registration with and
 * without a listing fee, metadata/upstream/category/pricing updates, pause and resume, a completed
 * transfer, a transfer cancelled by retirement, a transfer cancelled by delisting, one left
 * pending; new listing bounds and treasury; the emergency pause. Every Api is compared field by
 * field with ApiRegistry.getApi.
 */
describe("subgraph mappings: ApiRegistry", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let a: string, b: string, c: string, treasury: string, usdc: string;
  const receipts: Record<string, ContractTransactionReceipt> = {};

  before(async () => {
    chain = await startIndexedChain();
    const { registry, token } = chain.protocol;
    const deployer = chain.account(0);
    const [pa, pb, pc] = [chain.account(1), chain.account(2), chain.account(3)];
    [a, b, c, treasury] = await addressesOf(pa, pb, pc, chain.account(4));
    usdc = await (await deployToken(deployer)).getAddress();
    const registryAddress = await registry.getAddress();

    await sendAll(token.connect(deployer).transfer(a, parseEther("100")), token.connect(deployer).transfer(b, FEE));
    await sendAll(
      token.connect(pa).approve(registryAddress, parseEther("100")),
      token.connect(pb).approve(registryAddress, FEE),
    );

    // API 1 before the listing fee: no ListingFeePaid.
    receipts.register1 = await send(registry.connect(pa).register(apiInput(usdc)));
    receipts.bounds = await send(
      registry.connect(deployer).setListingBounds({ ...defaultParams(ZeroAddress).listingBounds, listingFee: FEE }),
    );
    receipts.register2 = await send(
      registry.connect(pa).register(
        apiInput(ZeroAddress, {
          upstreamUrl: "https://usd.example.com",
          pricing: {
            unit: PriceUnit.Usd,
            paymentToken: ZeroAddress,
            stakerDiscount: true,
            pricePerCall: parseEther("0.002"),
            pricePerPeriod: parseEther("25"),
          },
        }),
      ),
    );
    receipts.register3 = await send(
      registry.connect(pb).register(
        apiInput(usdc, {
          category: bytes32("maps"),
          tags: [],
          pricing: { models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0n },
        }),
      ),
    );
    receipts.register4 = await send(registry.connect(pa).register(apiInput(usdc, { metadataUri: "ipfs://four" })));

    // API 1: every listing update, pause and resume, then handed to B.
    await send(registry.connect(pa).updateMetadata(1, "ipfs://v2", id("openapi v2")));
    await send(registry.connect(pa).updateUpstream(1, "https://api2.example.com/v2"));
    await send(registry.connect(pa).updateCategory(1, bytes32("finance"), [bytes32("fx")]));
    await send(
      registry.connect(pa).setPricing(1, {
        unit: PriceUnit.Token,
        paymentToken: usdc,
        models: MODEL_PAY_PER_CALL | MODEL_SUBSCRIPTION,
        stakerDiscount: true,
        period: 7 * 86_400,
        pricePerCall: USDC("0.002"),
        pricePerPeriod: USDC(3),
      }),
    );
    receipts.pause1 = await send(registry.connect(pa).pause(1));
    await send(registry.connect(pa).resume(1));
    receipts.transferStart1 = await send(registry.connect(pa).transferApi(1, b));
    await send(registry.connect(pb).acceptApi(1));

    // API 2: a transfer to C, then paused and retired (the retirement cancels the transfer).
    await send(registry.connect(pa).transferApi(2, c));
    await send(registry.connect(pa).pause(2));
    await send(registry.connect(pa).retire(2));

    // API 3: a transfer to C, cancelled by the delisting.
    await send(registry.connect(pb).transferApi(3, c));
    await send(registry.connect(deployer).delist(3, bytes32("malware")));

    // API 4: a transfer left pending.
    await send(registry.connect(pa).transferApi(4, c));

    receipts.pause = await send(registry.connect(deployer).emergencyPause());
    await send(registry.connect(deployer).emergencyUnpause());
    await send(registry.connect(deployer).setTreasury(treasury));
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds every API exactly as ApiRegistry.getApi returns it (listing, pricing, status, provider, times)", async () => {
    const { registry } = chain.protocol;
    for (const apiId of [1n, 2n, 3n, 4n]) {
      const api = (await entity<ApiRow>(chain, "Api", apiId.toString(), API_FIELDS))!;
      const onChain = await registry.getApi(apiId);
      const pending = await registry.pendingProviderOf(apiId);
      const p = onChain.pricing;
      const register = receipts[`register${apiId}`]!;
      expect(api, `API ${apiId}`).to.deep.include({
        apiId: apiId.toString(),
        provider: { id: lower(onChain.provider) },
        pendingProvider: pending === ZeroAddress ? null : lower(pending),
        status: STATUS[Number(onChain.status)],
        metadataUri: onChain.metadataUri,
        metadataHash: onChain.metadataHash,
        upstreamUrl: onChain.upstreamUrl,
        category: onChain.category,
        tags: [...onChain.tags],
        priceUnit: Number(p.unit) === PriceUnit.Usd ? "Usd" : "Token",
        paymentToken: lower(p.paymentToken),
        models: Number(p.models),
        payPerCall: (Number(p.models) & MODEL_PAY_PER_CALL) !== 0,
        subscription: (Number(p.models) & MODEL_SUBSCRIPTION) !== 0,
        stakerDiscount: p.stakerDiscount,
        period: p.period.toString(),
        pricePerCall: p.pricePerCall.toString(),
        pricePerPeriod: p.pricePerPeriod.toString(),
        createdAt: onChain.createdAt.toString(),
        createdAtBlock: register.blockNumber.toString(),
        updatedAt: onChain.updatedAt.toString(),
      });
      expect(BigInt(api.createdAt)).to.equal(await timeOf(chain, register));
    }
  });

  it("follows each API's history: updates, pause/resume, transfers, retirement and delisting", async () => {
    const one = (await entity<ApiRow>(chain, "Api", "1", API_FIELDS))!;
    expect(one).to.deep.include({
      provider: { id: lower(b) },
      pendingProvider: null,
      status: "Active",
      metadataUri: "ipfs://v2",
      metadataHash: id("openapi v2"),
      upstreamUrl: "https://api2.example.com/v2",
      category: bytes32("finance"),
      tags: [bytes32("fx")],
      priceUnit: "Token",
      paymentToken: lower(usdc),
      models: 3,
      payPerCall: true,
      subscription: true,
      stakerDiscount: true,
      period: String(7 * 86_400),
      pricePerCall: USDC("0.002").toString(),
      pricePerPeriod: USDC(3).toString(),
      delistReason: null,
      listingFeePaid: "0",
    });
    const pausedAt = receipts.pause1!.blockNumber;
    expect(await entity(chain, "Api", "1", "status", pausedAt)).to.deep.equal({ status: "Paused" });
    expect(await protocolEntity(chain, "activeApiCount", pausedAt)).to.deep.equal({ activeApiCount: 3 });
    // The transfer was pending (provider A) before B accepted it.
    expect(
      await entity(chain, "Api", "1", "provider { id } pendingProvider", receipts.transferStart1!.blockNumber),
    ).to.deep.equal({ provider: { id: lower(a) }, pendingProvider: lower(b) });

    expect(
      await entity(chain, "Api", "2", "status priceUnit paymentToken pendingProvider listingFeePaid"),
    ).to.deep.equal({
      status: "Retired",
      priceUnit: "Usd",
      paymentToken: ZeroAddress,
      pendingProvider: null,
      listingFeePaid: FEE.toString(),
    });
    expect(
      await entity(chain, "Api", "3", "status delistReason pendingProvider models subscription period"),
    ).to.deep.equal({
      status: "Delisted",
      delistReason: bytes32("malware"),
      pendingProvider: null,
      models: MODEL_PAY_PER_CALL,
      subscription: false,
      period: "0",
    });
    expect(await entity(chain, "Api", "4", "status pendingProvider")).to.deep.equal({
      status: "Active",
      pendingProvider: lower(c),
    });
  });

  it("counts providers' current APIs and the protocol's APIs, active APIs, providers and listing fees", async () => {
    const { registry } = chain.protocol;
    const providers = await chain.query<{ providers: { id: string; apiCount: number; apis: { apiId: string }[] }[] }>(
      `{ providers(orderBy: id) { id apiCount apis(orderBy: apiId) { apiId } } }`,
    );
    expect(providers.providers).to.deep.equal(
      [
        { id: lower(a), apiCount: 2, apis: [{ apiId: "2" }, { apiId: "4" }] },
        { id: lower(b), apiCount: 2, apis: [{ apiId: "1" }, { apiId: "3" }] },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    );
    let active = 0;
    for (const apiId of [1n, 2n, 3n, 4n]) if (await registry.isActive(apiId)) active++;
    expect(await protocolEntity(chain, "apiCount activeApiCount providerCount listingFeesPaid")).to.deep.equal({
      apiCount: Number(await registry.apiCount()),
      activeApiCount: active,
      providerCount: 2,
      listingFeesPaid: (3n * FEE).toString(),
    });
    expect(active).to.equal(2);
  });

  it("records listing fees per API and the listing bounds ListingBoundsUpdated set", async () => {
    for (const [apiId, fee] of [
      ["1", 0n],
      ["2", FEE],
      ["3", FEE],
      ["4", FEE],
    ] as const) {
      expect(await entity(chain, "Api", apiId, "listingFeePaid")).to.deep.equal({ listingFeePaid: fee.toString() });
    }
    const bounds = await chain.protocol.registry.listingBounds();
    expect(
      await protocolEntity(chain, "maxPricePerCall maxPricePerPeriod minPeriod maxPeriod maxMetadataLength listingFee"),
    ).to.deep.equal({
      maxPricePerCall: bounds.maxPricePerCall.toString(),
      maxPricePerPeriod: bounds.maxPricePerPeriod.toString(),
      minPeriod: bounds.minPeriod.toString(),
      maxPeriod: bounds.maxPeriod.toString(),
      maxMetadataLength: Number(bounds.maxMetadataLength),
      listingFee: FEE.toString(),
    });
    // Before setListingBounds: the constructor's bounds (no fee).
    expect(await protocolEntity(chain, "listingFee", receipts.register1!.blockNumber)).to.deep.equal({
      listingFee: "0",
    });
  });

  it("keeps the registry's pause switch, treasury and authority in its Contract entity", async () => {
    const { registry, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "ApiRegistry")).to.deep.equal({
      address: lower(await registry.getAddress()),
      paused: await registry.paused(),
      treasury: lower(await registry.treasury()),
      authority: lower(await accessManager.getAddress()),
    });
    expect(await registry.treasury()).to.equal(treasury);
    expect(await contractEntity(chain, "ApiRegistry", receipts.pause!.blockNumber)).to.deep.include({ paused: true });
  });

  it("triggered every ApiRegistry handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
