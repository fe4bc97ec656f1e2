/**
 * A database filled by saeboard's own pipeline on tiny data, for API tests: an Othello dataset
 * (random legal games, board_state + valid_moves labels) → a tiny GPT → activations → a sweep of
 * three trainers (standard, p-annealing, top-k) with an intermediate and a final checkpoint each →
 * registration → evaluation of every checkpoint (features, alignments, metrics, examples, sparse
 * activations). Takes a few seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/tensor/backend.js';
import { Rng } from '../../src/sae/rng.js';
import { activationSetSource } from '../../src/sae/source.js';
import { runSweep } from '../../src/sae/sweep.js';
import { checkpointDir, finalDir } from '../../src/sae/checkpoint.js';
import { resolveSweep } from '../../src/sae/sweepConfig.js';
import { runEvaluation, type EvalJobResult } from '../../src/jobs/eval.js';
import { registerSweepDir } from '../../src/jobs/sae.js';
import { writeActivations } from '../../src/lm/activations.js';
import { loadModelDir } from '../../src/lm/checkpoint.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { makeLm, makeOthelloDataset } from '../eval/fixtures.js';

export interface EvaluatedDatabase {
  db: TestDatabase;
  tmp: string;
  datasetDir: string;
  lmDir: string;
  sweepDir: string;
  /** Every evaluated checkpoint directory, in evaluation order. */
  checkpointDirs: string[];
  results: EvalJobResult[];
  cleanup(): Promise<void>;
}

export const TINY_SWEEP_TRAINERS = [
  { trainer: 'standard', l1Penalty: 0.01 },
  { trainer: 'p_anneal', initialSparsityPenalty: 0.01 },
  { trainer: 'top_k', k: 4 },
] as const;

export async function makeEvaluatedDatabase(opts: { games?: number; steps?: number } = {}): Promise<EvaluatedDatabase> {
  await initBackend();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-api-db-'));
  const db = await createTestDatabase();
  const datasetDir = await makeOthelloDataset(path.join(tmp, 'data'), opts.games ?? 30);
  const lmDir = await makeLm(path.join(tmp, 'lm'), 'othello', 2);
  const { model, meta } = await loadModelDir(lmDir);
  const rng = new Rng(4);
  const data = inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: Int32Array.from({ length: 59 * 20 }, () => 1 + rng.int(60)), length: 59, source: 'random-tokens' });
  const actDir = path.join(tmp, 'acts');
  await writeActivations({ model, layer: 1, data, outDir: actDir, modelInfo: { name: meta.name, dir: lmDir, config: meta.model, tokenizer: meta.tokenizer } });
  model.dispose();

  const steps = opts.steps ?? 16;
  const sweepDir = path.join(tmp, 'sweep');
  const spec = resolveSweep(
    {
      name: 'api-sweep',
      batchSize: 64,
      buffer: { contexts: 10 },
      source: { type: 'activations', path: actDir, repeat: true },
      defaults: { steps, warmupSteps: 1, expansion: 2 },
      checkpoints: { logSpaced: false, steps: [steps / 2] },
      trainers: TINY_SWEEP_TRAINERS.map((t) => ({ ...t })),
    },
    16,
  );
  await runSweep(spec, await activationSetSource(actDir), { outDir: sweepDir, showProgress: false });
  await registerSweepDir(db.pool, sweepDir);
  const checkpointDirs = spec.saes.flatMap((s) => [checkpointDir(path.join(sweepDir, s.name), steps / 2), finalDir(path.join(sweepDir, s.name))]);
  const results = await runEvaluation({ saeDirs: checkpointDirs, datasetDir, families: 'board_state,valid_moves', maxSampleGames: 5, lmBatchSize: 8, pool: db.pool, exportDir: null });
  return {
    db,
    tmp,
    datasetDir,
    lmDir,
    sweepDir,
    checkpointDirs,
    results,
    async cleanup() {
      await db.drop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
