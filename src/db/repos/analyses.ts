/**
 * Storage of the analyses (migrations/0010_analyses.sql, docs/analyses.md): writers used inside the
 * ANALYZE job's transactions (each replaces what an earlier analysis of the same checkpoint,
 * comparison or SAE wrote), and the batched / keyset-paginated reads of the API.
 */
import type pg from 'pg';
import type { Queryable } from '../pool.js';
import { keysetCondition, orderByClause, param, type SortColumn } from '../keyset.js';

// ---------------------------------------------------------------- inputs read by the job

export interface StoredEvaluation {
  saeCheckpointId: number;
  saeId: number;
  step: number;
  isFinal: boolean;
  path: string;
  game: string;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
}

/** The newest evaluation of each checkpoint (or of the given eval-config hash). */
export async function storedEvaluation(db: Queryable, saeCheckpointId: number, evalConfigHash?: string | null): Promise<StoredEvaluation | null> {
  const { rows } = await db.query(
    `SELECT e.sae_checkpoint_id, c.sae_id, c.step, c.is_final, c.path, lm.game, e.eval_config, e.eval_config_hash
     FROM sae_evaluations e JOIN sae_checkpoints c ON c.id = e.sae_checkpoint_id JOIN saes s ON s.id = c.sae_id
     JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id
     WHERE e.sae_checkpoint_id = $1 AND ($2::text IS NULL OR e.eval_config_hash = $2)
     ORDER BY e.created_at DESC, e.id DESC LIMIT 1`,
    [saeCheckpointId, evalConfigHash ?? null],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    saeCheckpointId: Number(r.sae_checkpoint_id),
    saeId: Number(r.sae_id),
    step: Number(r.step),
    isFinal: r.is_final,
    path: r.path,
    game: r.game,
    evalConfig: r.eval_config,
    evalConfigHash: r.eval_config_hash,
  };
}

/** Alive flag, maximum, best BSP and best F1 of every feature of a checkpoint (dense, by index). */
export async function featureTable(db: Queryable, saeCheckpointId: number, features: number): Promise<{ alive: Uint8Array; maxima: Float32Array; bestBsp: Int32Array; bestF1: Float32Array }> {
  const { rows } = await db.query<{ feature_index: number; alive: boolean; max_activation: number; best_bsp_id: number | null; best_f1: number | null }>(
    'SELECT feature_index, alive, max_activation, best_bsp_id, best_f1 FROM features WHERE sae_checkpoint_id = $1',
    [saeCheckpointId],
  );
  const alive = new Uint8Array(features);
  const maxima = new Float32Array(features);
  const bestBsp = new Int32Array(features).fill(-1);
  const bestF1 = new Float32Array(features).fill(NaN);
  for (const r of rows) {
    if (r.feature_index >= features) continue;
    alive[r.feature_index] = r.alive ? 1 : 0;
    maxima[r.feature_index] = r.max_activation;
    if (r.best_bsp_id !== null) bestBsp[r.feature_index] = r.best_bsp_id;
    if (r.best_f1 !== null) bestF1[r.feature_index] = r.best_f1;
  }
  return { alive, maxima, bestBsp, bestF1 };
}

/** The stored sparse activations of a checkpoint (feature_activations partition), in position-key order. */
export async function storedActivations(db: Queryable, saeCheckpointId: number): Promise<{ positionKey: Int32Array; feature: Int32Array; value: Float32Array }> {
  const { rows } = await db.query<{ k: number[]; f: number[]; v: number[] }>(
    `SELECT array_agg(position_key ORDER BY position_key, feature_index) AS k, array_agg(feature_index ORDER BY position_key, feature_index) AS f,
            array_agg(value ORDER BY position_key, feature_index) AS v
     FROM feature_activations WHERE sae_checkpoint_id = $1`,
    [saeCheckpointId],
  );
  const r = rows[0];
  return { positionKey: Int32Array.from(r?.k ?? []), feature: Int32Array.from(r?.f ?? []), value: Float32Array.from(r?.v ?? []) };
}

