import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { parseEther, type BaseContract } from "ethers";
import { managedTargets } from "../../../deploy/protocol.js";
import { ROLE_TABLE, ROLES, type ManagedContract, type RoleRule } from "../../../deploy/roles.js";
import { MockAggregatorV3__factory } from "../../../types/ethers-contracts/index.js";
import { privilegedCallArgs } from "../helpers/privileged-calls.js";
import { apiInput, deployFixture, ethers, networkHelpers, NodeType, region, type Fixture } from "../helpers/fixture.js";

/** The contracts with the emergency brake (EmergencyPausable). */
const PAUSABLE: readonly ManagedContract[] = [
  "ApiRegistry",
  "NodeStaking",
  "PaymentEscrow",
  "Subscriptions",
  "DiscountStaking",
  "AccessGroups",
  "Reputation",
];

/** Valid arguments for every privileged function, in this file's fixture. */
function argsFor(f: AcFixture, rule: RoleRule): unknown[] {
  return privilegedCallArgs(
    {
      newTreasury: f.rest[0]!.address,
      apiId: f.apiId,
      slashable: f.operator.address,
      tokenWithoutFeed: f.usdcAddress,
      tokenWithFeed: f.daiAddress,
      feed: f.feedAddress,
      credentialRecipient: f.rest[5]!.address,
      credentialId: f.credentialId,
    },
    rule,
  );
}

function target(f: Fixture, contract: ManagedContract): BaseContract {
  return managedTargets(f)[contract];
}

/**
 * State every privileged call needs: a node to slash, a feed to remove, a feed to set, an API
 * to delist or move between tiers, an issued credential to revoke. Nothing is paused.
 */
async function fixtureWithState() {
  const f = await deployFixture();
  await f.staking.connect(f.operator).registerNode(NodeType.Edge, region("eu"), "https://n1", 10, parseEther("2000"));
  const feed = await new MockAggregatorV3__factory(f.deployer).deploy(8, 100_000_000n);
  const [usdcAddress, daiAddress, feedAddress] = [
    await f.usdc.getAddress(),
    await f.dai.getAddress(),
    await feed.getAddress(),
  ];
  await f.oracle.setFeed(daiAddress, feedAddress, 3600);
  await f.registry.connect(f.provider).register(apiInput(usdcAddress));
  const apiId = await f.registry.apiCount();
  await f.credential.connect(f.deployer).issue(f.rest[4]!.address);
  const credentialId = await f.credential.issued();
  return { ...f, usdcAddress, daiAddress, feedAddress, apiId, credentialId };
}

type AcFixture = Awaited<ReturnType<typeof fixtureWithState>>;

/** The same state with every pausable contract paused, so `emergencyUnpause` can succeed. */
async function pausedFixtureWithState(): Promise<AcFixture> {
  const f = await fixtureWithState();
  for (const contract of PAUSABLE) {
    await (target(f, contract).connect(f.deployer) as BaseContract).getFunction("emergencyPause")();
  }
  return f;
}

/** The fixture a rule's calls succeed on: each test loads it afresh. */
function fixtureFor(rule: RoleRule): () => Promise<AcFixture> {
  return rule.fn === "emergencyUnpause" ? pausedFixtureWithState : fixtureWithState;
}

