/** The evaluation writers against a real Postgres (a private clone of the migrated template). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBinary, encodeBinaryCopy, type BinaryColumn } from '../../src/db/copy-binary.js';
import { withTransaction } from '../../src/db/pool.js';
import {
  activationPartition,
  alignmentPartition,
  activationPartitionSize,
  activationsAtPosition,
  alignmentsOfFeature,
  bestFeaturesForBsp,
  featureActivations,
  featureExamplesFor,
  dropFeatureActivations,
  boardPropertyIdsFor,
  ensureSaeCheckpoint,
  writeEvaluation,
  type EvaluationWrite,
  type SaeCheckpointIdentity,
} from '../../src/db/repos/eval.js';
import type pg from 'pg';
import type { BspFamily } from '../../src/games/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const flagFamily = {
  name: 'test_flag',
  shortName: 'test_flag',
  group: 'strategy' as const,
  rows: 1,
  cols: 1,
  classes: 1,
  cells: 1,
  maskIndex: null,
  coverageDenominator: 1,
  describe: () => [{ cell: 0, row: 0, col: 0, classIndex: 0, square: null, className: 'true', name: 'flag is set', masked: false }],
};
const boardFamily = {
  name: 'test_board',
  shortName: 'test_board',
  group: 'board_state' as const,
  rows: 1,
  cols: 2,
  classes: 2,
  cells: 4,
  maskIndex: 1,
  coverageDenominator: 2,
  describe: () =>
    [0, 1, 2, 3].map((c) => ({
      cell: c,
      row: 0,
      col: c >> 1,
      classIndex: c & 1,
      square: `a${(c >> 1) + 1}`,
      className: c & 1 ? 'masked' : 'disc',
      name: `cell ${c}`,
      masked: (c & 1) === 1,
    })),
};

/** The catalogue through the games area's upsert (the test families only need its fields). */
const catalogue = (c: pg.ClientBase) => boardPropertyIdsFor(c, 'othello', [flagFamily, boardFamily] as unknown as BspFamily<never>[]);

function identity(path: string): SaeCheckpointIdentity {
  return {
    game: 'othello',
    lm: { name: 'lm-test', config: { nLayer: 1 }, configHash: 'h-lm', origin: 'random-init', path: '/lm', step: 0 },
    sae: {
      name: 'sae-test',
      layer: 0,
      site: 'resid_post',
      trainer: 'standard',
      dictionary: 'relu',
      dIn: 4,
      dSae: 3,
      hyperparameters: {},
      configHash: `h-${path}`,
      path,
      step: 10,
      codeVersion: 'test',
    },
  };
}

function payload(ckpt: number, ids: Map<string, Int32Array>, hash = 'cfg-1'): EvaluationWrite {
  const flag = ids.get('test_flag')![0];
  const cell0 = ids.get('test_board')![0];
  return {
    saeCheckpointId: ckpt,
    datasetId: null,
    datasetPath: '/data',
    evalConfig: { thresholds: 11 },
    evalConfigHash: hash,
    codeVersion: 'test',
    aliveFeatures: 2,
    trainPositions: 10,
    testPositions: 4,
    summary: { coverage: 0.5 },
    timings: { totalMs: 1 },
    features: {
      count: 3,
      alive: Uint8Array.of(1, 1, 0),
      maxActivation: Float32Array.of(1, 2, 0),
      density: Float32Array.of(0.5, 0.25, 0),
      bestBspId: Int32Array.of(cell0, flag, -1),
      bestF1: Float64Array.of(0.9, 0.8, 0),
      bestThreshold: Float32Array.of(0, 0.1, 0),
      histogram: (f) => (f === 0 ? [1, 2, 3] : []),
    },
    alignments: {
      count: 2,
      feature: Int32Array.of(0, 1),
      bspId: Int32Array.of(cell0, flag),
      thresholdIndex: Uint8Array.of(0, 1),
      tp: Int32Array.of(4, 2),
      fp: Int32Array.of(1, 0),
      fn: Int32Array.of(0, 2),
      precision: Float32Array.of(0.8, 1),
      recall: Float32Array.of(1, 0.5),
      f1: Float32Array.of(0.888889, 0.666667),
    },
    metrics: [
      { metric: 'coverage', family: 'test_board', value: 0.42, details: { bestThresholdIndex: 0 } },
      { metric: 'reconstruction', family: 'test_board', value: 0.66, details: { bestIndex: 5 } },
    ],
    examples: {
      count: 2,
      feature: Int32Array.of(0, 0),
      rank: Int16Array.of(0, 1),
      split: (i) => (i === 0 ? 'train' : 'test'),
      gameIndex: Int32Array.of(3, 7),
      positionIndex: Int32Array.of(12, 0),
      activation: Float32Array.of(1.5, 0.25),
      board: (i) => (i === 0 ? 'X'.repeat(64) : '.'.repeat(64)),
    },
    activations: { count: 3, positionKey: Int32Array.of(3 * 1024 + 12, 3 * 1024 + 12, 7 * 1024), feature: Int32Array.of(0, 1, 0), value: Float32Array.of(1.5, 0.5, 0.25) },
  };
}

