/**
 * Language models, their checkpoints, activation sets and linear-probe results. Plain functions
 * over a pool or a transaction client (pipelines in src/jobs/lm.ts wrap them in transactions).
 */
import { ConflictError } from '../../errors.js';
import type { Queryable } from '../pool.js';

export type LmOrigin = 'trained' | 'imported' | 'random-init';

export interface LmModelRow {
  id: number;
  name: string;
  game: string;
  config: Record<string, unknown>;
  config_hash: string;
  origin: LmOrigin;
  random_init_of: number | null;
  description: string | null;
  created_at: Date;
}

export interface LmCheckpointRow {
  id: number;
  lm_model_id: number;
  step: number;
  tokens_seen: number;
  path: string;
  weights_sha256: string | null;
  train_dataset_id: number | null;
  metrics: Record<string, unknown>;
  code_version: string;
  created_at: Date;
}

export interface ProbeResultRow {
  id: number;
  lm_checkpoint_id: number;
  dataset_id: number | null;
  dataset_path: string;
  layer: number;
  site: string;
  family: string;
  kind: 'softmax' | 'sigmoid';
  accuracy: number;
  f1: number | null;
  train_accuracy: number;
  baseline_accuracy: number;
  n_train: number;
  n_test: number;
  config: Record<string, unknown>;
  config_hash: string;
  code_version: string;
  created_at: Date;
}

export async function findLmModelByName(db: Queryable, name: string): Promise<LmModelRow | null> {
  const { rows } = await db.query<LmModelRow>('SELECT * FROM lm_models WHERE name = $1', [name]);
  return rows[0] ?? null;
}

/**
 * Insert a model, or return the existing one of the same name when it has the same architecture
 * (config hash). A different architecture under the same name is a conflict.
 */
export async function upsertLmModel(
  db: Queryable,
  m: { name: string; game: string; config: object; configHash: string; origin: LmOrigin; randomInitOf?: number | null; description?: string | null; codeVersion?: string | null; seed?: number | null },
): Promise<{ row: LmModelRow; created: boolean }> {
  const reuse = async (existing: LmModelRow): Promise<{ row: LmModelRow; created: boolean }> => {
    if (existing.config_hash !== m.configHash || existing.game !== m.game) {
      throw new ConflictError(`LM "${m.name}" is already registered (#${existing.id}) with a different ${existing.game !== m.game ? 'game' : 'architecture'}; register under another --name`);
    }
    if (m.randomInitOf != null && existing.random_init_of == null) {
      const { rows } = await db.query<LmModelRow>('UPDATE lm_models SET random_init_of = $2 WHERE id = $1 RETURNING *', [existing.id, m.randomInitOf]);
      return { row: rows[0], created: false };
    }
    return { row: existing, created: false };
  };
  const existing = await findLmModelByName(db, m.name);
  if (existing) return reuse(existing);
  const { rows } = await db.query<LmModelRow>(
    `INSERT INTO lm_models (name, game, config, config_hash, origin, random_init_of, description, code_version, seed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING RETURNING *`,
    [m.name, m.game, JSON.stringify(m.config), m.configHash, m.origin, m.randomInitOf ?? null, m.description ?? null, m.codeVersion ?? null, m.seed ?? null],
  );
  if (rows[0]) return { row: rows[0], created: true };
  // another command registered the same name between our SELECT and INSERT (two commands on one LM)
  return reuse((await findLmModelByName(db, m.name))!);
}

/**
 * Insert or update the checkpoint (model, step): path, hash and dataset are overwritten, metrics
 * are merged (new keys win) so an evaluation run adds to what training recorded.
 */