/** Board-property ids of (family, cell) pairs of one game, and their names, by id. */
export async function boardPropertyCatalogue(db: Queryable, game: string): Promise<{ id: number; family: string; cellIndex: number; name: string }[]> {
  const { rows } = await db.query('SELECT id, family, cell_index, name FROM board_properties WHERE game = $1', [game]);
  return rows.map((r) => ({ id: r.id, family: r.family, cellIndex: r.cell_index, name: r.name }));
}

/** Best F1 (over thresholds) of (feature, bsp) pairs of one checkpoint; absent pairs are below the stored floor. */
export async function alignmentF1s(db: Queryable, saeCheckpointId: number, pairs: { feature: number; bsp: number }[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!pairs.length) return out;
  const { rows } = await db.query<{ feature_index: number; bsp_id: number; f1: number }>(
    `SELECT a.feature_index, a.bsp_id, max(a.f1) AS f1 FROM feature_alignments a
     JOIN unnest($2::int[], $3::int[]) AS p(f, b) ON a.feature_index = p.f AND a.bsp_id = p.b
     WHERE a.sae_checkpoint_id = $1 GROUP BY a.feature_index, a.bsp_id`,
    [saeCheckpointId, pairs.map((p) => p.feature), pairs.map((p) => p.bsp)],
  );
  for (const r of rows) out.set(`${r.feature_index}:${r.bsp_id}`, r.f1);
  return out;
}

export async function checkpointsOfSae(db: Queryable, saeId: number): Promise<{ id: number; step: number; isFinal: boolean }[]> {
  const { rows } = await db.query(
    `SELECT c.id, c.step, c.is_final FROM sae_checkpoints c WHERE c.sae_id = $1 AND EXISTS (SELECT 1 FROM sae_evaluations e WHERE e.sae_checkpoint_id = c.id) ORDER BY c.step`,
    [saeId],
  );
  return rows.map((r) => ({ id: Number(r.id), step: Number(r.step), isFinal: r.is_final }));
}

// ---------------------------------------------------------------- writers (inside a transaction)

export interface BspAbsorptionWrite {
  bspId: number;
  positives: number;
  bestFeature: number | null;
  bestF1: number;
  mainFeatures: number[];
  missed: number;
  absorbed: number;
  absorption: number | null;
  meanAbsorbingShare: number;
  topAbsorber: number | null;
  topAbsorberCount: number;
  splitFeatures: number[];
  splitF1s: number[];
  splitting: number | null;
}

export interface ExplanationWrite {
  featureIndex: number;
  rank: number;
  kind: 'single' | 'and' | 'or';
  bspA: number;
  bspB: number | null;
  text: string;
  thresholdIndex: number;
  fit: { precision: number; recall: number; f1: number };
  heldOut: { precision: number; recall: number; f1: number; tp: number; on: number; truth: number };
}

export interface CheckpointAnalysisWrite {
  saeCheckpointId: number;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
  config: Record<string, unknown>;
  configHash: string;
  aliveFeatures: number;
  explainedFeatures: number;
  explainedShare50: number;
  explainedShare80: number;
  absorption: number | null;
  splitting: number | null;
  summary: Record<string, unknown>;
  timings: Record<string, number>;
  codeVersion: string;
  bsps: BspAbsorptionWrite[];
  explanations: ExplanationWrite[];
  /** metric_results rows (absorption / splitting, per SAE with family '' and per family). */
  metrics: { metric: string; family: string; value: number; details: Record<string, unknown> }[];
}

const pgArray = (xs: readonly number[]): string => `{${xs.join(',')}}`;