describe('evaluation writers', () => {
  it('binary COPY round-trips ints, floats, text, NULLs and real[]', async () => {
    await db.pool.query('CREATE TABLE bin_rt (a int, b bigint, c real, d double precision, e smallint, f boolean, g text, h real[])');
    await withTransaction(db.pool, (c) =>
      copyBinary(
        c,
        'bin_rt',
        [
          { name: 'a', type: 'int4', values: Int32Array.of(-5, 2147483647) },
          { name: 'b', type: 'int8', values: (i) => (i ? 2 ** 40 : null) },
          { name: 'c', type: 'float4', values: Float32Array.of(0.1, -3.5) },
          { name: 'd', type: 'float8', values: Float64Array.of(Math.PI, 1e300) },
          { name: 'e', type: 'int2', values: Int16Array.of(-32768, 7) },
          { name: 'f', type: 'bool', values: (i) => i === 1 },
          { name: 'g', type: 'text', values: (i) => (i ? 'é\ttab\nline' : null) },
          { name: 'h', type: 'float4[]', values: (i) => (i ? [1, 2.5] : []) },
        ],
        2,
      ),
    );
    const { rows } = await db.pool.query('SELECT a, b::text, c, d, e, f, g, h FROM bin_rt ORDER BY a');
    expect(rows[0]).toEqual({ a: -5, b: null, c: 0.1, d: Math.PI, e: -32768, f: false, g: null, h: [] });
    expect(rows[1]).toEqual({ a: 2147483647, b: String(2 ** 40), c: -3.5, d: 1e300, e: 7, f: true, g: 'é\ttab\nline', h: [1, 2.5] });
  });

  it('the column-wise fast path encodes exactly what the row-wise path does', () => {
    const n = 5000;
    const arrays: BinaryColumn[] = [
      { name: 'a', type: 'int8', values: 42 },
      { name: 'b', type: 'int4', values: Int32Array.from({ length: n }, (_, i) => i * 7 - 100) },
      { name: 'c', type: 'int2', values: Uint8Array.from({ length: n }, (_, i) => i % 11) },
      { name: 'd', type: 'float4', values: Float32Array.from({ length: n }, (_, i) => i / 3) },
      { name: 'e', type: 'float8', values: Float64Array.from({ length: n }, (_, i) => -i / 7) },
      { name: 'f', type: 'bool', values: Uint8Array.from({ length: n }, (_, i) => i & 1) },
    ];
    // functions force the row-wise path
    const asFunctions = arrays.map((c) => ({ ...c, values: (i: number) => (typeof c.values === 'number' ? c.values : (c.values as ArrayLike<number>)[i]) }));
    const bytes = (cols: BinaryColumn[]) => Buffer.concat([...encodeBinaryCopy(cols, n, 4096)]);
    expect(bytes(arrays).equals(bytes(asFunctions))).toBe(true);
    expect(bytes(arrays.slice(1)).subarray(-2).readInt16BE(0)).toBe(-1);
    expect(Buffer.concat([...encodeBinaryCopy(arrays, 0)]).equals(Buffer.concat([...encodeBinaryCopy(asFunctions, 0)]))).toBe(true);
  });

  it('registers the catalogue and the checkpoint once, then writes and replaces an evaluation', async () => {
    const ids = await withTransaction(db.pool, catalogue);
    const again = await withTransaction(db.pool, catalogue);
    expect(Array.from(again.get('test_board')!)).toEqual(Array.from(ids.get('test_board')!));
    const ckpt = await ensureSaeCheckpoint(db.pool, identity('/sae/a'));
    expect(await ensureSaeCheckpoint(db.pool, identity('/sae/a'))).toBe(ckpt);

    const res = await withTransaction(db.pool, (c) => writeEvaluation(c, payload(ckpt, ids)));
    expect(res.rows).toEqual({ features: 3, alignments: 2, metrics: 2, examples: 2, activations: 3 });
    const feats = await db.pool.query('SELECT feature_index, alive, best_bsp_id, best_f1, histogram FROM features WHERE sae_checkpoint_id = $1 ORDER BY 1', [ckpt]);
    expect(feats.rows[2]).toEqual({ feature_index: 2, alive: false, best_bsp_id: null, best_f1: null, histogram: [] });
    expect(feats.rows[0].histogram).toEqual([1, 2, 3]);
    const al = await db.pool.query('SELECT threshold, tp, fp, fn FROM feature_alignments WHERE sae_checkpoint_id = $1 ORDER BY feature_index', [ckpt]);
    expect(al.rows[1]).toEqual({ threshold: 0.1, tp: 2, fp: 0, fn: 2 });
    const where = await db.pool.query('SELECT position_key >> 10 AS game, position_key & 1023 AS pos, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND feature_index = 0 ORDER BY value DESC', [ckpt]);
    expect(where.rows).toEqual([
      { game: 3, pos: 12, value: 1.5 },
      { game: 7, pos: 0, value: 0.25 },
    ]);

    // the reads the API uses
    expect(await featureActivations(db.pool, ckpt, 0, 1)).toEqual([{ saeCheckpointId: ckpt, featureIndex: 0, gameIndex: 3, positionIndex: 12, value: 1.5 }]);
    expect((await activationsAtPosition(db.pool, ckpt, 3, 12)).map((r) => [r.featureIndex, r.value])).toEqual([
      [0, 1.5],
      [1, 0.5],
    ]);
    const [ex0, none] = await featureExamplesFor(db.pool, [
      { saeCheckpointId: ckpt, featureIndex: 0 },
      { saeCheckpointId: ckpt, featureIndex: 2 },
    ]);
    expect(ex0.map((e) => [e.rank, e.split, e.gameIndex, e.positionIndex])).toEqual([
      [0, 'train', 3, 12],
      [1, 'test', 7, 0],
    ]);
    expect(none).toEqual([]);
    const flagId = ids.get('test_flag')![0];
    expect((await bestFeaturesForBsp(db.pool, flagId)).map((r) => [r.featureIndex, r.thresholdIndex, r.tp])).toEqual([[1, 1, 2]]);
    expect((await alignmentsOfFeature(db.pool, ckpt, 0)).map((r) => r.bspId)).toEqual([ids.get('test_board')![0]]);

    // same config again: replaced, not duplicated
    await withTransaction(db.pool, (c) => writeEvaluation(c, payload(ckpt, ids)));
    const counts = await db.pool.query(
      `SELECT (SELECT count(*) FROM features WHERE sae_checkpoint_id = $1)::int AS f,
              (SELECT count(*) FROM metric_results WHERE sae_checkpoint_id = $1)::int AS m,
              (SELECT count(*) FROM sae_evaluations WHERE sae_checkpoint_id = $1)::int AS e,
              (SELECT count(*) FROM feature_activations WHERE sae_checkpoint_id = $1)::int AS a`,
      [ckpt],
    );
    expect(counts.rows[0]).toEqual({ f: 3, m: 2, e: 1, a: 3 });
    // another config keeps the earlier metric rows next to the new ones
    await withTransaction(db.pool, (c) => writeEvaluation(c, payload(ckpt, ids, 'cfg-2')));
    const m = await db.pool.query('SELECT count(*)::int AS n FROM metric_results WHERE sae_checkpoint_id = $1', [ckpt]);
    expect(m.rows[0].n).toBe(4);
  });

  it('a failing write leaves nothing behind (one transaction)', async () => {
    const ids = await withTransaction(db.pool, catalogue);
    const ckpt = await ensureSaeCheckpoint(db.pool, identity('/sae/b'));
    const bad = payload(ckpt, ids);
    bad.alignments.bspId = Int32Array.of(ids.get('test_flag')![0], 99999999); // FK violation mid-COPY
    await expect(withTransaction(db.pool, (c) => writeEvaluation(c, bad))).rejects.toThrow();
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*) FROM features WHERE sae_checkpoint_id = $1)::int AS f,
              (SELECT count(*) FROM sae_evaluations WHERE sae_checkpoint_id = $1)::int AS e,
              to_regclass($2) IS NULL AS no_partition, to_regclass($3) IS NULL AS no_alignments`,
      [ckpt, activationPartition(ckpt), alignmentPartition(ckpt)],
    );
    expect(rows[0]).toEqual({ f: 0, e: 0, no_partition: true, no_alignments: true });
  });

  it('activations are dropped with their partition, also when the checkpoint is deleted', async () => {
    const ids = await withTransaction(db.pool, catalogue);
    const c1 = await ensureSaeCheckpoint(db.pool, identity('/sae/c'));
    const c2 = await ensureSaeCheckpoint(db.pool, identity('/sae/d'));
    for (const c of [c1, c2]) await withTransaction(db.pool, (cl) => writeEvaluation(cl, payload(c, ids)));
    expect((await activationPartitionSize(db.pool, c1)).rows).toBe(3);
    await dropFeatureActivations(db.pool, c1);
    const left = await db.pool.query('SELECT DISTINCT sae_checkpoint_id FROM feature_activations ORDER BY 1');
    expect(left.rows.map((r) => r.sae_checkpoint_id)).not.toContain(c1);
    await db.pool.query('DELETE FROM sae_checkpoints WHERE id = $1', [c2]);
    const gone = await db.pool.query('SELECT to_regclass($1) IS NULL AS a, to_regclass($2) IS NULL AS b', [activationPartition(c2), alignmentPartition(c2)]);
    expect(gone.rows[0]).toEqual({ a: true, b: true });
    const rest = await db.pool.query('SELECT count(*)::int AS n FROM feature_alignments WHERE sae_checkpoint_id = $1', [c2]);
    expect(rest.rows[0].n).toBe(0);
  });
});
