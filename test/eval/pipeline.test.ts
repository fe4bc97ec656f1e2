/**
 * `saeboard eval` end to end on real (tiny) inputs: an Othello dataset, a random-init GPT, ReLU
 * SAEs — checked against an independent gather of the same activations, then the database rows,
 * the JSON export, and every bad-input case (nothing written).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { CsrBuilder, FiringStats, evaluateSupervised, labelSetFromDense } from '../../src/eval/index.js';
import { loadSaeDir } from '../../src/sae/index.js';
import { exportSae } from '../../src/sae/interop.js';
import { openDataset } from '../../src/games/dataset/index.js';
import { othelloBspFamilies } from '../../src/games/othello/index.js';
import { activationBatches } from '../../src/lm/activations.js';
import { loadModelDir } from '../../src/lm/checkpoint.js';
import { inMemorySequences, truncateSequences } from '../../src/lm/data.js';
import { lmOrigin, runEvaluation, type EvalJobOptions } from '../../src/jobs/eval.js';
import { UserInputError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { makeChessDataset, makeLm, makeOthelloDataset, makeSae } from './fixtures.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-eval-'));
let db: TestDatabase;
let datasetDir: string;
let lmDir: string;
let sae1: string;
let sae2: string;

beforeAll(async () => {
  await initBackend();
  db = await createTestDatabase();
  datasetDir = await makeOthelloDataset(path.join(tmp, 'data'), 40);
  lmDir = await makeLm(path.join(tmp, 'lm'), 'othello', 1);
  sae1 = await makeSae(path.join(tmp, 'sae1'), { lmDir, layer: 1, seed: 5 });
  sae2 = await makeSae(path.join(tmp, 'sae2'), { lmDir, layer: 1, seed: 6, dictSize: 32 });
}, 120_000);
afterAll(async () => {
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const base = (): EvalJobOptions => ({
  saeDirs: [sae1, sae2],
  datasetDir,
  families: 'board_state,valid_moves',
  maxSampleGames: 10,
  stats: { labelMinTp: 10 },
  topK: 5,
  lmBatchSize: 8,
  exportDir: path.join(tmp, 'export'),
});

async function countRows(): Promise<Record<string, number>> {
  const { rows } = await db.pool.query(
    `SELECT (SELECT count(*) FROM features)::int AS features, (SELECT count(*) FROM feature_alignments)::int AS alignments,
            (SELECT count(*) FROM metric_results)::int AS metrics, (SELECT count(*) FROM feature_examples)::int AS examples,
            (SELECT count(*) FROM feature_activations)::int AS activations, (SELECT count(*) FROM sae_evaluations)::int AS evaluations,
            (SELECT count(*) FROM sae_checkpoints)::int AS checkpoints`,
  );
  return rows[0];
}

/** The same evaluation computed independently: activations gathered by (game, position) key. */
async function reference(saeDir: string, maxSampleGames: number) {
  const ds = await openDataset(datasetDir);
  const m = ds.manifest;
  const families = othelloBspFamilies.filter((f) => ['board_state', 'valid_moves'].includes(f.shortName));
  const { model } = await loadModelDir(lmDir);
  const { dictionary } = await loadSaeDir(saeDir);
  const all = await ds.readTokens();
  const seq = truncateSequences(inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: Int32Array.from(all.tokens), length: all.stride }), 59);
  const vec = new Map<string, Float32Array>();
  for await (const b of activationBatches({ model, layer: 1, data: seq, positions: 'all', contextLength: 59, batchSize: 8 })) {
    for (let i = 0; i < b.n; i++) vec.set(`${b.gameIndex[i]}:${b.position[i]}`, b.acts_ND.slice(i * b.d, (i + 1) * b.d));
  }
  model.dispose();
  const encode = (keys: string[]) => {
    const x = new Float32Array(keys.length * 16);
    keys.forEach((k, i) => x.set(vec.get(k)!, i * 16));
    const f = tf.tidy(() => dictionary.encode(tf.tensor2d(x, [keys.length, 16])));
    const out = f.dataSync() as Float32Array;
    f.dispose();
    return out;
  };
  const F = dictionary.dictSize;
  const split = async (r: { start: number; end: number }) => {
    const keys: string[] = [];
    const mats = families.map(() => [] as Uint8Array[]);
    for await (const s of ds.shards()) {
      const labels = families.map((f) => s.labels(f.shortName));
      for (let p = 0; p < s.nPositions; p++) {
        if (s.positionGame[p] < r.start || s.positionGame[p] >= r.end) continue;
        keys.push(`${s.positionGame[p]}:${s.positionIndex[p]}`);
        families.forEach((f, k) => mats[k].push(labels[k].slice(p * f.cells, (p + 1) * f.cells)));
      }
    }
    const b = new CsrBuilder(F);
    b.appendDense(encode(keys), keys.length);
    const dense = mats.map((rows, k) => {
      const out = new Uint8Array(rows.length * families[k].cells);
      rows.forEach((row, i) => out.set(row, i * families[k].cells));
      return out;
    });
    return { activations: b.finish(), labels: labelSetFromDense(families, dense, keys.length) };
  };
  const sampleKeys: string[] = [];
  for (let g = 0; g < maxSampleGames; g++) for (let p = 0; p < 59; p++) sampleKeys.push(`${m.splits.train.start + g}:${p}`);
  const fire = new FiringStats(F);
  fire.addDense(encode(sampleKeys), sampleKeys.length);
  const res = evaluateSupervised({ maxima: fire.finish(), train: await split(m.splits.train), test: await split(m.splits.test), options: { labelMinTp: 10 } });
  dictionary.dispose();
  return res;
}

