import type pg from 'pg';
import { NotFoundError, UserInputError } from '../errors.js';
import { getJob, listJobs, type JobRow, type JobStatus } from '../db/repos/jobs.js';
import { cancelJob as cancelJobTree, submitPipeline } from '../jobs/queue.js';
import { decodeCursor, pageSize, toConnection, type Connection } from './pagination.js';
import { parseId } from './refs.js';
import type { ProvenanceLoaders, ProvenanceRecord } from './provenance.service.js';

export interface JobRecord {
  id: number;
  kind: string;
  status: string;
  config: Record<string, unknown>;
  configHash: string | null;
  pipeline: string | null;
  stage: string | null;
  dependsOn: number[];
  progress: number;
  message: string | null;
  throughput: number | null;
  etaSeconds: number | null;
  logTail: string[];
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  worker: string | null;
  codeVersion: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const toJob = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  config: r.payload,
  configHash: r.config_hash,
  pipeline: r.pipeline,
  stage: r.stage,
  dependsOn: r.depends_on.map(Number),
  progress: r.progress,
  message: r.message,
  throughput: r.throughput,
  etaSeconds: r.eta_seconds,
  logTail: r.log,
  result: r.result,
  error: r.error,
  attempts: r.attempts,
  worker: r.worker,
  codeVersion: r.code_version,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const STATUSES: readonly JobStatus[] = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];

export async function job(pool: pg.Pool, id: string): Promise<JobRecord> {
  const row = await getJob(pool, parseId('job', id));
  if (!row) throw new NotFoundError(`no job ${id}`);
  return toJob(row);
}

export async function jobs(
  pool: pg.Pool,
  filter: { status?: string | null; kind?: string | null; pipeline?: string | null },
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<JobRecord>> {
  const limit = pageSize(first);
  if (filter.status && !STATUSES.includes(filter.status as JobStatus)) throw new UserInputError(`status must be one of ${STATUSES.join(', ')}`);
  const cursor = decodeCursor('jobs', after, 1);
  const rows = await listJobs(pool, { status: filter.status as JobStatus, kind: filter.kind, pipeline: filter.pipeline, beforeId: cursor ? Number(cursor[0]) : null, limit: limit + 1 });
  return toConnection('jobs', rows, limit, (r) => [r.id], (r, c) => ({ cursor: c, node: toJob(r) }));
}

/** Validate and queue one job; a worker (in the server or elsewhere) picks it up within seconds. */
export async function startJob(pool: pg.Pool, kind: string, config: unknown, force = false): Promise<JobRecord> {
  const [row] = await submitPipeline(null, pool, null, [{ kind: kind.toUpperCase(), config }], { force });
  return toJob(row);
}

export async function cancelJob(pool: pg.Pool, id: string): Promise<JobRecord[]> {
  return (await cancelJobTree(null, pool, parseId('job', id))).map(toJob);
}

/** The job that produced a result row (its provenance), or null: made by the CLI outside the queue. */
export async function producingJob(loaders: { provenance: ProvenanceLoaders }, p: ProvenanceRecord): Promise<JobRecord | null> {
  if (p.jobId == null) return null;
  const row = await loaders.provenance.job.load(p.jobId);
  return row ? toJob(row) : null;
}
