import type pg from 'pg';
import { NotFoundError } from '../errors.js';
import { listGames, type GameRow } from '../db/repos/games.js';
import type { Loaders } from '../api/loaders.js';
import type { Game, GameId } from '../schema/game.js';

function toGame(row: GameRow): Game {
  return { id: row.id as GameId, vocabSize: row.vocab_size, tokenizer: row.tokenizer, description: row.description };
}

export async function games(pool: pg.Pool): Promise<Game[]> {
  return (await listGames(pool)).map(toGame);
}

export async function game(loaders: Loaders, id: string): Promise<Game> {
  const row = await loaders.game.load(id);
  if (!row) throw new NotFoundError(`no game "${id}"`);
  return toGame(row);
}
