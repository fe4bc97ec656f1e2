/**
 * Writers for `saeboard eval` (migrations 0001 + 0005): the BSP catalogue rows an evaluation
 * refers to, the registration of an evaluated SAE checkpoint, and one evaluation's results —
 * sae_evaluations, features, feature_alignments, metric_results, feature_examples and the
 * checkpoint's feature_activations partition — all through COPY inside the caller's transaction.
 * Payloads are columnar typed arrays (millions of rows, no per-row objects).
 */
import type pg from 'pg';
import { ConflictError } from '../../errors.js';
import type { BspFamily } from '../../games/types.js';
import { copyBinary } from '../copy-binary.js';
import type { Queryable } from '../pool.js';
import { upsertBspCatalogue } from './datasets.js';

// ---------------------------------------------------------------------------------------------
// BSP catalogue and dataset rows (the catalogue itself is src/db/repos/datasets.ts)

/**
 * board_properties ids of every cell of `families` (family code name → ids[cell]), upserting the
 * game's catalogue first when some family is missing or incomplete. Use inside a transaction.
 */
export async function boardPropertyIdsFor(client: pg.ClientBase, game: string, families: readonly BspFamily<never>[]): Promise<Map<string, Int32Array>> {
  const read = async () => {
    const { rows } = await client.query<{ family: string; cell_index: number; id: number }>(
      'SELECT family, cell_index, id FROM board_properties WHERE game = $1 AND family = ANY($2)',
      [game, families.map((f) => f.name)],
    );
    const out = new Map<string, Int32Array>(families.map((f) => [f.name, new Int32Array(f.cells).fill(-1)]));
    for (const r of rows) {
      const ids = out.get(r.family);
      if (ids && r.cell_index < ids.length) ids[r.cell_index] = r.id;
    }
    return out;
  };
  let ids = await read();
  if ([...ids.values()].some((a) => a.includes(-1))) {
    await upsertBspCatalogue(client, game, families);
    ids = await read();
    const missing = families.find((f) => ids.get(f.name)!.includes(-1));
    if (missing) throw new ConflictError(`board_properties for ${game}/${missing.name} are incomplete after the catalogue upsert`);
  }
  return ids;
}

/** The datasets row registered for this directory (same path and manifest), if any. */
export async function datasetIdByPath(db: Queryable, absPath: string, manifestSha256: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM datasets WHERE path = $1 AND manifest_sha256 = $2 ORDER BY id LIMIT 1', [absPath, manifestSha256]);
  return rows.length ? rows[0].id : null;
}

// ---------------------------------------------------------------------------------------------
// Registration of the evaluated checkpoint

export interface SaeCheckpointIdentity {
  game: string;
  lm: {
    name: string;
    config: Record<string, unknown>;
    configHash: string;
    origin: 'trained' | 'imported' | 'random-init';
    path: string;
    step: number;
  };
  sae: {
    name: string;
    layer: number;
    site: string;
    trainer: string;
    dictionary: string;
    dIn: number;
    dSae: number;
    hyperparameters: Record<string, unknown>;
    configHash: string;
    path: string;
    step: number;
    codeVersion: string;
  };
}

/**
 * The sae_checkpoints id of an SAE directory: the row registered for that path if there is one
 * (e.g. by the training pipeline), else a new chain lm_models → lm_checkpoints → saes →
 * sae_checkpoints, reusing every row that already exists.
 */
