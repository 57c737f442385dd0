import { expect } from "chai";
import { type HeaderMap } from "../../../relayer/http/compression.js";
import { BodyCapture, ResponseCache, cacheKey, cachePolicy } from "../../../relayer/http/response-cache.js";

const NOW = Date.parse("Tue, 15 Nov 2033 08:12:31 GMT");
const HTTP_NOW = new Date(NOW).toUTCString();
const API = 1n;

function policyFor(
  responseHeaders: HeaderMap,
  options: { status?: number; method?: string; requestHeaders?: HeaderMap } = {},
): number | undefined {
  return cachePolicy(
    { method: options.method ?? "GET", headers: options.requestHeaders ?? {} },
    { status: options.status ?? 200, headers: responseHeaders },
    NOW,
  )?.ttlMs;
}

function response(headers: HeaderMap, body = "hello") {
  return { status: 200, headers: { "content-type": "application/json", ...headers }, body: Buffer.from(body) };
}

describe("relayer response cache", function () {
  describe("cachePolicy", function () {
    const inAMinute = new Date(NOW + 60_000).toUTCString();
    const cases: {
      name: string;
      headers: HeaderMap;
      ttlMs: number | undefined;
      status?: number;
      method?: string;
      requestHeaders?: HeaderMap;
    }[] = [
      { name: "max-age", headers: { "cache-control": "max-age=60" }, ttlMs: 60_000 },
      { name: "public, max-age", headers: { "cache-control": "public, max-age=5" }, ttlMs: 5_000 },
      { name: "s-maxage wins over max-age", headers: { "cache-control": "max-age=60, s-maxage=10" }, ttlMs: 10_000 },
      {
        name: "s-maxage=0 wins over max-age",
        headers: { "cache-control": "s-maxage=0, max-age=60" },
        ttlMs: undefined,
      },
      { name: "directive names are case-insensitive", headers: { "cache-control": "Max-Age=60" }, ttlMs: 60_000 },
      { name: "quoted max-age is accepted", headers: { "cache-control": 'max-age="60"' }, ttlMs: 60_000 },
      { name: "repeated cache-control lines", headers: { "cache-control": ["public", "max-age=7"] }, ttlMs: 7_000 },
      { name: "Age is subtracted", headers: { "cache-control": "max-age=60", age: "15" }, ttlMs: 45_000 },
      { name: "Age beyond lifetime", headers: { "cache-control": "max-age=60", age: "60" }, ttlMs: undefined },
      { name: "malformed Age is ignored", headers: { "cache-control": "max-age=60", age: "soon" }, ttlMs: 60_000 },
      { name: "max-age=0", headers: { "cache-control": "max-age=0" }, ttlMs: undefined },
      { name: "negative max-age", headers: { "cache-control": "max-age=-1" }, ttlMs: undefined },
      { name: "fractional max-age", headers: { "cache-control": "max-age=1.5" }, ttlMs: undefined },
      { name: "conflicting max-age", headers: { "cache-control": "max-age=60, max-age=600" }, ttlMs: undefined },
      { name: "repeated equal max-age", headers: { "cache-control": "max-age=60, max-age=60" }, ttlMs: 60_000 },
      { name: "huge max-age is capped", headers: { "cache-control": "max-age=99999999999" }, ttlMs: 2 ** 31 * 1000 },
      { name: "no-store", headers: { "cache-control": "max-age=60, no-store" }, ttlMs: undefined },
      { name: "private", headers: { "cache-control": "private, max-age=60" }, ttlMs: undefined },
      { name: "qualified private", headers: { "cache-control": 'private="x-user", max-age=60' }, ttlMs: undefined },
      { name: "no-cache", headers: { "cache-control": "no-cache, max-age=60" }, ttlMs: undefined },
      {
        name: "quoted commas do not split directives",
        headers: { "cache-control": 'no-cache="a, max-age=600", max-age=60' },
        ttlMs: undefined,
      },
      { name: "no explicit freshness (no heuristics)", headers: { "last-modified": HTTP_NOW }, ttlMs: undefined },
      { name: "Expires minus Date", headers: { expires: inAMinute, date: HTTP_NOW }, ttlMs: 60_000 },
      { name: "Expires without Date uses now", headers: { expires: inAMinute }, ttlMs: 60_000 },
      { name: "Expires in the past", headers: { expires: HTTP_NOW, date: inAMinute }, ttlMs: undefined },
      { name: "Expires: 0 is expired", headers: { expires: "0" }, ttlMs: undefined },
      { name: "Expires not an IMF-fixdate", headers: { expires: "99999" }, ttlMs: undefined },
      {
        name: "max-age overrides Expires",
        headers: { "cache-control": "max-age=5", expires: inAMinute },
        ttlMs: 5_000,
      },
      { name: "Expires and Age", headers: { expires: inAMinute, date: HTTP_NOW, age: "20" }, ttlMs: 40_000 },
      { name: "Set-Cookie", headers: { "cache-control": "max-age=60", "set-cookie": ["a=b"] }, ttlMs: undefined },
      { name: "Vary: *", headers: { "cache-control": "max-age=60", vary: "Accept, *" }, ttlMs: undefined },
      { name: "Vary: Accept", headers: { "cache-control": "max-age=60", vary: "Accept" }, ttlMs: 60_000 },
      { name: "status 404", headers: { "cache-control": "max-age=60" }, status: 404, ttlMs: 60_000 },
      { name: "status 301", headers: { "cache-control": "max-age=60" }, status: 301, ttlMs: 60_000 },
      { name: "status 206", headers: { "cache-control": "max-age=60" }, status: 206, ttlMs: undefined },
      { name: "status 302", headers: { "cache-control": "max-age=60" }, status: 302, ttlMs: undefined },
      { name: "status 500", headers: { "cache-control": "max-age=60" }, status: 500, ttlMs: undefined },
      { name: "POST", headers: { "cache-control": "max-age=60" }, method: "POST", ttlMs: undefined },
      { name: "HEAD", headers: { "cache-control": "max-age=60" }, method: "HEAD", ttlMs: undefined },
      {
        name: "request no-store",
        headers: { "cache-control": "max-age=60" },
        requestHeaders: { "cache-control": "no-store" },
        ttlMs: undefined,
      },
      {
        name: "Authorization, plain max-age",
        headers: { "cache-control": "max-age=60" },
        requestHeaders: { authorization: "Bearer x" },
        ttlMs: undefined,
      },
      {
        name: "Authorization, public",
        headers: { "cache-control": "public, max-age=60" },
        requestHeaders: { authorization: "Bearer x" },
        ttlMs: 60_000,
      },
      {
        name: "Authorization, s-maxage",
        headers: { "cache-control": "s-maxage=30" },
        requestHeaders: { authorization: "Bearer x" },
        ttlMs: 30_000,
      },
      {
        name: "Authorization, must-revalidate",
        headers: { "cache-control": "must-revalidate, max-age=60" },
        requestHeaders: { authorization: "Bearer x" },
        ttlMs: 60_000,
      },
    ];
    for (const c of cases) {
      it(c.name, function () {
        expect(policyFor(c.headers, c)).to.equal(c.ttlMs);
      });
    }
  });

  describe("cacheKey", function () {
    it("keeps APIs, targets and queries apart", function () {
      const keys = [
        cacheKey(1n, "GET", "1/a", []),
        cacheKey(11n, "GET", "/a", []),
        cacheKey(1n, "GET", "/a", []),
        cacheKey(1n, "GET", "/a?x=1&y=2", []),
        cacheKey(1n, "GET", "/a?y=2&x=1", []),
        cacheKey(1n, "GET", "/a?x=1%26y=2", []),
        cacheKey(1n, "GET", "/a?", []),
        cacheKey(1n, "GET", "/A", []),
        cacheKey(1n, "HEAD", "/a", []),
        cacheKey(1n, "GET", '/a","b', []),
        cacheKey(1n, "GET", "/a", [["accept", null]]),
        cacheKey(1n, "GET", "/a", [["accept", ""]]),
        cacheKey(1n, "GET", "/a", [["accept", "null"]]),
      ];
      expect(new Set(keys).size).to.equal(keys.length);
    });

    it("does not serve one API's or target's entry for another", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      cache.store(1n, "1/a", {}, response({}, "one"), { ttlMs: 60_000 }, NOW);
      expect(cache.lookup(11n, "GET", "/a", {}, NOW)).to.be.undefined;
      expect(cache.lookup(1n, "GET", "1/a?", {}, NOW)).to.be.undefined;
      expect(cache.lookup(1n, "GET", "1/A", {}, NOW)).to.be.undefined;
      expect(cache.lookup(1n, "GET", "1/a", {}, NOW)?.entry.body.toString()).to.equal("one");
    });
  });

  describe("ResponseCache", function () {
    it("serves a stored response to GET and HEAD, with filtered headers", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      const stored = cache.store(
        API,
        "/r?q=1",
        {},
        response({
          etag: '"v1"',
          "cache-control": "max-age=60",
          connection: "keep-alive, x-hop",
          "x-hop": "1",
          "keep-alive": "timeout=5",
          "transfer-encoding": "chunked",
          "content-length": "5",
          age: "3",
        }),
        { ttlMs: 57_000 },
        NOW,
      );
      expect(stored).to.be.true;
      const hit = cache.lookup(API, "GET", "/r?q=1", {}, NOW + 10_500);
      expect(hit?.entry.status).to.equal(200);
      expect(hit?.entry.body.toString()).to.equal("hello");
      expect(hit?.age).to.equal(13);
      expect(hit?.entry.headers).to.deep.equal({
        "content-type": "application/json",
        etag: '"v1"',
        "cache-control": "max-age=60",
      });
      expect(cache.lookup(API, "HEAD", "/r?q=1", {}, NOW)).to.not.be.undefined;
      expect(cache.lookup(API, "POST", "/r?q=1", {}, NOW)).to.be.undefined;
      expect(cache.stats).to.include({ hits: 2, misses: 0, stores: 1, entries: 1 });
    });

    it("drops entries once stale", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      cache.store(API, "/s", {}, response({}), { ttlMs: 60_000 }, NOW);
      expect(cache.lookup(API, "GET", "/s", {}, NOW + 59_999)?.age).to.equal(59);
      expect(cache.lookup(API, "GET", "/s", {}, NOW + 60_000)).to.be.undefined;
      expect(cache.stats).to.include({ hits: 1, misses: 1, entries: 0 });
    });

    it("honours request no-cache and max-age", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      cache.store(API, "/c", {}, response({}), { ttlMs: 60_000 }, NOW);
      expect(cache.lookup(API, "GET", "/c", { "cache-control": "no-cache" }, NOW)).to.be.undefined;
      expect(cache.lookup(API, "GET", "/c", { "cache-control": "max-age=10" }, NOW + 11_000)).to.be.undefined;
      expect(cache.lookup(API, "GET", "/c", { "cache-control": "max-age=10" }, NOW + 9_000)).to.not.be.undefined;
      expect(cache.stats.entries).to.equal(1);
    });

    it("evicts the least recently used entries beyond maxBytes", function () {
      const cache = new ResponseCache({ maxBytes: 4_500, maxEntryBytes: 4_500 });
      const body = "x".repeat(1_000);
      for (const target of ["/1", "/2", "/3"]) {
        expect(cache.store(API, target, {}, response({}, body), { ttlMs: 60_000 }, NOW)).to.be.true;
      }
      expect(cache.stats).to.include({ entries: 3, evictions: 0 });
      expect(cache.stats.bytes).to.be.at.most(4_500);
      cache.lookup(API, "GET", "/1", {}, NOW); // "/2" is now the least recently used
      cache.store(API, "/4", {}, response({}, body), { ttlMs: 60_000 }, NOW);
      expect(cache.stats).to.include({ entries: 3, evictions: 1 });
      expect(cache.stats.bytes).to.be.at.most(4_500);
      expect(cache.lookup(API, "GET", "/2", {}, NOW)).to.be.undefined;
      for (const target of ["/1", "/3", "/4"]) expect(cache.lookup(API, "GET", target, {}, NOW)).to.not.be.undefined;
    });

    it("refuses entries larger than maxEntryBytes", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 2_000 });
      expect(cache.store(API, "/big", {}, response({}, "x".repeat(2_000)), { ttlMs: 60_000 }, NOW)).to.be.false;
      expect(cache.lookup(API, "GET", "/big", {}, NOW)).to.be.undefined;
      expect(cache.stats).to.include({ stores: 0, entries: 0, bytes: 0 });
    });

    it("rejects inconsistent limits", function () {
      expect(() => new ResponseCache({ maxBytes: 1_000, maxEntryBytes: 2_000 })).to.throw(RangeError);
      expect(() => new ResponseCache({ maxBytes: 0, maxEntryBytes: 0 })).to.throw(RangeError);
    });

    it("keys Vary variants on the request's values", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      const vary = { vary: "Accept, X-Region" };
      cache.store(API, "/v", { accept: "text/csv" }, response(vary, "csv"), { ttlMs: 60_000 }, NOW);
      cache.store(API, "/v", { accept: "application/json" }, response(vary, "json"), { ttlMs: 60_000 }, NOW);
      const body = (headers: HeaderMap) => cache.lookup(API, "GET", "/v", headers, NOW)?.entry.body.toString();
      expect(body({ accept: "text/csv" })).to.equal("csv");
      expect(body({ accept: "application/json" })).to.equal("json");
      expect(body({ accept: "text/plain" })).to.be.undefined;
      expect(body({})).to.be.undefined;
      expect(body({ accept: "text/csv", "x-region": "eu" })).to.be.undefined;
      // An absent header and an empty one are different values.
      cache.store(API, "/v", {}, response(vary, "none"), { ttlMs: 60_000 }, NOW);
      expect(body({})).to.equal("none");
      expect(body({ accept: "" })).to.be.undefined;
      expect(cache.stats.entries).to.equal(3);
    });

    it("replaces all variants when the Vary names change", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      cache.store(API, "/w", { accept: "a" }, response({ vary: "accept" }, "a"), { ttlMs: 60_000 }, NOW);
      cache.store(API, "/w", { accept: "b" }, response({ vary: "accept" }, "b"), { ttlMs: 60_000 }, NOW);
      cache.store(API, "/w", { accept: "a" }, response({}, "plain"), { ttlMs: 60_000 }, NOW);
      expect(cache.stats.entries).to.equal(1);
      expect(cache.lookup(API, "GET", "/w", { accept: "b" }, NOW)?.entry.body.toString()).to.equal("plain");
    });

    it("invalidates every variant of a target", function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
      cache.store(API, "/i", { accept: "a" }, response({ vary: "accept" }), { ttlMs: 60_000 }, NOW);
      cache.store(API, "/i", { accept: "b" }, response({ vary: "accept" }), { ttlMs: 60_000 }, NOW);
      cache.store(API, "/j", {}, response({}), { ttlMs: 60_000 }, NOW);
      cache.invalidate(API, "/i");
      expect(cache.lookup(API, "GET", "/i", { accept: "a" }, NOW)).to.be.undefined;
      expect(cache.lookup(API, "GET", "/j", {}, NOW)).to.not.be.undefined;
      expect(cache.stats).to.include({ entries: 1, evictions: 0 });
    });

    it("compresses a cached body once per coding and counts it in the entry's size", async function () {
      const cache = new ResponseCache({ maxBytes: 100_000, maxEntryBytes: 50_000 });
      cache.store(API, "/z", {}, response({}, '{"k":"v"}'.repeat(1_000)), { ttlMs: 60_000 }, NOW);
      const before = cache.stats.bytes;
      const hit = cache.lookup(API, "GET", "/z", {}, NOW);
      if (hit === undefined) throw new Error("expected a hit");
      const br = await cache.encodedBody(hit, "br");
      expect(await cache.encodedBody(hit, "br")).to.equal(br);
      const gzip = await cache.encodedBody(hit, "gzip");
      expect(gzip).to.not.equal(br);
      expect(cache.stats.bytes).to.equal(before + br.length + gzip.length);
      // A later hit on the same entry reuses the memo.
      const again = cache.lookup(API, "GET", "/z", {}, NOW);
      if (again === undefined) throw new Error("expected a hit");
      expect(await cache.encodedBody(again, "gzip")).to.equal(gzip);
      expect(cache.stats.entries).to.equal(1);
    });
  });

  describe("BodyCapture", function () {
    it("collects chunks up to the limit", function () {
      const capture = new BodyCapture(6);
      capture.push(Buffer.from("abc"));
      capture.push(Buffer.from("def"));
      expect(capture.result()?.toString()).to.equal("abcdef");
    });

    it("gives up once the limit is exceeded", function () {
      const capture = new BodyCapture(5);
      capture.push(Buffer.from("abc"));
      capture.push(Buffer.from("def"));
      capture.push(Buffer.from("g"));
      expect(capture.result()).to.be.undefined;
    });

    it("captures an empty body", function () {
      expect(new BodyCapture(0).result()?.length).to.equal(0);
    });
  });
});
