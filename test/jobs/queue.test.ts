/**
 * The job queue end to end on a clean database: pipelines through pg-boss run by real
 * `saeboard worker` processes; results over GraphQL; bad configs; cancellation; a worker killed
 * with kill -9 mid-sweep whose job another worker resumes; the seed queued once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { getJob, listJobs } from '../../src/db/repos/jobs.js';
import { cancelJob, submitPipeline, type StageInput } from '../../src/jobs/queue.js';
import { queueSeed, SEED_SIZES, seedStages } from '../../src/jobs/seed.js';
import { initBackend } from '../../src/tensor/backend.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { makeLm } from '../eval/fixtures.js';

let db: TestDatabase;
let tmp: string;
let lmDir: string;
const workers: ChildProcess[] = [];

/** A live worker process (started if none is running). */
function ensureWorker(): void {
  if (!workers.some((w) => w.exitCode === null && w.signalCode === null)) startWorkerProcess();
}

function startWorkerProcess(extra: string[] = []): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'worker', ...extra], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: db.url, SAEBOARD_LOG_FORMAT: 'json', SAEBOARD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logFile = createWriteStream(path.join(tmp, `worker-${workers.length}.log`));
  child.stderr!.pipe(logFile);
  workers.push(child);
  return child;
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) {
      const jobs = (await listJobs(db.pool, { limit: 20 })).map((j) => `#${j.id} ${j.kind} ${j.status} ${j.progress} ${j.error ?? ''}`).join('\n');
      const logs = workers.map((_, i) => readFileSync(path.join(tmp, `worker-${i}.log`), 'utf8').split('\n').slice(-8).join('\n')).join('\n---\n');
      throw new Error(`timed out waiting for ${what}\n${jobs}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const finished = (id: number) => async () => {
  const j = await getJob(db.pool, id);
  return j && ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
};

function tinyPipeline(root: string, opts: { steps?: number; trainers?: unknown[]; resumeEverySeconds?: number } = {}): StageInput[] {
  const data = path.join(root, 'data');
  const acts = path.join(root, 'acts');
  const sweep = path.join(root, 'sweep');
  return [
    { kind: 'GENERATE_DATASET', config: { game: 'othello', games: 16, seed: 5, minMoves: 59, testFraction: 0.5, families: 'board_state', out: data, name: `${path.basename(root)}-data` } },
    { kind: 'COLLECT_ACTIVATIONS', config: { model: lmDir, dataset: data, layer: 1, split: 'all', out: acts }, dependsOn: [0] },
    {
      kind: 'TRAIN_SAE_SWEEP',
      config: {
        out: sweep,
        resumeEverySeconds: opts.resumeEverySeconds ?? 60,
        sweep: {
          name: path.basename(root),
          batchSize: 32,
          buffer: { contexts: 8 },
          source: { type: 'activations', path: acts, repeat: true },
          defaults: { steps: opts.steps ?? 12, warmupSteps: 1, expansion: 2 },
          checkpoints: { logSpaced: false, steps: [] },
          trainers: opts.trainers ?? [
            { trainer: 'standard', l1Penalty: 0.01 },
            { trainer: 'top_k', k: 4 },
            { trainer: 'p_anneal', initialSparsityPenalty: 0.01 },
          ],
        },
      },
      dependsOn: [1],
    },
    { kind: 'EVALUATE', config: { saes: [sweep], checkpoints: 'final', dataset: data, activations: acts, unsupervisedVectors: 256, maxSampleGames: 8 }, dependsOn: [0, 2] },
    { kind: 'PROBE', config: { model: lmDir, dataset: data, families: ['board_state'], layers: [0, 1], maxTrain: 200, maxTest: 200, maxEpochs: 3 }, dependsOn: [0] },
  ];
}

beforeAll(async () => {
  await initBackend();
  db = await createTestDatabase();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-queue-'));
  lmDir = await makeLm(path.join(tmp, 'lm'), 'othello', 3);
}, 120_000);

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('job queue', () => {
  it('rejects a pipeline with a bad config before queueing anything', async () => {
    const before = (await listJobs(db.pool, { limit: 1000 })).length;
    const stages = tinyPipeline(path.join(tmp, 'bad'));
    (stages[2].config as { sweep: { batchSize: number } }).sweep.batchSize = -4;
    (stages[0].config as Record<string, unknown>).games = 'many';
    await expect(submitPipeline(null, db.pool, 'bad', stages)).rejects.toThrow(/stage 1 \(GENERATE_DATASET\): invalid GENERATE_DATASET config: games: /);
    await expect(submitPipeline(null, db.pool, 'bad', [{ kind: 'NOPE', config: {} }])).rejects.toThrow(/unknown job kind "NOPE"/);
    expect((await listJobs(db.pool, { limit: 1000 })).length).toBe(before);
  });

  it('runs a pipeline in a worker process; the results are what GraphQL serves', async () => {
    const rows = await submitPipeline(null, db.pool, 'tiny', tinyPipeline(path.join(tmp, 'tiny')));
    expect(rows.map((r) => r.status)).toEqual(['queued', 'waiting', 'waiting', 'waiting', 'waiting']);
    startWorkerProcess();
    const evaluation = await waitFor('the evaluation job', finished(rows[3].id), 180_000);
    expect(evaluation.status, evaluation.error ?? '').toBe('succeeded');
    const probe = await waitFor('the probe job', finished(rows[4].id), 120_000);
    expect(probe.status, probe.error ?? '').toBe('succeeded');
    for (const r of rows) expect((await getJob(db.pool, r.id))!.status).toBe('succeeded');
    const { rows: probes } = await db.pool.query(`SELECT layer, family, accuracy FROM probe_results ORDER BY layer`);
    expect(probes.map((p) => [p.layer, p.family])).toEqual([
      [0, 'board_state'],
      [1, 'board_state'],
    ]);
    expect(probe.result).toMatchObject({ probes: 2 });
    const sweep = (await getJob(db.pool, rows[2].id))!;
    expect(sweep.result).toMatchObject({ saes: 3 });
    const ckptIds = (evaluation.result as { saeCheckpointIds: number[] }).saeCheckpointIds;
    expect(ckptIds).toHaveLength(3);

    // The same pipeline again: every stage reuses its earlier result, no work is queued.
    const again = await submitPipeline(null, db.pool, 'tiny-again', tinyPipeline(path.join(tmp, 'tiny')));
    expect(again.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(again[3].result).toEqual(evaluation.result);
    expect(again[0].message).toMatch(new RegExp(`reused the result of job ${rows[0].id}`));
    const forced = await submitPipeline(null, db.pool, 'tiny-forced', tinyPipeline(path.join(tmp, 'tiny')).slice(0, 1), { force: true });
    expect(forced[0].status).toBe('queued');
    await cancelJob(null, db.pool, forced[0].id);

    const server: RunningServer = await startServer({ pool: db.pool, port: 0 });
    try {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ saes(first: 10) { edges { node { trainer finalCheckpoint { id metrics(metric: "l0") { value } } } } } }` }),
      });
      const { data } = (await res.json()) as { data: { saes: { edges: { node: { trainer: string; finalCheckpoint: { id: string; metrics: { value: number }[] } } }[] } } };
      const nodes = data.saes.edges.map((e) => e.node);
      expect(nodes.map((n) => n.trainer).sort()).toEqual(['p_anneal', 'standard', 'top_k']);
      expect(nodes.map((n) => Number(n.finalCheckpoint.id)).sort()).toEqual([...ckptIds].sort());
      for (const n of nodes) expect(n.finalCheckpoint.metrics[0].value).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  }, 240_000);

  it('cancels a running job within seconds, and what waits on it', async () => {
    ensureWorker();
    const rows = await submitPipeline(null, db.pool, 'long', tinyPipeline(path.join(tmp, 'long'), { steps: 1_000_000, trainers: [{ trainer: 'standard', l1Penalty: 0.01 }] }));
    await waitFor('the sweep to run', async () => (await getJob(db.pool, rows[2].id))!.status === 'running', 120_000);
    await cancelJob(null, db.pool, rows[2].id);
    const t0 = Date.now();
    expect((await getJob(db.pool, rows[3].id))!.status).toBe('cancelled');
    // The worker notices within its poll interval and takes the next job; the SAE is never registered.
    await waitFor('the worker to let go', async () => {
      const { rows: r } = await db.pool.query(`SELECT count(*)::int AS n FROM saes WHERE sweep = 'long'`);
      return r[0].n === 0 && Date.now() - t0 > 3000;
    });
    expect((await getJob(db.pool, rows[2].id))!.status).toBe('cancelled');
  }, 180_000);

  it('a worker killed with kill -9 mid-sweep: another worker resumes the job from its resume point', async () => {
    for (const w of workers) w.kill('SIGKILL');
    const rows = await submitPipeline(null, db.pool, 'crash', tinyPipeline(path.join(tmp, 'crash'), { steps: 40_000, resumeEverySeconds: 0.5, trainers: [{ trainer: 'standard', l1Penalty: 0.01 }] }));
    const first = startWorkerProcess(['--stale-seconds', '3']);
    await waitFor('the sweep to write a resume point', async () => {
      const j = await getJob(db.pool, rows[2].id);
      return j!.status === 'running' && existsSync(path.join(tmp, 'crash', 'sweep', 'resume.json'));
    }, 150_000);
    first.kill('SIGKILL');
    startWorkerProcess(['--stale-seconds', '3']);
    const done = await waitFor('the resumed sweep', finished(rows[3].id), 240_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const sweep = (await getJob(db.pool, rows[2].id))!;
    expect(sweep.status).toBe('succeeded');
    expect(sweep.attempts).toBeGreaterThanOrEqual(2);
    expect((sweep.result as { resumedFrom: number | null }).resumedFrom).toBeGreaterThan(0);
    expect(sweep.log.join('\n')).toMatch(/stopped answering; requeued/);
    // Exactly one SAE row and one final checkpoint: no half-written or duplicate result.
    const { rows: saes } = await db.pool.query(`SELECT count(*)::int AS n FROM saes WHERE sweep = 'crash'`);
    expect(saes[0].n).toBe(1);
  }, 420_000);

  it('queues the seed once per database', async () => {
    const first = await queueSeed(null, db.pool, { home: path.join(tmp, 'home'), size: SEED_SIZES.tiny });
    expect(first?.length).toBe(seedStages(tmp, 'othello', SEED_SIZES.tiny).length);
    expect(await queueSeed(null, db.pool, { home: path.join(tmp, 'home'), size: SEED_SIZES.tiny })).toBeNull();
    for (const r of first!) await cancelJob(null, db.pool, r.id).catch(() => {});
  });
});
