/**
 * SAEs, their checkpoints and their unsupervised metric rows. Plain functions over a pool or a
 * transaction client; src/jobs/sae.ts wraps a whole sweep's registration in one transaction.
 */
import type { Queryable } from '../pool.js';

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
