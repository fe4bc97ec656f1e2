/**
 * Tiny benchmark harness. Each benchmark is `bench/<name>.ts` with a default export
 * `(h: Bench) => Promise<void>`; `npm run bench -- <name> [args]` runs it. Every figure is printed
 * as one JSON line on stdout and appended to bench/results.jsonl together with the machine, the
 * commit and the time, so README figures can always be traced to a run.
 *
 * Comparisons with a peer (PyTorch, a naive writer, ...) go through `compare`: the two sides run
 * interleaved (A, B, A, B, …) in one process run, ≥ 5 repetitions each by default, so a burst of
 * load hits both sides alike; it reports median, min and spread per side and the ratio of medians.
 * Every record carries the 1-minute load average before and after and `loaded: true` when others
 * used more than OTHERS_LOADED_CORES of CPU during it (bench/lib/other-load.ts; the load average
 * rule, LOADED_PER_CORE, where that cannot be measured), or when the host probe around its
 * comparison ran in a slow spell of the host (`hostSlow`, bench/lib/host-probe.ts): such figures
 * are not for the README.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeVersionString, PROJECT_ROOT } from '../src/version.js';
import { hostVerdict, startHostProbe, type HostProbe } from './lib/host-probe.js';
import { cpuSnapshot, othersCores, OTHERS_LOADED_CORES, type CpuSnapshot } from './lib/other-load.js';

export { OTHERS_LOADED_CORES };

export interface TimingStats {
  min: number;
  median: number;
  max: number;
  mean: number;
  reps: number;
  samplesMs: number[];
}

/** One side of a comparison. `step` runs one repetition; when it returns a number, that is the
 * repetition's time in ms as the side measured it itself (a peer process timing its own step,
 * without the IPC around it), else the wall-clock time of the call is taken. */
export interface Side {
  name: string;
  step: () => unknown | Promise<unknown>;
}

export interface SideStats extends TimingStats {
  /** (max − min) / median: how much the repetitions disagree. */
  spread: number;
}

export interface Comparison {
  /** Stats per side, by name. */
  sides: Record<string, SideStats>;
  /** The names in the order the timed repetitions ran (A, B, A, B, …). */
  order: string[];
  /** median(B) / median(A) with A = sides[0]: > 1 means A is faster. */
  ratioOfMedians: number;
  load1Before: number;
  load1After: number;
  /** CPU others used meanwhile, in cores (null where it cannot be measured). */
  othersCores: number | null;
  loaded: boolean;
  /** Idle milliseconds before each timed step (see COMPARE_SETTLE_MS). */
  settleMs: number;
  /** The host probe before and after (ms; bench/lib/host-probe.ts), when Bench.compare ran it. */
  hostProbeMs?: [number, number];
  /** The fastest probe this process has seen (ms). */
  hostFastestMs?: number;
  /** A probe took > HOST_SLOW_FACTOR × the fastest: the window was (in part) a slow spell of the host; `loaded` says so too. */
  hostSlow?: boolean;
}

/**
 * Idle time before each timed step of a comparison. BLAS thread pools (OpenBLAS's in the addon
 * and in PyTorch alike) spin-wait for up to ~0.1 s after their last call before they sleep; back to
 * back, one side's spinning threads take the cores from the other's next step (measured: the
 * Othello GPT forward 189 ms alone, 254 ms right after a PyTorch step). `--settle-ms` overrides.
 */
export const COMPARE_SETTLE_MS = 250;

/** A run counts as taken under load when the 1-minute load average exceeded this per core. */
export const LOADED_PER_CORE = 0.5;

export function isLoaded(load1: number[], cores: number): boolean {
  return load1.some((l) => l > LOADED_PER_CORE * cores);
}

/**
 * Loaded when others used more than OTHERS_LOADED_CORES meanwhile; where that is unknown, when the
 * load average exceeded LOADED_PER_CORE per core (which a busy benchmark also does by itself).
 */
export function loadedBy(others: number | null, load1: number[], cores: number): boolean {
  return others !== null ? others > OTHERS_LOADED_CORES : isLoaded(load1, cores);
}

/** Default repetitions per side of a comparison. */
export const COMPARE_REPS = 5;

/**
 * Runs the sides interleaved: `warmup` untimed rounds (each side once per round), then `reps`
 * timed rounds, each side once per round in the given order, each timed step after `settleMs` of
 * idle time (0 here; Bench.compare passes COMPARE_SETTLE_MS). `clock` and `load` are injectable
 * for the harness test.
 */