/** Functions anyone may call (their own checks apply); everything else must be in ROLE_TABLE. */
const OPEN_FUNCTIONS: Record<ManagedContract, string[]> = {
  ApiRegistry: [
    "register",
    "updateMetadata",
    "updateUpstream",
    "updateCategory",
    "setPricing",
    "pause",
    "resume",
    "retire",
    "transferApi",
    "acceptApi",
    "setAuthority", // AccessManaged: only the current authority itself may call it
  ],
  NodeStaking: [
    "registerNode",
    "updateNode",
    "topUp",
    "unstake",
    "withdraw",
    "delegate",
    "delegateBySig",
    "setAuthority",
  ],
  UsdPriceOracle: ["setAuthority"],
  PaymentEscrow: [
    "deposit",
    "startWithdraw",
    "cancelWithdraw",
    "finishWithdraw",
    "authorizeSigner",
    "revokeSigner",
    "redeem",
    "redeemBatch",
    "claimNodeEarnings",
    "claimProviderEarnings",
    "collectProtocolFees",
    "setAuthority",
  ],
  DiscountStaking: ["stake", "requestUnstake", "withdraw", "setAuthority"],
  PriceQuoter: [], // stateless: no state-changing functions at all
  Subscriptions: [
    "subscribe",
    "cancel",
    "depositBalance",
    "withdrawBalance",
    "renew",
    "performUpkeep",
    "claimProviderEarnings",
    "collectProtocolFees",
    "setAuthority",
  ],
  AccessGroups: [
    "createGroup", // the API's provider only
    "updateGroup", // the API's provider only
    "join",
    "leave", // the member's owner only
    "removeLapsed", // only members whose subscription lapsed
    "withdraw", // the member's owner gets its deposit, once unlocked
    "commitSlash",
    "slash", // needs the member's revealed secret
    "setAuthority",
  ],
  FeatureFlags: ["setAuthority"],
  RateLimitPolicy: ["setAuthority"],
  DeveloperCredential: [
    "claim", // the earning rule: the API's provider only, once per API and per account
    "delegate",
    "delegateBySig",
    "setAuthority",
    // ERC-721 surface: callable, but every transfer reverts CredentialNotTransferable (tested below).
    "approve",
    "setApprovalForAll",
    "transferFrom",
    "safeTransferFrom", // safeTransferFrom(address,address,uint256)
    "safeTransferFrom", // safeTransferFrom(address,address,uint256,bytes)
  ],
  Reputation: [
    "joinValidators", // active Validator nodes only
    "leaveValidators", // members only
    "removeValidator", // only members no longer eligible
    "attest", // signed by a member of the validator set
    "rate", // payers of a channel with spend only
    "finalizeNode", // during epoch + 2 only
    "finalizeApi",
    "reportForSlashing", // only nodes past the slashing policy's low streak
    "setAuthority",
  ],
  NodeRewards: [
    "fund", // the caller's own MESH
    "commit", // during epoch + 3, from the node's served value and reputation
    "claim", // pays the node, never the caller
    "setAuthority",
  ],
};

