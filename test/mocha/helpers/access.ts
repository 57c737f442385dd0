import { expect } from "chai";
import { MaxUint256, parseEther } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { GroupSync } from "../../../sdk/zk/group-sync.js";
import { createIdentity, type Identity } from "../../../sdk/zk/identity.js";
import { AccessProver } from "../../../sdk/zk/prover.js";
import type { AccessProof } from "../../../sdk/zk/signals.js";
import { AccessProofVerifier, releaseZkThreads } from "../../../sdk/zk/verifier.js";
import { apiInput, DAY, deployFixture, type Fixture } from "./fixture.js";

/** Group settings of the fixture's deposit group (API 1). */
export const DEPOSIT = parseEther("100");
export const EPOCH_LENGTH = 60;
export const LIMIT = 3;
export const ROOT_WINDOW = 600;

export function groupSettings(overrides: Partial<Record<string, unknown>> = {}) {
  return {
    deposit: DEPOSIT,
    epochLength: EPOCH_LENGTH,
    userMessageLimit: LIMIT,
    rootHistoryWindow: ROOT_WINDOW,
    requireSubscription: false,
    ...overrides,
  };
}

/**
 * The deployed protocol plus: API 1 (provider, USDC-priced) with a deposit group (100 MESH
 * deposit, 60 s epochs, 3 calls per epoch, 600 s root window); `members` = three accounts with
 * 10,000 MESH each and unlimited MESH approval to AccessGroups; `slasher` likewise funded.
 */
export async function accessFixture() {
  const f = await deployFixture();
  await f.registry.connect(f.provider).register(apiInput(await f.usdc.getAddress()));
  const apiId = await f.registry.apiCount();
  const groupsAddress = await f.accessGroups.getAddress();
  const tokenAddress = await f.token.getAddress();
  await f.accessGroups.connect(f.provider).createGroup(apiId, tokenAddress, groupSettings());
  const members = f.rest.slice(0, 3) as HardhatEthersSigner[];
  const slasher = f.rest[3] as HardhatEthersSigner;
  for (const m of [...members, slasher]) {
    await f.token.connect(f.deployer).transfer(m.address, parseEther("10000"));
    await f.token.connect(m).approve(groupsAddress, MaxUint256);
  }
  return { ...f, apiId, tokenAddress, groupsAddress, members, slasher };
}

export type AccessFixture = Awaited<ReturnType<typeof accessFixture>>;

/** `owner` joins the group of `apiId` with a fresh identity. */
export async function joinWithNewIdentity(f: Fixture, apiId: bigint, owner: HardhatEthersSigner): Promise<Identity> {
  const identity = createIdentity();
  await f.accessGroups.connect(owner).join(apiId, identity.commitment);
  return identity;
}

/** A GroupSync of `apiId` caught up with the chain. */
export async function syncedGroup(f: Fixture, apiId: bigint): Promise<GroupSync> {
  const sync = new GroupSync(f.accessGroups, apiId, f.deployment.contracts.AccessGroups.blockNumber);
  await sync.sync();
  return sync;
}

let prover: Promise<AccessProver> | undefined;
let verifier: Promise<AccessProofVerifier> | undefined;

// snarkjs's worker threads keep the process alive: release them once, after every test file
// (a root-level hook, registered when the first test file imports this module).
after(async () => {
  if (prover !== undefined || verifier !== undefined) await releaseZkThreads();
});

/** One warm prover and verifier per test process (loading them takes ~0.5 s). */
export function zk(): Promise<{ prover: AccessProver; verifier: AccessProofVerifier }> {
  prover ??= AccessProver.load();
  verifier ??= AccessProofVerifier.load();
  return Promise.all([prover, verifier]).then(([p, v]) => ({ prover: p, verifier: v }));
}

/** A proof for `identity` against the group's current root, in the current epoch by default. */
export async function proveAccess(
  f: AccessFixture,
  identity: Identity,
  opts: { x: bigint; messageIndex?: bigint; epoch?: bigint; sync?: GroupSync },
): Promise<AccessProof> {
  const { prover } = await zk();
  const sync = opts.sync ?? (await syncedGroup(f, f.apiId));
  const group = await f.accessGroups.getGroup(f.apiId);
  return prover.prove({
    identity,
    merkleProof: sync.tree.proof(identity.commitment),
    apiId: f.apiId,
    epoch: opts.epoch ?? (await f.accessGroups.currentEpoch(f.apiId)),
    userMessageLimit: group.userMessageLimit,
    messageIndex: opts.messageIndex ?? 0n,
    x: opts.x,
  });
}

export { DAY };

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  expect.fail("expected a rejection");
}

/** A reference LeanIMT root, computed level by level (an odd last node moves up unhashed). */
export function leanImtRoot(leaves: readonly bigint[], hash2: (a: bigint, b: bigint) => bigint): bigint {
  if (leaves.length === 0) return 0n;
  let level = [...leaves];
  while (level.length > 1) {
    const next: bigint[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const [left, right] = [level[i] as bigint, level[i + 1]];
      next.push(right === undefined ? left : hash2(left, right));
    }
    level = next;
  }
  return level[0] as bigint;
}
