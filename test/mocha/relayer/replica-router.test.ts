import { expect } from "chai";
import { MAX_UPSTREAM_REPLICAS, parseUpstreams, type ApiEntry } from "../../../relayer/chain/api-catalog.js";
import { ReplicaRouter } from "../../../relayer/http/replica-router.js";

const NODE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const ON = { enabled: true, rolloutBps: 10_000 };
const OFF = { enabled: false, rolloutBps: 0 };

function api(id: bigint, ...urls: string[]): ApiEntry {
  return {
    id,
    provider: NODE,
    status: 1,
    upstreams: urls.map((u) => new URL(u)),
    paymentToken: NODE,
    priceUnit: 0,
    models: 1,
    tier: 0,
    policy: { requestsPerWindow: 600, windowSeconds: 60, burst: 100 },
  };
}

describe("parseUpstreams (the registry's upstream field)", function () {
  it("reads one URL as before, and several separated by whitespace, once each", function () {
    expect(parseUpstreams("https://api.example.com/v1")!.map(String)).to.deep.equal(["https://api.example.com/v1"]);
    expect(
      parseUpstreams("  http://a.example/x \n\thttps://b.example:8443/y http://a.example/x ")!.map(String),
    ).to.deep.equal(["http://a.example/x", "https://b.example:8443/y"]);
  });

  it("refuses the whole field when any part is not an absolute http(s) URL, or there are too many", function () {
    for (const bad of [
      "",
      "   ",
      "api.example.com",
      "https://a.example ftp://b.example",
      "https://a.example /relative",
      "javascript:alert(1)",
    ])
      expect(parseUpstreams(bad), bad).to.equal(undefined);
    const many = Array.from({ length: MAX_UPSTREAM_REPLICAS + 1 }, (_, i) => `https://r${i}.example`);
    expect(parseUpstreams(many.slice(0, -1).join(" "))).to.have.length(MAX_UPSTREAM_REPLICAS);
    expect(parseUpstreams(many.join(" "))).to.equal(undefined);
  });
});

describe("ReplicaRouter", function () {
  let clock = 0;
  const now = () => clock;

  it("sends every call of a single-upstream API to it, and nowhere once it failed", function () {
    const router = new ReplicaRouter({ node: NODE, flag: ON, now, seed: 1 });
    const single = api(1n, "http://only.example/");
    for (let i = 0; i < 5; i++) expect(router.pick(single)!.url.href).to.equal("http://only.example/");
    expect(router.pick(single, new Set(["http://only.example/"]))).to.equal(undefined);
  });

  it("round-robins while the routing.peak-ewma flag does not cover the node", function () {
    const router = new ReplicaRouter({ node: NODE, flag: OFF, now, seed: 1 });
    expect(router.policyName).to.equal("round-robin");
    const two = api(2n, "http://a.example/", "http://b.example/");
    const picked = Array.from({ length: 6 }, () => {
      const lease = router.pick(two)!;
      lease.end(true);
      return lease.url.host;
    });
    expect(picked).to.deep.equal(["a.example", "b.example", "a.example", "b.example", "a.example", "b.example"]);
  });

  it("learns the faster replica under the flag, and starts afresh when the flag or the replica list changes", function () {
    const router = new ReplicaRouter({ node: NODE, flag: ON, now, seed: 7 });
    expect(router.policyName).to.equal("peak-ewma");
    const two = api(3n, "http://fast.example/", "http://slow.example/");
    const serve = (entry: ApiEntry, calls: number) => {
      const counts = new Map<string, number>();
      for (let i = 0; i < calls; i++) {
        const lease = router.pick(entry)!;
        clock += lease.url.host.startsWith("fast") ? 5 : 80;
        lease.end(true);
        counts.set(lease.url.host, (counts.get(lease.url.host) ?? 0) + 1);
      }
      return counts;
    };
    const learned = serve(two, 50);
    expect(learned.get("fast.example")).to.be.at.least(47);

    router.setFlag(OFF);
    expect(router.policyName).to.equal("round-robin");
    expect(serve(two, 4).get("slow.example")).to.equal(2);
    // A provider adding a replica: the new list gets a new policy, which reaches the new replica at once.
    const three = api(3n, "http://fast.example/", "http://slow.example/", "http://third.example/");
    expect(serve(three, 3).get("third.example")).to.equal(1);
  });

  it("skips replicas that already failed the call, and counts a failure against a replica", function () {
    const router = new ReplicaRouter({ node: NODE, flag: ON, now, seed: 3 });
    const two = api(4n, "http://up.example/", "http://down.example/");
    const failedDown = new Set(["http://down.example/"]);
    for (let i = 0; i < 5; i++) expect(router.pick(two, failedDown)!.url.host).to.equal("up.example");
    expect(router.pick(two, new Set(["http://down.example/", "http://up.example/"]))).to.equal(undefined);
    // Five consecutive failures eject a replica: the healthy one gets the calls.
    for (let i = 0; i < 6; i++) {
      const lease = router.pick(two)!;
      clock += 1;
      lease.end(lease.url.host === "up.example");
    }
    const after = Array.from({ length: 10 }, () => {
      const lease = router.pick(two)!;
      clock += 1;
      lease.end(lease.url.host === "up.example");
      return lease.url.host;
    });
    expect(after.filter((h) => h === "up.example").length).to.be.at.least(9);
  });
});
