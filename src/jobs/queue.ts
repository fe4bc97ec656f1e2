/**
 * The job queue: pg-boss on the same Postgres queues and hands out work (retries, expiry of
 * jobs whose worker died); `jobs` rows (src/db/repos/jobs.ts) are what users see and what
 * pipelines wait on. Workers run anywhere that reaches the database: `saeboard worker`, or the
 * server's in-process worker.
 *
 *  submit:  validate every config (zod) → one transaction inserts the rows → ready rows go to pg-boss
 *  work:    mark running → handler (progress, log, cancel signal) → succeeded/failed → release dependents
 *  crash:   a worker killed mid-job stops renewing nothing — pg-boss expires its job and hands it to
 *           another worker, whose handler resumes from what the first one finished
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { isSaeboardError, UserInputError } from '../errors.js';
import { log } from '../log.js';
import { codeVersionString } from '../version.js';
import { createPool, withTransaction } from '../db/pool.js';
import {
  cancelJobTree,
  claimReady,
  finishJob,
  findSucceededJob,
  getJob,
  insertJobs,
  markRunning,
  releaseBossId,
  requeueJobTree,
  requeueStale,
  reserveBossId,
  updateProgress,
  type JobRow,
  type NewJob,
} from '../db/repos/jobs.js';
import { JOB_KINDS, jobKind, validateJobConfig, type JobContext } from './kinds.js';

const queueName = (kind: string) => `saeboard-${kind.toLowerCase().replace(/_/g, '-')}`;

export interface Queue {
  boss: PgBoss;
  pool: pg.Pool;
  url: string;
  stop(): Promise<void>;
}

export interface QueueOptions {
  /** Connection string of the database (pg-boss keeps its own small pool for LISTEN and polling). */
  url: string;
  /** A job whose worker stops answering is handed to another after this long (default 2 h). */
  expireInSeconds?: number;
  retryLimit?: number;
}

export async function startQueue(pool: pg.Pool, opts: QueueOptions): Promise<Queue> {
  const boss = new PgBoss({ connectionString: opts.url, max: 3, schema: 'pgboss', supervise: true, migrate: true });
  boss.on('error', (err) => log.warn({ err: err.message }, 'job queue error'));
  await boss.start();
  for (const k of JOB_KINDS) {
    const name = queueName(k.kind);
    if (!(await boss.getQueue(name))) {
      await boss.createQueue(name, { name, retryLimit: opts.retryLimit ?? 2, retryDelay: 2, expireInSeconds: opts.expireInSeconds ?? 7200 }).catch((err: Error) => {
        if (!/already exists/.test(err.message)) throw err;
      });
    }
  }
  const queue: Queue = { boss, pool, url: opts.url, stop: () => boss.stop({ graceful: true, wait: true, timeout: 10_000 }) };
  await releaseReady(queue);
  return queue;
}

/**
 * Hand every ready row to pg-boss, once: the row reserves the delivery's id before it is sent,
 * so concurrent releasers (the reaper, a finishing job, a submit) never send a row twice.
 */
export async function releaseReady(queue: Queue): Promise<number> {
  const ready = await claimReady(queue.pool);
  let sent = 0;
  for (const row of ready) {
    const bossId = randomUUID();
    if (!(await reserveBossId(queue.pool, row.id, bossId))) continue;
    try {
      await queue.boss.send(queueName(row.kind), { jobId: row.id }, { id: bossId });
      sent++;
    } catch (err) {
      await releaseBossId(queue.pool, row.id, bossId).catch(() => {});
      throw err;
    }
  }
  return sent;
}

export interface StageInput {
  kind: string;
  config: unknown;
  stage?: string;
  /** Indices of earlier stages this one waits for. */
  dependsOn?: number[];
}

/**
 * Validate and queue a pipeline (or one job); nothing is queued when any config is bad. A stage
 * whose kind and config already succeeded reuses that result (its row is born succeeded) unless
 * `force`.
 */
