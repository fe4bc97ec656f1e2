/**
 * Sweeps: train many SAEs at once from one activation stream (trainers.md §1, §6). Each batch is
 * drawn once from the shuffle buffer and given to every SAE still training, so the (expensive)
 * activations are computed or read once however many SAEs there are.
 *
 * Directory layout (see checkpoint.ts for the per-SAE files):
 *   <out>/sweep.json            the resolved sweep spec and its hash
 *   <out>/resume.json           latest exact-resume point: step, buffer cursor/RNG, SAE statuses
 *   <out>/stream_state.safetensors  buffer contents (vector ids) and read flags at that point
 *   <out>/trainer<i>/...        one directory per SAE
 *
 * Resume protocol: at a resume point every SAE still training writes `resume/step_<s>` first;
 * then resume.json + stream_state are replaced atomically; only then are older resume states
 * deleted. A kill at any moment therefore leaves one complete, consistent resume point. SAEs
 * with a `final/` directory are never retrained.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../tensor/backend.js';
import { ConflictError, UserInputError } from '../errors.js';
import { log } from '../log.js';
import { progress, type Progress } from '../progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { configHash } from '../util/hash.js';
import { readSafetensors, writeSafetensors } from '../util/safetensors.js';
import { ActivationBuffer, type BufferState } from './buffer.js';
import {
  checkpointDir,
  exists,
  finalDir,
  pruneResumeStates,
  readResumeState,
  writeResumeState,
  writeSaeCheckpoint,
} from './checkpoint.js';
import type { TrainerConfig } from './config.js';
import type { ActivationSource } from './source.js';
import { checkpointSteps, type SweepSpec } from './sweepConfig.js';
import { NonFiniteError, type StepStats, type Trainer } from './trainer.js';
import { createTrainer } from './trainers/index.js';

export type SaeStatus = 'training' | 'finished' | 'failed';

export interface SweepHooks {
  /** Every check passed and nothing is written yet: the first write comes after this. */
  onStart?(): Promise<void> | void;
  /** A checkpoint (or the final state, `final` true) was written. */
  onCheckpoint?(e: { sae: string; config: TrainerConfig; step: number; dir: string; final: boolean }): Promise<void> | void;
  /** Called after every step with the step's stats per training SAE. */
  onStep?(step: number, stats: Map<string, StepStats>): void;
}

export interface SweepOptions {
  outDir: string;
  hooks?: SweepHooks;
  /** Progress bar (default: on when stderr is a TTY). */
  showProgress?: boolean;
  /** Stop after this step (exclusive), as if killed: for tests and staged runs. */
  stopAfterStep?: number;
  /** Write a resume point after at most this many minutes (default 15). */
  resumeMinutes?: number;
  /** Refuse to run when the SAEs' parameters + Adam state exceed this (MiB, default 3000). */
  maxResidentMiB?: number;
  /** Stop cleanly after the current step (e.g. on Ctrl-C), writing a resume point. */
  signal?: AbortSignal;
}

export interface SweepResult {
  outDir: string;
  /** Stopped by `signal` before the end (a resume point was written). */
  interrupted: boolean;
  resumedFrom: number | null;
  stepsRun: number;
  saes: { name: string; status: SaeStatus; dir: string; config: TrainerConfig; last: StepStats | null; error?: string }[];
}

interface ResumeFile {
  format: 'saeboard-sweep-resume/1';
  step: number;
  specHash: string;
  buffer: { cursor: number; rng: BufferState['rng']; vectorsServed: number };
  saes: Record<string, SaeStatus>;
}

/** The hash that identifies a sweep's work (name/output/meta changes do not invalidate it). */
export function sweepHash(spec: SweepSpec): string {
  return configHash({ batchSize: spec.batchSize, seed: spec.seed, buffer: spec.buffer.contexts, source: spec.source, saes: spec.saes });
}

