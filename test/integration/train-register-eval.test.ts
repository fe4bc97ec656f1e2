/**
 * Across areas: an SAE trained by a sweep and registered in the database is the same row an
 * evaluation of its directory attaches to — training, registration and evaluation agree on the
 * SAE's identity (identity hash) and checkpoint (absolute path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { Rng } from '../../src/sae/rng.js';
import { activationSetSource } from '../../src/sae/source.js';
import { runSweep } from '../../src/sae/sweep.js';
import { resolveSweep } from '../../src/sae/sweepConfig.js';
import { runEvaluation } from '../../src/jobs/eval.js';
import { registerSweepDir } from '../../src/jobs/sae.js';
import { writeActivations } from '../../src/lm/activations.js';
import { loadModelDir } from '../../src/lm/checkpoint.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { makeLm, makeOthelloDataset } from '../eval/fixtures.js';

let db: TestDatabase;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-train-eval-'));
let sweepDir: string;
let datasetDir: string;

beforeAll(async () => {
  await initBackend();
  db = await createTestDatabase();
  datasetDir = await makeOthelloDataset(path.join(tmp, 'data'), 30);
  const lmDir = await makeLm(path.join(tmp, 'lm'), 'othello', 2);
  const { model, meta } = await loadModelDir(lmDir);
  const rng = new Rng(4);
  const data = inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: Int32Array.from({ length: 59 * 20 }, () => 1 + rng.int(60)), length: 59, source: 'random-tokens' });
  const actDir = path.join(tmp, 'acts');
  await writeActivations({ model, layer: 1, data, outDir: actDir, modelInfo: { name: meta.name, dir: lmDir, config: meta.model, tokenizer: meta.tokenizer } });
  model.dispose();
  sweepDir = path.join(tmp, 'sweep');
  const spec = resolveSweep(
    {
      name: 'it-sweep',
      batchSize: 64,
      buffer: { contexts: 10 },
      source: { type: 'activations', path: actDir, repeat: true },
      defaults: { steps: 10, warmupSteps: 1, expansion: 2 },
      trainers: [{ trainer: 'standard', l1Penalty: 0.01 }],
    },
    16,
  );
  await runSweep(spec, await activationSetSource(actDir), { outDir: sweepDir, showProgress: false });
}, 180_000);

afterAll(async () => {
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('train → register → evaluate', () => {
  it('evaluation results land on the checkpoint row that training registered', async () => {
    const reg = await registerSweepDir(db.pool, sweepDir);
    expect(reg.saes).toBe(1);
    const count = async (table: string) => (await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
    const [saes, checkpoints] = [await count('saes'), await count('sae_checkpoints')];
    const finalDir = path.join(sweepDir, 'trainer0', 'final');
    await runEvaluation({ saeDirs: [finalDir], datasetDir, families: 'board_state', maxSampleGames: 5, lmBatchSize: 8, pool: db.pool, exportDir: null });
    expect(await count('saes')).toBe(saes);
    expect(await count('sae_checkpoints')).toBe(checkpoints);
    const { rows } = await db.pool.query(
      `SELECT c.is_final, count(*)::int AS n FROM metric_results m JOIN sae_checkpoints c ON c.id = m.sae_checkpoint_id
       WHERE m.metric = 'coverage' GROUP BY c.is_final`,
    );
    expect(rows).toEqual([{ is_final: true, n: 1 }]);
  });
});