export async function interleave(
  sides: Side[],
  opts: { reps?: number; warmup?: number; minSeconds?: number; settleMs?: number } = {},
  clock: () => number = () => performance.now(),
  load: () => number = () => os.loadavg()[0],
  cores: number = os.cpus().length,
  cpu: () => CpuSnapshot | null = cpuSnapshot,
): Promise<Comparison> {
  if (sides.length < 2) throw new Error('compare needs at least two sides');
  const reps = opts.reps ?? COMPARE_REPS;
  const warmup = opts.warmup ?? 1;
  const load1Before = load();
  const cpuBefore = cpu();
  for (let w = 0; w < warmup; w++) for (const s of sides) await s.step();
  const samples = sides.map(() => [] as number[]);
  const order: string[] = [];
  // Rounds go on past `reps` until the timed part lasted minSeconds: others' CPU can only be judged
  // over a window of a second or more (othersCores), and sub-millisecond steps get more samples.
  const minMs = (opts.minSeconds ?? 0) * 1000;
  const started = clock();
  const maxRounds = reps * 1000;
  const settleMs = opts.settleMs ?? 0;
  for (let r = 0; r < reps || (r < maxRounds && clock() - started < minMs); r++) {
    for (const [i, s] of sides.entries()) {
      if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
      const t0 = clock();
      const own = await s.step();
      const wall = clock() - t0;
      samples[i].push(typeof own === 'number' && Number.isFinite(own) ? own : wall);
      order.push(s.name);
    }
  }
  const load1After = load();
  const others = othersCores(cpuBefore, cpu());
  const byName: Record<string, SideStats> = {};
  sides.forEach((s, i) => (byName[s.name] = sideStats(samples[i])));
  const a = byName[sides[0].name];
  const b = byName[sides[1].name];
  return {
    sides: byName,
    order,
    ratioOfMedians: round(b.median / a.median, 3),
    load1Before: round(load1Before, 2),
    load1After: round(load1After, 2),
    othersCores: others,
    loaded: loadedBy(others, [load1Before, load1After], cores),
    settleMs,
  };
}

export function sideStats(samples: number[]): SideStats {
  const s = stats(samples);
  return { ...s, spread: s.median > 0 ? round((s.max - s.min) / s.median, 3) : 0 };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A side's figures for a results line (ms rounded to 0.1, or to `digits` decimals for sub-ms steps). */
export function sideSummary(s: SideStats, digits = 1): Record<string, number> {
  return { msMedian: round(s.median, digits), msMin: round(s.min, digits), spread: s.spread, reps: s.reps };
}

/** A comparison's load fields for a results line: one record carries the window it measured. */
export function loadFields(c: Pick<Comparison, 'load1Before' | 'load1After' | 'othersCores' | 'loaded'> & { settleMs?: number }): Record<string, unknown> {
  return { load1Before: c.load1Before, load1After: c.load1After, othersCores: c.othersCores, loaded: c.loaded, ...(c.settleMs ? { settleMs: c.settleMs } : {}) };
}

export interface Bench {
  name: string;
  args: string[];
  /** Flag value from args: `--reps 5` → option('reps', '3'). */
  option(name: string, fallback: string): string;
  /** Time `fn` (ms) after `warmup` untimed calls. */
  time(fn: () => unknown | Promise<unknown>, opts?: { reps?: number; warmup?: number }): Promise<SideStats>;
  /**
   * Interleaves the sides (A, B, A, B, …; COMPARE_REPS each unless `reps`, after `warmup` untimed
   * rounds, default 1; more rounds until the timed part lasted `minSeconds`, default 1, so that
   * others' CPU can be judged over it) and returns per-side stats, the ratio of medians and the
   * load marking.
   */
  compare(sides: Side[], opts?: { reps?: number; warmup?: number; minSeconds?: number; settleMs?: number }): Promise<Comparison>;
  /**
   * Print and persist one result line. Unless the fields say otherwise, the line gets
   * `load1Before` (the load when the previous record, or the bench, started), `load1After` (now)
   * and `loaded`.
   */
  record(caseName: string, fields: Record<string, unknown>): void;
}

/** The widest float SIMD the CPU has ('avx512', 'avx2', 'sse2'; null off Linux x86). */
export function cpuSimd(): string | null {
  let flags: string;
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return null;
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  return has('avx512f') ? 'avx512' : has('avx2') ? 'avx2' : has('sse2') ? 'sse2' : null;
}

/**
 * The CPU's vendor family and model from /proc/cpuinfo, with the microarchitecture where the
 * table knows it. The VMs all name themselves "AMD EPYC", yet a Zen 4 core runs AVX-512 at half
 * a Zen 5 core's rate: without this, figures from the two read as one machine's.
 */
export function cpuIdentity(cpuinfo?: string): { family: number; model: number; uarch: string | null } | null {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return null;
    }
  }
  const field = (name: string) => Number(new RegExp(`^${name}\\s*:\\s*(\\d+)\\s*$`, 'm').exec(text!)?.[1] ?? NaN);
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(text)?.[1] ?? '';
  const family = field('cpu family');
  const model = field('model');
  if (!Number.isFinite(family) || !Number.isFinite(model)) return null;
  return { family, model, uarch: vendor === 'AuthenticAMD' ? amdUarch(family, model) : null };
}

