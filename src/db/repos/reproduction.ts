/**
 * What `npm run report` reads to write docs/reproduction.md: the reproduction pipelines' jobs (setup,
 * seeds, commit, wall time), the SAEs of their sweeps with every evaluated checkpoint's metrics, the
 * LMs' probes and the BSP families. Read-only; the latest stored row of each metric counts (as the
 * leaderboard does).
 */
import type { Queryable } from '../pool.js';

export interface ReproJob {
  id: number;
  pipeline: string;
  kind: string;
  stage: string | null;
  status: string;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  message: string | null;
  codeVersion: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface ReproCheckpoint {
  id: number;
  step: number;
  isFinal: boolean;
  tokensSeen: number;
  /** metric → family ('' for unsupervised) → value */
  metrics: Record<string, Record<string, number>>;
}

export interface ReproSae {
  id: number;
  name: string;
  sweep: string;
  trainer: string;
  dIn: number;
  dSae: number;
  layer: number;
  hyperparameters: Record<string, unknown>;
  lmName: string;
  lmOrigin: string;
  game: string;
  checkpoints: ReproCheckpoint[];
}

export interface ReproProbe {
  lmName: string;
  layer: number;
  family: string;
  accuracy: number;
  baselineAccuracy: number;
  f1: number | null;
  nTrain: number;
  nTest: number;
}

export interface ReproFamily {
  game: string;
  family: string;
  shortName: string;
  group: string;
}

/** Scales that have a reproduction pipeline, newest first (pipeline names are reproduce-<scale>-<game>). */
export async function reproductionScales(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ scale: string }>(
    `SELECT substring(pipeline FROM '^reproduce-(.+)-(?:othello|chess)$') AS scale, max(id) AS last
     FROM jobs WHERE pipeline ~ '^reproduce-.+-(othello|chess)$' GROUP BY 1 ORDER BY last DESC`,
  );
  return rows.map((r) => r.scale);
}

const JOB_COLUMNS = `j.id::int, j.pipeline, j.kind, j.stage, j.status, j.payload, j.result, j.message, j.code_version, j.started_at, j.finished_at`;

