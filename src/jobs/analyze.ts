/**
 * The ANALYZE pipeline (docs/analyses.md): from a stored evaluation (features, sparse activations,
 * alignments), the SAE weights and the dataset's labels, compute
 *   - per checkpoint: absorption and splitting per BSP, explanations per feature;
 *   - per pair of checkpoints: feature matching (links, births, deaths, splits, merges);
 *   - per SAE: feature histories over its evaluated checkpoints (and consecutive comparisons);
 * and write each result in one transaction (nothing partial: an error or a cancel leaves the
 * previous analysis as it was).
 */
import path from 'node:path';
import type pg from 'pg';
import { UserInputError } from '../errors.js';
import { log } from '../log.js';
import { configHash } from '../util/hash.js';
import { codeVersionString } from '../version.js';
import { initBackend } from '../tensor/backend.js';
import { loadSae } from '../sae/interop.js';
import { CsrBuilder, type CsrActivations } from '../eval/sparse.js';
import { familyOfCell } from '../eval/labels.js';
import { analyzeGroundTruth, type GroundTruthOptions } from '../eval/analyses/groundtruth.js';
import { explanationText, type ExplanationOptions } from '../eval/analyses/explanations.js';
import { compareCheckpointFeatures, type MatchOptions, type FeatureLink } from '../eval/analyses/matching.js';
import { featureHistories } from '../eval/analyses/history.js';
import { withTransaction } from '../db/pool.js';
import { boardPropertyIdsFor } from '../db/repos/eval.js';
import {
  alignmentF1s,
  boardPropertyCatalogue,
  checkpointsOfSae,
  featureTable,
  storedActivations,
  storedEvaluation,
  writeCheckpointAnalysis,
  writeComparison,
  writeFeatureHistories,
  type StoredEvaluation,
} from '../db/repos/analyses.js';
import { loadDatasetInputs, type DatasetInputs, type SplitInputs } from './eval-inputs.js';

export interface AnalyzeOptions {
  /** Use this evaluation (eval-config hash) of each checkpoint; default the newest. */
  evalConfigHash?: string | null;
  /** Dataset directory; default the one the evaluation recorded. */
  dataset?: string | null;
  groundTruth?: GroundTruthOptions;
  explanations?: ExplanationOptions;
  matching?: MatchOptions;
  historyLevel?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number, stage: string) => void;
}

function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new UserInputError('cancelled');
}

async function decoderOf(ckptPath: string): Promise<{ decoder: Float32Array; features: number; dIn: number }> {
  const { dictionary } = await loadSae(ckptPath);
  try {
    const w = dictionary.toHost().W_dec;
    if (!w || w.shape.length !== 2 || w.shape[0] !== dictionary.dictSize) throw new UserInputError(`${ckptPath}: no decoder W_dec [${dictionary.dictSize}, d] in the SAE weights`);
    return { decoder: w.data, features: dictionary.dictSize, dIn: dictionary.dIn };
  } finally {
    dictionary.dispose();
  }
}

interface EvalConfigShape {
  dataset?: { path?: string };
  families?: string[];
  splits?: { train?: { start: number; end: number }; test?: { start: number; end: number } };
  contextLength?: number;
}

/** Datasets loaded during one request, once per (dir, families, splits); dropped with the request. */
type DatasetCache = Map<string, Promise<DatasetInputs>>;
const requestCaches = new WeakMap<AnalyzeOptions, DatasetCache>();

