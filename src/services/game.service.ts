import type pg from 'pg';
import type { GameName } from '../games/types.js';
import { NotFoundError } from '../errors.js';
import { listGames, type GameRow } from '../db/repos/games.js';
import type { Loaders } from './loaders.js';

/** A game as the API shows it (src/api/game/game.type.ts declares the GraphQL type). */
export interface GameInfo {
  id: GameName;
  vocabSize: number;
  tokenizer: string;
  description: string;
}

function toGame(row: GameRow): GameInfo {
  return { id: row.id as GameName, vocabSize: row.vocab_size, tokenizer: row.tokenizer, description: row.description };
}

export async function games(pool: pg.Pool): Promise<GameInfo[]> {
  return (await listGames(pool)).map(toGame);
}

export async function game(loaders: Loaders, id: string): Promise<GameInfo> {
  const row = await loaders.game.load(id);
  if (!row) throw new NotFoundError(`no game "${id}"`);
  return toGame(row);
}