export async function submitPipeline(queue: Queue | null, pool: pg.Pool, pipeline: string | null, stages: readonly StageInput[], opts: { force?: boolean } = {}): Promise<JobRow[]> {
  const jobs = stages.map((s, i) => {
    const { config, hash } = (() => {
      try {
        return validateJobConfig(s.kind, s.config);
      } catch (err) {
        if (err instanceof UserInputError && stages.length > 1) throw new UserInputError(`stage ${i + 1} (${s.stage ?? s.kind}): ${err.message}`);
        throw err;
      }
    })();
    return { kind: s.kind, config, configHash: hash, stage: s.stage ?? null, dependsOn: s.dependsOn ?? [] };
  });
  if (!opts.force) {
    for (const j of jobs) (j as NewJob).reuse = await findSucceededJob(pool, j.kind, j.configHash);
  }
  const rows = await withTransaction(pool, (client) => insertJobs(client, pipeline, jobs, codeVersionString()));
  if (queue) await releaseReady(queue);
  return rows;
}

export async function cancelJob(queue: Queue | null, pool: pg.Pool, id: number): Promise<JobRow[]> {
  const job = await getJob(pool, id);
  if (!job) throw new UserInputError(`no job ${id}`);
  const cancelled = await cancelJobTree(pool, id, `cancelled (job ${id})`);
  if (queue) for (const j of cancelled) if (j.boss_id) await queue.boss.cancel(queueName(j.kind), j.boss_id).catch(() => {});
  return cancelled;
}

export async function retryJob(queue: Queue | null, pool: pg.Pool, id: number): Promise<JobRow[]> {
  const job = await getJob(pool, id);
  if (!job) throw new UserInputError(`no job ${id}`);
  if (job.status !== 'failed' && job.status !== 'cancelled') throw new UserInputError(`job ${id} is ${job.status}: only failed or cancelled jobs are retried`);
  const rows = await requeueJobTree(pool, id);
  if (queue) await releaseReady(queue);
  return rows;
}

export interface WorkerOptions {
  /** Jobs run at once by this process, all kinds together (default 1). */
  concurrency?: number;
  kinds?: readonly string[];
  /** How often a running job checks for cancellation and flushes progress (default 1 s). */
  pollMs?: number;
  /** A running job not heard of for this long is requeued (default 30 s). */
  staleSeconds?: number;
  /** How often the worker looks for stale and newly queued rows (default 2 s). */
  releaseMs?: number;
}

/** Run jobs until stopped; returns a function that stops taking new ones. */
export async function startWorker(queue: Queue, opts: WorkerOptions = {}): Promise<() => Promise<void>> {
  const kinds = opts.kinds?.length ? opts.kinds.map((k) => jobKind(k).kind) : JOB_KINDS.map((k) => k.kind);
  const worker = `${os.hostname()}:${process.pid}`;
  const ids: string[] = [];
  // `concurrency` jobs at a time in this process, whatever their kinds: each kind's queue has
  // that many pollers, and a slot is taken before a job runs (extra fetched jobs wait their turn).
  const slots = opts.concurrency ?? 1;
  let running = 0;
  const free: (() => void)[] = [];
  const withSlot = async (fn: () => Promise<void>) => {
    while (running >= slots) await new Promise<void>((r) => free.push(r));
    running++;
    try {
      await fn();
    } finally {
      running--;
      free.shift()?.();
    }
  };
  for (const kind of kinds) {
    for (let i = 0; i < slots; i++) {
      ids.push(
        await queue.boss.work<{ jobId: number }>(queueName(kind), { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
          await withSlot(() => runJob(queue, job.data.jobId, job.id, worker, opts.pollMs ?? 1000));
        }),
      );
    }
  }
  // A worker that dies (kill -9, lost machine) stops reporting: any live worker requeues its jobs.
  // Rows queued by processes without a queue (the CLI) are handed to pg-boss here too.
  const staleSeconds = opts.staleSeconds ?? 30;
  const reaper = setInterval(() => {
    requeueStale(queue.pool, staleSeconds)
      .then(async (rows) => {
        if (rows.length) log.warn({ jobs: rows.map((r) => r.id) }, 'requeued jobs of a worker that stopped answering');
        await releaseReady(queue);
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'could not check the job table'));
  }, opts.releaseMs ?? 2000);
  reaper.unref();
  log.info({ worker, kinds, concurrency: opts.concurrency ?? 1 }, 'job worker started');
  return async () => {
    clearInterval(reaper);
    for (const id of ids) await queue.boss.offWork({ id });
  };
}

