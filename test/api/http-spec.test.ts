/**
 * The GraphQL over HTTP spec's server audits (graphql-http's `serverAudits`), run against the real
 * server over HTTP: every MUST, SHOULD and MAY passes — no errors and no warnings.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('GraphQL over HTTP spec audits', () => {
  let db: TestDatabase;
  let server: RunningServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ pool: db.pool, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('passes every audit with no error and no warning', async () => {
    const audits = serverAudits({ url: server.url, fetchFn: fetch });
    expect(audits.length).toBeGreaterThan(50);
    const results = await Promise.all(audits.map(async (audit) => ({ name: audit.name, result: await audit.fn() })));
    const notOk = results.filter((r) => r.result.status !== 'ok').map((r) => `${r.result.status}: ${r.name}: ${'reason' in r.result ? r.result.reason : ''}`);
    expect(notOk).toEqual([]);
  });

  it('answers GET queries but never runs a mutation over GET', async () => {
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ health }')}`, { headers: { accept: 'application/graphql-response+json' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(await get.json()).toEqual({ data: { health: 'ok' } });
    const mutation = await fetch(`${server.url}?query=${encodeURIComponent('mutation { x }')}`);
    expect(mutation.status).toBe(400);
    expect(((await mutation.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
