/**
 * The job kinds: each one a zod config (validated before anything is queued, with one readable
 * line per bad field) and a handler that runs the existing pipeline functions. Handlers are
 * idempotent and resumable: a retried job (after a crash or kill -9) finds what its earlier attempt
 * finished and goes on from there (complete datasets and activation sets are reused; sweeps resume
 * from their last resume point); everything they write is temp-then-rename or one transaction.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { z } from 'zod';
import { UserInputError } from '../errors.js';
import { configHash } from '../util/hash.js';
import { initBackend } from '../tensor/backend.js';
import { adapterFor, MANIFEST_FILE, checkImportSpec, chessRandomSource, importNotes, importPlan, importSpecFields, othelloRandomSource, resolveFamilies, writeDataset } from '../games/dataset/index.js';
import { writeActivations } from '../lm/activations.js';
import { loadModelDir, modelConfigHash } from '../lm/checkpoint.js';
import { datasetSequences } from '../lm/dataset.js';
import { parseSite } from '../lm/model.js';
import { resolveModelPath } from '../lm/models.js';
import { tokenizerInfo } from '../lm/tokenizers.js';
import { evaluateUnsupervised } from '../sae/evaluate.js';
import { loadSae } from '../sae/interop.js';
import { activationSetSource } from '../sae/source.js';
import { runSweep } from '../sae/sweep.js';
import { resolveSweep } from '../sae/sweepConfig.js';
import { listCheckpoints, checkpointDir, finalDir } from '../sae/checkpoint.js';
import { registerDatasetDir } from './datasets.js';
import { runEvaluation } from './eval.js';
import { registerActivationDir, registerLmRunDir, registerProbeResults } from './lm.js';
import { lmTrainSpecSchema, prepareTrainRun } from '../lm/train-run.js';
import { trainLm } from '../lm/train.js';
import { DEFAULT_PROBE_FAMILY, trainLayerProbes } from '../lm/probe-data.js';
import { registerSweepDir, storeUnsupervisedMetrics } from './sae.js';
import { runAnalyze } from './analyze.js';

export interface JobContext {
  pool: pg.Pool;
  jobId: number;
  /** Aborted when the job is cancelled: stop within seconds, leave nothing partial. */
  signal: AbortSignal;
  /** Report progress (0..1) with an optional stage and log line; cheap to call often. */
  progress(fraction: number, opts?: { stage?: string; message?: string; throughput?: number }): void;
  log(line: string): void;
}

export interface JobKind<C> {
  kind: string;
  description: string;
  schema: z.ZodType<C>;
  run(config: C, ctx: JobContext): Promise<Record<string, unknown>>;
}

function defineKind<S extends z.ZodType>(k: { kind: string; description: string; schema: S; run(config: z.output<S>, ctx: JobContext): Promise<Record<string, unknown>> }): JobKind<z.output<S>> {
  return k as JobKind<z.output<S>>;
}

const dir = z.string().min(1, 'a directory path').max(4096);
const game = z.enum(['othello', 'chess']);

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new UserInputError('cancelled');
}

async function isComplete(d: string, file: string): Promise<boolean> {
  return fs.access(path.join(d, file)).then(
    () => true,
    () => false,
  );
}

const generateDataset = defineKind({
  kind: 'GENERATE_DATASET',
  description: 'random legal games with BSP labels → a dataset directory, registered',
  schema: z
    .object({
      game,
      games: z.number().int().min(1).max(10_000_000),
      seed: z.number().int().default(0),
      minMoves: z.number().int().min(1).max(60).optional(),
      maxPlies: z.number().int().min(1).optional(),
      families: z.string().default('default'),
      testFraction: z.number().gt(0).lt(1).default(0.5),
      out: dir,
      name: z.string().optional(),
    })
    .strict(),
  async run(c, ctx) {
    if (!(await isComplete(c.out, MANIFEST_FILE))) {
      const adapter = adapterFor(c.game);
      const source = c.game === 'othello' ? othelloRandomSource({ games: c.games, seed: c.seed, minMoves: c.minMoves }) : chessRandomSource({ games: c.games, seed: c.seed, maxPlies: c.maxPlies });
      ctx.progress(0, { stage: 'generating games' });
      await writeDataset({ out: c.out, adapter, families: resolveFamilies(adapter, c.families), source, name: c.name, testFraction: c.testFraction, overwrite: true, showProgress: false });
    } else ctx.log(`${c.out} is complete already: reused`);
    throwIfCancelled(ctx.signal);
    const r = await registerDatasetDir(ctx.pool, c.out, { name: c.name, verify: false });
    return { datasetId: r.dataset.id, path: path.resolve(c.out) };
  },
});

