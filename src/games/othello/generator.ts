/**
 * Synthetic OthelloGPT-style games (games.md §1.2, `get_ood_game` of othello_world): from the start
 * position, repeatedly play a move drawn uniformly from `get_valid_moves()` (passes folded in) until
 * neither side can move. Seeded and reproducible; optional de-duplication and "≥ N moves" filter
 * (the paper's evaluation sets only hold games of ≥ 59 moves — the selection rule is UNCONFIRMED,
 * we keep exactly the games that are long enough).
 */
import { OthelloBoard, movesMask, nthSetBit32, popcount32 } from './board.js';
import { OTHELLO_MAX_MOVES } from './tokenizer.js';
import { Rng } from './rng.js';

export interface OthelloGeneratorOptions {
  seed: number;
  /** Keep only games with at least this many moves (default 0: all). */
  minMoves?: number;
  /** Drop games whose full move sequence was already produced (default true). */
  dedupe?: boolean;
  /**
   * Share the de-duplication set between generators (e.g. so a train set and a test set made with
   * different seeds never hold the same game). Implies dedupe.
   */
  seen?: FingerprintSet;
}

export interface OthelloGeneratorStats {
  /** Games played (kept or not). */
  played: number;
  kept: number;
  duplicates: number;
  tooShort: number;
  /** Games (among those kept) that contain at least one pass. */
  keptWithPass: number;
}

/**
 * A set of 53-bit game fingerprints. Two independent 32-bit hashes of the move sequence are
 * combined; with n games the chance of any false "duplicate" is about n²/2^54 (≈ 2e-5 for 10^6
 * games, ≈ 0.02 for 2·10^7), far below what matters for a training corpus. JS Sets hold at most
 * 2^24 entries, so the set is sharded.
 */
export class FingerprintSet {
  private shards: Set<number>[] = Array.from({ length: 64 }, () => new Set<number>());
  size = 0;

  /** Adds; returns false when already present. */
  add(h: number): boolean {
    const s = this.shards[h % 64];
    if (s.has(h)) return false;
    s.add(h);
    this.size++;
    return true;
  }
}

/** 53-bit fingerprint of bytes[0..n). */
export function fingerprint(bytes: ArrayLike<number>, n: number): number {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x9747b28c | 0;
  for (let i = 0; i < n; i++) {
    const v = bytes[i];
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ (v + 0x9e), 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= n;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
}

export class RandomOthelloGames {
  readonly stats: OthelloGeneratorStats = { played: 0, kept: 0, duplicates: 0, tooShort: 0, keptWithPass: 0 };
  private readonly rng: Rng;
  private readonly board = new OthelloBoard();
  private readonly seen: FingerprintSet | null;
  private readonly minMoves: number;
  private readonly mask = new Int32Array(2);

  constructor(opts: OthelloGeneratorOptions) {
    this.rng = new Rng(opts.seed);
    this.minMoves = opts.minMoves ?? 0;
    this.seen = opts.seen ?? (opts.dedupe === false ? null : new FingerprintSet());
    if (this.minMoves > OTHELLO_MAX_MOVES) throw new RangeError(`minMoves ${this.minMoves} exceeds ${OTHELLO_MAX_MOVES}`);
  }

  /** Play one random game into squares[0..n); returns n. No filtering. */
  playOne(squares: Uint8Array): number {
    const b = this.board.reset();
    const m = this.mask;
    let n = 0;
    for (;;) {
      b.movesFor(b.nextColor, m);
      let ownHad = true;
      if ((m[0] | m[1]) === 0) {
        ownHad = false;
        b.movesFor(-b.nextColor as 1 | -1, m);
        if ((m[0] | m[1]) === 0) break;
      }
      const cLo = popcount32(m[0]);
      const k = this.rng.int(cLo + popcount32(m[1]));
      const p = k < cLo ? nthSetBit32(m[0], k) : 32 + nthSetBit32(m[1], k - cLo);
      b.playValid(p, ownHad);
      squares[n++] = p;
    }
    this.stats.played++;
    return n;
  }

  /** Fill squares (length ≥ 60) with the next game that passes the filters; returns its length. */
  next(squares: Uint8Array): number {
    for (;;) {
      const n = this.playOne(squares);
      if (n < this.minMoves) {
        this.stats.tooShort++;
        continue;
      }
      if (this.seen && !this.seen.add(fingerprint(squares, n))) {
        this.stats.duplicates++;
        continue;
      }
      this.stats.kept++;
      if (this.board.passes > 0) this.stats.keptWithPass++;
      return n;
    }
  }
}
