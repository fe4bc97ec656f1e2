/**
 * Bulk-write throughput: COPY (our writer) vs batched multi-row INSERT (the peer a naive
 * implementation would use), same rows, same table, same transaction discipline.
 *   npm run bench -- db-copy [--rows 1000000]
 */
import type { Bench } from './harness.js';
import { copyRows } from '../src/db/copy.js';
import { withTransaction } from '../src/db/pool.js';
import { scratchDatabase } from './lib/scratch-db.js';

export default async function (h: Bench): Promise<void> {
  const rows = Number(h.option('rows', '1000000'));
  const db = await scratchDatabase();
  try {
    await db.pool.query(`CREATE TABLE bench_rows_logged (ckpt int, feature int, bsp int, t smallint, f1 real)`);
    function* gen() {
      for (let i = 0; i < rows; i++) yield [1, i % 4096, (i * 7) % 1900, i % 11, (i % 1000) / 1000];
    }
    for (const table of ['bench_rows_logged']) {
      const copy = await h.time(
        async () => {
          await db.pool.query(`TRUNCATE ${table}`);
          await withTransaction(db.pool, (c) => copyRows(c, table, ['ckpt', 'feature', 'bsp', 't', 'f1'], gen()));
        },
        { reps: 3, warmup: 1 },
      );
      const insertRows = Math.min(rows, 200_000);
      const insert = await h.time(
        async () => {
          await db.pool.query(`TRUNCATE ${table}`);
          await withTransaction(db.pool, async (c) => {
            const batch = 1000;
            for (let start = 0; start < insertRows; start += batch) {
              const values: number[] = [];
              const ph: string[] = [];
              for (let i = start; i < Math.min(start + batch, insertRows); i++) {
                const b = values.length;
                ph.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5})`);
                values.push(1, i % 4096, (i * 7) % 1900, i % 11, (i % 1000) / 1000);
              }
              await c.query(`INSERT INTO ${table} VALUES ${ph.join(',')}`, values);
            }
          });
        },
        { reps: 2, warmup: 0 },
      );
      const copyRate = rows / (copy.median / 1000);
      const insertRate = insertRows / (insert.median / 1000);
      h.record('copy-vs-insert', {
        server: db.server,
        rows,
        copyMsMedian: Math.round(copy.median),
        copyRowsPerSec: Math.round(copyRate),
        insertRowsPerSec: Math.round(insertRate),
        speedupVsInsert: Number((copyRate / insertRate).toFixed(2)),
      });
    }
  } finally {
    await db.close();
  }
}
