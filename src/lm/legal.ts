/**
 * Legal-move rate of greedy next-move predictions on held-out games: the standard sanity check
 * that a board-game LM has learned the rules.
 *
 *  - Othello: at every position i of a game that is not over (i = 0..len−2, i < nCtx), the
 *    argmax over all 61 tokens of the logits at i must be a square in `get_valid_moves()` of the
 *    board after moves 0..i (games.md §1.1: passes folded in). One forward pass per batch of games.
 *  - Chess: at the start of every half-move whose prefix fits the window (default the first 256
 *    characters, games.md §2.3, and never so late that the prefix plus 8 generated characters
 *    would overflow the model's context), the model decodes greedily, character by character,
 *    until it emits a space (or 8 characters); the text before the space must be a legal SAN
 *    move in the position reached by the real game (python-chess-compatible SAN,
 *    src/games/chess). White moves start after "N.", black moves after the space that follows
 *    White's move. Decoding uses the model's key/value cache (CachedDecoder): one position per
 *    generated character instead of re-running the prefix.
 */
import { Chess } from 'chessops/chess';
import { tf } from '../tensor/backend.js';
import { argmaxFirst } from '../util/argmax.js';
import { UserInputError } from '../errors.js';
import { decodeChess, encodeChess, parseSanCompat } from '../games/chess/index.js';
import { OthelloBoard, TOKEN_TO_SQUARE } from '../games/othello/index.js';
import type { TokenSequences } from './data.js';
import { CachedDecoder, Gpt } from './model.js';

export interface LegalMoveResult {
  games: number;
  predictions: number;
  legal: number;
  rate: number;
  /** Chess: rate split by side; Othello: null. */
  bySide?: { white: number; black: number };
  /** Rate by move number (half-moves for chess), in buckets of PLY_BUCKET: where the model loses track. */
  byPly: PlyBucket[];
}

export interface PlyBucket {
  /** First and last move index (0-based) of the bucket. */
  from: number;
  to: number;
  predictions: number;
  rate: number;
}

export const PLY_BUCKET = 10;

/** Tally (move index, legal?) pairs into PLY_BUCKET-wide buckets. */
class PlyTally {
  private readonly counts: [number, number][] = [];
  add(ply: number, legal: boolean): void {
    const k = Math.floor(ply / PLY_BUCKET);
    while (this.counts.length <= k) this.counts.push([0, 0]);
    this.counts[k][0]++;
    if (legal) this.counts[k][1]++;
  }
  buckets(): PlyBucket[] {
    return this.counts.flatMap(([n, ok], k) => (n ? [{ from: k * PLY_BUCKET, to: (k + 1) * PLY_BUCKET - 1, predictions: n, rate: ok / n }] : []));
  }
}

/** Next-token logits [B, T, V] for token rows [B, T]: a model, or any predictor (tests use oracles). */
export type LogitsFn = (tokens: Int32Array, B: number, T: number) => Promise<Float32Array>;

export interface Predictor {
  logits: LogitsFn;
  nCtx: number;
  vocabSize: number;
  /** Incremental decoding of a batch of prefixes; without one, decoding re-runs every prefix. */
  decoder?: (prefixes: number[][]) => Decoder;
}

/** Greedy decoding state: next-token logits [B, V] after the prefixes, then after each appended token. */
export interface Decoder {
  start(): Promise<Float32Array>;
  next(tokens_B: Int32Array): Promise<Float32Array>;
  dispose(): void;
}

/** A decoder for any predictor: re-runs each (right-padded) row at every step. */
function recomputingDecoder(p: Predictor, prefixes: number[][]): Decoder {
  const rows = prefixes.map((r) => [...r]);
  const run = async () => {
    const T = Math.max(...rows.map((r) => r.length));
    if (T > p.nCtx) throw new UserInputError(`decoding past the model's context ${p.nCtx}`);
    const tokens = new Int32Array(rows.length * T); // right-padded with 0
    rows.forEach((r, b) => tokens.set(r, b * T));
    const logits = await p.logits(tokens, rows.length, T);
    const V = p.vocabSize;
    const out = new Float32Array(rows.length * V);
    rows.forEach((r, b) => out.set(logits.subarray((b * T + r.length - 1) * V, (b * T + r.length) * V), b * V));
    return out;
  };
  return {
    start: run,
    next: async (tokens_B) => {
      rows.forEach((r, b) => r.push(tokens_B[b]));
      return run();
    },
    dispose: () => {},
  };
}

export function gptPredictor(model: Gpt): Predictor {
  return {
    nCtx: model.config.nCtx,
    vocabSize: model.config.vocabSize,
    decoder: (prefixes) => new CachedDecoder(model, prefixes),
    logits: async (tokens, B, T) => {
      const t = tf.tensor2d(tokens, [B, T], 'int32');
      const logits = model.forward(t);
      const out = (await logits.data()) as Float32Array;
      tf.dispose([t, logits]);
      return out;
    },
  };
}

function asPredictor(m: Gpt | Predictor): Predictor {
  return m instanceof Gpt ? gptPredictor(m) : m;
}

