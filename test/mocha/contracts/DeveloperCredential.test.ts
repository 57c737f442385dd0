import { expect } from "chai";
import { encodeBytes32String, ZeroAddress } from "ethers";
import { defaultParams } from "../../../deploy/params.js";
import { DeveloperCredential__factory } from "../../../types/ethers-contracts/index.js";
import { apiInput, DAY, deployFixture, ethers, networkHelpers, type Fixture } from "../helpers/fixture.js";
import { minedAt, nextTimestamp } from "../helpers/staking.js";

const MIN_API_AGE = BigInt(defaultParams(ZeroAddress).credentialMinApiAge);
const MAX_MIN_API_AGE = 365n * BigInt(DAY);
/** An explicit gas limit skips estimation, so a failing call is really mined at the set timestamp. */
const GAS = { gasLimit: 500_000 };

type Account = Fixture["outsider"];

/**
 * The protocol plus three listed APIs: api1 (provider), api2 (provider2), api3 (provider),
 * each with its createdAt; `dev` and `dev2` are accounts without any API.
 */
async function credentialFixture() {
  const f = await deployFixture();
  const usdc = await f.usdc.getAddress();
  const [dev, dev2] = f.rest as [Account, Account];
  const listed: { apiId: bigint; createdAt: bigint }[] = [];
  for (const p of [f.provider, f.provider2, f.provider]) {
    await f.registry.connect(p).register(apiInput(usdc));
    const apiId = await f.registry.apiCount();
    listed.push({ apiId, createdAt: (await f.registry.getApi(apiId)).createdAt });
  }
  const [api1, api2, api3] = listed as [(typeof listed)[0], (typeof listed)[0], (typeof listed)[0]];
  return { ...f, dev, dev2, api1, api2, api3 };
}

type CredFixture = Awaited<ReturnType<typeof credentialFixture>>;