/** Replace the analysis of one checkpoint (call inside a transaction). */
export async function writeCheckpointAnalysis(client: pg.ClientBase, w: CheckpointAnalysisWrite): Promise<void> {
  const id = w.saeCheckpointId;
  await client.query('DELETE FROM sae_analyses WHERE sae_checkpoint_id = $1', [id]);
  await client.query('DELETE FROM bsp_absorption WHERE sae_checkpoint_id = $1', [id]);
  await client.query('DELETE FROM feature_explanations WHERE sae_checkpoint_id = $1', [id]);
  await client.query(`DELETE FROM metric_results WHERE sae_checkpoint_id = $1 AND metric IN ('absorption', 'absorbed_fraction', 'splitting')`, [id]);
  await client.query(
    `INSERT INTO sae_analyses (sae_checkpoint_id, eval_config_hash, config, config_hash, alive_features, explained_features, explained_share_50, explained_share_80,
       absorption, splitting, summary, timings, code_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [id, w.evalConfigHash, w.config, w.configHash, w.aliveFeatures, w.explainedFeatures, w.explainedShare50, w.explainedShare80, w.absorption, w.splitting, w.summary, w.timings, w.codeVersion],
  );
  const b = w.bsps;
  if (b.length) {
    await client.query(
      `INSERT INTO bsp_absorption (sae_checkpoint_id, bsp_id, positives, best_feature, best_f1, main_features, missed, absorbed, absorption, mean_absorbing_share,
         top_absorber, top_absorber_count, split_features, split_f1s, splitting)
       SELECT $1, u.bsp, u.pos, u.bf, u.bf1, u.mains::int[], u.missed, u.absorbed, u.absorption, u.share, u.ta, u.tac, u.sf::int[], u.sf1::real[], u.k
       FROM unnest($2::int[], $3::int[], $4::int[], $5::real[], $6::text[], $7::int[], $8::int[], $9::real[], $10::real[], $11::int[], $12::int[], $13::text[], $14::text[], $15::int[])
         AS u(bsp, pos, bf, bf1, mains, missed, absorbed, absorption, share, ta, tac, sf, sf1, k)`,
      [
        id,
        b.map((x) => x.bspId),
        b.map((x) => x.positives),
        b.map((x) => x.bestFeature),
        b.map((x) => x.bestF1),
        b.map((x) => pgArray(x.mainFeatures)),
        b.map((x) => x.missed),
        b.map((x) => x.absorbed),
        b.map((x) => x.absorption),
        b.map((x) => x.meanAbsorbingShare),
        b.map((x) => x.topAbsorber),
        b.map((x) => x.topAbsorberCount),
        b.map((x) => pgArray(x.splitFeatures)),
        b.map((x) => pgArray(x.splitF1s)),
        b.map((x) => x.splitting),
      ],
    );
  }
  const e = w.explanations;
  if (e.length) {
    await client.query(
      `INSERT INTO feature_explanations (sae_checkpoint_id, feature_index, rank, kind, bsp_a, bsp_b, text, threshold_index, fit_precision, fit_recall, fit_f1,
         precision, recall, f1, tp, on_count, truth_count)
       SELECT $1, u.* FROM unnest($2::int[], $3::int[], $4::text[], $5::int[], $6::int[], $7::text[], $8::int[], $9::real[], $10::real[], $11::real[],
         $12::real[], $13::real[], $14::real[], $15::int[], $16::int[], $17::int[]) AS u`,
      [
        id,
        e.map((x) => x.featureIndex),
        e.map((x) => x.rank),
        e.map((x) => x.kind),
        e.map((x) => x.bspA),
        e.map((x) => x.bspB),
        e.map((x) => x.text),
        e.map((x) => x.thresholdIndex),
        e.map((x) => x.fit.precision),
        e.map((x) => x.fit.recall),
        e.map((x) => x.fit.f1),
        e.map((x) => x.heldOut.precision),
        e.map((x) => x.heldOut.recall),
        e.map((x) => x.heldOut.f1),
        e.map((x) => x.heldOut.tp),
        e.map((x) => x.heldOut.on),
        e.map((x) => x.heldOut.truth),
      ],
    );
  }
  if (w.metrics.length) {
    await client.query(
      `INSERT INTO metric_results (sae_checkpoint_id, metric, family, value, details, eval_config, eval_config_hash, code_version)
       SELECT $1, m, fam, v, d, $5, $6, $7 FROM unnest($2::text[], $3::text[], $4::float8[], $8::jsonb[]) AS u(m, fam, v, d)
       ON CONFLICT (sae_checkpoint_id, metric, family, eval_config_hash) DO UPDATE SET value = EXCLUDED.value, details = EXCLUDED.details, created_at = now()`,
      [id, w.metrics.map((m) => m.metric), w.metrics.map((m) => m.family), w.metrics.map((m) => m.value), w.evalConfig, w.evalConfigHash, w.codeVersion, w.metrics.map((m) => JSON.stringify(m.details))],
    );
  }
}

export interface LinkWrite {
  kind: string;
  featureA: number | null;
  featureB: number | null;
  cosine: number | null;
  matched: boolean;
  f1A: number | null;
  f1B: number | null;
  bspA: number | null;
  bspB: number | null;
}

/** Replace the comparison of (a, b); returns its id. */
export async function writeComparison(
  client: pg.ClientBase,
  w: { a: number; b: number; config: Record<string, unknown>; configHash: string; summary: Record<string, unknown>; timings: Record<string, number>; codeVersion: string; links: LinkWrite[] },
): Promise<number> {
  await client.query('DELETE FROM checkpoint_comparisons WHERE checkpoint_a = $1 AND checkpoint_b = $2', [w.a, w.b]);
  const { rows } = await client.query(
    `INSERT INTO checkpoint_comparisons (checkpoint_a, checkpoint_b, config, config_hash, summary, timings, code_version) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [w.a, w.b, w.config, w.configHash, w.summary, w.timings, w.codeVersion],
  );
  const id = Number(rows[0].id);
  const l = w.links;
  if (l.length) {
    await client.query(
      `INSERT INTO feature_links (comparison_id, link_index, kind, feature_a, feature_b, cosine, matched, f1_a, f1_b, bsp_a, bsp_b)
       SELECT $1, u.* FROM unnest($2::int[], $3::text[], $4::int[], $5::int[], $6::real[], $7::bool[], $8::real[], $9::real[], $10::int[], $11::int[]) AS u`,
      [id, l.map((_, i) => i), l.map((x) => x.kind), l.map((x) => x.featureA), l.map((x) => x.featureB), l.map((x) => x.cosine), l.map((x) => x.matched), l.map((x) => x.f1A), l.map((x) => x.f1B), l.map((x) => x.bspA), l.map((x) => x.bspB)],
    );
  }
  return id;
}

