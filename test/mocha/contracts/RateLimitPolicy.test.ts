import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { defaultParams } from "../../../deploy/params.js";
import { ROLES } from "../../../deploy/roles.js";
import { RateLimitPolicy__factory } from "../../../types/ethers-contracts/index.js";
import { deployFixture, ethers, networkHelpers, type Fixture } from "../helpers/fixture.js";

interface Policy {
  requestsPerWindow: number;
  windowSeconds: number;
  burst: number;
}

/** Tier 0, as deployProtocol sets it (deploy/params.ts). */
const DEFAULT: Policy = defaultParams(ZeroAddress).defaultRatePolicy;
const PREMIUM: Policy = { requestsPerWindow: 6000, windowSeconds: 60, burst: 1000 };
const ZERO: Policy = { requestsPerWindow: 0, windowSeconds: 0, burst: 0 };

const view = (p: { requestsPerWindow: bigint; windowSeconds: bigint; burst: bigint }): Policy => ({
  requestsPerWindow: Number(p.requestsPerWindow),
  windowSeconds: Number(p.windowSeconds),
  burst: Number(p.burst),
});

describe("RateLimitPolicy", () => {
  let f: Fixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
  });

  async function policyOf(apiId: bigint | number): Promise<[number, Policy]> {
    const [tier, policy] = await f.rateLimits.policyOf(apiId);
    return [Number(tier), view(policy)];
  }

  describe("deployment", () => {
    it("tier 0 has the default policy from the constructor; every API starts in it", async () => {
      expect(await f.rateLimits.authority()).to.equal(await f.accessManager.getAddress());
      expect(view(await f.rateLimits.policyOfTier(0))).to.deep.equal(DEFAULT);
      for (const apiId of [0n, 1n, 12345n]) {
        expect(await f.rateLimits.tierOf(apiId)).to.equal(0n);
        expect(await policyOf(apiId)).to.deep.equal([0, DEFAULT]);
      }
      // Other tiers have no policy until the Security DAO sets one.
      for (const tier of [1, 7, 255]) expect(view(await f.rateLimits.policyOfTier(tier))).to.deep.equal(ZERO);
    });

    it("the constructor emits PolicySet for tier 0", async () => {
      const fresh = await new RateLimitPolicy__factory(f.deployer).deploy(await f.accessManager.getAddress(), PREMIUM);
      await expect(fresh.deploymentTransaction())
        .to.emit(fresh, "PolicySet")
        .withArgs(0, PREMIUM.requestsPerWindow, PREMIUM.windowSeconds, PREMIUM.burst);
      expect(view(await fresh.policyOfTier(0))).to.deep.equal(PREMIUM);
    });

    it("the constructor rejects an invalid default policy (InvalidPolicy)", async () => {
      const factory = new RateLimitPolicy__factory(f.deployer);
      const am = await f.accessManager.getAddress();
      for (const bad of [
        { ...DEFAULT, requestsPerWindow: 0 },
        { ...DEFAULT, windowSeconds: 0 },
        { ...DEFAULT, burst: DEFAULT.requestsPerWindow + 1 },
      ]) {
        await expect(factory.deploy(am, bad)).to.be.revertedWithCustomError(factory, "InvalidPolicy");
      }
    });
  });

  describe("setPolicy (Security DAO)", () => {
    it("stores the tier's policy and emits PolicySet", async () => {
      await expect(f.rateLimits.connect(f.deployer).setPolicy(3, PREMIUM))
        .to.emit(f.rateLimits, "PolicySet")
        .withArgs(3, PREMIUM.requestsPerWindow, PREMIUM.windowSeconds, PREMIUM.burst);
      expect(view(await f.rateLimits.policyOfTier(3))).to.deep.equal(PREMIUM);
      expect(view(await f.rateLimits.policyOfTier(0))).to.deep.equal(DEFAULT);
    });

    it("changing tier 0 changes the policy of every API still in it", async () => {
      const stricter: Policy = { requestsPerWindow: 60, windowSeconds: 60, burst: 0 };
      await f.rateLimits.connect(f.deployer).setPolicy(0, stricter);
      expect(await policyOf(1)).to.deep.equal([0, stricter]);
      expect(await policyOf(2)).to.deep.equal([0, stricter]);
    });

    it("reverts with InvalidPolicy for zero requests, a zero window or a burst above the requests", async () => {
      for (const bad of [
        { ...PREMIUM, requestsPerWindow: 0 },
        { ...PREMIUM, requestsPerWindow: 0, burst: 0 },
        { ...PREMIUM, windowSeconds: 0 },
        { ...PREMIUM, burst: PREMIUM.requestsPerWindow + 1 },
        ZERO,
      ]) {
        await expect(f.rateLimits.connect(f.deployer).setPolicy(1, bad)).to.be.revertedWithCustomError(
          f.rateLimits,
          "InvalidPolicy",
        );
      }
      expect(view(await f.rateLimits.policyOfTier(1))).to.deep.equal(ZERO);
    });

    it("accepts the edges: burst == requestsPerWindow, burst 0, one request per one second, uint32 max", async () => {
      const max = 2 ** 32 - 1;
      for (const ok of [
        { ...PREMIUM, burst: PREMIUM.requestsPerWindow },
        { ...PREMIUM, burst: 0 },
        { requestsPerWindow: 1, windowSeconds: 1, burst: 1 },
        { requestsPerWindow: max, windowSeconds: max, burst: max },
      ]) {
        await expect(f.rateLimits.connect(f.deployer).setPolicy(9, ok))
          .to.emit(f.rateLimits, "PolicySet")
          .withArgs(9, ok.requestsPerWindow, ok.windowSeconds, ok.burst);
        expect(view(await f.rateLimits.policyOfTier(9))).to.deep.equal(ok);
      }
    });
  });

  describe("setApiTier (Security DAO)", () => {
    it("moves an API into a tier with a policy and emits ApiTierSet; policyOf follows", async () => {
      await f.rateLimits.connect(f.deployer).setPolicy(2, PREMIUM);
      await expect(f.rateLimits.connect(f.deployer).setApiTier(7, 2))
        .to.emit(f.rateLimits, "ApiTierSet")
        .withArgs(7, 2);
      expect(await f.rateLimits.tierOf(7)).to.equal(2n);
      expect(await policyOf(7)).to.deep.equal([2, PREMIUM]);
      expect(await policyOf(8)).to.deep.equal([0, DEFAULT]);

      // A later change of the tier's policy applies to the API at once.
      const updated: Policy = { ...PREMIUM, burst: 10 };
      await f.rateLimits.connect(f.deployer).setPolicy(2, updated);
      expect(await policyOf(7)).to.deep.equal([2, updated]);

      // And it can go back to the default tier.
      await expect(f.rateLimits.connect(f.deployer).setApiTier(7, 0))
        .to.emit(f.rateLimits, "ApiTierSet")
        .withArgs(7, 0);
      expect(await policyOf(7)).to.deep.equal([0, DEFAULT]);
    });

    it("reverts with UnknownTier for a tier without a policy", async () => {
      for (const tier of [1, 2, 255]) {
        await expect(f.rateLimits.connect(f.deployer).setApiTier(1, tier))
          .to.be.revertedWithCustomError(f.rateLimits, "UnknownTier")
          .withArgs(tier);
      }
      expect(await f.rateLimits.tierOf(1)).to.equal(0n);
    });

    it("only the SECURITY role may set policies and tiers (not PROTOCOL, DEVELOPER or GUARDIAN)", async () => {
      const [protocol, developer, guardian, security] = f.rest as [
        Fixture["outsider"],
        Fixture["outsider"],
        Fixture["outsider"],
        Fixture["outsider"],
      ];
      await f.accessManager.grantRole(ROLES.PROTOCOL, protocol.address, 0);
      await f.accessManager.grantRole(ROLES.DEVELOPER, developer.address, 0);
      await f.accessManager.grantRole(ROLES.GUARDIAN, guardian.address, 0);
      await f.accessManager.grantRole(ROLES.SECURITY, security.address, 0);
      for (const signer of [protocol, developer, guardian, f.outsider]) {
        await expect(f.rateLimits.connect(signer).setPolicy(1, PREMIUM))
          .to.be.revertedWithCustomError(f.rateLimits, "AccessManagedUnauthorized")
          .withArgs(signer.address);
        await expect(f.rateLimits.connect(signer).setApiTier(1, 0))
          .to.be.revertedWithCustomError(f.rateLimits, "AccessManagedUnauthorized")
          .withArgs(signer.address);
      }
      await expect(f.rateLimits.connect(security).setPolicy(1, PREMIUM)).not.to.revert(ethers);
      await expect(f.rateLimits.connect(security).setApiTier(1, 1)).not.to.revert(ethers);
      expect(await policyOf(1)).to.deep.equal([1, PREMIUM]);
    });
  });
});
