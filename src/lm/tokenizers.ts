/**
 * What the LM needs to know about a game's tokenizer: its id (stored in every model config and
 * every dataset manifest, and compared before use), vocabulary size and special tokens. The
 * encoders themselves live in src/games/<game>/ (games.md §1.3, §2.2).
 */
import { UserInputError } from '../errors.js';
import { CHESS_DELIMITER_ID, CHESS_DOT_ID, CHESS_SPACE_ID, CHESS_VOCAB_SIZE } from '../games/chess/vocab.js';
import { OTHELLO_CTX_LEN, OTHELLO_PAD_TOKEN, OTHELLO_TOKENIZER_ID, OTHELLO_VOCAB_SIZE } from '../games/othello/tokenizer.js';
import type { GameName } from '../games/types.js';

export interface TokenizerInfo {
  id: string;
  game: GameName;
  vocabSize: number;
  /** Padding token id (Othello 0 = "no move"); chess has none (games.md §2.2). */
  padToken: number | null;
  /** The '.' character, whose positions are the chess evaluation positions (games.md §2.5). */
  dotToken: number | null;
  /** Chess: ';' (game start) and ' ' (half-move separator). */
  delimiterToken: number | null;
  spaceToken: number | null;
  /** Context length of the paper's model for this tokenizer. */
  paperCtx: number;
}

export const CHESS_TOKENIZER_ID = 'chess-char-32';

export const TOKENIZERS: Record<string, TokenizerInfo> = {
  [OTHELLO_TOKENIZER_ID]: {
    id: OTHELLO_TOKENIZER_ID, game: 'othello', vocabSize: OTHELLO_VOCAB_SIZE, padToken: OTHELLO_PAD_TOKEN,
    dotToken: null, delimiterToken: null, spaceToken: null, paperCtx: OTHELLO_CTX_LEN,
  },
  [CHESS_TOKENIZER_ID]: {
    id: CHESS_TOKENIZER_ID, game: 'chess', vocabSize: CHESS_VOCAB_SIZE, padToken: null,
    dotToken: CHESS_DOT_ID, delimiterToken: CHESS_DELIMITER_ID, spaceToken: CHESS_SPACE_ID, paperCtx: 1023,
  },
};

export const DEFAULT_TOKENIZER: Record<GameName, string> = { othello: OTHELLO_TOKENIZER_ID, chess: CHESS_TOKENIZER_ID };

export function tokenizerInfo(id: string): TokenizerInfo {
  const t = TOKENIZERS[id];
  if (!t) throw new UserInputError(`unknown tokenizer "${id}" (known: ${Object.keys(TOKENIZERS).join(', ')})`);
  return t;
}

/** The tokenizer a vocabulary size implies, for imports that do not say (61 → Othello, 32 → chess). */
export function tokenizerForVocab(vocabSize: number): TokenizerInfo | null {
  return Object.values(TOKENIZERS).find((t) => t.vocabSize === vocabSize) ?? null;
}
