/**
 * What the dataset writer and reader need to know about each game: tokenizer, which token
 * positions carry labels, and how to label a chunk of token rows with a set of BSP families.
 */
import { UserInputError } from '../../errors.js';
import {
  CHESS_DOTS_PER_GAME,
  CHESS_EVAL_LENGTH,
  CHESS_VOCAB,
  CHESS_VOCAB_SIZE,
  analyzeTranscript,
  chessBspFamilies,
  decodeChess,
  labelChessPositions,
  type ChessPosition,
} from '../chess/index.js';
import {
  OTHELLO_CTX_LEN,
  OTHELLO_MAX_MOVES,
  OTHELLO_PAD_TOKEN,
  OTHELLO_TOKENIZER_ID,
  OTHELLO_VOCAB_SIZE,
  labelOthelloGames,
  othelloBspFamilies,
  othelloVocab,
  type OthelloBspFamily,
} from '../othello/index.js';
import type { BspFamily, GameName } from '../types.js';
import type { DatasetManifest } from './format.js';

/** A chunk of stored token rows: [nGames, stride], with real lengths. */
export interface TokenChunk {
  tokens: Uint8Array;
  lengths: Int32Array;
  nGames: number;
  stride: number;
  /** Global index of the chunk's first game (for positionGame and error messages). */
  gameOffset: number;
}

export interface ChunkLabels {
  nPositions: number;
  positionGame: Int32Array;
  positionIndex: Int16Array;
  /** Per family, (nPositions × cells) 0/1 bytes. */
  labels: Uint8Array[];
}

export interface GameAdapter {
  game: GameName;
  tokenizer: DatasetManifest['tokenizer'];
  /** Default stored row width and model context. */
  tokensPerGame: number;
  ctxLen: number;
  positions: DatasetManifest['positions'];
  families: readonly BspFamily<never>[];
  /** Short names of the families labelled when the user does not say. */
  defaultFamilies: readonly string[];
  /** Label positions of a chunk. `families` must come from `this.families`. */
  label(chunk: TokenChunk, families: readonly BspFamily<never>[]): ChunkLabels;
}

export function othelloAdapter(opts: { positionsPerGame?: number } = {}): GameAdapter {
  const per = opts.positionsPerGame ?? OTHELLO_CTX_LEN;
  return {
    game: 'othello',
    tokenizer: { id: OTHELLO_TOKENIZER_ID, vocabSize: OTHELLO_VOCAB_SIZE, padToken: OTHELLO_PAD_TOKEN, padIsToken: true, vocab: othelloVocab() },
    // 60 moves stored (the LM predicts moves 2..60 from inputs 1..59), 59 labelled positions.
    tokensPerGame: OTHELLO_MAX_MOVES,
    ctxLen: OTHELLO_CTX_LEN,
    positions: {
      rule: 'othello-all',
      description: `every token position i = 0..${per - 1} (board after move i), games.md §1.4`,
      params: { positionsPerGame: per },
    },
    families: othelloBspFamilies as readonly BspFamily<never>[],
    defaultFamilies: othelloBspFamilies.filter((f) => f.inPipeline).map((f) => f.shortName),
    label(chunk, families) {
      return labelOthelloGames(
        { tokens: chunk.tokens, nGames: chunk.nGames, stride: chunk.stride },
        families as unknown as readonly OthelloBspFamily[],
        { positionsPerGame: per, gameOffset: chunk.gameOffset },
      );
    },
  };
}

export interface ChessAdapterOptions {
  /** Stored characters per game (default 1024: one nanoGPT block of the paper's chess LM). */
  tokensPerGame?: number;
  /** Dots labelled per game (default 20) and the prefix searched for them (default 256 chars). */
  maxDots?: number;
  withinChars?: number;
}

export function chessAdapter(opts: ChessAdapterOptions = {}): GameAdapter {
  const maxDots = opts.maxDots ?? CHESS_DOTS_PER_GAME;
  const within = opts.withinChars ?? CHESS_EVAL_LENGTH;
  return {
    game: 'chess',
    // No padding token in the chess vocabulary: rows are right-filled with id 0 (space) and
    // `lengths` says where each game really ends.
    tokenizer: { id: 'chess-char-32', vocabSize: CHESS_VOCAB_SIZE, padToken: 0, padIsToken: false, vocab: [...CHESS_VOCAB] },
    tokensPerGame: opts.tokensPerGame ?? 1024,
    ctxLen: 1023,
    positions: {
      rule: 'chess-dots',
      description: `the first ${maxDots} '.' characters within the first ${within} characters (White to move), games.md §2.5`,
      params: { maxDots, withinChars: within },
    },
    families: chessBspFamilies as readonly BspFamily<never>[],
    defaultFamilies: chessBspFamilies.filter((f) => f.group !== 'other').map((f) => f.shortName),
    label(chunk, families) {
      const positions: ChessPosition[] = [];
      const game: number[] = [];
      const index: number[] = [];
      for (let g = 0; g < chunk.nGames; g++) {
        const len = chunk.lengths[g];
        const text = decodeChess(chunk.tokens.subarray(g * chunk.stride, g * chunk.stride + len));
        const a = analyzeTranscript(text.slice(0, within), { maxDots, where: `game ${chunk.gameOffset + g}` });
        for (const j of a.dotIndices) {
          positions.push(a.states[a.charState[j]]);
          game.push(chunk.gameOffset + g);
          index.push(j);
        }
      }
      const labelled = labelChessPositions(positions, families as unknown as readonly BspFamily<ChessPosition>[]);
      return {
        nPositions: positions.length,
        positionGame: Int32Array.from(game),
        positionIndex: Int16Array.from(index),
        labels: labelled.map((l) => l.labels),
      };
    },
  };
}

export function adapterFor(game: GameName, opts: ChessAdapterOptions & { positionsPerGame?: number } = {}): GameAdapter {
  return game === 'othello' ? othelloAdapter(opts) : chessAdapter(opts);
}

/**
 * Resolve a family selection: "all", "none", "default", "reported", or a comma-separated list of
 * short or code names. Unknown names are a UserInputError listing what exists.
 */
export function resolveFamilies(adapter: GameAdapter, spec: string | undefined): BspFamily<never>[] {
  const all = adapter.families;
  const s = (spec ?? 'default').trim();
  if (s === 'none' || s === '') return [];
  if (s === 'all') return [...all];
  if (s === 'default') return all.filter((f) => adapter.defaultFamilies.includes(f.shortName));
  if (s === 'reported') return all.filter((f) => f.reported ?? f.group !== 'other');
  const out: BspFamily<never>[] = [];
  for (const name of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const f = all.find((x) => x.shortName === name || x.name === name);
    if (!f) {
      throw new UserInputError(
        `unknown ${adapter.game} BSP family ${JSON.stringify(name)}; known: ${all.map((x) => x.shortName).join(', ')} (or all, none, default, reported)`,
      );
    }
    if (!out.includes(f)) out.push(f);
  }
  return out;
}
