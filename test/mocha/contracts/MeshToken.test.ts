import { expect } from "chai";
import {
  Signature,
  type Interface,
  TypedDataEncoder,
  ZeroAddress,
  id,
  parseEther,
  verifyTypedData,
  type ContractTransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { MeshToken__factory, type MeshToken } from "../../../types/ethers-contracts/index.js";
import { deployFixture, ethers, networkHelpers, type Fixture } from "../helpers/fixture.js";

// ------------------------------------------------------------------ local helpers

const TOTAL_SUPPLY = parseEther("1000000000");
/** What the fixture hands out of the treasury (100,000 MESH to each of two operators). */
const OPERATOR_GRANTS = 2n * parseEther("100000");

const PERMIT_TYPES: Record<string, TypedDataField[]> = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

const DELEGATION_TYPES: Record<string, TypedDataField[]> = {
  Delegation: [
    { name: "delegatee", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

async function domainOf(token: MeshToken, chainId?: bigint): Promise<TypedDataDomain> {
  return {
    name: "Meshgate",
    version: "1",
    chainId: chainId ?? (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await token.getAddress(),
  };
}

interface PermitValue {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

async function signPermit(signer: HardhatEthersSigner, domain: TypedDataDomain, value: PermitValue) {
  return Signature.from(await signer.signTypedData(domain, PERMIT_TYPES, value));
}

async function submitPermit(f: Fixture, p: PermitValue, sig: Signature): Promise<ContractTransactionResponse> {
  // A relayer (the outsider) submits: permits are gasless for the owner.
  return f.token.connect(f.outsider).permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s);
}

async function minedAt(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction dropped");
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error("block not found");
  return block.timestamp;
}

async function fund(f: Fixture, to: HardhatEthersSigner, amount: bigint): Promise<void> {
  await (await f.token.connect(f.deployer).transfer(to.address, amount)).wait();
}

// ------------------------------------------------------------------ tests

describe("MeshToken", () => {
  describe("ERC-20 metadata and fixed supply", () => {
    it("is Meshgate (MESH) with 18 decimals", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      expect(await f.token.name()).to.equal("Meshgate");
      expect(await f.token.symbol()).to.equal("MESH");
      expect(await f.token.decimals()).to.equal(18n);
    });

    it("mints the whole one-billion supply to the treasury at deployment", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      expect(await f.token.TOTAL_SUPPLY()).to.equal(TOTAL_SUPPLY);
      expect(await f.token.totalSupply()).to.equal(TOTAL_SUPPLY);
      // The fixture's treasury is the deployer; it has paid out only the operators' grants.
      expect(f.deployment.treasury).to.equal(f.deployer.address);
      expect(await f.token.balanceOf(f.deployer.address)).to.equal(TOTAL_SUPPLY - OPERATOR_GRANTS);
      expect(await f.token.balanceOf(f.operator.address)).to.equal(OPERATOR_GRANTS / 2n);
      expect(await f.token.balanceOf(f.operator2.address)).to.equal(OPERATOR_GRANTS / 2n);
    });

    it("a fresh deployment mints everything to initialHolder in one Transfer from address(0)", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const token = await new MeshToken__factory(f.deployer).deploy(f.outsider.address);
      await expect(token.deploymentTransaction())
        .to.emit(token, "Transfer")
        .withArgs(ZeroAddress, f.outsider.address, TOTAL_SUPPLY);
      expect(await token.balanceOf(f.outsider.address)).to.equal(TOTAL_SUPPLY);
      expect(await token.balanceOf(f.deployer.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(TOTAL_SUPPLY);
    });

    it("has no mint (or burn) function: not in the ABI, and a raw mint call reverts", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const names: string[] = [];
      f.token.interface.forEachFunction((fn) => names.push(fn.name));
      expect(names).to.include("transfer"); // sanity: the list is real
      expect(names.filter((n) => /mint|burn/i.test(n))).to.deep.equal([]);
      const iface: Interface = f.token.interface;
      expect(iface.getFunction("mint(address,uint256)")).to.equal(null);
      expect(iface.getFunction("mint")).to.equal(null);

      const selector = id("mint(address,uint256)").slice(0, 10);
      const data =
        selector + ethers.AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [f.deployer.address, 1n]).slice(2);
      await expect(f.deployer.sendTransaction({ to: await f.token.getAddress(), data })).to.revert(ethers);
      expect(await f.token.totalSupply()).to.equal(TOTAL_SUPPLY);
    });

    it("transfers move balances and keep the total supply", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const amount = parseEther("12.5");
      await expect(f.token.connect(f.operator).transfer(f.provider.address, amount)).to.changeTokenBalances(
        ethers,
        f.token,
        [f.operator, f.provider],
        [-amount, amount],
      );
      expect(await f.token.totalSupply()).to.equal(TOTAL_SUPPLY);
    });
  });

  describe("permit (EIP-2612)", () => {
    it("exposes the EIP-712 domain: name Meshgate, version 1, this chain, this contract", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const domain = await domainOf(f.token);
      const d = await f.token.eip712Domain();
      expect(d.name).to.equal("Meshgate");
      expect(d.version).to.equal("1");
      expect(d.chainId).to.equal(domain.chainId);
      expect(d.verifyingContract).to.equal(await f.token.getAddress());
      expect(await f.token.DOMAIN_SEPARATOR()).to.equal(TypedDataEncoder.hashDomain(domain));
    });

    it("a signed permit sets the allowance, emits Approval and bumps the nonce", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const owner = f.operator;
      const value = parseEther("250");
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const p: PermitValue = { owner: owner.address, spender: f.provider.address, value, nonce: 0n, deadline };
      expect(await f.token.nonces(owner.address)).to.equal(0n);
      const sig = await signPermit(owner, await domainOf(f.token), p);

      await expect(submitPermit(f, p, sig))
        .to.emit(f.token, "Approval")
        .withArgs(owner.address, f.provider.address, value);
      expect(await f.token.allowance(owner.address, f.provider.address)).to.equal(value);
      expect(await f.token.nonces(owner.address)).to.equal(1n);

      // The spender can now pull the tokens.
      await expect(
        f.token.connect(f.provider).transferFrom(owner.address, f.provider.address, value),
      ).to.changeTokenBalances(ethers, f.token, [owner, f.provider], [-value, value]);
    });

    it("a permit cannot be replayed (ERC2612InvalidSigner)", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const owner = f.operator;
      const domain = await domainOf(f.token);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const p: PermitValue = { owner: owner.address, spender: f.provider.address, value: 1n, nonce: 0n, deadline };
      const sig = await signPermit(owner, domain, p);
      await (await submitPermit(f, p, sig)).wait();

      // The contract now hashes nonce 1, so the signature recovers to some other address.
      const recovered = verifyTypedData(domain, PERMIT_TYPES, { ...p, nonce: 1n }, sig);
      expect(recovered).to.not.equal(owner.address);
      await expect(submitPermit(f, p, sig))
        .to.be.revertedWithCustomError(f.token, "ERC2612InvalidSigner")
        .withArgs(recovered, owner.address);
      expect(await f.token.nonces(owner.address)).to.equal(1n);
    });

    it("a permit signed for another chainId or another contract reverts with ERC2612InvalidSigner", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const owner = f.operator;
      const domain = await domainOf(f.token);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const p: PermitValue = { owner: owner.address, spender: f.provider.address, value: 100n, nonce: 0n, deadline };
      const wrongDomains: TypedDataDomain[] = [
        { ...domain, chainId: BigInt(domain.chainId ?? 0) + 1n },
        { ...domain, chainId: 1n },
        { ...domain, verifyingContract: await f.registry.getAddress() },
        { ...domain, version: "2" },
      ];
      for (const wrong of wrongDomains) {
        const sig = await signPermit(owner, wrong, p);
        const recovered = verifyTypedData(domain, PERMIT_TYPES, p, sig);
        await expect(submitPermit(f, p, sig))
          .to.be.revertedWithCustomError(f.token, "ERC2612InvalidSigner")
          .withArgs(recovered, owner.address);
      }
      expect(await f.token.allowance(owner.address, f.provider.address)).to.equal(0n);
      expect(await f.token.nonces(owner.address)).to.equal(0n);
    });

    it("a permit signed by someone other than the owner reverts with ERC2612InvalidSigner", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const p: PermitValue = {
        owner: f.operator.address,
        spender: f.provider.address,
        value: 100n,
        nonce: 0n,
        deadline,
      };
      const sig = await signPermit(f.operator2, await domainOf(f.token), p);
      await expect(submitPermit(f, p, sig))
        .to.be.revertedWithCustomError(f.token, "ERC2612InvalidSigner")
        .withArgs(f.operator2.address, f.operator.address);
    });

    it("a permit past its deadline reverts with ERC2612ExpiredSignature; at the deadline it passes", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const owner = f.operator;
      const domain = await domainOf(f.token);
      const now = BigInt(await networkHelpers.time.latest());

      const expired: PermitValue = {
        owner: owner.address,
        spender: f.provider.address,
        value: 5n,
        nonce: 0n,
        deadline: now,
      };
      const sig = await signPermit(owner, domain, expired);
      await expect(submitPermit(f, expired, sig))
        .to.be.revertedWithCustomError(f.token, "ERC2612ExpiredSignature")
        .withArgs(now);
      expect(await f.token.nonces(owner.address)).to.equal(0n);

      const deadline = BigInt(await networkHelpers.time.latest()) + 100n;
      const onTime: PermitValue = { ...expired, deadline };
      const sig2 = await signPermit(owner, domain, onTime);
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await expect(submitPermit(f, onTime, sig2))
        .to.emit(f.token, "Approval")
        .withArgs(owner.address, f.provider.address, 5n);
    });
  });

  describe("votes (ERC-5805 on a timestamp clock)", () => {
    it("uses the block timestamp as clock (ERC-6372)", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      expect(await f.token.CLOCK_MODE()).to.equal("mode=timestamp");
      await networkHelpers.time.increase(12345);
      const latest = await networkHelpers.time.latest();
      const clock = Number(await f.token.clock({ blockTag: "latest" }));
      expect(clock).to.equal(latest);
      // The clock is far above the block number: it really is time, not blocks.
      expect(clock).to.be.greaterThan((await ethers.provider.getBlockNumber()) + 12345);
    });

    it("balances carry no votes until delegated", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      expect(await f.token.balanceOf(f.operator.address)).to.be.greaterThan(0n);
      expect(await f.token.getVotes(f.operator.address)).to.equal(0n);
      expect(await f.token.delegates(f.operator.address)).to.equal(ZeroAddress);
      expect(await f.token.getVotes(f.deployer.address)).to.equal(0n);
    });

    it("self-delegation turns the balance into votes", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const bal = await f.token.balanceOf(f.operator.address);
      const tx = f.token.connect(f.operator).delegate(f.operator.address);
      await expect(tx)
        .to.emit(f.token, "DelegateChanged")
        .withArgs(f.operator.address, ZeroAddress, f.operator.address);
      await expect(tx).to.emit(f.token, "DelegateVotesChanged").withArgs(f.operator.address, 0n, bal);
      expect(await f.token.delegates(f.operator.address)).to.equal(f.operator.address);
      expect(await f.token.getVotes(f.operator.address)).to.equal(bal);
    });

    it("delegating to another account and re-delegating moves the votes", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const bal = await f.token.balanceOf(f.operator.address);
      await f.token.connect(f.operator).delegate(f.provider.address);
      expect(await f.token.getVotes(f.provider.address)).to.equal(bal);
      expect(await f.token.getVotes(f.operator.address)).to.equal(0n);

      const tx = f.token.connect(f.operator).delegate(f.provider2.address);
      await expect(tx)
        .to.emit(f.token, "DelegateChanged")
        .withArgs(f.operator.address, f.provider.address, f.provider2.address);
      await expect(tx).to.emit(f.token, "DelegateVotesChanged").withArgs(f.provider.address, bal, 0n);
      await expect(tx).to.emit(f.token, "DelegateVotesChanged").withArgs(f.provider2.address, 0n, bal);
      expect(await f.token.getVotes(f.provider.address)).to.equal(0n);
      expect(await f.token.getVotes(f.provider2.address)).to.equal(bal);
    });

    it("transfers move votes between the holders' delegates", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await f.token.connect(f.operator).delegate(f.operator.address);
      await f.token.connect(f.provider).delegate(f.outsider.address);
      const bal = await f.token.balanceOf(f.operator.address);
      const amount = parseEther("40");
      await f.token.connect(f.operator).transfer(f.provider.address, amount);
      expect(await f.token.getVotes(f.operator.address)).to.equal(bal - amount);
      expect(await f.token.getVotes(f.outsider.address)).to.equal(amount);
      expect(await f.token.getVotes(f.provider.address)).to.equal(0n);
    });

    it("getPastVotes reads a past timestamp: tokens moved after the snapshot do not count at it", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      await fund(f, f.provider, parseEther("1000"));
      await f.token.connect(f.provider2).delegate(f.provider2.address); // holds nothing yet
      const t1 = await minedAt(f.token.connect(f.provider).delegate(f.provider.address));

      await networkHelpers.time.increase(100);
      const t2 = await minedAt(f.token.connect(f.provider).transfer(f.provider2.address, parseEther("400")));
      expect(t2).to.be.greaterThan(t1 + 100 - 1);
      await networkHelpers.time.increase(10); // t2 must be in the past to be queried

      // At the snapshot t1 (and up to just before t2), the later transfer does not count.
      expect(await f.token.getPastVotes(f.provider.address, t1)).to.equal(parseEther("1000"));
      expect(await f.token.getPastVotes(f.provider.address, t2 - 1)).to.equal(parseEther("1000"));
      expect(await f.token.getPastVotes(f.provider2.address, t1)).to.equal(0n);
      expect(await f.token.getPastVotes(f.provider2.address, t2 - 1)).to.equal(0n);
      // Before the delegation there were no votes at all.
      expect(await f.token.getPastVotes(f.provider.address, t1 - 1)).to.equal(0n);
      // From t2 on, the transfer counts.
      expect(await f.token.getPastVotes(f.provider.address, t2)).to.equal(parseEther("600"));
      expect(await f.token.getPastVotes(f.provider2.address, t2)).to.equal(parseEther("400"));
      expect(await f.token.getVotes(f.provider.address)).to.equal(parseEther("600"));
      expect(await f.token.getVotes(f.provider2.address)).to.equal(parseEther("400"));
      expect(await f.token.getPastTotalSupply(t1)).to.equal(TOTAL_SUPPLY);
    });

    it("getPastVotes and getPastTotalSupply refuse the present and the future (ERC5805FutureLookup)", async () => {
      const f = await networkHelpers.loadFixture(deployFixture);
      const future = (await networkHelpers.time.latest()) + 1000;
      const clock = await f.token.clock();
      await expect(f.token.getPastVotes(f.operator.address, future))
        .to.be.revertedWithCustomError(f.token, "ERC5805FutureLookup")
        .withArgs(future, clock);
      await expect(f.token.getPastTotalSupply(future))
        .to.be.revertedWithCustomError(f.token, "ERC5805FutureLookup")
        .withArgs(future, clock);
      await expect(f.token.getPastVotes(f.operator.address, clock)).to.be.revertedWithCustomError(
        f.token,
        "ERC5805FutureLookup",
      );
    });

    describe("delegateBySig", () => {
      async function signDelegation(
        f: Fixture,
        signer: HardhatEthersSigner,
        value: { delegatee: string; nonce: bigint; expiry: bigint },
      ) {
        return Signature.from(await signer.signTypedData(await domainOf(f.token), DELEGATION_TYPES, value));
      }

      it("delegates on behalf of the signer, submitted by anyone, and bumps the nonce", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const bal = await f.token.balanceOf(f.operator.address);
        const expiry = BigInt(await networkHelpers.time.latest()) + 3600n;
        const v = { delegatee: f.provider.address, nonce: 0n, expiry };
        const sig = await signDelegation(f, f.operator, v);
        const tx = f.token.connect(f.outsider).delegateBySig(v.delegatee, v.nonce, v.expiry, sig.v, sig.r, sig.s);
        await expect(tx)
          .to.emit(f.token, "DelegateChanged")
          .withArgs(f.operator.address, ZeroAddress, f.provider.address);
        await expect(tx).to.emit(f.token, "DelegateVotesChanged").withArgs(f.provider.address, 0n, bal);
        expect(await f.token.delegates(f.operator.address)).to.equal(f.provider.address);
        expect(await f.token.delegates(f.outsider.address)).to.equal(ZeroAddress);
        expect(await f.token.getVotes(f.provider.address)).to.equal(bal);
        expect(await f.token.nonces(f.operator.address)).to.equal(1n);
      });

      it("cannot be replayed (InvalidAccountNonce)", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const expiry = BigInt(await networkHelpers.time.latest()) + 3600n;
        const v = { delegatee: f.provider.address, nonce: 0n, expiry };
        const sig = await signDelegation(f, f.operator, v);
        await f.token.connect(f.outsider).delegateBySig(v.delegatee, v.nonce, v.expiry, sig.v, sig.r, sig.s);
        await expect(f.token.connect(f.outsider).delegateBySig(v.delegatee, v.nonce, v.expiry, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(f.token, "InvalidAccountNonce")
          .withArgs(f.operator.address, 1n);
      });

      it("shares the nonce with permit", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
        const p: PermitValue = {
          owner: f.operator.address,
          spender: f.provider.address,
          value: 1n,
          nonce: 0n,
          deadline,
        };
        const delegation = { delegatee: f.provider.address, nonce: 0n, expiry: deadline };
        const dsig = await signDelegation(f, f.operator, delegation);
        await submitPermit(f, p, await signPermit(f.operator, await domainOf(f.token), p));
        await expect(
          f.token.connect(f.outsider).delegateBySig(f.provider.address, 0n, deadline, dsig.v, dsig.r, dsig.s),
        )
          .to.be.revertedWithCustomError(f.token, "InvalidAccountNonce")
          .withArgs(f.operator.address, 1n);
      });

      it("reverts with VotesExpiredSignature after the expiry", async () => {
        const f = await networkHelpers.loadFixture(deployFixture);
        const expiry = BigInt(await networkHelpers.time.latest());
        const v = { delegatee: f.provider.address, nonce: 0n, expiry };
        const sig = await signDelegation(f, f.operator, v);
        await expect(f.token.connect(f.outsider).delegateBySig(v.delegatee, v.nonce, v.expiry, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(f.token, "VotesExpiredSignature")
          .withArgs(expiry);
        expect(await f.token.delegates(f.operator.address)).to.equal(ZeroAddress);
      });
    });
  });
});
