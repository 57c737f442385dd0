import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";
import { ROLE_LABELS } from "../../../../deploy/roles.js";
import { AccessManager__factory } from "../../../../types/ethers-contracts/index.js";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  apiInput,
  bytes32,
  contractEntity,
  deployFeed,
  deployToken,
  entity,
  lower,
  ROLES,
  send,
  timeOf,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("policy-flags-oracle-roles");
const FLAG_1 = bytes32("zk-auth");
const FLAG_2 = bytes32("compression");
const AUDITOR = 7n;

interface RoleMemberRow {
  role: { id: string };
  account: string;
  active: boolean;
  since: string;
  executionDelay: string;
  grantedAt: string;
  revokedAt: string | null;
}

/**
 * UsdPriceOracle, FeatureFlags, RateLimitPolicy and AccessManager: feeds set, replaced and
 * removed; flags set and changed; rate-limit tiers set (the default one too) and APIs moved
 * between them, one not listed yet; FeatureFlags moved to another AccessManager; a new role
 * labelled and granted, current members' delays changed (a grant that must not move their
 * `since`), a role revoked and granted again; and the whole governance hand-over's grants and
 * renunciations.
 */
describe("subgraph mappings: UsdPriceOracle, FeatureFlags, RateLimitPolicy and AccessManager", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let usdc: string, dai: string, feeds: string[], guardian: string, auditor: string, newManager: string;
  const receipts: Record<string, ContractTransactionReceipt> = {};

  before(async () => {
    chain = await startIndexedChain();
    const { oracle, flags, rateLimits, accessManager, registry } = chain.protocol;
    const deployer = chain.account(0);
    const [provider, g, a] = accounts(chain, 1, 2, 3);
    [guardian, auditor] = await addressesOf(g, a);
    usdc = await (await deployToken(deployer)).getAddress();
    dai = await (await deployToken(deployer, "DAI", 18)).getAddress();
    feeds = await Promise.all([1, 2, 3].map(async () => (await deployFeed(deployer)).getAddress()));

    // Oracle: USDC's feed replaced, DAI's removed.
    receipts.feedUsdc = await send(oracle.connect(deployer).setFeed(usdc, feeds[0]!, 3600));
    await send(oracle.connect(deployer).setFeed(dai, feeds[1]!, 7200));
    receipts.replaceUsdc = await send(oracle.connect(deployer).setFeed(usdc, feeds[2]!, 86_400));
    receipts.removeDai = await send(oracle.connect(deployer).removeFeed(dai));

    // Flags.
    receipts.flag1 = await send(flags.connect(deployer).setFlag(FLAG_1, true, 2500));
    receipts.flag1b = await send(flags.connect(deployer).setFlag(FLAG_1, false, 0));
    receipts.flag2 = await send(flags.connect(deployer).setFlag(FLAG_2, true, 10_000));

    // Rate limits: tiers 1 and 2, a new default tier 0; API 1 to tier 1 then 2, API 5 (not listed) to 2.
    await send(registry.connect(provider).register(apiInput(usdc)));
    await send(rateLimits.connect(deployer).setPolicy(1, { requestsPerWindow: 100, windowSeconds: 60, burst: 10 }));
    await send(
      rateLimits.connect(deployer).setPolicy(2, { requestsPerWindow: 10_000, windowSeconds: 60, burst: 1000 }),
    );
    receipts.tier0 = await send(
      rateLimits.connect(deployer).setPolicy(0, { requestsPerWindow: 300, windowSeconds: 30, burst: 20 }),
    );
    receipts.api1Tier1 = await send(rateLimits.connect(deployer).setApiTier(1n, 1));
    receipts.api1Tier2 = await send(rateLimits.connect(deployer).setApiTier(1n, 2));
    await send(rateLimits.connect(deployer).setApiTier(5n, 2));

    // Roles: a new labelled role; a guardian granted, its delay raised (a grant to a current
    // member), then revoked; an auditor granted.
    await send(accessManager.connect(deployer).labelRole(AUDITOR, "AUDITOR"));
    receipts.grantGuardian = await send(accessManager.connect(deployer).grantRole(ROLES.GUARDIAN, guardian, 0));
    receipts.regrantGuardian = await send(accessManager.connect(deployer).grantRole(ROLES.GUARDIAN, guardian, 600));
    receipts.grantAuditor = await send(accessManager.connect(deployer).grantRole(AUDITOR, auditor, 300));
    await send(accessManager.connect(deployer).grantRole(AUDITOR, auditor, 600)); // a longer delay applies at once
    receipts.revokeGuardian = await send(accessManager.connect(deployer).revokeRole(ROLES.GUARDIAN, guardian));
    receipts.grantGuardianAgain = await send(accessManager.connect(deployer).grantRole(ROLES.GUARDIAN, guardian, 0));

    // FeatureFlags moves to a second AccessManager (AuthorityUpdated after the constructor's).
    const manager = await new AccessManager__factory(deployer).deploy(await deployer.getAddress());
    newManager = await manager.getAddress();
    await manager.waitForDeployment();
    await send(accessManager.connect(deployer).updateAuthority(await flags.getAddress(), newManager));

    // The hand-over: roles to the DAOs' timelocks, every role of the deployer renounced.
    await chain.handOver();
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds each feed as UsdPriceOracle.feedOf returns it; a removed feed is inactive", async () => {
    const { oracle } = chain.protocol;
    const fields = "token { id } aggregator heartbeat active updatedAt";
    const usdcFeed = await oracle.feedOf(usdc);
    expect(await entity(chain, "PriceFeed", lower(usdc), fields)).to.deep.equal({
      token: { id: lower(usdc) },
      aggregator: lower(usdcFeed.aggregator),
      heartbeat: usdcFeed.heartbeat.toString(),
      active: await oracle.hasFeed(usdc),
      updatedAt: (await timeOf(chain, receipts.replaceUsdc!)).toString(),
    });
    expect(usdcFeed.aggregator).to.equal(feeds[2]);
    expect(
      await entity(chain, "PriceFeed", lower(usdc), "aggregator heartbeat", receipts.feedUsdc!.blockNumber),
    ).to.deep.equal({
      aggregator: lower(feeds[0]!),
      heartbeat: "3600",
    });
    expect(await oracle.hasFeed(dai)).to.equal(false);
    expect(await entity(chain, "PriceFeed", lower(dai), fields)).to.deep.equal({
      token: { id: lower(dai) },
      aggregator: lower(feeds[1]!),
      heartbeat: "7200",
      active: false,
      updatedAt: (await timeOf(chain, receipts.removeDai!)).toString(),
    });
    // A token with a feed gets its PaymentToken (nothing paid yet).
    expect(
      await entity(chain, "PaymentToken", lower(dai), "escrowDeposited channelCount priceFeed { id }"),
    ).to.deep.equal({
      escrowDeposited: "0",
      channelCount: 0,
      priceFeed: { id: lower(dai) },
    });
  });

  it("holds each feature flag as FeatureFlags.getFlag returns it, with its update count", async () => {
    const { flags } = chain.protocol;
    for (const [flag, updates, last] of [
      [FLAG_1, 2, receipts.flag1b!],
      [FLAG_2, 1, receipts.flag2!],
    ] as const) {
      const onChain = await flags.getFlag(flag);
      expect(await entity(chain, "FeatureFlag", flag, "enabled rolloutBps updateCount updatedAt")).to.deep.equal({
        enabled: onChain.enabled,
        rolloutBps: Number(onChain.rolloutBps),
        updateCount: updates,
        updatedAt: onChain.updatedAt.toString(),
      });
      expect(onChain.updatedAt).to.equal(await timeOf(chain, last));
    }
    expect(await entity(chain, "FeatureFlag", FLAG_1, "enabled rolloutBps", receipts.flag1!.blockNumber)).to.deep.equal(
      {
        enabled: true,
        rolloutBps: 2500,
      },
    );
  });

  it("holds each rate-limit tier as RateLimitPolicy.policyOfTier returns it, and the APIs moved into it", async () => {
    const { rateLimits } = chain.protocol;
    const { rateLimitTiers } = await chain.query<{ rateLimitTiers: Record<string, unknown>[] }>(
      `{ rateLimitTiers(orderBy: tier) { id tier requestsPerWindow windowSeconds burst apis(orderBy: apiId) { apiId } } }`,
    );
    const expected = [];
    for (const tier of [0, 1, 2]) {
      const p = await rateLimits.policyOfTier(tier);
      expected.push({
        id: String(tier),
        tier,
        requestsPerWindow: p.requestsPerWindow.toString(),
        windowSeconds: p.windowSeconds.toString(),
        burst: p.burst.toString(),
        apis: tier === 2 ? [{ apiId: "1" }, { apiId: "5" }] : [],
      });
    }
    expect(rateLimitTiers).to.deep.equal(expected);
    expect(
      await entity(chain, "RateLimitTier", "0", "requestsPerWindow", receipts.tier0!.blockNumber - 1),
    ).to.deep.equal({
      requestsPerWindow: "600",
    });
    for (const apiId of [1n, 5n]) {
      const [tier] = await rateLimits.policyOf(apiId);
      expect(await entity(chain, "ApiRateLimit", apiId.toString(), "api { apiId } apiId tier { id }")).to.deep.equal({
        // API 5 is not listed: the policy may name it before the registry does.
        api: apiId === 1n ? { apiId: "1" } : null,
        apiId: apiId.toString(),
        tier: { id: tier.toString() },
      });
    }
    expect(await entity(chain, "ApiRateLimit", "1", "tier { id }", receipts.api1Tier1!.blockNumber)).to.deep.equal({
      tier: { id: "1" },
    });
    expect(await entity(chain, "Api", "1", "rateLimit { tier { id } }")).to.deep.equal({
      rateLimit: { tier: { id: "2" } },
    });
  });

  it("holds every role member as AccessManager.getAccess returns it, through the hand-over", async () => {
    const { accessManager } = chain.protocol;
    const { roleMembers } = await chain.query<{ roleMembers: RoleMemberRow[] }>(
      `{ roleMembers(first: 1000) { role { id } account active since executionDelay grantedAt revokedAt } }`,
    );
    expect(roleMembers.length).to.be.greaterThan(10);
    for (const m of roleMembers) {
      const [isMember, executionDelay] = await accessManager.hasRole(m.role.id, m.account);
      const [since] = await accessManager.getAccess(m.role.id, m.account);
      expect(m.active, `${m.role.id} ${m.account}`).to.equal(isMember);
      if (isMember) {
        expect({ since: m.since, executionDelay: m.executionDelay }, `${m.role.id} ${m.account}`).to.deep.equal({
          since: since.toString(),
          executionDelay: executionDelay.toString(),
        });
      } else {
        expect(m.revokedAt, `${m.role.id} ${m.account}`).to.not.equal(null);
      }
    }
    // After the hand-over no role is left to the deployer, ADMIN included.
    const deployer = lower(chain.deployment.deployer);
    expect(roleMembers.filter((m) => m.account === deployer && m.active)).to.deep.equal([]);
    expect(
      roleMembers
        .filter((m) => m.account === deployer)
        .map((m) => m.role.id)
        .sort(),
    ).to.deep.equal(["0", "1", "2", "3", "4"]);
    // Each DAO's timelock holds its role.
    const governance = chain.deployment.governance!;
    for (const [role, timelock] of [
      ["1", governance.ProtocolTimelock],
      ["2", governance.SecurityTimelock],
      ["3", governance.DeveloperTimelock],
      ["4", governance.SecurityTimelock],
    ] as const) {
      expect(
        roleMembers.some((m) => m.role.id === role && m.account === lower(timelock) && m.active),
        role,
      ).to.equal(true);
    }
  });

  it("keeps a current member's `since` when a grant only changes its execution delay", async () => {
    const id = `${ROLES.GUARDIAN}-${lower(guardian)}`;
    const granted = (await timeOf(chain, receipts.grantGuardian!)).toString();
    const fields = "active since executionDelay grantedAt revokedAt";
    expect(
      await entity<RoleMemberRow>(chain, "RoleMember", id, fields, receipts.regrantGuardian!.blockNumber),
    ).to.deep.equal({
      active: true,
      since: granted,
      executionDelay: "600",
      grantedAt: granted,
      revokedAt: null,
    });
    expect(
      await entity<RoleMemberRow>(chain, "RoleMember", id, fields, receipts.revokeGuardian!.blockNumber),
    ).to.deep.include({
      active: false,
      revokedAt: (await timeOf(chain, receipts.revokeGuardian!)).toString(),
    });
    const again = (await timeOf(chain, receipts.grantGuardianAgain!)).toString();
    expect(await entity<RoleMemberRow>(chain, "RoleMember", id, fields)).to.deep.equal({
      active: true,
      since: again,
      executionDelay: "0",
      grantedAt: again,
      revokedAt: null,
    });
  });

  it("holds every role's label and member count", async () => {
    const { accessManager } = chain.protocol;
    const { roles } = await chain.query<{
      roles: {
        id: string;
        roleId: string;
        label: string | null;
        memberCount: number;
        members: { active: boolean }[];
      }[];
    }>(`{ roles(orderBy: roleId) { id roleId label memberCount members(first: 100) { active } } }`);
    expect(roles.map((r) => [r.roleId, r.label])).to.deep.equal([
      ["0", null],
      ["1", ROLE_LABELS.PROTOCOL],
      ["2", ROLE_LABELS.SECURITY],
      ["3", ROLE_LABELS.DEVELOPER],
      ["4", ROLE_LABELS.GUARDIAN],
      ["7", "AUDITOR"],
    ]);
    for (const r of roles) expect(r.memberCount, r.id).to.equal(r.members.filter((m) => m.active).length);
    expect(roles.find((r) => r.id === "4")!.memberCount).to.equal(2); // the Security timelock and the guardian
    expect(roles.find((r) => r.id === "0")!.memberCount).to.equal(0);
    const [auditorMember, auditorDelay] = await accessManager.hasRole(AUDITOR, auditor);
    expect([auditorMember, auditorDelay]).to.deep.equal([true, 600n]);
    expect(await entity(chain, "RoleMember", `${AUDITOR}-${lower(auditor)}`, "since executionDelay")).to.deep.equal({
      since: (await timeOf(chain, receipts.grantAuditor!)).toString(),
      executionDelay: "600",
    });
  });

  it("keeps the authority of the oracle, the flags (moved to another manager) and the policy in their Contract entities", async () => {
    const { oracle, flags, rateLimits, accessManager } = chain.protocol;
    const manager = lower(await accessManager.getAddress());
    for (const [name, contract] of [
      ["UsdPriceOracle", oracle],
      ["FeatureFlags", flags],
      ["RateLimitPolicy", rateLimits],
    ] as const) {
      expect(await contractEntity(chain, name), name).to.deep.equal({
        address: lower(await contract.getAddress()),
        paused: false,
        treasury: null,
        authority: lower(await contract.authority()),
      });
    }
    expect(lower(await flags.authority())).to.equal(lower(newManager));
    expect(lower(await oracle.authority())).to.equal(manager);
    expect((await contractEntity(chain, "FeatureFlags", receipts.flag2!.blockNumber))!.authority).to.equal(manager);
  });

  it("triggered every AccessManager, UsdPriceOracle, FeatureFlags and RateLimitPolicy handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
