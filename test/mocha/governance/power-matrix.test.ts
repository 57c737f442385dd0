import { expect } from "chai";
import { ZeroAddress, type BaseContract } from "ethers";
import { DAOS, type DaoName } from "../../../deploy/governance.js";
import { managedTargets } from "../../../deploy/protocol.js";
import { ROLE_TABLE, ROLES, type RoleName, type RoleRule } from "../../../deploy/roles.js";
import { ethers, networkHelpers } from "../helpers/fixture.js";
import { API_ID, governanceFixture, impersonate, type GovFixture } from "../helpers/governance.js";
import { privilegedCallArgs } from "../helpers/privileged-calls.js";

/** The governance fixture with the three timelocks impersonated (funded, ready to send). */
async function powerFixture() {
  const f = await governanceFixture();
  const timelocks = {
    protocol: await impersonate(f.addresses.ProtocolTimelock),
    security: await impersonate(f.addresses.SecurityTimelock),
    developer: await impersonate(f.addresses.DeveloperTimelock),
  };
  return { ...f, timelocks };
}

type PowerFixture = Awaited<ReturnType<typeof powerFixture>>;

/** Which DAO's timelock holds each role after the hand-over. */
const HOLDER: Record<Exclude<RoleName, "ADMIN">, DaoName> = {
  PROTOCOL: "protocol",
  SECURITY: "security",
  DEVELOPER: "developer",
  GUARDIAN: "security",
};

/** Valid arguments for every privileged function, in this file's fixture. */
function argsFor(f: Fresh, rule: RoleRule): unknown[] {
  return privilegedCallArgs(
    {
      newTreasury: f.grantee.address,
      apiId: API_ID,
      slashable: f.badNode.address,
      tokenWithoutFeed: f.usdcAddress,
      tokenWithFeed: f.daiAddress,
      feed: f.feedAddress,
      credentialRecipient: f.outsider.address,
      credentialId: 1n, // dev1's credential
    },
    rule,
  );
}

/** State a call needs beyond the fixture: an unpause needs a paused contract. */
async function prepare(f: PowerFixture, rule: RoleRule, t: BaseContract): Promise<void> {
  if (rule.fn === "emergencyUnpause") {
    await (t.connect(f.timelocks.security) as BaseContract).getFunction("emergencyPause")();
  }
}

/** A fresh fixture (snapshot) with the extra addresses argsFor needs. */
async function fresh() {
  const f = await networkHelpers.loadFixture(powerFixture);
  return { ...f, feedAddress: await f.feed.getAddress(), daiAddress: await f.dai.getAddress() };
}

type Fresh = Awaited<ReturnType<typeof fresh>>;

/** Role membership as the events tell it (grants minus revocations), from genesis. */
async function membersFromEvents(f: GovFixture): Promise<Map<bigint, Set<string>>> {
  const m = f.accessManager;
  const events = [
    ...(await m.queryFilter(m.filters.RoleGranted())).map((e) => ({ e, grant: true })),
    ...(await m.queryFilter(m.filters.RoleRevoked())).map((e) => ({ e, grant: false })),
  ].sort((a, b) => a.e.blockNumber - b.e.blockNumber || a.e.index - b.e.index);
  const members = new Map<bigint, Set<string>>();
  for (const { e, grant } of events) {
    const set = members.get(e.args.roleId) ?? new Set<string>();
    if (grant) set.add(e.args.account);
    else set.delete(e.args.account);
    members.set(e.args.roleId, set);
  }
  return members;
}