/**
 * Seconds left, from the progress made since this attempt's first report (a resumed job starts
 * part-way: its rate counts this attempt's work only). Null until there is a rate to go by.
 */
export function etaEstimator(now: () => number = () => performance.now()): { update(fraction: number): number | null } {
  let first: { t: number; p: number } | null = null;
  return {
    update(p) {
      const t = now();
      if (!first) {
        first = { t, p };
        return null;
      }
      if (p >= 1) return 0;
      const done = p - first.p;
      const elapsed = (t - first.t) / 1000;
      if (done <= 0 || elapsed < 0.5) return null;
      return (elapsed / done) * (1 - p);
    },
  };
}

/** One attempt at one job. Throws (so pg-boss retries) only for errors that are not the user's. */
export async function runJob(queue: Queue, jobId: number, bossId: string, worker: string, pollMs = 1000): Promise<void> {
  const pool = queue.pool;
  const found = await getJob(pool, jobId);
  if (!found || !(await markRunning(pool, jobId, worker, bossId))) return; // cancelled, gone, or handed to another delivery
  const row = found;
  const kind = jobKind(row.kind);
  const abort = new AbortController();
  let pending: Parameters<typeof updateProgress>[2] = {};
  let lines: string[] = [];
  const flush = async () => {
    const p = pending;
    const l = lines;
    pending = {};
    lines = [];
    const status = await updateProgress(pool, jobId, { ...p, logLine: l.length ? l.join('\n') : null });
    if (status === 'cancelled') abort.abort();
    if (status === null) abort.abort();
    return status;
  };
  const timer = setInterval(() => void flush().catch(() => {}), pollMs);
  const eta = etaEstimator();
  // The handler writes through its own small pool whose sessions carry the job's id: every result
  // row it inserts records this job (migration 0009's column defaults).
  const jobPool = createPool(queue.url, { max: 3, settings: { 'saeboard.job_id': String(jobId) } });
  const ctx: JobContext = {
    pool: jobPool,
    jobId,
    signal: abort.signal,
    progress(fraction, o = {}) {
      const p = Math.max(0, Math.min(1, fraction));
      pending = { ...pending, progress: p, stage: o.stage ?? pending.stage, message: o.message ?? pending.message, throughput: o.throughput ?? pending.throughput, etaSeconds: eta.update(p) ?? pending.etaSeconds };
    },
    log(line) {
      lines.push(line.slice(0, 500));
    },
  };
  log.info({ job: jobId, kind: row.kind, attempt: row.attempts + 1 }, 'job started');
  try {
    await runAttempt();
  } finally {
    await jobPool.end().catch(() => {});
  }
  async function runAttempt(): Promise<void> {
    try {
      const result = await kind.run(row.payload, ctx);
      clearInterval(timer);
      await flush();
      if (abort.signal.aborted) return;
      await finishJob(pool, jobId, 'succeeded', { result });
      log.info({ job: jobId, kind: row.kind }, 'job succeeded');
      await releaseReady(queue);
    } catch (err) {
      clearInterval(timer);
      await flush().catch(() => {});
      if (abort.signal.aborted) return; // cancelled: the row already says so
      const message = err instanceof Error ? err.message : String(err);
      if (isSaeboardError(err)) {
        // The user's mistake: retrying cannot help. Fail it and what waits on it.
        await finishJob(pool, jobId, 'failed', { error: message });
        await cancelJobTree(pool, jobId, `a job it depends on (${jobId}) failed`);
        log.warn({ job: jobId, kind: row.kind, err: message }, 'job failed');
        return;
      }
      await updateProgress(pool, jobId, { logLine: `attempt ${row.attempts + 1} failed: ${message}` });
      log.error({ job: jobId, kind: row.kind, err }, 'job attempt failed; pg-boss retries it');
      const final = await queue.boss.getJobById(queueName(row.kind), bossId).catch(() => null);
      if (final && final.retryCount >= final.retryLimit) await finishJob(pool, jobId, 'failed', { error: message });
      throw err;
    }
  }
}
