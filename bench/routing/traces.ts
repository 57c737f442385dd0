/**
 * The seeded synthetic call trace, generated once per run and replayed identically for every
 * policy and every traffic module. Over `days` simulated days:
 *  - well-behaved clients in the six regions, each region's rate following its own diurnal
 *    sinusoid (peak at 15:00 local), a non-homogeneous Poisson process (thinning);
 *  - API popularity Zipf; within an API, GET paths Zipf over a per-region permutation of the
 *    paths (what is popular differs between regions, so the mix moves with the sun);
 *  - one spike (a flash crowd on one API from eu-west, day 2.40-2.45: partly new identities,
 *    partly the region's existing clients calling more; hot keys nobody asked for before);
 *  - one abusive client: an ordinary ap-southeast client whose key is turned to scanning
 *    (unique GET paths on one API, half of them 404s, at a high constant rate) for 60 virtual
 *    seconds from day 3.30 (days counted from 0). The abuse lasts the same 60 s in the short
 *    run: it is a behaviour on the scale of calls, not of days (the day is what the short run
 *    compresses).
 * Every call carries its ground truth: `abusive` is true exactly for the abusive client's calls
 * inside its abuse window (its scan and its ordinary calls; none before or after it), and
 * `callerError` says whether it is answered with a caller-attributable 4xx (2% of ordinary calls).
 */
import { seededRng } from "../../sdk/routing/rng.js";
import type { Rng } from "../../sdk/routing/types.js";
import type { Scenario } from "./options.js";
import { REGIONS } from "./regions.js";
import { chance, exponential, randomInt, shuffled, uniform, WeightedSampler, zipfWeights } from "./sampling.js";

export interface Call {
  /** Virtual time the call is sent, ms. */
  readonly t: number;
  /** Index into Trace.clients. */
  readonly client: number;
  /** Index into REGIONS. */
  readonly region: number;
  /** Index into Trace.apis. */
  readonly api: number;
  readonly get: boolean;
  /** Cache key of a GET (API and path with query); empty for non-GET calls. */
  readonly key: string;
  /** Ground truth: a call of the abusive client inside its abuse window. */
  readonly abusive: boolean;
  /** Answered with a 4xx the caller caused (bad input, unknown path). */
  readonly callerError: boolean;
}

export interface Client {
  /** Identity the relayer would see (payer address); here a label. */
  readonly id: string;
  readonly region: number;
  /** Joined during the spike (no history before it). */
  readonly spikeNewcomer: boolean;
}

export interface Window {
  readonly start: number;
  readonly end: number;
}

export interface Trace {
  readonly scenario: Scenario;
  readonly calls: readonly Call[];
  readonly clients: readonly Client[];
  readonly apis: readonly string[];
  readonly abusiveClient: number;
  readonly abuseWindow: Window;
  readonly spikeWindow: Window;
  readonly spikeApi: number;
}

const DIURNAL_AMPLITUDE = 0.6;
const API_COUNT = 8;
const PATHS_PER_API = 2000;
const PATH_ZIPF = 1.0;
const CLIENT_ZIPF = 1.1;
/** Flash crowd: peak extra rate as a multiple of baseRps, share of it from new identities. */
const SPIKE_PEAK = 1.0;
const SPIKE_NEWCOMER_SHARE = 0.65;
const SPIKE_NEWCOMERS = 200;
const SPIKE_HOT_KEYS = 60;
/** Abuse: constant rate as a multiple of baseRps, duration, share of probes that hit nothing (404). */
const ABUSE_RATE = 0.3;
const ABUSE_MS = 60_000;
const ABUSE_NOT_FOUND = 0.5;
/** Ordinary calls answered with a caller-attributable 4xx. */
const CALLER_ERROR_RATE = 0.02;

/** Diurnal multiplier of a region at virtual time t: 1 + A sin(.), peak at 15:00 local. */
export function diurnal(t: number, dayMs: number, utcOffsetHours: number): number {
  const localDay = t / dayMs + utcOffsetHours / 24;
  return 1 + DIURNAL_AMPLITUDE * Math.sin(2 * Math.PI * (localDay - 0.375));
}

/** Spike shape in [0, 1] inside the window: fast rise over the first 20%, slow decay. */
function spikeShape(t: number, w: Window): number {
  if (t < w.start || t >= w.end) return 0;
  const u = (t - w.start) / (w.end - w.start);
  return u < 0.2 ? u / 0.2 : (1 - u) / 0.8;
}