const importGames = defineKind({
  kind: 'IMPORT',
  description: "a file of games (the paper's chess or Othello transcripts, or PGN) labelled into a dataset directory, registered",
  schema: importSpecFields
    .extend({
      out: dir,
      name: z.string().optional(),
      families: z.string().default('default'),
      testFraction: z.number().gt(0).lt(1).default(0.2),
    })
    .strict()
    .superRefine(checkImportSpec),
  async run(c, ctx) {
    let notes: string[] = [];
    if (!(await isComplete(c.out, MANIFEST_FILE))) {
      const { adapter, source: plain, tokensPerGame } = await importPlan(c);
      // Cancelling stops the read between games; the writer then drops its temp directory.
      const games = plain.games;
      const signal = ctx.signal;
      const source = {
        ...plain,
        games: (async function* () {
          for await (const g of games) {
            throwIfCancelled(signal);
            yield g;
          }
        })(),
      };
      ctx.progress(0, { stage: `importing ${path.basename(c.file)}` });
      const p = source.progress;
      const t0 = performance.now();
      const timer = p
        ? setInterval(() => {
            const v = p.value();
            ctx.progress(Math.min(0.99, v / Math.max(1, p.total)), { throughput: v / ((performance.now() - t0) / 1000), message: `throughput in ${p.unit}/s` });
          }, 500)
        : null;
      try {
        await writeDataset({ out: c.out, adapter, families: resolveFamilies(adapter, c.families), source, name: c.name, testFraction: c.testFraction, tokensPerGame, overwrite: true, showProgress: false });
      } finally {
        if (timer) clearInterval(timer);
      }
      notes = importNotes(source);
      for (const n of notes) ctx.log(n);
    } else ctx.log(`${c.out} is complete already: reused`);
    throwIfCancelled(ctx.signal);
    const r = await registerDatasetDir(ctx.pool, c.out, { name: c.name, verify: false });
    return { datasetId: r.dataset.id, path: path.resolve(c.out), games: r.dataset.n_games, notes };
  },
});

const trainLmKind = defineKind({
  kind: 'TRAIN_LM',
  description: 'a board-game GPT trained on a dataset as `saeboard lm train` (resumes from its last checkpoint), its checkpoints registered',
  schema: lmTrainSpecSchema,
  async run(c, ctx) {
    await initBackend();
    const run = await prepareTrainRun(c);
    const { nLayer, dModel, nHead } = run.cfg;
    ctx.progress(0, { stage: `training a ${nLayer}-layer ${dModel}-wide ${nHead}-head GPT on ${run.train.count} games (${c.steps} steps × ${c.batchSize})`, message: 'throughput in tokens/s' });
    // Checkpoints are registered once training is done: a cancelled or crashed run shows nothing
    // in the database, and its retry resumes from the newest checkpoint on disk.
    const r = await trainLm({
      outDir: c.out,
      meta: run.meta,
      train: run.train,
      heldOut: run.heldOut,
      options: run.options,
      initialWeights: run.initialWeights,
      onStep: (s) => ctx.progress(s.step / c.steps, { throughput: s.tokensPerSec }),
      onCheckpoint: (k) => ctx.log(`checkpoint at step ${k.step}: train loss ${k.trainLoss?.toFixed(4) ?? '-'}, held-out loss ${k.evalLoss?.toFixed(4) ?? '-'}`),
      shouldStop: () => ctx.signal.aborted,
    });
    throwIfCancelled(ctx.signal);
    if (r.resumedFrom !== null) ctx.log(`resumed from the checkpoint at step ${r.resumedFrom}`);
    ctx.progress(1, { stage: 'registering checkpoints' });
    const reg = await registerLmRunDir(ctx.pool, c.out, { datasetPath: c.dataset });
    return {
      lmModelId: reg.modelId,
      lmCheckpointIds: reg.checkpointIds,
      name: run.meta.name,
      path: path.resolve(c.out),
      finalCheckpoint: r.finalCheckpoint,
      steps: r.state.step,
      resumedFrom: r.resumedFrom,
      trainLoss: r.state.lastLoss,
      evalLoss: r.evalLoss,
    };
  },
});

