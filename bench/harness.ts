/**
 * Tiny benchmark harness. Each benchmark is `bench/<name>.ts` with a default export
 * `(h: Bench) => Promise<void>`; `npm run bench -- <name> [args]` runs it. Every figure is printed
 * as one JSON line on stdout and appended to bench/results.jsonl together with the machine, the
 * commit and the time, so README figures can always be traced to a run.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeVersionString, PROJECT_ROOT } from '../src/version.js';

export interface TimingStats {
  min: number;
  median: number;
  max: number;
  mean: number;
  reps: number;
  samplesMs: number[];
}

export interface Bench {
  name: string;
  args: string[];
  /** Flag value from args: `--reps 5` → option('reps', '3'). */
  option(name: string, fallback: string): string;
  /** Time `fn` (ms) after `warmup` untimed calls. */
  time(fn: () => unknown | Promise<unknown>, opts?: { reps?: number; warmup?: number }): Promise<TimingStats>;
  /** Print and persist one result line. */
  record(caseName: string, fields: Record<string, unknown>): void;
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
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

export function createBench(name: string, args: string[]): Bench {
  const m = machine();
  const commit = codeVersionString();
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
      return stats(samples);
    },
    record(caseName, fields) {
      const line = JSON.stringify({ bench: name, case: caseName, ...fields, machine: m, commit, at: new Date().toISOString() });
      process.stdout.write(line + '\n');
      appendFileSync(RESULTS_FILE, line + '\n');
    },
  };
}
