/**
 * A coarse region-distance prior: the round-trip time a caller in one region should expect to a
 * node in another, before it has measured anything. These are PRIORS ONLY, rough public
 * inter-region ping figures rounded to a few classes; the router replaces them with measured
 * latencies as soon as calls come back, so they only order never-tried nodes.
 */

/** Continents a region code's first segment names ("eu-west" -> "eu"). */
type Continent = "na" | "sa" | "eu" | "af" | "ap";

const CONTINENT_OF: Readonly<Record<string, Continent>> = {
  us: "na",
  na: "na",
  ca: "na",
  sa: "sa",
  eu: "eu",
  af: "af",
  ap: "ap",
};

/** Caller and node registered the same region: in-metro round trip. */
export const SAME_REGION_RTT_MS = 2;

/**
 * Either code is unknown: assume a far node (the top of the cross-continent class), so an
 * unplaceable node is not preferred over one known to be near.
 */
export const UNKNOWN_RTT_MS = 150;

/** Within a continent; Europe is dense, the Americas, Asia-Pacific and Africa are wider. */
const WITHIN_CONTINENT_MS: Readonly<Record<Continent, number>> = { na: 40, sa: 30, eu: 20, af: 30, ap: 40 };

/** Between continents, keyed by the two continents in alphabetical order ("eu|na"). */
const BETWEEN_CONTINENTS_MS: Readonly<Record<string, number>> = {
  "eu|na": 80,
  "na|sa": 120,
  "ap|na": 150,
  "af|na": 150,
  "ap|eu": 130,
  "eu|sa": 150,
  "af|eu": 100,
  "ap|sa": 150,
  "af|ap": 150,
  "af|sa": 150,
};

/**
 * Normalizes a region code: lower case, and a trailing zone number dropped ("eu-west-1" ->
 * "eu-west"), since nodes register both styles and the prior does not resolve zones.
 */
function normalize(region: string): string {
  return region.trim().toLowerCase().replace(/-\d+$/, "");
}

/** The prior round-trip time (ms) from a caller in `from` to a node in `to`. */
export function expectedRttMs(from: string, to: string): number {
  const a = normalize(from);
  const b = normalize(to);
  if (a === "" || b === "") return UNKNOWN_RTT_MS;
  if (a === b) return SAME_REGION_RTT_MS;
  const ca = CONTINENT_OF[a.split("-")[0]!];
  const cb = CONTINENT_OF[b.split("-")[0]!];
  if (ca === undefined || cb === undefined) return UNKNOWN_RTT_MS;
  if (ca === cb) return WITHIN_CONTINENT_MS[ca];
  return BETWEEN_CONTINENTS_MS[[ca, cb].sort().join("|")] ?? UNKNOWN_RTT_MS;
}
