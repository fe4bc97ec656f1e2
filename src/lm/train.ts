/**
 * GPT training (nanoGPT's recipe): AdamW, linear warm-up + cosine decay, global-norm gradient
 * clipping, periodic held-out loss, checkpoints that resume exactly.
 *
 * Exact resume: everything random is a function of (seed, step): the initial weights come from
 * the seed, and the rows of step s are samples s·B..(s+1)·B−1 of an endless stream that visits the
 * training rows in a fresh seeded permutation per epoch. A checkpoint stores weights, AdamW
 * moments and the step in float32/JSON, so a resumed run computes bit-identical losses to an
 * uninterrupted one (tested).
 *
 * Run directory:
 *   run.json                 training options + model config (checked on resume)
 *   metrics.jsonl            {step, loss, lr, gradNorm, tokensPerSec} and {step, evalLoss} lines
 *   ckpt-00000500/           config.json, model.safetensors, optimizer.safetensors, trainer_state.json
 *   ckpt-00001000/ ...       older checkpoints keep their weights; only the newest keeps its optimizer
 *
 * Precision: float32. The wasm backend has no bf16 arithmetic; tfjs-node(-gpu) would not change
 * that either (tfjs has no bf16 dtype).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import { log } from '../log.js';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { encodeSafetensors, readSafetensors, toFloat32 } from '../util/safetensors.js';
import { readMeta, readModelTensors, writeModelFiles, type CheckpointMeta } from './checkpoint.js';
import { parseConfig } from './config.js';
import { checkTokenizerMatch, type TokenSequences } from './data.js';
import { Gpt } from './model.js';
import { crossEntropy } from './ops.js';
import { AdamW, clipByGlobalNorm, learningRate } from './optim.js';
import type { HostTensor } from './params.js';
import { epochPermutation } from './rng.js';

export const trainOptionsSchema = z
  .object({
    steps: z.number().int().positive(),
    batchSize: z.number().int().positive(),
    lr: z.number().positive(),
    minLr: z.number().nonnegative(),
    warmupSteps: z.number().int().nonnegative(),
    /** Default: steps. */
    decaySteps: z.number().int().positive().optional(),
    beta1: z.number().min(0).max(1),
    beta2: z.number().min(0).max(1),
    eps: z.number().positive(),
    weightDecay: z.number().nonnegative(),
    /** Global-norm clip; 0 disables. */
    gradClip: z.number().nonnegative(),
    evalInterval: z.number().int().positive(),
    /** Held-out rows per evaluation. */
    evalRows: z.number().int().positive(),
    checkpointInterval: z.number().int().positive(),
    seed: z.number().int(),
    /** Targets equal to this token do not count (Othello padding 0). */
    ignoreIndex: z.number().int().nullable(),
  })
  .strict();
export type TrainOptions = z.infer<typeof trainOptionsSchema>;

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'steps' | 'batchSize'> = {
  lr: 1e-3,
  minLr: 1e-4,
  warmupSteps: 100,
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  weightDecay: 0.1,
  gradClip: 1.0,
  evalInterval: 250,
  evalRows: 256,
  checkpointInterval: 500,
  seed: 1,
  ignoreIndex: null,
};

