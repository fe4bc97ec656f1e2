/**
 * `saeboard eval` as a pipeline: dataset + SAE checkpoints (+ their LMs) → supervised metrics
 * (src/eval) → Postgres (src/db/repos/eval.ts) and SAEBench-like JSON files.
 *
 *  1. check every input (dataset, families, each SAE against its LM and the dataset, finite
 *     weights) — a bad input fails here, before any compute or write;
 *  2. per LM (checkpoint, layer, site): one forward pass over the D_train and D_test games,
 *     keeping the labelled positions, plus all positions of the first 500 D_train games for the
 *     feature maxima (metrics.md §2);
 *  3. per SAE: encode (sparse CSR), evaluate, then write everything of that SAE in one
 *     transaction and export its JSON file.
 */
import path from 'node:path';
import type pg from 'pg';
import { initBackend, tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import { log } from '../log.js';
import { progress } from '../progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { configHash } from '../util/hash.js';
import { codeVersionString } from '../version.js';
import {
  CsrBuilder,
  FiringStats,
  THRESHOLD_VALUES,
  activationHistograms,
  evaluateSupervised,
  topActivations,
  type CsrActivations,
  type SupervisedEvalResult,
  type TrainStatsOptions,
  DEFAULT_TRAIN_OPTIONS,
} from '../eval/index.js';
import { loadSae } from '../sae/interop.js';
import type { Dictionary } from '../sae/dictionary.js';
import { loadModelDir } from '../lm/checkpoint.js';
import { activationBatches } from '../lm/activations.js';
import { inMemorySequences, truncateSequences } from '../lm/data.js';
import { trainProbe, type ProbeResult } from '../lm/probe.js';
import type { Site } from '../lm/model.js';
import { withTransaction } from '../db/pool.js';
import { boardPropertyIdsFor, datasetIdByPath, ensureSaeCheckpoint, writeEvaluation, type EvaluationWrite } from '../db/repos/eval.js';
import { analyzeTranscript, decodeChess } from '../games/chess/index.js';
import { OthelloBoard, tokenToSquare } from '../games/othello/index.js';
import {
  defaultSampleGames,
  checkFiniteLmWeights,
  checkFiniteWeights,
  loadDatasetInputs,
  resolveSae,
  type DatasetInputOptions,
  type DatasetInputs,
  type SaeInput,
  type SaeInputOptions,
  type SplitInputs,
} from './eval-inputs.js';
import { buildExport, exportFileName } from './eval-export.js';
import { ensureWritableDir } from '../util/writable.js';

/** Sites the database schema accepts for SAEs (saes.site). */
const DB_SITES: readonly Site[] = ['resid_pre', 'resid_post', 'mlp_out'];

export interface EvalJobOptions extends DatasetInputOptions, SaeInputOptions {
  saeDirs: string[];
  datasetDir: string;
  /** D_train games whose every position feeds the feature maxima (default min(⌊n/2⌋, 1000) of n, metrics.md §2). */
  maxSampleGames?: number;
  /** LM rows per forward pass (default 16) and vectors per SAE encode (default 1024). */
  lmBatchSize?: number;
  encodeBatchSize?: number;
  stats?: TrainStatsOptions;
  /** Top activating positions kept per feature (default 20) and histogram bins (default 16). */
  topK?: number;
  histogramBins?: number;
  /** Store the sparse activations in feature_activations (default true). */
  storeActivations?: boolean;
  /** Write one JSON file per SAE here (default: none). */
  exportDir?: string | null;
  /** Database to write to (default: none = compute and export only). */
  pool?: pg.Pool | null;
  /** Train linear probes on the same positions as the reference (default false). */
  probes?: boolean;
  /** At most this many probe epochs (default 40; probes stop earlier once the loss flattens). */
  probeEpochs?: number;
}

export interface EvalJobResult {
  saeDir: string;
  lmDir: string;
  lmOrigin: 'trained' | 'imported' | 'random-init';
  saeCheckpointId: number | null;
  exportPath: string | null;
  evalConfigHash: string;
  result: SupervisedEvalResult;
  probes: ProbeResult[] | null;
  rowsWritten: Record<string, number> | null;
  timingsMs: Record<string, number>;
}

interface LmActivations {
  d: number;
  train: Float32Array;
  test: Float32Array;
  sample: Float32Array;
  sampleCount: number;
  probes: ProbeResult[] | null;
}

/** lm_models.origin from an LM checkpoint's `provenance.kind` ("random-init", "trained", "imported:nanogpt", ...). */
export function lmOrigin(provenance: Record<string, unknown>): 'trained' | 'imported' | 'random-init' {
  const kind = typeof provenance.kind === 'string' ? provenance.kind.toLowerCase() : '';
  if (kind === 'random-init' || kind === 'random') return 'random-init';
  if (kind.startsWith('import')) return 'imported';
  return 'trained';
}

export interface PreparedEvaluation {
  data: DatasetInputs;
  saes: SaeInput[];
  maxSampleGames: number;
  loadMs: number;
}

/**
 * Step 1: load and check every input (dataset, families, each SAE against its LM and the
 * dataset, finite weights). Cheap next to the evaluation; run it before opening a database.
 * `forDatabase`: also check what the schema requires (the SAE's site).
 */
export async function prepareEvaluation(opts: EvalJobOptions, forDatabase = Boolean(opts.pool)): Promise<PreparedEvaluation> {
  if (opts.saeDirs.length === 0) throw new UserInputError('no SAE checkpoint to evaluate (--sae)');
  // an unusable export folder must fail now, not after the evaluation
  if (opts.exportDir) await ensureWritableDir(opts.exportDir);
  const t0 = performance.now();
  const data = await loadDatasetInputs(opts.datasetDir, opts);
  const saes: SaeInput[] = [];
  for (const dir of opts.saeDirs) {
    const sae = await resolveSae(dir, data, opts);
    if (forDatabase && !DB_SITES.includes(sae.site)) {
      throw new UserInputError(`SAE ${dir}: site ${sae.site} cannot be stored in the database (saes.site is one of ${DB_SITES.join(', ')}); use --no-db`);
    }
    await checkFiniteWeights(sae);
    saes.push(sae);
  }
  // NaN/inf LM weights would only surface as NaN activations in the middle of the run
  for (const lmDir of new Set(saes.map((s) => path.resolve(s.lmDir)))) await checkFiniteLmWeights(lmDir);
  const nTrain = data.train.games.end - data.train.games.start;
  const maxSampleGames = Math.min(opts.maxSampleGames ?? defaultSampleGames(nTrain), nTrain);
  log.info(
    { dataset: data.dir, game: data.game, families: data.families.map((f) => f.shortName), train: data.train.labels.positions, test: data.test.labels.positions, saes: saes.length },
    'evaluation inputs checked',
  );
  return { data, saes, maxSampleGames, loadMs: performance.now() - t0 };
}

/** Run the whole evaluation; returns one result per SAE (in the order given). */
export async function runEvaluation(opts: EvalJobOptions, prepared?: PreparedEvaluation): Promise<EvalJobResult[]> {
  await initBackend();
  const { data, saes, maxSampleGames, loadMs } = prepared ?? (await prepareEvaluation(opts));

  // 2. LM activations, once per (LM, layer, site)
  const groups = new Map<string, SaeInput[]>();
  for (const s of saes) {
    const key = `${path.resolve(s.lmDir)}|${s.layer}|${s.site}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const results = new Map<SaeInput, EvalJobResult>();
  for (const group of groups.values()) {
    const first = group[0];
    const tLm = performance.now();
    const lm = await collectLmActivations(first, data, maxSampleGames, opts);
    const lmMs = performance.now() - tLm;
    for (const sae of group) {
      const r = await evaluateOneSae(sae, data, lm, maxSampleGames, opts);
      r.timingsMs.inputs = Math.round(loadMs);
      r.timingsMs.lmActivations = Math.round(lmMs);
      results.set(sae, r);
    }
  }
  return saes.map((s) => results.get(s)!);
}

function splitSequences(data: DatasetInputs, split: SplitInputs) {
  const tokens = Int32Array.from(split.tokens);
  const seq = inMemorySequences({ game: data.game, tokenizer: data.tokenizer, tokens, length: split.stride, source: `${data.dir} (${split.name})` });
  return truncateSequences(seq, data.contextLength);
}

/** Row (game) → labelled rows of that game, as CSR over the split's games. */
function positionsByGame(split: SplitInputs): { ptr: Int32Array; rows: Int32Array } {
  const n = split.games.end - split.games.start;
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < split.positionGame.length; i++) ptr[split.positionGame[i] - split.games.start + 1]++;
  for (let g = 0; g < n; g++) ptr[g + 1] += ptr[g];
  const fill = ptr.slice(0, n);
  const rows = new Int32Array(split.positionGame.length);
  for (let i = 0; i < split.positionGame.length; i++) rows[fill[split.positionGame[i] - split.games.start]++] = i;
  return { ptr, rows };
}

function checkFinite(x: Float32Array, d: number, where: string): void {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new UserInputError(`${where}: NaN/inf LM activation (vector ${Math.floor(i / d)}); check the LM weights`);
}

async function collectLmActivations(sae: SaeInput, data: DatasetInputs, maxSampleGames: number, opts: EvalJobOptions): Promise<LmActivations> {
  const { model } = await loadModelDir(sae.lmDir);
  try {
    const d = sae.config.dIn; // = the site's width (checked in resolveSae)
    const T = data.contextLength;
    const out: Record<'train' | 'test', Float32Array> = {
      train: new Float32Array(data.train.labels.positions * d),
      test: new Float32Array(data.test.labels.positions * d),
    };
    const sample = new Float32Array(maxSampleGames * T * d);
    for (const split of [data.train, data.test]) {
      const seq = splitSequences(data, split);
      const byGame = positionsByGame(split);
      const dest = out[split.name];
      const bar = progress({ label: `LM ${path.basename(sae.lmDir)} L${sae.layer} ${split.name}`, total: seq.count, unit: 'games' });
      for await (const batch of activationBatches({
        model,
        layer: sae.layer,
        site: sae.site,
        data: seq,
        tokenizer: sae.lmMeta.tokenizer,
        positions: 'all',
        contextLength: T,
        batchSize: opts.lmBatchSize ?? 16,
      })) {
        const firstRow = batch.gameIndex[0];
        const rowsInBatch = batch.n / T;
        for (let b = 0; b < rowsInBatch; b++) {
          const row = firstRow + b;
          for (let k = byGame.ptr[row]; k < byGame.ptr[row + 1]; k++) {
            const labelRow = byGame.rows[k];
            const pos = split.positionIndex[labelRow];
            dest.set(batch.acts_ND.subarray((b * T + pos) * d, (b * T + pos + 1) * d), labelRow * d);
          }
          if (split.name === 'train' && row < maxSampleGames) sample.set(batch.acts_ND.subarray(b * T * d, (b + 1) * T * d), row * T * d);
        }
        bar.tick(rowsInBatch);
      }
      bar.stop();
      checkFinite(dest, d, `LM ${sae.lmDir} on ${split.name}`);
    }
    checkFinite(sample, d, `LM ${sae.lmDir} on the feature-maximum sample`);

    let probes: ProbeResult[] | null = null;
    if (opts.probes) {
      probes = [];
      for (const fam of data.families) {
        const k = data.families.indexOf(fam);
        const dense = (split: SplitInputs) => {
          const y = new Uint8Array(split.labels.positions * fam.cells);
          const off = split.labels.offsets[k];
          for (let p = 0; p < split.labels.positions; p++) {
            for (let q = split.labels.ptr[p]; q < split.labels.ptr[p + 1]; q++) {
              const c = split.labels.cells[q] - off;
              if (c >= 0 && c < fam.cells) y[p * fam.cells + c] = 1;
            }
          }
          return y;
        };
        probes.push(
          await trainProbe(
            fam,
            d,
            { x: out.train, y: dense(data.train), n: data.train.labels.positions },
            { x: out.test, y: dense(data.test), n: data.test.labels.positions },
            { maxEpochs: opts.probeEpochs ?? 40 },
          ),
        );
      }
    }
    return { d, train: out.train, test: out.test, sample, sampleCount: maxSampleGames * T, probes };
  } finally {
    model.dispose();
  }
}

/** Encode `n` vectors in batches; `sink` receives each dense (rows × F) block. */
function encodeAll(dict: Dictionary, x: Float32Array, n: number, d: number, batch: number, sink: (block: Float32Array, rows: number) => void, label: string): void {
  const bar = progress({ label, total: n, unit: 'vec' });
  for (let i = 0; i < n; i += batch) {
    const rows = Math.min(batch, n - i);
    const feats = tf.tidy(() => dict.encode(tf.tensor2d(x.subarray(i * d, (i + rows) * d), [rows, d])));
    const block = feats.dataSync() as Float32Array;
    feats.dispose();
    sink(block, rows);
    bar.tick(rows);
  }
  bar.stop();
}

function concatCsr(a: CsrActivations, b: CsrActivations): CsrActivations {
  const na = a.indptr[a.positions];
  const nb = b.indptr[b.positions];
  const indptr = new Int32Array(a.positions + b.positions + 1);
  indptr.set(a.indptr);
  for (let i = 1; i <= b.positions; i++) indptr[a.positions + i] = na + b.indptr[i];
  const indices = new Int32Array(na + nb);
  indices.set(a.indices.subarray(0, na));
  indices.set(b.indices.subarray(0, nb), na);
  const values = new Float32Array(na + nb);
  values.set(a.values.subarray(0, na));
  values.set(b.values.subarray(0, nb), na);
  return { positions: a.positions + b.positions, features: a.features, indptr, indices, values };
}

/** The board of one evaluation position, as text: FEN (chess) or 64 chars X/O/. (Othello). */
export function boardRenderer(data: DatasetInputs): (split: SplitInputs, labelRow: number) => string {
  const chessCache = new Map<string, ReturnType<typeof analyzeTranscript>>();
  return (split, labelRow) => {
    const g = split.positionGame[labelRow] - split.games.start;
    const pos = split.positionIndex[labelRow];
    const row = split.tokens.subarray(g * split.stride, (g + 1) * split.stride);
    if (data.game === 'othello') {
      const b = new OthelloBoard();
      for (let i = 0; i <= pos; i++) b.play(tokenToSquare(row[i]));
      let s = '';
      for (let p = 0; p < 64; p++) {
        const v = b.at(p);
        s += v === 1 ? 'X' : v === -1 ? 'O' : '.';
      }
      return s;
    }
    const key = `${split.name}:${g}`;
    let a = chessCache.get(key);
    if (!a) {
      a = analyzeTranscript(decodeChess(row.subarray(0, data.contextLength)), { where: `game ${split.positionGame[labelRow]}` });
      chessCache.set(key, a);
    }
    return a.states[a.charState[pos]].fen();
  };
}

export function evalConfigOf(sae: SaeInput, data: DatasetInputs, maxSampleGames: number, opts: EvalJobOptions): Record<string, unknown> {
  return {
    evalType: 'saeboard-bsp/1',
    dataset: { path: path.resolve(data.dir), name: data.dataset.manifest.name, manifestSha256: data.manifestSha256, game: data.game },
    families: data.families.map((f) => f.name),
    splits: { train: data.train.games, test: data.test.games },
    positions: { train: data.train.labels.positions, test: data.test.labels.positions },
    contextLength: data.contextLength,
    maxSampleGames,
    thresholds: THRESHOLD_VALUES,
    lm: { configHash: sae.lmConfigHash, name: sae.lmMeta.name },
    layer: sae.layer,
    site: sae.site,
    stats: { ...DEFAULT_TRAIN_OPTIONS, ...opts.stats },
    topK: opts.topK ?? 20,
    histogramBins: opts.histogramBins ?? 16,
  };
}

async function evaluateOneSae(sae: SaeInput, data: DatasetInputs, lm: LmActivations, maxSampleGames: number, opts: EvalJobOptions): Promise<EvalJobResult> {
  const timings: Record<string, number> = {};
  const tick = (name: string, t: number) => (timings[name] = Math.round(performance.now() - t));
  let t = performance.now();
  const { dictionary } = await loadSae(sae.dir, sae.format);
  const F = dictionary.dictSize;
  const d = lm.d;
  const batch = opts.encodeBatchSize ?? 1024;
  let maxima;
  let train: CsrActivations;
  let test: CsrActivations;
  const name = path.basename(sae.dir);
  try {
    const fire = new FiringStats(F);
    encodeAll(dictionary, lm.sample, lm.sampleCount, d, batch, (b, r) => fire.addDense(b, r), `encode ${name} maxima`);
    maxima = fire.finish();
    const enc = (x: Float32Array, n: number, what: string) => {
      const builder = new CsrBuilder(F, n, n * 64, `SAE ${sae.dir} on ${what}`);
      encodeAll(dictionary, x, n, d, batch, (b, r) => builder.appendDense(b, r), `encode ${name} ${what}`);
      return builder.finish();
    };
    train = enc(lm.train, data.train.labels.positions, 'D_train');
    test = enc(lm.test, data.test.labels.positions, 'D_test');
  } finally {
    dictionary.dispose();
  }
  tick('encode', t);

  t = performance.now();
  const result = evaluateSupervised({
    maxima,
    train: { activations: train, labels: data.train.labels },
    test: { activations: test, labels: data.test.labels },
    options: opts.stats,
  });
  tick('metrics', t);

  const evalConfig = evalConfigOf(sae, data, maxSampleGames, opts);
  const evalConfigHash = configHash(evalConfig);
  const origin = lmOrigin(sae.lmMeta.provenance);

  t = performance.now();
  const all = concatCsr(train, test);
  const top = topActivations(all, opts.topK ?? 20);
  const hist = activationHistograms(all, maxima.maxima, opts.histogramBins ?? 16);
  tick('topk', t);

  let exportPath: string | null = null;
  if (opts.exportDir) {
    t = performance.now();
    exportPath = path.join(opts.exportDir, exportFileName(sae.dir));
    const doc = buildExport({ sae, data, result, evalConfig, evalConfigHash, lmOrigin: origin, probes: lm.probes });
    await writeFileAtomic(exportPath, JSON.stringify(doc, null, 2) + '\n');
    tick('export', t);
  }

  let saeCheckpointId: number | null = null;
  let rowsWritten: Record<string, number> | null = null;
  if (opts.pool) {
    t = performance.now();
    const render = boardRenderer(data);
    const payloadFor = (ckpt: number, bspIds: Map<string, Int32Array>) =>
      buildWritePayload({ ckpt, sae, data, result, maxima, all, top, hist, bspIds, evalConfig, evalConfigHash, render, probes: lm.probes, storeActivations: opts.storeActivations ?? true, timings });
    const written = await withTransaction(opts.pool, async (client) => {
      const bspIds = await boardPropertyIdsFor(client, data.game, data.families);
      const datasetId = await datasetIdByPath(client, path.resolve(data.dir), data.manifestSha256);
      const ckpt = await ensureSaeCheckpoint(client, {
        game: data.game,
        lm: { name: sae.lmMeta.name, config: sae.lmMeta.model as unknown as Record<string, unknown>, configHash: sae.lmConfigHash, origin, path: path.resolve(sae.lmDir), step: numberOr(sae.lmMeta.training?.step, 0) },
        sae: {
          name,
          layer: sae.layer,
          site: sae.site,
          trainer: sae.config.trainer?.trainer ?? 'imported',
          dictionary: sae.config.dictionary,
          dIn: sae.config.dIn,
          dSae: sae.config.dictSize,
          hyperparameters: (sae.config.trainer ?? {}) as Record<string, unknown>,
          // Identity = trainer config + activation stream (docs/sae.md), as the training registration stores it,
          // so two SAEs with the same hyperparameters on different data never share a row.
          configHash: sae.config.identityHash ?? sae.config.configHash ?? configHash({ dir: path.resolve(sae.dir), dictionary: sae.config.dictionary, dictSize: sae.config.dictSize }),
          path: path.resolve(sae.dir),
          step: sae.config.step ?? 0,
          codeVersion: sae.config.codeVersion,
        },
      });
      const res = await writeEvaluation(client, { ...payloadFor(ckpt, bspIds), datasetId });
      return { ckpt, res };
    });
    saeCheckpointId = written.ckpt;
    rowsWritten = written.res.rows;
    tick('db', t);
    for (const [k, v] of Object.entries(written.res.timingsMs)) timings[`db.${k}`] = v;
  }
  log.info(
    {
      sae: sae.dir,
      alive: result.aliveFeatures,
      families: Object.fromEntries(result.families.map((f) => [f.shortName, { coverage: round(f.coverage.coverage), reconstruction: round(f.reconstruction?.reconstruction ?? NaN) }])),
      checkpoint: saeCheckpointId,
    },
    'SAE evaluated',
  );
  return {
    saeDir: sae.dir,
    lmDir: sae.lmDir,
    lmOrigin: origin,
    saeCheckpointId,
    exportPath,
    evalConfigHash,
    result,
    probes: lm.probes,
    rowsWritten,
    timingsMs: timings,
  };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function numberOr(x: unknown, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

interface PayloadInput {
  ckpt: number;
  sae: SaeInput;
  data: DatasetInputs;
  result: SupervisedEvalResult;
  maxima: { maxima: Float32Array; alive: Uint8Array; fireCount: Int32Array; samples: number };
  all: CsrActivations;
  top: ReturnType<typeof topActivations>;
  hist: ReturnType<typeof activationHistograms>;
  bspIds: Map<string, Int32Array>;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
  render: (split: SplitInputs, labelRow: number) => string;
  probes: ProbeResult[] | null;
  storeActivations: boolean;
  timings: Record<string, number>;
}

/** Turn the compute results into the repository's columnar payload. */
export function buildWritePayload(p: PayloadInput): EvaluationWrite {
  const { result, data, maxima } = p;
  const stats = result.train;
  const F = result.features;
  const cells = stats.totalCells;
  const bspOfCell = new Int32Array(cells);
  data.train.labels.families.forEach((fam, k) => bspOfCell.set(p.bspIds.get(fam.name)!, data.train.labels.offsets[k]));

  const bestBspId = new Int32Array(F).fill(-1);
  const bestThreshold = new Float32Array(F);
  const density = new Float32Array(F);
  for (let f = 0; f < F; f++) {
    const c = stats.featureBestCell[f];
    if (c >= 0) {
      bestBspId[f] = bspOfCell[c];
      bestThreshold[f] = stats.featureBestThreshold[f] / 10;
    }
    density[f] = maxima.fireCount[f] / maxima.samples;
  }

  const al = stats.alignments;
  const n = al.length;
  const bspId = new Int32Array(n);
  const fp = new Int32Array(n);
  const fn = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    bspId[i] = bspOfCell[al.cell[i]];
    fp[i] = al.onCount[i] - al.tp[i];
    fn[i] = al.truthCount[i] - al.tp[i];
  }

  // feature_examples: positions of the concatenated (train ++ test) evaluation rows
  const nTrain = data.train.labels.positions;
  const { top } = p;
  let nEx = 0;
  for (let f = 0; f < F; f++) nEx += top.count[f];
  const exFeature = new Int32Array(nEx);
  const exRank = new Int16Array(nEx);
  const exPos = new Int32Array(nEx);
  const exAct = new Float32Array(nEx);
  for (let f = 0, k = 0; f < F; f++) {
    for (let r = 0; r < top.count[f]; r++, k++) {
      exFeature[k] = f;
      exRank[k] = r;
      exPos[k] = top.position[f * top.k + r];
      exAct[k] = top.value[f * top.k + r];
    }
  }
  const where = (row: number): [SplitInputs, number] => (row < nTrain ? [data.train, row] : [data.test, row - nTrain]);
  const boards = new Map<number, string>();
  const boardOf = (row: number) => {
    let b = boards.get(row);
    if (b === undefined) {
      const [split, r] = where(row);
      b = p.render(split, r);
      boards.set(row, b);
    }
    return b;
  };
  const exGame = new Int32Array(nEx);
  const exIndex = new Int32Array(nEx);
  for (let k = 0; k < nEx; k++) {
    const [split, r] = where(exPos[k]);
    exGame[k] = split.positionGame[r];
    exIndex[k] = split.positionIndex[r];
  }

  let activations: EvaluationWrite['activations'] = null;
  if (p.storeActivations) {
    const all = p.all;
    const total = all.indptr[all.positions];
    const positionKey = new Int32Array(total);
    for (let row = 0; row < all.positions; row++) {
      const [split, r] = where(row);
      const key = split.positionGame[r] * 1024 + split.positionIndex[r];
      positionKey.fill(key, all.indptr[row], all.indptr[row + 1]);
    }
    activations = { count: total, positionKey, feature: all.indices, value: all.values };
  }

  const metrics: EvaluationWrite['metrics'] = [];
  for (const fam of result.families) {
    metrics.push({
      metric: 'coverage',
      family: fam.name,
      value: fam.coverage.coverage,
      details: { shortName: fam.shortName, group: fam.group, denominator: fam.coverageDenominator, ...fam.coverage },
    });
    if (fam.reconstruction) {
      const { family: _omit, ...rec } = fam.reconstruction;
      void _omit;
      metrics.push({ metric: 'reconstruction', family: fam.name, value: fam.reconstruction.reconstruction, details: { shortName: fam.shortName, group: fam.group, ...rec } });
    }
  }
  if (result.strategy) {
    metrics.push({ metric: 'coverage', family: 'strategy', value: result.strategy.coverage, details: { families: result.strategy.names } });
    if (result.strategy.reconstruction !== null) {
      metrics.push({ metric: 'reconstruction', family: 'strategy', value: result.strategy.reconstruction, details: { families: result.strategy.names } });
    }
  }
  metrics.push({ metric: 'num_alive_features', family: '', value: result.aliveFeatures, details: { dictSize: F, samples: result.maximaSamples } });
  for (const pr of p.probes ?? []) {
    const fam = data.families.find((f) => f.shortName === pr.family)!;
    metrics.push({ metric: 'probe_accuracy', family: fam.name, value: pr.accuracy, details: { ...pr } });
    if (pr.f1 !== null) metrics.push({ metric: 'probe_f1', family: fam.name, value: pr.f1, details: { ...pr } });
  }

  return {
    saeCheckpointId: p.ckpt,
    datasetId: null,
    datasetPath: path.resolve(data.dir),
    evalConfig: p.evalConfig,
    evalConfigHash: p.evalConfigHash,
    codeVersion: codeVersionString(),
    aliveFeatures: result.aliveFeatures,
    trainPositions: result.trainPositions,
    testPositions: result.testPositions,
    summary: {
      families: Object.fromEntries(result.families.map((f) => [f.name, { coverage: f.coverage.coverage, reconstruction: f.reconstruction?.reconstruction ?? null }])),
      strategy: result.strategy,
    },
    timings: p.timings,
    features: {
      count: F,
      alive: maxima.alive,
      maxActivation: maxima.maxima,
      density,
      bestBspId,
      bestF1: stats.featureBestF1,
      bestThreshold,
      histogram: (f) => p.hist.counts.subarray(f * p.hist.bins, (f + 1) * p.hist.bins),
    },
    alignments: { count: n, feature: al.feature, bspId, thresholdIndex: al.thresholdIndex, tp: al.tp, fp, fn, precision: al.precision, recall: al.recall, f1: al.f1 },
    metrics,
    examples: {
      count: nEx,
      feature: exFeature,
      rank: exRank,
      split: (i) => (exPos[i] < nTrain ? 'train' : 'test'),
      gameIndex: exGame,
      positionIndex: exIndex,
      activation: exAct,
      board: (i) => boardOf(exPos[i]),
    },
    activations,
  };
}