export async function upsertLmCheckpoint(
  db: Queryable,
  c: {
    lmModelId: number;
    step: number;
    tokensSeen: number;
    path: string;
    weightsSha256: string | null;
    trainDatasetId: number | null;
    metrics: Record<string, unknown>;
    codeVersion: string;
    /** Provenance (0009): how these weights were made (training options, import, random init). */
    config?: Record<string, unknown> | null;
    configHash?: string | null;
    seed?: number | null;
    inputHashes?: Record<string, string>;
  },
): Promise<LmCheckpointRow> {
  const { rows } = await db.query<LmCheckpointRow>(
    `INSERT INTO lm_checkpoints (lm_model_id, step, tokens_seen, path, weights_sha256, train_dataset_id, metrics, code_version, config, config_hash, seed, input_hashes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (lm_model_id, step) DO UPDATE SET
       tokens_seen = EXCLUDED.tokens_seen, path = EXCLUDED.path, weights_sha256 = EXCLUDED.weights_sha256,
       train_dataset_id = COALESCE(EXCLUDED.train_dataset_id, lm_checkpoints.train_dataset_id),
       metrics = lm_checkpoints.metrics || EXCLUDED.metrics, code_version = EXCLUDED.code_version,
       config = COALESCE(lm_checkpoints.config, EXCLUDED.config), config_hash = COALESCE(lm_checkpoints.config_hash, EXCLUDED.config_hash),
       seed = COALESCE(lm_checkpoints.seed, EXCLUDED.seed),
       input_hashes = lm_checkpoints.input_hashes || jsonb_strip_nulls(jsonb_build_object('weights', EXCLUDED.weights_sha256))
     RETURNING *`,
    [
      c.lmModelId, c.step, c.tokensSeen, c.path, c.weightsSha256, c.trainDatasetId, JSON.stringify(c.metrics), c.codeVersion,
      c.config ? JSON.stringify(c.config) : null, c.configHash ?? null, c.seed ?? null, JSON.stringify(c.inputHashes ?? {}),
    ],
  );
  return rows[0];
}

export async function listLmCheckpoints(db: Queryable, lmModelId: number): Promise<LmCheckpointRow[]> {
  const { rows } = await db.query<LmCheckpointRow>('SELECT * FROM lm_checkpoints WHERE lm_model_id = $1 ORDER BY step', [lmModelId]);
  return rows;
}

export async function findDatasetIdByPath(db: Queryable, absPath: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM datasets WHERE path = $1 ORDER BY id DESC LIMIT 1', [absPath]);
  return rows[0]?.id ?? null;
}

export async function insertActivationSet(
  db: Queryable,
  a: {
    lmCheckpointId: number;
    datasetId: number;
    layer: number;
    site: string;
    positions: string;
    dtype: 'float32' | 'float16';
    nVectors: number;
    dModel: number;
    path: string;
    manifest: object;
    codeVersion: string;
  },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO activation_sets (lm_checkpoint_id, dataset_id, layer, site, positions, dtype, n_vectors, d_model, path, manifest, code_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [a.lmCheckpointId, a.datasetId, a.layer, a.site, a.positions, a.dtype, a.nVectors, a.dModel, a.path, JSON.stringify(a.manifest), a.codeVersion],
  );
  return rows[0].id;
}

export interface ProbeResultInput {
  layer: number;
  site: string;
  family: string;
  kind: 'softmax' | 'sigmoid';
  accuracy: number;
  f1: number | null;
  trainAccuracy: number;
  baselineAccuracy: number;
  nTrain: number;
  nTest: number;
}

