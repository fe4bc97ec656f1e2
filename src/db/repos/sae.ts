/**
 * SAEs, their checkpoints and their unsupervised metric rows. Plain functions over a pool or a
 * transaction client; src/jobs/sae.ts wraps a whole sweep's registration in one transaction.
 */
import type { Queryable } from '../pool.js';
import { keysetCondition, orderByClause, param, type SortColumn } from '../keyset.js';

export interface SaeRow {
  id: number;
  name: string;
  lm_checkpoint_id: number;
  layer: number;
  site: string;
  dataset_id: number | null;
  activation_set_id: number | null;
  trainer: string;
  dictionary: string;
  d_in: number;
  d_sae: number;
  hyperparameters: Record<string, unknown>;
  config_hash: string;
  trainer_config_hash: string | null;
  sweep: string | null;
  path: string | null;
  status: 'training' | 'finished' | 'failed' | 'imported';
  code_version: string;
  created_at: Date;
}

export interface SaeCheckpointRow {
  id: number;
  sae_id: number;
  step: number;
  tokens_seen: number;
  is_final: boolean;
  path: string;
  weights_sha256: string | null;
  created_at: Date;
}

export interface SaeInput {
  name: string;
  lmCheckpointId: number;
  layer: number;
  site: string;
  datasetId: number | null;
  activationSetId: number | null;
  trainer: string;
  dictionary: string;
  dIn: number;
  dSae: number;
  hyperparameters: Record<string, unknown>;
  /** Identity: trainer config + activation stream. */
  configHash: string;
  trainerConfigHash: string | null;
  sweep: string | null;
  path: string;
  status: SaeRow['status'];
  codeVersion: string;
}

/**
 * Insert an SAE, or update the one with the same identity (LM checkpoint, layer, site, identity
 * hash): its status, path and sweep move on as training proceeds.
 */
export async function upsertSae(db: Queryable, s: SaeInput): Promise<SaeRow> {
  const { rows } = await db.query<SaeRow>(
    `INSERT INTO saes (name, lm_checkpoint_id, layer, site, dataset_id, activation_set_id, trainer, dictionary, d_in, d_sae,
                       hyperparameters, config_hash, trainer_config_hash, sweep, path, status, code_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     ON CONFLICT (lm_checkpoint_id, layer, site, config_hash) DO UPDATE SET
       status = EXCLUDED.status, path = EXCLUDED.path, sweep = COALESCE(EXCLUDED.sweep, saes.sweep),
       dataset_id = COALESCE(EXCLUDED.dataset_id, saes.dataset_id),
       activation_set_id = COALESCE(EXCLUDED.activation_set_id, saes.activation_set_id),
       trainer_config_hash = COALESCE(EXCLUDED.trainer_config_hash, saes.trainer_config_hash),
       code_version = EXCLUDED.code_version
     RETURNING *`,
    [
      s.name,
      s.lmCheckpointId,
      s.layer,
      s.site,
      s.datasetId,
      s.activationSetId,
      s.trainer,
      s.dictionary,
      s.dIn,
      s.dSae,
      s.hyperparameters,
      s.configHash,
      s.trainerConfigHash,
      s.sweep,
      s.path,
      s.status,
      s.codeVersion,
    ],
  );
  return rows[0];
}

export interface SaeCheckpointInput {
  step: number;
  tokensSeen: number;
  isFinal: boolean;
  path: string;
  weightsSha256: string | null;
}

/** Insert or update the checkpoints of one SAE (one statement for all of them). */
export async function upsertSaeCheckpoints(db: Queryable, saeId: number, ckpts: SaeCheckpointInput[]): Promise<SaeCheckpointRow[]> {
  if (!ckpts.length) return [];
  const { rows } = await db.query<SaeCheckpointRow>(
    `INSERT INTO sae_checkpoints (sae_id, step, tokens_seen, is_final, path, weights_sha256)
     SELECT $1, u.step, u.tokens, u.final, u.path, u.sha FROM unnest($2::bigint[], $3::bigint[], $4::boolean[], $5::text[], $6::text[]) AS u(step, tokens, final, path, sha)
     ON CONFLICT (sae_id, step) DO UPDATE SET tokens_seen = EXCLUDED.tokens_seen, is_final = EXCLUDED.is_final,
       path = EXCLUDED.path, weights_sha256 = EXCLUDED.weights_sha256
     RETURNING *`,
    [saeId, ckpts.map((c) => c.step), ckpts.map((c) => c.tokensSeen), ckpts.map((c) => c.isFinal), ckpts.map((c) => c.path), ckpts.map((c) => c.weightsSha256)],
  );
  return rows.sort((a, b) => a.step - b.step);
}

