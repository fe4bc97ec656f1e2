import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  /** Close the pool and drop the database. */
  drop(): Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('dbAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A private database for one test file on the run's server: a clone of the migrated template, or
 * an empty database with `migrated: false` (for migration tests).
 */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `saeboard_t_${inject('dbRunId')}_${randomBytes(4).toString('hex')}`;
  const template = opts.migrated === false ? 'template0' : inject('dbTemplate');
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = withDatabase(inject('dbAdminUrl'), name);
  const pool = createPool(url, { max: 4 });
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
