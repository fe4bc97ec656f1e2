import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, migrationStatus, MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

function copyMigrations(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-mig-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('apply from empty, then are idempotent', async () => {
    const files = loadMigrations();
    expect(files.length).toBeGreaterThan(0);
    const first = await migrate(db.pool);
    expect(first).toEqual(files.map((f) => f.version));
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM games`);
    expect(rows[0].n).toBe(2);
    expect(await migrate(db.pool)).toEqual([]);
    const status = await migrationStatus(db.pool);
    expect(status.every((s) => s.state === 'applied')).toBe(true);
  });

  it('are safe to run concurrently (advisory lock)', async () => {
    const fresh = await createTestDatabase({ migrated: false });
    try {
      const results = await Promise.all([migrate(fresh.pool), migrate(fresh.pool), migrate(fresh.pool)]);
      const applied = results.flat();
      // Every migration was applied exactly once across the three runners.
      expect(applied.sort((a, b) => a - b)).toEqual(loadMigrations().map((f) => f.version));
    } finally {
      await fresh.drop();
    }
  });

  it('refuse an edited migration (checksum guard)', async () => {
    const dir = copyMigrations();
    const first = loadMigrations(dir)[0];
    writeFileSync(path.join(dir, first.file), readFileSync(path.join(dir, first.file), 'utf8') + '\n-- edited\n');
    await expect(migrate(db.pool, { dir })).rejects.toThrow(/was edited after it was applied/);
    const status = await migrationStatus(db.pool, { dir });
    expect(status.find((s) => s.version === first.version)?.state).toBe('changed');
  });

  it('refuse an out-of-order migration', async () => {
    const dir = copyMigrations();
    // Version 0 sorts before every applied migration but was never applied.
    writeFileSync(path.join(dir, '0000_late.sql'), 'SELECT 1;');
    await expect(migrate(db.pool, { dir })).rejects.toThrow(/out-of-order/);
  });

  it('roll back a failing migration completely', async () => {
    const dir = copyMigrations();
    const next = Math.max(...loadMigrations(dir).map((m) => m.version)) + 1;
    writeFileSync(
      path.join(dir, `${String(next).padStart(4, '0')}_broken.sql`),
      'CREATE TABLE half_done (id int); SELECT no_such_function();',
    );
    await expect(migrate(db.pool, { dir })).rejects.toThrow(/failed and was rolled back/);
    const { rows } = await db.pool.query(`SELECT to_regclass('half_done') AS t`);
    expect(rows[0].t).toBeNull();
    const status = await migrationStatus(db.pool, { dir });
    expect(status.find((s) => s.version === next)?.state).toBe('pending');
  });
});