export async function findSaeCheckpointByPath(db: Queryable, absPath: string): Promise<SaeCheckpointRow | null> {
  const { rows } = await db.query<SaeCheckpointRow>('SELECT * FROM sae_checkpoints WHERE path = $1 ORDER BY id LIMIT 1', [absPath]);
  return rows[0] ?? null;
}

export async function getSae(db: Queryable, id: number): Promise<SaeRow | null> {
  const { rows } = await db.query<SaeRow>('SELECT * FROM saes WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function listSaesOfSweep(db: Queryable, sweep: string): Promise<SaeRow[]> {
  const { rows } = await db.query<SaeRow>('SELECT * FROM saes WHERE sweep = $1 ORDER BY name', [sweep]);
  return rows;
}

export async function listSaeCheckpoints(db: Queryable, saeId: number): Promise<SaeCheckpointRow[]> {
  const { rows } = await db.query<SaeCheckpointRow>('SELECT * FROM sae_checkpoints WHERE sae_id = $1 ORDER BY step', [saeId]);
  return rows;
}

export async function findActivationSetIdByPath(db: Queryable, absPath: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM activation_sets WHERE path = $1 ORDER BY id DESC LIMIT 1', [absPath]);
  return rows[0]?.id ?? null;
}

export interface MetricInput {
  metric: string;
  value: number;
  details?: Record<string, unknown>;
}

/**
 * Replace the unsupervised metric rows (family '') of one checkpoint for one evaluation config:
 * rows of other eval configs stay, so numbers are only ever compared like-for-like.
 */
export async function replaceUnsupervisedMetrics(
  db: Queryable,
  saeCheckpointId: number,
  metrics: MetricInput[],
  evalConfig: Record<string, unknown>,
  evalConfigHash: string,
  codeVersion: string,
): Promise<number> {
  await db.query(`DELETE FROM metric_results WHERE sae_checkpoint_id = $1 AND family = '' AND eval_config_hash = $2 AND metric = ANY($3::text[])`, [
    saeCheckpointId,
    evalConfigHash,
    metrics.map((m) => m.metric),
  ]);
  if (!metrics.length) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO metric_results (sae_checkpoint_id, metric, family, value, details, eval_config, eval_config_hash, code_version)
     SELECT $1, u.m, '', u.v, u.d, $5, $6, $7 FROM unnest($2::text[], $3::float8[], $4::jsonb[]) AS u(m, v, d)`,
    [saeCheckpointId, metrics.map((m) => m.metric), metrics.map((m) => m.value), metrics.map((m) => JSON.stringify(m.details ?? {})), evalConfig, evalConfigHash, codeVersion],
  );
  return rowCount ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Reads for the API (DataLoader-friendly: id lists in, rows in the order asked out)

const SAE_COLUMNS = `s.id, s.name, s.lm_checkpoint_id, s.layer, s.site, s.dataset_id, s.activation_set_id, s.trainer, s.dictionary, s.d_in, s.d_sae,
  s.hyperparameters, s.config_hash, s.trainer_config_hash, s.sweep, s.path, s.status, s.code_version, s.created_at`;

export interface MetricBound {
  metric: string;
  family: string;
  min?: number | null;
  max?: number | null;
}

export interface SaeQuery {
  game?: string | null;
  lmModelId?: number | null;
  trainer?: string | null;
  layer?: number | null;
  dictionarySize?: number | null;
  sweep?: string | null;
  /** Bounds on metric values of each SAE's final checkpoint (any evaluation config, the newest). */
  bounds: readonly MetricBound[];
  /** Order by this metric of the final checkpoint (SAEs without it are left out), else by id. */
  orderMetric?: { metric: string; family: string; direction: 'ASC' | 'DESC' } | null;
  after: readonly unknown[] | null;
  limit: number;
}

/** A page of SAEs (limit + 1 rows) with the sort value of each. */
export async function listSaes(db: Queryable, q: SaeQuery): Promise<{ row: SaeRow; sortKey: unknown[] }[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (q.game) where.push(`lm.game = ${param(params, q.game)}`);
  if (q.lmModelId != null) where.push(`lm.id = ${param(params, q.lmModelId)}`);
  if (q.trainer) where.push(`s.trainer = ${param(params, q.trainer)}`);
  if (q.layer != null) where.push(`s.layer = ${param(params, q.layer)}`);
  if (q.dictionarySize != null) where.push(`s.d_sae = ${param(params, q.dictionarySize)}`);
  if (q.sweep) where.push(`s.sweep = ${param(params, q.sweep)}`);
  // Metric values of each SAE's current checkpoint come from sae_current_metrics (migration 0013),
  // kept by triggers: probing each SAE's checkpoints and metric rows here cost ~9 ms of Postgres CPU
  // per page at 1,000 SAEs (bench/api-scale). Ordered by a metric, the page walks that table's
  // (metric, family, value) index from the top.
  const metricValue = (metric: string, family: string) =>
    `(SELECT v.value FROM sae_current_metrics v WHERE v.sae_id = s.id AND v.metric = ${param(params, metric)} AND v.family = ${param(params, family)})`;
  for (const b of q.bounds) {
    const v = metricValue(b.metric, b.family);
    where.push(`${v} IS NOT NULL`);
    if (b.min != null) where.push(`${v} >= ${param(params, b.min)}`);
    if (b.max != null) where.push(`${v} <= ${param(params, b.max)}`);
  }
  let from = 'saes s';
  let sortExpr = 's.id';
  const cols: SortColumn[] = [];
  if (q.orderMetric) {
    from = 'sae_current_metrics o JOIN saes s ON s.id = o.sae_id';
    where.push(`o.metric = ${param(params, q.orderMetric.metric)}`, `o.family = ${param(params, q.orderMetric.family)}`);
    sortExpr = 'o.value';
    cols.push({ expr: sortExpr, dir: q.orderMetric.direction });
    cols.push({ expr: 'o.sae_id', dir: 'ASC' });
  } else cols.push({ expr: 's.id', dir: 'ASC' });
  where.push(keysetCondition(cols, q.after, params));
  const lmJoin = q.game || q.lmModelId != null ? 'JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id' : '';
  const { rows } = await db.query<SaeRow & { sort: number }>(
    `SELECT ${SAE_COLUMNS}, ${sortExpr} AS sort
     FROM ${from}
     ${lmJoin}
     WHERE ${where.join(' AND ')}
     ORDER BY ${orderByClause(cols)} LIMIT ${param(params, q.limit + 1)}`,
    params,
  );
  return rows.map(({ sort, ...row }) => ({ row: row as SaeRow, sortKey: q.orderMetric ? [sort, row.id] : [row.id] }));
}

export async function getSaesByIds(db: Queryable, ids: readonly number[]): Promise<(SaeRow | null)[]> {
  const { rows } = await db.query<SaeRow>(`SELECT ${SAE_COLUMNS} FROM saes s WHERE s.id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

const CKPT_COLUMNS = `id, sae_id, step, tokens_seen, is_final, path, weights_sha256, created_at`;

export async function getSaeCheckpointsByIds(db: Queryable, ids: readonly number[]): Promise<(SaeCheckpointRow | null)[]> {
  const { rows } = await db.query<SaeCheckpointRow>(`SELECT ${CKPT_COLUMNS} FROM sae_checkpoints WHERE id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Checkpoints of many SAEs, each list in step order. */
export async function checkpointsOfSaes(db: Queryable, saeIds: readonly number[]): Promise<SaeCheckpointRow[][]> {
  const { rows } = await db.query<SaeCheckpointRow>(`SELECT ${CKPT_COLUMNS} FROM sae_checkpoints WHERE sae_id = ANY($1::bigint[]) ORDER BY sae_id, step`, [saeIds]);
  const bySae = new Map<number, SaeCheckpointRow[]>();
  for (const r of rows) bySae.set(r.sae_id, [...(bySae.get(r.sae_id) ?? []), r]);
  return saeIds.map((id) => bySae.get(id) ?? []);
}

export interface MetricResultRow {
  id: number;
  sae_checkpoint_id: number;
  metric: string;
  family: string;
  value: number;
  details: Record<string, unknown>;
  eval_config: Record<string, unknown>;
  eval_config_hash: string;
  code_version: string;
  created_at: Date;
}

/** Metric rows of many checkpoints, each list ordered by metric, family, newest first. */
export async function metricsOfCheckpoints(db: Queryable, ckptIds: readonly number[]): Promise<MetricResultRow[][]> {
  const { rows } = await db.query<MetricResultRow>(
    `SELECT id, sae_checkpoint_id, metric, family, value, details, eval_config, eval_config_hash, code_version, created_at
     FROM metric_results WHERE sae_checkpoint_id = ANY($1::bigint[]) ORDER BY sae_checkpoint_id, metric, family, created_at DESC, id DESC`,
    [ckptIds],
  );
  const byCkpt = new Map<number, MetricResultRow[]>();
  for (const r of rows) byCkpt.set(r.sae_checkpoint_id, [...(byCkpt.get(r.sae_checkpoint_id) ?? []), r]);
  return ckptIds.map((id) => byCkpt.get(id) ?? []);
}

export interface EvaluationRow {
  id: number;
  sae_checkpoint_id: number;
  dataset_id: number | null;
  dataset_path: string;
  eval_config: Record<string, unknown>;
  eval_config_hash: string;
  code_version: string;
  alive_features: number;
  train_positions: number;
  test_positions: number;
  summary: Record<string, unknown>;
  created_at: Date;
}

export async function evaluationsOfCheckpoints(db: Queryable, ckptIds: readonly number[]): Promise<EvaluationRow[][]> {
  const { rows } = await db.query<EvaluationRow>(
    `SELECT id, sae_checkpoint_id, dataset_id, dataset_path, eval_config, eval_config_hash, code_version, alive_features, train_positions, test_positions, summary, created_at
     FROM sae_evaluations WHERE sae_checkpoint_id = ANY($1::bigint[]) ORDER BY sae_checkpoint_id, created_at DESC, id DESC`,
    [ckptIds],
  );
  const byCkpt = new Map<number, EvaluationRow[]>();
  for (const r of rows) byCkpt.set(r.sae_checkpoint_id, [...(byCkpt.get(r.sae_checkpoint_id) ?? []), r]);
  return ckptIds.map((id) => byCkpt.get(id) ?? []);
}

export interface LeaderboardRow {
  sae_id: number;
  sae_checkpoint_id: number;
  trainer: string;
  lm_model_id: number;
  lm_origin: string;
  value: number;
  eval_config_hash: string;
  l0: number | null;
}

/**
 * Final checkpoints of the SAEs of one game (and layer) ranked by a metric (newest row per
 * checkpoint, of one evaluation config if given), with each one's L0 for metric-vs-L0 plots.
 */
export async function leaderboardRows(
  db: Queryable,
  q: { game: string; layer: number | null; metric: string; family: string; evalConfigHash: string | null; limit: number; lowerIsBetter?: boolean },
): Promise<LeaderboardRow[]> {
  // Without an evaluation config, each final checkpoint's newest values are sae_current_metrics rows
  // (migration 0013): walking each SAE's checkpoints and metric rows instead cost ~5 ms of Postgres
  // CPU per leaderboard at 1,000 SAEs (bench/api-scale).
  const source =
    q.evalConfigHash === null
      ? `sae_current_metrics v
     JOIN saes s ON s.id = v.sae_id`
      : `saes s
     JOIN sae_checkpoints c ON c.sae_id = s.id AND c.is_final
     JOIN LATERAL (
       SELECT m.sae_checkpoint_id, m.value, m.eval_config_hash FROM metric_results m
       WHERE m.sae_checkpoint_id = c.id AND m.metric = $3 AND m.family = $4 AND m.eval_config_hash = $5
       ORDER BY m.created_at DESC, m.id DESC LIMIT 1
     ) v ON true`;
  const l0 =
    q.evalConfigHash === null
      ? `LEFT JOIN sae_current_metrics l0 ON l0.sae_id = r.sae_id AND l0.sae_checkpoint_id = r.sae_checkpoint_id AND l0.metric = 'l0' AND l0.family = ''`
      : `LEFT JOIN LATERAL (
       SELECT m.value FROM metric_results m WHERE m.sae_checkpoint_id = r.sae_checkpoint_id AND m.metric = 'l0' AND m.family = ''
       ORDER BY m.created_at DESC, m.id DESC LIMIT 1
     ) l0 ON true`;
  // ($5 appears in both forms: Postgres refuses a parameter it cannot type.)
  const current = q.evalConfigHash === null ? 'AND v.metric = $3 AND v.family = $4 AND v.is_final AND $5::text IS NULL' : '';
  const { rows } = await db.query<LeaderboardRow>(
    // Ranked within each list (trained / random-init LMs): \`limit\` rows of each, whatever the other
    // holds. Narrow rows, and L0 read for the ranked rows only: the SAEs' own rows come from the
    // API's process cache (sorting every candidate with its SAE's columns, and parsing them for
    // every request, was most of a 100-entry leaderboard's cost at 1,000 SAEs).
    `SELECT r.sae_id, r.sae_checkpoint_id, r.trainer, r.lm_model_id, r.lm_origin, r.value, r.eval_config_hash, l0.value AS l0
     FROM (
       SELECT s.id AS sae_id, s.trainer, v.sae_checkpoint_id, lm.id AS lm_model_id, lm.origin AS lm_origin, v.value, v.eval_config_hash,
              row_number() OVER (PARTITION BY lm.origin = 'random-init' ORDER BY v.value ${q.lowerIsBetter ? 'ASC' : 'DESC'}, s.id) AS rank_in_list
       FROM ${source}
       JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id
       JOIN lm_models lm ON lm.id = lc.lm_model_id
       WHERE lm.game = $1 AND ($2::int IS NULL OR s.layer = $2) ${current}
     ) r
     ${l0}
     WHERE r.rank_in_list <= $6
     ORDER BY r.value ${q.lowerIsBetter ? 'ASC' : 'DESC'}, r.sae_id`,
    [q.game, q.layer, q.metric, q.family, q.evalConfigHash, q.limit],
  );
  return rows;
}