describe('saeboard eval pipeline (Othello, random-init LM)', () => {
  it('reads the LM origin from provenance.kind only', () => {
    expect(lmOrigin({ kind: 'random-init', seed: 1 })).toBe('random-init');
    // a trained model's provenance may mention its (synthetic-random) dataset: still trained
    expect(lmOrigin({ kind: 'trained', datasetSource: 'synthetic-random' })).toBe('trained');
    expect(lmOrigin({ kind: 'imported:nanogpt' })).toBe('imported');
  });

  it('matches an independent computation, writes every table in one go, and exports JSON', async () => {
    const results = await runEvaluation({ ...base(), pool: db.pool });
    expect(results).toHaveLength(2);
    const ref = await reference(sae1, 10);
    const r = results[0].result;
    expect(r.trainPositions).toBe(20 * 59);
    expect(r.testPositions).toBe(20 * 59);
    expect(r.aliveFeatures).toBe(ref.aliveFeatures);
    r.families.forEach((f, k) => {
      expect(f.coverage.perThreshold).toEqual(ref.families[k].coverage.perThreshold);
      expect(f.reconstruction!.tp).toEqual(ref.families[k].reconstruction!.tp);
      expect(f.reconstruction!.reconstruction).toBe(ref.families[k].reconstruction!.reconstruction);
    });
    expect(r.families[0].coverage.coverage).toBeGreaterThan(0);

    const rows = await countRows();
    expect(rows.features).toBe(48 + 32);
    expect(rows.evaluations).toBe(2);
    expect(rows.alignments).toBe(results[0].result.train.alignments.length + results[1].result.train.alignments.length);
    expect(rows.activations).toBe(results[0].rowsWritten!.activations + results[1].rowsWritten!.activations);
    expect(results[0].rowsWritten!.activations).toBeGreaterThan(1000);
    // metric rows: coverage + reconstruction per family, + num_alive_features
    expect(rows.metrics).toBe(2 * (2 * 2 + 1));

    // examples: boards are the positions after move `position_index` (5 + i discs)
    const ex = await db.pool.query<{ position_index: number; board: string; activation: number; rank: number; feature_index: number }>(
      'SELECT feature_index, rank, position_index, board, activation FROM feature_examples WHERE sae_checkpoint_id = $1 ORDER BY feature_index, rank',
      [results[0].saeCheckpointId],
    );
    expect(ex.rows.length).toBeGreaterThan(0);
    for (const e of ex.rows) {
      expect(e.board).toHaveLength(64);
      expect(e.board.replace(/\./g, '').length).toBe(5 + e.position_index);
    }
    // "where does feature f fire": the strongest stored activation equals the top example
    const f0 = ex.rows[0].feature_index;
    const top = await db.pool.query('SELECT max(value) AS v FROM feature_activations WHERE sae_checkpoint_id = $1 AND feature_index = $2', [results[0].saeCheckpointId, f0]);
    expect(top.rows[0].v).toBeCloseTo(ex.rows[0].activation, 5);

    // the coverage stored in metric_results is the computed one
    const cov = await db.pool.query("SELECT value FROM metric_results WHERE sae_checkpoint_id = $1 AND metric = 'coverage' AND family = $2", [
      results[0].saeCheckpointId,
      r.families[0].name,
    ]);
    expect(cov.rows[0].value).toBeCloseTo(r.families[0].coverage.coverage, 10);

    const doc = JSON.parse(readFileSync(results[0].exportPath!, 'utf8'));
    expect(doc.eval_type_id).toBe('saeboard_board_game_bsp');
    expect(doc.eval_result_metrics.board_state.coverage).toBeCloseTo(r.families[0].coverage.coverage, 12);
    expect(doc.eval_result_details).toHaveLength(2);
    expect(doc.eval_result_unstructured.paper_csv_columns[`${r.families[0].name}_best_average_f1`]).toBe(r.families[0].coverage.coverage);

    // same config again: replaced in place
    await runEvaluation({ ...base(), saeDirs: [sae1], pool: db.pool });
    expect(await countRows()).toEqual(rows);
  });

  it('evaluates SAEs stored in the dictionary_learning and SAELens layouts like the original', async () => {
    const { dictionary, config } = await loadSaeDir(sae1);
    const dlDir = path.join(tmp, 'sae1-dictionary-learning');
    const lensDir = path.join(tmp, 'sae1-saelens');
    await exportSae(dictionary, config, dlDir, 'dictionary_learning');
    await exportSae(dictionary, config, lensDir, 'saelens');
    dictionary.dispose();
    const opts = { ...base(), exportDir: undefined, lmDir, layer: 1 };
    const [orig, dl, lens] = await Promise.all([sae1, dlDir, lensDir].map(async (dir) => (await runEvaluation({ ...opts, saeDirs: [dir] }))[0].result));
    for (const other of [dl, lens]) {
      expect(other.aliveFeatures).toBe(orig.aliveFeatures);
      other.families.forEach((f, k) => {
        expect(f.coverage.perThreshold).toEqual(orig.families[k].coverage.perThreshold);
        expect(f.reconstruction!.reconstruction).toBe(orig.families[k].reconstruction!.reconstruction);
      });
    }
  });

  it('trains the linear-probe reference on the same positions when asked', async () => {
    const [r] = await runEvaluation({ ...base(), saeDirs: [sae1], exportDir: null, probes: true, probeEpochs: 1 });
    expect(r.probes!.map((p) => p.family)).toEqual(['board_state', 'valid_moves']);
    for (const p of r.probes!) {
      expect(p.accuracy).toBeGreaterThanOrEqual(0);
      expect(p.accuracy).toBeLessThanOrEqual(1);
    }
  });

  describe('bad input: clear error, nothing written', () => {
    const expectRejected = async (opts: Partial<EvalJobOptions>, message: RegExp) => {
      const before = await countRows();
      const err = await runEvaluation({ ...base(), exportDir: null, pool: db.pool, ...opts }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserInputError);
      expect((err as Error).message).toMatch(message);
      expect(await countRows()).toEqual(before);
    };

    it('SAE trained on another layer', () => expectRejected({ layer: 0 }, /trained on layer 1, not --layer 0/));
    it('SAE and dataset from different games / tokenizers', async () => {
      const chessLm = await makeLm(path.join(tmp, 'chess-lm'), 'chess', 2);
      const chessSae = await makeSae(path.join(tmp, 'chess-sae'), { lmDir: chessLm, layer: 1 });
      await expectRejected({ saeDirs: [sae1, chessSae] }, /reads a chess LM .* but dataset .* is othello/);
    });
    it('SAE input width does not match the LM', async () => {
      const narrow = await makeSae(path.join(tmp, 'narrow'), { lmDir, layer: 1, dIn: 8 });
      await expectRejected({ saeDirs: [narrow] }, /expects 8-dim inputs .* has width 16/);
    });
    it('SAE from a different LM (config hash)', async () => {
      const other = await makeLm(path.join(tmp, 'lm-other'), 'othello', 9, 'other');
      const s = await makeSae(path.join(tmp, 'sae-other'), { lmDir: other, layer: 1 });
      await expectRejected({ saeDirs: [s], lmDir }, /trained on the LM at .*lm-other, not/);
    });
    it('missing BSP family', () => expectRejected({ families: 'board_state,mine_yours' }, /"mine_yours" is not labelled in dataset/));
    it('unknown BSP family', () => expectRejected({ families: 'board_state,castling' }, /unknown othello BSP family "castling"/));
    it('empty test split', async () => {
      const { writeDataset, adapterFor, othelloRandomSource, resolveFamilies } = await import('../../src/games/dataset/index.js');
      const adapter = adapterFor('othello');
      const dir = path.join(tmp, 'no-test');
      await writeDataset({ out: dir, adapter, families: resolveFamilies(adapter, 'board_state'), source: othelloRandomSource({ games: 4, seed: 1 }), testFraction: 0, showProgress: false });
      await expectRejected({ datasetDir: dir, families: 'board_state' }, /no D_test games/);
    });
    it('NaN weights (even in the second SAE: the first is not written either)', async () => {
      const bad = await makeSae(path.join(tmp, 'nan'), { lmDir, layer: 1, poison: true });
      await expectRejected({ saeDirs: [sae1, bad] }, /NaN/);
    });
    it('NaN LM weights', async () => {
      const nanLm = await makeLm(path.join(tmp, 'lm-nan'), 'othello', 1, 'nan', true);
      const s = await makeSae(path.join(tmp, 'sae-on-nan'), { lmDir: nanLm, layer: 1 });
      await expectRejected({ saeDirs: [sae1, s] }, /lm-nan\/model\.safetensors: tensor "\S+" holds NaN at index \d+; NaN\/inf weights/);
    });
    it('no such dataset', () => expectRejected({ datasetDir: path.join(tmp, 'nope') }, /no such dataset directory/));
  });
});