export interface HistoryWrite {
  featureIndex: number;
  bspId: number;
  f1: number[];
  firstStep: number | null;
  stableStep: number | null;
  finalF1: number;
}

/** Replace the feature histories of one SAE. */
export async function writeFeatureHistories(client: pg.ClientBase, saeId: number, level: number, steps: number[], checkpointIds: number[], rows: HistoryWrite[]): Promise<void> {
  await client.query('DELETE FROM feature_histories WHERE sae_id = $1', [saeId]);
  if (!rows.length) return;
  await client.query(
    `INSERT INTO feature_histories (sae_id, feature_index, bsp_id, level, steps, checkpoint_ids, f1, first_step, stable_step, final_f1)
     SELECT $1, u.fi, u.bsp, $2, $3::bigint[], $4::bigint[], u.f1::real[], u.first, u.stable, u.final
     FROM unnest($5::int[], $6::int[], $7::text[], $8::bigint[], $9::bigint[], $10::real[]) AS u(fi, bsp, f1, first, stable, final)`,
    [saeId, level, steps, checkpointIds, rows.map((r) => r.featureIndex), rows.map((r) => r.bspId), rows.map((r) => pgArray(r.f1)), rows.map((r) => r.firstStep), rows.map((r) => r.stableStep), rows.map((r) => r.finalF1)],
  );
}

