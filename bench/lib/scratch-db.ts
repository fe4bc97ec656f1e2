import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbedded } from '../../src/db/embedded.js';
import { createPool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';

export interface ScratchDb {
  pool: pg.Pool;
  url: string;
  /** "postgres 15 at DATABASE_URL" or "embedded postgres 17". */
  server: string;
  close(): Promise<void>;
}

/**
 * A migrated, throw-away database for a benchmark: on the server behind DATABASE_URL when set,
 * else on an embedded server in a temp directory. Dropped on close.
 */
export async function scratchDatabase(): Promise<ScratchDb> {
  let adminUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | null = null;
  let tmp: string | null = null;
  if (!adminUrl) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-pg-'));
    chmodSync(tmp, 0o755);
    const e = await startEmbedded({ dataDir: path.join(tmp, 'pg'), ephemeral: true });
    stopEmbedded = () => e.stop();
    adminUrl = e.url.replace(/\/saeboard$/, '/postgres');
  }
  const name = `saeboard_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const pool = createPool(u.toString(), { max: 8 });
  await migrate(pool);
  const { rows } = await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
  return {
    pool,
    url: u.toString(),
    server: `${stopEmbedded ? 'embedded' : 'DATABASE_URL'} PostgreSQL ${rows[0].v}`,
    async close() {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      if (stopEmbedded) await stopEmbedded();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** An already filled database (a bench's `--keep-db` left it); close() only ends the pool, never drops it. */
export function existingDatabase(url: string): ScratchDb {
  const pool = createPool(url, { max: 8 });
  return {
    pool,
    url,
    server: 'existing database',
    close: () => pool.end(),
  };
}