describe('saeboard eval pipeline (chess: dots, strategy families, FEN boards)', () => {
  it('evaluates the 15 default families at the first 20 dots and stores White-to-move FENs', async () => {
    const data = await makeChessDataset(path.join(tmp, 'chess-data'), 8);
    const clm = await makeLm(path.join(tmp, 'chess-lm2'), 'chess', 4);
    const csae = await makeSae(path.join(tmp, 'chess-sae2'), { lmDir: clm, layer: 0 });
    const [r] = await runEvaluation({ saeDirs: [csae], datasetDir: data, maxSampleGames: 2, topK: 3, lmBatchSize: 4, pool: db.pool });
    expect(r.result.trainPositions).toBe(4 * 20);
    expect(r.result.families.map((f) => f.shortName)[0]).toBe('board_state');
    expect(r.result.families).toHaveLength(15);
    expect(r.result.strategy?.families).toBe(14);
    const board = r.result.families[0];
    expect(board.coverageDenominator).toBe(768);
    // masked board state: D_test true cells = non-initial pieces at the 80 test dots
    expect(board.reconstruction!.trueCells).toBeGreaterThan(0);
    const ex = await db.pool.query<{ board: string; position_index: number }>('SELECT board, position_index FROM feature_examples WHERE sae_checkpoint_id = $1', [r.saeCheckpointId]);
    expect(ex.rows.length).toBeGreaterThan(0);
    for (const e of ex.rows) expect(e.board).toMatch(/^[pnbrqkPNBRQK1-8/]+ w /);
  });
});
