import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { listLmCheckpoints, listProbeResults, upsertLmModel } from '../../src/db/repos/lm.js';
import { registerActivationDir, registerLmCheckpointDir, registerProbeResults } from '../../src/jobs/lm.js';
import { writeActivations } from '../../src/lm/activations.js';
import { saveModelDir, type CheckpointMeta } from '../../src/lm/checkpoint.js';
import { makeConfig } from '../../src/lm/config.js';
import { datasetSequences } from '../../src/lm/dataset.js';
import { Gpt, randomInitHost } from '../../src/lm/model.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { makeOthelloDataset } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-db-'));
let db: TestDatabase;
const cfg = makeConfig({ nLayer: 2, nHead: 2, dModel: 16, nCtx: 59, vocabSize: 61 });
const meta = (name: string, extra: Partial<CheckpointMeta> = {}): CheckpointMeta => ({
  format: 'saeboard-lm/1', name, game: 'othello', tokenizer: 'othello-61', model: cfg, provenance: { kind: 'trained' }, ...extra,
});
const datasetDir = path.join(tmp, 'othello');

beforeAll(async () => {
  await initBackend();
  db = await createTestDatabase();
  await makeOthelloDataset(datasetDir, { games: 8, seed: 1, families: 'none' });
}, 120_000);
afterAll(async () => {
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
});

async function count(table: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

describe('LM registration', () => {
  it('two commands registering the same LM at once get the same row (no duplicate-key error)', async () => {
    const m = { name: `race-${Date.now()}`, game: 'othello', config: { nLayer: 1 }, configHash: 'h-race', origin: 'trained' as const };
    // separate connections, no transaction: the SELECT-then-INSERT window of concurrent commands
    const results = await Promise.all(Array.from({ length: 8 }, () => upsertLmModel(db.pool, m)));
    expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    await expect(upsertLmModel(db.pool, { ...m, configHash: 'other' })).rejects.toThrow(/already registered .* different architecture/);
  });

  it('registers a model and its checkpoints idempotently, merging metrics', async () => {
    const a = path.join(tmp, 'm1-step10');
    await saveModelDir(a, meta('m1', { training: { step: 10, tokensSeen: 590, trainLoss: 3.5, evalLoss: 3.6 } }), randomInitHost(cfg, 1));
    const r1 = await registerLmCheckpointDir(db.pool, a);
    expect(r1.created).toBe(true);
    const again = await registerLmCheckpointDir(db.pool, a, { extraMetrics: { legalMoveRate: 0.5 } });
    expect(again).toEqual({ ...r1, created: false });
    const b = path.join(tmp, 'm1-step20');
    await saveModelDir(b, meta('m1', { training: { step: 20, tokensSeen: 1180, trainLoss: 3.1 } }), randomInitHost(cfg, 2));
    await registerLmCheckpointDir(db.pool, b);
    const ckpts = await listLmCheckpoints(db.pool, r1.modelId);
    expect(ckpts.map((c) => c.step)).toEqual([10, 20]);
    expect(ckpts[0].metrics).toEqual({ trainLoss: 3.5, evalLoss: 3.6, legalMoveRate: 0.5 });
    expect(ckpts[0].weights_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('links a random-init twin to its trained model', async () => {
    const twin = path.join(tmp, 'm1-random');
    await saveModelDir(twin, meta('m1-random', { provenance: { kind: 'random-init', seed: 3, randomInitOf: 'm1' } }), randomInitHost(cfg, 3));
    const r = await registerLmCheckpointDir(db.pool, twin);
    const { rows } = await db.pool.query('SELECT m.origin, t.name AS twin FROM lm_models m JOIN lm_models t ON t.id = m.random_init_of WHERE m.id = $1', [r.modelId]);
    expect(rows[0]).toEqual({ origin: 'random-init', twin: 'm1' });
  });

  it('refuses a different architecture under a registered name, and a broken checkpoint, registering nothing', async () => {
    const before = [await count('lm_models'), await count('lm_checkpoints')];
    const other = path.join(tmp, 'm1-wider');
    const wide = makeConfig({ nLayer: 2, nHead: 2, dModel: 32, nCtx: 59, vocabSize: 61 });
    await saveModelDir(other, { ...meta('m1'), model: wide }, randomInitHost(wide, 1));
    await expect(registerLmCheckpointDir(db.pool, other)).rejects.toThrow(/LM "m1" is already registered .* different architecture/);
    const broken = path.join(tmp, 'broken');
    const w = randomInitHost(cfg, 1);
    delete w['blocks.1.mlp.w_out'];
    await saveModelDir(broken, meta('broken'), w);
    await expect(registerLmCheckpointDir(db.pool, broken)).rejects.toThrow(/missing tensor "blocks\.1\.mlp\.w_out"/);
    writeFileSync(path.join(broken, 'config.json'), JSON.stringify({ ...meta('broken'), model: { ...cfg, nLayer: 'two' } }));
    await expect(registerLmCheckpointDir(db.pool, broken)).rejects.toThrow(/config.json field "model": field "nLayer": .*expected number/);
    expect([await count('lm_models'), await count('lm_checkpoints')]).toEqual(before);
  });

  it('registers activation sets (and their dataset) and probe results', async () => {
    const ck = path.join(tmp, 'm1-step10');
    const model = Gpt.fromHost(cfg, randomInitHost(cfg, 1));
    const out = path.join(tmp, 'acts');
    await writeActivations({ model, layer: 1, site: 'mlp_post', data: await datasetSequences(datasetDir, { split: 'test' }), outDir: out, dtype: 'float16' });
    model.dispose();
    const id = await registerActivationDir(db.pool, out, { checkpointDir: ck, datasetDir });
    const { rows } = await db.pool.query('SELECT site, layer, dtype, n_vectors, d_model FROM activation_sets WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ site: 'mlp_post', layer: 1, dtype: 'float16', n_vectors: 2 * 59, d_model: 64 });
    expect(await count('datasets')).toBe(1);

    const results = [0, 1].map((layer) => ({ layer, site: 'resid_post', family: 'mine_yours', kind: 'softmax' as const, accuracy: 0.5 + layer / 4, f1: null, trainAccuracy: 0.9, baselineAccuracy: 0.4, nTrain: 100, nTest: 50 }));
    expect(await registerProbeResults(db.pool, ck, datasetDir, results, { epochs: 8 })).toBe(2);
    // a rerun with the same config replaces, not duplicates
    await registerProbeResults(db.pool, ck, datasetDir, results.map((r) => ({ ...r, accuracy: 0.9 })), { epochs: 8 });
    const { checkpointId } = await registerLmCheckpointDir(db.pool, ck);
    const stored = await listProbeResults(db.pool, checkpointId);
    expect(stored.map((r) => [r.layer, r.accuracy, r.dataset_id !== null])).toEqual([[0, 0.9, true], [1, 0.9, true]]);
    await expect(registerProbeResults(db.pool, ck, datasetDir, [{ ...results[0], accuracy: 1.5 }], { epochs: 8 })).rejects.toThrow(/accuracy 1\.5 outside/);
  });
});
