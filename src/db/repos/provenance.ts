/**
 * Provenance of result rows (migration 0009): the job that produced a row (null: the CLI, outside
 * the queue), its config and config hash, seed, code version and input hashes — read the same way
 * from every result table, whatever that table calls its config columns.
 */
import type { Queryable } from '../pool.js';

export const PROVENANCE_TABLES = {
  datasets: { config: 'config', hash: 'config_hash' },
  lm_models: { config: 'config', hash: 'config_hash' },
  lm_checkpoints: { config: 'config', hash: 'config_hash' },
  activation_sets: { config: 'manifest', hash: 'config_hash' },
  saes: { config: 'hyperparameters', hash: 'config_hash' },
  sae_checkpoints: { config: 'config', hash: 'config_hash' },
  sae_evaluations: { config: 'eval_config', hash: 'eval_config_hash' },
  metric_results: { config: 'eval_config', hash: 'eval_config_hash' },
  probe_results: { config: 'config', hash: 'config_hash' },
} as const;
export type ProvenanceTable = keyof typeof PROVENANCE_TABLES;

export interface ProvenanceRow {
  id: number;
  job_id: number | null;
  config: Record<string, unknown> | null;
  config_hash: string | null;
  seed: number | null;
  code_version: string | null;
  input_hashes: Record<string, string>;
}

/** Provenance of rows of one table, in the order of `ids` (null where a row does not exist). */
export async function provenanceOf(db: Queryable, table: ProvenanceTable, ids: readonly number[]): Promise<(ProvenanceRow | null)[]> {
  const c = PROVENANCE_TABLES[table];
  const { rows } = await db.query<ProvenanceRow>(
    `SELECT id, job_id, ${c.config} AS config, ${c.hash} AS config_hash, seed, code_version, input_hashes FROM ${table} WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return ids.map((id) => byId.get(Number(id)) ?? null);
}
