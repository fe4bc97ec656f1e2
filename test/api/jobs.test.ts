/**
 * Jobs over GraphQL: startJob validates before queueing and needs an API key, jobs/job show what
 * the queue holds, cancelJob cancels a job and what waits on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { createApiKey } from '../../src/services/apikeys.service.js';
import { submitPipeline } from '../../src/jobs/queue.js';
import { initBackend } from '../../src/tensor/backend.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: RunningServer;
let token: string;

async function gql(query: string, variables: Record<string, unknown> = {}, auth = true) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

beforeAll(async () => {
  await initBackend();
  db = await createTestDatabase();
  token = (await createApiKey(db.pool, 'jobs-test')).token;
  server = await startServer({ pool: db.pool, port: 0 });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const START = `mutation($kind: String!, $config: JSON!) { startJob(kind: $kind, config: $config) { id kind status config progress } }`;
const config = { game: 'othello', games: 10, out: '/tmp/saeboard-jobs-api-test' };

describe('jobs over GraphQL', () => {
  it('startJob needs an API key', async () => {
    const r = await gql(START, { kind: 'GENERATE_DATASET', config }, false);
    expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n).toBe(0);
  });

  it('startJob rejects a bad config with every bad field, queueing nothing', async () => {
    const r = await gql(START, { kind: 'GENERATE_DATASET', config: { game: 'go', games: -1 } });
    expect(r.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0].message).toMatch(/game: .*games: .*out: /);
    const unknown = await gql(START, { kind: 'BAKE_CAKE', config: {} });
    expect(unknown.body.errors?.[0].message).toMatch(/unknown job kind "BAKE_CAKE"/);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n).toBe(0);
  });

  it('startJob queues a validated job (defaults filled in), visible through job and jobs', async () => {
    const r = await gql(START, { kind: 'generate_dataset', config });
    expect(r.body.errors).toBeUndefined();
    const job = r.body.data.startJob;
    expect(job).toMatchObject({ kind: 'GENERATE_DATASET', status: 'queued', progress: 0 });
    expect(job.config).toMatchObject({ ...config, seed: 0, testFraction: 0.5, families: 'default' });
    const one = await gql(`query($id: ID!) { job(id: $id) { id status configHash } }`, { id: job.id });
    const [row] = (await db.pool.query('SELECT config_hash FROM jobs WHERE id = $1', [Number(job.id)])).rows;
    expect(one.body.data.job.configHash).toBe(row.config_hash);
    const list = await gql(`{ jobs(filter: { status: "queued" }, first: 10) { edges { node { id kind } } pageInfo { hasNextPage } } }`);
    expect(list.body.data.jobs.edges.map((e: any) => e.node.id)).toContain(job.id);
  });

  it('cancelJob cancels a job and what waits on it', async () => {
    const rows = await submitPipeline(null, db.pool, 'p', [
      { kind: 'GENERATE_DATASET', config: { ...config, out: '/tmp/saeboard-jobs-api-test-2' } },
      { kind: 'COLLECT_ACTIVATIONS', config: { model: 'othello-small', dataset: '/tmp/saeboard-jobs-api-test-2', layer: 1, out: '/tmp/x' }, dependsOn: [0] },
    ]);
    const r = await gql(`mutation($id: ID!) { cancelJob(id: $id) { id status } }`, { id: String(rows[0].id) });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.cancelJob.map((j: any) => j.status)).toEqual(['cancelled', 'cancelled']);
    const page = await gql(`{ jobs(filter: { pipeline: "p" }, first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`);
    const next = await gql(`query($after: String) { jobs(filter: { pipeline: "p" }, first: 1, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }`, { after: page.body.data.jobs.pageInfo.endCursor });
    expect([page.body.data.jobs.edges[0].node.id, next.body.data.jobs.edges[0].node.id]).toEqual([String(rows[1].id), String(rows[0].id)]);
    expect(next.body.data.jobs.pageInfo.hasNextPage).toBe(false);
    expect((await gql(`{ job(id: "999999") { id } }`)).body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('jobUpdated over WebSocket', () => {
  it('pushes each change of a job as Postgres NOTIFYs it', async () => {
    const { createClient } = await import('graphql-ws');
    const { WebSocket } = await import('ws');
    const { updateProgress } = await import('../../src/db/repos/jobs.js');
    const [row] = await submitPipeline(null, db.pool, null, [{ kind: 'GENERATE_DATASET', config: { ...config, out: '/tmp/saeboard-jobs-api-ws' } }]);
    const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const seen: { progress: number; stage: string | null }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ jobUpdated: { id: string; progress: number; stage: string | null } }>(
        { query: `subscription($id: ID!) { jobUpdated(id: $id) { id progress stage } }`, variables: { id: String(row.id) } },
        {
          next: (msg) => {
            if (msg.errors) reject(new Error(msg.errors[0].message));
            seen.push({ progress: msg.data!.jobUpdated.progress, stage: msg.data!.jobUpdated.stage });
            if (msg.data!.jobUpdated.progress >= 0.5) resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    // The subscription is live once the server LISTENs; send updates until the push arrives.
    const other = (await submitPipeline(null, db.pool, null, [{ kind: 'GENERATE_DATASET', config: { ...config, out: '/tmp/saeboard-jobs-api-ws-2' } }]))[0];
    let p = 0;
    const timer = setInterval(() => {
      p = Math.min(0.5, p + 0.25);
      void updateProgress(db.pool, other.id, { progress: 0.9 }); // another job: filtered out
      void updateProgress(db.pool, row.id, { progress: p, stage: `step ${p}` });
    }, 200);
    try {
      await done;
    } finally {
      clearInterval(timer);
      await client.dispose();
    }
    expect(seen.every((s) => s.progress <= 0.5)).toBe(true); // never the other job's 0.9
    expect(seen[seen.length - 1]).toEqual({ progress: 0.5, stage: 'step 0.5' });
  });

  it('refuses queries over WebSocket and unknown keys', async () => {
    const { createClient } = await import('graphql-ws');
    const { WebSocket } = await import('ws');
    const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const err = await new Promise<unknown>((resolve) => client.subscribe({ query: '{ health }' }, { next: () => {}, error: resolve, complete: () => resolve(null) }));
    expect(JSON.stringify(err)).toMatch(/Only subscriptions go over WebSocket/);
    await client.dispose();
    const bad = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer sbk_nope' }, retryAttempts: 0 });
    const closed = await new Promise<unknown>((resolve) => bad.subscribe({ query: 'subscription { jobUpdated { id } }' }, { next: () => {}, error: resolve, complete: () => resolve(null) }));
    expect((closed as { code?: number }).code).toBe(4403);
    await bad.dispose();
  });
});
