/**
 * Pipelines from LM files to the database: checkpoints (lm_models + lm_checkpoints), activation
 * directories (activation_sets) and probe results (probe_results). Everything is read and checked
 * before the first write, and each registration is one transaction: a bad file registers nothing.
 */
import path from 'node:path';
import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import {
  findDatasetIdByPath,
  findLmModelByName,
  insertActivationSet,
  upsertLmCheckpoint,
  upsertLmModel,
  upsertProbeResults,
  type LmOrigin,
  type ProbeResultInput,
} from '../db/repos/lm.js';
import { UserInputError } from '../errors.js';
import { readActivationManifest } from '../lm/activations.js';
import { loadModelDir, modelConfigHash, readMeta } from '../lm/checkpoint.js';
import { configHash, fileSha256 } from '../util/hash.js';
import { codeVersionString } from '../version.js';

function originOf(kind: unknown): LmOrigin {
  if (kind === 'trained' || kind === 'imported' || kind === 'random-init') return kind;
  return 'imported';
}

export interface RegisterCheckpointOptions {
  origin?: LmOrigin;
  /** Dataset the model was trained on; linked when that dataset is registered. */
  datasetPath?: string;
  /** Merged into the checkpoint's metrics (e.g. held-out loss, legal-move rate). */
  extraMetrics?: Record<string, unknown>;
}

/**
 * Register a checkpoint directory (config.json + model.safetensors). The weights are loaded and
 * checked against the config first, so a broken checkpoint never reaches the database.
 */
export async function registerLmCheckpointDir(
  pool: pg.Pool,
  dir: string,
  opts: RegisterCheckpointOptions = {},
): Promise<{ modelId: number; checkpointId: number; created: boolean }> {
  const { model, meta } = await loadModelDir(dir); // full validation: names, shapes, finiteness
  model.dispose();
  const weightsSha256 = await fileSha256(path.join(dir, 'model.safetensors'));
  const absDir = path.resolve(dir);
  const origin = opts.origin ?? originOf(meta.provenance.kind);
  const training = meta.training ?? {};
  const metrics: Record<string, unknown> = {
    ...(training.trainLoss != null ? { trainLoss: training.trainLoss } : {}),
    ...(training.evalLoss != null ? { evalLoss: training.evalLoss } : {}),
    ...(meta.metrics ?? {}),
    ...(opts.extraMetrics ?? {}),
  };
  const seedOf = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : null);
  const options = (training.options ?? null) as Record<string, unknown> | null;
  const config = { provenance: meta.provenance, training: options };
  const seed = seedOf(options?.seed) ?? seedOf(meta.provenance.seed);
  const importedFile = typeof meta.provenance.sha256 === 'string' ? { importedFile: meta.provenance.sha256 } : ({} as Record<string, string>);
  return withTransaction(pool, async (client) => {
    let randomInitOf: number | null = null;
    const twin = meta.provenance.randomInitOf;
    if (typeof twin === 'string') randomInitOf = (await findLmModelByName(client, twin))?.id ?? null;
    const { row, created } = await upsertLmModel(client, {
      name: meta.name,
      game: meta.game,
      config: { ...meta.model, tokenizer: meta.tokenizer },
      configHash: modelConfigHash(meta),
      origin,
      randomInitOf,
      description: typeof meta.provenance.description === 'string' ? meta.provenance.description : null,
      codeVersion: codeVersionString(),
      seed,
    });
    const trainDatasetPath = opts.datasetPath ?? (typeof meta.provenance.dataset === 'string' ? meta.provenance.dataset : undefined);
    const trainDatasetId = trainDatasetPath ? await findDatasetIdByPath(client, path.resolve(trainDatasetPath)) : null;
    const ckpt = await upsertLmCheckpoint(client, {
      lmModelId: row.id,
      step: typeof training.step === 'number' ? training.step : 0,
      tokensSeen: typeof training.tokensSeen === 'number' ? training.tokensSeen : 0,
      path: absDir,
      weightsSha256,
      trainDatasetId,
      metrics,
      codeVersion: codeVersionString(),
      config,
      configHash: configHash(config),
      seed,
      inputHashes: importedFile,
    });
    return { modelId: row.id, checkpointId: ckpt.id, created };
  });
}

/**
 * Register every checkpoint of an LM training run directory (ckpt-*), oldest first; idempotent, so
 * a retried job registers what an earlier attempt wrote. Returns the model and checkpoint ids.
 */
