import { expect } from "chai";
import {
  MaxUint256,
  ZeroAddress,
  ZeroHash,
  encodeBytes32String,
  getCreateAddress,
  id,
  parseEther,
  parseUnits,
  type ContractTransactionResponse,
} from "ethers";
import { defaultParams, type ListingBoundsParams } from "../../../deploy/params.js";
import { ROLES } from "../../../deploy/roles.js";
import { ApiRegistry__factory, MockERC20__factory, type ApiRegistry } from "../../../types/ethers-contracts/index.js";
import {
  ApiStatus,
  DAY,
  MODEL_PAY_PER_CALL,
  MODEL_SUBSCRIPTION,
  PriceUnit,
  apiInput,
  deployFixture,
  ethers,
  networkHelpers,
  type Fixture,
} from "../helpers/fixture.js";
import { register } from "../helpers/staking.js";

// ------------------------------------------------------------------ local helpers

interface PricingIn {
  unit: number;
  paymentToken: string;
  models: number;
  stakerDiscount: boolean;
  period: number;
  pricePerCall: bigint;
  pricePerPeriod: bigint;
}

interface ApiIn {
  metadataUri: string;
  metadataHash: string;
  upstreamUrl: string;
  category: string;
  tags: string[];
  pricing: PricingIn;
}

type ApiOut = Awaited<ReturnType<ApiRegistry["getApi"]>>;
type PricingOut = Awaited<ReturnType<ApiRegistry["getPricing"]>>;
type BoundsOut = Awaited<ReturnType<ApiRegistry["listingBounds"]>>;

/** Default local listing bounds (what deployProtocol uses): caps 10 / 100,000 (18 dec), 1h..365d, 512 chars, fee 0. */
const BOUNDS: ListingBoundsParams = defaultParams(ZeroAddress).listingBounds;
const CALL_CAP = BOUNDS.maxPricePerCall;
const PERIOD_CAP = BOUNDS.maxPricePerPeriod;
const MAX_LEN = BOUNDS.maxMetadataLength;
const MAX_TAGS = 8;

/** A valid input priced in `token` (fixture defaults), with field and pricing overrides. */
function input(token: string, over: Partial<Omit<ApiIn, "pricing">> = {}, pricing: Partial<PricingIn> = {}): ApiIn {
  const base = apiInput(token);
  return {
    metadataUri: base.metadataUri,
    metadataHash: base.metadataHash,
    upstreamUrl: base.upstreamUrl,
    category: base.category,
    tags: [...base.tags],
    ...over,
    pricing: { ...base.pricing, ...pricing },
  };
}

function pricingView(p: PricingOut): PricingIn {
  return {
    unit: Number(p.unit),
    paymentToken: p.paymentToken,
    models: Number(p.models),
    stakerDiscount: p.stakerDiscount,
    period: Number(p.period),
    pricePerCall: p.pricePerCall,
    pricePerPeriod: p.pricePerPeriod,
  };
}

interface ApiView extends ApiIn {
  provider: string;
  status: number;
  createdAt: number;
  updatedAt: number;
}

function apiView(a: ApiOut): ApiView {
  return {
    provider: a.provider,
    status: Number(a.status),
    createdAt: Number(a.createdAt),
    updatedAt: Number(a.updatedAt),
    metadataHash: a.metadataHash,
    category: a.category,
    pricing: pricingView(a.pricing),
    metadataUri: a.metadataUri,
    upstreamUrl: a.upstreamUrl,
    tags: [...a.tags],
  };
}

function boundsView(b: BoundsOut): ListingBoundsParams {
  return {
    maxPricePerCall: b.maxPricePerCall,
    maxPricePerPeriod: b.maxPricePerPeriod,
    minPeriod: Number(b.minPeriod),
    maxPeriod: Number(b.maxPeriod),
    maxMetadataLength: Number(b.maxMetadataLength),
    listingFee: b.listingFee,
  };
}

/** The timestamp of the block that mined `tx`. */
async function minedAt(tx: Promise<ContractTransactionResponse> | ContractTransactionResponse): Promise<number> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction dropped");
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error("block not found");
  return block.timestamp;
}

/** The address the next CREATE from `from` (an EOA) will get. */
async function nextCreateAddress(from: string): Promise<string> {
  return getCreateAddress({ from, nonce: await ethers.provider.getTransactionCount(from, "pending") });
}

/** Deploys raw `runtime` bytecode (hex, no 0x, under 256 bytes) with a minimal CODECOPY init code. */
async function deployRuntime(f: Fixture, runtime: string): Promise<string> {
  const len = (runtime.length / 2).toString(16).padStart(2, "0");
  // PUSH1 len PUSH1 0x0c PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN, then the runtime itself.
  const init = `0x60${len}600c60003960${len}6000f3${runtime}`;
  const receipt = await (await f.deployer.sendTransaction({ data: init })).wait();
  const addr = receipt?.contractAddress;
  if (!addr) throw new Error("no contract address");
  expect(await ethers.provider.getCode(addr)).to.equal(`0x${runtime}`);
  return addr;
}

/** Runtime code answering every call with the first `size` bytes of memory after MSTORE(0, word). */
function returnsWord(word: bigint, size = 32): string {
  const w = word.toString(16).padStart(64, "0");
  const n = size.toString(16).padStart(2, "0");
  // PUSH32 word PUSH1 0 MSTORE PUSH1 size PUSH1 0 RETURN
  return `7f${w}60005260${n}6000f3`;
}

/** Names of the registry's events in `tx`, in log order. */
async function eventNames(
  f: Fixture,
  tx: Promise<ContractTransactionResponse> | ContractTransactionResponse,
): Promise<string[]> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction dropped");
  const registry = await f.registry.getAddress();
  return receipt.logs
    .filter((log) => log.address === registry)
    .map((log) => f.registry.interface.parseLog(log)?.name ?? "unknown");
}

async function usdcOf(f: Fixture): Promise<string> {
  return f.usdc.getAddress();
}

/** Registers the default USDC-priced API as `f.provider`; returns its id, input and registration time. */
async function registered(f: Fixture, inp?: ApiIn, signer = f.provider) {
  const used = inp ?? input(await usdcOf(f));
  const before = await f.registry.apiCount();
  const at = await minedAt(f.registry.connect(signer).register(used));
  const apiId = await f.registry.apiCount();
  expect(apiId).to.equal(before + 1n);
  return { apiId, input: used, at };
}

/** The stored view expected for a freshly registered input. */
function expectedView(inp: ApiIn, provider: string, at: number, status: number = ApiStatus.Active): ApiView {
  return { ...inp, tags: [...inp.tags], pricing: { ...inp.pricing }, provider, status, createdAt: at, updatedAt: at };
}

function bounds(over: Partial<ListingBoundsParams> = {}): ListingBoundsParams {
  return { ...BOUNDS, ...over };
}

function tags(n: number): string[] {
  return Array.from({ length: n }, (_, i) => encodeBytes32String(`tag${i}`));
}

// ------------------------------------------------------------------ tests