export function parseTrainOptions(raw: unknown, where = 'training options'): TrainOptions {
  const r = trainOptionsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserInputError(`${where}: field "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return r.data;
}

export interface TrainerState {
  step: number;
  /** Training rows consumed so far (= step · batchSize): the data cursor. */
  samplesSeen: number;
  tokensSeen: number;
  seed: number;
  lastLoss: number | null;
  lastEvalLoss: number | null;
}

export interface CheckpointInfo {
  dir: string;
  step: number;
  tokensSeen: number;
  trainLoss: number | null;
  evalLoss: number | null;
}

export interface TrainRunOptions {
  outDir: string;
  /** Metadata template for every checkpoint's config.json (name, game, tokenizer, model config...). */
  meta: CheckpointMeta;
  train: TokenSequences;
  heldOut?: TokenSequences;
  options: TrainOptions;
  /** Start from these weights instead of the seeded random init (fine-tuning). */
  initialWeights?: Record<string, HostTensor>;
  onStep?: (s: { step: number; loss: number; lr: number; tokensPerSec: number; tokensSeen: number }) => void;
  onEval?: (s: { step: number; evalLoss: number }) => void;
  onCheckpoint?: (c: CheckpointInfo) => void | Promise<void>;
  /** Polled between steps: when true, checkpoint and return (SIGINT/SIGTERM handling). */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  state: TrainerState;
  finalCheckpoint: string;
  evalLoss: number | null;
  stoppedEarly: boolean;
  resumedFrom: number | null;
  tokensPerSec: number;
}

const CKPT_RE = /^ckpt-(\d{8})$/;

export function checkpointDirName(step: number): string {
  return `ckpt-${String(step).padStart(8, '0')}`;
}

/** Every checkpoint directory of a run directory, oldest first. */
export async function listCheckpointDirs(outDir: string): Promise<{ dir: string; step: number }[]> {
  if (!existsSync(outDir)) return [];
  return (await fs.readdir(outDir))
    .map((n) => ({ n, m: CKPT_RE.exec(n) }))
    .filter((x) => x.m && existsSync(path.join(outDir, x.n, 'config.json')))
    .map((x) => ({ dir: path.join(outDir, x.n), step: Number(x.m![1]) }))
    .sort((a, b) => a.step - b.step);
}

/** The newest resumable checkpoint in a run directory (has optimizer + trainer state), or null. */
export async function latestCheckpoint(outDir: string, opts: { resumable?: boolean } = {}): Promise<string | null> {
  if (!existsSync(outDir)) return null;
  const names = (await fs.readdir(outDir)).filter((n) => CKPT_RE.test(n)).sort().reverse();
  for (const n of names) {
    const dir = path.join(outDir, n);
    if (!opts.resumable || (existsSync(path.join(dir, 'trainer_state.json')) && existsSync(path.join(dir, 'optimizer.safetensors')))) return dir;
  }
  return null;
}

/** Rows of training step `step`: samples step·B.. of the per-epoch permuted stream. */
export function batchRowIndices(nRows: number, batchSize: number, seed: number, step: number, cache?: Map<number, Uint32Array>): Uint32Array {
  const out = new Uint32Array(batchSize);
  for (let i = 0; i < batchSize; i++) {
    const sample = step * batchSize + i;
    const epoch = Math.floor(sample / nRows);
    let perm = cache?.get(epoch);
    if (!perm) {
      perm = epochPermutation(nRows, seed, epoch);
      if (cache) {
        cache.clear(); // one epoch at a time is enough: batches never span more than two
        cache.set(epoch, perm);
      }
    }
    out[i] = perm[sample % nRows];
  }
  return out;
}

/** Mean next-token loss of inputs row[:, :T] against row[:, 1:T+1]. */
function batchLoss(model: Gpt, rows_BL: tf.Tensor2D, T: number, ignoreIndex: number | null): tf.Scalar {
  return tf.tidy(() => {
    const [B] = rows_BL.shape;
    const V = model.config.vocabSize;
    const x_BT = rows_BL.slice([0, 0], [B, T]);
    const y_N = rows_BL.slice([0, 1], [B, T]).reshape([B * T]) as tf.Tensor1D;
    const logits_NV = model.forward(x_BT).reshape([B * T, V]) as tf.Tensor2D;
    return crossEntropy(logits_NV, y_N, ignoreIndex ?? undefined);
  });
}

async function readRows(data: TokenSequences, indices: ArrayLike<number>, width: number): Promise<Int32Array> {
  const out = new Int32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const row = await data.read(indices[i], 1);
    out.set(row.subarray(0, width), i * width);
  }
  return out;
}

/** Mean loss over the first `rows` held-out rows (no gradients), weighting batches by their size. */
export async function evaluateLoss(model: Gpt, data: TokenSequences, rows: number, ignoreIndex: number | null, batchSize = 32): Promise<number> {
  const T = Math.min(model.config.nCtx, data.length - 1);
  const n = Math.min(rows, data.count);
  let sum = 0;
  let count = 0;
  for (let r = 0; r < n; r += batchSize) {
    const B = Math.min(batchSize, n - r);
    const block = await data.read(r, B);
    const rowsT = new Int32Array(B * (T + 1));
    for (let b = 0; b < B; b++) rowsT.set(block.subarray(b * data.length, b * data.length + T + 1), b * (T + 1));
    const t = tf.tensor2d(rowsT, [B, T + 1], 'int32');
    const loss = batchLoss(model, t, T, ignoreIndex);
    sum += (await loss.data())[0] * B;
    count += B;
    loss.dispose();
    t.dispose();
  }
  return sum / count;
}

async function appendMetrics(file: string, lines: object[]): Promise<void> {
  if (lines.length) await fs.appendFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** Drop metric lines written after the checkpoint we resume from (a kill may have left some). */
async function truncateMetrics(file: string, step: number): Promise<void> {
  if (!existsSync(file)) return;
  const kept = (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .filter((l) => {
      try {
        return (JSON.parse(l) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  await writeFileAtomic(file, kept.length ? kept.join('\n') + '\n' : '');
}

function optionsForComparison(o: TrainOptions): Record<string, unknown> {
  const { steps: _steps, evalInterval: _e, evalRows: _r, checkpointInterval: _c, ...rest } = o;
  return { ...rest, decaySteps: o.decaySteps ?? o.steps };
}

export async function trainLm(run: TrainRunOptions): Promise<TrainResult> {
  const opts = parseTrainOptions(run.options);
  const cfg = parseConfig(run.meta.model, 'model config');
  checkTokenizerMatch(cfg, run.meta.tokenizer, run.train);
  if (run.heldOut) checkTokenizerMatch(cfg, run.meta.tokenizer, run.heldOut);
  if (run.train.length < 2) throw new UserInputError(`${run.train.source}: rows need at least 2 tokens to train on`);
  const T = Math.min(cfg.nCtx, run.train.length - 1);
  const width = T + 1;
  const decaySteps = opts.decaySteps ?? opts.steps;
  const schedule = { lr: opts.lr, minLr: opts.minLr, warmupSteps: opts.warmupSteps, decaySteps };
  await fs.mkdir(run.outDir, { recursive: true });
  const runFile = path.join(run.outDir, 'run.json');
  const metricsFile = path.join(run.outDir, 'metrics.jsonl');

  // --- resume or start
  const resumeDir = await latestCheckpoint(run.outDir, { resumable: true });
  let model: Gpt;
  let optimizer: AdamW;
  let state: TrainerState;
  let resumedFrom: number | null = null;
  if (resumeDir) {
    const prev = JSON.parse(await fs.readFile(runFile, 'utf8')) as { options: TrainOptions; model: unknown; tokenizer: string };
    const a = optionsForComparison(parseTrainOptions(prev.options, runFile));
    const b = optionsForComparison(opts);
    for (const k of Object.keys({ ...a, ...b })) {
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
        throw new UserInputError(`cannot resume ${run.outDir}: option "${k}" was ${JSON.stringify(a[k])}, now ${JSON.stringify(b[k])} (use a new --out, or the same options)`);
      }
    }
    const prevModel = parseConfig(prev.model, runFile);
    if (JSON.stringify(prevModel) !== JSON.stringify(cfg)) throw new UserInputError(`cannot resume ${run.outDir}: the model config differs from the run's`);
    const meta = await readMeta(resumeDir);
    model = Gpt.fromHost(meta.model, await readModelTensors(resumeDir), resumeDir);
    state = JSON.parse(await fs.readFile(path.join(resumeDir, 'trainer_state.json'), 'utf8')) as TrainerState;
    optimizer = new AdamW(model.variables(), { beta1: opts.beta1, beta2: opts.beta2, eps: opts.eps, weightDecay: opts.weightDecay });
    const { tensors } = await readSafetensors(path.join(resumeDir, 'optimizer.safetensors'));
    const host: Record<string, HostTensor> = {};
    for (const [k, t] of Object.entries(tensors)) host[k] = { shape: t.shape, data: toFloat32(t) };
    optimizer.load(host, state.step, resumeDir);
    resumedFrom = state.step;
    await truncateMetrics(metricsFile, state.step);
    log.info({ from: resumeDir, step: state.step }, 'resuming training');
  } else {
    model = run.initialWeights ? Gpt.fromHost(cfg, run.initialWeights, 'initial weights') : Gpt.random(cfg, opts.seed);
    optimizer = new AdamW(model.variables(), { beta1: opts.beta1, beta2: opts.beta2, eps: opts.eps, weightDecay: opts.weightDecay });
    state = { step: 0, samplesSeen: 0, tokensSeen: 0, seed: opts.seed, lastLoss: null, lastEvalLoss: null };
    await writeFileAtomic(runFile, JSON.stringify({ options: opts, model: cfg, tokenizer: run.meta.tokenizer, game: run.meta.game, name: run.meta.name }, null, 2) + '\n');
    await writeFileAtomic(metricsFile, '');
  }

  const vars = model.variables();
  const varList = vars.map((v) => v.variable);
  const permCache = new Map<number, Uint32Array>();
  let lastCheckpoint = resumeDir ?? '';
  let stoppedEarly = false;
  const tokensPerStep = opts.batchSize * T;
  const t0 = performance.now();
  let stepsThisRun = 0;
  let pendingLines: object[] = [];

  const checkpoint = async () => {
    const dir = path.join(run.outDir, checkpointDirName(state.step));
    const meta: CheckpointMeta = {
      ...run.meta,
      model: cfg,
      training: {
        ...(run.meta.training ?? {}),
        step: state.step,
        tokensSeen: state.tokensSeen,
        trainLoss: state.lastLoss,
        evalLoss: state.lastEvalLoss,
        options: opts,
        precision: 'float32',
      },
    };
    const weights = await model.toHost();
    const moments = await optimizer.toHost();
    await writeDirAtomic(
      dir,
      async (tmp) => {
        await writeModelFiles(tmp, meta, weights);
        const flat: Record<string, { data: Float32Array; shape: number[] }> = {};
        for (const [k, t] of Object.entries(moments)) flat[k] = { data: t.data, shape: t.shape };
        await fs.writeFile(path.join(tmp, 'optimizer.safetensors'), encodeSafetensors(flat, { step: String(state.step) }));
        await fs.writeFile(path.join(tmp, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
      },
      { overwrite: true },
    );
    await appendMetrics(metricsFile, pendingLines);
    pendingLines = [];
    // older checkpoints keep their weights (snapshots) but not the optimizer (3× the size)
    for (const n of await fs.readdir(run.outDir)) {
      const m = CKPT_RE.exec(n);
      if (m && Number(m[1]) < state.step) {
        await fs.rm(path.join(run.outDir, n, 'optimizer.safetensors'), { force: true });
        await fs.rm(path.join(run.outDir, n, 'trainer_state.json'), { force: true });
      }
    }
    lastCheckpoint = dir;
    await run.onCheckpoint?.({ dir, step: state.step, tokensSeen: state.tokensSeen, trainLoss: state.lastLoss, evalLoss: state.lastEvalLoss });
  };

  const evaluate = async () => {
    if (!run.heldOut) return;
    const evalLoss = await evaluateLoss(model, run.heldOut, opts.evalRows, opts.ignoreIndex);
    state.lastEvalLoss = evalLoss;
    pendingLines.push({ step: state.step, evalLoss });
    run.onEval?.({ step: state.step, evalLoss });
  };

  try {
    if (state.step === 0 && run.heldOut) await evaluate();
    while (state.step < opts.steps) {
      if (run.shouldStop?.()) {
        stoppedEarly = true;
        break;
      }
      const step = state.step;
      const lr = learningRate(schedule, step);
      const idx = batchRowIndices(run.train.count, opts.batchSize, opts.seed, step, permCache);
      const rows = await readRows(run.train, idx, width);
      const rows_BL = tf.tensor2d(rows, [opts.batchSize, width], 'int32');
      const { value, grads } = tf.variableGrads(() => batchLoss(model, rows_BL, T, opts.ignoreIndex), varList);
      rows_BL.dispose();
      const named: Record<string, tf.Tensor> = {};
      vars.forEach((v, i) => {
        named[v.name] = grads[varList[i].name];
      });
      const { clipped, norm } = clipByGlobalNorm(named, opts.gradClip);
      optimizer.apply(clipped, lr);
      for (const g of Object.values(clipped)) g.dispose();
      const loss = (await value.data())[0];
      value.dispose();
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step}: loss ${loss} (lower --lr?)`);

      state.step = step + 1;
      state.samplesSeen += opts.batchSize;
      state.tokensSeen += tokensPerStep;
      state.lastLoss = loss;
      stepsThisRun++;
      const tokensPerSec = (stepsThisRun * tokensPerStep) / ((performance.now() - t0) / 1000);
      pendingLines.push({ step: state.step, loss, lr, gradNorm: norm, tokensPerSec: Math.round(tokensPerSec) });
      run.onStep?.({ step: state.step, loss, lr, tokensPerSec, tokensSeen: state.tokensSeen });

      if (state.step % opts.evalInterval === 0 || state.step === opts.steps) await evaluate();
      if (state.step % opts.checkpointInterval === 0 || state.step === opts.steps) await checkpoint();
      else if (pendingLines.length >= 50) {
        await appendMetrics(metricsFile, pendingLines);
        pendingLines = [];
      }
    }
    if (stoppedEarly && lastCheckpoint !== path.join(run.outDir, checkpointDirName(state.step))) await checkpoint();
    if (!lastCheckpoint) await checkpoint();
  } finally {
    await appendMetrics(metricsFile, pendingLines).catch(() => {});
    optimizer.dispose();
    model.dispose();
  }
  return {
    state,
    finalCheckpoint: lastCheckpoint,
    evalLoss: state.lastEvalLoss,
    stoppedEarly,
    resumedFrom,
    tokensPerSec: stepsThisRun ? (stepsThisRun * tokensPerStep) / ((performance.now() - t0) / 1000) : 0,
  };
}