const collectActivations = defineKind({
  kind: 'COLLECT_ACTIVATIONS',
  description: "an LM's activations at one layer and site over a dataset → an activation set, registered",
  schema: z
    .object({
      model: z.string().min(1),
      dataset: dir,
      layer: z.number().int().min(0),
      site: z.string().default('resid_post'),
      split: z.enum(['train', 'test', 'all']).default('train'),
      maxGames: z.number().int().min(1).optional(),
      out: dir,
    })
    .strict(),
  async run(c, ctx) {
    await initBackend();
    const modelDir = resolveModelPath(c.model);
    if (!(await isComplete(c.out, 'manifest.json'))) {
      const { model, meta } = await loadModelDir(modelDir);
      try {
        const tok = tokenizerInfo(meta.tokenizer);
        const T = tok.game === 'chess' ? Math.min(256, model.config.nCtx) : model.config.nCtx;
        const data = await datasetSequences(c.dataset, { split: c.split, minLength: tok.padToken === null ? T : undefined, limit: c.maxGames });
        ctx.progress(0, { stage: 'LM forward passes' });
        await writeActivations({
          model,
          tokenizer: meta.tokenizer,
          layer: c.layer,
          site: parseSite(c.site),
          data,
          contextLength: Math.min(T, data.length),
          outDir: c.out,
          overwrite: true,
          modelInfo: { name: meta.name, dir: path.resolve(modelDir), config: meta.model, tokenizer: meta.tokenizer },
          onProgress: (rows) => ctx.progress(rows / data.count),
        });
      } finally {
        model.dispose();
      }
    } else ctx.log(`${c.out} is complete already: reused`);
    throwIfCancelled(ctx.signal);
    const id = await registerActivationDir(ctx.pool, c.out, { checkpointDir: modelDir, datasetDir: c.dataset });
    return { activationSetId: id, path: path.resolve(c.out) };
  },
});

const trainSaeSweep = defineKind({
  kind: 'TRAIN_SAE_SWEEP',
  description: 'a sweep of SAEs on one activation stream (resumes from its last resume point), registered',
  schema: z
    .object({
      sweep: z.record(z.string(), z.unknown()),
      out: dir,
      /** Write an exact-resume point at least this often (a retried job resumes there). */
      resumeEverySeconds: z.number().positive().default(60),
    })
    .strict(),
  async run(c, ctx) {
    await initBackend();
    const doc = c.sweep as { source?: { path?: string } };
    if (!doc.source?.path) throw new UserInputError('sweep.source.path: the activation set to train on');
    const source = await activationSetSource(doc.source.path);
    const spec = resolveSweep(c.sweep, source.dIn, 'sweep');
    ctx.progress(0, { stage: `training ${spec.saes.length} SAEs` });
    const maxSteps = Math.max(...spec.saes.map((s) => s.config.steps));
    const t0 = performance.now();
    const result = await runSweep(spec, source, {
      outDir: c.out,
      showProgress: false,
      signal: ctx.signal,
      resumeMinutes: c.resumeEverySeconds / 60,
      hooks: {
        onStep: (step) => {
          if (step % 10 === 0) ctx.progress(step / maxSteps, { throughput: (step * spec.batchSize) / ((performance.now() - t0) / 1000) });
        },
      },
    });
    throwIfCancelled(ctx.signal);
    const reg = await registerSweepDir(ctx.pool, c.out);
    return { sweep: spec.name, path: path.resolve(c.out), saes: reg.saes, resumedFrom: result.resumedFrom };
  },
});

