/**
 * Reads of features and their alignments for the API: one query per page, keyset-paginated, and
 * batch reads by (checkpoint, feature) keys for DataLoaders.
 *
 * A page is either
 * - features (no board-property filter): rows of `features`, ordered by max activation, density or
 *   their best F1; or
 * - (feature, board property) pairs (a board-property, family or square filter): from
 *   feature_bsp_best (the best features per checkpoint and BSP at their best threshold; one
 *   index range scan across every SAE) — or, when the query names its checkpoints or a threshold,
 *   from those checkpoints' feature_alignments partitions, which hold every pair.
 */
import type { Queryable } from '../pool.js';
import { keysetCondition, orderByClause, param, type SortColumn } from '../keyset.js';
import type { AlignmentReadRow } from './eval.js';

export type FeatureOrder = 'F1' | 'PRECISION' | 'RECALL' | 'MAX_ACTIVATION' | 'DENSITY';

export interface FeatureRow {
  saeCheckpointId: number;
  /** The SAE of the checkpoint (read with the row, so a page's `sae` fields need no checkpoint lookup). */
  saeId: number;
  featureIndex: number;
  alive: boolean;
  maxActivation: number;
  density: number;
  bestBspId: number | null;
  bestF1: number | null;
  bestThreshold: number | null;
  histogram: number[] | null;
}

export interface FeatureQuery {
  game?: string | null;
  /** Board properties the pairs must be about; null = feature mode. */
  bspIds?: readonly number[] | null;
  /** Checkpoints to look in; null = the final checkpoint of every SAE (or `step`'s). */
  saeCheckpointIds?: readonly number[] | null;
  step?: number | null;
  /** Every checkpoint, not only final ones (when no checkpoint or step is named). */
  allCheckpoints?: boolean;
  trainer?: string | null;
  layer?: number | null;
  lmModelId?: number | null;
  alive?: boolean | null;
  /** Features whose explanation (rank 0, feature_explanations) contains this text, case-insensitive. */
  explanationContains?: string | null;
  minF1?: number | null;
  minPrecision?: number | null;
  thresholdIndex?: number | null;
  order: FeatureOrder;
  after: readonly unknown[] | null;
  limit: number;
}

export interface FeaturePageRow {
  feature: FeatureRow;
  alignment: AlignmentReadRow | null;
  sortKey: unknown[];
}

const FEATURE_COLUMNS = `f.sae_checkpoint_id, c.sae_id, f.feature_index, f.alive, f.max_activation, f.density, f.best_bsp_id, f.best_f1, f.best_threshold, f.histogram`;

interface RawFeature {
  sae_checkpoint_id: number;
  sae_id: number;
  feature_index: number;
  alive: boolean;
  max_activation: number;
  density: number;
  best_bsp_id: number | null;
  best_f1: number | null;
  best_threshold: number | null;
  histogram: number[] | null;
}

export function featureRow(r: RawFeature): FeatureRow {
  return {
    saeCheckpointId: r.sae_checkpoint_id,
    saeId: r.sae_id,
    featureIndex: r.feature_index,
    alive: r.alive,
    maxActivation: r.max_activation,
    density: r.density,
    bestBspId: r.best_bsp_id,
    bestF1: r.best_f1,
    bestThreshold: r.best_threshold,
    histogram: r.histogram,
  };
}

/** The checkpoints a query looks in, as SQL conditions over c (sae_checkpoints), s (saes), lm. */
function scopeConditions(q: FeatureQuery, params: unknown[]): string[] {
  const where: string[] = [];
  if (q.saeCheckpointIds) where.push(`c.id = ANY(${param(params, q.saeCheckpointIds)}::bigint[])`);
  else if (q.step != null) where.push(`c.step = ${param(params, q.step)}`);
  else if (!q.allCheckpoints) where.push('c.is_final');
  if (q.game) where.push(`lm.game = ${param(params, q.game)}`);
  if (q.trainer) where.push(`s.trainer = ${param(params, q.trainer)}`);
  if (q.layer != null) where.push(`s.layer = ${param(params, q.layer)}`);
  if (q.lmModelId != null) where.push(`lm.id = ${param(params, q.lmModelId)}`);
  if (q.alive != null) where.push(`f.alive = ${param(params, q.alive)}`);
  if (q.explanationContains) {
    const pattern = '%' + q.explanationContains.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    where.push(
      `EXISTS (SELECT 1 FROM feature_explanations e WHERE e.sae_checkpoint_id = f.sae_checkpoint_id AND e.feature_index = f.feature_index AND e.rank = 0 AND e.text ILIKE ${param(params, pattern)})`,
    );
  }
  return where;
}