describe("ApiRegistry", () => {
  describe("deployment", () => {
    it("is wired to the AccessManager, MESH and the treasury with the default bounds", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      expect(await f.registry.authority()).to.equal(await f.accessManager.getAddress());
      expect(await f.registry.feeToken()).to.equal(await f.token.getAddress());
      expect(await f.registry.treasury()).to.equal(f.deployer.address);
      expect(await f.registry.apiCount()).to.equal(0n);
      expect(boundsView(await f.registry.listingBounds())).to.deep.equal(BOUNDS);
      expect(await f.registry.MODEL_PAY_PER_CALL()).to.equal(BigInt(MODEL_PAY_PER_CALL));
      expect(await f.registry.MODEL_SUBSCRIPTION()).to.equal(BigInt(MODEL_SUBSCRIPTION));
      expect(await f.registry.MAX_TAGS()).to.equal(BigInt(MAX_TAGS));
    });

    it("constructor stores its arguments and emits ListingBoundsUpdated", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const b = bounds({ listingFee: parseEther("7"), minPeriod: 60, maxPeriod: 60, maxMetadataLength: 100 });
      const registry = await new ApiRegistry__factory(f.deployer).deploy(
        await f.accessManager.getAddress(),
        await f.token.getAddress(),
        f.outsider.address,
        b,
      );
      await expect(registry.deploymentTransaction())
        .to.emit(registry, "ListingBoundsUpdated")
        .withArgs(b.maxPricePerCall, b.maxPricePerPeriod, b.minPeriod, b.maxPeriod, b.maxMetadataLength, b.listingFee);
      expect(await registry.treasury()).to.equal(f.outsider.address);
      expect(await registry.feeToken()).to.equal(await f.token.getAddress());
      expect(boundsView(await registry.listingBounds())).to.deep.equal(b);
    });

    it("constructor reverts with ZeroAddress for a zero authority, fee token or treasury", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const factory = new ApiRegistry__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      await expect(factory.deploy(ZeroAddress, token, f.deployer.address, BOUNDS)).to.be.revertedWithCustomError(
        f.registry,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, ZeroAddress, f.deployer.address, BOUNDS)).to.be.revertedWithCustomError(
        f.registry,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, token, ZeroAddress, BOUNDS)).to.be.revertedWithCustomError(
        f.registry,
        "ZeroAddress",
      );
    });

    it("constructor reverts with InvalidTreasury when the treasury is the registry itself", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const factory = new ApiRegistry__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      // The address the deployment will get: CREATE from the deployer at its next nonce.
      const self = await nextCreateAddress(f.deployer.address);
      await expect(factory.deploy(am, token, self, BOUNDS))
        .to.be.revertedWithCustomError(f.registry, "InvalidTreasury")
        .withArgs(self);
      expect(await ethers.provider.getCode(self)).to.equal("0x");
    });

    it("constructor reverts with InvalidListingBounds for each invalid field", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const factory = new ApiRegistry__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      const token = await f.token.getAddress();
      const invalid: Partial<ListingBoundsParams>[] = [
        { maxPricePerCall: 0n },
        { maxPricePerPeriod: 0n },
        { minPeriod: 0 },
        { minPeriod: 2 * DAY, maxPeriod: DAY },
        { maxMetadataLength: 0 },
      ];
      for (const over of invalid) {
        await expect(factory.deploy(am, token, f.deployer.address, bounds(over))).to.be.revertedWithCustomError(
          f.registry,
          "InvalidListingBounds",
        );
      }
    });
  });

  describe("register", () => {
    it("lists an API with its full record, pricing and events", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const usdc = await usdcOf(f);
      const inp = input(usdc);
      const tx = f.registry.connect(f.provider).register(inp);
      await expect(tx)
        .to.emit(f.registry, "ApiRegistered")
        .withArgs(1n, f.provider.address, inp.metadataUri, inp.metadataHash, inp.upstreamUrl, inp.category, inp.tags);
      const p = inp.pricing;
      await expect(tx)
        .to.emit(f.registry, "ApiPricingUpdated")
        .withArgs(1n, p.unit, p.paymentToken, p.models, p.stakerDiscount, p.period, p.pricePerCall, p.pricePerPeriod);
      const at = await minedAt(tx);

      expect(await f.registry.apiCount()).to.equal(1n);
      expect(apiView(await f.registry.getApi(1n))).to.deep.equal(expectedView(inp, f.provider.address, at));
      expect(pricingView(await f.registry.getPricing(1n))).to.deep.equal(inp.pricing);
      expect(await f.registry.providerOf(1n)).to.equal(f.provider.address);
      expect(await f.registry.isActive(1n)).to.equal(true);
      expect(await f.registry.pendingProviderOf(1n)).to.equal(ZeroAddress);
    });

    it("returns the new id from a static call", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const inp = input(await usdcOf(f));
      expect(await f.registry.connect(f.provider).register.staticCall(inp)).to.equal(1n);
      await registered(f, inp);
      expect(await f.registry.connect(f.provider).register.staticCall(inp)).to.equal(2n);
    });

    it("gives sequential ids to several providers and keeps records independent", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const usdc = await usdcOf(f);
      const first = await registered(f);
      const inp2 = input(
        await f.dai.getAddress(),
        { metadataUri: "ar://other", metadataHash: id("other"), upstreamUrl: "https://b.example", tags: [] },
        { pricePerCall: parseEther("0.5"), pricePerPeriod: parseEther("20"), stakerDiscount: false },
      );
      const second = await registered(f, inp2, f.provider2);
      // The same input may be listed twice (no uniqueness constraint).
      const third = await registered(f, input(usdc));
      expect([first.apiId, second.apiId, third.apiId]).to.deep.equal([1n, 2n, 3n]);
      expect(await f.registry.apiCount()).to.equal(3n);
      expect(apiView(await f.registry.getApi(1n))).to.deep.equal(
        expectedView(first.input, f.provider.address, first.at),
      );
      expect(apiView(await f.registry.getApi(2n))).to.deep.equal(expectedView(inp2, f.provider2.address, second.at));
      expect(await f.registry.providerOf(3n)).to.equal(f.provider.address);
    });

    it("accepts an 18-decimal payment token", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const inp = input(
        await f.dai.getAddress(),
        {},
        { pricePerCall: parseEther("0.01"), pricePerPeriod: parseEther("25") },
      );
      const { apiId, at } = await registered(f, inp);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal(expectedView(inp, f.provider.address, at));
    });

    it("accepts USD pricing with no payment token", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const inp = input(
        ZeroAddress,
        {},
        { unit: PriceUnit.Usd, pricePerCall: parseEther("0.002"), pricePerPeriod: parseEther("49") },
      );
      const p = inp.pricing;
      await expect(f.registry.connect(f.provider).register(inp))
        .to.emit(f.registry, "ApiPricingUpdated")
        .withArgs(
          1n,
          PriceUnit.Usd,
          ZeroAddress,
          p.models,
          p.stakerDiscount,
          p.period,
          p.pricePerCall,
          p.pricePerPeriod,
        );
      expect(pricingView(await f.registry.getPricing(1n))).to.deep.equal(p);
    });

    it("accepts a subscription-only model with a zero per-call price", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const inp = input(await usdcOf(f), {}, { models: MODEL_SUBSCRIPTION, pricePerCall: 0n });
      const { apiId } = await registered(f, inp);
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(inp.pricing);
    });

    it("accepts a pay-per-call-only model with a zero period and period price", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const inp = input(await usdcOf(f), {}, { models: MODEL_PAY_PER_CALL, period: 0, pricePerPeriod: 0n });
      const { apiId } = await registered(f, inp);
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(inp.pricing);
    });

    it("accepts fields at their limits: no tags, MAX_TAGS tags, URI and upstream of exactly maxMetadataLength", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const usdc = await usdcOf(f);
      await registered(f, input(usdc, { tags: [] }));
      expect((await f.registry.getApi(1n)).tags).to.deep.equal([]);
      const full = input(usdc, {
        tags: tags(MAX_TAGS),
        metadataUri: "u".repeat(MAX_LEN),
        upstreamUrl: "h".repeat(MAX_LEN),
      });
      const { apiId, at } = await registered(f, full);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal(expectedView(full, f.provider.address, at));
    });

    it("measures field length in bytes, not characters", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      // "é" is two bytes in UTF-8: 257 characters = 514 bytes.
      const uri = "é".repeat(MAX_LEN / 2 + 1);
      await expect(f.registry.connect(f.provider).register(input(await usdcOf(f), { metadataUri: uri })))
        .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
        .withArgs(MAX_LEN + 2, MAX_LEN);
    });

    describe("metadata, upstream and category validation", () => {
      it("reverts with EmptyMetadataUri", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), { metadataUri: "" })),
        ).to.be.revertedWithCustomError(f.registry, "EmptyMetadataUri");
      });

      it("reverts with ZeroMetadataHash", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), { metadataHash: ethers.ZeroHash })),
        ).to.be.revertedWithCustomError(f.registry, "ZeroMetadataHash");
      });

      it("reverts with FieldTooLong for a metadata URI one byte over the limit", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), { metadataUri: "u".repeat(MAX_LEN + 1) })),
        )
          .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
          .withArgs(MAX_LEN + 1, MAX_LEN);
      });

      it("reverts with EmptyUpstreamUrl", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), { upstreamUrl: "" })),
        ).to.be.revertedWithCustomError(f.registry, "EmptyUpstreamUrl");
      });

      it("reverts with FieldTooLong for an upstream URL one byte over the limit", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), { upstreamUrl: "h".repeat(MAX_LEN + 1) })),
        )
          .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
          .withArgs(MAX_LEN + 1, MAX_LEN);
      });

      it("reverts with ZeroCategory", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), { category: ethers.ZeroHash })),
        ).to.be.revertedWithCustomError(f.registry, "ZeroCategory");
      });

      it("reverts with TooManyTags for MAX_TAGS + 1 tags", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(f.registry.connect(f.provider).register(input(await usdcOf(f), { tags: tags(MAX_TAGS + 1) })))
          .to.be.revertedWithCustomError(f.registry, "TooManyTags")
          .withArgs(MAX_TAGS + 1, MAX_TAGS);
        expect(await f.registry.apiCount()).to.equal(0n);
      });
    });

    describe("pricing validation", () => {
      it("reverts with NoPricingModel when no model bit is set", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        await expect(
          f.registry.connect(f.provider).register(input(await usdcOf(f), {}, { models: 0 })),
        ).to.be.revertedWithCustomError(f.registry, "NoPricingModel");
      });

      it("reverts with UnknownPricingModel for any unknown bit", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const usdc = await usdcOf(f);
        for (const models of [4, 7, 8, 128, 255]) {
          await expect(f.registry.connect(f.provider).register(input(usdc, {}, { models })))
            .to.be.revertedWithCustomError(f.registry, "UnknownPricingModel")
            .withArgs(models);
        }
      });

      it("reverts with InvalidPaymentToken for an EOA or the zero address as token", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        for (const token of [f.outsider.address, ZeroAddress]) {
          await expect(f.registry.connect(f.provider).register(input(token)))
            .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
            .withArgs(token);
        }
      });

      it("reverts with InvalidPaymentToken for USD pricing with a non-zero token", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const usdc = await usdcOf(f);
        await expect(f.registry.connect(f.provider).register(input(usdc, {}, { unit: PriceUnit.Usd })))
          .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
          .withArgs(usdc);
      });

      it("reverts with InvalidPaymentToken for a contract without decimals()", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const am = await f.accessManager.getAddress();
        await expect(f.registry.connect(f.provider).register(input(am)))
          .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
          .withArgs(am);
      });

      it("reverts with InvalidPaymentToken for a contract whose decimals() returns no data", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        // Runtime 0x00 (STOP): every call succeeds and returns nothing.
        const silent = await deployRuntime(f, "00");
        await expect(f.registry.connect(f.provider).register(input(silent)))
          .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
          .withArgs(silent);
      });

      it("reverts with InvalidPaymentToken for a contract whose decimals() returns a value above 255", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        // PUSH2 0x0100 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: 32 bytes holding 256.
        const wide = await deployRuntime(f, "61010060005260206000f3");
        await expect(f.registry.connect(f.provider).register(input(wide)))
          .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
          .withArgs(wide);
        const huge = await deployRuntime(f, returnsWord(MaxUint256));
        await expect(f.registry.connect(f.provider).register(input(huge)))
          .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
          .withArgs(huge);
        // 255 is still a uint8: it gets the decimals error, not the token error.
        const max8 = await deployRuntime(f, returnsWord(255n));
        await expect(f.registry.connect(f.provider).register(input(max8)))
          .to.be.revertedWithCustomError(f.registry, "UnsupportedTokenDecimals")
          .withArgs(max8, 255);
      });

      it("reverts with InvalidPaymentToken when decimals() returns other than exactly 32 bytes", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        // The word 18, cut short or followed by zero bytes (the old try/decode accepted 33 and 64).
        for (const size of [1, 31, 33, 64]) {
          const token = await deployRuntime(f, returnsWord(18n, size));
          await expect(f.registry.connect(f.provider).register(input(token)))
            .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
            .withArgs(token);
        }
        // Exactly 32 bytes holding 18: accepted through the same low-level path (no ERC-20 needed).
        const bare = await deployRuntime(f, returnsWord(18n));
        const inp = input(bare, {}, { pricePerCall: parseEther("0.01"), pricePerPeriod: parseEther("25") });
        const { apiId } = await registered(f, inp);
        expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(inp.pricing);
      });

      it("reverts with UnsupportedTokenDecimals for tokens with neither 6 nor 18 decimals", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        for (const decimals of [8, 0]) {
          const token = await new MockERC20__factory(f.deployer).deploy("Odd", "ODD", decimals);
          const addr = await token.getAddress();
          await expect(f.registry.connect(f.provider).register(input(addr)))
            .to.be.revertedWithCustomError(f.registry, "UnsupportedTokenDecimals")
            .withArgs(addr, decimals);
        }
      });

      it("reverts with ZeroPrice for a zero price of an offered model", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const usdc = await usdcOf(f);
        const cases: Partial<PricingIn>[] = [
          { pricePerCall: 0n },
          { pricePerPeriod: 0n },
          { models: MODEL_PAY_PER_CALL, pricePerCall: 0n, pricePerPeriod: 0n, period: 0 },
          { models: MODEL_SUBSCRIPTION, pricePerCall: 0n, pricePerPeriod: 0n },
          { unit: PriceUnit.Usd, paymentToken: ZeroAddress, pricePerCall: 0n },
        ];
        for (const pricing of cases) {
          await expect(f.registry.connect(f.provider).register(input(usdc, {}, pricing))).to.be.revertedWithCustomError(
            f.registry,
            "ZeroPrice",
          );
        }
      });

      const units = [
        { name: "a 6-decimal token", unit: PriceUnit.Token, token: "usdc", scale: 10n ** 12n },
        { name: "an 18-decimal token", unit: PriceUnit.Token, token: "dai", scale: 1n },
        { name: "USD", unit: PriceUnit.Usd, token: "none", scale: 1n },
      ] as const;
      const priceFields = [
        { field: "pricePerCall", cap: CALL_CAP },
        { field: "pricePerPeriod", cap: PERIOD_CAP },
      ] as const;
      for (const u of units) {
        for (const { field, cap } of priceFields) {
          it(`${field} in ${u.name}: exactly the cap passes, one unit more reverts with PriceAboveMax`, async () => {
            const f = await networkHelpers.loadFixture(deployFixture);
            const token =
              u.token === "usdc"
                ? await f.usdc.getAddress()
                : u.token === "dai"
                  ? await f.dai.getAddress()
                  : ZeroAddress;
            const atCap = cap / u.scale;
            expect(atCap * u.scale).to.equal(cap); // the cap is representable in this unit
            const ok = input(token, {}, { unit: u.unit, [field]: atCap });
            const { apiId } = await registered(f, ok);
            expect(pricingView(await f.registry.getPricing(apiId))[field]).to.equal(atCap);

            await expect(
              f.registry.connect(f.provider).register(input(token, {}, { unit: u.unit, [field]: atCap + 1n })),
            )
              .to.be.revertedWithCustomError(f.registry, "PriceAboveMax")
              .withArgs((atCap + 1n) * u.scale, cap);
          });
        }
      }

      it("reverts with PriceForUnofferedModel(1) for a per-call price without the pay-per-call model", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const dai = await f.dai.getAddress();
        const subOnly = { models: MODEL_SUBSCRIPTION };
        const cases: Partial<PricingIn>[] = [
          { ...subOnly, pricePerCall: 1n },
          { ...subOnly, pricePerCall: CALL_CAP + 1n }, // above the cap too: the model check wins
          { ...subOnly, unit: PriceUnit.Usd, paymentToken: ZeroAddress, pricePerCall: parseEther("0.01") },
        ];
        for (const pricing of cases) {
          await expect(f.registry.connect(f.provider).register(input(dai, {}, pricing)))
            .to.be.revertedWithCustomError(f.registry, "PriceForUnofferedModel")
            .withArgs(MODEL_PAY_PER_CALL);
        }
        expect(await f.registry.apiCount()).to.equal(0n);
      });

      it("reverts with PriceForUnofferedModel(2) for a period price or period without the subscription model", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const dai = await f.dai.getAddress();
        const callOnly = { models: MODEL_PAY_PER_CALL };
        const cases: Partial<PricingIn>[] = [
          { ...callOnly, pricePerPeriod: 1n, period: 0 },
          { ...callOnly, pricePerPeriod: 0n, period: 1 },
          { ...callOnly, pricePerPeriod: PERIOD_CAP + 1n, period: BOUNDS.maxPeriod + 1 }, // out of bounds too
          { ...callOnly, unit: PriceUnit.Usd, paymentToken: ZeroAddress, pricePerPeriod: 0n, period: 30 * DAY },
        ];
        for (const pricing of cases) {
          await expect(f.registry.connect(f.provider).register(input(dai, {}, pricing)))
            .to.be.revertedWithCustomError(f.registry, "PriceForUnofferedModel")
            .withArgs(MODEL_SUBSCRIPTION);
        }
        expect(await f.registry.apiCount()).to.equal(0n);
      });

      it("setPricing reverts with PriceForUnofferedModel for a price of a model not offered; the pricing is kept", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const { apiId, input: inp } = await registered(f);
        const r = f.registry.connect(f.provider);
        const both = inp.pricing;
        await expect(r.setPricing(apiId, { ...both, models: MODEL_SUBSCRIPTION }))
          .to.be.revertedWithCustomError(f.registry, "PriceForUnofferedModel")
          .withArgs(MODEL_PAY_PER_CALL);
        await expect(r.setPricing(apiId, { ...both, models: MODEL_PAY_PER_CALL }))
          .to.be.revertedWithCustomError(f.registry, "PriceForUnofferedModel")
          .withArgs(MODEL_SUBSCRIPTION);
        await expect(r.setPricing(apiId, { ...both, models: MODEL_PAY_PER_CALL, pricePerPeriod: 0n }))
          .to.be.revertedWithCustomError(f.registry, "PriceForUnofferedModel")
          .withArgs(MODEL_SUBSCRIPTION);
        await expect(r.setPricing(apiId, { ...both, models: MODEL_PAY_PER_CALL, period: 0 }))
          .to.be.revertedWithCustomError(f.registry, "PriceForUnofferedModel")
          .withArgs(MODEL_SUBSCRIPTION);
        expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(both);

        // Dropping a model works once its price fields are zeroed.
        const callOnly = { ...both, models: MODEL_PAY_PER_CALL, pricePerPeriod: 0n, period: 0 };
        await expect(r.setPricing(apiId, callOnly))
          .to.emit(f.registry, "ApiPricingUpdated")
          .withArgs(
            apiId,
            callOnly.unit,
            callOnly.paymentToken,
            MODEL_PAY_PER_CALL,
            callOnly.stakerDiscount,
            0,
            callOnly.pricePerCall,
            0n,
          );
        expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(callOnly);
        const subOnly = { ...both, models: MODEL_SUBSCRIPTION, pricePerCall: 0n };
        await r.setPricing(apiId, subOnly);
        expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(subOnly);
      });

      it("period bounds: min and max pass, below min and above max revert with InvalidPeriod", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const usdc = await usdcOf(f);
        await registered(f, input(usdc, {}, { period: BOUNDS.minPeriod }));
        await registered(f, input(usdc, {}, { period: BOUNDS.maxPeriod }));
        for (const period of [0, BOUNDS.minPeriod - 1, BOUNDS.maxPeriod + 1]) {
          await expect(f.registry.connect(f.provider).register(input(usdc, {}, { period })))
            .to.be.revertedWithCustomError(f.registry, "InvalidPeriod")
            .withArgs(period, BOUNDS.minPeriod, BOUNDS.maxPeriod);
          await expect(
            f.registry
              .connect(f.provider)
              .register(input(usdc, {}, { period, models: MODEL_SUBSCRIPTION, pricePerCall: 0n })),
          )
            .to.be.revertedWithCustomError(f.registry, "InvalidPeriod")
            .withArgs(period, BOUNDS.minPeriod, BOUNDS.maxPeriod);
        }
        expect(await f.registry.apiCount()).to.equal(2n);
      });
    });
  });

  describe("listing fee", () => {
    const FEE = parseEther("50");

    async function withFee(fee: bigint) {
      const f = await networkHelpers.loadFixture(deployFixture);
      await f.registry.connect(f.deployer).setListingBounds(bounds({ listingFee: fee }));
      return f;
    }

    it("moves the fee from the provider to the treasury and emits ListingFeePaid", async () => {
      const f = await withFee(FEE);
      const registryAddress = await f.registry.getAddress();
      await f.token.connect(f.deployer).transfer(f.provider.address, parseEther("120"));
      await f.token.connect(f.provider).approve(registryAddress, FEE);
      const tx = f.registry.connect(f.provider).register(input(await usdcOf(f)));
      await expect(tx).to.emit(f.registry, "ListingFeePaid").withArgs(1n, f.provider.address, f.deployer.address, FEE);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [f.provider, f.deployer, registryAddress],
        [-FEE, FEE, 0n],
      );
      expect(await f.token.allowance(f.provider.address, registryAddress)).to.equal(0n);
      expect(await f.registry.providerOf(1n)).to.equal(f.provider.address);
    });

    it("charges only at registration, not on updates", async () => {
      const f = await withFee(FEE);
      const registryAddress = await f.registry.getAddress();
      await f.token.connect(f.deployer).transfer(f.provider.address, FEE * 2n);
      await f.token.connect(f.provider).approve(registryAddress, FEE * 2n);
      const { apiId } = await registered(f);
      const tx = f.registry.connect(f.provider).updateMetadata(apiId, "ipfs://v2", id("v2"));
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.provider, f.deployer], [0n, 0n]);
      await expect(tx).not.to.emit(f.registry, "ListingFeePaid");
    });

    it("pays the current treasury after setTreasury", async () => {
      const f = await withFee(FEE);
      await f.registry.connect(f.deployer).setTreasury(f.outsider.address);
      await f.token.connect(f.deployer).transfer(f.provider.address, FEE);
      await f.token.connect(f.provider).approve(await f.registry.getAddress(), FEE);
      const tx = f.registry.connect(f.provider).register(input(await usdcOf(f)));
      await expect(tx).to.emit(f.registry, "ListingFeePaid").withArgs(1n, f.provider.address, f.outsider.address, FEE);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.provider, f.outsider, f.deployer], [-FEE, FEE, 0n]);
    });

    it("reverts with the token's ERC20InsufficientAllowance without approval", async () => {
      const f = await withFee(FEE);
      await f.token.connect(f.deployer).transfer(f.provider.address, FEE);
      await expect(f.registry.connect(f.provider).register(input(await usdcOf(f))))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(await f.registry.getAddress(), 0n, FEE);
      expect(await f.registry.apiCount()).to.equal(0n);
    });

    it("reverts with the token's ERC20InsufficientBalance when the provider holds too little MESH", async () => {
      const f = await withFee(FEE);
      await f.token.connect(f.deployer).transfer(f.provider.address, FEE - 1n);
      await f.token.connect(f.provider).approve(await f.registry.getAddress(), FEE);
      await expect(f.registry.connect(f.provider).register(input(await usdcOf(f))))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
        .withArgs(f.provider.address, FEE - 1n, FEE);
    });

    it("with a zero fee: no approval needed, no transfer, no ListingFeePaid", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      expect((await f.registry.listingBounds()).listingFee).to.equal(0n);
      expect(await f.token.balanceOf(f.provider.address)).to.equal(0n);
      const tx = f.registry.connect(f.provider).register(input(await usdcOf(f)));
      await expect(tx).not.to.emit(f.registry, "ListingFeePaid");
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.provider, f.deployer], [0n, 0n]);
      expect(await f.registry.apiCount()).to.equal(1n);
    });
  });

  describe("views of unknown ids", () => {
    it("getApi, getPricing and providerOf revert with ApiNotFound; isActive is false", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await registered(f);
      for (const apiId of [0n, 2n, 2n ** 256n - 1n]) {
        await expect(f.registry.getApi(apiId)).to.be.revertedWithCustomError(f.registry, "ApiNotFound").withArgs(apiId);
        await expect(f.registry.getPricing(apiId))
          .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
          .withArgs(apiId);
        await expect(f.registry.providerOf(apiId))
          .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
          .withArgs(apiId);
        expect(await f.registry.isActive(apiId)).to.equal(false);
        expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
      }
    });
  });

  describe("provider updates", () => {
    it("updateMetadata replaces URI and hash, emits ApiMetadataUpdated, touches updatedAt only", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(1000);
      const tx = f.registry.connect(f.provider).updateMetadata(apiId, "ar://v2", id("v2"));
      await expect(tx).to.emit(f.registry, "ApiMetadataUpdated").withArgs(apiId, "ar://v2", id("v2"));
      const t = await minedAt(tx);
      expect(t).to.be.greaterThan(at);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at),
        metadataUri: "ar://v2",
        metadataHash: id("v2"),
        updatedAt: t,
      });
    });

    it("updateMetadata validates like register", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      const r = f.registry.connect(f.provider);
      await expect(r.updateMetadata(apiId, "", id("x"))).to.be.revertedWithCustomError(f.registry, "EmptyMetadataUri");
      await expect(r.updateMetadata(apiId, "ar://x", ethers.ZeroHash)).to.be.revertedWithCustomError(
        f.registry,
        "ZeroMetadataHash",
      );
      await expect(r.updateMetadata(apiId, "u".repeat(MAX_LEN + 1), id("x")))
        .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
        .withArgs(MAX_LEN + 1, MAX_LEN);
    });

    it("updateUpstream replaces the URL, emits ApiUpstreamUpdated, touches updatedAt only", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(1000);
      const url = "https://api2.example.org/v2";
      const tx = f.registry.connect(f.provider).updateUpstream(apiId, url);
      await expect(tx).to.emit(f.registry, "ApiUpstreamUpdated").withArgs(apiId, url);
      const t = await minedAt(tx);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at),
        upstreamUrl: url,
        updatedAt: t,
      });
    });

    it("updateUpstream validates like register", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      const r = f.registry.connect(f.provider);
      await expect(r.updateUpstream(apiId, "")).to.be.revertedWithCustomError(f.registry, "EmptyUpstreamUrl");
      await expect(r.updateUpstream(apiId, "h".repeat(MAX_LEN + 1)))
        .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
        .withArgs(MAX_LEN + 1, MAX_LEN);
      await r.updateUpstream(apiId, "h".repeat(MAX_LEN));
      expect((await f.registry.getApi(apiId)).upstreamUrl).to.equal("h".repeat(MAX_LEN));
    });

    it("updateCategory replaces category and tags, emits ApiCategoryUpdated, touches updatedAt only", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(1000);
      const category = encodeBytes32String("finance");
      const newTags = tags(3);
      const tx = f.registry.connect(f.provider).updateCategory(apiId, category, newTags);
      await expect(tx).to.emit(f.registry, "ApiCategoryUpdated").withArgs(apiId, category, newTags);
      const t = await minedAt(tx);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at),
        category,
        tags: newTags,
        updatedAt: t,
      });
      // Tags are replaced, not appended: clearing them leaves none.
      await f.registry.connect(f.provider).updateCategory(apiId, category, []);
      expect((await f.registry.getApi(apiId)).tags).to.deep.equal([]);
    });

    it("updateCategory validates like register", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      const r = f.registry.connect(f.provider);
      await expect(r.updateCategory(apiId, ethers.ZeroHash, [])).to.be.revertedWithCustomError(
        f.registry,
        "ZeroCategory",
      );
      await expect(r.updateCategory(apiId, encodeBytes32String("x"), tags(MAX_TAGS + 1)))
        .to.be.revertedWithCustomError(f.registry, "TooManyTags")
        .withArgs(MAX_TAGS + 1, MAX_TAGS);
    });

    it("setPricing replaces the price list, emits ApiPricingUpdated, touches updatedAt only", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(1000);
      const p: PricingIn = {
        unit: PriceUnit.Usd,
        paymentToken: ZeroAddress,
        models: MODEL_SUBSCRIPTION,
        stakerDiscount: false,
        period: 7 * DAY,
        pricePerCall: 0n,
        pricePerPeriod: parseEther("3"),
      };
      const tx = f.registry.connect(f.provider).setPricing(apiId, p);
      await expect(tx)
        .to.emit(f.registry, "ApiPricingUpdated")
        .withArgs(
          apiId,
          p.unit,
          p.paymentToken,
          p.models,
          p.stakerDiscount,
          p.period,
          p.pricePerCall,
          p.pricePerPeriod,
        );
      const t = await minedAt(tx);
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(p);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at),
        pricing: p,
        updatedAt: t,
      });
    });

    it("setPricing validates like register", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      const usdc = await usdcOf(f);
      const r = f.registry.connect(f.provider);
      const base = input(usdc).pricing;
      const odd = await new MockERC20__factory(f.deployer).deploy("Odd", "ODD", 8);
      const oddAddr = await odd.getAddress();
      await expect(r.setPricing(apiId, { ...base, models: 0 })).to.be.revertedWithCustomError(
        f.registry,
        "NoPricingModel",
      );
      await expect(r.setPricing(apiId, { ...base, models: 6 }))
        .to.be.revertedWithCustomError(f.registry, "UnknownPricingModel")
        .withArgs(6);
      await expect(r.setPricing(apiId, { ...base, paymentToken: f.outsider.address }))
        .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
        .withArgs(f.outsider.address);
      await expect(r.setPricing(apiId, { ...base, unit: PriceUnit.Usd }))
        .to.be.revertedWithCustomError(f.registry, "InvalidPaymentToken")
        .withArgs(usdc);
      await expect(r.setPricing(apiId, { ...base, paymentToken: oddAddr }))
        .to.be.revertedWithCustomError(f.registry, "UnsupportedTokenDecimals")
        .withArgs(oddAddr, 8);
      await expect(r.setPricing(apiId, { ...base, pricePerPeriod: 0n })).to.be.revertedWithCustomError(
        f.registry,
        "ZeroPrice",
      );
      await expect(r.setPricing(apiId, { ...base, pricePerCall: CALL_CAP / 10n ** 12n + 1n }))
        .to.be.revertedWithCustomError(f.registry, "PriceAboveMax")
        .withArgs(CALL_CAP + 10n ** 12n, CALL_CAP);
      await expect(r.setPricing(apiId, { ...base, period: BOUNDS.maxPeriod + 1 }))
        .to.be.revertedWithCustomError(f.registry, "InvalidPeriod")
        .withArgs(BOUNDS.maxPeriod + 1, BOUNDS.minPeriod, BOUNDS.maxPeriod);
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(base);
    });

    it("a paused API can still be updated and stays paused", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).pause(apiId);
      await f.registry.connect(f.provider).updateUpstream(apiId, "https://moved.example");
      await f.registry.connect(f.provider).setPricing(apiId, input(await f.dai.getAddress()).pricing);
      const api = await f.registry.getApi(apiId);
      expect(Number(api.status)).to.equal(ApiStatus.Paused);
      expect(api.upstreamUrl).to.equal("https://moved.example");
      expect(api.pricing.paymentToken).to.equal(await f.dai.getAddress());
      expect(await f.registry.isActive(apiId)).to.equal(false);
    });
  });

  describe("access to provider functions", () => {
    type Action = (r: ApiRegistry, apiId: bigint, f: Fixture) => Promise<ContractTransactionResponse>;
    const actions: { name: string; run: Action }[] = [
      { name: "updateMetadata", run: (r, i) => r.updateMetadata(i, "ar://x", id("x")) },
      { name: "updateUpstream", run: (r, i) => r.updateUpstream(i, "https://x.example") },
      { name: "updateCategory", run: (r, i) => r.updateCategory(i, encodeBytes32String("x"), []) },
      { name: "setPricing", run: async (r, i, f) => r.setPricing(i, input(await f.dai.getAddress()).pricing) },
      { name: "pause", run: (r, i) => r.pause(i) },
      { name: "resume", run: (r, i) => r.resume(i) },
      { name: "retire", run: (r, i) => r.retire(i) },
      { name: "transferApi", run: (r, i, f) => r.transferApi(i, f.provider2.address) },
    ];

    for (const { name, run } of actions) {
      it(`${name}: ApiNotFound for unknown ids, NotApiProvider for anyone but the provider`, async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const { apiId } = await registered(f);
        for (const unknown of [0n, apiId + 1n]) {
          await expect(run(f.registry.connect(f.provider), unknown, f))
            .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
            .withArgs(unknown);
        }
        for (const signer of [f.outsider, f.provider2, f.deployer]) {
          await expect(run(f.registry.connect(signer), apiId, f))
            .to.be.revertedWithCustomError(f.registry, "NotApiProvider")
            .withArgs(apiId, signer.address);
        }
      });
    }

    it("every provider function fails on a retired API", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).retire(apiId);
      const r = f.registry.connect(f.provider);
      for (const { name, run } of actions) {
        if (name === "pause") {
          await expect(run(r, apiId, f))
            .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
            .withArgs(apiId, ApiStatus.Retired, ApiStatus.Paused);
        } else if (name === "resume") {
          await expect(run(r, apiId, f))
            .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
            .withArgs(apiId, ApiStatus.Retired, ApiStatus.Active);
        } else {
          await expect(run(r, apiId, f))
            .to.be.revertedWithCustomError(f.registry, "ApiIsRetired")
            .withArgs(apiId);
        }
      }
      await expect(f.registry.connect(f.provider2).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "ApiIsRetired")
        .withArgs(apiId);
    });
  });

  describe("lifecycle", () => {
    it("pause: Active -> Paused, emits ApiStatusChanged, isActive false, touches updatedAt", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(60);
      const tx = f.registry.connect(f.provider).pause(apiId);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Active, ApiStatus.Paused);
      const t = await minedAt(tx);
      expect(await f.registry.isActive(apiId)).to.equal(false);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at, ApiStatus.Paused),
        updatedAt: t,
      });
      // Views keep working while paused.
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(inp.pricing);
    });

    it("pause when already paused reverts with InvalidStatusTransition", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).pause(apiId);
      await expect(f.registry.connect(f.provider).pause(apiId))
        .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
        .withArgs(apiId, ApiStatus.Paused, ApiStatus.Paused);
    });

    it("resume: Paused -> Active, emits ApiStatusChanged, isActive true, touches updatedAt", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await f.registry.connect(f.provider).pause(apiId);
      await networkHelpers.time.increase(60);
      const tx = f.registry.connect(f.provider).resume(apiId);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Paused, ApiStatus.Active);
      const t = await minedAt(tx);
      expect(await f.registry.isActive(apiId)).to.equal(true);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at),
        updatedAt: t,
      });
    });

    it("resume when active reverts with InvalidStatusTransition", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await expect(f.registry.connect(f.provider).resume(apiId))
        .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
        .withArgs(apiId, ApiStatus.Active, ApiStatus.Active);
    });

    it("retire from Active: emits ApiStatusChanged, record kept read-only", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(60);
      const tx = f.registry.connect(f.provider).retire(apiId);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Active, ApiStatus.Retired);
      const t = await minedAt(tx);
      expect(await f.registry.isActive(apiId)).to.equal(false);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at, ApiStatus.Retired),
        updatedAt: t,
      });
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
      expect(await f.registry.apiCount()).to.equal(1n);
    });

    it("retire from Paused emits ApiStatusChanged(Paused, Retired); retiring twice reverts with ApiIsRetired", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).pause(apiId);
      await expect(f.registry.connect(f.provider).retire(apiId))
        .to.emit(f.registry, "ApiStatusChanged")
        .withArgs(apiId, ApiStatus.Paused, ApiStatus.Retired);
      expect(Number((await f.registry.getApi(apiId)).status)).to.equal(ApiStatus.Retired);
      await expect(f.registry.connect(f.provider).retire(apiId))
        .to.be.revertedWithCustomError(f.registry, "ApiIsRetired")
        .withArgs(apiId);
    });

    it("retire clears a pending transfer and emits ApiTransferStarted(apiId, provider, 0) after ApiStatusChanged", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(f.provider2.address);
      const tx = f.registry.connect(f.provider).retire(apiId);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Active, ApiStatus.Retired);
      await expect(tx).to.emit(f.registry, "ApiTransferStarted").withArgs(apiId, f.provider.address, ZeroAddress);
      expect(await eventNames(f, tx)).to.deep.equal(["ApiStatusChanged", "ApiTransferStarted"]);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
      await expect(f.registry.connect(f.provider2).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "ApiIsRetired")
        .withArgs(apiId);
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
    });

    it("retire without a pending transfer emits no ApiTransferStarted", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      const tx = f.registry.connect(f.provider).retire(apiId);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Active, ApiStatus.Retired);
      await expect(tx).not.to.emit(f.registry, "ApiTransferStarted");
      expect(await eventNames(f, tx)).to.deep.equal(["ApiStatusChanged"]);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
    });

    it("retire after a cancelled or completed transfer emits no ApiTransferStarted", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      // Cancelled: transferApi(address(0)) left nothing pending.
      const a = await registered(f);
      await f.registry.connect(f.provider).transferApi(a.apiId, f.provider2.address);
      await f.registry.connect(f.provider).transferApi(a.apiId, ZeroAddress);
      const cancelled = f.registry.connect(f.provider).retire(a.apiId);
      await expect(cancelled).not.to.emit(f.registry, "ApiTransferStarted");
      expect(await eventNames(f, cancelled)).to.deep.equal(["ApiStatusChanged"]);
      // Completed: acceptApi cleared the pending slot.
      const b = await registered(f);
      await f.registry.connect(f.provider).transferApi(b.apiId, f.provider2.address);
      await f.registry.connect(f.provider2).acceptApi(b.apiId);
      const completed = f.registry.connect(f.provider2).retire(b.apiId);
      await expect(completed).not.to.emit(f.registry, "ApiTransferStarted");
      expect(await eventNames(f, completed)).to.deep.equal(["ApiStatusChanged"]);
    });

    it("retire from Paused by a new provider cancels its own pending transfer in the event", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await f.registry.connect(f.provider2).acceptApi(apiId);
      await f.registry.connect(f.provider2).pause(apiId);
      await f.registry.connect(f.provider2).transferApi(apiId, f.outsider.address);
      const tx = f.registry.connect(f.provider2).retire(apiId);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Paused, ApiStatus.Retired);
      await expect(tx).to.emit(f.registry, "ApiTransferStarted").withArgs(apiId, f.provider2.address, ZeroAddress);
      expect(await eventNames(f, tx)).to.deep.equal(["ApiStatusChanged", "ApiTransferStarted"]);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
      await expect(f.registry.connect(f.outsider).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "ApiIsRetired")
        .withArgs(apiId);
    });

    it("status changes of one API leave the others alone", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const a = await registered(f);
      const b = await registered(f, undefined, f.provider2);
      await f.registry.connect(f.provider).retire(a.apiId);
      expect(await f.registry.isActive(b.apiId)).to.equal(true);
      await f.registry.connect(f.provider2).pause(b.apiId);
      expect(Number((await f.registry.getApi(a.apiId)).status)).to.equal(ApiStatus.Retired);
      expect(Number((await f.registry.getApi(b.apiId)).status)).to.equal(ApiStatus.Paused);
    });
  });

  describe("two-step transfer", () => {
    it("transferApi records the pending provider and emits ApiTransferStarted; the provider keeps control", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await expect(f.registry.connect(f.provider).transferApi(apiId, f.provider2.address))
        .to.emit(f.registry, "ApiTransferStarted")
        .withArgs(apiId, f.provider.address, f.provider2.address);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(f.provider2.address);
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
      expect((await f.registry.getApi(apiId)).provider).to.equal(f.provider.address);
      // Until accepted, the pending provider has no rights and the provider keeps them.
      await expect(f.registry.connect(f.provider2).pause(apiId))
        .to.be.revertedWithCustomError(f.registry, "NotApiProvider")
        .withArgs(apiId, f.provider2.address);
      await f.registry.connect(f.provider).updateUpstream(apiId, "https://still.mine");
    });

    it("transferApi(address(0)) cancels: the former pending provider can no longer accept", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await expect(f.registry.connect(f.provider).transferApi(apiId, ZeroAddress))
        .to.emit(f.registry, "ApiTransferStarted")
        .withArgs(apiId, f.provider.address, ZeroAddress);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
      await expect(f.registry.connect(f.provider2).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "NotPendingProvider")
        .withArgs(apiId, f.provider2.address);
    });

    it("a new transferApi replaces the pending provider", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await f.registry.connect(f.provider).transferApi(apiId, f.outsider.address);
      await expect(f.registry.connect(f.provider2).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "NotPendingProvider")
        .withArgs(apiId, f.provider2.address);
      await f.registry.connect(f.outsider).acceptApi(apiId);
      expect(await f.registry.providerOf(apiId)).to.equal(f.outsider.address);
    });

    it("acceptApi by the pending provider moves the API; the old provider loses its rights", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await networkHelpers.time.increase(500);
      const tx = f.registry.connect(f.provider2).acceptApi(apiId);
      await expect(tx).to.emit(f.registry, "ApiTransferred").withArgs(apiId, f.provider.address, f.provider2.address);
      const t = await minedAt(tx);
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider2.address);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider2.address, at),
        updatedAt: t,
      });

      // Old provider: no rights left.
      for (const call of [
        f.registry.connect(f.provider).pause(apiId),
        f.registry.connect(f.provider).updateMetadata(apiId, "ar://hijack", id("hijack")),
        f.registry.connect(f.provider).transferApi(apiId, f.provider.address),
      ]) {
        await expect(call)
          .to.be.revertedWithCustomError(f.registry, "NotApiProvider")
          .withArgs(apiId, f.provider.address);
      }
      // Accepting twice fails: the pending slot was cleared.
      await expect(f.registry.connect(f.provider2).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "NotPendingProvider")
        .withArgs(apiId, f.provider2.address);
      // New provider: full rights.
      await expect(f.registry.connect(f.provider2).pause(apiId))
        .to.emit(f.registry, "ApiStatusChanged")
        .withArgs(apiId, ApiStatus.Active, ApiStatus.Paused);
      await f.registry.connect(f.provider2).transferApi(apiId, f.provider.address);
      await f.registry.connect(f.provider).acceptApi(apiId);
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
    });

    it("a paused API keeps its status across a transfer", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).pause(apiId);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await f.registry.connect(f.provider2).acceptApi(apiId);
      expect(Number((await f.registry.getApi(apiId)).status)).to.equal(ApiStatus.Paused);
      await f.registry.connect(f.provider2).resume(apiId);
      expect(await f.registry.isActive(apiId)).to.equal(true);
    });

    it("acceptApi reverts with ApiNotFound for unknown ids and NotPendingProvider for anyone else", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      for (const unknown of [0n, apiId + 1n]) {
        await expect(f.registry.connect(f.provider2).acceptApi(unknown))
          .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
          .withArgs(unknown);
      }
      // No transfer started: nobody can accept, not even the provider.
      for (const signer of [f.provider2, f.provider, f.outsider]) {
        await expect(f.registry.connect(signer).acceptApi(apiId))
          .to.be.revertedWithCustomError(f.registry, "NotPendingProvider")
          .withArgs(apiId, signer.address);
      }
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await expect(f.registry.connect(f.outsider).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "NotPendingProvider")
        .withArgs(apiId, f.outsider.address);
    });
  });

  describe("governance", () => {
    it("setListingBounds stores the bounds and emits ListingBoundsUpdated", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const b: ListingBoundsParams = {
        maxPricePerCall: parseEther("1"),
        maxPricePerPeriod: parseEther("500"),
        minPeriod: DAY,
        maxPeriod: DAY,
        maxMetadataLength: 64,
        listingFee: parseEther("3"),
      };
      await expect(f.registry.connect(f.deployer).setListingBounds(b))
        .to.emit(f.registry, "ListingBoundsUpdated")
        .withArgs(b.maxPricePerCall, b.maxPricePerPeriod, b.minPeriod, b.maxPeriod, b.maxMetadataLength, b.listingFee);
      expect(boundsView(await f.registry.listingBounds())).to.deep.equal(b);
    });

    it("new bounds apply to later listings and updates; existing listings are kept", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const usdc = await usdcOf(f);
      const { apiId, input: inp } = await registered(f); // 66-byte URI, 30-day period, 10 USDC per period
      await f.registry.connect(f.deployer).setListingBounds(
        bounds({
          maxMetadataLength: 40,
          minPeriod: 60 * DAY,
          maxPeriod: 90 * DAY,
          maxPricePerPeriod: parseEther("5"),
        }),
      );
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(inp.pricing);
      expect(await f.registry.isActive(apiId)).to.equal(true);

      await expect(f.registry.connect(f.provider).register(input(usdc)))
        .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
        .withArgs(inp.metadataUri.length, 40);
      await expect(f.registry.connect(f.provider).updateUpstream(apiId, "h".repeat(41)))
        .to.be.revertedWithCustomError(f.registry, "FieldTooLong")
        .withArgs(41, 40);
      const short = { metadataUri: "ar://short" };
      await expect(f.registry.connect(f.provider).register(input(usdc, short)))
        .to.be.revertedWithCustomError(f.registry, "PriceAboveMax")
        .withArgs(inp.pricing.pricePerPeriod * 10n ** 12n, parseEther("5"));
      await expect(f.registry.connect(f.provider).register(input(usdc, short, { pricePerPeriod: parseUnits("5", 6) })))
        .to.be.revertedWithCustomError(f.registry, "InvalidPeriod")
        .withArgs(30 * DAY, 60 * DAY, 90 * DAY);
      await registered(f, input(usdc, short, { pricePerPeriod: parseUnits("5", 6), period: 60 * DAY }));
    });

    it("setListingBounds reverts with InvalidListingBounds for each invalid field", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const invalid: Partial<ListingBoundsParams>[] = [
        { maxPricePerCall: 0n },
        { maxPricePerPeriod: 0n },
        { minPeriod: 0 },
        { minPeriod: 0, maxPeriod: 0 },
        { minPeriod: DAY + 1, maxPeriod: DAY },
        { maxMetadataLength: 0 },
      ];
      for (const over of invalid) {
        await expect(f.registry.connect(f.deployer).setListingBounds(bounds(over))).to.be.revertedWithCustomError(
          f.registry,
          "InvalidListingBounds",
        );
      }
      expect(boundsView(await f.registry.listingBounds())).to.deep.equal(BOUNDS);
    });

    it("setListingBounds and setTreasury revert with AccessManagedUnauthorized for accounts without the PROTOCOL role", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [f.outsider, f.provider]) {
        await expect(f.registry.connect(signer).setListingBounds(bounds({ listingFee: 1n })))
          .to.be.revertedWithCustomError(f.registry, "AccessManagedUnauthorized")
          .withArgs(signer.address);
        await expect(f.registry.connect(signer).setTreasury(signer.address))
          .to.be.revertedWithCustomError(f.registry, "AccessManagedUnauthorized")
          .withArgs(signer.address);
      }
    });

    it("granting the PROTOCOL role lets an account govern", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await f.accessManager.connect(f.deployer).grantRole(ROLES.PROTOCOL, f.outsider.address, 0);
      await expect(f.registry.connect(f.outsider).setTreasury(f.outsider.address))
        .to.emit(f.registry, "TreasuryUpdated")
        .withArgs(f.outsider.address);
      await f.registry.connect(f.outsider).setListingBounds(bounds({ listingFee: 1n }));
      expect((await f.registry.listingBounds()).listingFee).to.equal(1n);
    });

    it("setTreasury updates the treasury and emits TreasuryUpdated", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await expect(f.registry.connect(f.deployer).setTreasury(f.outsider.address))
        .to.emit(f.registry, "TreasuryUpdated")
        .withArgs(f.outsider.address);
      expect(await f.registry.treasury()).to.equal(f.outsider.address);
    });

    it("setTreasury(registry) reverts with InvalidTreasury; the treasury is kept", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const self = await f.registry.getAddress();
      await expect(f.registry.connect(f.deployer).setTreasury(self))
        .to.be.revertedWithCustomError(f.registry, "InvalidTreasury")
        .withArgs(self);
      expect(await f.registry.treasury()).to.equal(f.deployer.address);
    });

    it("setTreasury(address(0)) reverts with ZeroAddress", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await expect(f.registry.connect(f.deployer).setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        f.registry,
        "ZeroAddress",
      );
      expect(await f.registry.treasury()).to.equal(f.deployer.address);
    });
  });

  describe("delist (Security DAO)", () => {
    const REASON = encodeBytes32String("phishing upstream");

    it("delists an Active API: ApiStatusChanged(Active, Delisted) then ApiDelisted; isActive false; record kept", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, input: inp, at } = await registered(f);
      await networkHelpers.time.increase(60);
      const tx = f.registry.connect(f.deployer).delist(apiId, REASON);
      await expect(tx).to.emit(f.registry, "ApiStatusChanged").withArgs(apiId, ApiStatus.Active, ApiStatus.Delisted);
      await expect(tx).to.emit(f.registry, "ApiDelisted").withArgs(apiId, REASON);
      expect(await eventNames(f, tx)).to.deep.equal(["ApiStatusChanged", "ApiDelisted"]);
      const t = await minedAt(tx);
      expect(await f.registry.isActive(apiId)).to.equal(false);
      expect(apiView(await f.registry.getApi(apiId))).to.deep.equal({
        ...expectedView(inp, f.provider.address, at, ApiStatus.Delisted),
        updatedAt: t,
      });
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
      expect(pricingView(await f.registry.getPricing(apiId))).to.deep.equal(inp.pricing);
    });

    it("delists a Paused API: ApiStatusChanged(Paused, Delisted); the provider cannot resume it", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).pause(apiId);
      await expect(f.registry.connect(f.deployer).delist(apiId, ZeroHash))
        .to.emit(f.registry, "ApiStatusChanged")
        .withArgs(apiId, ApiStatus.Paused, ApiStatus.Delisted);
      await expect(f.registry.connect(f.provider).resume(apiId))
        .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
        .withArgs(apiId, ApiStatus.Delisted, ApiStatus.Active);
      expect(await f.registry.isActive(apiId)).to.equal(false);
    });

    it("is final: every provider action reverts with ApiIsDelisted (pause/resume: InvalidStatusTransition)", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.deployer).delist(apiId, REASON);
      const r = f.registry.connect(f.provider);
      const dai = await f.dai.getAddress();
      const actions: [string, () => Promise<ContractTransactionResponse>][] = [
        ["updateMetadata", () => r.updateMetadata(apiId, "ar://x", id("x"))],
        ["updateUpstream", () => r.updateUpstream(apiId, "https://x.example")],
        ["updateCategory", () => r.updateCategory(apiId, encodeBytes32String("x"), [])],
        ["setPricing", () => r.setPricing(apiId, input(dai).pricing)],
        ["retire", () => r.retire(apiId)],
        ["transferApi", () => r.transferApi(apiId, f.provider2.address)],
        ["acceptApi", () => f.registry.connect(f.provider2).acceptApi(apiId)],
        ["delist", () => f.registry.connect(f.deployer).delist(apiId, REASON)],
      ];
      for (const [name, run] of actions) {
        await expect(run(), name).to.be.revertedWithCustomError(f.registry, "ApiIsDelisted").withArgs(apiId);
      }
      await expect(r.pause(apiId))
        .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
        .withArgs(apiId, ApiStatus.Delisted, ApiStatus.Paused);
      await expect(r.resume(apiId))
        .to.be.revertedWithCustomError(f.registry, "InvalidStatusTransition")
        .withArgs(apiId, ApiStatus.Delisted, ApiStatus.Active);
      // Anyone but the provider still gets NotApiProvider first.
      await expect(f.registry.connect(f.outsider).updateUpstream(apiId, "https://x.example"))
        .to.be.revertedWithCustomError(f.registry, "NotApiProvider")
        .withArgs(apiId, f.outsider.address);
      expect(Number((await f.registry.getApi(apiId)).status)).to.equal(ApiStatus.Delisted);
    });

    it("a retired API cannot be delisted (ApiIsRetired); it stays Retired", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).retire(apiId);
      await expect(f.registry.connect(f.deployer).delist(apiId, REASON))
        .to.be.revertedWithCustomError(f.registry, "ApiIsRetired")
        .withArgs(apiId);
      expect(Number((await f.registry.getApi(apiId)).status)).to.equal(ApiStatus.Retired);
    });

    it("reverts with ApiNotFound for unknown ids", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      for (const unknown of [0n, apiId + 1n]) {
        await expect(f.registry.connect(f.deployer).delist(unknown, REASON))
          .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
          .withArgs(unknown);
      }
      expect(await f.registry.apiCount()).to.equal(apiId);
    });

    it("clears a pending transfer: the pending provider can no longer accept", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      await f.registry.connect(f.deployer).delist(apiId, REASON);
      expect(await f.registry.pendingProviderOf(apiId)).to.equal(ZeroAddress);
      await expect(f.registry.connect(f.provider2).acceptApi(apiId))
        .to.be.revertedWithCustomError(f.registry, "ApiIsDelisted")
        .withArgs(apiId);
      expect(await f.registry.providerOf(apiId)).to.equal(f.provider.address);
    });

    it("clearing a pending transfer emits ApiTransferStarted(apiId, provider, 0) after ApiStatusChanged, like retire", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      await f.registry.connect(f.provider).transferApi(apiId, f.provider2.address);
      const tx = f.registry.connect(f.deployer).delist(apiId, REASON);
      await expect(tx).to.emit(f.registry, "ApiTransferStarted").withArgs(apiId, f.provider.address, ZeroAddress);
      expect(await eventNames(f, tx)).to.deep.equal(["ApiStatusChanged", "ApiTransferStarted", "ApiDelisted"]);
    });

    it("without a pending transfer, delist emits no ApiTransferStarted", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      const tx = f.registry.connect(f.deployer).delist(apiId, REASON);
      await expect(tx).not.to.emit(f.registry, "ApiTransferStarted");
    });

    it("escrow deposits and subscriptions then revert with ApiNotActive; earned money stays claimable", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const usdc = await usdcOf(f);
      const payer = f.rest[0]!;
      await register(f, f.operator);
      const { apiId } = await registered(f);
      await f.usdc.mint(payer.address, parseUnits("100", 6));
      await f.usdc.connect(payer).approve(await f.escrow.getAddress(), MaxUint256);
      await f.usdc.connect(payer).approve(await f.subscriptions.getAddress(), MaxUint256);
      await f.escrow.connect(payer).deposit(f.operator.address, apiId, usdc, parseUnits("10", 6));
      await f.subscriptions.connect(payer).subscribe(apiId, usdc, 1, MaxUint256);
      const earned = (await f.subscriptions.apiEarnings(usdc, apiId)).provider;
      expect(earned).to.be.greaterThan(0n);

      await f.registry.connect(f.deployer).delist(apiId, REASON);
      await expect(f.escrow.connect(payer).deposit(f.operator.address, apiId, usdc, parseUnits("1", 6)))
        .to.be.revertedWithCustomError(f.escrow, "ApiNotActive")
        .withArgs(apiId);
      await expect(f.subscriptions.connect(payer).subscribe(apiId, usdc, 1, MaxUint256))
        .to.be.revertedWithCustomError(f.subscriptions, "ApiNotActive")
        .withArgs(apiId);
      // What the provider already earned and what the payer deposited can still leave.
      await expect(f.subscriptions.connect(f.provider).claimProviderEarnings(apiId, usdc))
        .to.emit(f.subscriptions, "ProviderEarningsClaimed")
        .withArgs(apiId, f.provider.address, usdc, earned);
      await expect(
        f.escrow.connect(payer).startWithdraw(f.operator.address, apiId, usdc, parseUnits("10", 6)),
      ).not.to.revert(ethers);
    });

    it("only the SECURITY role may delist (PROTOCOL, DEVELOPER, GUARDIAN and providers may not)", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId } = await registered(f);
      type Account = Fixture["outsider"];
      const [protocol, developer, guardian, security] = f.rest as [Account, Account, Account, Account];
      await f.accessManager.connect(f.deployer).grantRole(ROLES.PROTOCOL, protocol.address, 0);
      await f.accessManager.connect(f.deployer).grantRole(ROLES.DEVELOPER, developer.address, 0);
      await f.accessManager.connect(f.deployer).grantRole(ROLES.GUARDIAN, guardian.address, 0);
      await f.accessManager.connect(f.deployer).grantRole(ROLES.SECURITY, security.address, 0);
      for (const signer of [protocol, developer, guardian, f.provider, f.outsider]) {
        await expect(f.registry.connect(signer).delist(apiId, REASON))
          .to.be.revertedWithCustomError(f.registry, "AccessManagedUnauthorized")
          .withArgs(signer.address);
      }
      await expect(f.registry.connect(security).delist(apiId, REASON))
        .to.emit(f.registry, "ApiDelisted")
        .withArgs(apiId, REASON);
    });

    it("delisting one API leaves the others alone", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const a = await registered(f);
      const b = await registered(f, undefined, f.provider2);
      await f.registry.connect(f.deployer).delist(a.apiId, REASON);
      expect(await f.registry.isActive(b.apiId)).to.equal(true);
      await f.registry.connect(f.provider2).updateUpstream(b.apiId, "https://still.listed");
      expect(Number((await f.registry.getApi(b.apiId)).status)).to.equal(ApiStatus.Active);
    });
  });

  describe("timestamps", () => {
    it("createdAt is fixed at registration; updatedAt follows every change", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { apiId, at } = await registered(f);
      const latest = await networkHelpers.time.latest();
      expect(at).to.equal(latest);
      const r = () => f.registry.connect(f.provider);
      const steps: (() => Promise<ContractTransactionResponse>)[] = [
        () => r().updateMetadata(apiId, "ar://t", id("t")),
        () => r().updateUpstream(apiId, "https://t.example"),
        () => r().updateCategory(apiId, encodeBytes32String("t"), []),
        async () => r().setPricing(apiId, input(await f.dai.getAddress()).pricing),
        () => r().pause(apiId),
        () => r().resume(apiId),
        () => r().retire(apiId),
      ];
      let previous = at;
      for (const step of steps) {
        await networkHelpers.time.increase(3600);
        const t = await minedAt(step());
        expect(t).to.be.greaterThanOrEqual(previous + 3600);
        const api = await f.registry.getApi(apiId);
        expect(Number(api.createdAt)).to.equal(at);
        expect(Number(api.updatedAt)).to.equal(t);
        previous = t;
      }
    });
  });
});
