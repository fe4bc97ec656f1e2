/**
 * From a real (tiny, random) LM to the database: activations → sweep → saes / sae_checkpoints
 * rows with LM checkpoint, layer, site and identity hash; unsupervised metrics (incl. loss
 * recovered through the LM) in metric_results keyed by their eval-config hash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { evaluateUnsupervised } from '../../src/sae/evaluate.js';
import { loadSae } from '../../src/sae/interop.js';
import { Rng } from '../../src/sae/rng.js';
import { activationSetSource } from '../../src/sae/source.js';
import { runSweep } from '../../src/sae/sweep.js';
import { resolveSweep } from '../../src/sae/sweepConfig.js';
import { registerSweepDir, storeUnsupervisedMetrics } from '../../src/jobs/sae.js';
import { writeActivations } from '../../src/lm/activations.js';
import { saveModelDir, modelConfigHash, type CheckpointMeta } from '../../src/lm/checkpoint.js';
import { makeConfig } from '../../src/lm/config.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { Gpt } from '../../src/lm/model.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let tmp: string;
let lmDir: string;
let actDir: string;
let sweepDir: string;
let model: Gpt;
let meta: CheckpointMeta;
const data = (() => {
  const rng = new Rng(11);
  return inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: Int32Array.from({ length: 60 * 12 }, () => 1 + rng.int(60)), length: 12, source: 'random-othello-tokens' });
})();

beforeAll(async () => {
  await initBackend();
  db = await createTestDatabase();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sae-register-'));
  const config = makeConfig({ nLayer: 2, nHead: 2, dModel: 16, nCtx: 16, vocabSize: 61 });
  model = Gpt.random(config, 5);
  meta = { format: 'saeboard-lm/1', name: 'tiny-othello', game: 'othello', tokenizer: 'othello-61', model: config, provenance: { kind: 'random-init' } };
  lmDir = path.join(tmp, 'lm');
  await saveModelDir(lmDir, meta, await model.toHost());
  actDir = path.join(tmp, 'acts');
  await writeActivations({ model, layer: 1, data, outDir: actDir, modelInfo: { name: meta.name, dir: lmDir, config, tokenizer: meta.tokenizer } });
  sweepDir = path.join(tmp, 'sweep');
  const spec = resolveSweep(
    {
      name: 'tiny-sweep',
      batchSize: 32,
      buffer: { contexts: 20 },
      source: { type: 'activations', path: actDir, repeat: true },
      defaults: { steps: 20, warmupSteps: 2, expansion: 2 },
      trainers: [{ trainer: 'standard', l1Penalty: [0.01, 0.05] }],
    },
    16,
  );
  await runSweep(spec, await activationSetSource(actDir), { outDir: sweepDir, showProgress: false });
}, 120_000);

afterAll(async () => {
  model?.dispose();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('LM on the fly', () => {
  it('streams the same vectors as the activation set written from the same LM and data', async () => {
    const { lmSource } = await import('../../src/sae/source.js');
    const live = lmSource({ model, data, layer: 1, contextLength: 12, lmBatchSize: 7 });
    const stored = await activationSetSource(actDir);
    expect(live.totalVectors).toBe(stored.totalVectors);
    for (const [start, count] of [[0, 12], [5, 30], [100, 250]]) {
      const a = await live.readVectors(start, count);
      const b = await stored.readVectors(start, count);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      expect(maxDiff).toBeLessThan(1e-5);
    }
    expect(live.lineage?.().layer).toBe(1);
  });
});

describe('registering a sweep', () => {
  it('writes saes and sae_checkpoints with lineage, identity hash and checkpoints', async () => {
    const r = await registerSweepDir(db.pool, sweepDir);
    expect(r).toMatchObject({ saes: 2, checkpoints: 2 * 7 }); // steps 0,1,2,4,8,16 + final
    const { rows: saes } = await db.pool.query(
      `SELECT s.*, c.path AS lm_path, m.config_hash AS lm_hash FROM saes s JOIN lm_checkpoints c ON c.id = s.lm_checkpoint_id JOIN lm_models m ON m.id = c.lm_model_id ORDER BY s.name`,
    );
    expect(saes.map((s) => [s.name, s.trainer, s.dictionary, s.layer, s.site, s.d_in, s.d_sae, s.status, s.sweep])).toEqual([
      ['tiny-sweep/trainer0', 'standard', 'relu', 1, 'resid_post', 16, 32, 'finished', 'tiny-sweep'],
      ['tiny-sweep/trainer1', 'standard', 'relu', 1, 'resid_post', 16, 32, 'finished', 'tiny-sweep'],
    ]);
    expect(saes[0].lm_path).toBe(path.resolve(lmDir));
    expect(saes[0].lm_hash).toBe(modelConfigHash(meta));
    const final = await loadSae(path.join(sweepDir, 'trainer0', 'final'));
    expect(saes[0].config_hash).toBe(final.config.identityHash);
    expect(saes[0].trainer_config_hash).toBe(final.config.configHash);
    expect(saes[0].hyperparameters.l1Penalty).toBe(0.01);
    final.dictionary.dispose();
    const { rows: ck } = await db.pool.query('SELECT step, is_final, tokens_seen, weights_sha256 IS NOT NULL AS hashed FROM sae_checkpoints WHERE sae_id = $1 ORDER BY step', [saes[0].id]);
    expect(ck.map((c) => c.step)).toEqual([0, 1, 2, 4, 8, 16, 20]);
    expect(ck[ck.length - 1]).toMatchObject({ is_final: true, tokens_seen: 640, hashed: true });
    // registering again changes nothing
    const again = await registerSweepDir(db.pool, sweepDir);
    expect(again.saeIds).toEqual(r.saeIds);
    const { rows: n } = await db.pool.query('SELECT count(*)::int AS n FROM sae_checkpoints');
    expect(n[0].n).toBe(14);
  });

  it('stores unsupervised metrics, incl. loss recovered, per eval config', async () => {
    const dir = path.join(sweepDir, 'trainer1', 'final');
    const { dictionary } = await loadSae(dir);
    const source = await activationSetSource(actDir);
    const evalOnce = (seed: number) =>
      evaluateUnsupervised(dictionary, source, {
        nVectors: 200,
        seed,
        lossRecovered: { model, layer: 1, site: 'resid_post', data, contexts: 8, contextLength: 12, lmId: modelConfigHash(meta) },
      });
    const a = await evalOnce(0);
    expect(a.lossRecovered?.contexts).toBe(8);
    const stored = await storeUnsupervisedMetrics(db.pool, dir, a.rows, a.evalConfig, a.evalConfigHash);
    expect(stored.rows).toBe(a.rows.length);
    const q = async () =>
      (await db.pool.query(`SELECT metric, value, eval_config_hash FROM metric_results WHERE sae_checkpoint_id = $1 AND family = '' ORDER BY metric`, [stored.saeCheckpointId])).rows;
    const rows = await q();
    const byName = Object.fromEntries(rows.map((r) => [r.metric, r.value]));
    expect(byName.l0).toBeCloseTo(a.reconstruction.l0, 10);
    expect(byName.frac_recovered).toBeCloseTo(a.lossRecovered!.fracRecovered, 10);
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['frac_variance_explained', 'dead_features', 'feature_density_histogram', 'loss_zero']));
    // the same eval config replaces its rows; another seed is another config
    await storeUnsupervisedMetrics(db.pool, dir, a.rows, a.evalConfig, a.evalConfigHash);
    expect(await q()).toHaveLength(rows.length);
    const b = await evalOnce(1);
    expect(b.evalConfigHash).not.toBe(a.evalConfigHash);
    await storeUnsupervisedMetrics(db.pool, dir, b.rows, b.evalConfig, b.evalConfigHash);
    expect(await q()).toHaveLength(rows.length + b.rows.length);
    dictionary.dispose();
  });

  it('refuses SAEs that have no LM to belong to', async () => {
    const synth = path.join(tmp, 'synth');
    const spec = resolveSweep(
      {
        name: 'synth',
        batchSize: 16,
        buffer: { contexts: 40 },
        source: { type: 'synthetic', dIn: 8, features: 8, active: 2, contexts: 200 },
        defaults: { steps: 3, warmupSteps: 0, expansion: 2 },
        trainers: [{ trainer: 'standard', l1Penalty: 0.1 }],
      },
      null,
    );
    const { openSource } = await import('../../src/sae/source.js');
    await runSweep(spec, await openSource(spec.source), { outDir: synth, showProgress: false });
    await expect(registerSweepDir(db.pool, synth)).rejects.toThrow(/names no LM checkpoint and layer/);
  });
});