/**
 * The joins scopeConditions needs: c always; s and the LM only when a filter names them. Every
 * link is a NOT NULL foreign key, so a join left out drops no row — and planning the page query
 * (most of its cost: 3.6 ms against 0.6 ms of execution for features by BSP at 1,000 SAEs, with
 * every join) takes a third as long without them (bench/api-scale).
 */
function scopeJoins(q: FeatureQuery): string {
  const lm = Boolean(q.game) || q.lmModelId != null;
  const sae = lm || Boolean(q.trainer) || q.layer != null;
  return [
    'JOIN sae_checkpoints c ON c.id = f.sae_checkpoint_id',
    sae ? 'JOIN saes s ON s.id = c.sae_id' : '',
    lm ? 'JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id' : '',
  ].join('\n  ');
}

/** One page (limit + 1 rows, so the caller knows whether another follows). */
export async function listFeatures(db: Queryable, q: FeatureQuery): Promise<FeaturePageRow[]> {
  return q.bspIds ? listFeatureAlignments(db, q, q.bspIds) : listFeaturesOnly(db, q);
}

async function listFeaturesOnly(db: Queryable, q: FeatureQuery): Promise<FeaturePageRow[]> {
  const params: unknown[] = [];
  const where = scopeConditions(q, params);
  const sortExpr = q.order === 'DENSITY' ? 'f.density' : q.order === 'F1' ? 'f.best_f1' : 'f.max_activation';
  if (q.order === 'F1' || q.minF1 != null) where.push('f.best_f1 IS NOT NULL');
  if (q.minF1 != null) where.push(`f.best_f1 >= ${param(params, q.minF1)}`);
  const cols: SortColumn[] = [
    { expr: sortExpr, dir: 'DESC' },
    { expr: 'f.sae_checkpoint_id', dir: 'ASC' },
    { expr: 'f.feature_index', dir: 'ASC' },
  ];
  where.push(keysetCondition(cols, q.after, params));
  const { rows } = await db.query<RawFeature & { sort: number }>(
    `SELECT ${FEATURE_COLUMNS}, ${sortExpr} AS sort FROM features f ${scopeJoins(q)}
     WHERE ${where.join(' AND ')} ORDER BY ${orderByClause(cols)} LIMIT ${param(params, q.limit + 1)}`,
    params,
  );
  return rows.map((r) => ({ feature: featureRow(r), alignment: null, sortKey: [r.sort, r.sae_checkpoint_id, r.feature_index] }));
}

/** Checkpoints named explicitly (at most this many) are read from their alignment partitions. */
const MAX_PARTITIONS_PER_QUERY = 64;
/** Properties (of one name) read by one index walk each and merged; more go through `= ANY`. */
const MAX_MERGED_PROPERTIES = 8;

