/**
 * The dataset directory format, shared by both games (docs/datasets.md):
 *
 *   DIR/manifest.json                what is inside, how it was made, sha256 + size of every shard
 *   DIR/shard-00000.safetensors      games [gameStart, gameEnd) and their labelled positions
 *   ...
 *
 * Shard tensors (all little-endian, row-major; readable with `safetensors.numpy.load_file`):
 *   tokens            U8  [games, tokensPerGame]   token ids, right-padded (Othello pad = 0)
 *   lengths           I32 [games]                  real tokens per game (≤ tokensPerGame)
 *   game_index        I32 [games]                  global game index (splits are game ranges)
 *   position_game     I32 [positions]              global game index of each labelled position
 *   position_index    I16 [positions]              token index of each labelled position
 *   labels/<family>   U8  [positions, ceil(cells/8)]  0/1 labels bit-packed per row, little bit
 *                                                    order: np.unpackbits(x, axis=1, bitorder='little')[:, :cells]
 */
import { z } from 'zod';
import { UserInputError } from '../../errors.js';
import type { GameName } from '../types.js';

export const DATASET_FORMAT = 'saeboard-dataset';
export const DATASET_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.safetensors`;
}

export function labelTensorName(familyShortName: string): string {
  return `labels/${familyShortName}`;
}

export type DatasetSourceKind = 'synthetic-random' | 'random-legal' | 'stockfish' | 'pgn-import' | 'transcript-import';

const range = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() });

export const familyEntrySchema = z.object({
  name: z.string(),
  shortName: z.string(),
  group: z.enum(['board_state', 'strategy', 'other']),
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  classes: z.number().int().positive(),
  cells: z.number().int().positive(),
  maskIndex: z.number().int().nullable(),
  coverageDenominator: z.number().int().positive(),
  reported: z.boolean(),
  /** Bytes per position row in the packed label tensor: ceil(cells / 8). */
  bytesPerRow: z.number().int().positive(),
});
export type DatasetFamilyEntry = z.infer<typeof familyEntrySchema>;

export const shardEntrySchema = z.object({
  file: z.string().regex(/^shard-\d{5}\.safetensors$/),
  games: range,
  positions: range,
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type DatasetShardEntry = z.infer<typeof shardEntrySchema>;

export const manifestSchema = z.object({
  format: z.literal(DATASET_FORMAT),
  formatVersion: z.literal(DATASET_FORMAT_VERSION),
  name: z.string().min(1),
  game: z.enum(['othello', 'chess']),
  createdAt: z.string(),
  codeVersion: z.string(),
  source: z.object({
    kind: z.enum(['synthetic-random', 'random-legal', 'stockfish', 'pgn-import', 'transcript-import']),
    details: z.record(z.string(), z.unknown()),
  }),
  seed: z.number().int().nullable(),
  tokenizer: z.object({
    id: z.string(),
    vocabSize: z.number().int().positive(),
    /** Token used to right-pad rows (Othello: 0 = "no move"; chess has no padding token: see lengths). */
    padToken: z.number().int().nonnegative(),
    padIsToken: z.boolean(),
    vocab: z.array(z.string()),
  }),
  /** Model context length this data is meant for (Othello 59; chess per LM). */
  ctxLen: z.number().int().positive(),
  /** Width of the stored token rows. */
  tokensPerGame: z.number().int().positive(),
  /** Which token positions carry labels, in words and parameters. */
  positions: z.object({ rule: z.string(), description: z.string(), params: z.record(z.string(), z.unknown()) }),
  counts: z.object({
    games: z.number().int().nonnegative(),
    positions: z.number().int().nonnegative(),
    tokens: z.number().int().nonnegative(),
    /** Generator/import statistics (duplicates dropped, too short, skipped bad games, ...). */
    source: z.record(z.string(), z.number()),
  }),
  splits: z.object({ train: range, test: range }),
  families: z.array(familyEntrySchema),
  shards: z.array(shardEntrySchema),
});
export type DatasetManifest = z.infer<typeof manifestSchema>;

/**
 * Validate a parsed manifest. A wrong format version gets its own message, so an old saeboard
 * reading a newer dataset (or the reverse) says exactly that.
 */
export function parseManifest(raw: unknown, where: string): DatasetManifest {
  const obj = raw as Record<string, unknown> | null;
  if (!obj || typeof obj !== 'object' || obj.format !== DATASET_FORMAT) {
    throw new UserInputError(`${where}: not a saeboard dataset manifest (expected "format": "${DATASET_FORMAT}")`);
  }
  if (obj.formatVersion !== DATASET_FORMAT_VERSION) {
    throw new UserInputError(
      `${where}: unsupported dataset format version ${JSON.stringify(obj.formatVersion)} (this saeboard reads version ${DATASET_FORMAT_VERSION})`,
    );
  }
  const res = manifestSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new UserInputError(`${where}: invalid manifest at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const m = res.data;
  let games = 0;
  let positions = 0;
  for (const s of m.shards) {
    if (s.games.start !== games || s.positions.start !== positions || s.games.end < s.games.start || s.positions.end < s.positions.start) {
      throw new UserInputError(`${where}: shard ${s.file} does not continue where the previous one ended`);
    }
    games = s.games.end;
    positions = s.positions.end;
  }
  if (games !== m.counts.games || positions !== m.counts.positions) {
    throw new UserInputError(`${where}: shards hold ${games} games / ${positions} positions but counts say ${m.counts.games} / ${m.counts.positions}`);
  }
  return m;
}