// ---------------------------------------------------------------- reads for the API

export interface SaeAnalysisRow {
  saeCheckpointId: number;
  evalConfigHash: string;
  aliveFeatures: number;
  explainedFeatures: number;
  explainedShare50: number;
  explainedShare80: number;
  absorption: number | null;
  splitting: number | null;
  createdAt: Date;
}

export async function analysesOfCheckpoints(db: Queryable, ids: readonly number[]): Promise<(SaeAnalysisRow | null)[]> {
  const { rows } = await db.query(
    `SELECT sae_checkpoint_id, eval_config_hash, alive_features, explained_features, explained_share_50, explained_share_80, absorption, splitting, created_at
     FROM sae_analyses WHERE sae_checkpoint_id = ANY($1::bigint[])`,
    [ids],
  );
  const by = new Map<number, SaeAnalysisRow>();
  for (const r of rows)
    by.set(Number(r.sae_checkpoint_id), {
      saeCheckpointId: Number(r.sae_checkpoint_id),
      evalConfigHash: r.eval_config_hash,
      aliveFeatures: r.alive_features,
      explainedFeatures: r.explained_features,
      explainedShare50: r.explained_share_50,
      explainedShare80: r.explained_share_80,
      absorption: r.absorption,
      splitting: r.splitting,
      createdAt: r.created_at,
    });
  return ids.map((id) => by.get(id) ?? null);
}

export interface ExplanationRow {
  saeCheckpointId: number;
  featureIndex: number;
  rank: number;
  kind: string;
  bspA: number;
  bspB: number | null;
  text: string;
  thresholdIndex: number;
  fitPrecision: number;
  fitRecall: number;
  fitF1: number;
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  onCount: number;
  truthCount: number;
}

function explanationRow(r: Record<string, any>): ExplanationRow {
  return {
    saeCheckpointId: Number(r.sae_checkpoint_id),
    featureIndex: r.feature_index,
    rank: r.rank,
    kind: r.kind,
    bspA: r.bsp_a,
    bspB: r.bsp_b,
    text: r.text,
    thresholdIndex: r.threshold_index,
    fitPrecision: r.fit_precision,
    fitRecall: r.fit_recall,
    fitF1: r.fit_f1,
    precision: r.precision,
    recall: r.recall,
    f1: r.f1,
    tp: r.tp,
    onCount: r.on_count,
    truthCount: r.truth_count,
  };
}

/** Explanations of many features (rank order), one list per key. */
export async function explanationsOfFeatures(db: Queryable, keys: readonly { saeCheckpointId: number; featureIndex: number }[]): Promise<ExplanationRow[][]> {
  const { rows } = await db.query(
    `SELECT e.* FROM feature_explanations e JOIN unnest($1::bigint[], $2::int[]) AS k(c, f) ON e.sae_checkpoint_id = k.c AND e.feature_index = k.f
     ORDER BY e.sae_checkpoint_id, e.feature_index, e.rank`,
    [keys.map((k) => k.saeCheckpointId), keys.map((k) => k.featureIndex)],
  );
  const by = new Map<string, ExplanationRow[]>();
  for (const r of rows) {
    const key = `${r.sae_checkpoint_id}:${r.feature_index}`;
    const list = by.get(key) ?? [];
    list.push(explanationRow(r));
    by.set(key, list);
  }
  return keys.map((k) => by.get(`${k.saeCheckpointId}:${k.featureIndex}`) ?? []);
}

export interface ComparisonRow {
  id: number;
  a: number;
  b: number;
  config: Record<string, unknown>;
  summary: Record<string, number>;
  createdAt: Date;
}