const evaluate = defineKind({
  kind: 'EVALUATE',
  description: 'coverage, board reconstruction, alignments, examples (and unsupervised metrics) of SAE checkpoints → Postgres',
  schema: z
    .object({
      /** SAE checkpoint directories, or sweep directories (every kept checkpoint of every SAE). */
      saes: z.array(dir).min(1).max(10_000),
      dataset: dir,
      families: z.string().optional(),
      /** Activation set for the unsupervised metrics (L0, variance explained, ...); none = skip. */
      activations: dir.optional(),
      unsupervisedVectors: z.number().int().min(16).default(4096),
      /** Loss recovered (metrics.md §7) with this LM patched at this block, over `contexts` rows of the dataset's train split. */
      lossRecovered: z
        .object({ model: z.string().min(1), layer: z.number().int().min(0), site: z.string().default('resid_post'), contexts: z.number().int().min(1).max(10_000).default(25) })
        .strict()
        .optional(),
      maxSampleGames: z.number().int().min(1).optional(),
      /** Of a sweep directory: every kept checkpoint, the final ones, or the intermediate ones. */
      checkpoints: z.enum(['all', 'final', 'intermediate']).default('all'),
    })
    .strict(),
  async run(c, ctx) {
    await initBackend();
    const dirs: string[] = [];
    for (const d of c.saes) {
      if (await isComplete(d, 'sweep.json')) {
        const sweep = JSON.parse(await fs.readFile(path.join(d, 'sweep.json'), 'utf8')) as { spec: { saes: { name: string }[] } };
        for (const s of sweep.spec.saes) {
          const saeDir = path.join(d, s.name);
          if (c.checkpoints !== 'final') for (const step of await listCheckpoints(saeDir)) dirs.push(checkpointDir(saeDir, step));
          if (c.checkpoints !== 'intermediate' && (await isComplete(finalDir(saeDir), 'config.json'))) dirs.push(finalDir(saeDir));
        }
      } else dirs.push(d);
    }
    if (!dirs.length) throw new UserInputError('no SAE checkpoints found to evaluate');
    if (c.activations) {
      ctx.progress(0, { stage: 'unsupervised metrics' });
      const source = await activationSetSource(c.activations);
      // The sampling buffer holds whole contexts: a small activation set bounds the batch.
      const batchSize = Math.max(1, Math.min(c.unsupervisedVectors, Math.floor(source.totalVectors / source.contextLength) * source.contextLength));
      const lm = c.lossRecovered ? await loadModelDir(resolveModelPath(c.lossRecovered.model)) : null;
      try {
        let lossRecovered: Parameters<typeof evaluateUnsupervised>[2]['lossRecovered'];
        if (lm && c.lossRecovered) {
          const tok = tokenizerInfo(lm.meta.tokenizer);
          const T = tok.game === 'chess' ? Math.min(256, lm.model.config.nCtx) : lm.model.config.nCtx;
          const data = await datasetSequences(c.dataset, { split: 'train', minLength: tok.padToken === null ? T : undefined });
          const site = parseSite(c.lossRecovered.site);
          lossRecovered = { model: lm.model, layer: c.lossRecovered.layer, site, data, contexts: c.lossRecovered.contexts, contextLength: Math.min(T, data.length), lmId: modelConfigHash(lm.meta) };
        }
        for (const [i, d] of dirs.entries()) {
          throwIfCancelled(ctx.signal);
          const { dictionary } = await loadSae(d);
          try {
            const res = await evaluateUnsupervised(dictionary, source, { nVectors: c.unsupervisedVectors, batchSize, seed: 0, lossRecovered });
            await storeUnsupervisedMetrics(ctx.pool, d, res.rows, res.evalConfig, res.evalConfigHash);
          } finally {
            dictionary.dispose();
          }
          ctx.progress((0.3 * (i + 1)) / dirs.length);
        }
      } finally {
        lm?.model.dispose();
      }
    }
    ctx.progress(0.3, { stage: `supervised evaluation of ${dirs.length} checkpoints` });
    const results = await runEvaluation({ saeDirs: dirs, datasetDir: c.dataset, families: c.families, maxSampleGames: c.maxSampleGames, pool: ctx.pool, exportDir: null });
    return { evaluated: results.length, saeCheckpointIds: results.map((r) => r.saeCheckpointId) };
  },
});

const probe = defineKind({
  kind: 'PROBE',
  description: "linear probes of a BSP family on an LM's layers (the ceiling SAEs are compared with), registered",
  schema: z
    .object({
      model: z.string().min(1),
      dataset: dir,
      /** Blocks to probe (default all). */
      layers: z.array(z.number().int().min(0)).min(1).optional(),
      /** BSP family short names (default: the game's board-state probe, mine_yours / piece). */
      families: z.array(z.string()).min(1).optional(),
      maxTrain: z.number().int().min(10).default(20_000),
      maxTest: z.number().int().min(10).default(10_000),
      maxEpochs: z.number().int().min(1).default(40),
    })
    .strict(),
  async run(c, ctx) {
    await initBackend();
    const modelDir = resolveModelPath(c.model);
    const { model, meta } = await loadModelDir(modelDir);
    try {
      const layers = c.layers ?? Array.from({ length: model.config.nLayer }, (_, i) => i);
      ctx.progress(0, { stage: 'probe activations' });
      const results = await trainLayerProbes({
        model,
        modelTokenizer: meta.tokenizer,
        datasetDir: c.dataset,
        layers,
        families: c.families ?? [DEFAULT_PROBE_FAMILY[meta.game as 'othello' | 'chess']],
        maxTrain: c.maxTrain,
        maxTest: c.maxTest,
        probe: { maxEpochs: c.maxEpochs },
        onProgress: (n) => ctx.progress((0.5 * n) / (c.maxTrain + c.maxTest)),
      });
      throwIfCancelled(ctx.signal);
      const n = await registerProbeResults(ctx.pool, modelDir, c.dataset, results.map((r) => ({ ...r, site: 'resid_post' })), { maxEpochs: c.maxEpochs, maxTrain: c.maxTrain, maxTest: c.maxTest });
      const best = results.reduce((a, r) => (r.accuracy > a.accuracy ? r : a), results[0]);
      return { probes: n, best: best ? { layer: best.layer, family: best.family, accuracy: best.accuracy, baseline: best.baselineAccuracy } : null };
    } finally {
      model.dispose();
    }
  },
});