export async function ensureSaeCheckpoint(db: Queryable, id: SaeCheckpointIdentity): Promise<number> {
  const existing = await db.query<{ id: number }>('SELECT id FROM sae_checkpoints WHERE path = $1 ORDER BY id LIMIT 1', [id.sae.path]);
  if (existing.rows.length) return existing.rows[0].id;

  const { lm, sae } = id;
  let lmName = lm.name;
  let lmModelId: number | null = null;
  const byName = await db.query<{ id: number; config_hash: string }>('SELECT id, config_hash FROM lm_models WHERE name = $1', [lmName]);
  if (byName.rows.length && byName.rows[0].config_hash === lm.configHash) lmModelId = byName.rows[0].id;
  else if (byName.rows.length) lmName = `${lm.name}@${lm.configHash.slice(0, 8)}`;
  if (lmModelId === null) {
    const ins = await db.query<{ id: number }>(
      `INSERT INTO lm_models (name, game, config, config_hash, origin) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [lmName, id.game, lm.config, lm.configHash, lm.origin],
    );
    lmModelId = ins.rows[0].id;
  }
  const lmCkpt = await db.query<{ id: number }>(
    `INSERT INTO lm_checkpoints (lm_model_id, step, path, code_version) VALUES ($1, $2, $3, $4)
     ON CONFLICT (lm_model_id, step) DO UPDATE SET path = lm_checkpoints.path RETURNING id`,
    [lmModelId, lm.step, lm.path, sae.codeVersion],
  );
  const saeRow = await db.query<{ id: number }>(
    `INSERT INTO saes (name, lm_checkpoint_id, layer, site, trainer, dictionary, d_in, d_sae, hyperparameters, config_hash, path, status, code_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'imported', $12)
     ON CONFLICT (lm_checkpoint_id, layer, site, config_hash) DO UPDATE SET name = saes.name RETURNING id`,
    [sae.name, lmCkpt.rows[0].id, sae.layer, sae.site, sae.trainer, sae.dictionary, sae.dIn, sae.dSae, sae.hyperparameters, sae.configHash, sae.path, sae.codeVersion],
  );
  const ck = await db.query<{ id: number }>(
    `INSERT INTO sae_checkpoints (sae_id, step, path) VALUES ($1, $2, $3)
     ON CONFLICT (sae_id, step) DO UPDATE SET path = sae_checkpoints.path RETURNING id`,
    [saeRow.rows[0].id, sae.step, sae.path],
  );
  return ck.rows[0].id;
}

// ---------------------------------------------------------------------------------------------
// One evaluation

export interface EvaluationWrite {
  saeCheckpointId: number;
  datasetId: number | null;
  datasetPath: string;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
  codeVersion: string;
  aliveFeatures: number;
  trainPositions: number;
  testPositions: number;
  summary: Record<string, unknown>;
  timings: Record<string, number>;
  /** One row per feature index 0..count-1. bestBspId −1 = none. */
  features: {
    count: number;
    alive: Uint8Array;
    maxActivation: Float32Array;
    density: Float32Array;
    bestBspId: Int32Array;
    bestF1: ArrayLike<number>;
    bestThreshold: ArrayLike<number>;
    histogram: (feature: number) => ArrayLike<number>;
  };
  alignments: {
    count: number;
    feature: Int32Array;
    bspId: Int32Array;
    thresholdIndex: Uint8Array;
    tp: Int32Array;
    fp: Int32Array;
    fn: Int32Array;
    precision: Float32Array;
    recall: Float32Array;
    f1: Float32Array;
  };
  metrics: { metric: string; family: string; value: number; details: Record<string, unknown> }[];
  examples: {
    count: number;
    feature: Int32Array;
    rank: Int16Array;
    split: (i: number) => 'train' | 'test';
    gameIndex: Int32Array;
    positionIndex: Int32Array;
    activation: Float32Array;
    board: (i: number) => string;
  };
  /** Non-zero activations in position order; null = do not store them. */
  activations: { count: number; positionKey: Int32Array; feature: Int32Array; value: Float32Array } | null;
}

export interface EvaluationWriteResult {
  evaluationId: number;
  rows: { features: number; alignments: number; metrics: number; examples: number; activations: number };
  timingsMs: Record<string, number>;
}

export const THRESHOLD_OF_INDEX = (t: number): number => t / 10;

/** Name of a checkpoint's feature_activations partition. */
export function activationPartition(saeCheckpointId: number): string {
  return `feature_activations_${Number(saeCheckpointId)}`;
}

/** Name of a checkpoint's feature_alignments partition. */
export function alignmentPartition(saeCheckpointId: number): string {
  return `feature_alignments_${Number(saeCheckpointId)}`;
}

/** Remove everything an earlier evaluation of this checkpoint stored (per-checkpoint tables) and its run row for this config. */
async function clearPrevious(client: pg.ClientBase, w: EvaluationWrite): Promise<void> {
  const id = w.saeCheckpointId;
  await client.query(`DROP TABLE IF EXISTS ${alignmentPartition(id)}`);
  await client.query('DELETE FROM feature_bsp_best WHERE sae_checkpoint_id = $1', [id]);
  await client.query('DELETE FROM feature_examples WHERE sae_checkpoint_id = $1', [id]);
  await client.query('DELETE FROM features WHERE sae_checkpoint_id = $1', [id]);
  await client.query('DELETE FROM metric_results WHERE sae_checkpoint_id = $1 AND eval_config_hash = $2', [id, w.evalConfigHash]);
  await client.query('DELETE FROM sae_evaluations WHERE sae_checkpoint_id = $1 AND eval_config_hash = $2', [id, w.evalConfigHash]);
  await client.query(`DROP TABLE IF EXISTS ${activationPartition(id)}`);
}

/**
 * Write one evaluation with `client` (inside the caller's transaction: on any error, nothing of it
 * remains). Per-checkpoint data (features, alignments, examples, activations) is replaced; metric
 * rows and the run row are replaced for the same eval-config hash and kept for other configs.
 */
export async function writeEvaluation(client: pg.ClientBase, w: EvaluationWrite): Promise<EvaluationWriteResult> {
  const timingsMs: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timingsMs[name] = Math.round(performance.now() - t0);
    }
  };
  const id = w.saeCheckpointId;
  await timed('clear', () => clearPrevious(client, w));

  const run = await client.query<{ id: number }>(
    `INSERT INTO sae_evaluations (sae_checkpoint_id, dataset_id, dataset_path, eval_config, eval_config_hash, code_version,
       alive_features, train_positions, test_positions, summary, timings)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [id, w.datasetId, w.datasetPath, w.evalConfig, w.evalConfigHash, w.codeVersion, w.aliveFeatures, w.trainPositions, w.testPositions, w.summary, w.timings],
  );

  const f = w.features;
  await timed('features', () =>
    copyBinary(
      client,
      'features',
      [
        { name: 'sae_checkpoint_id', type: 'int8', values: id },
        { name: 'feature_index', type: 'int4', values: (i) => i },
        { name: 'alive', type: 'bool', values: (i) => f.alive[i] === 1 },
        { name: 'max_activation', type: 'float4', values: f.maxActivation },
        { name: 'density', type: 'float4', values: f.density },
        { name: 'best_bsp_id', type: 'int4', values: (i) => (f.bestBspId[i] >= 0 ? f.bestBspId[i] : null) },
        { name: 'best_f1', type: 'float4', values: (i) => (f.bestBspId[i] >= 0 ? f.bestF1[i] : null) },
        { name: 'best_threshold', type: 'float4', values: (i) => (f.bestBspId[i] >= 0 ? f.bestThreshold[i] : null) },
        { name: 'histogram', type: 'float4[]', values: (i) => f.histogram(i) },
      ],
      f.count,
    ),
  );

  await timed('alignments', () => writeAlignmentPartition(client, id, w.alignments));
  const e = w.examples;
  await timed('examples', () =>
    copyBinary(
      client,
      'feature_examples',
      [
        { name: 'sae_checkpoint_id', type: 'int8', values: id },
        { name: 'feature_index', type: 'int4', values: e.feature },
        { name: 'rank', type: 'int2', values: e.rank },
        { name: 'split', type: 'text', values: e.split },
        { name: 'game_index', type: 'int4', values: e.gameIndex },
        { name: 'position_index', type: 'int2', values: e.positionIndex },
        { name: 'activation', type: 'float4', values: e.activation },
        { name: 'board', type: 'text', values: e.board },
      ],
      e.count,
    ),
  );

  let activationRows = 0;
  if (w.activations) {
    const act = w.activations;
    activationRows = act.count;
    await timed('activations', () => writeActivationPartition(client, id, act));
  }
  // Last: their triggers (0013) take the summaries' lock, held until commit, so concurrent
  // evaluations wait on each other for as short a time as possible.
  await timed('bestPerBsp', () => writeBestFeaturesPerBsp(client, id));

  await timed('metrics', async () => {
    if (!w.metrics.length) return;
    await client.query(
      `INSERT INTO metric_results (sae_checkpoint_id, metric, family, value, details, eval_config, eval_config_hash, code_version)
       SELECT $1, m, fam, v, d, $5, $6, $7 FROM unnest($2::text[], $3::text[], $4::float8[], $8::jsonb[]) AS u(m, fam, v, d)`,
      [
        id,
        w.metrics.map((m) => m.metric),
        w.metrics.map((m) => m.family),
        w.metrics.map((m) => m.value),
        w.evalConfig,
        w.evalConfigHash,
        w.codeVersion,
        w.metrics.map((m) => JSON.stringify(m.details)),
      ],
    );
  });

  return {
    evaluationId: run.rows[0].id,
    rows: { features: f.count, alignments: w.alignments.count, metrics: w.metrics.length, examples: e.count, activations: activationRows },
    timingsMs,
  };
}

/**
 * A checkpoint's feature_alignments rows, loaded the fast way: COPY into a bare table, build the
 * primary key and both indexes in bulk (sorts, not row-by-row btree inserts), add the partition
 * CHECK so ATTACH needs no scan, then ATTACH — which validates both foreign keys with one join each.
 */
export async function writeAlignmentPartition(client: pg.ClientBase, saeCheckpointId: number, a: EvaluationWrite['alignments']): Promise<void> {
  const id = Number(saeCheckpointId);
  const part = alignmentPartition(id);
  await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
  await client.query(`DROP TABLE IF EXISTS ${part}`);
  await client.query(`CREATE TABLE ${part} (LIKE feature_alignments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  await copyBinary(
    client,
    part,
    [
      { name: 'sae_checkpoint_id', type: 'int8', values: id },
      { name: 'feature_index', type: 'int4', values: a.feature },
      { name: 'bsp_id', type: 'int4', values: a.bspId },
      { name: 'threshold_index', type: 'int2', values: a.thresholdIndex },
      { name: 'threshold', type: 'float4', values: Float32Array.from(a.thresholdIndex, THRESHOLD_OF_INDEX) },
      { name: 'tp', type: 'int4', values: a.tp },
      { name: 'fp', type: 'int4', values: a.fp },
      { name: 'fn', type: 'int4', values: a.fn },
      { name: 'precision', type: 'float4', values: a.precision },
      { name: 'recall', type: 'float4', values: a.recall },
      { name: 'f1', type: 'float4', values: a.f1 },
    ],
    a.count,
  );
  await client.query(`ALTER TABLE ${part} ADD CONSTRAINT ${part}_ckpt CHECK (sae_checkpoint_id = ${id})`);
  await client.query(`ALTER TABLE ${part} ADD PRIMARY KEY (sae_checkpoint_id, feature_index, bsp_id, threshold_index)`);
  await client.query(`CREATE INDEX ${part}_bsp_idx ON ${part} (bsp_id, f1 DESC)`);
  await client.query(`CREATE INDEX ${part}_ckpt_f1_idx ON ${part} (sae_checkpoint_id, f1 DESC)`);
  await client.query(`ALTER TABLE feature_alignments ATTACH PARTITION ${part} FOR VALUES IN (${id})`);
  await client.query(`ANALYZE ${part}`);
}

/** How many features per (checkpoint, BSP) feature_bsp_best keeps (migration 0006). */
export const BEST_FEATURES_PER_BSP = 8;

/**
 * Fill feature_bsp_best for one checkpoint from its freshly attached alignment partition: per
 * (feature, BSP) the threshold with the highest F1 (lowest threshold on ties), then per BSP the
 * BEST_FEATURES_PER_BSP features with the highest F1 (lowest feature index on ties).
 */
export async function writeBestFeaturesPerBsp(client: pg.ClientBase, saeCheckpointId: number): Promise<void> {
  const part = alignmentPartition(saeCheckpointId);
  await client.query(
    `INSERT INTO feature_bsp_best (sae_checkpoint_id, bsp_id, feature_index, rank, threshold_index, threshold, tp, fp, fn, precision, recall, f1)
     SELECT sae_checkpoint_id, bsp_id, feature_index, rank - 1, threshold_index, threshold, tp, fp, fn, precision, recall, f1
     FROM (
       SELECT b.*, row_number() OVER (PARTITION BY bsp_id ORDER BY f1 DESC, feature_index) AS rank
       FROM (
         SELECT DISTINCT ON (feature_index, bsp_id) *
         FROM ${part}
         WHERE f1 > 0
         ORDER BY feature_index, bsp_id, f1 DESC, threshold_index
       ) b
     ) r
     WHERE rank <= $1`,
    [BEST_FEATURES_PER_BSP],
  );
}

/**
 * Create the checkpoint's partition, binary-COPY the rows into it (rows arrive in position order)
 * and index it afterwards (bulk index builds beat per-row maintenance): btree on
 * (feature_index, value DESC) for "where does feature f fire, strongest first", BRIN on
 * position_key for "what fires at position p" (the heap is in position order, so BRIN ranges are
 * tight and the index is a few KB).
 */
export async function writeActivationPartition(
  client: pg.ClientBase,
  saeCheckpointId: number,
  act: { count: number; positionKey: Int32Array; feature: Int32Array; value: Float32Array },
): Promise<void> {
  const part = activationPartition(saeCheckpointId);
  await client.query(`DROP TABLE IF EXISTS ${part}`);
  await client.query(`CREATE TABLE ${part} PARTITION OF feature_activations FOR VALUES IN (${Number(saeCheckpointId)})`);
  await copyBinary(
    client,
    part,
    [
      { name: 'sae_checkpoint_id', type: 'int4', values: saeCheckpointId },
      { name: 'position_key', type: 'int4', values: act.positionKey },
      { name: 'feature_index', type: 'int4', values: act.feature },
      { name: 'value', type: 'float4', values: act.value },
    ],
    act.count,
  );
  await client.query(`CREATE INDEX ${part}_feature_idx ON ${part} (feature_index, value DESC)`);
  await client.query(`CREATE INDEX ${part}_position_idx ON ${part} USING brin (position_key) WITH (pages_per_range = 16)`);
  // Fresh statistics, or the planner scans the whole partition for a position lookup (~0.4 s vs 1 ms).
  await client.query(`ANALYZE ${part}`);
}

/** Delete a checkpoint's stored alignments (drop its partition). */
export async function dropFeatureAlignments(db: Queryable, saeCheckpointId: number): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${alignmentPartition(saeCheckpointId)}`);
}

/** Delete a checkpoint's stored activations: dropping its partition is instant whatever its size. */
export async function dropFeatureActivations(db: Queryable, saeCheckpointId: number): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${activationPartition(saeCheckpointId)}`);
}

/** Bytes on disk of a checkpoint's partition: heap and indexes. */
export async function activationPartitionSize(db: Queryable, saeCheckpointId: number): Promise<{ rows: number; heapBytes: number; indexBytes: number }> {
  const part = activationPartition(saeCheckpointId);
  const { rows } = await db.query<{ rows: number; heap: number; idx: number }>(
    `SELECT (SELECT count(*) FROM ${part})::bigint AS rows, pg_table_size('${part}')::bigint AS heap, pg_indexes_size('${part}')::bigint AS idx`,
  );
  return { rows: rows[0].rows, heapBytes: rows[0].heap, indexBytes: rows[0].idx };
}

// ---------------------------------------------------------------------------------------------
// Reads for the API (DataLoader-friendly: every function takes id lists where batching helps)

export interface ActivationRow {
  saeCheckpointId: number;
  featureIndex: number;
  gameIndex: number;
  positionIndex: number;
  value: number;
}

/** Where a feature fires: its strongest stored activations (uses the partition's (feature, value DESC) index). */
export async function featureActivations(db: Queryable, saeCheckpointId: number, featureIndex: number, limit = 100): Promise<ActivationRow[]> {
  const { rows } = await db.query<{ position_key: number; value: number }>(
    `SELECT position_key, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND feature_index = $2 ORDER BY value DESC LIMIT $3`,
    [saeCheckpointId, featureIndex, limit],
  );
  return rows.map((r) => ({ saeCheckpointId, featureIndex, gameIndex: r.position_key >> 10, positionIndex: r.position_key & 1023, value: r.value }));
}

/** What fires at a position (game index, token index): every stored feature activation there, strongest first. */
export async function activationsAtPosition(db: Queryable, saeCheckpointId: number, gameIndex: number, positionIndex: number): Promise<ActivationRow[]> {
  const { rows } = await db.query<{ feature_index: number; value: number }>(
    `SELECT feature_index, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND position_key = $2 ORDER BY value DESC`,
    [saeCheckpointId, gameIndex * 1024 + positionIndex],
  );
  return rows.map((r) => ({ saeCheckpointId, featureIndex: r.feature_index, gameIndex, positionIndex, value: r.value }));
}

export interface FeatureExampleRow {
  saeCheckpointId: number;
  featureIndex: number;
  rank: number;
  split: 'train' | 'test';
  gameIndex: number;
  positionIndex: number;
  activation: number;
  board: string;
}

/** Top examples of many (checkpoint, feature) pairs at once, grouped in the order asked. */
export async function featureExamplesFor(db: Queryable, keys: readonly { saeCheckpointId: number; featureIndex: number }[]): Promise<FeatureExampleRow[][]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<{ sae_checkpoint_id: number; feature_index: number; rank: number; split: 'train' | 'test'; game_index: number; position_index: number; activation: number; board: string }>(
    `SELECT e.sae_checkpoint_id, e.feature_index, e.rank, e.split, e.game_index, e.position_index, e.activation, e.board
     FROM feature_examples e JOIN unnest($1::bigint[], $2::int[]) AS k(c, f) ON e.sae_checkpoint_id = k.c AND e.feature_index = k.f
     ORDER BY e.sae_checkpoint_id, e.feature_index, e.rank`,
    [keys.map((k) => k.saeCheckpointId), keys.map((k) => k.featureIndex)],
  );
  const byKey = new Map<string, FeatureExampleRow[]>();
  for (const r of rows) {
    const key = `${r.sae_checkpoint_id}:${r.feature_index}`;
    const list = byKey.get(key) ?? [];
    list.push({
      saeCheckpointId: r.sae_checkpoint_id,
      featureIndex: r.feature_index,
      rank: r.rank,
      split: r.split,
      gameIndex: r.game_index,
      positionIndex: r.position_index,
      activation: r.activation,
      board: r.board,
    });
    byKey.set(key, list);
  }
  return keys.map((k) => byKey.get(`${k.saeCheckpointId}:${k.featureIndex}`) ?? []);
}

export interface AlignmentReadRow {
  saeCheckpointId: number;
  featureIndex: number;
  bspId: number;
  thresholdIndex: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

const ALIGNMENT_COLUMNS = `sae_checkpoint_id, feature_index, bsp_id, threshold_index, tp, fp, fn, precision, recall, f1`;
function alignmentRow(r: Record<string, number>): AlignmentReadRow {
  return {
    saeCheckpointId: r.sae_checkpoint_id,
    featureIndex: r.feature_index,
    bspId: r.bsp_id,
    thresholdIndex: r.threshold_index,
    tp: r.tp,
    fp: r.fp,
    fn: r.fn,
    precision: r.precision,
    recall: r.recall,
    f1: r.f1,
  };
}

/** Best-aligned features of a board property across all evaluated checkpoints (or one), by F1. */
export async function bestFeaturesForBsp(db: Queryable, bspId: number, opts: { saeCheckpointId?: number; limit?: number } = {}): Promise<AlignmentReadRow[]> {
  const { rows } = await db.query(
    `SELECT ${ALIGNMENT_COLUMNS} FROM feature_alignments WHERE bsp_id = $1 AND ($2::bigint IS NULL OR sae_checkpoint_id = $2) ORDER BY f1 DESC LIMIT $3`,
    [bspId, opts.saeCheckpointId ?? null, opts.limit ?? 20],
  );
  return rows.map(alignmentRow);
}

/** Stored alignments of one feature (every BSP and threshold kept), best first. */
export async function alignmentsOfFeature(db: Queryable, saeCheckpointId: number, featureIndex: number, limit = 50): Promise<AlignmentReadRow[]> {
  const { rows } = await db.query(
    `SELECT ${ALIGNMENT_COLUMNS} FROM feature_alignments WHERE sae_checkpoint_id = $1 AND feature_index = $2 ORDER BY f1 DESC LIMIT $3`,
    [saeCheckpointId, featureIndex, limit],
  );
  return rows.map(alignmentRow);
}
