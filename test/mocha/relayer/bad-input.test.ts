import { request } from "node:http";
import { expect } from "chai";
import { encodeBytes32String, id, keccak256, toUtf8Bytes, Wallet, ZeroAddress, type TypedDataDomain } from "ethers";
import { encodeVoucher } from "../../../sdk/client.js";
import { escrowDomain, signSignerAuthorization, signVoucher, type Voucher } from "../../../sdk/vouchers.js";
import { ERROR_CODES, type ErrorCode } from "../../../relayer/errors.js";
import type { Relayer } from "../../../relayer/relayer.js";
import { DEMO_PRICE, startTestNetwork, type TestNetwork } from "../helpers/relayer.js";

const MAX_BODY = 4096;
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: fetch would normalize the dot segments these tests send. */
function raw(
  base: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string; chunked?: boolean },
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? "GET",
        path: opts.path,
        headers: opts.headers ?? {},
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) {
      if (opts.chunked) {
        // Unknown length: the relayer must count bytes as they arrive.
        const data = Buffer.from(opts.body);
        for (let i = 0; i < data.length; i += 1024) req.write(data.subarray(i, i + 1024));
      } else {
        req.write(opts.body);
      }
    }
    req.end();
  });
}

describe("relayer refuses bad input with documented codes, untouched upstream", function () {
  this.timeout(120_000);
  let net: TestNetwork;
  let relayer: Relayer;
  let domain: TypedDataDomain;
  let cumulative = 0n;
  let pausedApi: bigint;
  let retiredApi: bigint;
  let limitedApi: bigint;
  const hotKey = new Wallet(id("bad-input hot key"));
  const stranger = new Wallet(id("bad-input stranger"));

  const base = (over: Partial<Voucher> = {}): Voucher => ({
    payer: net.seed.payer,
    node: net.seed.operator,
    apiId: net.seed.apiId,
    token: net.seed.stablecoin,
    cumulativeAmount: cumulative + DEMO_PRICE,
    ...over,
  });
  const signed = async (over: Partial<Voucher> = {}, key: Wallet | undefined = undefined, d = domain) => {
    const v = base(over);
    const signer = key ?? (net.accounts.payer as unknown as Wallet);
    return { v, sig: await signVoucher(signer, d, v) };
  };
  const header = async (over: Partial<Voucher> = {}, key?: Wallet, d?: TypedDataDomain) => {
    const { v, sig } = await signed(over, key, d);
    return encodeVoucher(v, sig);
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const fields = async (over: Record<string, unknown> = {}) => {
    const { v, sig } = await signed();
    return json({
      payer: v.payer,
      apiId: v.apiId.toString(),
      token: v.token,
      cumulativeAmount: v.cumulativeAmount.toString(),
      signature: sig,
      ...over,
    });
  };
  const withSig = async (mutate: (sig: string) => string) => {
    const { v, sig } = await signed();
    return encodeVoucher(v, mutate(sig));
  };
  const path = (apiId: bigint | string = net.seed.apiId) => `/${apiId}/v1/forecast?city=Porto`;

  before(async () => {
    net = await startTestNetwork();
    const { protocol, accounts, seed } = net;
    domain = escrowDomain(net.deployment.chainId, await protocol.escrow.getAddress());
    // Three more APIs: one paused, one retired, one with a strict rate limit (tier 7: 2 calls a minute, bursts of 2).
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const tx = await protocol.registry.connect(accounts.provider).register({
        metadataUri: `${net.demo.url}/openapi.json`,
        metadataHash: keccak256(toUtf8Bytes(`api ${i}`)),
        upstreamUrl: net.demo.url,
        category: encodeBytes32String("weather"),
        tags: [],
        pricing: {
          unit: 0,
          paymentToken: seed.stablecoin,
          models: 1,
          stakerDiscount: false,
          period: 0,
          pricePerCall: DEMO_PRICE,
          pricePerPeriod: 0,
        },
      });
      await tx.wait();
      ids.push(await protocol.registry.apiCount());
    }
    [pausedApi, retiredApi, limitedApi] = ids as [bigint, bigint, bigint];
    await (await protocol.registry.connect(accounts.provider).pause(pausedApi)).wait();
    await (await protocol.registry.connect(accounts.provider).retire(retiredApi)).wait();
    await (
      await protocol.rateLimits
        .connect(accounts.deployer)
        .setPolicy(7, { requestsPerWindow: 2, windowSeconds: 60, burst: 1 })
    ).wait();
    await (await protocol.rateLimits.connect(accounts.deployer).setApiTier(limitedApi, 7)).wait();
    // The payer funds the limited API's channel too, and authorizes then revokes a hot key.
    const payer = accounts.payer;
    const coin = (await import("../../../types/ethers-contracts/index.js")).DevStablecoin__factory.connect(
      seed.stablecoin,
      payer,
    );
    await (await coin.approve(await protocol.escrow.getAddress(), 10_000_000n)).wait();
    await (
      await protocol.escrow.connect(payer).deposit(seed.operator, limitedApi, seed.stablecoin, 10_000_000n)
    ).wait();
    const deadline = BigInt((await net.provider.getBlock("latest"))!.timestamp + 3600);
    const proof = await signSignerAuthorization(hotKey, domain, seed.payer, deadline);
    await (await protocol.escrow.connect(payer).authorizeSigner(hotKey.address, deadline, proof)).wait();
    await (await protocol.escrow.connect(payer).revokeSigner(hotKey.address)).wait();
    // Let the revocation take effect.
    await net.provider.send("evm_increaseTime", [Number(await protocol.escrow.thawPeriod()) + 1]);
    await net.provider.send("evm_mine", []);

    relayer = await net.startRelayer({
      MESHGATE_MAX_BODY_BYTES: String(MAX_BODY),
      MESHGATE_SETTLE_MAX_AGE_MS: "3600000",
    });
    // Two good calls so replay cases have vouchers to replay.
    for (let i = 0; i < 2; i++) {
      const ok = await raw(relayer.url, { path: `${path()}${i}`, headers: { "meshgate-voucher": await header() } });
      expect(ok.status, ok.body).to.equal(200);
      cumulative += DEMO_PRICE;
    }
  });
  after(async () => net?.stop());

  type Case = [name: string, expected: ErrorCode, request: () => Promise<Parameters<typeof raw>[1]>];
  const v = async (h: string | Promise<string>, p?: string) => ({
    path: p ?? path(),
    headers: { "meshgate-voucher": await h },
  });

  const cases: Case[] = [
    // Missing or malformed payment
    ["no payment header", "payment_required", async () => ({ path: path() })],
    ["empty voucher header", "bad_voucher", () => v("")],
    ["voucher not base64url", "bad_voucher", () => v("!!not*base64!!")],
    ["voucher base64 but not JSON", "bad_voucher", () => v(Buffer.from("hello").toString("base64url"))],
    ["voucher JSON is an array", "bad_voucher", () => v(json([1, 2]))],
    ["voucher without signature", "bad_voucher", () => v(fields({ signature: undefined }))],
    ["voucher with an unknown field", "bad_voucher", () => v(fields({ extra: 1 }))],
    ["negative cumulative amount", "bad_voucher", () => v(fields({ cumulativeAmount: "-1000" }))],
    ["hex cumulative amount", "bad_voucher", () => v(fields({ cumulativeAmount: "0x10" }))],
    ["cumulative amount above uint128", "bad_voucher", () => v(fields({ cumulativeAmount: (1n << 128n).toString() }))],
    ["payer not an address", "bad_voucher", () => v(fields({ payer: "0x1234" }))],
    ["signature too short", "bad_voucher", () => v(fields({ signature: "0x1234" }))],
    ["oversized voucher header", "bad_voucher", () => v("A".repeat(4000))],
    [
      "voucher and proof together",
      "bad_request",
      async () => ({ path: path(), headers: { "meshgate-voucher": await header(), "meshgate-proof": "e30" } }),
    ],
    ["malformed proof header", "bad_proof", async () => ({ path: path(), headers: { "meshgate-proof": "e30" } })],
    // Forged, other-chain, revoked
    ["forged: a stranger signs for the payer", "signer_not_authorized", () => v(header({}, stranger))],
    ["signature with v = 29", "invalid_signature", () => v(withSig((s) => s.slice(0, 130) + "1d"))],
    [
      "malleated high-s signature",
      "invalid_signature",
      () =>
        v(
          withSig((s) => {
            const sv = BigInt(`0x${s.slice(66, 130)}`);
            const flipped = (N - sv).toString(16).padStart(64, "0");
            expect(N - sv > HALF_ORDER).to.be.true;
            return `${s.slice(0, 66)}${flipped}${s.slice(130, 132) === "1b" ? "1c" : "1b"}`;
          }),
        ),
    ],
    [
      "tampered amount after signing",
      "signer_not_authorized",
      async () => {
        const { v: voucher, sig } = await signed();
        return v(encodeVoucher({ ...voucher, cumulativeAmount: voucher.cumulativeAmount + DEMO_PRICE }, sig));
      },
    ],
    [
      "voucher signed for another chain",
      "signer_not_authorized",
      () => v(header({}, undefined, { ...domain, chainId: 1n })),
    ],
    [
      "voucher signed for another escrow",
      "signer_not_authorized",
      () => v(header({}, undefined, { ...domain, verifyingContract: Wallet.createRandom().address })),
    ],
    [
      "voucher that names another node",
      "wrong_node",
      async () => {
        const other = Wallet.createRandom().address;
        const { v: voucher, sig } = await signed({ node: other });
        return v(encodeVoucher(voucher, sig));
      },
    ],
    [
      "voucher signed for another node (node omitted)",
      "signer_not_authorized",
      async () => {
        const { v: voucher, sig } = await signed({ node: Wallet.createRandom().address });
        return v(
          json({
            payer: voucher.payer,
            apiId: voucher.apiId.toString(),
            token: voucher.token,
            cumulativeAmount: voucher.cumulativeAmount.toString(),
            signature: sig,
          }),
        );
      },
    ],
    ["voucher signed by a revoked hot key", "signer_not_authorized", () => v(header({}, hotKey))],
    // Amounts and prices
    ["replayed voucher", "stale_voucher", () => v(header({ cumulativeAmount: cumulative }))],
    ["out-of-order lower voucher", "stale_voucher", () => v(header({ cumulativeAmount: cumulative - 1n }))],
    ["underpaid by one unit", "underpaid", () => v(header({ cumulativeAmount: cumulative + DEMO_PRICE - 1n }))],
    ["zero cumulative amount", "stale_voucher", () => v(header({ cumulativeAmount: 0n }))],
    ["over the channel balance", "insufficient_balance", () => v(header({ cumulativeAmount: 100_000_001n }))],
    ["voucher for another API than the path", "wrong_api", () => v(header({ apiId: limitedApi }))],
    ["token the API is not priced in", "token_not_accepted", () => v(header({ token: Wallet.createRandom().address }))],
    ["zero-address payer", "signer_not_authorized", () => v(header({ payer: ZeroAddress }))],
    // Routing
    ["unknown API", "unknown_api", () => v(header({ apiId: 999n }), path(999n))],
    ["paused API", "api_paused", () => v(header({ apiId: pausedApi }), path(pausedApi))],
    ["retired API", "api_gone", () => v(header({ apiId: retiredApi }), path(retiredApi))],
    ["dot-dot traversal", "bad_path", () => v(header(), `/${1}/../2/v1/forecast`)],
    ["encoded dot-dot traversal", "bad_path", () => v(header(), `/1/%2e%2e/admin`)],
    ["mixed-case encoded dots", "bad_path", () => v(header(), `/1/%2E./admin`)],
    ["encoded slash", "bad_path", () => v(header(), `/1/v1%2fforecast`)],
    ["backslash traversal", "bad_path", () => v(header(), `/1/..\\..\\etc`)],
    ["single-dot segment", "bad_path", () => v(header(), `/1/./v1/forecast`)],
    ["leading-zero API id", "bad_path", () => v(header(), `/01/v1/forecast`)],
    ["non-numeric API id", "bad_path", () => v(header(), `/weather/v1/forecast`)],
    ["absolute-form target", "bad_path", () => v(header(), `http://evil.example/1/v1`)],
    // Methods and bodies
    ["TRACE method", "method_not_allowed", async () => ({ ...(await v(header())), method: "TRACE" })],
    [
      "declared body over the limit",
      "body_too_large",
      async () => ({
        ...(await v(header())),
        method: "POST",
        body: Buffer.alloc(MAX_BODY + 1, 1),
      }),
    ],
    [
      "chunked body over the limit",
      "body_too_large",
      async () => ({
        ...(await v(header())),
        method: "POST",
        body: Buffer.alloc(MAX_BODY * 3, 1),
        chunked: true,
      }),
    ],
  ];

  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).to.be.at.least(30);
  });

  for (const [name, expected, build] of cases) {
    it(`${name} → ${ERROR_CODES[expected].status} ${expected}`, async () => {
      const upstreamBefore = net.demo.calls();
      const res = await raw(relayer.url, await build());
      expect(res.status, res.body).to.equal(ERROR_CODES[expected].status);
      const { error } = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(error.code).to.equal(expected);
      expect(error.message).to.equal(ERROR_CODES[expected].message);
      expect(net.demo.calls(), "the upstream saw a refused call").to.equal(upstreamBefore);
    });
  }

  it("rate limits a payer with 429 and Retry-After, from the on-chain tier policy", async () => {
    const upstreamBefore = net.demo.calls();
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 1n; i <= 3n; i++) {
      // Distinct targets: a cached answer would not reach the upstream.
      const res = await raw(
        relayer.url,
        await v(header({ apiId: limitedApi, cumulativeAmount: i * DEMO_PRICE }), `${path(limitedApi)}${i}`),
      );
      statuses.push(res.status);
      if (res.status === 429) {
        expect(JSON.parse(res.body).error.code).to.equal("rate_limited");
        retryAfter = res.headers["retry-after"];
      }
    }
    expect(statuses).to.deep.equal([200, 200, 429]);
    expect(Number(retryAfter)).to.be.within(1, 30);
    expect(net.demo.calls() - upstreamBefore).to.equal(2);
  });

  it("keeps serving: a valid call after all of the above succeeds and charges once", async () => {
    const res = await raw(relayer.url, await v(header()));
    expect(res.status, res.body).to.equal(200);
    expect(res.headers["meshgate-cumulative"]).to.equal((cumulative + DEMO_PRICE).toString());
    cumulative += DEMO_PRICE;
    const info = await (await fetch(`${relayer.url}/_meshgate/channels/${await channelOf()}`)).json();
    expect(info).to.deep.include({ cumulativeAmount: cumulative.toString() });
  });

  async function channelOf(): Promise<string> {
    const { channelId } = await import("../../../sdk/vouchers.js");
    return channelId(net.seed.payer, net.seed.operator, net.seed.apiId, net.seed.stablecoin);
  }
});