describe("governance: the power matrix after the hand-over", () => {
  for (const rule of ROLE_TABLE) {
    const owner = HOLDER[rule.role];
    it(`${rule.contract}.${rule.fn} (${rule.role}): only the ${owner} timelock may call it`, async () => {
      for (const caller of DAOS) {
        const f = await fresh(); // each call from the same fresh state
        const t = managedTargets(f)[rule.contract];
        await prepare(f, rule, t);
        const signer = f.timelocks[caller];
        const sent = (t.connect(signer) as BaseContract).getFunction(rule.fn)(...argsFor(f, rule));
        if (caller === owner) {
          await expect(sent, `${caller} timelock`).not.to.revert(ethers);
        } else {
          await expect(sent, `${caller} timelock`)
            .to.be.revertedWithCustomError(t, "AccessManagedUnauthorized")
            .withArgs(signer.address);
        }
      }
    });
  }

  it("the AccessManager still maps every privileged function to its ROLE_TABLE role", async () => {
    const f = await fresh();
    const targets = managedTargets(f);
    for (const rule of ROLE_TABLE) {
      const t = targets[rule.contract];
      expect(
        await f.accessManager.getTargetFunctionRole(await t.getAddress(), t.interface.getFunction(rule.fn)!.selector),
        `${rule.contract}.${rule.fn}`,
      ).to.equal(ROLES[rule.role]);
    }
  });

  it("no EOA of the fixture holds an AccessManager role, a timelock admin, proposer or canceller role", async () => {
    const f = await fresh();
    for (const eoa of f.eoas) {
      for (const [name, role] of Object.entries(ROLES)) {
        const [member] = await f.accessManager.hasRole(role, eoa.address);
        expect(member, `${eoa.address} holds ${name}`).to.equal(false);
      }
      for (const dao of DAOS) {
        const t = f.governance[dao].timelock;
        for (const role of ["DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"] as const) {
          expect(await t.hasRole(await t.getFunction(role)(), eoa.address), `${eoa.address} ${dao} ${role}`).to.equal(
            false,
          );
        }
      }
    }
  });

  it("each timelock: its governor alone proposes and cancels, itself alone administers, anyone executes", async () => {
    const f = await fresh();
    const contracts = DAOS.flatMap((d) => [f.governance[d].governor, f.governance[d].timelock]);
    const addresses = [...(await Promise.all(contracts.map((c) => c.getAddress()))), ...f.eoas.map((e) => e.address)];
    for (const dao of DAOS) {
      const { governor, timelock } = f.governance[dao];
      const [admin, proposer, canceller, executor] = [
        await timelock.DEFAULT_ADMIN_ROLE(),
        await timelock.PROPOSER_ROLE(),
        await timelock.CANCELLER_ROLE(),
        await timelock.EXECUTOR_ROLE(),
      ];
      const self = await timelock.getAddress();
      const gov = await governor.getAddress();
      for (const a of addresses) {
        expect(await timelock.hasRole(admin, a), `${dao} admin ${a}`).to.equal(a === self);
        expect(await timelock.hasRole(proposer, a), `${dao} proposer ${a}`).to.equal(a === gov);
        expect(await timelock.hasRole(canceller, a), `${dao} canceller ${a}`).to.equal(a === gov);
      }
      expect(await timelock.hasRole(executor, ZeroAddress)).to.equal(true);

      // The same from the events: grants minus revocations since deployment.
      const members = new Map<string, Set<string>>();
      const events = [
        ...(await timelock.queryFilter(timelock.filters.RoleGranted())).map((e) => ({ e, grant: true })),
        ...(await timelock.queryFilter(timelock.filters.RoleRevoked())).map((e) => ({ e, grant: false })),
      ].sort((x, y) => x.e.blockNumber - y.e.blockNumber || x.e.index - y.e.index);
      for (const { e, grant } of events) {
        const set = members.get(e.args.role) ?? new Set<string>();
        if (grant) set.add(e.args.account);
        else set.delete(e.args.account);
        members.set(e.args.role, set);
      }
      expect([...(members.get(admin) ?? [])]).to.deep.equal([self]);
      expect([...(members.get(proposer) ?? [])]).to.deep.equal([gov]);
      expect([...(members.get(canceller) ?? [])]).to.deep.equal([gov]);
      expect([...(members.get(executor) ?? [])]).to.deep.equal([ZeroAddress]);
    }
  });

  it("nobody holds ADMIN; each DAO role is held by its timelock alone (GUARDIAN: the Security timelock)", async () => {
    const f = await fresh();
    const members = await membersFromEvents(f);
    const { ProtocolTimelock, SecurityTimelock, DeveloperTimelock } = f.addresses;
    expect([...(members.get(ROLES.ADMIN) ?? [])]).to.deep.equal([]);
    expect([...(members.get(ROLES.PROTOCOL) ?? [])]).to.deep.equal([ProtocolTimelock]);
    expect([...(members.get(ROLES.SECURITY) ?? [])]).to.deep.equal([SecurityTimelock]);
    expect([...(members.get(ROLES.DEVELOPER) ?? [])]).to.deep.equal([DeveloperTimelock]);
    expect([...(members.get(ROLES.GUARDIAN) ?? [])]).to.deep.equal([SecurityTimelock]);
    const everyone = [
      ...f.eoas.map((e) => e.address),
      ...Object.values(f.addresses),
      await f.accessManager.getAddress(),
    ];
    for (const a of everyone) {
      const [admin] = await f.accessManager.hasRole(ROLES.ADMIN, a);
      expect(admin, `${a} holds ADMIN`).to.equal(false);
    }
    // Each role administers itself; GUARDIAN is administered by the Security DAO.
    expect(await f.accessManager.getRoleAdmin(ROLES.PROTOCOL)).to.equal(ROLES.PROTOCOL);
    expect(await f.accessManager.getRoleAdmin(ROLES.SECURITY)).to.equal(ROLES.SECURITY);
    expect(await f.accessManager.getRoleAdmin(ROLES.DEVELOPER)).to.equal(ROLES.DEVELOPER);
    expect(await f.accessManager.getRoleAdmin(ROLES.GUARDIAN)).to.equal(ROLES.SECURITY);
  });

  it("a DAO cannot grant itself (or revoke) another DAO's role", async () => {
    const own: Record<DaoName, bigint[]> = {
      protocol: [ROLES.PROTOCOL],
      security: [ROLES.SECURITY, ROLES.GUARDIAN],
      developer: [ROLES.DEVELOPER],
    };
    const roles = [ROLES.ADMIN, ROLES.PROTOCOL, ROLES.SECURITY, ROLES.DEVELOPER, ROLES.GUARDIAN];
    for (const dao of DAOS) {
      for (const role of roles.filter((r) => !own[dao].includes(r))) {
        const f = await fresh();
        const m = f.accessManager;
        const signer = f.timelocks[dao];
        const admin = await m.getRoleAdmin(role);
        await expect(m.connect(signer).grantRole(role, signer.address, 0), `${dao} grants itself role ${role}`)
          .to.be.revertedWithCustomError(m, "AccessManagerUnauthorizedAccount")
          .withArgs(signer.address, admin);
        const holder: Record<string, string> = {
          [`${ROLES.ADMIN}`]: f.deployer.address,
          [`${ROLES.PROTOCOL}`]: f.addresses.ProtocolTimelock,
          [`${ROLES.SECURITY}`]: f.addresses.SecurityTimelock,
          [`${ROLES.DEVELOPER}`]: f.addresses.DeveloperTimelock,
          [`${ROLES.GUARDIAN}`]: f.addresses.SecurityTimelock,
        };
        await expect(m.connect(signer).revokeRole(role, holder[`${role}`]!), `${dao} revokes role ${role}`)
          .to.be.revertedWithCustomError(m, "AccessManagerUnauthorizedAccount")
          .withArgs(signer.address, admin);
      }
    }
    // The explicit case of the brief.
    const f = await fresh();
    const protocol = f.timelocks.protocol;
    await expect(f.accessManager.connect(protocol).grantRole(ROLES.SECURITY, protocol.address, 0))
      .to.be.revertedWithCustomError(f.accessManager, "AccessManagerUnauthorizedAccount")
      .withArgs(protocol.address, ROLES.SECURITY);
  });

  it("no DAO can rewire the AccessManager (ADMIN-only calls)", async () => {
    const f = await fresh();
    const m = f.accessManager;
    const registry = await f.registry.getAddress();
    const selector = f.registry.interface.getFunction("setTreasury").selector;
    const adminCalls: [string, unknown[]][] = [
      ["labelRole", [ROLES.PROTOCOL, "x"]],
      ["setRoleAdmin", [ROLES.SECURITY, ROLES.PROTOCOL]],
      ["setRoleGuardian", [ROLES.SECURITY, ROLES.PROTOCOL]],
      ["setGrantDelay", [ROLES.SECURITY, 10]],
      ["setTargetFunctionRole", [registry, [selector], ROLES.DEVELOPER]],
      ["setTargetAdminDelay", [registry, 10]],
      ["setTargetClosed", [registry, true]],
      ["updateAuthority", [registry, f.outsider.address]],
    ];
    for (const dao of DAOS) {
      const signer = f.timelocks[dao];
      for (const [fn, args] of adminCalls) {
        await expect(m.connect(signer).getFunction(fn)(...args), `${fn} by the ${dao} timelock`)
          .to.be.revertedWithCustomError(m, "AccessManagerUnauthorizedAccount")
          .withArgs(signer.address, ROLES.ADMIN);
      }
    }
  });

  it("each DAO administers its own role (it may delegate it by its own vote)", async () => {
    const f = await fresh();
    const m = f.accessManager;
    await expect(m.connect(f.timelocks.protocol).grantRole(ROLES.PROTOCOL, f.grantee.address, 0)).not.to.revert(ethers);
    await expect(m.connect(f.timelocks.security).grantRole(ROLES.GUARDIAN, f.outsider.address, 0)).not.to.revert(
      ethers,
    );
    await expect(m.connect(f.timelocks.developer).grantRole(ROLES.DEVELOPER, f.grantee.address, 0)).not.to.revert(
      ethers,
    );
  });
});