export async function findComparison(db: Queryable, a: number, b: number): Promise<ComparisonRow | null> {
  const { rows } = await db.query('SELECT id, checkpoint_a, checkpoint_b, config, summary, created_at FROM checkpoint_comparisons WHERE checkpoint_a = $1 AND checkpoint_b = $2', [a, b]);
  const r = rows[0];
  return r ? { id: Number(r.id), a: Number(r.checkpoint_a), b: Number(r.checkpoint_b), config: r.config, summary: r.summary, createdAt: r.created_at } : null;
}

export interface LinkRow {
  linkIndex: number;
  kind: string;
  featureA: number | null;
  featureB: number | null;
  cosine: number | null;
  matched: boolean;
  f1A: number | null;
  f1B: number | null;
  bspA: number | null;
  bspB: number | null;
}

/** A page (limit + 1 rows) of a comparison's links, in link order, optionally of some kinds / a minimum cosine. */
export async function linksPage(db: Queryable, q: { comparisonId: number; kinds: readonly string[] | null; minCosine: number | null; after: number | null; limit: number }): Promise<LinkRow[]> {
  const params: unknown[] = [q.comparisonId];
  const where = ['comparison_id = $1'];
  if (q.kinds?.length) where.push(`kind = ANY(${param(params, q.kinds)}::text[])`);
  if (q.minCosine != null) where.push(`cosine >= ${param(params, q.minCosine)}`);
  const cols: SortColumn[] = [{ expr: 'link_index', dir: 'ASC' }];
  where.push(keysetCondition(cols, q.after === null ? null : [q.after], params));
  const { rows } = await db.query(
    `SELECT link_index, kind, feature_a, feature_b, cosine, matched, f1_a, f1_b, bsp_a, bsp_b FROM feature_links
     WHERE ${where.join(' AND ')} ORDER BY ${orderByClause(cols)} LIMIT ${param(params, q.limit + 1)}`,
    params,
  );
  return rows.map((r) => ({ linkIndex: r.link_index, kind: r.kind, featureA: r.feature_a, featureB: r.feature_b, cosine: r.cosine, matched: r.matched, f1A: r.f1_a, f1B: r.f1_b, bspA: r.bsp_a, bspB: r.bsp_b }));
}

export interface HistoryRow {
  saeId: number;
  featureIndex: number;
  bspId: number;
  level: number;
  steps: number[];
  checkpointIds: number[];
  f1: number[];
  firstStep: number | null;
  stableStep: number | null;
  finalF1: number;
}

function historyRow(r: Record<string, any>): HistoryRow {
  return {
    saeId: Number(r.sae_id),
    featureIndex: r.feature_index,
    bspId: r.bsp_id,
    level: r.level,
    steps: r.steps.map(Number),
    checkpointIds: r.checkpoint_ids.map(Number),
    f1: r.f1,
    firstStep: r.first_step === null ? null : Number(r.first_step),
    stableStep: r.stable_step === null ? null : Number(r.stable_step),
    finalF1: r.final_f1,
  };
}

export async function featureHistory(db: Queryable, saeId: number, featureIndex: number): Promise<HistoryRow | null> {
  const { rows } = await db.query('SELECT * FROM feature_histories WHERE sae_id = $1 AND feature_index = $2', [saeId, featureIndex]);
  return rows[0] ? historyRow(rows[0]) : null;
}

export interface LearningOrderRow {
  bspId: number;
  firstStep: number | null;
  features: number;
  bestFinalF1: number;
}

/**
 * BSPs of one SAE ordered by the earliest step at which a feature tracks them (never-learnt last),
 * keyset-paginated on (first step, bsp id).
 */