async function listFeatureAlignments(db: Queryable, q: FeatureQuery, bspIds: readonly number[]): Promise<FeaturePageRow[]> {
  const params: unknown[] = [];
  // One property (the usual case) as `= $n`, not `= ANY($n)`: only then does the planner walk
  // feature_bsp_best_bsp_f1_idx in f1 order and stop after `limit` rows; with ANY it joins and sorts
  // every candidate (~4,000 rows at 1,000 SAEs: 33 ms against under 1 ms, bench/api-scale).
  const ckpts = q.saeCheckpointIds;
  const fromPartitions = q.thresholdIndex != null || (ckpts != null && ckpts.length <= MAX_PARTITIONS_PER_QUERY);
  // A few properties (a readable name shared by two families, such as "a1 is mine"): one such walk
  // per property, each to `limit`, merged — ANY instead made half of bench/api-scale's pages 2–3×
  // slower.
  const perProperty = !fromPartitions && bspIds.length > 1 && bspIds.length <= MAX_MERGED_PROPERTIES;
  const bspCond = perProperty ? '' : bspIds.length === 1 ? `= ${param(params, bspIds[0])}::int` : `= ANY(${param(params, bspIds)}::int[])`;
  let source: string;
  if (fromPartitions) {
    const ckptCond = ckpts ? `AND sae_checkpoint_id = ANY(${param(params, ckpts)}::bigint[])` : '';
    source =
      q.thresholdIndex != null
        ? `(SELECT * FROM feature_alignments WHERE bsp_id ${bspCond} AND threshold_index = ${param(params, q.thresholdIndex)} ${ckptCond})`
        : `(SELECT DISTINCT ON (sae_checkpoint_id, feature_index, bsp_id) * FROM feature_alignments
            WHERE bsp_id ${bspCond} ${ckptCond}
            ORDER BY sae_checkpoint_id, feature_index, bsp_id, f1 DESC, threshold_index)`;
  } else {
    source = `(SELECT * FROM feature_bsp_best WHERE bsp_id ${bspCond})`;
  }
  const where = scopeConditions(q, params);
  if (q.minF1 != null) where.push(`a.f1 >= ${param(params, q.minF1)}`);
  if (q.minPrecision != null) where.push(`a.precision >= ${param(params, q.minPrecision)}`);
  if (!fromPartitions || q.thresholdIndex != null) where.push('a.f1 > 0');
  const sortExpr = { F1: 'a.f1', PRECISION: 'a.precision', RECALL: 'a.recall', MAX_ACTIVATION: 'f.max_activation', DENSITY: 'f.density' }[q.order];
  const cols: SortColumn[] = [
    { expr: sortExpr, dir: 'DESC' },
    { expr: 'a.sae_checkpoint_id', dir: 'ASC' },
    { expr: 'a.feature_index', dir: 'ASC' },
    { expr: 'a.bsp_id', dir: 'ASC' },
  ];
  where.push(keysetCondition(cols, q.after, params));
  const limit = param(params, q.limit + 1);
  const page = (from: string) => `SELECT ${FEATURE_COLUMNS}, ${sortExpr} AS sort, a.bsp_id, a.threshold_index, a.tp, a.fp, a.fn, a.precision, a.recall, a.f1
     FROM ${from} a
     JOIN features f ON f.sae_checkpoint_id = a.sae_checkpoint_id AND f.feature_index = a.feature_index
     ${scopeJoins(q)}
     WHERE ${where.join(' AND ')} ORDER BY ${orderByClause(cols)} LIMIT ${limit}`;
  // Every branch applies every condition (and the cursor), so the page is within their union.
  const text = perProperty
    ? `SELECT * FROM (${bspIds.map((id) => `(${page(`(SELECT * FROM feature_bsp_best WHERE bsp_id = ${param(params, id)}::int)`)})`).join(' UNION ALL ')}) u
       ORDER BY sort DESC, sae_checkpoint_id, feature_index, bsp_id LIMIT ${limit}`
    : page(source);
  const { rows } = await db.query<RawFeature & { sort: number; bsp_id: number; threshold_index: number; tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }>(text, params);
  return rows.map((r) => ({
    feature: featureRow(r),
    alignment: {
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
    },
    sortKey: [r.sort, r.sae_checkpoint_id, r.feature_index, r.bsp_id],
  }));
}

export interface FeatureKey {
  saeCheckpointId: number;
  featureIndex: number;
}

