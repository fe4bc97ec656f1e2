/**
 * Plain numbered SQL migrations (`migrations/0001_name.sql`) with a small runner:
 * - applied versions are recorded in `saeboard_migrations` with the file's checksum;
 * - each migration runs in its own transaction (all or nothing);
 * - a session advisory lock makes concurrent runners safe (the second waits, then finds nothing to do);
 * - an applied migration whose file changed, or a pending migration older than an applied one
 *   (out of order), is refused instead of silently diverging.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { SaeboardError } from '../errors.js';
import { log } from '../log.js';
import { sha256 } from '../util/hash.js';
import { PROJECT_ROOT } from '../version.js';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');
/** Arbitrary constant identifying saeboard's migration lock among advisory locks. */
const LOCK_KEY = 0x5ae_b0a2d;

export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  version: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'missing-file';
  appliedAt: Date | null;
}

export class MigrationError extends SaeboardError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export function loadMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Map<number, string>();
  return files.map((f) => {
    const m = /^(\d+)_([a-z0-9_\-]+)\.sql$/i.exec(f);
    if (!m) throw new MigrationError(`migration file name "${f}" must look like 0001_description.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new MigrationError(`migrations ${seen.get(version)} and ${f} have the same version ${version}`);
    seen.set(version, f);
    const sql = readFileSync(path.join(dir, f), 'utf8');
    // Normalise line endings so a checkout with CRLF does not look "edited".
    return { version, name: m[2], file: f, sql, checksum: sha256(sql.replace(/\r\n/g, '\n')) };
  });
}

async function ensureTable(client: pg.ClientBase): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS saeboard_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

function check(files: MigrationFile[], applied: AppliedRow[]): MigrationFile[] {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of applied) {
    const f = byVersion.get(row.version);
    if (!f) {
      throw new MigrationError(
        `migration ${row.version} (${row.name}) is applied in the database but missing from ${MIGRATIONS_DIR}: the database is newer than this code`,
      );
    }
    if (f.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${f.file} was edited after it was applied (checksum ${f.checksum.slice(0, 12)} ≠ ${row.checksum.slice(0, 12)}); add a new migration instead`,
      );
    }
  }
  const maxApplied = applied.reduce((m, r) => Math.max(m, r.version), 0);
  const appliedSet = new Set(applied.map((r) => r.version));
  const pending = files.filter((f) => !appliedSet.has(f.version));
  const outOfOrder = pending.find((f) => f.version < maxApplied);
  if (outOfOrder) {
    throw new MigrationError(
      `migration ${outOfOrder.file} is older than the newest applied migration (${maxApplied}) but was never applied: out-of-order migrations are refused`,
    );
  }
  return pending;
}

/** Apply all pending migrations. Returns the versions applied by this call. */
export async function migrate(pool: pg.Pool, opts: { dir?: string } = {}): Promise<number[]> {
  const files = loadMigrations(opts.dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await ensureTable(client);
      const { rows } = await client.query<AppliedRow>('SELECT version, name, checksum, applied_at FROM saeboard_migrations ORDER BY version');
      const pending = check(files, rows);
      const done: number[] = [];
      for (const m of pending) {
        const t0 = Date.now();
        try {
          await client.query('BEGIN');
          await client.query(m.sql);
          await client.query('INSERT INTO saeboard_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw new MigrationError(`migration ${m.file} failed and was rolled back: ${(err as Error).message}`);
        }
        log.info({ migration: m.file, ms: Date.now() - t0 }, 'applied migration');
        done.push(m.version);
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/** Applied / pending / changed state of every migration (for `saeboard db:status`). Never throws on drift. */
export async function migrationStatus(pool: pg.Pool, opts: { dir?: string } = {}): Promise<MigrationStatus[]> {
  const files = loadMigrations(opts.dir);
  const { rows: exists } = await pool.query(`SELECT to_regclass('saeboard_migrations') IS NOT NULL AS ok`);
  const applied: AppliedRow[] = exists[0].ok
    ? (await pool.query<AppliedRow>('SELECT version, name, checksum, applied_at FROM saeboard_migrations')).rows
    : [];
  const byVersion = new Map(applied.map((r) => [r.version, r]));
  const out: MigrationStatus[] = files.map((f) => {
    const row = byVersion.get(f.version);
    return {
      version: f.version,
      name: f.name,
      state: !row ? 'pending' : row.checksum === f.checksum ? 'applied' : 'changed',
      appliedAt: row?.applied_at ?? null,
    };
  });
  for (const row of applied) {
    if (!files.some((f) => f.version === row.version)) {
      out.push({ version: row.version, name: row.name, state: 'missing-file', appliedAt: row.applied_at });
    }
  }
  return out.sort((a, b) => a.version - b.version);
}