const id = z.number().int().positive();
const unit = z.number().min(0).max(1);

const analyze = defineKind({
  kind: 'ANALYZE',
  description: 'absorption, splitting and explanations of evaluated checkpoints, feature matching between checkpoints, feature histories of SAEs → Postgres',
  schema: z
    .object({
      /** SAE checkpoint ids: absorption, splitting, explanations. */
      checkpoints: z.array(id).max(10_000).default([]),
      /** SAE ids: feature histories over their evaluated checkpoints, consecutive comparisons, the final checkpoint's analysis. */
      saes: z.array(id).max(10_000).default([]),
      /** Checkpoint pairs to match features of (a → b). */
      compare: z.array(z.object({ a: id, b: id }).strict()).max(10_000).default([]),
      /** Which evaluation of each checkpoint (default the newest). */
      evalConfigHash: z.string().min(1).optional(),
      /** Dataset directory (default the one each evaluation recorded). */
      dataset: dir.optional(),
      matchCosine: unit.default(0.5),
      linkCosine: unit.default(0.5),
      historyLevel: unit.default(0.5),
      splitF1: unit.default(0.9),
      maxSplit: z.number().int().min(1).max(64).default(8),
      mainF1: unit.default(0.4),
      absorberCosine: unit.default(0.3),
      absorberShare: unit.default(0.4),
      explanationThresholds: z.array(z.number().int().min(0).max(10)).min(1).max(11).default([0, 1, 2, 3, 4, 5]),
      explanationCandidates: z.number().int().min(2).max(64).default(8),
    })
    .strict()
    .refine((c) => c.checkpoints.length + c.saes.length + c.compare.length > 0, { message: 'give checkpoints, saes or compare' }),
  async run(c, ctx) {
    ctx.progress(0, { stage: 'analyses' });
    return runAnalyze(
      ctx.pool,
      { checkpoints: c.checkpoints, saes: c.saes, compare: c.compare },
      {
        evalConfigHash: c.evalConfigHash ?? null,
        dataset: c.dataset ?? null,
        matching: { matchCosine: c.matchCosine, linkCosine: c.linkCosine },
        historyLevel: c.historyLevel,
        groundTruth: { splitF1: c.splitF1, maxSplit: c.maxSplit, mainF1: c.mainF1, absorberCosine: c.absorberCosine, absorberShare: c.absorberShare },
        explanations: { thresholdIndices: c.explanationThresholds, candidates: c.explanationCandidates },
        signal: ctx.signal,
        onProgress: (f, stage) => ctx.progress(f, { stage }),
      },
    );
  },
});

export const JOB_KINDS: readonly JobKind<any>[] = [generateDataset, trainLmKind, collectActivations, trainSaeSweep, evaluate, probe, importGames, analyze];

export function jobKind(kind: string): JobKind<any> {
  const k = JOB_KINDS.find((j) => j.kind === kind);
  if (!k) throw new UserInputError(`unknown job kind "${kind}" (one of ${JOB_KINDS.map((j) => j.kind).join(', ')})`);
  return k;
}

/** Validate a job config: the parsed config and its hash, or a UserInputError listing every bad field. */
export function validateJobConfig(kind: string, config: unknown): { config: Record<string, unknown>; hash: string } {
  const k = jobKind(kind);
  const parsed = k.schema.safeParse(config);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(config)'}: ${i.message}`);
    throw new UserInputError(`invalid ${kind} config: ${lines.join('; ')}`);
  }
  return { config: parsed.data as Record<string, unknown>, hash: configHash({ kind, config: parsed.data }) };
}
