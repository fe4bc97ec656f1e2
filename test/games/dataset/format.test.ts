import { describe, expect, it } from 'vitest';
import { packBits } from '../../../src/games/types.js';
import { DATASET_FORMAT, packRows, parseManifest, splitRanges, unpackRows } from '../../../src/games/dataset/index.js';

describe('row bit packing', () => {
  it('packs each row on its own, little bit order (numpy packbits(axis=1, bitorder="little"))', () => {
    // 2 rows × 9 cells → 2 bytes per row.
    const bits = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1, /* row 2 */ 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const out = new Uint8Array(4);
    packRows(bits, 2, 9, out);
    expect(Array.from(out)).toEqual([0b10000001, 1, 0b00000010, 0]);
    expect(Array.from(unpackRows(out, 2, 9))).toEqual(Array.from(bits));
  });

  it('agrees with the flat packBits when cells are a multiple of 8, and round-trips random matrices', () => {
    const rows = 13;
    for (const cells of [1, 7, 8, 64, 192, 3072, 13]) {
      const bits = Uint8Array.from({ length: rows * cells }, (_, i) => ((i * 2654435761) >>> 7) & 1);
      const out = new Uint8Array(rows * Math.ceil(cells / 8));
      packRows(bits, rows, cells, out);
      if (cells % 8 === 0) expect(Array.from(out)).toEqual(Array.from(packBits(bits)));
      expect(Array.from(unpackRows(out, rows, cells))).toEqual(Array.from(bits));
      // Unaligned views take the byte-wise path and must agree with the word-wise one.
      const shifted = new Uint8Array(bits.length + 1);
      shifted.set(bits, 1);
      const out2 = new Uint8Array(out.length);
      packRows(shifted.subarray(1), rows, cells, out2);
      expect(Array.from(out2)).toEqual(Array.from(out));
      const unpacked = new Uint8Array(bits.length + 1);
      unpackRows(out, rows, cells, unpacked.subarray(1));
      expect(Array.from(unpacked.subarray(1))).toEqual(Array.from(bits));
    }
  });
});

describe('manifest validation', () => {
  const minimal = () => ({
    format: DATASET_FORMAT,
    formatVersion: 1,
    name: 'x',
    game: 'othello',
    createdAt: '2024-01-01T00:00:00Z',
    codeVersion: '0.1.0',
    source: { kind: 'synthetic-random', details: {} },
    seed: 1,
    tokenizer: { id: 'othello-61', vocabSize: 61, padToken: 0, padIsToken: true, vocab: [] as string[] },
    ctxLen: 59,
    tokensPerGame: 60,
    positions: { rule: 'othello-all', description: '', params: {} },
    counts: { games: 3, positions: 10, tokens: 100, source: {} },
    splits: { train: { start: 0, end: 2 }, test: { start: 2, end: 3 } },
    families: [],
    shards: [
      { file: 'shard-00000.safetensors', games: { start: 0, end: 2 }, positions: { start: 0, end: 6 }, bytes: 10, sha256: 'a'.repeat(64) },
      { file: 'shard-00001.safetensors', games: { start: 2, end: 3 }, positions: { start: 6, end: 10 }, bytes: 10, sha256: 'b'.repeat(64) },
    ],
  });

  it('accepts a consistent manifest', () => {
    expect(parseManifest(minimal(), 'm.json').counts.games).toBe(3);
  });

  it('names a wrong format version, a foreign file, a bad field and inconsistent shards', () => {
    expect(() => parseManifest({ ...minimal(), formatVersion: 2 }, 'd/manifest.json')).toThrow(
      'd/manifest.json: unsupported dataset format version 2 (this saeboard reads version 1)',
    );
    expect(() => parseManifest({ hello: 1 }, 'm.json')).toThrow(/not a saeboard dataset manifest/);
    expect(() => parseManifest({ ...minimal(), game: 'go' }, 'm.json')).toThrow(/invalid manifest at game/);
    const gap = minimal();
    gap.shards[1].games.start = 3;
    expect(() => parseManifest(gap, 'm.json')).toThrow(/shard-00001\.safetensors does not continue/);
    const counts = minimal();
    counts.counts.positions = 11;
    expect(() => parseManifest(counts, 'm.json')).toThrow(/shards hold 3 games \/ 10 positions but counts say 3 \/ 11/);
  });

  it('splits games: the last fraction is the test set', () => {
    expect(splitRanges(1000, 0.2)).toEqual({ train: { start: 0, end: 800 }, test: { start: 800, end: 1000 } });
    expect(splitRanges(5, 0)).toEqual({ train: { start: 0, end: 5 }, test: { start: 5, end: 5 } });
    expect(() => splitRanges(5, 1.5)).toThrow(/test fraction/);
  });
});
