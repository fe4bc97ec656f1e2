/**
 * Handing rows to pg-boss (releaseReady) against a real pg-boss: a row holds its delivery's id
 * before pg-boss has the delivery, so a worker that fetches it at once can mark it running; and
 * releasers racing each other (the reaper, a finishing job, a submit) send each row once.
 * CI once saw a row stay `queued` for good: the worker fetched and dropped the delivery before
 * the sender had written its id to the row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, markRunning } from '../../src/db/repos/jobs.js';
import { releaseReady, startQueue, submitPipeline, type Queue, type StageInput } from '../../src/jobs/queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let queue: Queue;

const stage = (seed: number): StageInput => ({
  kind: 'GENERATE_DATASET',
  config: { game: 'othello', games: 4, seed, minMoves: 59, testFraction: 0.5, families: 'board_state', out: `/nonexistent/release-${seed}`, name: `release-${seed}` },
});

async function deliveries(jobId: number): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM pgboss.job WHERE (data->>'jobId')::int = $1`, [jobId]);
  return rows.map((r) => r.id);
}

type Send = Queue['boss']['send'];

/** Runs fn with pg-boss's send replaced (given the real one), then puts the real one back. */
async function withSend(replacement: (real: Send) => Send, fn: () => Promise<void>): Promise<void> {
  const real = queue.boss.send.bind(queue.boss) as Send;
  queue.boss.send = replacement(real);
  try {
    await fn();
  } finally {
    queue.boss.send = real;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  queue = await startQueue(db.pool, { url: db.url });
}, 60_000);

afterAll(async () => {
  await queue?.stop();
  await db?.drop();
});

describe('releasing queued rows to pg-boss', () => {
  it('the row holds the delivery id before the delivery exists, so an immediate fetch can run it', async () => {
    const [row] = await submitPipeline(null, db.pool, 'immediate', [stage(1)]);
    const seenAtSend: (string | null)[] = [];
    const whileWorkerPolls = (send: Send) =>
      (async (name: string, data: object, options: { id?: string }) => {
        seenAtSend.push((await getJob(db.pool, row.id))!.boss_id);
        const id = await send(name, data, options);
        // A worker polling right now: it fetches the delivery before the sender returns.
        const [fetched] = (await queue.boss.fetch<{ jobId: number }>(name))!;
        expect(fetched.id).toBe(id);
        expect(await markRunning(db.pool, fetched.data.jobId, 'test-worker', fetched.id)).toBe(true);
        return id;
      }) as Send;
    await withSend(whileWorkerPolls, async () => {
      expect(await releaseReady(queue)).toBe(1);
    });
    const after = (await getJob(db.pool, row.id))!;
    expect(after.status).toBe('running');
    expect(seenAtSend).toEqual([after.boss_id]);
    expect(await deliveries(row.id)).toEqual([after.boss_id]);
  });

  it('releasers racing each other send each row once', async () => {
    const rows = await submitPipeline(null, db.pool, 'race', [stage(2), stage(3), stage(4)]);
    const sent = await Promise.all([releaseReady(queue), releaseReady(queue), releaseReady(queue), releaseReady(queue)]);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(rows.length);
    for (const r of rows) {
      const boss = (await getJob(db.pool, r.id))!.boss_id;
      expect(await deliveries(r.id)).toEqual([boss]);
    }
  });

  it('a failed send leaves the row to be sent again', async () => {
    const [row] = await submitPipeline(null, db.pool, 'retry-send', [stage(5)]);
    const lostConnection = () =>
      (async () => {
        throw new Error('connection lost');
      }) as Send;
    await withSend(lostConnection, async () => {
      await expect(releaseReady(queue)).rejects.toThrow(/connection lost/);
    });
    expect((await getJob(db.pool, row.id))!.boss_id).toBeNull();
    expect(await releaseReady(queue)).toBe(1);
    expect(await deliveries(row.id)).toEqual([(await getJob(db.pool, row.id))!.boss_id]);
  });
});
