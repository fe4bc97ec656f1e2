/**
 * Migration 0013's summaries, kept by triggers: board_properties.best_f1 (best F1 of any feature
 * of a final checkpoint per property) and sae_current_metrics (newest metric rows of each SAE's
 * current checkpoint). After the real pipeline's writes and after every other kind of write —
 * re-evaluation, a checkpoint made final or not, deleted checkpoints and SAEs, truncation, racing
 * writers — each must equal what independent SQL computes from the base tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { makeEvaluatedDatabase, type EvaluatedDatabase } from '../helpers/evaluated-db.js';

let e: EvaluatedDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  e = await makeEvaluatedDatabase();
  pool = e.db.pool;
}, 120_000);

afterAll(async () => {
  await e?.cleanup();
});

/** board_properties.best_f1 against max(f1) over final checkpoints' rank-0 rows, for every property. */
async function bestF1Mismatches(): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT bp.id, bp.best_f1, x.f1 AS expected
     FROM board_properties bp
     LEFT JOIN (SELECT b.bsp_id, max(b.f1) AS f1 FROM feature_bsp_best b JOIN sae_checkpoints c ON c.id = b.sae_checkpoint_id
                WHERE c.is_final AND b.rank = 0 GROUP BY b.bsp_id) x ON x.bsp_id = bp.id
     WHERE bp.best_f1 IS DISTINCT FROM x.f1`,
  );
  return rows;
}

/** sae_current_metrics against the newest row per (metric, family) of each SAE's final-else-newest checkpoint. */
async function metricMismatches(): Promise<unknown[]> {
  const expected = `SELECT DISTINCT ON (c.sae_id, m.metric, m.family) c.sae_id, m.metric, m.family, c.id AS sae_checkpoint_id, c.is_final, m.value, m.eval_config_hash
     FROM (SELECT DISTINCT ON (sae_id) id, sae_id, is_final FROM sae_checkpoints ORDER BY sae_id, is_final DESC, step DESC) c
     JOIN metric_results m ON m.sae_checkpoint_id = c.id
     ORDER BY c.sae_id, m.metric, m.family, m.created_at DESC, m.id DESC`;
  const actual = 'SELECT sae_id, metric, family, sae_checkpoint_id, is_final, value, eval_config_hash FROM sae_current_metrics';
  const { rows } = await pool.query(`((${expected}) EXCEPT (${actual})) UNION ALL ((${actual}) EXCEPT (${expected}))`);
  return rows;
}

async function expectSummariesTrue(): Promise<void> {
  expect(await bestF1Mismatches()).toEqual([]);
  expect(await metricMismatches()).toEqual([]);
}

describe('API summaries (migration 0013)', () => {
  it('hold after the pipeline wrote its evaluations', async () => {
    const { rows } = await pool.query<{ n: number; m: number }>(
      `SELECT (SELECT count(*)::int FROM board_properties WHERE best_f1 IS NOT NULL) AS n, (SELECT count(*)::int FROM sae_current_metrics) AS m`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
    expect(rows[0].m).toBeGreaterThan(0);
    await expectSummariesTrue();
  });

  it('follow a final checkpoint that stops being final, and one that becomes final', async () => {
    const { rows } = await pool.query<{ id: number; sae_id: number }>(`SELECT id, sae_id FROM sae_checkpoints WHERE is_final ORDER BY id LIMIT 1`);
    const [{ id, sae_id }] = rows;
    await pool.query('UPDATE sae_checkpoints SET is_final = false WHERE id = $1', [id]);
    await expectSummariesTrue();
    const { rows: other } = await pool.query<{ id: number }>(`SELECT id FROM sae_checkpoints WHERE sae_id = $1 AND id <> $2 ORDER BY step LIMIT 1`, [sae_id, id]);
    await pool.query('UPDATE sae_checkpoints SET is_final = true WHERE id = $1', [other[0].id]);
    await expectSummariesTrue();
    await pool.query('UPDATE sae_checkpoints SET is_final = false WHERE id = $1', [other[0].id]);
    await pool.query('UPDATE sae_checkpoints SET is_final = true WHERE id = $1', [id]);
    await expectSummariesTrue();
  });

  it('follow metric rows replaced, updated and added', async () => {
    const { rows } = await pool.query<{ sae_checkpoint_id: number }>(`SELECT sae_checkpoint_id FROM sae_current_metrics WHERE is_final LIMIT 1`);
    const ckpt = rows[0].sae_checkpoint_id;
    await pool.query(`UPDATE metric_results SET value = value + 1 WHERE sae_checkpoint_id = $1`, [ckpt]);
    await expectSummariesTrue();
    await pool.query(
      `INSERT INTO metric_results (sae_checkpoint_id, metric, family, value, eval_config, eval_config_hash, code_version)
       VALUES ($1, 'l0', '', 123.5, '{}', 'another-config', 'test')`,
      [ckpt],
    );
    await expectSummariesTrue();
    expect((await pool.query(`SELECT value FROM sae_current_metrics WHERE sae_checkpoint_id = $1 AND metric = 'l0'`, [ckpt])).rows).toEqual([{ value: 123.5 }]);
    await pool.query(`DELETE FROM metric_results WHERE sae_checkpoint_id = $1 AND eval_config_hash = 'another-config'`, [ckpt]);
    await expectSummariesTrue();
  });

  it('follow a new checkpoint that becomes an SAE’s current one (its metrics leave with the old one)', async () => {
    const { rows } = await pool.query<{ sae_id: number; sae_checkpoint_id: number }>(`SELECT sae_id, sae_checkpoint_id FROM sae_current_metrics WHERE is_final LIMIT 1`);
    const [{ sae_id, sae_checkpoint_id }] = rows;
    await pool.query('UPDATE sae_checkpoints SET is_final = false WHERE id = $1', [sae_checkpoint_id]);
    const { rows: added } = await pool.query<{ id: number }>(
      `INSERT INTO sae_checkpoints (sae_id, step, path) SELECT $1, max(step) + 1, '/new-ckpt' FROM sae_checkpoints WHERE sae_id = $1 RETURNING id`,
      [sae_id],
    );
    await expectSummariesTrue();
    expect((await pool.query('SELECT 1 FROM sae_current_metrics WHERE sae_id = $1', [sae_id])).rows).toEqual([]);
    await pool.query('DELETE FROM sae_checkpoints WHERE id = $1', [added[0].id]);
    await pool.query('UPDATE sae_checkpoints SET is_final = true WHERE id = $1', [sae_checkpoint_id]);
    await expectSummariesTrue();
  });

  it('follow feature_bsp_best rows replaced by a re-evaluation', async () => {
    const { rows } = await pool.query<{ id: number }>(`SELECT id FROM sae_checkpoints WHERE is_final ORDER BY id DESC LIMIT 1`);
    const ckpt = rows[0].id;
    await pool.query(`UPDATE feature_bsp_best SET f1 = least(1, f1 + 0.5) WHERE sae_checkpoint_id = $1`, [ckpt]);
    await expectSummariesTrue();
    await pool.query(`DELETE FROM feature_bsp_best WHERE sae_checkpoint_id = $1`, [ckpt]);
    await expectSummariesTrue();
  });

  it('are safe under racing writers on the same properties (no deadlock, no stale best)', async () => {
    const { rows: ckpts } = await pool.query<{ id: number }>(`SELECT id FROM sae_checkpoints WHERE is_final ORDER BY id LIMIT 2`);
    const { rows: bsps } = await pool.query<{ id: number }>(`SELECT id FROM board_properties ORDER BY id LIMIT 40`);
    const ids = bsps.map((b) => b.id);
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      // Opposite orders, one row per statement: each statement's trigger locks what it touches.
      const write = async (c: pg.PoolClient, ckpt: number, order: number[], f1: number) => {
        for (const id of order) {
          await c.query(
            `INSERT INTO feature_bsp_best (sae_checkpoint_id, bsp_id, feature_index, rank, threshold_index, threshold, tp, fp, fn, precision, recall, f1)
             VALUES ($1, $2, 999, 0, 0, 0, 1, 0, 0, 1, 1, $3)
             ON CONFLICT (sae_checkpoint_id, bsp_id, rank) DO UPDATE SET f1 = EXCLUDED.f1`,
            [ckpt, id, f1],
          );
        }
      };
      await Promise.all([
        write(a, ckpts[0].id, ids, 0.97).then(() => a.query('COMMIT')),
        write(b, ckpts[1].id, [...ids].reverse(), 0.98).then(() => b.query('COMMIT')),
      ]);
    } finally {
      a.release();
      b.release();
    }
    const { rows } = await pool.query<{ best_f1: number }>(`SELECT best_f1 FROM board_properties WHERE id = ANY($1::int[])`, [ids]);
    expect(rows.map((r) => r.best_f1)).toEqual(ids.map(() => 0.98));
    await expectSummariesTrue();
  });

  it('follow deleted checkpoints and SAEs, and a truncated feature_bsp_best', async () => {
    const { rows } = await pool.query<{ id: number; sae_id: number }>(`SELECT id, sae_id FROM sae_checkpoints WHERE is_final ORDER BY id LIMIT 1`);
    await pool.query('DELETE FROM sae_checkpoints WHERE id = $1', [rows[0].id]);
    await expectSummariesTrue();
    const { rows: saes } = await pool.query<{ id: number }>(`SELECT id FROM saes ORDER BY id DESC LIMIT 1`);
    await pool.query('DELETE FROM saes WHERE id = $1', [saes[0].id]);
    await expectSummariesTrue();
    expect((await pool.query('SELECT 1 FROM sae_current_metrics WHERE sae_id = $1', [saes[0].id])).rows).toEqual([]);
    await pool.query('TRUNCATE feature_bsp_best');
    await expectSummariesTrue();
    expect((await pool.query('SELECT count(*)::int AS n FROM board_properties WHERE best_f1 IS NOT NULL')).rows[0].n).toBe(0);
  });
});