function residentMiB(configs: TrainerConfig[]): number {
  // parameters + two Adam moments, float32; the decoder and encoder dominate
  return configs.reduce((a, c) => a + (3 * 4 * (2 * c.dIn * c.dictSize + 4 * c.dictSize + c.dIn)) / 2 ** 20, 0);
}

async function writeStreamState(outDir: string, state: BufferState): Promise<void> {
  await writeSafetensors(path.join(outDir, 'stream_state.safetensors'), {
    ids: { data: state.ids, shape: [state.ids.length] },
    read: { data: state.read, shape: [state.read.length], dtype: 'U8' },
  });
}

async function readStreamState(outDir: string, r: ResumeFile): Promise<BufferState> {
  const { tensors } = await readSafetensors(path.join(outDir, 'stream_state.safetensors'));
  return {
    cursor: r.buffer.cursor,
    rng: r.buffer.rng,
    vectorsServed: r.buffer.vectorsServed,
    ids: tensors.ids.data as Float64Array,
    read: tensors.read.data as Uint8Array,
  };
}

function rangeText(values: number[]): string {
  if (!values.length) return '-';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const f = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return lo === hi ? f(lo) : `${f(lo)}..${f(hi)}`;
}

export async function runSweep(spec: SweepSpec, source: ActivationSource, opts: SweepOptions): Promise<SweepResult> {
  const outDir = opts.outDir;
  for (const s of spec.saes) {
    if (s.config.dIn !== source.dIn) {
      throw new UserInputError(`${s.name}: dIn ${s.config.dIn} does not match the activation source's d_in ${source.dIn}`);
    }
  }
  const hash = sweepHash(spec);
  // Everything is read and checked before the first write, so a config error leaves nothing.
  const sweepFile = path.join(outDir, 'sweep.json');
  const sweepFileExists = await exists(sweepFile);
  if (sweepFileExists) {
    const prev = JSON.parse(await fs.readFile(sweepFile, 'utf8')) as { specHash: string };
    if (prev.specHash !== hash) {
      throw new ConflictError(`${outDir} holds a different sweep (its config hash differs); choose another output directory or delete it`);
    }
  }

  // --- where to start
  const resumeFile = path.join(outDir, 'resume.json');
  let resume: ResumeFile | null = null;
  if (await exists(resumeFile)) {
    resume = JSON.parse(await fs.readFile(resumeFile, 'utf8')) as ResumeFile;
    if (resume.specHash !== hash) throw new ConflictError(`${resumeFile} belongs to a different sweep configuration`);
  }
  const startStep = resume?.step ?? 0;
  const provenance = { sweep: spec.name, sweepHash: hash, source: source.describe(), ...(source.lineage?.() ?? {}), ...spec.meta };

  const streamIdentity = { source: source.describe(), seed: spec.seed, contexts: spec.buffer.contexts, batchSize: spec.batchSize };
  interface Run {
    identityHash: string;
    name: string;
    dir: string;
    config: TrainerConfig;
    status: SaeStatus;
    trainer: Trainer | null;
    ckpts: Set<number>;
    last: StepStats | null;
    error?: string;
  }
  const runs: Run[] = [];
  for (const s of spec.saes) {
    const dir = path.join(outDir, s.name);
    const run: Run = { identityHash: configHash({ trainer: configHash(s.config), stream: streamIdentity }), name: s.name, dir, config: s.config, status: 'training', trainer: null, ckpts: new Set(), last: null };
    if (await exists(path.join(finalDir(dir), 'config.json'))) run.status = 'finished';
    else if (await exists(path.join(dir, 'failed.json'))) {
      run.status = 'failed';
      run.error = (JSON.parse(await fs.readFile(path.join(dir, 'failed.json'), 'utf8')) as { error: string }).error;
    }
    run.ckpts = new Set(checkpointSteps(s.config.steps, spec.checkpoints.logSpaced, spec.checkpoints.steps));
    runs.push(run);
  }
  const training = runs.filter((r) => r.status === 'training');
  const mib = residentMiB(training.map((r) => r.config));
  const maxMiB = opts.maxResidentMiB ?? 3000;
  if (mib > maxMiB) {
    throw new UserInputError(
      `the ${training.length} SAEs of this sweep need ~${mib.toFixed(0)} MiB of parameters and optimizer state, more than ${maxMiB} MiB; split the trainers over several sweeps (they can share an activation set)`,
    );
  }

  const maxSteps = Math.max(...runs.map((r) => r.config.steps));
  const repeat = 'repeat' in spec.source ? Boolean(spec.source.repeat) : false;
  if (!repeat && source.totalVectors < maxSteps * spec.batchSize) {
    throw new UserInputError(
      `the activation source has ${source.totalVectors} vectors but ${maxSteps} steps × batch ${spec.batchSize} need ${maxSteps * spec.batchSize}; use a larger source, fewer steps, or set source.repeat: true to cycle through it`,
    );
  }

  await opts.hooks?.onStart?.();
  await fs.mkdir(outDir, { recursive: true });
  if (!sweepFileExists) {
    await writeFileAtomic(sweepFile, JSON.stringify({ format: 'saeboard-sweep/1', specHash: hash, spec, source: source.describe() }, null, 2) + '\n');
  }

  // --- build or restore trainers
  for (const run of training) {
    if (resume && startStep > 0) {
      const loaded = await readResumeState(run.dir, startStep);
      if (loaded.config.configHash !== configHash(run.config)) {
        throw new ConflictError(`${run.dir}: the resume state was made with a different trainer config`);
      }
      const t = createTrainer(run.config, loaded.dictionary);
      t.loadState(loaded.state);
      run.trainer = t;
      // drop log lines from after the resume point
      const logFile = path.join(run.dir, 'log.jsonl');
      if (await exists(logFile)) {
        const lines = (await fs.readFile(logFile, 'utf8')).split('\n').filter((l) => l && (JSON.parse(l) as { step: number }).step < startStep);
        await fs.writeFile(logFile, lines.map((l) => l + '\n').join(''));
      }
    } else {
      await fs.rm(run.dir, { recursive: true, force: true });
      await fs.mkdir(run.dir, { recursive: true });
      run.trainer = createTrainer(run.config);
    }
  }

  const buffer = new ActivationBuffer(source, {
    contexts: spec.buffer.contexts,
    seed: spec.seed,
    maxBytes: spec.buffer.maxMiB * 2 ** 20,
    repeat,
  });
  if (resume && startStep > 0) await buffer.restore(await readStreamState(outDir, resume));
  if (resume) log.info({ sweep: spec.name, step: startStep, training: training.length }, 'resuming sweep');

  const writeResumePoint = async (step: number) => {
    const active = runs.filter((r) => r.status === 'training' && r.trainer);
    for (const r of active) await writeResumeState(r.dir, r.trainer!, provenance, r.identityHash);
    const st = buffer.state();
    await writeStreamState(outDir, st);
    const file: ResumeFile = {
      format: 'saeboard-sweep-resume/1',
      step,
      specHash: hash,
      buffer: { cursor: st.cursor, rng: st.rng, vectorsServed: st.vectorsServed },
      saes: Object.fromEntries(runs.map((r) => [r.name, r.status])),
    };
    await writeFileAtomic(resumeFile, JSON.stringify(file, null, 2) + '\n');
    for (const r of active) await pruneResumeStates(r.dir, step);
  };

  const bar: Progress | null =
    training.length && opts.showProgress !== false ? progress({ label: `sweep ${spec.name}`, total: maxSteps, unit: 'steps', enabled: opts.showProgress }) : null;
  bar?.update(startStep);
  let lastResumeAt = Date.now();
  const resumeMs = (opts.resumeMinutes ?? 15) * 60_000;
  const stopAt = Math.min(maxSteps, opts.stopAfterStep ?? Infinity);
  let step = startStep;
  try {
    for (; step < stopAt; step++) {
      if (opts.signal?.aborted) break;
      const active = runs.filter((r) => r.status === 'training' && r.config.steps > step);
      if (!active.length) break;
      const host = await buffer.next(spec.batchSize, step);
      const x = tf.tensor2d(host, [spec.batchSize, source.dIn]);
      const stats = new Map<string, StepStats>();
      try {
        for (const r of active) {
          const t = r.trainer!;
          if (r.ckpts.has(step)) {
            const dir = checkpointDir(r.dir, step);
            await writeSaeCheckpoint(dir, t.dictionary, r.config, { step, tokensSeen: step * spec.batchSize, provenance, identityHash: r.identityHash });
            await opts.hooks?.onCheckpoint?.({ sae: r.name, config: r.config, step, dir, final: false });
          }
          let s: StepStats;
          try {
            s = t.update(x);
          } catch (err) {
            if (!(err instanceof NonFiniteError)) throw err;
            // a diverging SAE stops; the others go on
            r.status = 'failed';
            r.error = err.message;
            await writeFileAtomic(path.join(r.dir, 'failed.json'), JSON.stringify({ step, error: err.message }, null, 2) + '\n');
            log.error({ sae: r.name, step }, err.message);
            t.dispose();
            r.trainer = null;
            continue;
          }
          r.last = s;
          stats.set(r.name, s);
          if (step % 5 === 0 || t.step === r.config.steps) {
            await fs.appendFile(path.join(r.dir, 'log.jsonl'), JSON.stringify({ step, loss: s.loss, ...s.parts, l0: s.l0, mse: s.mse, fve: s.fve, dead: s.dead, lr: s.lr, ...s.extra }) + '\n');
          }
          if (t.step === r.config.steps) {
            const dir = finalDir(r.dir);
            await writeSaeCheckpoint(dir, t.dictionary, r.config, { step: t.step, tokensSeen: t.step * spec.batchSize, provenance, identityHash: r.identityHash });
            r.status = 'finished';
            await pruneResumeStates(r.dir, null);
            t.dispose();
            r.trainer = null;
            await opts.hooks?.onCheckpoint?.({ sae: r.name, config: r.config, step: r.config.steps, dir, final: true });
          }
        }
      } finally {
        x.dispose();
      }
      opts.hooks?.onStep?.(step, stats);
      const vals = [...stats.values()];
      bar?.update(step + 1, { saes: vals.length, l0: rangeText(vals.map((v) => v.l0)), mse: rangeText(vals.map((v) => v.mse)) });
      const next = step + 1;
      const due = next % spec.checkpoints.resumeEvery === 0 || Date.now() - lastResumeAt > resumeMs;
      if (due && next < maxSteps && runs.some((r) => r.status === 'training')) {
        await writeResumePoint(next);
        lastResumeAt = Date.now();
      }
    }
    if (step < maxSteps && runs.some((r) => r.status === 'training')) await writeResumePoint(step);
  } finally {
    bar?.stop();
    for (const r of runs) r.trainer?.dispose();
    source.dispose?.();
  }
  if (runs.every((r) => r.status !== 'training')) {
    const file: ResumeFile | null = (await exists(resumeFile)) ? (JSON.parse(await fs.readFile(resumeFile, 'utf8')) as ResumeFile) : null;
    if (file) await writeFileAtomic(resumeFile, JSON.stringify({ ...file, step: maxSteps, saes: Object.fromEntries(runs.map((r) => [r.name, r.status])) }, null, 2) + '\n');
  }
  return {
    outDir,
    interrupted: Boolean(opts.signal?.aborted) && runs.some((r) => r.status === 'training'),
    resumedFrom: resume ? startStep : null,
    stepsRun: step - startStep,
    saes: runs.map((r) => ({ name: r.name, status: r.status, dir: r.dir, config: r.config, last: r.last, ...(r.error ? { error: r.error } : {}) })),
  };
}
