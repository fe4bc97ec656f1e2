/**
 * Provenance (migration 0009): a whole pipeline run by a worker process — dataset, LM trained by
 * TRAIN_LM, activations, SAE sweep, evaluation, probes — and every result row records the job that
 * produced it, its config hash, seed, code version and input hashes; GraphQL serves them as
 * `provenance`. A row registered outside the queue (the CLI's path) has no job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/server.js';
import { registerDatasetDir } from '../../src/jobs/datasets.js';
import { adapterFor, othelloRandomSource, resolveFamilies, writeDataset } from '../../src/games/dataset/index.js';
import { submitPipeline, type StageInput } from '../../src/jobs/queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { Workers } from './workers.js';

let db: TestDatabase;
let tmp: string;
let workers: Workers;

function stages(root: string): StageInput[] {
  const data = path.join(root, 'data');
  const lm = path.join(root, 'lm');
  const acts = path.join(root, 'acts');
  const sweep = path.join(root, 'sweep');
  return [
    { kind: 'GENERATE_DATASET', config: { game: 'othello', games: 16, seed: 7, minMoves: 59, testFraction: 0.5, families: 'board_state', out: data, name: 'prov-data' } },
    { kind: 'TRAIN_LM', config: { game: 'othello', dataset: data, out: lm, name: 'prov-lm', layers: 2, heads: 2, dModel: 16, steps: 6, batchSize: 4, warmup: 1, evalInterval: 3, evalRows: 4, checkpointInterval: 3, seed: 11 }, dependsOn: [0] },
    { kind: 'COLLECT_ACTIVATIONS', config: { model: path.join(lm, 'ckpt-00000006'), dataset: data, layer: 1, split: 'all', out: acts }, dependsOn: [1] },
    {
      kind: 'TRAIN_SAE_SWEEP',
      config: {
        out: sweep,
        sweep: {
          name: 'prov',
          batchSize: 32,
          buffer: { contexts: 8 },
          source: { type: 'activations', path: acts, repeat: true },
          defaults: { steps: 8, warmupSteps: 1, expansion: 2, seed: 5 },
          checkpoints: { logSpaced: false, steps: [] },
          trainers: [{ trainer: 'standard', l1Penalty: 0.01 }],
        },
      },
      dependsOn: [2],
    },
    { kind: 'EVALUATE', config: { saes: [sweep], checkpoints: 'final', dataset: data, activations: acts, unsupervisedVectors: 256, maxSampleGames: 8 }, dependsOn: [0, 3] },
    { kind: 'PROBE', config: { model: path.join(lm, 'ckpt-00000006'), dataset: data, families: ['board_state'], layers: [1], maxTrain: 100, maxTest: 100, maxEpochs: 2 }, dependsOn: [1] },
  ];
}

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-provenance-'));
  workers = new Workers(db.url, db.pool, tmp);
}, 60_000);

afterAll(async () => {
  workers?.killAll();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('provenance', () => {
  it('every result row records the job that made it, its config hash, seed, code version and input hashes; GraphQL serves it', async () => {
    const rows = await submitPipeline(null, db.pool, 'prov', stages(path.join(tmp, 'run')));
    workers.start();
    for (const r of rows) {
      const j = await workers.finished(r.id, 240_000);
      expect(j.status, `${j.kind}: ${j.error ?? ''}`).toBe('succeeded');
    }
    const [gen, train, collect, sweep, evaluate, probe] = rows.map((r) => r.id);
    const q = async (sql: string) => (await db.pool.query(sql)).rows;

    const [ds] = await q(`SELECT id, job_id, config_hash, seed, manifest_sha256, input_hashes FROM datasets WHERE name = 'prov-data'`);
    expect(ds).toMatchObject({ job_id: gen, seed: 7 });
    expect(ds.config_hash).toMatch(/^[0-9a-f]{64}$/);

    const [model] = await q(`SELECT id, job_id, code_version FROM lm_models WHERE name = 'prov-lm'`);
    expect(model.job_id).toBe(train);
    expect(model.code_version).toBeTruthy();
    const ckpts = await q(`SELECT id, step, job_id, seed, config, config_hash, weights_sha256, input_hashes FROM lm_checkpoints WHERE lm_model_id = ${model.id} ORDER BY step`);
    expect(ckpts.map((c) => [Number(c.step), c.job_id, Number(c.seed)])).toEqual([
      [3, train, 11],
      [6, train, 11],
    ]);
    for (const c of ckpts) {
      expect(c.input_hashes).toEqual({ weights: c.weights_sha256, trainDatasetManifest: ds.manifest_sha256 });
      expect((c.config as { training: { steps: number } }).training.steps).toBe(6);
      expect(c.config_hash).toMatch(/^[0-9a-f]{64}$/);
    }

    const [acts] = await q(`SELECT id, job_id, config_hash, input_hashes FROM activation_sets`);
    expect(acts.job_id).toBe(collect);
    expect(acts.input_hashes).toEqual({ lmWeights: ckpts[1].weights_sha256, datasetManifest: ds.manifest_sha256 });

    const [sae] = await q(`SELECT id, job_id, seed, input_hashes FROM saes WHERE sweep = 'prov'`);
    expect(sae).toMatchObject({ job_id: sweep, seed: 5 });
    expect(sae.input_hashes).toMatchObject({ lmWeights: ckpts[1].weights_sha256, activationSet: acts.config_hash });
    const [saeCkpt] = await q(`SELECT id, job_id, seed, config_hash, code_version, weights_sha256, input_hashes FROM sae_checkpoints WHERE sae_id = ${sae.id} AND is_final`);
    expect(saeCkpt).toMatchObject({ job_id: sweep, seed: 5 });
    expect(saeCkpt.input_hashes).toEqual({ weights: saeCkpt.weights_sha256 });

    const evals = await q(`SELECT job_id, input_hashes FROM sae_evaluations WHERE sae_checkpoint_id = ${saeCkpt.id}`);
    expect(evals).toEqual([{ job_id: evaluate, input_hashes: { saeWeights: saeCkpt.weights_sha256, datasetManifest: ds.manifest_sha256 } }]);
    const metricJobs = await q(`SELECT DISTINCT job_id FROM metric_results WHERE sae_checkpoint_id = ${saeCkpt.id}`);
    expect(metricJobs).toEqual([{ job_id: evaluate }]);
    const probes = await q(`SELECT job_id, input_hashes FROM probe_results`);
    expect(probes).toEqual([{ job_id: probe, input_hashes: { lmWeights: ckpts[1].weights_sha256, datasetManifest: ds.manifest_sha256 } }]);

    // Outside the queue (the CLI's path): no job, the rest still filled.
    const cliDir = path.join(tmp, 'cli-data');
    const adapter = adapterFor('othello');
    await writeDataset({ out: cliDir, adapter, families: resolveFamilies(adapter, 'none'), source: othelloRandomSource({ games: 4, seed: 3 }), showProgress: false });
    const cli = await registerDatasetDir(db.pool, cliDir, { verify: false });
    const [cliRow] = await q(`SELECT job_id, seed, config_hash FROM datasets WHERE id = ${cli.dataset.id}`);
    expect(cliRow).toMatchObject({ job_id: null, seed: 3 });

    const server = await startServer({ pool: db.pool, port: 0 });
    try {
      const prov = 'provenance { job { id kind } configHash seed codeVersion inputHashes }';
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `{
            datasets { name ${prov} }
            languageModel(ref: "prov-lm") { ${prov} checkpoints { step ${prov} probeResults { ${prov} } activationSets { ${prov} } } }
            saes(first: 5) { edges { node { ${prov} finalCheckpoint { ${prov} metrics { ${prov} } evaluations { ${prov} } } } } }
          }`,
        }),
      });
      const body = (await res.json()) as { data: any; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      const d = body.data;
      const byName = Object.fromEntries(d.datasets.map((x: any) => [x.name, x.provenance]));
      expect(byName['prov-data']).toMatchObject({ job: { id: String(gen), kind: 'GENERATE_DATASET' }, seed: 7, configHash: ds.config_hash });
      expect(byName['cli-data']).toMatchObject({ job: null, seed: 3 });
      expect(d.languageModel.provenance.job).toEqual({ id: String(train), kind: 'TRAIN_LM' });
      const last = d.languageModel.checkpoints.find((c: any) => c.step === 6);
      expect(last.provenance).toMatchObject({ job: { kind: 'TRAIN_LM' }, seed: 11, inputHashes: { weights: ckpts[1].weights_sha256 } });
      expect(last.provenance.codeVersion).toBeTruthy();
      expect(last.probeResults[0].provenance.job).toEqual({ id: String(probe), kind: 'PROBE' });
      expect(last.activationSets[0].provenance.job).toEqual({ id: String(collect), kind: 'COLLECT_ACTIVATIONS' });
      const node = d.saes.edges[0].node;
      expect(node.provenance).toMatchObject({ job: { kind: 'TRAIN_SAE_SWEEP' }, seed: 5 });
      expect(node.finalCheckpoint.provenance.job.kind).toBe('TRAIN_SAE_SWEEP');
      expect(node.finalCheckpoint.evaluations[0].provenance).toMatchObject({ job: { kind: 'EVALUATE' }, inputHashes: { saeWeights: saeCkpt.weights_sha256 } });
      for (const m of node.finalCheckpoint.metrics) expect(m.provenance.job.kind).toBe('EVALUATE');
    } finally {
      await server.close();
    }
  }, 400_000);
});