/** Upsert probe results of one checkpoint/dataset/config (a rerun replaces its numbers). */
export async function upsertProbeResults(
  db: Queryable,
  common: { lmCheckpointId: number; datasetId: number | null; datasetPath: string; config: object; configHash: string; codeVersion: string },
  results: readonly ProbeResultInput[],
): Promise<number> {
  if (!results.length) return 0;
  const col = <K extends keyof ProbeResultInput>(k: K) => results.map((r) => r[k]);
  const { rowCount } = await db.query(
    `INSERT INTO probe_results (lm_checkpoint_id, dataset_id, dataset_path, layer, site, family, kind, accuracy, f1, train_accuracy,
                                baseline_accuracy, n_train, n_test, config, config_hash, code_version)
     SELECT $1, $2, $3, t.layer, t.site, t.family, t.kind, t.accuracy, t.f1, t.train_accuracy, t.baseline_accuracy, t.n_train, t.n_test, $4, $5, $6
     FROM unnest($7::smallint[], $8::text[], $9::text[], $10::text[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::int[], $16::int[])
       AS t(layer, site, family, kind, accuracy, f1, train_accuracy, baseline_accuracy, n_train, n_test)
     ON CONFLICT (lm_checkpoint_id, layer, site, family, dataset_path, config_hash) DO UPDATE SET
       dataset_id = EXCLUDED.dataset_id, kind = EXCLUDED.kind, accuracy = EXCLUDED.accuracy, f1 = EXCLUDED.f1,
       train_accuracy = EXCLUDED.train_accuracy, baseline_accuracy = EXCLUDED.baseline_accuracy,
       n_train = EXCLUDED.n_train, n_test = EXCLUDED.n_test, code_version = EXCLUDED.code_version, created_at = now()`,
    [
      common.lmCheckpointId, common.datasetId, common.datasetPath, JSON.stringify(common.config), common.configHash, common.codeVersion,
      col('layer'), col('site'), col('family'), col('kind'), col('accuracy'), col('f1'), col('trainAccuracy'), col('baselineAccuracy'), col('nTrain'), col('nTest'),
    ],
  );
  return rowCount ?? 0;
}

