import { expect } from "chai";
import { JsonRpcProvider, toUtf8Bytes } from "ethers";
import { Redis } from "ioredis";
import { ChainAccessGroups } from "../../../relayer/chain/access-groups.js";
import { encodeProofHeader, parseProofHeader, ZkAuthenticator, type ZkCall } from "../../../relayer/auth/zk-auth.js";
import { GatewayError, type ErrorCode } from "../../../relayer/errors.js";
import { NullifierStore, readLimitEvidence } from "../../../relayer/store/nullifier-store.js";
import { SNARK_FIELD } from "../../../sdk/zk/field.js";
import { requestHash } from "../../../sdk/zk/request.js";
import { recoverSecret } from "../../../sdk/zk/shares.js";
import { publicSignalValues, type AccessProof } from "../../../sdk/zk/signals.js";
import type { AccessProofVerifier } from "../../../sdk/zk/verifier.js";
import {
  accessFixture,
  EPOCH_LENGTH,
  groupSettings,
  joinWithNewIdentity,
  LIMIT,
  proveAccess,
  rejection,
  ROOT_WINDOW,
  zk,
} from "../helpers/access.js";
import { ethers, networkHelpers } from "../helpers/fixture.js";
import { startRedis, type RedisServer } from "../../../scripts/dev/redis-server.js";
import { freePort } from "../helpers/processes.js";

const PREFIX = "mg";
const GRACE_MS = 5_000;
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** accessFixture plus two members, alice (members[0]) and bob (members[1]). */
async function zkAuthFixture() {
  const f = await accessFixture();
  const alice = await joinWithNewIdentity(f, f.apiId, f.members[0]!);
  await joinWithNewIdentity(f, f.apiId, f.members[1]!);
  return { ...f, alice };
}

type ZkAuthFixture = Awaited<ReturnType<typeof zkAuthFixture>>;

const header = (p: AccessProof): string => encodeProofHeader(p.proof, publicSignalValues(p.signals));
const b64 = (json: unknown): string => Buffer.from(JSON.stringify(json), "utf8").toString("base64url");

/** Expects `p` to reject with GatewayError `code`. */
async function refused(p: Promise<unknown>, code: ErrorCode, label: string = code): Promise<void> {
  const err = await rejection(p);
  expect(err, `${label}: ${err.message}`).to.be.instanceOf(GatewayError);
  expect((err as GatewayError).code, `${label}: ${err.message}`).to.equal(code);
}