/** Features by key, in the order asked (null where absent). */
export async function getFeatures(db: Queryable, keys: readonly FeatureKey[]): Promise<(FeatureRow | null)[]> {
  if (!keys.length) return [];
  const { rows } = await db.query<RawFeature>(
    `SELECT ${FEATURE_COLUMNS} FROM features f
     JOIN unnest($1::bigint[], $2::int[]) AS k(c, i) ON f.sae_checkpoint_id = k.c AND f.feature_index = k.i
     JOIN sae_checkpoints c ON c.id = f.sae_checkpoint_id`,
    [keys.map((k) => k.saeCheckpointId), keys.map((k) => k.featureIndex)],
  );
  const byKey = new Map(rows.map((r) => [`${r.sae_checkpoint_id}:${r.feature_index}`, featureRow(r)]));
  return keys.map((k) => byKey.get(`${k.saeCheckpointId}:${k.featureIndex}`) ?? null);
}

/**
 * Per feature, its best alignments: per board property the threshold with the highest F1, best
 * `limit` properties first. One query for all keys (one partition scan per checkpoint involved).
 */
export async function bestAlignmentsOfFeatures(db: Queryable, keys: readonly FeatureKey[], limit: number, minF1 = 0): Promise<AlignmentReadRow[][]> {
  if (!keys.length) return [];
  const { rows } = await db.query<AlignmentReadRow & { rank: number }>(
    `SELECT sae_checkpoint_id AS "saeCheckpointId", feature_index AS "featureIndex", bsp_id AS "bspId", threshold_index AS "thresholdIndex",
            tp, fp, fn, precision, recall, f1
     FROM (
       SELECT b.*, row_number() OVER (PARTITION BY sae_checkpoint_id, feature_index ORDER BY f1 DESC, bsp_id) AS rank
       FROM (
         SELECT DISTINCT ON (a.sae_checkpoint_id, a.feature_index, a.bsp_id) a.*
         FROM feature_alignments a
         JOIN unnest($1::bigint[], $2::int[]) AS k(c, i) ON a.sae_checkpoint_id = k.c AND a.feature_index = k.i
         WHERE a.sae_checkpoint_id = ANY($1::bigint[]) AND a.f1 > $4
         ORDER BY a.sae_checkpoint_id, a.feature_index, a.bsp_id, a.f1 DESC, a.threshold_index
       ) b
     ) r
     WHERE rank <= $3
     ORDER BY sae_checkpoint_id, feature_index, rank`,
    [keys.map((k) => k.saeCheckpointId), keys.map((k) => k.featureIndex), limit, minF1],
  );
  const byKey = new Map<string, AlignmentReadRow[]>();
  for (const r of rows) {
    const key = `${r.saeCheckpointId}:${r.featureIndex}`;
    const list = byKey.get(key) ?? [];
    list.push(r);
    byKey.set(key, list);
  }
  return keys.map((k) => byKey.get(`${k.saeCheckpointId}:${k.featureIndex}`) ?? []);
}

/**
 * Per board property, its best features over the final checkpoints of every SAE (or the given
 * checkpoints), from feature_bsp_best: best `limit` first.
 */
export async function bestFeaturesOfBsps(db: Queryable, bspIds: readonly number[], limit: number): Promise<AlignmentReadRow[][]> {
  if (!bspIds.length) return [];
  const { rows } = await db.query<AlignmentReadRow>(
    `SELECT r.sae_checkpoint_id AS "saeCheckpointId", r.feature_index AS "featureIndex", r.bsp_id AS "bspId", r.threshold_index AS "thresholdIndex",
            r.tp, r.fp, r.fn, r.precision, r.recall, r.f1
     FROM unnest($1::int[]) AS k(bsp)
     CROSS JOIN LATERAL (
       SELECT b.* FROM feature_bsp_best b JOIN sae_checkpoints c ON c.id = b.sae_checkpoint_id AND c.is_final
       WHERE b.bsp_id = k.bsp
       ORDER BY b.f1 DESC, b.sae_checkpoint_id, b.feature_index
       LIMIT $2
     ) r`,
    [bspIds, limit],
  );
  const byBsp = new Map<number, AlignmentReadRow[]>();
  for (const r of rows) byBsp.set(r.bspId, [...(byBsp.get(r.bspId) ?? []), r]);
  return bspIds.map((id) => byBsp.get(id) ?? []);
}

