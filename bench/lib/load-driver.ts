/**
 * The load generator of bench/api-scale, run as a SECOND process (so its event loop and CPU are not
 * the server's). Open loop at a fixed rate: each query kind gets its own Poisson arrival stream
 * (seeded; the rates sum to the total), every request is sent at its scheduled time whatever the
 * server is doing, over keep-alive connections, and its latency counts from that scheduled time —
 * so a server that falls behind shows its queueing in the figures instead of slowing the client
 * down (no coordinated omission). Reads its plan from the JSON file named by argv[2], prints one
 * JSON object (per kind: latency percentiles, errors, non-2xx, GraphQL errors, throughput; and the
 * driver's own GC and event-loop pauses) on stdout.
 *
 * Not autocannon's `overallRate`: that sends each connection's quota for the second back to back
 * at the top of every second and then waits, so "200 requests/s" arrived as bursts of up to 200 at
 * once, and p50s of 50–60 ms were the bursts' own queue (measured 2026-12-06 against a server whose
 * two processes together were busy 62 % of the time).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { Sfc32 } from '../../src/util/sfc32.js';
import { watchPauses, type PauseSummary } from './pauses.js';

export interface LoadPlan {
  url: string;
  seconds: number;
  /**
   * Seconds of the same load before the measured ones, not counted (default 0): the server's pool
   * opens its other connections, whose fresh Postgres backends plan their first statements with
   * cold catalog caches (6 ms instead of 1 ms for a leaderboard), and both processes' JIT warms up.
   */
  warmupSeconds?: number;
  /** Seed of the arrival streams (default 1). */
  seed?: number;
  kinds: { name: string; rate: number; connections: number; bodies: string[] }[];
}

export interface KindResult {
  name: string;
  rate: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  firstGraphqlError: string | null;
  /** The slowest answer to a request scheduled in each second of the measured window (stalls show as spikes). */
  maxMsPerSecond: number[];
}

const TIMEOUT_MS = 10_000;

interface KindState {
  kind: LoadPlan['kinds'][number];
  agent: http.Agent;
  rng: Sfc32;
  /** Scheduled time (ms, performance.now()) of the next request. */
  next: number;
  sent: number;
  /** Requests scheduled in the measured window. */
  counted: number;
  latencies: number[];
  maxPerSecond: number[];
  errors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  firstGraphqlError: string | null;
}

function send(url: URL, s: KindState, scheduled: number, second: number | null, body: string, onDone: () => void): void {
  let finished = false;
  const finish = (outcome: 'ok' | 'error' | 'timeout', status = 200, text = '') => {
    if (finished) return;
    finished = true;
    if (second === null) return onDone();
    if (outcome === 'timeout') s.timeouts++;
    else if (outcome === 'error') s.errors++;
    else if (status !== 200) s.non2xx++;
    else {
      const ms = performance.now() - scheduled;
      s.latencies.push(ms);
      s.maxPerSecond[second] = Math.max(s.maxPerSecond[second], ms);
      if (text.includes('"errors"')) {
        s.graphqlErrors++;
        s.firstGraphqlError ??= text.slice(0, 300);
      }
    }
    onDone();
  };
  const req = http.request(
    url,
    { method: 'POST', agent: s.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish('ok', res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => finish('error'));
    },
  );
  req.setTimeout(TIMEOUT_MS, () => {
    finish('timeout');
    req.destroy();
  });
  req.on('error', () => finish('error'));
  req.end(body);
}

/** Milliseconds to the next arrival of a Poisson stream of `rate` per second (exponential; 1 − U is in (0, 1]). */
const interarrivalMs = (rng: Sfc32, rate: number) => (-Math.log(1 - rng.next()) * 1000) / rate;

/** The p-quantile of ascending samples, to 0.01 (NaN when there are none). */
export const quantile = (sorted: number[], p: number) => (sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2)) : NaN);

export interface DriveResult {
  kinds: KindResult[];
  /** Requests sent in all, warm-up included (for CPU per request over the whole run). */
  sent: number;
  /** The driver's own stalls over the measured window (they count in every latency it reports). */
  driverPauses: PauseSummary;
}

export async function drive(plan: LoadPlan): Promise<DriveResult> {
  const url = new URL(plan.url);
  const t0 = performance.now() + 50;
  const measureFrom = t0 + (plan.warmupSeconds ?? 0) * 1000;
  const end = measureFrom + plan.seconds * 1000;
  const watch: { pauses?: ReturnType<typeof watchPauses> } = {};
  const startWatch = setTimeout(() => (watch.pauses = watchPauses()), Math.max(0, measureFrom - performance.now()));
  const states: KindState[] = plan.kinds.map((kind, i) => {
    const rng = new Sfc32((plan.seed ?? 1) * 7919 + i * 104729);
    return {
      kind,
      agent: new http.Agent({ keepAlive: true, maxSockets: kind.connections }),
      rng,
      next: t0 + interarrivalMs(rng, kind.rate),
      sent: 0,
      counted: 0,
      latencies: [],
      maxPerSecond: new Array<number>(plan.seconds).fill(0),
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      graphqlErrors: 0,
      firstGraphqlError: null,
    };
  });
  let inFlight = 0;
  let allDone: () => void = () => {};
  const drained = new Promise<void>((r) => (allDone = r));
  let scheduling = true;
  const onDone = () => {
    if (--inFlight === 0 && !scheduling) allDone();
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (const s of states) {
        while (s.next <= now && s.next < end) {
          inFlight++;
          const counted = s.next >= measureFrom;
          if (counted) s.counted++;
          send(url, s, s.next, counted ? Math.floor((s.next - measureFrom) / 1000) : null, s.kind.bodies[s.sent++ % s.kind.bodies.length], onDone);
          s.next += interarrivalMs(s.rng, s.kind.rate);
        }
      }
      const due = Math.min(...states.map((s) => s.next));
      if (due >= end) return resolve();
      setTimeout(tick, Math.max(0, due - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  scheduling = false;
  if (inFlight > 0) await drained;
  clearTimeout(startWatch);
  const driverPauses = (watch.pauses ?? watchPauses()).stop(); // (a window too short to have started: nothing seen)
  const kinds = states.map((s) => {
    const lat = s.latencies.slice().sort((a, b) => a - b);
    s.agent.destroy();
    return {
      name: s.kind.name,
      rate: s.kind.rate,
      requests: s.counted,
      reqPerSec: Number((lat.length / plan.seconds).toFixed(1)),
      p50Ms: quantile(lat, 0.5),
      p90Ms: quantile(lat, 0.9),
      p99Ms: quantile(lat, 0.99),
      maxMs: quantile(lat, 1),
      meanMs: lat.length ? Number((lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(2)) : NaN,
      errors: s.errors,
      timeouts: s.timeouts,
      non2xx: s.non2xx,
      graphqlErrors: s.graphqlErrors,
      firstGraphqlError: s.firstGraphqlError,
      // from the same two decimals as maxMs (393.496 → 393.50 → 394, not 393), so the largest is Math.round(maxMs)
      maxMsPerSecond: s.maxPerSecond.map((x) => Math.round(Number(x.toFixed(2)))),
    };
  });
  return { kinds, sent: states.reduce((n, s) => n + s.sent, 0), driverPauses };
}

// Run as the second process (`node --import tsx load-driver.ts plan.json`), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadPlan;
  process.stdout.write(JSON.stringify(await drive(plan)) + '\n');
}
