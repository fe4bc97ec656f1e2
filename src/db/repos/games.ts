import type { Queryable } from '../pool.js';

export interface GameRow {
  id: string;
  vocab_size: number;
  tokenizer: string;
  description: string;
}

export async function listGames(db: Queryable): Promise<GameRow[]> {
  const { rows } = await db.query<GameRow>('SELECT id, vocab_size, tokenizer, description FROM games ORDER BY id');
  return rows;
}

export async function getGamesByIds(db: Queryable, ids: readonly string[]): Promise<GameRow[]> {
  const { rows } = await db.query<GameRow>('SELECT id, vocab_size, tokenizer, description FROM games WHERE id = ANY($1)', [ids]);
  return rows;
}

/** Number of registered rows per game in one of the per-game tables (datasets, board_properties, lm_models). */
export async function countPerGame(
  db: Queryable,
  table: 'datasets' | 'board_properties' | 'lm_models',
  gameIds: readonly string[],
): Promise<Map<string, number>> {
  const { rows } = await db.query<{ game: string; n: number }>(
    `SELECT game, count(*)::int AS n FROM ${table} WHERE game = ANY($1) GROUP BY game`,
    [gameIds],
  );
  return new Map(rows.map((r) => [r.game, r.n]));
}
