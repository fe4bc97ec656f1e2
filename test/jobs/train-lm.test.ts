/**
 * TRAIN_LM through the queue with real worker processes: a tiny GPT trained on a generated dataset,
 * the worker killed with kill -9 after a checkpoint, another worker resuming from it; progress
 * (percent, throughput, ETA) on the row; the LM and every checkpoint registered once; an identical
 * config reused; bad configs rejected with one line per field.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, listJobs } from '../../src/db/repos/jobs.js';
import { cancelJob, etaEstimator, submitPipeline, type StageInput } from '../../src/jobs/queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { Workers } from './workers.js';

let db: TestDatabase;
let tmp: string;
let workers: Workers;

function pipeline(root: string, steps: number): StageInput[] {
  const data = path.join(root, 'data');
  return [
    { kind: 'GENERATE_DATASET', config: { game: 'othello', games: 24, seed: 3, testFraction: 0.25, families: 'board_state', out: data, name: `${path.basename(root)}-data` } },
    {
      kind: 'TRAIN_LM',
      config: { game: 'othello', dataset: data, out: path.join(root, 'lm'), name: `${path.basename(root)}-lm`, layers: 1, heads: 2, dModel: 16, steps, batchSize: 4, warmup: 2, evalInterval: 50, evalRows: 4, checkpointInterval: 25 },
      dependsOn: [0],
    },
  ];
}

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-train-lm-'));
  workers = new Workers(db.url, db.pool, tmp);
}, 60_000);

afterAll(async () => {
  workers?.killAll();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('TRAIN_LM job', () => {
  it('rejects a bad config with a readable line per field, queueing nothing', async () => {
    const stages = pipeline(path.join(tmp, 'bad'), 10);
    Object.assign(stages[1].config as Record<string, unknown>, { game: 'go', steps: 0, learningRate: 1 });
    const err = await submitPipeline(null, db.pool, 'bad', stages).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^stage 2 \(TRAIN_LM\): invalid TRAIN_LM config: /);
    expect((err as Error).message).toMatch(/game: /);
    expect((err as Error).message).toMatch(/steps: /);
    expect((err as Error).message).toMatch(/learningRate/);
    expect(await listJobs(db.pool, { limit: 10 })).toHaveLength(0);
  });

  it('cancelling stops training within seconds and registers nothing; the checkpoint stays on disk', async () => {
    const root = path.join(tmp, 'cancel');
    const rows = await submitPipeline(null, db.pool, 'cancel', pipeline(root, 1_000_000));
    workers.start();
    await workers.waitFor('training to run', async () => {
      const j = await getJob(db.pool, rows[1].id);
      return j!.status === 'running' && j!.progress > 0;
    }, 150_000);
    await cancelJob(null, db.pool, rows[1].id);
    // Within seconds the trainer stops (checkpoints every 25 steps would keep appearing otherwise),
    // leaving its resume point on disk; nothing reaches the database.
    const ckpts = () => readdirSync(path.join(root, 'lm')).filter((n) => n.startsWith('ckpt-'));
    await new Promise((r) => setTimeout(r, 4000));
    const after = ckpts();
    expect(after.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 4000));
    expect(ckpts()).toEqual(after);
    const { rows: models } = await db.pool.query(`SELECT count(*)::int AS n FROM lm_models WHERE name = 'cancel-lm'`);
    expect(models[0].n).toBe(0);
    expect((await getJob(db.pool, rows[1].id))!.status).toBe('cancelled');
    workers.killAll();
  }, 240_000);

  it('ETA: from the rate of this attempt, none before there is one', () => {
    let t = 0;
    const eta = etaEstimator(() => t);
    expect(eta.update(0.2)).toBeNull(); // a resumed job starts part-way: no rate yet
    t = 10_000;
    expect(eta.update(0.4)).toBeCloseTo(30, 6); // 0.2 in 10 s, 0.6 left
    t = 20_000;
    expect(eta.update(0.2 + 0.6 * 0.5)).toBeCloseTo(20 * (1 - 0.5) / 0.3, 6);
    expect(eta.update(1)).toBe(0);
  });

  it('a worker killed with kill -9 mid-training: another resumes from the last checkpoint; checkpoints registered once', async () => {
    const root = path.join(tmp, 'crash');
    const steps = 400;
    const rows = await submitPipeline(null, db.pool, 'crash', pipeline(root, steps));
    const first = workers.start(['--stale-seconds', '3']);
    const lmDir = path.join(root, 'lm');
    // Running, past a checkpoint, with throughput and an ETA on the row.
    const running = await workers.waitFor('a checkpoint and progress', async () => {
      const j = await getJob(db.pool, rows[1].id);
      return j!.status === 'running' && existsSync(path.join(lmDir, 'ckpt-00000050')) && j!.throughput && j!.eta_seconds !== null ? j : null;
    }, 150_000);
    first.kill('SIGKILL');
    expect(running.progress).toBeGreaterThan(0);
    expect(running.progress).toBeLessThan(1);
    expect(running.throughput).toBeGreaterThan(0);
    expect(running.eta_seconds).toBeGreaterThan(0);
    // Nothing registered while the run is unfinished.
    const { rows: before } = await db.pool.query(`SELECT count(*)::int AS n FROM lm_models WHERE name = 'crash-lm'`);
    expect(before[0].n).toBe(0);

    workers.start(['--stale-seconds', '3']);
    const done = await workers.finished(rows[1].id, 300_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.log.join('\n')).toMatch(/stopped answering; requeued/);
    const result = done.result as { lmModelId: number; lmCheckpointIds: number[]; steps: number; resumedFrom: number; evalLoss: number };
    expect(result.steps).toBe(steps);
    expect(result.resumedFrom).toBeGreaterThanOrEqual(50);
    expect(result.resumedFrom % 25).toBe(0);
    expect(result.evalLoss).toBeGreaterThan(0);

    const ckptDirs = readdirSync(lmDir).filter((n) => n.startsWith('ckpt-')).sort();
    expect(ckptDirs).toHaveLength(steps / 25);
    const { rows: models } = await db.pool.query(`SELECT id, origin, game FROM lm_models WHERE name = 'crash-lm'`);
    expect(models).toEqual([{ id: result.lmModelId, origin: 'trained', game: 'othello' }]);
    const { rows: ckpts } = await db.pool.query(
      `SELECT c.id, c.step, c.path, d.path AS dataset FROM lm_checkpoints c LEFT JOIN datasets d ON d.id = c.train_dataset_id WHERE lm_model_id = $1 ORDER BY step`,
      [result.lmModelId],
    );
    expect(ckpts.map((c) => Number(c.step))).toEqual(ckptDirs.map((n) => Number(n.slice(5))));
    expect(ckpts.map((c) => Number(c.id))).toEqual(result.lmCheckpointIds);
    expect(ckpts.map((c) => c.path)).toEqual(ckptDirs.map((n) => path.join(lmDir, n)));
    for (const c of ckpts) expect(c.dataset).toBe(path.join(root, 'data'));

    // The same config again: detected, reused, not trained again.
    const again = await submitPipeline(null, db.pool, 'again', pipeline(root, steps));
    expect(again.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(again[1].result).toEqual(done.result);
    expect(again[1].message).toMatch(new RegExp(`reused the result of job ${rows[1].id}`));
  }, 480_000);
});