describe("relayer: ZkAuthenticator", function () {
  this.timeout(60_000);
  let f: ZkAuthFixture;
  let redis: RedisServer;
  /** Two clients: two relayer processes of one node. */
  let clientA: Redis;
  let clientB: Redis;
  let chainId: bigint;
  /** Two requests, and one proof of each with alice's message index 0 in one epoch. */
  let callA: ZkCall;
  let callB: ZkCall;
  let proofA: AccessProof;
  let proofB: AccessProof;
  /** The relayer's clock (ms): 10 s into the proofs' epoch unless a test moves it. */
  let clock: number;
  let epochStartMs: number;
  let verifyCalls: number;

  /** A relayer process: its own group cache, a store on `client`, the shared clock; verify calls counted. */
  async function authenticator(
    opts: { client?: Redis; node?: string; chainId?: bigint; groups?: ChainAccessGroups } = {},
  ): Promise<ZkAuthenticator> {
    const { verifier } = await zk();
    const counting = Object.create(verifier) as AccessProofVerifier;
    counting.verify = (p) => {
      verifyCalls++;
      return verifier.verify(p);
    };
    return new ZkAuthenticator({
      verifier: counting,
      groups: opts.groups ?? new ChainAccessGroups(f.accessGroups),
      nullifiers: new NullifierStore(opts.client ?? clientA, PREFIX),
      chainId: opts.chainId ?? chainId,
      node: opts.node ?? f.operator.address,
      now: () => clock,
    });
  }

  const proofFor = (call: ZkCall) =>
    proveAccess(f, f.alice, { x: requestHash({ chainId, node: f.operator.address, ...call }), messageIndex: 0n });

  before(async () => {
    redis = await startRedis();
    clientA = new Redis(redis.url);
    clientB = new Redis(redis.url);
    f = await networkHelpers.loadFixture(zkAuthFixture);
    chainId = (await ethers.provider.getNetwork()).chainId;
    const target = `/${f.apiId}/v1/forecast?city=Lisbon`;
    callA = { apiId: f.apiId, method: "POST", target, body: toUtf8Bytes('{"days":3}') };
    callB = { ...callA, body: toUtf8Bytes('{"days":4}') };
    proofA = await proofFor(callA);
    proofB = await proofFor(callB);
    // Both proofs must share an epoch (and so a nullifier): a boundary between them is rare, retry once.
    if (proofB.signals.epoch !== proofA.signals.epoch) proofA = await proofFor(callA);
    expect(proofB.signals.nullifier).to.equal(proofA.signals.nullifier);
    epochStartMs = Number(proofA.signals.epoch) * EPOCH_LENGTH * 1000;
  });

  after(async () => {
    await Promise.all([clientA?.quit(), clientB?.quit()]);
    await redis?.stop();
  });

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(zkAuthFixture);
    await clientA.flushall();
    clock = epochStartMs + 10_000;
    verifyCalls = 0;
  });

  it("accepts a valid proof: returns its nullifier and epoch, keeps the nullifier a few epochs", async () => {
    const auth = await authenticator();
    expect(await auth.authorize(callA, header(proofA))).to.deep.equal({
      nullifier: proofA.signals.nullifier,
      epoch: proofA.signals.epoch,
    });
    const { apiId, epoch, nullifier } = proofA.signals;
    const ttl = await clientA.pttl(`${PREFIX}:zk:nf:${apiId}:${epoch}:${nullifier}`);
    expect(ttl).to.be.within(3 * EPOCH_LENGTH * 1000, 3 * EPOCH_LENGTH * 1000 + GRACE_MS);
    expect(verifyCalls).to.equal(1);
  });

  it("chain_unavailable / store_unavailable (503) when the chain or Redis cannot be read; nothing is consumed", async () => {
    const closed = await freePort();
    const deadChain = new JsonRpcProvider(`http://127.0.0.1:${closed}`, undefined, { staticNetwork: true });
    const noChain = await authenticator({ groups: new ChainAccessGroups(f.accessGroups.connect(deadChain)) });
    const chainError = (await rejection(noChain.authorize(callA, header(proofA)))) as GatewayError;
    deadChain.destroy();
    expect([chainError.code, chainError.status]).to.deep.equal(["chain_unavailable", 503]);

    const deadRedis = new Redis(`redis://127.0.0.1:${closed}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const noStore = await authenticator({ client: deadRedis });
    const storeError = (await rejection(noStore.authorize(callA, header(proofA)))) as GatewayError;
    deadRedis.disconnect();
    expect([storeError.code, storeError.status]).to.deep.equal(["store_unavailable", 503]);
    // The proof was not consumed: it is still accepted once Redis is back.
    expect((await (await authenticator()).authorize(callA, header(proofA))).nullifier).to.equal(
      proofA.signals.nullifier,
    );
  });

  it("parses snarkjs's own proof JSON (projective points, protocol, curve) like the encoder's", () => {
    const raw = b64({ proof: proofA.proof, publicSignals: publicSignalValues(proofA.signals).map(String) });
    expect(proofA.proof.pi_a).to.have.length(3);
    expect(parseProofHeader(raw)).to.deep.equal(parseProofHeader(header(proofA)));
    expect(parseProofHeader(header(proofA)).signals).to.deep.equal(proofA.signals);
  });

  it("refuses a replay with proof_replayed", async () => {
    const auth = await authenticator();
    await auth.authorize(callA, header(proofA));
    await refused(auth.authorize(callA, header(proofA)), "proof_replayed");
    expect(await readLimitEvidence(clientA, PREFIX)).to.deep.equal([]);
  });

  it("one message index for two requests: zk_limit_exceeded; the evidence reveals the secret", async () => {
    const auth = await authenticator();
    await auth.authorize(callA, header(proofA));
    await refused(auth.authorize(callB, header(proofB)), "zk_limit_exceeded");
    // Repeating the overuse neither adds evidence nor turns into a success.
    await refused(auth.authorize(callB, header(proofB)), "zk_limit_exceeded");
    await refused(auth.authorize(callA, header(proofA)), "proof_replayed");

    const evidence = await readLimitEvidence(clientA, PREFIX);
    expect(evidence).to.have.length(1);
    const [e] = evidence as [(typeof evidence)[number]];
    expect(e.apiId).to.equal(f.apiId);
    expect(e.epoch).to.equal(proofA.signals.epoch);
    expect(e.nullifier).to.equal(proofA.signals.nullifier);
    expect(e.shares).to.deep.equal([
      { x: proofA.signals.x, y: proofA.signals.y },
      { x: proofB.signals.x, y: proofB.signals.y },
    ]);
    const [a, b] = e.shares.map((s) => ({ ...s, nullifier: e.nullifier })) as [
      { x: bigint; y: bigint; nullifier: bigint },
      { x: bigint; y: bigint; nullifier: bigint },
    ];
    expect(recoverSecret(a, b)).to.equal(f.alice.secret);
  });

  it("two relayer processes on separate Redis clients share the nullifiers", async () => {
    const [first, second] = [await authenticator({ client: clientA }), await authenticator({ client: clientB })];
    // Racing on one proof: exactly one wins.
    const raced = await Promise.allSettled([
      first.authorize(callA, header(proofA)),
      second.authorize(callA, header(proofA)),
    ]);
    expect(raced.filter((r) => r.status === "fulfilled")).to.have.length(1);
    const loser = raced.find((r) => r.status === "rejected");
    expect((loser?.reason as GatewayError).code).to.equal("proof_replayed");

    await refused(second.authorize(callB, header(proofB)), "zk_limit_exceeded");
    expect(await readLimitEvidence(clientA, PREFIX)).to.have.length(1);
  });

  it("wrong_scope: another API, a stale or future epoch, another message limit (before verifying)", async () => {
    const auth = await authenticator();
    await refused(auth.authorize({ ...callA, apiId: f.apiId + 1n }, header(proofA)), "wrong_scope", "api");
    const nextEpochMs = epochStartMs + EPOCH_LENGTH * 1000;
    for (const [label, at] of [
      ["future epoch", epochStartMs - 1],
      ["previous epoch after the grace", nextEpochMs + GRACE_MS],
      ["two epochs on", nextEpochMs + EPOCH_LENGTH * 1000 + 1_000],
    ] as const) {
      clock = at;
      await refused(auth.authorize(callA, header(proofA)), "wrong_scope", label);
    }
    await f.accessGroups.connect(f.provider).updateGroup(f.apiId, groupSettings({ userMessageLimit: LIMIT + 1 }));
    clock = epochStartMs + 10_000;
    await refused((await authenticator()).authorize(callA, header(proofA)), "wrong_scope", "limit");
    expect(verifyCalls).to.equal(0);
  });

  it("accepts the previous epoch within the grace after the boundary", async () => {
    clock = epochStartMs + EPOCH_LENGTH * 1000 + GRACE_MS - 1;
    await (await authenticator()).authorize(callA, header(proofA));
  });

  it("wrong_request: another body, target, method, node or chain (before verifying)", async () => {
    const auth = await authenticator();
    const calls: [string, ZkCall][] = [
      ["body", { ...callA, body: toUtf8Bytes('{"days":30}') }],
      ["empty body", { ...callA, body: new Uint8Array() }],
      ["query", { ...callA, target: `/${f.apiId}/v1/forecast?city=Porto` }],
      ["path without the api prefix", { ...callA, target: "/v1/forecast?city=Lisbon" }],
      ["not origin-form", { ...callA, target: `http://node.example/${f.apiId}/v1/forecast?city=Lisbon` }],
      ["method", { ...callA, method: "PUT" }],
    ];
    for (const [label, call] of calls) await refused(auth.authorize(call, header(proofA)), "wrong_request", label);
    const otherNode = await authenticator({ node: f.operator2.address });
    await refused(otherNode.authorize(callA, header(proofA)), "wrong_request", "node");
    const otherChain = await authenticator({ chainId: chainId + 1n });
    await refused(otherChain.authorize(callA, header(proofA)), "wrong_request", "chain");
    expect(verifyCalls).to.equal(0);
    // The method's case is not part of the request.
    await auth.authorize({ ...callA, method: "post" }, header(proofA));
  });

  it("unknown_root: a root the group never had, an API without a group, a replaced root past its window", async () => {
    const auth = await authenticator();
    const otherRoot = { ...proofA, signals: { ...proofA.signals, root: proofA.signals.root + 1n } };
    await refused(auth.authorize(callA, header(otherRoot)), "unknown_root", "never a root");
    const noGroup = { ...proofA, signals: { ...proofA.signals, apiId: 999n } };
    await refused(auth.authorize({ ...callA, apiId: 999n }, header(noGroup)), "unknown_root", "no group");
    expect(verifyCalls).to.equal(0);

    // Another member joins: the proof's root is replaced but stays valid for the group's window.
    await joinWithNewIdentity(f, f.apiId, f.members[2]!);
    expect(await f.accessGroups.rootOf(f.apiId)).to.not.equal(proofA.signals.root);
    await auth.authorize(callA, header(proofA));
    await clientA.flushall();
    await networkHelpers.time.increase(ROOT_WINDOW);
    await refused((await authenticator()).authorize(callA, header(proofA)), "unknown_root", "expired");
  });

  it("invalid_proof: corrupted points and tampered shares; a refused proof consumes nothing", async () => {
    const auth = await authenticator();
    const [ax, ay] = proofA.proof.pi_a as [string, string];
    const tampered: [string, AccessProof][] = [
      ["pi_c = pi_a", { ...proofA, proof: { ...proofA.proof, pi_c: proofA.proof.pi_a } }],
      ["pi_a off the curve", { ...proofA, proof: { ...proofA.proof, pi_a: [ax, String(BigInt(ay) + 1n)] } }],
      ["pi_b swapped", { ...proofA, proof: { ...proofA.proof, pi_b: proofA.proof.pi_b.map((c) => [...c].reverse()) } }],
      ["y", { ...proofA, signals: { ...proofA.signals, y: proofA.signals.y + 1n } }],
      ["nullifier", { ...proofA, signals: { ...proofA.signals, nullifier: proofA.signals.nullifier + 1n } }],
    ];
    for (const [label, p] of tampered) await refused(auth.authorize(callA, header(p)), "invalid_proof", label);
    expect(verifyCalls).to.equal(tampered.length);
    expect(await clientA.dbsize()).to.equal(0);
    await auth.authorize(callA, header(proofA));
  });

  it("bad_proof: malformed headers", async () => {
    const auth = await authenticator();
    const signals = publicSignalValues(proofA.signals).map(String);
    const { pi_a, pi_b, pi_c } = proofA.proof;
    const proof = { pi_a: pi_a.slice(0, 2), pi_b: pi_b.slice(0, 2), pi_c: pi_c.slice(0, 2) };
    const good = header(proofA);
    const withSignal = (i: number, v: unknown) =>
      b64({ proof, publicSignals: signals.map((s, j) => (j === i ? v : s)) });
    const withProof = (p: Record<string, unknown>) => b64({ proof: { ...proof, ...p }, publicSignals: signals });
    const variants: [string, string][] = [
      ["empty", ""],
      ["not base64url", "!!!"],
      ["standard base64 alphabet", `${good.slice(0, -1)}+`],
      ["leading space", ` ${good}`],
      ["too long", "A".repeat(4097)],
      ["not JSON", Buffer.from("proof please").toString("base64url")],
      ["JSON array", b64([proof, signals])],
      ["no publicSignals", b64({ proof })],
      ["no proof", b64({ publicSignals: signals })],
      ["extra key", b64({ proof, publicSignals: signals, nullifier: "1" })],
      ["extra proof key", withProof({ pi_d: pi_a })],
      ["other protocol", withProof({ protocol: "plonk" })],
      ["4 signals", b64({ proof, publicSignals: signals.slice(0, 4) })],
      ["6 signals", b64({ proof, publicSignals: [...signals, "0"] })],
      ["signal = r", withSignal(0, SNARK_FIELD.toString())],
      ["signal of 78 digits", withSignal(0, "1".repeat(78))],
      ["leading zero", withSignal(1, `0${signals[1]}`)],
      ["negative", withSignal(2, "-1")],
      ["hex", withSignal(4, "0x1")],
      ["number", withSignal(4, 1)],
      ["empty string", withSignal(4, "")],
      ["coordinate = p", withProof({ pi_a: [BASE_FIELD.toString(), pi_a[1]] })],
      ["G1 with z = 2", withProof({ pi_a: [pi_a[0], pi_a[1], "2"] })],
      ["G1 of 4 coordinates", withProof({ pi_a: [...pi_a, "1"] })],
      ["G1 of 1 coordinate", withProof({ pi_a: [pi_a[0]] })],
      ["G2 with z = (1, 1)", withProof({ pi_b: [...proof.pi_b, ["1", "1"]] })],
      ["G2 coordinate not a pair", withProof({ pi_b: [pi_b[0], pi_b[1]?.[0]] })],
    ];
    for (const [label, value] of variants) await refused(auth.authorize(callA, value), "bad_proof", label);
    expect(verifyCalls).to.equal(0);
    await auth.authorize(callA, good);
  });
});