describe("access control", () => {
  it("every state-changing function is either privileged (ROLE_TABLE) or deliberately open", async () => {
    const f = await networkHelpers.loadFixture(deployFixture);
    for (const contract of Object.keys(OPEN_FUNCTIONS) as ManagedContract[]) {
      const mutating = target(f, contract)
        .interface.fragments.filter((x) => x.type === "function")
        .map((x) => x as unknown as { name: string; stateMutability: string })
        .filter((fn) => fn.stateMutability !== "view" && fn.stateMutability !== "pure")
        .map((fn) => fn.name)
        .sort();
      const classified = [
        ...OPEN_FUNCTIONS[contract],
        ...ROLE_TABLE.filter((r) => r.contract === contract).map((r) => r.fn),
      ].sort();
      expect(mutating).to.deep.equal(classified);
    }
  });

  it("DeveloperCredential's open ERC-721 functions never move a credential (CredentialNotTransferable)", async () => {
    const f = await networkHelpers.loadFixture(fixtureWithState);
    const holder = f.rest[4]!;
    const [to, operator] = [f.outsider, f.rest[6]!];
    const c = f.credential;
    // Approvals are harmless and allowed...
    await expect(c.connect(holder).approve(operator.address, f.credentialId)).not.to.revert(ethers);
    await expect(c.connect(holder).setApprovalForAll(operator.address, true)).not.to.revert(ethers);
    // ...but no transfer goes through, whoever sends it.
    for (const sender of [holder, operator]) {
      const from = holder.address;
      const transfers = [
        c.connect(sender).transferFrom(from, to.address, f.credentialId),
        c.connect(sender)["safeTransferFrom(address,address,uint256)"](from, to.address, f.credentialId),
        c.connect(sender)["safeTransferFrom(address,address,uint256,bytes)"](from, to.address, f.credentialId, "0x"),
      ];
      for (const transfer of transfers) {
        await expect(transfer).to.be.revertedWithCustomError(c, "CredentialNotTransferable");
      }
    }
    expect(await c.ownerOf(f.credentialId)).to.equal(holder.address);
    expect(await c.getVotes(holder.address)).to.equal(1n);
    expect(await c.getVotes(to.address)).to.equal(0n);
  });

  it("the AccessManager maps every privileged function to its role", async () => {
    const f = await networkHelpers.loadFixture(deployFixture);
    for (const rule of ROLE_TABLE) {
      const t = target(f, rule.contract);
      const selector = t.interface.getFunction(rule.fn)!.selector;
      expect(
        await f.accessManager.getTargetFunctionRole(await t.getAddress(), selector),
        `${rule.contract}.${rule.fn}`,
      ).to.equal(ROLES[rule.role]);
    }
  });

  for (const rule of ROLE_TABLE) {
    describe(`${rule.contract}.${rule.fn} (${rule.role})`, () => {
      it("reverts with AccessManagedUnauthorized for every unprivileged account", async () => {
        const f = await networkHelpers.loadFixture(fixtureFor(rule));
        const unprivileged = [f.provider, f.provider2, f.operator, f.operator2, f.outsider, ...f.rest.slice(0, 3)];
        const t = target(f, rule.contract);
        for (const account of unprivileged) {
          const call = (t.connect(account) as BaseContract).getFunction(rule.fn);
          await expect(call(...argsFor(f, rule)), account.address)
            .to.be.revertedWithCustomError(t, "AccessManagedUnauthorized")
            .withArgs(account.address);
        }
      });

      it("succeeds for the role holder", async () => {
        const f = await networkHelpers.loadFixture(fixtureFor(rule));
        const t = target(f, rule.contract);
        await expect(t.connect(f.deployer).getFunction(rule.fn)(...argsFor(f, rule))).not.to.revert(ethers);
      });

      it("succeeds for a newly granted holder, and not after revocation", async () => {
        const f = await networkHelpers.loadFixture(fixtureFor(rule));
        const t = target(f, rule.contract);
        const newcomer = f.rest[1]!;
        await f.accessManager.grantRole(ROLES[rule.role], newcomer.address, 0);
        await expect(t.connect(newcomer).getFunction(rule.fn)(...argsFor(f, rule))).not.to.revert(ethers);
        await f.accessManager.revokeRole(ROLES[rule.role], newcomer.address);
        await expect(t.connect(newcomer).getFunction(rule.fn)(...argsFor(f, rule)))
          .to.be.revertedWithCustomError(t, "AccessManagedUnauthorized")
          .withArgs(newcomer.address);
      });
    });
  }

  it("only the AccessManager admin may change roles or targets", async () => {
    const f = await networkHelpers.loadFixture(deployFixture);
    const m = f.accessManager;
    const registry = await f.registry.getAddress();
    const selector = f.registry.interface.getFunction("setTreasury").selector;
    const adminCalls: [string, unknown[]][] = [
      ["grantRole", [ROLES.PROTOCOL, f.outsider.address, 0]],
      ["revokeRole", [ROLES.PROTOCOL, f.deployer.address]],
      ["labelRole", [ROLES.PROTOCOL, "x"]],
      ["setRoleAdmin", [ROLES.PROTOCOL, ROLES.SECURITY]],
      ["setRoleGuardian", [ROLES.PROTOCOL, ROLES.SECURITY]],
      ["setGrantDelay", [ROLES.PROTOCOL, 10]],
      ["setTargetFunctionRole", [registry, [selector], ROLES.SECURITY]],
      ["setTargetAdminDelay", [registry, 10]],
      ["setTargetClosed", [registry, true]],
      ["updateAuthority", [registry, f.outsider.address]],
    ];
    for (const account of [f.provider, f.operator, f.outsider]) {
      for (const [fn, args] of adminCalls) {
        await expect(m.connect(account).getFunction(fn)(...args), `${fn} by ${account.address}`)
          .to.be.revertedWithCustomError(m, "AccessManagerUnauthorizedAccount")
          .withArgs(account.address, ROLES.ADMIN);
      }
    }
  });

  it("docs/roles.md lists exactly the ROLE_TABLE", async () => {
    const doc = await readFile(new URL("../../../docs/roles.md", import.meta.url), "utf8");
    const rows = [
      ...doc.matchAll(/^\|\s*(\w+)\s*\|\s*(\w+)\s*\|\s*(PROTOCOL|SECURITY|DEVELOPER|GUARDIAN)\s*\|$/gm),
    ].map((m) => `${m[1]}.${m[2]}:${m[3]}`);
    expect(rows.sort()).to.deep.equal(ROLE_TABLE.map((r) => `${r.contract}.${r.fn}:${r.role}`).sort());
  });
});
