/**
 * Pipelines from dataset directories to the database: register a dataset (after checking its
 * shards) together with its game's BSP catalogue, in one transaction — a failure leaves no row.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { registerDataset, upsertBspCatalogue, type DatasetRow } from '../db/repos/datasets.js';
import { MANIFEST_FILE, openDataset } from '../games/dataset/index.js';
import { bspFamilies } from '../games/index.js';
import { GAMES, type GameName } from '../games/types.js';

export interface RegisterDatasetResult {
  dataset: DatasetRow;
  created: boolean;
  catalogue: { families: number; properties: number };
}

export interface RegisterDatasetOptions {
  /** Registered name (default: the manifest's name). */
  name?: string;
  /** Overwrite a different dataset registered under the same name. */
  replace?: boolean;
  /** Check every shard's sha256 before registering (default true). */
  verify?: boolean;
}

export async function registerDatasetDir(pool: pg.Pool, dir: string, opts: RegisterDatasetOptions = {}): Promise<RegisterDatasetResult> {
  const ds = await openDataset(dir);
  if (opts.verify !== false) await ds.verify();
  const manifestBytes = await fs.readFile(path.join(dir, MANIFEST_FILE));
  const m = ds.manifest;
  return withTransaction(pool, async (client) => {
    const catalogue = await upsertBspCatalogue(client, m.game, bspFamilies(m.game));
    const { row, created } = await registerDataset(
      client,
      {
        name: opts.name ?? m.name,
        game: m.game,
        source: m.source.kind,
        path: path.resolve(dir),
        manifest: m,
        manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
        nGames: m.counts.games,
        nPositions: m.counts.positions,
        codeVersion: m.codeVersion,
      },
      { replace: opts.replace },
    );
    return { dataset: row, created, catalogue };
  });
}

/** Upsert the BSP catalogue (families + every cell) of the given games (default both). */
export async function registerBspCatalogue(
  pool: pg.Pool,
  games: readonly GameName[] = GAMES,
): Promise<Record<string, { families: number; properties: number }>> {
  return withTransaction(pool, async (client) => {
    const out: Record<string, { families: number; properties: number }> = {};
    for (const g of games) out[g] = await upsertBspCatalogue(client, g, bspFamilies(g));
    return out;
  });
}
