/**
 * The API's pool (createApiPool, what `saeboard serve` and bench/api-scale give the server): every
 * session it opens has the statement timeout and JIT off, whichever connection of the pool runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiPool } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('createApiPool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('opens sessions with JIT off and the statement timeout, on every connection', async () => {
    const pool = createApiPool(db.url, { max: 3, statementTimeoutMs: 1234 });
    try {
      // Three at once, so three connections answer.
      const rows = await Promise.all(
        [0, 1, 2].map(async () => (await pool.query<{ jit: string; timeout: string; pid: number }>(`SELECT current_setting('jit') AS jit, current_setting('statement_timeout') AS timeout, pg_backend_pid() AS pid, pg_sleep(0.05)`)).rows[0]),
      );
      expect(new Set(rows.map((r) => r.pid)).size).toBe(3);
      for (const r of rows) expect([r.jit, r.timeout]).toEqual(['off', '1234ms']);
    } finally {
      await pool.end();
    }
  });
});
