/**
 * How fast is the host right now? The VMs we benchmark on go through slow spells that no process
 * inside them can see (the raw sgemm of `saeboard doctor` at 21.6 ms and at 39 ms minutes apart,
 * with nothing else running and no steal time reported), so `othersCores` calls such a run quiet.
 * The probe runs a fixed piece of work — arithmetic and a sweep over 8 MB, the two things our
 * benchmarks are bound by — on every core at once, in worker threads, and times it (min of three).
 * The harness probes before and after each comparison and compares with the fastest probe this
 * process has seen: a comparison whose probes are much slower than that ran in a slow spell, or
 * in part of one.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** A probe this much slower than the fastest one seen marks the window as a slow spell. */
export const HOST_SLOW_FACTOR = 1.25;

const WORKER = `
const { parentPort } = require('node:worker_threads');
const sweep = new Float64Array(1 << 20); // 8 MB: beyond the L2 of every core we run on
for (let i = 0; i < sweep.length; i++) sweep[i] = i & 1023;
parentPort.on('message', (rounds) => {
  let acc = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 200000; i++) acc = Math.sqrt(acc + i) * 0.999;
    for (let i = 0; i < sweep.length; i += 8) acc += sweep[i];
  }
  parentPort.postMessage(acc);
});
`;

export interface HostProbe {
  /** ms for the fixed work on every core at once, the min of `tries`. */
  measure(tries?: number): Promise<number>;
  close(): Promise<void>;
}

/** Starts one worker per core (or `threads`); `rounds` sets the work (~10 ms on one of our cores). */
export async function startHostProbe(threads = os.availableParallelism(), rounds = 4): Promise<HostProbe> {
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true }));
  // idle workers must not keep the bench process alive; a measurement holds them (ref) while it runs
  for (const w of workers) w.unref();
  const runOnce = (w: Worker) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        w.off('message', onMessage);
        reject(err);
      };
      const onMessage = () => {
        w.off('error', onError);
        resolve();
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage(rounds);
    });
  const runAll = async () => {
    for (const w of workers) w.ref();
    try {
      await Promise.all(workers.map(runOnce));
    } finally {
      for (const w of workers) w.unref();
    }
  };
  await runAll(); // warm: the JIT compiles the loops
  return {
    async measure(tries = 3) {
      let best = Infinity;
      for (let t = 0; t < tries; t++) {
        const t0 = performance.now();
        await runAll();
        best = Math.min(best, performance.now() - t0);
      }
      return Math.round(best * 100) / 100;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * The probe's verdict on one window: its probes before and after (ms), the fastest probe seen so
 * far in this process, and `hostSlow` when either probe took more than HOST_SLOW_FACTOR times that.
 */
export function hostVerdict(before: number, after: number, fastest: number): { hostProbeMs: [number, number]; hostFastestMs: number; hostSlow: boolean } {
  const best = Math.min(fastest, before, after);
  return { hostProbeMs: [before, after], hostFastestMs: best, hostSlow: Math.max(before, after) > HOST_SLOW_FACTOR * best };
}
