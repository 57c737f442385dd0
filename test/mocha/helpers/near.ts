import { expect } from "chai";

/**
 * Asserts |actual - expected| <= tolerance for plain numbers. Chai's closeTo cannot be used in
 * this suite: hardhat's chai matchers replace it with a bigint version that rejects fractional
 * tolerances once any test file has loaded them.
 */
export function expectNear(actual: number, expected: number, tolerance: number, what?: string): void {
  expect(
    Math.abs(actual - expected),
    `${what ?? "value"} ${actual} not within ${tolerance} of ${expected}`,
  ).to.be.at.most(tolerance);
}