export interface AlignmentCurveKey extends FeatureKey {
  bspId: number;
}

/** Per (feature, board property) pair, every stored threshold's statistics, in threshold order. */
export async function alignmentCurves(db: Queryable, keys: readonly AlignmentCurveKey[]): Promise<AlignmentReadRow[][]> {
  if (!keys.length) return [];
  const { rows } = await db.query<AlignmentReadRow>(
    `SELECT a.sae_checkpoint_id AS "saeCheckpointId", a.feature_index AS "featureIndex", a.bsp_id AS "bspId", a.threshold_index AS "thresholdIndex",
            a.tp, a.fp, a.fn, a.precision, a.recall, a.f1
     FROM feature_alignments a
     JOIN unnest($1::bigint[], $2::int[], $3::int[]) AS k(c, i, b) ON a.sae_checkpoint_id = k.c AND a.feature_index = k.i AND a.bsp_id = k.b
     WHERE a.sae_checkpoint_id = ANY($1::bigint[])
     ORDER BY a.threshold_index`,
    [keys.map((k) => k.saeCheckpointId), keys.map((k) => k.featureIndex), keys.map((k) => k.bspId)],
  );
  const byKey = new Map<string, AlignmentReadRow[]>();
  for (const r of rows) {
    const key = `${r.saeCheckpointId}:${r.featureIndex}:${r.bspId}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return keys.map((k) => byKey.get(`${k.saeCheckpointId}:${k.featureIndex}:${k.bspId}`) ?? []);
}

export interface SquareBestRow {
  saeCheckpointId: number;
  featureIndex: number;
  bspId: number;
  square: string;
  row: number;
  column: number;
  f1: number;
}

/**
 * Per feature, per square of one family (its code name), the best F1 over the family's unmasked
 * classes and thresholds, with the board property that reaches it.
 */
export async function bestF1PerSquare(db: Queryable, keys: readonly FeatureKey[], family: string): Promise<SquareBestRow[][]> {
  if (!keys.length) return [];
  const { rows } = await db.query<SquareBestRow>(
    `SELECT DISTINCT ON (a.sae_checkpoint_id, a.feature_index, bp.square)
            a.sae_checkpoint_id AS "saeCheckpointId", a.feature_index AS "featureIndex", a.bsp_id AS "bspId",
            bp.square, bp.row_index AS "row", bp.col_index AS "column", a.f1
     FROM feature_alignments a
     JOIN unnest($1::bigint[], $2::int[]) AS k(c, i) ON a.sae_checkpoint_id = k.c AND a.feature_index = k.i
     JOIN board_properties bp ON bp.id = a.bsp_id AND bp.family = $3 AND bp.square IS NOT NULL AND NOT bp.masked
     WHERE a.sae_checkpoint_id = ANY($1::bigint[])
     ORDER BY a.sae_checkpoint_id, a.feature_index, bp.square, a.f1 DESC, a.bsp_id`,
    [keys.map((k) => k.saeCheckpointId), keys.map((k) => k.featureIndex), family],
  );
  const byKey = new Map<string, SquareBestRow[]>();
  for (const r of rows) {
    const key = `${r.saeCheckpointId}:${r.featureIndex}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return keys.map((k) => byKey.get(`${k.saeCheckpointId}:${k.featureIndex}`) ?? []);
}

/** Per checkpoint, the firing rate of each of its features (feature order). */
export async function densitiesOfCheckpoints(db: Queryable, ids: readonly number[]): Promise<number[][]> {
  if (!ids.length) return [];
  const { rows } = await db.query<{ id: number; densities: number[] }>(
    `SELECT sae_checkpoint_id AS id, array_agg(density ORDER BY feature_index) AS densities
     FROM features WHERE sae_checkpoint_id = ANY($1::bigint[]) GROUP BY sae_checkpoint_id`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [Number(r.id), r.densities]));
  return ids.map((id) => byId.get(id) ?? []);
}