export async function registerLmRunDir(pool: pg.Pool, runDir: string, opts: { datasetPath?: string } = {}): Promise<{ modelId: number; checkpointIds: number[] }> {
  const { listCheckpointDirs } = await import('../lm/train.js');
  const ckpts = await listCheckpointDirs(runDir);
  if (!ckpts.length) throw new UserInputError(`${runDir}: no checkpoint (ckpt-*) to register`);
  let modelId = 0;
  const checkpointIds: number[] = [];
  for (const c of ckpts) {
    const r = await registerLmCheckpointDir(pool, c.dir, { origin: 'trained', datasetPath: opts.datasetPath });
    modelId = r.modelId;
    checkpointIds.push(r.checkpointId);
  }
  return { modelId, checkpointIds };
}

/** The registered dataset of a directory, registering it (with its BSP catalogue) when needed. */
async function ensureDataset(pool: pg.Pool, datasetDir: string): Promise<number> {
  const found = await findDatasetIdByPath(pool, path.resolve(datasetDir));
  if (found !== null) return found;
  const { registerDatasetDir } = await import('./datasets.js');
  return (await registerDatasetDir(pool, datasetDir, { verify: false })).dataset.id;
}

/** Register an activation directory written by `saeboard lm activations`. */
export async function registerActivationDir(pool: pg.Pool, dir: string, opts: { checkpointDir: string; datasetDir: string }): Promise<number> {
  const manifest = await readActivationManifest(dir);
  const meta = await readMeta(opts.checkpointDir);
  if (manifest.tokenizer !== meta.tokenizer) {
    throw new UserInputError(`${dir}: activations use tokenizer "${manifest.tokenizer}" but the model ${meta.name} uses "${meta.tokenizer}"`);
  }
  const { checkpointId } = await registerLmCheckpointDir(pool, opts.checkpointDir);
  const datasetId = await ensureDataset(pool, opts.datasetDir);
  return withTransaction(pool, (client) =>
    insertActivationSet(client, {
      lmCheckpointId: checkpointId,
      datasetId,
      layer: manifest.layer,
      site: manifest.site,
      positions: manifest.positions,
      dtype: manifest.dtype,
      nVectors: manifest.count,
      dModel: manifest.d,
      path: path.resolve(dir),
      manifest,
      codeVersion: codeVersionString(),
    }),
  );
}

/** Store a probe table for a checkpoint (one row per layer × family). */
export async function registerProbeResults(
  pool: pg.Pool,
  checkpointDir: string,
  datasetDir: string,
  results: readonly ProbeResultInput[],
  config: Record<string, unknown>,
): Promise<number> {
  for (const r of results) {
    if (!(r.accuracy >= 0 && r.accuracy <= 1)) throw new UserInputError(`probe ${r.family} layer ${r.layer}: accuracy ${r.accuracy} outside [0, 1]`);
  }
  const { checkpointId } = await registerLmCheckpointDir(pool, checkpointDir);
  const datasetPath = path.resolve(datasetDir);
  const datasetId = await findDatasetIdByPath(pool, datasetPath);
  return withTransaction(pool, (client) =>
    upsertProbeResults(client, { lmCheckpointId: checkpointId, datasetId, datasetPath, config, configHash: configHash(config), codeVersion: codeVersionString() }, results),
  );
}

/**
 * Register every model shipped under models/ (trained models first, so random-init twins can link
 * to them). For the server's first start: `npm start` needs no download.
 */
export async function registerShippedModels(pool: pg.Pool): Promise<{ name: string; modelId: number; checkpointId: number }[]> {
  const { shippedModelNames, SHIPPED_MODELS_DIR } = await import('../lm/models.js');
  const metas = await Promise.all(shippedModelNames().map(async (name) => ({ name, meta: await readMeta(path.join(SHIPPED_MODELS_DIR, name)) })));
  metas.sort((a, b) => Number(a.meta.provenance.kind === 'random-init') - Number(b.meta.provenance.kind === 'random-init'));
  const out: { name: string; modelId: number; checkpointId: number }[] = [];
  for (const { name } of metas) {
    const r = await registerLmCheckpointDir(pool, path.join(SHIPPED_MODELS_DIR, name));
    out.push({ name, modelId: r.modelId, checkpointId: r.checkpointId });
  }
  return out;
}
