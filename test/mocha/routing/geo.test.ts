import { expect } from "chai";
import { expectedRttMs, SAME_REGION_RTT_MS, UNKNOWN_RTT_MS } from "../../../sdk/routing/index.js";

const CODES = ["us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-northeast", "sa-east", "af-south"];

describe("routing geo prior", () => {
  it("gives the documented classes: same region, same continent, across continents", () => {
    expect(expectedRttMs("eu-west", "eu-west")).to.equal(SAME_REGION_RTT_MS).and.equal(2);
    expect(expectedRttMs("eu-west", "eu-central")).to.equal(20);
    expect(expectedRttMs("us-east", "us-west")).to.equal(40);
    expect(expectedRttMs("ap-south", "ap-northeast")).to.equal(40);
    expect(expectedRttMs("us-east", "eu-west")).to.equal(80);
    expect(expectedRttMs("eu-central", "af-south")).to.equal(100);
    expect(expectedRttMs("eu-west", "ap-northeast")).to.equal(130);
    expect(expectedRttMs("sa-east", "ap-south")).to.equal(150);
  });

  it("is symmetric and bounded for every pair of known codes", () => {
    for (const a of CODES)
      for (const b of CODES) {
        expect(expectedRttMs(a, b)).to.equal(expectedRttMs(b, a));
        expect(expectedRttMs(a, b)).to.be.within(2, 150);
        if (a !== b) expect(expectedRttMs(a, b)).to.be.above(SAME_REGION_RTT_MS);
      }
  });

  it("ignores case and zone numbers; unknown or empty codes get the conservative default", () => {
    expect(expectedRttMs("EU-West-1", "eu-west")).to.equal(2);
    expect(expectedRttMs("us-east-1", "eu-west-2")).to.equal(80);
    expect(expectedRttMs("eu-west", "mars-north")).to.equal(UNKNOWN_RTT_MS).and.equal(150);
    expect(expectedRttMs("", "eu-west")).to.equal(UNKNOWN_RTT_MS);
    // The same (even unknown) code on both sides is still the same region.
    expect(expectedRttMs("mars-north", "mars-north")).to.equal(2);
  });
});
