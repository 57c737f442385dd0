/**
 * graph-node's BigDecimal (graph/src/data/store/scalar/bigdecimal.rs over bigdecimal 0.1): every
 * value is normalized to at most 34 significant digits with trailing zeros stripped, and printed
 * without exponent notation. Values are `digits * 10^exp`, the layout of graph-ts' BigDecimal.
 *
 * Rounding to 34 digits uses bigdecimal 0.1's idiosyncratic `with_prec`; rather than guess at it,
 * a value that would need rounding is a deterministic error here. Division (which always rounds)
 * is therefore not offered by the host at all.
 */
export interface Decimal {
  readonly digits: bigint;
  readonly exp: bigint;
}

const MAX_SIGNIFICANT_DIGITS = 34;
const MIN_EXP = -6143n;
const MAX_EXP = 6144n;
const ZERO: Decimal = { digits: 0n, exp: 0n };
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function normalizeDecimal(value: Decimal): Decimal {
  if (value.digits === 0n) return ZERO;
  let { digits, exp } = value;
  while (digits % 10n === 0n) {
    digits /= 10n;
    exp += 1n;
  }
  const magnitude = digits < 0n ? -digits : digits;
  if (magnitude.toString().length > MAX_SIGNIFICANT_DIGITS) {
    throw new Error(
      `BigDecimal ${decimalToCanonical({ digits, exp })} has more than ${MAX_SIGNIFICANT_DIGITS} significant ` +
        "digits; graph-node would round it, which the local runner does not reproduce",
    );
  }
  if (exp < MIN_EXP || exp > MAX_EXP) {
    throw new Error(`BigDecimal exponent ${exp} is outside the ${MIN_EXP} to ${MAX_EXP} range`);
  }
  return { digits, exp };
}

/** bigdecimal 0.1's Display: plain positional notation. */
export function decimalToCanonical(value: Decimal): string {
  const negative = value.digits < 0n;
  const abs = (negative ? -value.digits : value.digits).toString();
  const scale = -value.exp;
  let text: string;
  if (scale >= BigInt(abs.length)) {
    text = "0." + "0".repeat(Number(scale) - abs.length) + abs;
  } else if (scale <= 0n) {
    text = abs + "0".repeat(Number(-scale));
  } else {
    const point = abs.length - Number(scale);
    text = abs.slice(0, point) + "." + abs.slice(point);
  }
  return negative ? "-" + text : text;
}

/** bigdecimal 0.1's `from_str`: optional sign, digits with an optional point, optional exponent. */
export function parseDecimal(text: string): Decimal {
  const match = DECIMAL.exec(text);
  const [, sign = "", lead = "", trail = "", exponent = "0"] = match ?? [];
  if (match === null || lead.length + trail.length === 0) {
    throw new Error(`string is not a BigDecimal: '${text}'`);
  }
  const digits = BigInt(sign + lead + trail);
  return normalizeDecimal({ digits, exp: BigInt(exponent) - BigInt(trail.length) });
}

export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const exp = a.exp < b.exp ? a.exp : b.exp;
  return normalizeDecimal({ digits: scaleTo(a, exp) + scaleTo(b, exp), exp });
}

export function subtractDecimals(a: Decimal, b: Decimal): Decimal {
  return addDecimals(a, { digits: -b.digits, exp: b.exp });
}

export function multiplyDecimals(a: Decimal, b: Decimal): Decimal {
  return normalizeDecimal({ digits: a.digits * b.digits, exp: a.exp + b.exp });
}

/** Equality of values (graph-node compares normalized BigDecimals). */
export function decimalsEqual(a: Decimal, b: Decimal): boolean {
  return subtractDecimals(a, b).digits === 0n;
}

function scaleTo(value: Decimal, exp: bigint): bigint {
  return value.digits * 10n ** (value.exp - exp);
}