export function generateTrace(scenario: Scenario): Trace {
  const rng: Rng = seededRng(scenario.seed * 16 + 1);
  const { dayMs, days, baseRps } = scenario;
  const durationMs = dayMs * days;
  const spikeWindow = { start: 2.4 * dayMs, end: 2.45 * dayMs };
  const abuseWindow = { start: 3.3 * dayMs, end: 3.3 * dayMs + ABUSE_MS };

  const apis = Array.from({ length: API_COUNT }, (_, i) => `api-${i}`);
  const apiSampler = new WeightedSampler(zipfWeights(API_COUNT, 1.0));
  const getShare = apis.map(() => uniform(rng, 0.75, 0.95));
  const spikeApi = 2;

  // Per API: a base popularity order of its paths; per region a variant of it (a third of the
  // top 200 ranks reshuffled), so regions agree on some hits and differ on others.
  const pathSampler = new WeightedSampler(zipfWeights(PATHS_PER_API, PATH_ZIPF));
  const pathOrder: number[][][] = apis.map(() => {
    const base = shuffled(
      rng,
      Array.from({ length: PATHS_PER_API }, (_, i) => i),
    );
    return REGIONS.map(() => {
      const order = [...base];
      for (let k = 0; k < 70; k++) {
        const a = randomInt(rng, 200);
        const b = randomInt(rng, 200);
        [order[a], order[b]] = [order[b]!, order[a]!];
      }
      return order;
    });
  });
  const hotKeySampler = new WeightedSampler(zipfWeights(SPIKE_HOT_KEYS, 1.3));

  // Clients: split over regions by traffic share; Zipf activity within a region.
  const clients: Client[] = [];
  const regionClients: number[][] = REGIONS.map(() => []);
  REGIONS.forEach((region, r) => {
    const n = Math.round(scenario.clients * region.share);
    for (let i = 0; i < n; i++) {
      regionClients[r]!.push(clients.length);
      clients.push({ id: `client-${clients.length}`, region: r, spikeNewcomer: false });
    }
  });
  const clientSamplers = regionClients.map((ids) => {
    const weights = zipfWeights(ids.length, CLIENT_ZIPF);
    const order = shuffled(rng, ids);
    return { order, sampler: new WeightedSampler(weights) };
  });
  const eu = REGIONS.findIndex((r) => r.code === "eu-west");
  const newcomers: number[] = [];
  for (let i = 0; i < SPIKE_NEWCOMERS; i++) {
    newcomers.push(clients.length);
    clients.push({ id: `client-${clients.length}`, region: eu, spikeNewcomer: true });
  }
  // The abusive identity: an ordinary mid-activity ap-southeast client.
  const sea = REGIONS.findIndex((r) => r.code === "ap-southeast");
  const seaClients = clientSamplers[sea]!.order;
  const abusiveClient = seaClients[Math.floor(seaClients.length / 3)]!;

  const calls: Call[] = [];
  const ordinaryCall = (t: number, r: number, client: number, api: number): Call => {
    const get = chance(rng, getShare[api]!);
    const key = get ? `${apis[api]}/p/${pathOrder[api]![r]![pathSampler.sample(rng)]}` : "";
    // The abusive identity's own ordinary calls inside the window count as abusive too.
    const abusive = client === abusiveClient && t >= abuseWindow.start && t < abuseWindow.end;
    return { t, client, region: r, api, get, key, abusive, callerError: chance(rng, CALLER_ERROR_RATE) };
  };

  // Well-behaved traffic and the spike: one thinned Poisson process over the summed rate.
  const maxRate = (baseRps * (1 + DIURNAL_AMPLITUDE) + baseRps * SPIKE_PEAK) / 1000; // per ms
  const regionRates = new Float64Array(REGIONS.length);
  for (let t = exponential(rng, maxRate); t < durationMs; t += exponential(rng, maxRate)) {
    let total = 0;
    REGIONS.forEach((region, r) => {
      regionRates[r] = (baseRps * region.share * diurnal(t, dayMs, region.utcOffsetHours)) / 1000;
      total += regionRates[r]!;
    });
    const spike = (baseRps * SPIKE_PEAK * spikeShape(t, spikeWindow)) / 1000;
    const u = rng.next() * maxRate;
    if (u >= total + spike) continue; // thinned out
    if (u >= total) {
      // Flash crowd: hot keys of the spike API, from newcomers or from eu-west's clients.
      const client = chance(rng, SPIKE_NEWCOMER_SHARE)
        ? newcomers[randomInt(rng, newcomers.length)]!
        : clientSamplers[eu]!.order[clientSamplers[eu]!.sampler.sample(rng)]!;
      const key = `${apis[spikeApi]}/news/${hotKeySampler.sample(rng)}`;
      const callerError = chance(rng, CALLER_ERROR_RATE);
      calls.push({ t, client, region: eu, api: spikeApi, get: true, key, abusive: false, callerError });
      continue;
    }
    let r = 0;
    for (let acc = regionRates[0]!; acc <= u && r < REGIONS.length - 1; acc += regionRates[++r]!);
    const { order, sampler } = clientSamplers[r]!;
    calls.push(ordinaryCall(t, r, order[sampler.sample(rng)]!, apiSampler.sample(rng)));
  }

  // The abuse: unique paths (a scan) on API 0 at a constant rate, merged in by time.
  const abuse: Call[] = [];
  let scanned = 0;
  const abuseRate = (baseRps * ABUSE_RATE) / 1000;
  for (let t = abuseWindow.start + exponential(rng, abuseRate); t < abuseWindow.end; t += exponential(rng, abuseRate)) {
    const key = `${apis[0]}/p/scan-${scanned++}`;
    const callerError = chance(rng, ABUSE_NOT_FOUND);
    abuse.push({ t, client: abusiveClient, region: sea, api: 0, get: true, key, abusive: true, callerError });
  }
  const merged = mergeByTime(calls, abuse);
  return { scenario, calls: merged, clients, apis, abusiveClient, abuseWindow, spikeWindow, spikeApi };
}

function mergeByTime(a: readonly Call[], b: readonly Call[]): Call[] {
  const out: Call[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.t <= b[j]!.t)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