export function familyEntry(f: {
  name: string;
  shortName: string;
  group: 'board_state' | 'strategy' | 'other';
  rows: number;
  cols: number;
  classes: number;
  cells: number;
  maskIndex: number | null;
  coverageDenominator: number;
  reported?: boolean;
}): DatasetFamilyEntry {
  return {
    name: f.name,
    shortName: f.shortName,
    group: f.group,
    rows: f.rows,
    cols: f.cols,
    classes: f.classes,
    cells: f.cells,
    maskIndex: f.maskIndex,
    coverageDenominator: f.coverageDenominator,
    // Families that do not say: board-state and strategy groups are the reported ones (bsp.md §4).
    reported: f.reported ?? f.group !== 'other',
    bytesPerRow: Math.ceil(f.cells / 8),
  };
}

/** The uint32 fast paths below read/write bytes through word views: little-endian hosts only. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Pack a (rows × cells) 0/1 matrix into (rows × ceil(cells/8)) bytes, little bit order within each
 * byte (numpy `packbits(..., axis=1, bitorder='little')`). Writes into `out` at `outOffset`.
 */
export function packRows(bits: Uint8Array, rows: number, cells: number, out: Uint8Array, outOffset = 0): void {
  const bpr = (cells + 7) >> 3;
  // Fast path: whole bytes and 4-aligned input, so 8 input bytes are read as two uint32 and gathered
  // with one multiply each (bits at 0, 8, 16, 24 land in 28..31 without carries).
  if (LITTLE_ENDIAN && (cells & 7) === 0 && (bits.byteOffset & 3) === 0) {
    const words = new Uint32Array(bits.buffer, bits.byteOffset, (rows * cells) >> 2);
    const n = rows * bpr;
    for (let b = 0, w = 0; b < n; b++, w += 2) {
      out[outOffset + b] = (Math.imul(words[w], 0x10204080) >>> 28) | ((Math.imul(words[w + 1], 0x10204080) >>> 28) << 4);
    }
    return;
  }
  const full = cells >> 3;
  for (let r = 0; r < rows; r++) {
    const src = r * cells;
    const dst = outOffset + r * bpr;
    for (let b = 0; b < full; b++) {
      const s = src + (b << 3);
      out[dst + b] =
        bits[s] |
        (bits[s + 1] << 1) |
        (bits[s + 2] << 2) |
        (bits[s + 3] << 3) |
        (bits[s + 4] << 4) |
        (bits[s + 5] << 5) |
        (bits[s + 6] << 6) |
        (bits[s + 7] << 7);
    }
    if (full < bpr) {
      let v = 0;
      for (let k = full << 3; k < cells; k++) v |= bits[src + k] << (k & 7);
      out[dst + full] = v;
    }
  }
}

/** Byte → the two little-endian uint32 words of its 8 unpacked 0/1 bytes. */
const SPREAD_LO = new Uint32Array(256);
const SPREAD_HI = new Uint32Array(256);
for (let v = 0; v < 256; v++) {
  SPREAD_LO[v] = (v & 1) | (((v >> 1) & 1) << 8) | (((v >> 2) & 1) << 16) | ((((v >> 3) & 1) << 24) >>> 0);
  SPREAD_HI[v] = ((v >> 4) & 1) | (((v >> 5) & 1) << 8) | (((v >> 6) & 1) << 16) | ((((v >> 7) & 1) << 24) >>> 0);
}

/** Inverse of packRows: (rows × cells) 0/1 bytes. */
export function unpackRows(packed: Uint8Array, rows: number, cells: number, out = new Uint8Array(rows * cells)): Uint8Array {
  const bpr = (cells + 7) >> 3;
  if (LITTLE_ENDIAN && (cells & 7) === 0 && (out.byteOffset & 3) === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset, (rows * cells) >> 2);
    const n = rows * bpr;
    for (let b = 0, w = 0; b < n; b++, w += 2) {
      const v = packed[b];
      words[w] = SPREAD_LO[v];
      words[w + 1] = SPREAD_HI[v];
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const src = r * bpr;
    const dst = r * cells;
    for (let k = 0; k < cells; k++) out[dst + k] = (packed[src + (k >> 3)] >> (k & 7)) & 1;
  }
  return out;
}

export function splitRanges(games: number, testFraction: number): { train: { start: number; end: number }; test: { start: number; end: number } } {
  if (!(testFraction >= 0 && testFraction <= 1)) throw new UserInputError(`test fraction must be in [0, 1], got ${testFraction}`);
  const nTest = Math.round(games * testFraction);
  return { train: { start: 0, end: games - nTest }, test: { start: games - nTest, end: games } };
}

export type { GameName };
