/** The BN254 scalar field the access circuit works in. */
export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export function isFieldElement(v: bigint): boolean {
  return v >= 0n && v < SNARK_FIELD;
}

/** v mod r, in [0, r). */
export function mod(v: bigint): bigint {
  const m = v % SNARK_FIELD;
  return m < 0n ? m + SNARK_FIELD : m;
}

/** The multiplicative inverse of a non-zero field element (extended Euclid). */
export function inverse(v: bigint): bigint {
  let [a, b] = [mod(v), SNARK_FIELD];
  if (a === 0n) throw new RangeError("0 has no inverse");
  let [x0, x1] = [1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b] = [b, a - q * b];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return mod(x0);
}
