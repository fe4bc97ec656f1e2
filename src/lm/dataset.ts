/**
 * Game datasets (src/games/dataset, docs/datasets.md) as LM token sources.
 *
 * Two modes:
 *  - streaming (default): rows are read shard by shard, keeping one decoded shard; sequential
 *    reads (activation collection, probes) use memory of one shard whatever the dataset size;
 *  - in memory (`inMemory: true`): the split's token rows (uint8) are loaded once; training reads
 *    rows in random order, which would thrash a shard cache. 1M Othello games = 60 MB.
 *
 * Rows shorter than `minLength` real tokens can be dropped (chess: training and the paper's
 * evaluation need whole 256-character windows; chess has no padding token).
 */
import { UserInputError } from '../errors.js';
import { openDataset, type Dataset, type DatasetManifest, type DatasetShard } from '../games/dataset/index.js';
import type { TokenSequences } from './data.js';
import { tokenizerInfo } from './tokenizers.js';

export type Split = 'train' | 'test' | 'all';

export interface DatasetSequences extends TokenSequences {
  dataset: Dataset;
  manifest: DatasetManifest;
  split: Split;
  /** Global game index of row i (rows may skip short games). */
  gameIndexOf(row: number): number;
}

export interface DatasetSequenceOptions {
  split?: Split;
  inMemory?: boolean;
  /** Keep only games with at least this many real tokens. */
  minLength?: number;
  /** Use at most this many rows (after filtering), from the start of the split. */
  limit?: number;
}

export async function datasetSequences(dir: string, opts: DatasetSequenceOptions = {}): Promise<DatasetSequences> {
  const dataset = await openDataset(dir);
  const m = dataset.manifest;
  tokenizerInfo(m.tokenizer.id); // unknown tokenizer → clear error
  const split = opts.split ?? 'all';
  const range = split === 'all' ? { start: 0, end: m.counts.games } : m.splits[split];
  const width = m.tokensPerGame;
  const source = `${dir}${split === 'all' ? '' : ` (${split} split)`}`;

  // Which games are rows: all in the range, or only the long-enough ones.
  let rows: Int32Array | null = null; // global game index per row, when filtered
  let inMemory: { tokens: Uint8Array; start: number } | null = null;
  if (opts.inMemory) {
    const r = await dataset.readTokens(range);
    inMemory = { tokens: r.tokens, start: range.start };
    if (opts.minLength) {
      const keep: number[] = [];
      for (let i = 0; i < r.nGames; i++) if (r.lengths[i] >= opts.minLength) keep.push(range.start + i);
      rows = Int32Array.from(keep);
    }
  } else if (opts.minLength) {
    const keep: number[] = [];
    for (let s = 0; s < m.shards.length; s++) {
      const e = m.shards[s];
      if (e.games.end <= range.start || e.games.start >= range.end) continue;
      const shard = await dataset.readShard(s);
      for (let g = Math.max(e.games.start, range.start); g < Math.min(e.games.end, range.end); g++) {
        if (shard.lengths[g - e.games.start] >= opts.minLength) keep.push(g);
      }
    }
    rows = Int32Array.from(keep);
  }
  let count = rows ? rows.length : range.end - range.start;
  if (opts.limit !== undefined) count = Math.min(count, opts.limit);
  if (count === 0) {
    throw new UserInputError(`${source}: no games${opts.minLength ? ` with at least ${opts.minLength} tokens` : ''} to use`);
  }
  const gameIndexOf = (row: number) => (rows ? rows[row] : range.start + row);

  let cached: DatasetShard | null = null;
  const shardFor = async (game: number): Promise<DatasetShard> => {
    if (cached && game >= cached.entry.games.start && game < cached.entry.games.end) return cached;
    const i = m.shards.findIndex((e) => game >= e.games.start && game < e.games.end);
    cached = await dataset.readShard(i, { verify: false });
    return cached;
  };

  return {
    game: m.game,
    tokenizer: m.tokenizer.id,
    count,
    length: width,
    source,
    dataset,
    manifest: m,
    split,
    gameIndexOf,
    async read(start, n) {
      if (start < 0 || start + n > count) throw new UserInputError(`${source}: rows ${start}..${start + n} outside 0..${count}`);
      const out = new Int32Array(n * width);
      for (let i = 0; i < n; i++) {
        const g = gameIndexOf(start + i);
        let src: Uint8Array;
        if (inMemory) src = inMemory.tokens.subarray((g - inMemory.start) * width, (g - inMemory.start + 1) * width);
        else {
          const sh = await shardFor(g);
          const o = (g - sh.entry.games.start) * width;
          src = sh.tokens.subarray(o, o + width);
        }
        for (let k = 0; k < width; k++) out[i * width + k] = src[k];
      }
      return out;
    },
  };
}