export async function listProbeResults(db: Queryable, lmCheckpointId: number): Promise<ProbeResultRow[]> {
  const { rows } = await db.query<ProbeResultRow>('SELECT * FROM probe_results WHERE lm_checkpoint_id = $1 ORDER BY family, layer', [lmCheckpointId]);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Reads for the API

const LM_COLUMNS = `id, name, game, config, config_hash, origin, random_init_of, description, created_at`;

export async function listLmModels(db: Queryable, game?: string | null): Promise<LmModelRow[]> {
  const { rows } = await db.query<LmModelRow>(`SELECT ${LM_COLUMNS} FROM lm_models WHERE ($1::text IS NULL OR game = $1) ORDER BY id`, [game ?? null]);
  return rows;
}

export async function getLmModelsByIds(db: Queryable, ids: readonly number[]): Promise<(LmModelRow | null)[]> {
  const { rows } = await db.query<LmModelRow>(`SELECT ${LM_COLUMNS} FROM lm_models WHERE id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** LM models by id ("3") or name, in the order asked. */
export async function findLmModels(db: Queryable, refs: readonly string[]): Promise<(LmModelRow | null)[]> {
  const ids = refs.filter((r) => /^\d+$/.test(r)).map(Number);
  const { rows } = await db.query<LmModelRow>(`SELECT ${LM_COLUMNS} FROM lm_models WHERE id = ANY($1::bigint[]) OR name = ANY($2::text[])`, [ids, refs]);
  return refs.map((r) => rows.find((m) => m.name === r) ?? rows.find((m) => /^\d+$/.test(r) && m.id === Number(r)) ?? null);
}

const LMC_COLUMNS = `id, lm_model_id, step, tokens_seen, path, weights_sha256, train_dataset_id, metrics, code_version, created_at`;

export async function getLmCheckpointsByIds(db: Queryable, ids: readonly number[]): Promise<(LmCheckpointRow | null)[]> {
  const { rows } = await db.query<LmCheckpointRow>(`SELECT ${LMC_COLUMNS} FROM lm_checkpoints WHERE id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function checkpointsOfLmModels(db: Queryable, modelIds: readonly number[]): Promise<LmCheckpointRow[][]> {
  const { rows } = await db.query<LmCheckpointRow>(`SELECT ${LMC_COLUMNS} FROM lm_checkpoints WHERE lm_model_id = ANY($1::bigint[]) ORDER BY lm_model_id, step`, [modelIds]);
  const byModel = new Map<number, LmCheckpointRow[]>();
  for (const r of rows) byModel.set(r.lm_model_id, [...(byModel.get(r.lm_model_id) ?? []), r]);
  return modelIds.map((id) => byModel.get(id) ?? []);
}

export async function probesOfLmCheckpoints(db: Queryable, ckptIds: readonly number[]): Promise<ProbeResultRow[][]> {
  const { rows } = await db.query<ProbeResultRow>(
    `SELECT * FROM probe_results WHERE lm_checkpoint_id = ANY($1::bigint[]) ORDER BY lm_checkpoint_id, family, layer, site, created_at DESC`,
    [ckptIds],
  );
  const byCkpt = new Map<number, ProbeResultRow[]>();
  for (const r of rows) byCkpt.set(r.lm_checkpoint_id, [...(byCkpt.get(r.lm_checkpoint_id) ?? []), r]);
  return ckptIds.map((id) => byCkpt.get(id) ?? []);
}

/**
 * The best linear probe of a BSP family on trained LMs of a game (at one layer if given); where
 * that family has none, the best of `fallbackFamily` (one statement for both).
 */
export async function bestProbe(db: Queryable, q: { game: string; family: string; layer: number | null; fallbackFamily?: string | null }): Promise<ProbeResultRow | null> {
  const { rows } = await db.query<ProbeResultRow>(
    `SELECT p.* FROM probe_results p
     JOIN lm_checkpoints lc ON lc.id = p.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id
     WHERE lm.game = $1 AND lm.origin <> 'random-init' AND (p.family = $2 OR p.family = $4) AND ($3::int IS NULL OR p.layer = $3)
     ORDER BY p.family = $2 DESC, p.accuracy DESC LIMIT 1`,
    [q.game, q.family, q.layer, q.fallbackFamily ?? null],
  );
  return rows[0] ?? null;
}

export interface ActivationSetRow {
  id: number;
  lm_checkpoint_id: number;
  dataset_id: number | null;
  layer: number;
  site: string;
  positions: string;
  dtype: string;
  n_vectors: number;
  d_model: number;
  path: string;
  code_version: string;
  created_at: Date;
}

const AS_COLUMNS = `id, lm_checkpoint_id, dataset_id, layer, site, positions, dtype, n_vectors, d_model, path, code_version, created_at`;

/** Activation sets of many LM checkpoints, each list by layer, site, newest first. */
export async function activationSetsOfLmCheckpoints(db: Queryable, ckptIds: readonly number[]): Promise<ActivationSetRow[][]> {
  const { rows } = await db.query<ActivationSetRow>(
    `SELECT ${AS_COLUMNS} FROM activation_sets WHERE lm_checkpoint_id = ANY($1::bigint[]) ORDER BY lm_checkpoint_id, layer, site, id DESC`,
    [ckptIds],
  );
  const byCkpt = new Map<number, ActivationSetRow[]>();
  for (const r of rows) byCkpt.set(r.lm_checkpoint_id, [...(byCkpt.get(r.lm_checkpoint_id) ?? []), r]);
  return ckptIds.map((id) => byCkpt.get(id) ?? []);
}

export async function getActivationSetsByIds(db: Queryable, ids: readonly number[]): Promise<(ActivationSetRow | null)[]> {
  const { rows } = await db.query<ActivationSetRow>(`SELECT ${AS_COLUMNS} FROM activation_sets WHERE id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Best linear-probe accuracy per BSP family short name, over trained LMs of a game, with its layer. */
export async function bestProbeAccuracyOfFamilies(db: Queryable, keys: readonly string[]): Promise<(ProbeResultRow | null)[]> {
  // keys are "<game>|<family short name>"
  const games = keys.map((k) => k.split('|')[0]);
  const families = keys.map((k) => k.split('|')[1]);
  const { rows } = await db.query<ProbeResultRow & { key: string }>(
    `SELECT DISTINCT ON (k.game, k.family) k.game || '|' || k.family AS key, p.*
     FROM unnest($1::text[], $2::text[]) AS k(game, family)
     JOIN probe_results p ON p.family = k.family
     JOIN lm_checkpoints lc ON lc.id = p.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id AND lm.game = k.game AND lm.origin <> 'random-init'
     ORDER BY k.game, k.family, p.accuracy DESC`,
    [games, families],
  );
  const byKey = new Map(rows.map((r) => [r.key, r]));
  return keys.map((k) => byKey.get(k) ?? null);
}
