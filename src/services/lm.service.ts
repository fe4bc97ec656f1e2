import type pg from 'pg';
import { NotFoundError } from '../errors.js';
import { listDatasets } from '../db/repos/datasets.js';
import { listLmModels } from '../db/repos/lm.js';
import type { Loaders } from './loaders.js';
import { toDataset, toLanguageModel, toLmCheckpoint, toProbeResult, type DatasetRecord, type LanguageModelRecord, type LmCheckpointRecord, type ProbeResultRecord } from './records.js';
import { parseId, resolveLm } from './refs.js';

export async function languageModels(pool: pg.Pool, loaders: Loaders, game?: string | null): Promise<LanguageModelRecord[]> {
  const rows = await listLmModels(pool, game);
  for (const r of rows) loaders.lmModel.prime(r.id, r);
  return rows.map(toLanguageModel);
}

export async function languageModel(pool: pg.Pool, ref: string): Promise<LanguageModelRecord> {
  try {
    return toLanguageModel(await resolveLm(pool, ref));
  } catch {
    throw new NotFoundError(`no language model "${ref.slice(0, 80)}"`);
  }
}

export async function lmModelById(loaders: Loaders, id: number): Promise<LanguageModelRecord | null> {
  const row = await loaders.lmModel.load(id);
  return row ? toLanguageModel(row) : null;
}

export async function lmCheckpoint(loaders: Loaders, id: string | number): Promise<LmCheckpointRecord> {
  const row = await loaders.lmCheckpoint.load(parseId('LM checkpoint', id));
  if (!row) throw new NotFoundError(`no LM checkpoint with id ${id}`);
  return toLmCheckpoint(row);
}

export async function checkpointsOfModel(loaders: Loaders, modelId: number): Promise<LmCheckpointRecord[]> {
  const rows = await loaders.checkpointsOfLmModel.load(modelId);
  for (const r of rows) loaders.lmCheckpoint.prime(r.id, r);
  return rows.map(toLmCheckpoint);
}

export async function probesOf(loaders: Loaders, ckptId: number, family?: string | null): Promise<ProbeResultRecord[]> {
  return (await loaders.probesOfLmCheckpoint.load(ckptId)).filter((p) => !family || p.family === family).map(toProbeResult);
}

export async function datasets(pool: pg.Pool, game?: string | null): Promise<DatasetRecord[]> {
  return (await listDatasets(pool, game ?? undefined)).map(toDataset);
}
