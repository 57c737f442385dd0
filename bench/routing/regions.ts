/**
 * The simulated world: regions, where their callers sit in the day (UTC offset), their share of
 * the traffic, and the true round-trip time between two regions (great-circle distance over
 * fibre, with a path-inflation factor). These are the simulation's ground truth; routing
 * policies only get the region codes (their geo prior is sdk/routing/geo.ts, a separate table).
 */

export interface Region {
  readonly code: string;
  /** UTC offset, hours: shifts the region's diurnal peak. */
  readonly utcOffsetHours: number;
  /** Share of the base call rate from callers in this region. */
  readonly share: number;
  readonly lat: number;
  readonly lon: number;
}

export const REGIONS: readonly Region[] = [
  { code: "us-east", utcOffsetHours: -5, share: 0.24, lat: 38.9, lon: -77.0 },
  { code: "us-west", utcOffsetHours: -8, share: 0.14, lat: 45.6, lon: -121.2 },
  { code: "eu-west", utcOffsetHours: 0, share: 0.22, lat: 53.3, lon: -6.3 },
  { code: "eu-central", utcOffsetHours: 1, share: 0.12, lat: 50.1, lon: 8.7 },
  { code: "ap-northeast", utcOffsetHours: 9, share: 0.16, lat: 35.7, lon: 139.7 },
  { code: "ap-southeast", utcOffsetHours: 8, share: 0.12, lat: 1.35, lon: 103.8 },
];

const EARTH_RADIUS_KM = 6371;
/** Light in fibre: ~200 km per ms one way. */
const FIBRE_KM_PER_MS = 200;
/** Real paths are longer than the great circle. */
const PATH_INFLATION = 1.6;
/** Last-mile and switching, round trip, within one region. */
const LOCAL_RTT_MS = 4;

function distanceKm(a: Region, b: Region): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** True round-trip time between two regions, ms (before per-call jitter). */
export function trueRttMs(from: string, to: string): number {
  const a = REGIONS.find((r) => r.code === from);
  const b = REGIONS.find((r) => r.code === to);
  if (a === undefined || b === undefined) throw new Error(`unknown region ${from} or ${to}`);
  return LOCAL_RTT_MS + (2 * distanceKm(a, b) * PATH_INFLATION) / FIBRE_KM_PER_MS;
}

/** RTT table indexed [from][to] by position in REGIONS, computed once. */
export const RTT_TABLE: readonly (readonly number[])[] = REGIONS.map((a) =>
  REGIONS.map((b) => trueRttMs(a.code, b.code)),
);

export function regionIndex(code: string): number {
  const i = REGIONS.findIndex((r) => r.code === code);
  if (i < 0) throw new Error(`unknown region ${code}`);
  return i;
}
