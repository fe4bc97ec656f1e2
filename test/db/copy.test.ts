import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRows, encodeCopyValue } from '../../src/db/copy.js';
import { withTransaction } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('COPY writer', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`CREATE TABLE copy_target (id int PRIMARY KEY, feature int NOT NULL, value real NOT NULL, note text, tags text[], meta jsonb)`);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('writes 100k rows in one transaction', async () => {
    function* rows() {
      for (let i = 0; i < 100_000; i++) yield [i, i % 4096, i / 7, i % 1000 === 0 ? 'tab\there\nnewline \\ back' : null, null, null];
    }
    const n = await withTransaction(db.pool, (c) => copyRows(c, 'copy_target', ['id', 'feature', 'value', 'note', 'tags', 'meta'], rows()));
    expect(n).toBe(100_000);
    const { rows: r } = await db.pool.query(`SELECT count(*)::int AS n, sum(feature)::bigint AS s FROM copy_target`);
    expect(r[0].n).toBe(100_000);
    let expected = 0;
    for (let i = 0; i < 100_000; i++) expected += i % 4096;
    expect(r[0].s).toBe(expected);
    const { rows: esc } = await db.pool.query(`SELECT note FROM copy_target WHERE id = 1000`);
    expect(esc[0].note).toBe('tab\there\nnewline \\ back');
  });

  it('leaves zero rows when a row fails midway', async () => {
    await db.pool.query('TRUNCATE copy_target');
    function* rows() {
      for (let i = 0; i < 50_000; i++) yield [i, i, i === 30_000 ? 'not-a-number' : 1.5, null, null, null];
    }
    await expect(
      withTransaction(db.pool, (c) => copyRows(c, 'copy_target', ['id', 'feature', 'value', 'note', 'tags', 'meta'], rows())),
    ).rejects.toThrow(/invalid input syntax/);
    const { rows: r } = await db.pool.query(`SELECT count(*)::int AS n FROM copy_target`);
    expect(r[0].n).toBe(0);
  });

  it('rolls back rows written earlier in the same transaction when a later COPY fails', async () => {
    await expect(
      withTransaction(db.pool, async (c) => {
        await copyRows(c, 'copy_target', ['id', 'feature', 'value'], [[1, 1, 1], [2, 2, 2]]);
        await copyRows(c, 'copy_target', ['id', 'feature', 'value'], [[1, 1, 1]]); // duplicate key
      }),
    ).rejects.toThrow(/duplicate key/);
    const { rows: r } = await db.pool.query(`SELECT count(*)::int AS n FROM copy_target`);
    expect(r[0].n).toBe(0);
  });

  it('round-trips arrays, JSON, booleans, nulls and non-finite reals', async () => {
    await db.pool.query('TRUNCATE copy_target');
    await withTransaction(db.pool, (c) =>
      copyRows(c, 'copy_target', ['id', 'feature', 'value', 'note', 'tags', 'meta'], [
        [1, 2, Number.NaN, 'a"b', ['x', 'y "z"', null], { k: [1, 2], s: 'tab\t' }],
        [2, 3, Number.POSITIVE_INFINITY, '', [], null],
      ]),
    );
    const { rows } = await db.pool.query(`SELECT * FROM copy_target ORDER BY id`);
    expect(rows[0].value).toBeNaN();
    expect(rows[0].note).toBe('a"b');
    expect(rows[0].tags).toEqual(['x', 'y "z"', null]);
    expect(rows[0].meta).toEqual({ k: [1, 2], s: 'tab\t' });
    expect(rows[1].value).toBe(Number.POSITIVE_INFINITY);
    expect(rows[1].note).toBe('');
    expect(rows[1].tags).toEqual([]);
    expect(encodeCopyValue(true)).toBe('t');
    expect(encodeCopyValue(undefined)).toBe('\\N');
  });

  it('rejects rows of the wrong width with a clear error', async () => {
    await expect(
      withTransaction(db.pool, (c) => copyRows(c, 'copy_target', ['id', 'feature', 'value'], [[1, 2]])),
    ).rejects.toThrow(/row 0 has 2 values, expected 3/);
  });
});
