/**
 * The `jobs` table (migrations 0001 + 0008): what users see of queued work. pg-boss holds the
 * queue itself; these rows hold the config, status, progress, log tail and result.
 */
import type pg from 'pg';
import type { Queryable } from '../pool.js';

export type JobStatus = 'waiting' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRow {
  id: number;
  kind: string;
  status: JobStatus;
  payload: Record<string, unknown>;
  config_hash: string | null;
  pipeline: string | null;
  stage: string | null;
  depends_on: number[];
  boss_id: string | null;
  progress: number;
  message: string | null;
  log: string[];
  throughput: number | null;
  eta_seconds: number | null;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  worker: string | null;
  code_version: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export interface NewJob {
  kind: string;
  config: Record<string, unknown>;
  configHash: string;
  stage: string | null;
  /** Indices into the same insert's list. */
  dependsOn: number[];
  /** An earlier job with the same kind and config that succeeded: this one reuses its result. */
  reuse?: JobRow | null;
}

/** Insert a pipeline's jobs (in order; dependencies by index); returns the rows. */
export async function insertJobs(client: pg.ClientBase, pipeline: string | null, jobs: readonly NewJob[], codeVersion: string): Promise<JobRow[]> {
  const out: JobRow[] = [];
  for (const j of jobs) {
    const deps = j.dependsOn.map((i) => {
      if (!(i >= 0 && i < out.length)) throw new RangeError(`job ${j.kind} depends on index ${i}, which is not earlier in the pipeline`);
      return out[i].id;
    });
    const { rows } = j.reuse
      ? await client.query<JobRow>(
          `INSERT INTO jobs (kind, status, payload, config_hash, pipeline, stage, depends_on, code_version, progress, result, message, started_at, finished_at)
           VALUES ($1, 'succeeded', $2, $3, $4, $5, $6, $7, 1, $8, $9, now(), now()) RETURNING *`,
          [j.kind, j.config, j.configHash, pipeline, j.stage, deps, codeVersion, j.reuse.result, `reused the result of job ${j.reuse.id} (same kind and config)`],
        )
      : await client.query<JobRow>(
          `INSERT INTO jobs (kind, status, payload, config_hash, pipeline, stage, depends_on, code_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
          [j.kind, deps.length ? 'waiting' : 'queued', j.config, j.configHash, pipeline, j.stage, deps, codeVersion],
        );
    out.push(rows[0]);
  }
  return out;
}

export async function getJob(db: Queryable, id: number): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(`SELECT * FROM jobs WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function getJobsByIds(db: Queryable, ids: readonly number[]): Promise<(JobRow | null)[]> {
  const { rows } = await db.query<JobRow>(`SELECT * FROM jobs WHERE id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function listJobs(
  db: Queryable,
  q: { status?: JobStatus | null; kind?: string | null; pipeline?: string | null; beforeId?: number | null; limit: number },
): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT * FROM jobs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR pipeline = $3)
       AND ($4::bigint IS NULL OR id < $4)
     ORDER BY id DESC LIMIT $5`,
    [q.status ?? null, q.kind ?? null, q.pipeline ?? null, q.beforeId ?? null, q.limit],
  );
  return rows;
}

/** A succeeded job of this kind and config, if any (to reuse its result). */
export async function findSucceededJob(db: Queryable, kind: string, configHash: string): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(`SELECT * FROM jobs WHERE kind = $1 AND config_hash = $2 AND status = 'succeeded' ORDER BY id DESC LIMIT 1`, [kind, configHash]);
  return rows[0] ?? null;
}

/** Queued rows not yet handed to pg-boss, and waiting rows whose dependencies all succeeded (marked queued). */
export async function claimReady(db: Queryable): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `UPDATE jobs j SET status = 'queued', updated_at = now()
     WHERE j.status = 'waiting'
       AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.id = ANY(j.depends_on) AND d.status <> 'succeeded')
     RETURNING *`,
  );
  const { rows: unsent } = await db.query<JobRow>(`SELECT * FROM jobs WHERE status = 'queued' AND boss_id IS NULL ORDER BY id`);
  const ids = new Set(rows.map((r) => r.id));
  return [...rows, ...unsent.filter((r) => !ids.has(r.id))];
}

/**
 * Reserve the pg-boss id a queued row is about to be sent with; false when another releaser got
 * there first. The row holds the id before pg-boss does, so a worker that fetches the delivery at
 * once finds its row ready to mark running (setting it after the send lost that race, and the row
 * stayed queued with nobody to run it).
 */
export async function reserveBossId(db: Queryable, id: number, bossId: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE jobs SET boss_id = $2, updated_at = now() WHERE id = $1 AND status = 'queued' AND boss_id IS NULL`, [id, bossId]);
  return (rowCount ?? 0) > 0;
}

/** Undo a reservation whose send failed, so the next release sends the row again. */
export async function releaseBossId(db: Queryable, id: number, bossId: string): Promise<void> {
  await db.query(`UPDATE jobs SET boss_id = NULL, updated_at = now() WHERE id = $1 AND boss_id = $2`, [id, bossId]);
}

/**
 * Mark a job running for the pg-boss job `bossId` (queued, or retried by pg-boss after an error);
 * false when it was cancelled meanwhile or handed to another pg-boss job (requeued after its worker
 * stopped answering) — then this delivery must not run it.
 */
export async function markRunning(db: Queryable, id: number, worker: string, bossId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()), worker = $2, error = NULL, updated_at = now()
     WHERE id = $1 AND boss_id = $3 AND status IN ('queued', 'running')`,
    [id, worker, bossId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Running jobs whose worker has not reported for `staleSeconds` (workers report every second):
 * back to queued, to be sent to pg-boss again. Returns the requeued rows.
 */
export async function requeueStale(db: Queryable, staleSeconds: number): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `UPDATE jobs SET status = 'queued', boss_id = NULL, updated_at = now(),
       log = (log || ('worker ' || coalesce(worker, '?') || ' stopped answering; requeued'))[greatest(1, cardinality(log) + 1 - 49):]
     WHERE status = 'running' AND updated_at < now() - make_interval(secs => $1)
     RETURNING *`,
    [staleSeconds],
  );
  return rows;
}

export async function updateProgress(
  db: Queryable,
  id: number,
  p: { progress?: number; stage?: string | null; message?: string | null; throughput?: number | null; etaSeconds?: number | null; logLine?: string | null },
): Promise<JobStatus | null> {
  const { rows } = await db.query<{ status: JobStatus }>(
    `UPDATE jobs SET
       progress = coalesce($2, progress), stage = coalesce($3, stage), message = coalesce($4, message),
       throughput = coalesce($5, throughput), eta_seconds = coalesce($6, eta_seconds),
       log = CASE WHEN $7::text IS NULL THEN log ELSE (log || $7::text)[greatest(1, cardinality(log) + 1 - 49):] END,
       updated_at = now()
     WHERE id = $1 RETURNING status`,
    [id, p.progress ?? null, p.stage ?? null, p.message ?? null, p.throughput ?? null, p.etaSeconds ?? null, p.logLine ?? null],
  );
  return rows[0]?.status ?? null;
}

export async function finishJob(db: Queryable, id: number, status: 'succeeded' | 'failed' | 'cancelled', r: { result?: Record<string, unknown> | null; error?: string | null }): Promise<void> {
  await db.query(
    `UPDATE jobs SET status = $2, result = coalesce($3, result), error = $4, finished_at = now(), updated_at = now(),
       progress = CASE WHEN $2 = 'succeeded' THEN 1 ELSE progress END
     WHERE id = $1 AND status <> 'cancelled'`,
    [id, status, r.result ?? null, r.error ?? null],
  );
}

/** Cancel a job and everything that waits on it (transitively); returns the cancelled rows. */
export async function cancelJobTree(db: Queryable, id: number, reason: string): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `WITH RECURSIVE tree(id) AS (
       SELECT $1::bigint
       UNION SELECT j.id FROM jobs j JOIN tree t ON t.id = ANY(j.depends_on)
     )
     UPDATE jobs SET status = 'cancelled', error = coalesce(error, $2), finished_at = now(), updated_at = now()
     WHERE id IN (SELECT id FROM tree) AND status IN ('waiting', 'queued', 'running')
     RETURNING *`,
    [id, reason],
  );
  return rows;
}