export async function learningOrderPage(db: Queryable, q: { saeId: number; after: [number | null, number] | null; limit: number }): Promise<LearningOrderRow[]> {
  const params: unknown[] = [q.saeId];
  // never-learnt BSPs sort last: first step as a number with +infinity for null
  const key = `coalesce(first_step, 9223372036854775807)`;
  let cond = 'TRUE';
  if (q.after) {
    const s = param(params, q.after[0] ?? '9223372036854775807');
    const b = param(params, q.after[1]);
    cond = `(${key} > ${s}::bigint OR (${key} = ${s}::bigint AND bsp_id > ${b}))`;
  }
  const { rows } = await db.query(
    `SELECT bsp_id, first_step, features, best_final_f1 FROM (
       SELECT bsp_id, min(first_step) AS first_step, count(*)::int AS features, max(final_f1) AS best_final_f1
       FROM feature_histories WHERE sae_id = $1 GROUP BY bsp_id) g
     WHERE ${cond.replaceAll('first_step', 'g.first_step').replaceAll('bsp_id', 'g.bsp_id')}
     ORDER BY coalesce(g.first_step, 9223372036854775807), g.bsp_id LIMIT ${param(params, q.limit + 1)}`,
    params,
  );
  return rows.map((r) => ({ bspId: r.bsp_id, firstStep: r.first_step === null ? null : Number(r.first_step), features: r.features, bestFinalF1: r.best_final_f1 }));
}

export interface BspAbsorptionRow {
  saeCheckpointId: number;
  bspId: number;
  positives: number;
  bestFeature: number | null;
  bestF1: number;
  mainFeatures: number[];
  missed: number;
  absorbed: number;
  absorption: number | null;
  meanAbsorbingShare: number;
  topAbsorber: number | null;
  topAbsorberCount: number;
  splitFeatures: number[];
  splitF1s: number[];
  splitting: number | null;
}

export type BspAnalysisOrder = 'ABSORPTION' | 'SPLITTING' | 'BSP';

/**
 * A page (limit + 1 rows) of one checkpoint's per-BSP absorption and splitting: most absorbed
 * first, most split first (nulls last), or by BSP id.
 */
export async function bspAbsorptionPage(db: Queryable, q: { saeCheckpointId: number; order: BspAnalysisOrder; after: readonly unknown[] | null; limit: number }): Promise<{ row: BspAbsorptionRow; sortKey: unknown[] }[]> {
  const params: unknown[] = [q.saeCheckpointId];
  // nulls last in a descending order: sort on coalesce(x, -1) (both metrics are ≥ 0)
  const expr = q.order === 'ABSORPTION' ? 'coalesce(absorption, -1)' : q.order === 'SPLITTING' ? 'coalesce(splitting, -1)::real' : null;
  const cols: SortColumn[] = expr ? [{ expr, dir: 'DESC' }, { expr: 'bsp_id', dir: 'ASC' }] : [{ expr: 'bsp_id', dir: 'ASC' }];
  const where = ['sae_checkpoint_id = $1', keysetCondition(cols, q.after, params)];
  const { rows } = await db.query(
    `SELECT *, ${expr ?? 'bsp_id'} AS sort FROM bsp_absorption WHERE ${where.join(' AND ')} ORDER BY ${orderByClause(cols)} LIMIT ${param(params, q.limit + 1)}`,
    params,
  );
  return rows.map((r) => ({
    row: {
      saeCheckpointId: Number(r.sae_checkpoint_id),
      bspId: r.bsp_id,
      positives: r.positives,
      bestFeature: r.best_feature,
      bestF1: r.best_f1,
      mainFeatures: r.main_features,
      missed: r.missed,
      absorbed: r.absorbed,
      absorption: r.absorption,
      meanAbsorbingShare: r.mean_absorbing_share,
      topAbsorber: r.top_absorber,
      topAbsorberCount: r.top_absorber_count,
      splitFeatures: r.split_features,
      splitF1s: r.split_f1s,
      splitting: r.splitting,
    },
    sortKey: expr ? [r.sort, r.bsp_id] : [r.bsp_id],
  }));
}
