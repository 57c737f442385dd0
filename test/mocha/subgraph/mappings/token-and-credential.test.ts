import { expect } from "chai";
import { parseEther, ZeroAddress, type ContractTransactionReceipt } from "ethers";
import { startIndexedChain, type IndexedChain } from "../../helpers/subgraph.js";
import {
  accounts,
  addressesOf,
  advance,
  apiInput,
  contractEntity,
  DAY,
  deployToken,
  entity,
  lower,
  protocolEntity,
  send,
  sendAll,
  timeOf,
} from "./chain.js";
import { expectOwnedHandlersTriggered, mappingTest } from "./handlers.js";

const TEST = mappingTest("token-and-credential");
const E = (n: number) => parseEther(String(n));

/**
 * MeshToken (the Protocol DAO's votes) and DeveloperCredential (the Developer DAO's): MESH moving
 * between holders, self-delegation, delegation to another holder, a re-delegation and transfers
 * that move delegated votes; credentials issued by the Protocol DAO role and earned with an API
 * old enough, one revoked, a delegation of a credential's vote, and a new minimum API age. No
 * governor is deployed: the DAOs exist as placeholders the votes sources created.
 */
describe("subgraph mappings: MeshToken and DeveloperCredential", function () {
  this.timeout(120_000);
  let chain: IndexedChain;
  let holders: string[];
  let devs: string[];
  const receipts: Record<string, ContractTransactionReceipt> = {};

  before(async () => {
    chain = await startIndexedChain();
    const { token, credential, registry } = chain.protocol;
    const deployer = chain.account(0);
    const [h1, h2, h3, d1, d2, provider] = accounts(chain, 1, 2, 3, 4, 5, 6);
    const [a0, a1, a2, a3] = await addressesOf(deployer, h1, h2, h3);
    holders = [a0, a1, a2, a3];
    devs = await addressesOf(d1, d2, provider);

    // MESH: transfers, then delegations that follow later transfers.
    await send(token.connect(deployer).transfer(a1, E(1000)));
    await send(token.connect(h1).transfer(a2, E(300)));
    await send(token.connect(h2).transfer(a3, E(100)));
    await sendAll(token.connect(h1).delegate(a1), token.connect(h2).delegate(a1));
    receipts.moveDelegated = await send(token.connect(h2).transfer(a3, E(50)));
    receipts.redelegate = await send(token.connect(h2).delegate(a3));

    // Credentials: two issued, one earned with a day-old API, one revoked, one vote delegated.
    await send(credential.connect(deployer).setMinApiAge(DAY));
    const usdc = await (await deployToken(deployer)).getAddress();
    receipts.issue1 = await send(credential.connect(deployer).issue(devs[0]!));
    receipts.issue2 = await send(credential.connect(deployer).issue(devs[1]!));
    await send(registry.connect(provider).register(apiInput(usdc)));
    await advance(chain, DAY);
    receipts.claim = await send(credential.connect(provider).claim(1n));
    receipts.revoke = await send(credential.connect(deployer).revoke(2n));
    await send(credential.connect(d1).delegate(devs[2]!));
    await chain.index();
  });

  after(async () => {
    await chain?.stop();
  });

  it("holds every MESH balance as MeshToken.balanceOf returns it", async () => {
    const { token } = chain.protocol;
    const { tokenHolders } = await chain.query<{ tokenHolders: { id: string; balance: string }[] }>(
      `{ tokenHolders(first: 1000, orderBy: id) { id balance } }`,
    );
    expect(tokenHolders.map((h) => h.id)).to.deep.equal(holders.map(lower).sort());
    for (const h of tokenHolders) expect(h.balance, h.id).to.equal((await token.balanceOf(h.id)).toString());
    expect(tokenHolders.reduce((acc, h) => acc + BigInt(h.balance), 0n)).to.equal(await token.totalSupply());
    expect(tokenHolders.find((h) => h.id === lower(holders[2]!))!.balance).to.equal(E(150).toString());
  });

  it("holds the Protocol DAO's votes and delegations as MeshToken's votes do", async () => {
    const { token } = chain.protocol;
    for (const holder of holders) {
      const to = await token.delegates(holder);
      const delegate = await entity<{ votes: string; delegatorCount: number }>(
        chain,
        "Delegate",
        `Protocol-${lower(holder)}`,
        "votes delegatorCount",
      );
      const delegation = await entity(
        chain,
        "Delegation",
        `Protocol-${lower(holder)}`,
        "delegator delegate { address }",
      );
      if (to === ZeroAddress) {
        expect(delegation, holder).to.equal(null);
      } else {
        expect(delegation, holder).to.deep.equal({ delegator: lower(holder), delegate: { address: lower(to) } });
      }
      if (delegate !== null) expect(delegate.votes, holder).to.equal((await token.getVotes(holder)).toString());
    }
    const [, a1, a2, a3] = holders.map(lower);
    expect(await entity(chain, "Delegate", `Protocol-${a1}`, "votes delegatorCount")).to.deep.equal({
      votes: E(700).toString(),
      delegatorCount: 1,
    });
    expect(await entity(chain, "Delegate", `Protocol-${a3}`, "votes delegatorCount dao { id }")).to.deep.equal({
      votes: E(150).toString(),
      delegatorCount: 1,
      dao: { id: "Protocol" },
    });
    // Before the re-delegation, A1 had A2's votes too (and A2's transfer had moved 50 of them).
    expect(
      await entity(chain, "Delegate", `Protocol-${a1}`, "votes delegatorCount", receipts.moveDelegated!.blockNumber),
    ).to.deep.equal({ votes: E(850).toString(), delegatorCount: 2 });
    expect(
      await entity(chain, "Delegation", `Protocol-${a2}`, "delegate { address }", receipts.moveDelegated!.blockNumber),
    ).to.deep.equal({ delegate: { address: a1 } });
    // No governor exists on this chain: the votes source created the DAO with zero settings.
    expect(await entity(chain, "Dao", "Protocol", "governor votingPeriod proposalCount")).to.deep.equal({
      governor: ZeroAddress,
      votingPeriod: "0",
      proposalCount: 0,
    });
  });

  it("holds every credential: holder, the API it was earned with, issue and revocation", async () => {
    const { credential } = chain.protocol;
    const fields = "tokenId holder api { apiId } issuedAt revoked revokedAt";
    expect(await entity(chain, "Credential", "1", fields)).to.deep.equal({
      tokenId: "1",
      holder: lower(devs[0]!),
      api: null,
      issuedAt: (await timeOf(chain, receipts.issue1!)).toString(),
      revoked: false,
      revokedAt: null,
    });
    expect(await entity(chain, "Credential", "2", fields)).to.deep.equal({
      tokenId: "2",
      holder: lower(devs[1]!),
      api: null,
      issuedAt: (await timeOf(chain, receipts.issue2!)).toString(),
      revoked: true,
      revokedAt: (await timeOf(chain, receipts.revoke!)).toString(),
    });
    expect(await entity(chain, "Credential", "3", fields)).to.deep.equal({
      tokenId: "3",
      holder: lower(devs[2]!),
      api: { apiId: "1" },
      issuedAt: (await timeOf(chain, receipts.claim!)).toString(),
      revoked: false,
      revokedAt: null,
    });
    expect(await credential.ownerOf(1n)).to.equal(devs[0]);
    expect(await credential.ownerOf(3n)).to.equal(devs[2]);
    expect(await credential.hasCredential(devs[1]!)).to.equal(false);
    expect(await credential.issued()).to.equal(3n);
    expect(await protocolEntity(chain, "credentialCount credentialMinApiAge")).to.deep.equal({
      credentialCount: 2,
      credentialMinApiAge: (await credential.minApiAge()).toString(),
    });
    expect(await protocolEntity(chain, "credentialCount", receipts.issue2!.blockNumber)).to.deep.equal({
      credentialCount: 2,
    });
  });

  it("holds the Developer DAO's votes and delegations as DeveloperCredential's votes do", async () => {
    const { credential } = chain.protocol;
    for (const dev of devs) {
      expect(await entity(chain, "Delegate", `Developer-${lower(dev)}`, "votes"), dev).to.deep.equal({
        votes: (await credential.getVotes(dev)).toString(),
      });
      expect(await entity(chain, "Delegation", `Developer-${lower(dev)}`, "delegate { address }"), dev).to.deep.equal({
        delegate: { address: lower(await credential.delegates(dev)) },
      });
    }
    expect(await entity(chain, "Delegate", `Developer-${lower(devs[2]!)}`, "votes delegatorCount")).to.deep.equal({
      votes: "2",
      delegatorCount: 2,
    });
    expect(await entity(chain, "Delegate", `Developer-${lower(devs[0]!)}`, "votes delegatorCount")).to.deep.equal({
      votes: "0",
      delegatorCount: 0,
    });
  });

  it("keeps DeveloperCredential's authority in its Contract entity", async () => {
    const { credential, accessManager } = chain.protocol;
    expect(await contractEntity(chain, "DeveloperCredential")).to.deep.equal({
      address: lower(await credential.getAddress()),
      paused: false,
      treasury: null,
      authority: lower(await accessManager.getAddress()),
    });
  });

  it("triggered every MeshToken and DeveloperCredential handler", async () => {
    await expectOwnedHandlersTriggered(chain, TEST);
  });
});