function toJob(r: Record<string, any>): ReproJob {
  return {
    id: r.id,
    pipeline: r.pipeline,
    kind: r.kind,
    stage: r.stage,
    status: r.status,
    payload: r.payload,
    result: r.result,
    message: r.message,
    codeVersion: r.code_version,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/**
 * The latest submission of each game's reproduction pipeline (one submission = one transaction, so
 * its rows share created_at), plus `workers`: for each of its rows, the job that did the work (the
 * row itself, or the earlier job whose result it reused, followed through chains of reuse).
 */
export async function reproductionJobs(db: Queryable, scale: string): Promise<{ jobs: ReproJob[]; workers: Map<number, ReproJob> }> {
  const { rows } = await db.query(
    `WITH latest AS (SELECT pipeline, max(created_at) AS at FROM jobs WHERE pipeline = ANY($1) GROUP BY pipeline)
     SELECT ${JOB_COLUMNS} FROM jobs j JOIN latest l ON l.pipeline = j.pipeline AND j.created_at = l.at ORDER BY j.id`,
    [[`reproduce-${scale}-othello`, `reproduce-${scale}-chess`]],
  );
  const jobs = rows.map(toJob);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const reusedOf = (j: ReproJob) => Number(/^reused the result of job (\d+)/.exec(j.message ?? '')?.[1] ?? NaN);
  for (let depth = 0; depth < 20; depth++) {
    const missing = [...byId.values()].map(reusedOf).filter((id) => Number.isFinite(id) && !byId.has(id));
    if (!missing.length) break;
    const more = await db.query(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.id = ANY($1)`, [missing]);
    for (const r of more.rows) byId.set(r.id, toJob(r));
    if (more.rows.length < missing.length) break;
  }
  const workers = new Map<number, ReproJob>();
  for (const j of jobs) {
    let w: ReproJob | undefined = j;
    for (let depth = 0; w && Number.isFinite(reusedOf(w)) && depth < 20; depth++) w = byId.get(reusedOf(w));
    if (w) workers.set(j.id, w);
  }
  return { jobs, workers };
}

/** Every SAE of the named sweeps, with each evaluated (or not yet evaluated) checkpoint's metrics. */
export async function reproductionSaes(db: Queryable, sweeps: readonly string[]): Promise<ReproSae[]> {
  const { rows } = await db.query(
    `SELECT s.id::int, s.name, s.sweep, s.trainer, s.d_in, s.d_sae, s.layer, s.hyperparameters, lm.name AS lm_name, lm.origin, lm.game,
            c.id::int AS ckpt_id, c.step::int, c.is_final, c.tokens_seen::float8 AS tokens_seen
     FROM saes s
     JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id
     JOIN lm_models lm ON lm.id = lc.lm_model_id
     JOIN sae_checkpoints c ON c.sae_id = s.id
     WHERE s.sweep = ANY($1)
     ORDER BY s.id, c.step`,
    [sweeps],
  );
  const saes = new Map<number, ReproSae>();
  const ckpts = new Map<number, ReproCheckpoint>();
  for (const r of rows) {
    let s = saes.get(r.id);
    if (!s) {
      s = { id: r.id, name: r.name, sweep: r.sweep, trainer: r.trainer, dIn: r.d_in, dSae: r.d_sae, layer: r.layer, hyperparameters: r.hyperparameters, lmName: r.lm_name, lmOrigin: r.origin, game: r.game, checkpoints: [] };
      saes.set(r.id, s);
    }
    const c: ReproCheckpoint = { id: r.ckpt_id, step: r.step, isFinal: r.is_final, tokensSeen: r.tokens_seen, metrics: {} };
    s.checkpoints.push(c);
    ckpts.set(c.id, c);
  }
  if (ckpts.size) {
    const m = await db.query<{ sae_checkpoint_id: number; metric: string; family: string; value: number }>(
      `SELECT DISTINCT ON (sae_checkpoint_id, metric, family) sae_checkpoint_id::int, metric, family, value
       FROM metric_results
       WHERE sae_checkpoint_id = ANY($1) AND metric IN ('l0', 'frac_recovered', 'frac_variance_explained', 'coverage', 'reconstruction')
       ORDER BY sae_checkpoint_id, metric, family, created_at DESC, id DESC`,
      [[...ckpts.keys()]],
    );
    for (const r of m.rows) {
      const c = ckpts.get(r.sae_checkpoint_id)!;
      (c.metrics[r.metric] ??= {})[r.family] = r.value;
    }
  }
  return [...saes.values()];
}

/** Probes of the named LMs (the newest row per layer and family). */
export async function reproductionProbes(db: Queryable, lmNames: readonly string[]): Promise<ReproProbe[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (lm.name, p.layer, p.family) lm.name AS lm_name, p.layer, p.family, p.accuracy, p.baseline_accuracy, p.f1, p.n_train, p.n_test
     FROM probe_results p
     JOIN lm_checkpoints lc ON lc.id = p.lm_checkpoint_id
     JOIN lm_models lm ON lm.id = lc.lm_model_id
     WHERE lm.name = ANY($1) AND p.site = 'resid_post'
     ORDER BY lm.name, p.layer, p.family, p.created_at DESC, p.id DESC`,
    [lmNames],
  );
  return rows.map((r) => ({ lmName: r.lm_name, layer: r.layer, family: r.family, accuracy: r.accuracy, baselineAccuracy: r.baseline_accuracy, f1: r.f1, nTrain: r.n_train, nTest: r.n_test }));
}

export async function reproductionFamilies(db: Queryable): Promise<ReproFamily[]> {
  const { rows } = await db.query(`SELECT game, family, short_name, family_group FROM bsp_families ORDER BY game, family`);
  return rows.map((r) => ({ game: r.game, family: r.family, shortName: r.short_name, group: r.family_group }));
}

/** Sizes of the datasets the reproduction generated (by the names its jobs gave them). */
export async function reproductionDatasets(db: Queryable, names: readonly string[]): Promise<{ name: string; game: string; games: number; positions: number; path: string }[]> {
  const { rows } = await db.query(`SELECT * FROM datasets WHERE name = ANY($1) ORDER BY id`, [names]);
  return rows.map((r) => ({ name: r.name, game: r.game, games: Number(r.n_games), positions: Number(r.n_positions), path: r.path }));
}
