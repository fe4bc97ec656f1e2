/**
 * Migration 0011: every result table notifies `saeboard_results` when a write to it commits, so
 * the API's response cache can never keep an answer past a change it did not hear of. A new
 * table without its trigger fails here (call saeboard_watch_results() in its migration).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const NOT_RESULTS = ['jobs', 'api_keys', 'saeboard_migrations', 'saeboard_settings'];

describe('results-changed notifications', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('every table but the bookkeeping ones has its statement-level trigger', async () => {
    const { rows } = await db.pool.query<{ table: string; triggered: boolean }>(`
      SELECT c.relname AS table,
             EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = c.relname || '_results_changed') AS triggered
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY 1`);
    expect(rows.length).toBeGreaterThan(15);
    const missing = rows.filter((r) => !r.triggered && !NOT_RESULTS.includes(r.table)).map((r) => r.table);
    expect(missing).toEqual([]);
    const extra = rows.filter((r) => r.triggered && NOT_RESULTS.includes(r.table)).map((r) => r.table);
    expect(extra).toEqual([]);
    for (const t of ['games', 'datasets', 'saes', 'sae_checkpoints', 'features', 'feature_alignments', 'metric_results', 'sae_evaluations']) {
      expect(rows.find((r) => r.table === t)?.triggered, t).toBe(true);
    }
  });

  it('notifies once per committed transaction, with the table name, and not for a rollback or a job update', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const got: string[] = [];
    listener.on('notification', (m) => got.push(`${m.channel}:${m.payload}`));
    await listener.query('LISTEN saeboard_results');
    try {
      const c = await db.pool.connect();
      try {
        await c.query('BEGIN');
        for (let i = 0; i < 3; i++) await c.query(`UPDATE games SET description = description || '.' WHERE id = 'othello'`);
        await c.query('ROLLBACK');
        await c.query('BEGIN');
        for (let i = 0; i < 3; i++) await c.query(`UPDATE games SET description = description || '!' WHERE id = 'othello'`);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      await db.pool.query(`INSERT INTO jobs (kind, payload, config_hash) VALUES ('EVALUATE', '{}', 'h')`);
      await listener.query('SELECT 1'); // a round trip: notifications sent before it have arrived
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(['saeboard_results:games']);
    } finally {
      await listener.end();
    }
  });
});
