/**
 * One Postgres server for the whole test run: the one behind DATABASE_URL (CI machines have one on
 * 127.0.0.1:5432), else an embedded server in a temp directory. A migrated template database is
 * made once; each test file clones it (CREATE DATABASE ... TEMPLATE) so files never share state.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dbAdminUrl: string;
    dbTemplate: string;
    dbRunId: string;
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let embedded: EmbeddedServer | null = null;
  let tmpDir: string | null = null;
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    tmpDir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-test-pg-'));
    chmodSync(tmpDir, 0o755); // as root, the cluster runs as `postgres`, which must reach it
    embedded = await startEmbedded({ dataDir: path.join(tmpDir, 'pg'), ephemeral: true });
    adminUrl = withDatabase(embedded.url, 'postgres');
  }
  const template = `saeboard_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, template), max: 1 });
  pool.on('error', () => {});
  await migrate(pool);
  await pool.end();

  project.provide('dbAdminUrl', adminUrl);
  project.provide('dbTemplate', template);
  project.provide('dbRunId', runId);

  return async () => {
    // Drop everything this run created (test files normally drop their own databases).
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      [`saeboard_t_${runId}_%`, template],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => {});
    await admin.end();
    if (embedded) await embedded.stop();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  };
}