async function datasetFor(ev: StoredEvaluation, opts: AnalyzeOptions): Promise<DatasetInputs> {
  let datasetCache = requestCaches.get(opts);
  if (!datasetCache) requestCaches.set(opts, (datasetCache = new Map()));
  const cfg = ev.evalConfig as EvalConfigShape;
  const dir = opts.dataset ?? cfg.dataset?.path;
  if (!dir) throw new UserInputError(`checkpoint ${ev.saeCheckpointId}: its evaluation records no dataset; give dataset`);
  const train = cfg.splits?.train;
  const test = cfg.splits?.test;
  const key = JSON.stringify([path.resolve(dir), cfg.families, train, test, cfg.contextLength]);
  let p = datasetCache.get(key);
  if (!p) {
    p = loadDatasetInputs(dir, {
      families: cfg.families?.join(','),
      trainGames: train ? train.end - train.start : undefined,
      testGames: test ? test.end - test.start : undefined,
      contextLength: cfg.contextLength,
    });
    datasetCache.set(key, p);
    const cache = datasetCache;
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** The stored activations of one split as CSR rows in the split's label order. */
function splitCsr(split: SplitInputs, act: { positionKey: Int32Array; feature: Int32Array; value: Float32Array }, features: number): CsrActivations {
  const rowOf = new Map<number, number>();
  for (let r = 0; r < split.positionGame.length; r++) rowOf.set(split.positionGame[r] * 1024 + split.positionIndex[r], r);
  // entries are sorted by position key; gather each row's range
  const n = split.positionGame.length;
  const start = new Int32Array(n).fill(-1);
  const end = new Int32Array(n);
  for (let j = 0; j < act.positionKey.length; ) {
    const k = act.positionKey[j];
    let e = j;
    while (e < act.positionKey.length && act.positionKey[e] === k) e++;
    const r = rowOf.get(k);
    if (r !== undefined) {
      start[r] = j;
      end[r] = e;
    }
    j = e;
  }
  const b = new CsrBuilder(features, n, act.positionKey.length, `stored activations (${split.name})`);
  for (let r = 0; r < n; r++) {
    if (start[r] < 0) b.appendSparseRow([], []);
    else b.appendSparseRow(act.feature.subarray(start[r], end[r]), act.value.subarray(start[r], end[r]));
  }
  return b.finish();
}

export interface CheckpointAnalysisResult {
  saeCheckpointId: number;
  absorption: number | null;
  splitting: number | null;
  explainedShare50: number;
  explainedShare80: number;
  bsps: number;
  explanations: number;
  timingsMs: Record<string, number>;
}

/** Absorption, splitting and explanations of one evaluated checkpoint, written in one transaction. */
export async function analyzeCheckpoint(pool: pg.Pool, saeCheckpointId: number, opts: AnalyzeOptions = {}): Promise<CheckpointAnalysisResult> {
  await initBackend();
  const timings: Record<string, number> = {};
  let t = performance.now();
  const tick = (name: string) => {
    timings[name] = Math.round(performance.now() - t);
    t = performance.now();
  };
  const ev = await storedEvaluation(pool, saeCheckpointId, opts.evalConfigHash);
  if (!ev) throw new UserInputError(`SAE checkpoint ${saeCheckpointId} has no stored evaluation${opts.evalConfigHash ? ` with eval-config hash ${opts.evalConfigHash}` : ''}: evaluate it first`);
  const data = await datasetFor(ev, opts);
  const { decoder, features, dIn } = await decoderOf(ev.path);
  const table = await featureTable(pool, saeCheckpointId, features);
  const act = await storedActivations(pool, saeCheckpointId);
  if (act.positionKey.length === 0) throw new UserInputError(`SAE checkpoint ${saeCheckpointId}: its evaluation stored no activations (evaluated with storeActivations off?): re-evaluate it`);
  const train = splitCsr(data.train, act, features);
  const test = splitCsr(data.test, act, features);
  tick('load');
  throwIfCancelled(opts.signal);

  const fit = { activations: train, labels: data.train.labels };
  const score = { activations: test, labels: data.test.labels };
  // one scan of D_train feeds absorption, splitting and explanations
  const { groundTruth: gt, explanations: ex } = analyzeGroundTruth({ maxima: table.maxima, alive: table.alive, decoder, dIn, fit, score, options: opts.groundTruth, explanations: opts.explanations });
  tick('analyses');
  throwIfCancelled(opts.signal);

  const labels = data.train.labels;
  const result = await withTransaction(pool, async (client) => {
    const ids = await boardPropertyIdsFor(client, data.game, data.families);
    const catalogue = new Map((await boardPropertyCatalogue(client, data.game)).map((b) => [b.id, b.name]));
    const bspOf = (cell: number): number => {
      const k = familyOfCell(labels, cell);
      const arr = ids.get(data.families[k].name);
      const id = arr?.[cell - labels.offsets[k]];
      if (id === undefined) throw new Error(`no board property for cell ${cell} of ${data.families[k].name}`);
      return id;
    };
    const config = { groundTruth: gt.options, explanations: ex.options };
    const metrics: { metric: string; family: string; value: number; details: Record<string, unknown> }[] = [];
    if (gt.absorption !== null) metrics.push({ metric: 'absorption', family: '', value: gt.absorption, details: { scoredBsps: gt.scoredBsps, absorbedFraction: gt.absorbedFraction, lowerIsBetter: true } });
    if (gt.splitting !== null) metrics.push({ metric: 'splitting', family: '', value: gt.splitting, details: { reached: gt.splitReached, bsps: gt.bsps.length, splitF1: gt.options.splitF1, lowerIsBetter: true } });
    for (const fam of gt.families) {
      const name = labels.families[fam.family].shortName;
      if (fam.absorption !== null) metrics.push({ metric: 'absorption', family: name, value: fam.absorption, details: { scoredBsps: fam.scored, lowerIsBetter: true } });
      if (fam.splitting !== null) metrics.push({ metric: 'splitting', family: name, value: fam.splitting, details: { reached: fam.splitReached, bsps: fam.bsps, lowerIsBetter: true } });
    }
    await writeCheckpointAnalysis(client, {
      saeCheckpointId,
      evalConfig: ev.evalConfig,
      evalConfigHash: ev.evalConfigHash,
      config,
      configHash: configHash(config),
      aliveFeatures: ex.aliveFeatures,
      explainedFeatures: ex.explainedFeatures,
      explainedShare50: ex.explainedShare50,
      explainedShare80: ex.explainedShare80,
      absorption: gt.absorption,
      splitting: gt.splitting,
      summary: { absorbedFraction: gt.absorbedFraction, scoredBsps: gt.scoredBsps, splitReached: gt.splitReached, bsps: gt.bsps.length },
      timings: { ...timings, ...Object.fromEntries(Object.entries({ ...gt.timingsMs, ...ex.timingsMs }).map(([k, v]) => [`part.${k}`, Math.round(v)])) },
      codeVersion: codeVersionString(),
      bsps: gt.bsps.map((b) => ({
        bspId: bspOf(b.cell),
        positives: b.positives,
        bestFeature: b.bestFeature,
        bestF1: b.bestF1,
        mainFeatures: b.mainFeatures,
        missed: b.missed,
        absorbed: b.absorbed,
        absorption: b.absorption,
        meanAbsorbingShare: b.meanAbsorbingShare,
        topAbsorber: b.topAbsorber,
        topAbsorberCount: b.topAbsorberCount,
        splitFeatures: b.splitFeatures,
        splitF1s: b.splitF1s,
        splitting: b.splitting,
      })),
      explanations: ex.explanations.map((e) => {
        const bsps = e.cells.map(bspOf);
        return {
          featureIndex: e.feature,
          rank: e.rank,
          kind: e.kind,
          bspA: bsps[0],
          bspB: bsps[1] ?? null,
          text: explanationText(e.kind, bsps.map((id) => catalogue.get(id) ?? `property ${id}`)),
          thresholdIndex: e.thresholdIndex,
          fit: e.fit,
          heldOut: e.heldOut,
        };
      }),
      metrics,
    });
    tick('db');
    return {
      saeCheckpointId,
      absorption: gt.absorption,
      splitting: gt.splitting,
      explainedShare50: ex.explainedShare50,
      explainedShare80: ex.explainedShare80,
      bsps: gt.bsps.length,
      explanations: ex.explanations.length,
      timingsMs: timings,
    };
  });
  log.info({ checkpoint: saeCheckpointId, absorption: gt.absorption, splitting: gt.splitting, explained80: ex.explainedShare80, timings }, 'SAE checkpoint analysed');
  return result;
}

const KIND_ORDER: Record<string, number> = { match: 0, split: 1, merge: 2, death: 3, birth: 4 };

/** Feature matching of checkpoint a against b, written in one transaction; returns the comparison id. */
export async function compareCheckpoints(pool: pg.Pool, a: number, b: number, opts: AnalyzeOptions = {}): Promise<{ comparisonId: number; summary: Record<string, number> }> {
  await initBackend();
  if (a === b) throw new UserInputError('compare: a checkpoint compared with itself');
  const load = async (id: number) => {
    const { rows } = await pool.query('SELECT path FROM sae_checkpoints WHERE id = $1', [id]);
    if (!rows[0]) throw new UserInputError(`no SAE checkpoint ${id}`);
    const dec = await decoderOf(rows[0].path);
    return { ...dec, ...(await featureTable(pool, id, dec.features)) };
  };
  const A = await load(a);
  const B = await load(b);
  throwIfCancelled(opts.signal);
  // a checkpoint without a features table (never evaluated) has every feature alive
  const aliveOrAll = (x: { alive: Uint8Array }) => (x.alive.some((v) => v) ? x.alive : undefined);
  const cmp = compareCheckpointFeatures(
    { decoder: A.decoder, features: A.features, dIn: A.dIn, alive: aliveOrAll(A), bestF1: A.bestF1, bestBsp: A.bestBsp },
    { decoder: B.decoder, features: B.features, dIn: B.dIn, alive: aliveOrAll(B), bestF1: B.bestF1, bestBsp: B.bestBsp },
    opts.matching,
  );
  const links = [...cmp.links].sort(
    (x: FeatureLink, y: FeatureLink) => KIND_ORDER[x.kind] - KIND_ORDER[y.kind] || (y.cosine ?? -2) - (x.cosine ?? -2) || (x.a ?? -1) - (y.a ?? -1) || (x.b ?? -1) - (y.b ?? -1),
  );
  const summary = { ...cmp.summary } as unknown as Record<string, number>;
  const comparisonId = await withTransaction(pool, (client) =>
    writeComparison(client, {
      a,
      b,
      config: cmp.options as unknown as Record<string, unknown>,
      configHash: configHash(cmp.options),
      summary,
      timings: Object.fromEntries(Object.entries(cmp.timingsMs).map(([k, v]) => [k, Math.round(v)])),
      codeVersion: codeVersionString(),
      links: links.map((l) => ({ kind: l.kind, featureA: l.a, featureB: l.b, cosine: l.cosine, matched: l.matched, f1A: l.f1A, f1B: l.f1B, bspA: l.bspA, bspB: l.bspB })),
    }),
  );
  return { comparisonId, summary };
}

/** Feature histories of one SAE over its evaluated checkpoints, written in one transaction. */
export async function analyzeSaeHistory(pool: pg.Pool, saeId: number, opts: AnalyzeOptions = {}): Promise<{ checkpoints: number; features: number; learnt: number }> {
  const ckpts = await checkpointsOfSae(pool, saeId);
  if (!ckpts.length) throw new UserInputError(`SAE ${saeId} has no evaluated checkpoint`);
  const final = ckpts[ckpts.length - 1];
  const { rows } = await pool.query<{ feature_index: number; best_bsp_id: number | null }>(
    'SELECT feature_index, best_bsp_id FROM features WHERE sae_checkpoint_id = $1 AND alive AND best_bsp_id IS NOT NULL ORDER BY feature_index',
    [final.id],
  );
  const F = rows.length ? rows[rows.length - 1].feature_index + 1 : 0;
  const finalBsp = new Int32Array(F).fill(-1);
  for (const r of rows) finalBsp[r.feature_index] = r.best_bsp_id!;
  const pairs = rows.map((r) => ({ feature: r.feature_index, bsp: r.best_bsp_id! }));
  const f1: Float32Array[] = [];
  for (const c of ckpts) {
    throwIfCancelled(opts.signal);
    const m = await alignmentF1s(pool, c.id, pairs);
    const row = new Float32Array(F);
    for (const p of pairs) row[p.feature] = m.get(`${p.feature}:${p.bsp}`) ?? 0;
    f1.push(row);
  }
  const level = opts.historyLevel ?? 0.5;
  const hist = featureHistories({ steps: ckpts.map((c) => c.step), finalBsp, f1, level });
  await withTransaction(pool, (client) =>
    writeFeatureHistories(
      client,
      saeId,
      level,
      ckpts.map((c) => c.step),
      ckpts.map((c) => c.id),
      hist.map((h) => ({ featureIndex: h.feature, bspId: h.bsp, f1: h.f1, firstStep: h.firstStep, stableStep: h.stableStep, finalF1: h.finalF1 })),
    ),
  );
  return { checkpoints: ckpts.length, features: hist.length, learnt: hist.filter((h) => h.firstStep !== null).length };
}

export interface AnalyzeRequest {
  checkpoints?: number[];
  saes?: number[];
  compare?: { a: number; b: number }[];
}

/** Everything a request names: per SAE its history, consecutive comparisons and the final checkpoint's analysis. */
export async function runAnalyze(pool: pg.Pool, req: AnalyzeRequest, opts: AnalyzeOptions = {}): Promise<Record<string, unknown>> {
  const checkpoints = new Set(req.checkpoints ?? []);
  const pairs = [...(req.compare ?? [])];
  const histories: number[] = [];
  for (const saeId of req.saes ?? []) {
    const ckpts = await checkpointsOfSae(pool, saeId);
    if (!ckpts.length) throw new UserInputError(`SAE ${saeId} has no evaluated checkpoint`);
    checkpoints.add(ckpts[ckpts.length - 1].id);
    for (let i = 1; i < ckpts.length; i++) pairs.push({ a: ckpts[i - 1].id, b: ckpts[i].id });
    histories.push(saeId);
  }
  if (!checkpoints.size && !pairs.length && !histories.length) throw new UserInputError('nothing to analyse: give checkpoints, saes or compare');
  const total = checkpoints.size + pairs.length + histories.length;
  let done = 0;
  const step = (stage: string) => opts.onProgress?.(++done / total, stage);
  const analysed: CheckpointAnalysisResult[] = [];
  for (const id of checkpoints) {
    throwIfCancelled(opts.signal);
    analysed.push(await analyzeCheckpoint(pool, id, opts));
    step(`checkpoint ${id}`);
  }
  const comparisons: number[] = [];
  for (const p of pairs) {
    throwIfCancelled(opts.signal);
    comparisons.push((await compareCheckpoints(pool, p.a, p.b, opts)).comparisonId);
    step(`compare ${p.a}→${p.b}`);
  }
  const hist: Record<string, unknown>[] = [];
  for (const s of histories) {
    throwIfCancelled(opts.signal);
    hist.push({ saeId: s, ...(await analyzeSaeHistory(pool, s, opts)) });
    step(`history of SAE ${s}`);
  }
  return {
    checkpoints: analysed.map((a) => ({ saeCheckpointId: a.saeCheckpointId, absorption: a.absorption, splitting: a.splitting, explainedShare80: a.explainedShare80 })),
    comparisons,
    histories: hist,
  };
}
