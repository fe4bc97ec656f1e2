/** Provenance of result rows for the API: one loader per table, batched per request. */
import DataLoader from 'dataloader';
import type pg from 'pg';
import { getJobsByIds, type JobRow } from '../db/repos/jobs.js';
import { provenanceOf, PROVENANCE_TABLES, type ProvenanceTable } from '../db/repos/provenance.js';

export interface ProvenanceRecord {
  jobId: number | null;
  config: Record<string, unknown> | null;
  configHash: string | null;
  seed: number | null;
  codeVersion: string | null;
  inputHashes: Record<string, string>;
}

export type ProvenanceLoaders = Record<ProvenanceTable, DataLoader<number, ProvenanceRecord | null>> & { job: DataLoader<number, JobRow | null> };

export function createProvenanceLoaders(pool: pg.Pool): ProvenanceLoaders {
  const out = {
    job: new DataLoader((ids: readonly number[]) => getJobsByIds(pool, ids)),
  } as ProvenanceLoaders;
  for (const table of Object.keys(PROVENANCE_TABLES) as ProvenanceTable[]) {
    out[table] = new DataLoader(async (ids: readonly number[]) =>
      (await provenanceOf(pool, table, ids)).map((r) =>
        r ? { jobId: r.job_id, config: r.config, configHash: r.config_hash, seed: r.seed, codeVersion: r.code_version, inputHashes: r.input_hashes } : null,
      ),
    );
  }
  return out;
}

/** Provenance of one row; a row that vanished mid-request has an empty one. */
export async function provenance(loaders: { provenance: ProvenanceLoaders }, table: ProvenanceTable, id: number): Promise<ProvenanceRecord> {
  return (await loaders.provenance[table].load(id)) ?? { jobId: null, config: null, configHash: null, seed: null, codeVersion: null, inputHashes: {} };
}