// AMD's family 0x17/0x19/0x1a model ranges (Zen, Zen 2 / Zen 3, Zen 4 / Zen 5)
function amdUarch(family: number, model: number): string | null {
  if (family === 0x1a) return 'zen5';
  const within = (ranges: [number, number][]) => ranges.some(([lo, hi]) => model >= lo && model <= hi);
  if (family === 0x19 && within([[0x10, 0x1f], [0x60, 0x7f], [0xa0, 0xaf]])) return 'zen4';
  if (family === 0x19 && within([[0x00, 0x0f], [0x20, 0x5f]])) return 'zen3';
  if (family === 0x17) return model >= 0x30 ? 'zen2' : 'zen';
  return null;
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    // the VMs all say "AMD EPYC": the vector width tells their figures apart
    simd: cpuSimd(),
    cpuId: cpuIdentity(),
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
    gemmSetting: process.env.SAEBOARD_GEMM ?? null,
    nodeEnv: process.env.NODE_ENV ?? null,
    host: process.env.SAEBOARD_BENCH_HOST ?? os.hostname(),
  };
}

export function stats(samples: number[]): TimingStats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return {
    min: s[0],
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    reps: s.length,
    samplesMs: samples.map((x) => Math.round(x * 1000) / 1000),
  };
}

export const RESULTS_FILE = process.env.SAEBOARD_BENCH_RESULTS ?? path.join(PROJECT_ROOT, 'bench', 'results.jsonl');

/** A bench file's leading doc comment as plain text (its usage), or null when it has none. */
export function benchUsage(source: string): string | null {
  const m = /^\s*(?:import[^\n]*\n\s*)*\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!m) return null;
  const lines = m[1].split('\n').map((line) => line.replace(/^\s*\* ?/, '').trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length > 0 ? `${lines.join('\n')}\n` : null;
}

export function createBench(name: string, args: string[]): Bench {
  const m = machine();
  const commit = codeVersionString();
  let load1Since = os.loadavg()[0];
  let cpuSince = cpuSnapshot();
  let windowStart: CpuSnapshot | null = cpuSince;
  // the host probe (one worker per core), started by the first comparison
  let probe: Promise<HostProbe> | null = null;
  let fastestProbe = Infinity;
  // the last comparison's host verdict, for the records written from it
  let host: Pick<Comparison, 'hostProbeMs' | 'hostFastestMs' | 'hostSlow'> | null = null;
  return {
    name,
    args,
    option(opt, fallback) {
      const i = args.indexOf(`--${opt}`);
      return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
    },
    async time(fn, opts = {}) {
      const reps = opts.reps ?? 5;
      const warmup = opts.warmup ?? 1;
      for (let i = 0; i < warmup; i++) await fn();
      const samples: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        await fn();
        samples.push(performance.now() - t0);
      }
      return sideStats(samples);
    },
    compare(sides, opts) {
      const i = args.indexOf('--settle-ms');
      const settleMs = i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : COMPARE_SETTLE_MS;
      if (!(settleMs >= 0)) throw new Error(`--settle-ms: expected a number of milliseconds ≥ 0, got "${args[i + 1]}"`);
      return (async () => {
        probe ??= startHostProbe();
        const p = await probe;
        // the probe too waits out the BLAS threads that spin after a step (ours and a peer's)
        const settle = () => new Promise((resolve) => setTimeout(resolve, Math.max(settleMs, COMPARE_SETTLE_MS)));
        await settle();
        const before = await p.measure();
        const c = await interleave(sides, { minSeconds: 1, settleMs, ...opts });
        await settle();
        const after = await p.measure();
        const verdict = hostVerdict(before, after, fastestProbe);
        fastestProbe = verdict.hostFastestMs;
        host = verdict;
        return { ...c, ...verdict, loaded: c.loaded || verdict.hostSlow };
      })();
    },
    record(caseName, fields) {
      const now = os.loadavg()[0];
      const cpuNow = cpuSnapshot();
      // Records written back to back have a window of milliseconds, where one stray jiffy reads as
      // cores: measure those over the last window that lasted at least a second.
      if (cpuSince && cpuNow && cpuNow.t - cpuSince.t < 1000 && windowStart) cpuSince = windowStart;
      else windowStart = cpuSince;
      const others = othersCores(cpuSince, cpuNow);
      const load: Record<string, unknown> = {};
      if (!('load1Before' in fields)) load.load1Before = round(load1Since, 2);
      if (!('load1After' in fields)) load.load1After = round(now, 2);
      if (!('othersCores' in fields)) load.othersCores = others;
      if (!('loaded' in fields)) load.loaded = loadedBy(others, [load1Since, now], os.cpus().length) || Boolean(host?.hostSlow);
      if (host && !('hostProbeMs' in fields)) Object.assign(load, host);
      load1Since = now;
      cpuSince = cpuNow;
      const line = JSON.stringify({ bench: name, case: caseName, ...fields, ...load, machine: m, commit, at: new Date().toISOString() });
      process.stdout.write(line + '\n');
      appendFileSync(RESULTS_FILE, line + '\n');
    },
  };
}
