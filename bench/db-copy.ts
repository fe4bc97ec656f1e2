/**
 * Bulk-write throughput: COPY (our writer) vs batched multi-row INSERT (the peer a naive
 * implementation would use), same rows, same table, same transaction discipline.
 * The two run interleaved (A, B, A, B, …), --reps (default 5) each.
 *   npm run bench -- db-copy [--rows 1000000] [--reps 5]
 */
import { COMPARE_REPS, sideSummary, type Bench } from './harness.js';
import { copyRows } from '../src/db/copy.js';
import { withTransaction } from '../src/db/pool.js';
import { scratchDatabase } from './lib/scratch-db.js';

export default async function (h: Bench): Promise<void> {
  const rows = Number(h.option('rows', '1000000'));
  const reps = Number(h.option('reps', String(COMPARE_REPS)));
  const db = await scratchDatabase();
  try {
    await db.pool.query(`CREATE TABLE bench_rows_logged (ckpt int, feature int, bsp int, t smallint, f1 real)`);
    function* gen() {
      for (let i = 0; i < rows; i++) yield [1, i % 4096, (i * 7) % 1900, i % 11, (i % 1000) / 1000];
    }
    const table = 'bench_rows_logged';
    const insertRows = Math.min(rows, 200_000);
    // COPY and the batched INSERT peer interleaved (A, B, A, B, …), reps each after one warm-up round
    const cmp = await h.compare(
      [
        {
          name: 'copy',
          step: async () => {
            await db.pool.query(`TRUNCATE ${table}`);
            await withTransaction(db.pool, (c) => copyRows(c, table, ['ckpt', 'feature', 'bsp', 't', 'f1'], gen()));
          },
        },
        {
          name: 'insert',
          step: async () => {
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
        },
      ],
      { reps, warmup: 1 },
    );
    const copy = cmp.sides.copy;
    const insert = cmp.sides.insert;
    const copyRate = rows / (copy.median / 1000);
    const insertRate = insertRows / (insert.median / 1000);
    h.record('copy-vs-insert', {
      server: db.server,
      rows,
      insertRows,
      copyMsMedian: Math.round(copy.median),
      copy: sideSummary(copy),
      insert: sideSummary(insert),
      copyRowsPerSec: Math.round(copyRate),
      insertRowsPerSec: Math.round(insertRate),
      // rows/s ratio of the medians (the sides write different row counts: INSERT is capped at 200,000)
      speedupVsInsert: Number((copyRate / insertRate).toFixed(2)),
      order: 'interleaved',
      load1Before: cmp.load1Before,
      load1After: cmp.load1After,
      loaded: cmp.loaded,
    });
  } finally {
    await db.close();
  }
}
