/**
 * What the LM needs to know about a game's tokenizer: its id (stored in every model config and
 * every dataset manifest, and compared before use), vocabulary size and special tokens. The
 * encoders themselves live in src/games/<game>/ (games.md §1.3, §2.2).
 */
import { UserInputError } from '../errors.js';
import type { GameName } from '../games/types.js';

export interface TokenizerInfo {
  id: string;
  game: GameName;
  vocabSize: number;
  /** Padding token id (Othello 0 = "no move"); chess has none (games.md §2.2). */
  padToken: number | null;
  /** The '.' character, whose positions are the chess evaluation positions (games.md §2.5). */
  dotToken: number | null;
  /** Context length of the paper's model for this tokenizer. */
  paperCtx: number;
}

export const TOKENIZERS: Record<string, TokenizerInfo> = {
  'othello-61': { id: 'othello-61', game: 'othello', vocabSize: 61, padToken: 0, dotToken: null, paperCtx: 59 },
  'chess-32': { id: 'chess-32', game: 'chess', vocabSize: 32, padToken: null, dotToken: 4, paperCtx: 1023 },
};

export const DEFAULT_TOKENIZER: Record<GameName, string> = { othello: 'othello-61', chess: 'chess-32' };

export function tokenizerInfo(id: string): TokenizerInfo {
  const t = TOKENIZERS[id];
  if (!t) throw new UserInputError(`unknown tokenizer "${id}" (known: ${Object.keys(TOKENIZERS).join(', ')})`);
  return t;
}

/** The 32 characters of the chess vocabulary, in id order (meta.pkl; games.md §2.2). */
export const CHESS_CHARS = ' #+-.0123456789;=BKNOQRabcdefghx';

export function encodeChess(text: string, where = 'chess transcript'): Int32Array {
  const out = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const id = CHESS_CHARS.indexOf(text[i]);
    if (id < 0) throw new UserInputError(`${where}: character ${JSON.stringify(text[i])} at ${i} is not in the chess vocabulary`);
    out[i] = id;
  }
  return out;
}

export function decodeChess(tokens: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < tokens.length; i++) s += CHESS_CHARS[tokens[i]] ?? '?';
  return s;
}
