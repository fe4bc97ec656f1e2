/**
 * The games layer's front door: both games' BSP catalogues and dataset adapters by game name.
 * Pure (no database, no tensors); game-specific APIs live in ./othello and ./chess.
 */
import { chessBspFamilies } from './chess/index.js';
import { othelloBspFamilies } from './othello/index.js';
import { UserInputError } from '../errors.js';
import { GAMES, type BspFamily, type GameName } from './types.js';

export { GAMES, type BspFamily, type BspCell, type GameName } from './types.js';
export { adapterFor, resolveFamilies, type GameAdapter } from './dataset/adapters.js';

export function parseGameName(name: string): GameName {
  const g = name.trim().toLowerCase();
  if (!(GAMES as readonly string[]).includes(g)) throw new UserInputError(`unknown game ${JSON.stringify(name)}; expected one of: ${GAMES.join(', ')}`);
  return g as GameName;
}

/** Every BSP family of a game, in catalogue order. */
export function bspFamilies(game: GameName): readonly BspFamily<never>[] {
  return (game === 'othello' ? othelloBspFamilies : chessBspFamilies) as readonly BspFamily<never>[];
}

/** True for the families behind the paper's reported numbers (bsp.md §4). */
export function isReported(f: BspFamily<unknown>): boolean {
  return f.reported ?? f.group !== 'other';
}