/** Put a failed or cancelled job (and its cancelled dependents) back in the queue. */
export async function requeueJobTree(db: Queryable, id: number): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `WITH RECURSIVE tree(id) AS (
       SELECT $1::bigint
       UNION SELECT j.id FROM jobs j JOIN tree t ON t.id = ANY(j.depends_on)
     )
     UPDATE jobs SET status = CASE WHEN cardinality(depends_on) = 0 OR id = $1 THEN 'queued' ELSE 'waiting' END,
       boss_id = NULL, error = NULL, finished_at = NULL, updated_at = now()
     WHERE id IN (SELECT id FROM tree) AND status IN ('failed', 'cancelled')
     RETURNING *`,
    [id],
  );
  return rows;
}

export async function getSetting<T>(db: Queryable, key: string): Promise<T | null> {
  const { rows } = await db.query<{ value: T }>(`SELECT value FROM saeboard_settings WHERE key = $1`, [key]);
  return rows[0]?.value ?? null;
}

/** Set a setting only if absent; true when this call set it (the first of concurrent callers). */
export async function setSettingOnce(db: Queryable, key: string, value: unknown): Promise<boolean> {
  const { rowCount } = await db.query(`INSERT INTO saeboard_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [key, JSON.stringify(value)]);
  return (rowCount ?? 0) > 0;
}
