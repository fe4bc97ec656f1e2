import DataLoader from 'dataloader';
import type pg from 'pg';
import { countPerGame, getGamesByIds, type GameRow } from '../db/repos/games.js';

/**
 * One DataLoader set per request: every field resolver that would query per parent row goes
 * through a loader, so a list of N parents costs one query per field, not N.
 */
export function createLoaders(pool: pg.Pool) {
  const counter = (table: 'datasets' | 'board_properties' | 'lm_models') =>
    new DataLoader<string, number>(async (ids) => {
      const counts = await countPerGame(pool, table, ids);
      return ids.map((id) => counts.get(id) ?? 0);
    });
  return {
    game: new DataLoader<string, GameRow | null>(async (ids) => {
      const rows = await getGamesByIds(pool, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    datasetCount: counter('datasets'),
    boardPropertyCount: counter('board_properties'),
    lmModelCount: counter('lm_models'),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