export async function othelloLegalMoveRate(m: Gpt | Predictor, data: TokenSequences, opts: { games?: number; batchSize?: number } = {}): Promise<LegalMoveResult> {
  const model = asPredictor(m);
  const n = Math.min(opts.games ?? 1000, data.count);
  const bs = opts.batchSize ?? 64;
  const T = Math.min(model.nCtx, data.length);
  const V = model.vocabSize;
  const board = new OthelloBoard();
  const byPly = new PlyTally();
  let predictions = 0;
  let legal = 0;
  for (let r = 0; r < n; r += bs) {
    const B = Math.min(bs, n - r);
    const rows = await data.read(r, B);
    const tokens = new Int32Array(B * T);
    for (let b = 0; b < B; b++) tokens.set(rows.subarray(b * data.length, b * data.length + T), b * T);
    const logits = await model.logits(tokens, B, T);
    for (let b = 0; b < B; b++) {
      const row = rows.subarray(b * data.length, (b + 1) * data.length);
      let len = 0;
      while (len < row.length && row[len] !== 0) len++;
      board.reset();
      for (let i = 0; i < Math.min(len - 1, T); i++) {
        board.play(TOKEN_TO_SQUARE[row[i]]);
        const valid = board.validMoves();
        if (valid.length === 0) break; // game over: nothing to predict
        const base = (b * T + i) * V;
        const best = argmaxFirst(logits, base, base + V) - base;
        predictions++;
        const ok = best !== 0 && valid.includes(TOKEN_TO_SQUARE[best]);
        if (ok) legal++;
        byPly.add(i + 1, ok);
      }
    }
  }
  return { games: n, predictions, legal, rate: predictions ? legal / predictions : 0, byPly: byPly.buckets() };
}

interface ChessQuery {
  game: number;
  white: boolean;
  ply: number;
  /** Token ids of the game's text before the move. */
  tokens: number[];
  /** The position to check the generated move in. */
  position: Chess;
  done: boolean;
  san: string;
}

/** Half-move starts within `window` characters: [charIndex, isWhite, plyIndex]. */
function halfMoveStarts(text: string, window: number): { at: number; white: boolean; ply: number }[] {
  const out: { at: number; white: boolean; ply: number }[] = [];
  let ply = 0;
  let i = 1; // after ';'
  while (i < text.length && i < window) {
    if (ply % 2 === 0) {
      const dot = text.indexOf('.', i);
      if (dot < 0 || dot + 1 >= window) break;
      out.push({ at: dot + 1, white: true, ply });
      i = dot + 1;
    } else {
      out.push({ at: i, white: false, ply });
    }
    const sp = text.indexOf(' ', i);
    if (sp < 0) break;
    i = sp + 1;
    ply++;
  }
  return out;
}

export async function chessLegalMoveRate(
  m: Gpt | Predictor,
  data: TokenSequences,
  opts: { games?: number; window?: number; batchSize?: number; maxMoveChars?: number } = {},
): Promise<LegalMoveResult> {
  const model = asPredictor(m);
  const n = Math.min(opts.games ?? 100, data.count);
  const bs = opts.batchSize ?? 64;
  const maxChars = opts.maxMoveChars ?? 8;
  // a prefix shorter than `window` plus maxChars − 1 fed-back characters must fit the context
  const window = Math.min(opts.window ?? 256, model.nCtx - maxChars + 2);
  const V = model.vocabSize;
  const queries: ChessQuery[] = [];
  for (let g = 0; g < n; g++) {
    const text = decodeChess(await data.read(g, 1)).trimEnd();
    const pos = Chess.default();
    const tokens = Array.from(encodeChess(text));
    const starts = halfMoveStarts(text, window);
    for (const s of starts) {
      const end = text.indexOf(' ', s.at);
      const san = text.slice(s.at, end < 0 ? text.length : end);
      // only moves that really complete inside the game text (the last one may be cut)
      if (end < 0 && s.at + san.length >= text.length) break;
      queries.push({ game: g, white: s.white, ply: s.ply, tokens: tokens.slice(0, s.at), position: pos.clone(), done: false, san: '' });
      const mv = parseSanCompat(pos, san);
      if (!mv) break; // the real game cannot continue (should not happen for valid datasets)
      pos.play(mv);
    }
  }
  const space = 0;
  for (let q0 = 0; q0 < queries.length; q0 += bs) {
    const batch = queries.slice(q0, q0 + bs);
    const prefixes = batch.map((q) => q.tokens);
    const decoder = model.decoder ? model.decoder(prefixes) : recomputingDecoder(model, prefixes);
    try {
      let logits = await decoder.start();
      for (let step = 0; ; step++) {
        const fed = new Int32Array(batch.length); // finished rows feed a space; their output is ignored
        batch.forEach((q, b) => {
          if (q.done) return;
          const base = b * V;
          const best = argmaxFirst(logits, base, base + V) - base;
          if (best === space) q.done = true;
          else {
            q.san += decodeChess([best]);
            fed[b] = best;
            if (q.san.length >= maxChars) q.done = true;
          }
        });
        if (step + 1 >= maxChars || batch.every((q) => q.done)) break;
        logits = await decoder.next(fed);
      }
    } finally {
      decoder.dispose();
    }
  }
  let legal = 0;
  const side = { white: [0, 0], black: [0, 0] };
  const byPly = new PlyTally();
  for (const q of queries) {
    const ok = q.san.length > 0 && parseSanCompat(q.position, q.san) !== undefined;
    if (ok) legal++;
    byPly.add(q.ply, ok);
    const s = q.white ? side.white : side.black;
    s[0]++;
    if (ok) s[1]++;
  }
  return {
    games: n,
    predictions: queries.length,
    legal,
    rate: queries.length ? legal / queries.length : 0,
    bySide: { white: side.white[0] ? side.white[1] / side.white[0] : 0, black: side.black[0] ? side.black[1] / side.black[0] : 0 },
    byPly: byPly.buckets(),
  };
}