describe("DeveloperCredential", () => {
  let f: CredFixture;

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(credentialFixture);
  });

  /** Makes the next block exactly `createdAt + minApiAge` of `api` (the earliest claim). */
  async function atEligibility(api: { createdAt: bigint }, offset = 0n): Promise<bigint> {
    const t = api.createdAt + (await f.credential.minApiAge()) + offset;
    await networkHelpers.time.setNextBlockTimestamp(t);
    return t;
  }

  // -------------------------------------------------------------------- deployment

  describe("deployment", () => {
    it("is wired as the deploy params say, with the timestamp clock and no credential yet", async () => {
      expect(await f.credential.registry()).to.equal(await f.registry.getAddress());
      expect(await f.credential.authority()).to.equal(await f.accessManager.getAddress());
      expect(await f.credential.minApiAge()).to.equal(MIN_API_AGE);
      expect(await f.credential.MAX_MIN_API_AGE()).to.equal(MAX_MIN_API_AGE);
      expect(await f.credential.name()).to.equal("Meshgate Developer Credential");
      expect(await f.credential.symbol()).to.equal("MGDEV");
      expect(await f.credential.issued()).to.equal(0n);
      expect(await f.credential.CLOCK_MODE()).to.equal("mode=timestamp");
      expect(await f.credential.clock()).to.equal(BigInt(await networkHelpers.time.latest()));
      await networkHelpers.time.increase(1000);
      expect(await f.credential.clock()).to.equal(BigInt(await networkHelpers.time.latest()));
      expect(await f.credential.getVotes(f.provider.address)).to.equal(0n);
      expect(await f.credential.hasCredential(f.provider.address)).to.equal(false);
      expect(await f.credential.apiCredited(f.api1.apiId)).to.equal(false);
    });

    it("constructor emits MinApiAgeUpdated and accepts exactly MAX_MIN_API_AGE", async () => {
      const factory = new DeveloperCredential__factory(f.deployer);
      const [am, registry] = [await f.accessManager.getAddress(), await f.registry.getAddress()];
      const fresh = await factory.deploy(am, registry, MAX_MIN_API_AGE);
      await expect(fresh.deploymentTransaction()).to.emit(fresh, "MinApiAgeUpdated").withArgs(MAX_MIN_API_AGE);
      expect(await fresh.minApiAge()).to.equal(MAX_MIN_API_AGE);
    });

    it("constructor rejects a zero authority or registry (ZeroAddress) and an age above the maximum", async () => {
      const factory = new DeveloperCredential__factory(f.deployer);
      const [am, registry] = [await f.accessManager.getAddress(), await f.registry.getAddress()];
      await expect(factory.deploy(ZeroAddress, registry, MIN_API_AGE)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(am, ZeroAddress, MIN_API_AGE)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(am, registry, MAX_MIN_API_AGE + 1n))
        .to.be.revertedWithCustomError(factory, "MinApiAgeOutOfRange")
        .withArgs(MAX_MIN_API_AGE + 1n, MAX_MIN_API_AGE);
    });
  });

  // -------------------------------------------------------------------- issue

  describe("issue (Protocol DAO)", () => {
    it("mints the next id, emits CredentialIssued(holder, id, 0) and Transfer, and self-delegates", async () => {
      const tx = f.credential.connect(f.deployer).issue(f.dev.address);
      await expect(tx).to.emit(f.credential, "CredentialIssued").withArgs(f.dev.address, 1n, 0n);
      await expect(tx).to.emit(f.credential, "Transfer").withArgs(ZeroAddress, f.dev.address, 1n);
      await expect(tx).to.emit(f.credential, "DelegateChanged").withArgs(f.dev.address, ZeroAddress, f.dev.address);
      await expect(tx).to.emit(f.credential, "DelegateVotesChanged").withArgs(f.dev.address, 0n, 1n);
      expect(await f.credential.issued()).to.equal(1n);
      expect(await f.credential.ownerOf(1n)).to.equal(f.dev.address);
      expect(await f.credential.balanceOf(f.dev.address)).to.equal(1n);
      expect(await f.credential.hasCredential(f.dev.address)).to.equal(true);
      expect(await f.credential.delegates(f.dev.address)).to.equal(f.dev.address);
      expect(await f.credential.getVotes(f.dev.address)).to.equal(1n);

      await expect(f.credential.connect(f.deployer).issue(f.dev2.address))
        .to.emit(f.credential, "CredentialIssued")
        .withArgs(f.dev2.address, 2n, 0n);
      expect(await f.credential.issued()).to.equal(2n);
    });

    it("reverts with ZeroAddress for address(0) and AlreadyHoldsCredential for a holder", async () => {
      await expect(f.credential.connect(f.deployer).issue(ZeroAddress)).to.be.revertedWithCustomError(
        f.credential,
        "ZeroAddress",
      );
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await expect(f.credential.connect(f.deployer).issue(f.dev.address))
        .to.be.revertedWithCustomError(f.credential, "AlreadyHoldsCredential")
        .withArgs(f.dev.address);
      expect(await f.credential.issued()).to.equal(1n);
      expect(await f.credential.getVotes(f.dev.address)).to.equal(1n);
    });

    it("keeps a delegation the account chose before it got its credential", async () => {
      await f.credential.connect(f.dev).delegate(f.dev2.address);
      const tx = f.credential.connect(f.deployer).issue(f.dev.address);
      await expect(tx).not.to.emit(f.credential, "DelegateChanged");
      await expect(tx).to.emit(f.credential, "DelegateVotesChanged").withArgs(f.dev2.address, 0n, 1n);
      expect(await f.credential.getVotes(f.dev.address)).to.equal(0n);
      expect(await f.credential.getVotes(f.dev2.address)).to.equal(1n);
    });

    it("reverts with AccessManagedUnauthorized for accounts without the PROTOCOL role", async () => {
      for (const signer of [f.dev, f.provider, f.outsider]) {
        await expect(f.credential.connect(signer).issue(signer.address))
          .to.be.revertedWithCustomError(f.credential, "AccessManagedUnauthorized")
          .withArgs(signer.address);
      }
    });
  });

  // -------------------------------------------------------------------- revoke

  describe("revoke (Protocol DAO)", () => {
    it("burns the credential, emits CredentialRevoked and Transfer, and removes the vote from now on", async () => {
      const tIssue = await minedAt(await f.credential.connect(f.deployer).issue(f.dev.address));
      await networkHelpers.time.increase(100);
      const tx = await f.credential.connect(f.deployer).revoke(1n);
      const tRevoke = await minedAt(tx);
      await expect(tx).to.emit(f.credential, "CredentialRevoked").withArgs(f.dev.address, 1n);
      await expect(tx).to.emit(f.credential, "Transfer").withArgs(f.dev.address, ZeroAddress, 1n);
      await expect(tx).to.emit(f.credential, "DelegateVotesChanged").withArgs(f.dev.address, 1n, 0n);
      await networkHelpers.mine();

      expect(await f.credential.getVotes(f.dev.address)).to.equal(0n);
      expect(await f.credential.hasCredential(f.dev.address)).to.equal(false);
      expect(await f.credential.balanceOf(f.dev.address)).to.equal(0n);
      await expect(f.credential.ownerOf(1n)).to.be.revertedWithCustomError(f.credential, "ERC721NonexistentToken");
      // History is kept: the vote counted while the credential existed, not after.
      expect(await f.credential.getPastVotes(f.dev.address, tIssue)).to.equal(1n);
      expect(await f.credential.getPastVotes(f.dev.address, tRevoke - 1n)).to.equal(1n);
      expect(await f.credential.getPastVotes(f.dev.address, tRevoke)).to.equal(0n);
      expect(await f.credential.getPastTotalSupply(tRevoke - 1n)).to.equal(1n);
      expect(await f.credential.getPastTotalSupply(tRevoke)).to.equal(0n);
      // `issued` counts every credential ever issued.
      expect(await f.credential.issued()).to.equal(1n);
    });

    it("reverts with ERC721NonexistentToken for an unknown or already revoked id", async () => {
      await expect(f.credential.connect(f.deployer).revoke(1n))
        .to.be.revertedWithCustomError(f.credential, "ERC721NonexistentToken")
        .withArgs(1n);
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await f.credential.connect(f.deployer).revoke(1n);
      await expect(f.credential.connect(f.deployer).revoke(1n))
        .to.be.revertedWithCustomError(f.credential, "ERC721NonexistentToken")
        .withArgs(1n);
    });

    it("a revoked account may be issued a new credential (a new id) and votes again", async () => {
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await f.credential.connect(f.deployer).revoke(1n);
      await expect(f.credential.connect(f.deployer).issue(f.dev.address))
        .to.emit(f.credential, "CredentialIssued")
        .withArgs(f.dev.address, 2n, 0n);
      expect(await f.credential.getVotes(f.dev.address)).to.equal(1n);
      expect(await f.credential.ownerOf(2n)).to.equal(f.dev.address);
    });

    it("a revoked provider cannot claim again for the API that already earned a credential", async () => {
      await atEligibility(f.api1);
      await f.credential.connect(f.provider).claim(f.api1.apiId);
      await f.credential.connect(f.deployer).revoke(1n);
      await expect(f.credential.connect(f.provider).claim(f.api1.apiId))
        .to.be.revertedWithCustomError(f.credential, "ApiAlreadyCredited")
        .withArgs(f.api1.apiId);
    });
  });

  // -------------------------------------------------------------------- claim

  describe("claim (the providers' earning rule)", () => {
    it("fails one second before createdAt + minApiAge (NotEligible) and succeeds exactly at it", async () => {
      await atEligibility(f.api1, -1n);
      await expect(f.credential.connect(f.provider).claim(f.api1.apiId, GAS))
        .to.be.revertedWithCustomError(f.credential, "NotEligible")
        .withArgs(f.api1.apiId, f.provider.address);
      expect(BigInt(await networkHelpers.time.latest())).to.equal(f.api1.createdAt + MIN_API_AGE - 1n);

      await atEligibility(f.api1);
      const tx = f.credential.connect(f.provider).claim(f.api1.apiId, GAS);
      await expect(tx).to.emit(f.credential, "CredentialIssued").withArgs(f.provider.address, 1n, f.api1.apiId);
      await expect(tx).to.emit(f.credential, "Transfer").withArgs(ZeroAddress, f.provider.address, 1n);
      expect(await f.credential.apiCredited(f.api1.apiId)).to.equal(true);
      expect(await f.credential.ownerOf(1n)).to.equal(f.provider.address);
      expect(await f.credential.getVotes(f.provider.address)).to.equal(1n);
      expect(await f.credential.delegates(f.provider.address)).to.equal(f.provider.address);
    });

    it("returns the new token id", async () => {
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await networkHelpers.time.increase(MIN_API_AGE);
      expect(await f.credential.connect(f.provider2).claim.staticCall(f.api2.apiId)).to.equal(2n);
    });

    it("only the API's provider may claim (NotEligible for anyone else)", async () => {
      await atEligibility(f.api1, 10n);
      for (const signer of [f.provider2, f.outsider, f.deployer, f.dev]) {
        await expect(f.credential.connect(signer).claim(f.api1.apiId))
          .to.be.revertedWithCustomError(f.credential, "NotEligible")
          .withArgs(f.api1.apiId, signer.address);
      }
      expect(await f.credential.apiCredited(f.api1.apiId)).to.equal(false);
    });

    it("only an Active API earns a credential: Paused, Retired and Delisted get NotEligible", async () => {
      await networkHelpers.time.increase(MIN_API_AGE + 10n);
      const r = f.registry;
      await r.connect(f.provider).pause(f.api1.apiId);
      await r.connect(f.provider).retire(f.api3.apiId);
      await r.connect(f.deployer).delist(f.api2.apiId, encodeBytes32String("spam"));
      for (const [signer, api] of [
        [f.provider, f.api1],
        [f.provider2, f.api2],
        [f.provider, f.api3],
      ] as const) {
        await expect(f.credential.connect(signer).claim(api.apiId))
          .to.be.revertedWithCustomError(f.credential, "NotEligible")
          .withArgs(api.apiId, signer.address);
      }
      // Resumed, the paused API earns it.
      await r.connect(f.provider).resume(f.api1.apiId);
      await expect(f.credential.connect(f.provider).claim(f.api1.apiId))
        .to.emit(f.credential, "CredentialIssued")
        .withArgs(f.provider.address, 1n, f.api1.apiId);
    });

    it("an unknown API reverts with the registry's ApiNotFound", async () => {
      for (const unknown of [0n, 99n]) {
        await expect(f.credential.connect(f.provider).claim(unknown))
          .to.be.revertedWithCustomError(f.registry, "ApiNotFound")
          .withArgs(unknown);
      }
    });

    it("one credential per API: moving the API to another account earns nothing (ApiAlreadyCredited)", async () => {
      await atEligibility(f.api1);
      await f.credential.connect(f.provider).claim(f.api1.apiId);
      await f.registry.connect(f.provider).transferApi(f.api1.apiId, f.dev.address);
      await f.registry.connect(f.dev).acceptApi(f.api1.apiId);
      await expect(f.credential.connect(f.dev).claim(f.api1.apiId))
        .to.be.revertedWithCustomError(f.credential, "ApiAlreadyCredited")
        .withArgs(f.api1.apiId);
      expect(await f.credential.hasCredential(f.dev.address)).to.equal(false);
      expect(await f.credential.issued()).to.equal(1n);
    });

    it("one credential per account: a second API gets AlreadyHoldsCredential and stays uncredited", async () => {
      await atEligibility(f.api3);
      await f.credential.connect(f.provider).claim(f.api1.apiId);
      await expect(f.credential.connect(f.provider).claim(f.api3.apiId))
        .to.be.revertedWithCustomError(f.credential, "AlreadyHoldsCredential")
        .withArgs(f.provider.address);
      expect(await f.credential.apiCredited(f.api3.apiId)).to.equal(false);
      expect(await f.credential.getVotes(f.provider.address)).to.equal(1n);

      // An account issued a credential by the DAO cannot claim another one either.
      await f.credential.connect(f.deployer).issue(f.provider2.address);
      await expect(f.credential.connect(f.provider2).claim(f.api2.apiId))
        .to.be.revertedWithCustomError(f.credential, "AlreadyHoldsCredential")
        .withArgs(f.provider2.address);
      expect(await f.credential.apiCredited(f.api2.apiId)).to.equal(false);
    });

    it("the rule follows setMinApiAge for APIs already listed", async () => {
      await f.credential.connect(f.deployer).setMinApiAge(DAY);
      await networkHelpers.time.setNextBlockTimestamp(f.api1.createdAt + BigInt(DAY) - 1n);
      await expect(f.credential.connect(f.provider).claim(f.api1.apiId, GAS))
        .to.be.revertedWithCustomError(f.credential, "NotEligible")
        .withArgs(f.api1.apiId, f.provider.address);
      await networkHelpers.time.setNextBlockTimestamp(f.api1.createdAt + BigInt(DAY));
      await expect(f.credential.connect(f.provider).claim(f.api1.apiId, GAS)).not.to.revert(ethers);

      // Age 0: an API earns a credential as soon as it is listed (from the next block on).
      await f.credential.connect(f.deployer).setMinApiAge(0);
      await f.registry.connect(f.dev).register(apiInput(await f.usdc.getAddress()));
      const fresh = await f.registry.apiCount();
      await expect(f.credential.connect(f.dev).claim(fresh))
        .to.emit(f.credential, "CredentialIssued")
        .withArgs(f.dev.address, 2n, fresh);
    });
  });

  // -------------------------------------------------------------------- setMinApiAge

  describe("setMinApiAge (Protocol DAO)", () => {
    it("stores the age and emits MinApiAgeUpdated, up to exactly MAX_MIN_API_AGE", async () => {
      for (const age of [0n, 7n * BigInt(DAY), MAX_MIN_API_AGE]) {
        await expect(f.credential.connect(f.deployer).setMinApiAge(age))
          .to.emit(f.credential, "MinApiAgeUpdated")
          .withArgs(age);
        expect(await f.credential.minApiAge()).to.equal(age);
      }
    });

    it("reverts with MinApiAgeOutOfRange above the maximum; the age is kept", async () => {
      await expect(f.credential.connect(f.deployer).setMinApiAge(MAX_MIN_API_AGE + 1n))
        .to.be.revertedWithCustomError(f.credential, "MinApiAgeOutOfRange")
        .withArgs(MAX_MIN_API_AGE + 1n, MAX_MIN_API_AGE);
      expect(await f.credential.minApiAge()).to.equal(MIN_API_AGE);
    });

    it("reverts with AccessManagedUnauthorized for accounts without the PROTOCOL role", async () => {
      await expect(f.credential.connect(f.outsider).setMinApiAge(0))
        .to.be.revertedWithCustomError(f.credential, "AccessManagedUnauthorized")
        .withArgs(f.outsider.address);
    });
  });

  // -------------------------------------------------------------------- votes

  describe("votes (ERC-5805, timestamp clock)", () => {
    it("one credential is one vote: getVotes 1, getPastVotes 0 before the issue and 1 from it", async () => {
      const t0 = await nextTimestamp(100);
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await networkHelpers.mine();
      expect(await f.credential.getVotes(f.dev.address)).to.equal(1n);
      expect(await f.credential.getPastVotes(f.dev.address, t0 - 1n)).to.equal(0n);
      expect(await f.credential.getPastVotes(f.dev.address, t0)).to.equal(1n);
      expect(await f.credential.getPastTotalSupply(t0 - 1n)).to.equal(0n);
      expect(await f.credential.getPastTotalSupply(t0)).to.equal(1n);
    });

    it("getPastVotes of the present or the future reverts with ERC5805FutureLookup", async () => {
      const now = await f.credential.clock();
      await expect(f.credential.getPastVotes(f.dev.address, now + 1000n))
        .to.be.revertedWithCustomError(f.credential, "ERC5805FutureLookup")
        .withArgs(now + 1000n, now);
    });

    it("delegating moves the single vote; the total stays one", async () => {
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await expect(f.credential.connect(f.dev).delegate(f.dev2.address))
        .to.emit(f.credential, "DelegateChanged")
        .withArgs(f.dev.address, f.dev.address, f.dev2.address);
      expect(await f.credential.getVotes(f.dev.address)).to.equal(0n);
      expect(await f.credential.getVotes(f.dev2.address)).to.equal(1n);
      await networkHelpers.mine();
      expect(await f.credential.getPastTotalSupply((await f.credential.clock()) - 1n)).to.equal(1n);
    });

    it("transfers and safe transfers revert with CredentialNotTransferable, so nobody votes twice", async () => {
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await f.credential.connect(f.dev).setApprovalForAll(f.outsider.address, true);
      await f.credential.connect(f.dev).approve(f.outsider.address, 1n);
      for (const sender of [f.dev, f.outsider]) {
        const c = f.credential.connect(sender);
        for (const transfer of [
          c.transferFrom(f.dev.address, f.dev2.address, 1n),
          c["safeTransferFrom(address,address,uint256)"](f.dev.address, f.dev2.address, 1n),
          c["safeTransferFrom(address,address,uint256,bytes)"](f.dev.address, f.dev2.address, 1n, "0x1234"),
        ]) {
          await expect(transfer).to.be.revertedWithCustomError(f.credential, "CredentialNotTransferable");
        }
      }
      expect(await f.credential.ownerOf(1n)).to.equal(f.dev.address);
      expect(await f.credential.getVotes(f.dev.address)).to.equal(1n);
      expect(await f.credential.getVotes(f.dev2.address)).to.equal(0n);
      expect(await f.credential.hasCredential(f.dev2.address)).to.equal(false);
    });

    it("a holder cannot hand its credential to another holder either", async () => {
      await f.credential.connect(f.deployer).issue(f.dev.address);
      await f.credential.connect(f.deployer).issue(f.dev2.address);
      await expect(
        f.credential.connect(f.dev).transferFrom(f.dev.address, f.dev2.address, 1n),
      ).to.be.revertedWithCustomError(f.credential, "CredentialNotTransferable");
      expect(await f.credential.balanceOf(f.dev2.address)).to.equal(1n);
    });
  });
});
