import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { decodeBytes32String, keccak256, parseEther, parseUnits, ZeroAddress } from "ethers";
import { RevertError, UsageError } from "../../../scripts/cli/errors.js";
import { cli, fails } from "../helpers/cli.js";
import { DAY, deployFixture, networkHelpers } from "../helpers/fixture.js";

async function openapiFile(): Promise<{ file: string; hash: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "meshgate-cli-"));
  const file = path.join(dir, "openapi.json");
  const content = JSON.stringify({ openapi: "3.1.0", info: { title: "t", version: "1" } });
  await writeFile(file, content);
  return { file, hash: keccak256(Buffer.from(content)) };
}

describe("scripts: meshgate CLI", () => {
  describe("api", () => {
    it("registers an API priced in a 6-decimal token, hashing the OpenAPI file", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const { file, hash } = await openapiFile();
      const usdc = await f.usdc.getAddress();
      const out = await cli(
        f,
        f.provider,
        `api register --metadata-uri ipfs://doc --openapi ${file} --upstream https://up.example --category weather --tags a,b --token ${usdc} --per-call 0.002 --per-period 12.5 --period 30d --staker-discount`,
      );
      expect(out[0]).to.match(/^Registered API 1 \(provider 0x[0-9a-fA-F]{40}\) in tx 0x[0-9a-f]{64}$/);
      const api = await f.registry.getApi(1n);
      expect(api.provider).to.equal(f.provider.address);
      expect(api.metadataHash).to.equal(hash);
      expect(api.upstreamUrl).to.equal("https://up.example");
      expect(decodeBytes32String(api.category)).to.equal("weather");
      expect(api.tags.map((t) => decodeBytes32String(t))).to.deep.equal(["a", "b"]);
      expect(api.pricing.paymentToken).to.equal(usdc);
      expect(api.pricing.models).to.equal(3n);
      expect(api.pricing.pricePerCall).to.equal(parseUnits("0.002", 6));
      expect(api.pricing.pricePerPeriod).to.equal(parseUnits("12.5", 6));
      expect(api.pricing.period).to.equal(BigInt(30 * DAY));
      expect(api.pricing.stakerDiscount).to.equal(true);
    });

    it("updates one price and keeps the rest; drops a model; switches to USD", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const dai = await f.dai.getAddress();
      await cli(
        f,
        f.provider,
        `api register --metadata-uri u --metadata-hash ${keccak256("0x01")} --upstream https://x --category c --token ${dai} --per-call 1 --per-period 10 --period 7d`,
      );
      await cli(f, f.provider, "api price 1 --per-call 0.5");
      let p = await f.registry.getPricing(1n);
      expect([p.pricePerCall, p.pricePerPeriod, p.period]).to.deep.equal([
        parseEther("0.5"),
        parseEther("10"),
        BigInt(7 * DAY),
      ]);

      await cli(f, f.provider, "api price 1 --drop subscription");
      p = await f.registry.getPricing(1n);
      expect([p.models, p.pricePerPeriod, p.period]).to.deep.equal([1n, 0n, 0n]);

      await cli(f, f.provider, "api price 1 --usd --per-call 0.01");
      p = await f.registry.getPricing(1n);
      expect([p.unit, p.paymentToken, p.pricePerCall]).to.deep.equal([1n, ZeroAddress, parseEther("0.01")]);
    });

    it("pauses, resumes, retires and shows an API", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await cli(
        f,
        f.provider,
        `api register --metadata-uri u --metadata-hash ${keccak256("0x01")} --upstream https://x --category c --usd --per-call 0.001`,
      );
      expect((await cli(f, f.provider, "api pause 1"))[0]).to.match(/^Paused API 1 in tx 0x/);
      expect(await f.registry.isActive(1n)).to.equal(false);
      expect((await cli(f, f.provider, "api resume 1"))[0]).to.match(/^Resumed API 1 in tx 0x/);
      expect(await f.registry.isActive(1n)).to.equal(true);
      const shown = (await cli(f, f.outsider, "api show 1")).join("\n");
      expect(shown).to.include("status        active").and.include("0.001 USD").and.include("not offered");
      await cli(f, f.provider, "api retire 1");
      expect((await f.registry.getApi(1n)).status).to.equal(3n);
    });

    it("names the custom error and the fix when the chain refuses", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await cli(
        f,
        f.provider,
        `api register --metadata-uri u --metadata-hash ${keccak256("0x01")} --upstream https://x --category c --usd --per-call 0.001`,
      );
      const notOwner = await fails(cli(f, f.outsider, "api pause 1"));
      expect(notOwner).to.be.instanceOf(RevertError);
      expect((notOwner as RevertError).errorName).to.equal("NotApiProvider");
      expect(notOwner.message).to.include("use the provider's key");

      const missing = await fails(cli(f, f.provider, "api show 9"));
      expect((missing as RevertError).errorName).to.equal("ApiNotFound");

      const tooExpensive = await fails(cli(f, f.provider, "api price 1 --per-call 11"));
      expect((tooExpensive as RevertError).errorName).to.equal("PriceAboveMax");
      expect((await f.registry.getPricing(1n)).pricePerCall).to.equal(parseEther("0.001"));
    });

    it("rejects bad arguments before sending anything, naming the fix", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const usdc = await f.usdc.getAddress();
      const base = `api register --metadata-uri u --metadata-hash ${keccak256("0x01")} --category c`;
      const cases: [string, RegExp][] = [
        [`${base} --usd --per-call 1`, /missing --upstream: pass --upstream/],
        [`${base} --upstream https://x --per-call 1`, /pass --token <ERC-20 address> or --usd/],
        [`${base} --upstream https://x --usd --per-call abc`, /--per-call must be a decimal amount/],
        [`${base} --upstream https://x --token ${usdc} --per-call 0.0000001`, /more than 6 decimals/],
        [`${base} --upstream https://x --token 0x1234 --per-call 1`, /--token must be a 0x-prefixed 20-byte address/],
        [`${base} --upstream https://x --usd --per-period 5`, /--per-period needs --period/],
        [`${base} --upstream https://x --usd`, /no payment model/],
        [`${base} --upstream https://x --usd --per-call 1 --period 3weeks`, /--period must be a duration/],
        [`${base} --upstream https://x --usd --per-call 1 --bogus 1`, /Unknown option '--bogus'/],
        ["api show zero", /API id must be a positive whole number/],
        ["api fly 1", /unknown command "api fly"/],
        ["bridge show", /unknown group "bridge"/],
        ["node register --type satellite", /--type must be one of edge, mobile, cloud, validator/],
      ];
      for (const [line, expected] of cases) {
        const error = await fails(cli(f, f.provider, line));
        expect(error, line).to.be.instanceOf(UsageError);
        expect(error.message, line).to.match(expected);
      }
      expect(await f.registry.apiCount()).to.equal(0n);
    });
  });

  describe("node", () => {
    it("registers (approving as needed), tops up, unstakes, withdraws after unbonding and shows the node", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const op = f.rest[0]!;
      await f.token.connect(f.deployer).transfer(op.address, parseEther("5000"));

      const reg = await cli(
        f,
        op,
        "node register --type cloud --region us-east --url https://n.example --capacity 250 --stake 5000",
      );
      expect(reg[0]).to.match(/^Approved 5000.0 of 0x[0-9a-fA-F]{40} for 0x[0-9a-fA-F]{40} in tx 0x/);
      expect(reg[1]).to.match(/^Registered cloud node 0x[0-9a-fA-F]{40} with 5000.0 MESH in tx 0x/);
      let node = await f.staking.getNode(op.address);
      expect([node.nodeType, node.stake, node.capacity, node.url]).to.deep.equal([
        2n,
        parseEther("5000"),
        250n,
        "https://n.example",
      ]);
      expect(decodeBytes32String(node.region)).to.equal("us-east");

      await f.token.connect(f.deployer).transfer(op.address, parseEther("100"));
      await cli(f, op, "node topup 100");
      expect(await f.staking.stakeOf(op.address)).to.equal(parseEther("5100"));

      await cli(f, op, "node update --capacity 300");
      node = await f.staking.getNode(op.address);
      expect([node.capacity, node.url]).to.deep.equal([300n, "https://n.example"]);

      expect((await cli(f, op, "node unstake 100"))[0]).to.match(/^Unstaking 100.0 MESH, withdrawable from \d{4}-/);
      const early = await fails(cli(f, op, "node withdraw"));
      expect((early as RevertError).errorName).to.equal("StillUnbonding");

      await networkHelpers.time.increase(7 * DAY);
      expect((await cli(f, op, "node withdraw"))[0]).to.match(/^Withdrew 100.0 MESH in tx 0x/);
      expect(await f.token.balanceOf(op.address)).to.equal(parseEther("100"));

      const shown = (await cli(f, f.outsider, `node show ${op.address}`)).join("\n");
      expect(shown)
        .to.include("type        cloud")
        .and.include("5000.0 MESH (minimum 5000.0)")
        .and.include("(serving)");
    });

    it("explains on-chain refusals of node commands", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const low = await fails(
        cli(f, f.operator, "node register --type edge --region eu --url https://n --capacity 1 --stake 10"),
      );
      expect((low as RevertError).errorName).to.equal("StakeBelowMinimum");
      expect(low.message).to.include("below the minimum 1000.0 MESH");
      const none = await fails(cli(f, f.operator, "node unstake 1"));
      expect((none as RevertError).errorName).to.equal("NodeNotActive");
      expect((await cli(f, f.outsider, `node show ${f.operator.address}`))[0]).to.include("has no node");
    });
  });
});
