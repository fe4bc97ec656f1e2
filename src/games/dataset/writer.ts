/**
 * Dataset writer: streams games from a source, labels their positions shard by shard (bounded
 * memory), and writes the directory atomically — built under a temp name and renamed only when
 * everything succeeded, so a bad transcript, a full disk or a crash never leaves a half dataset.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../../errors.js';
import { progress as makeProgress, type Progress } from '../../progress.js';
import { writeDirAtomic } from '../../util/atomic.js';
import { encodeSafetensors, type TensorData } from '../../util/safetensors.js';
import { codeVersionString } from '../../version.js';
import type { BspFamily } from '../types.js';
import type { GameAdapter, TokenChunk } from './adapters.js';
import {
  DATASET_FORMAT,
  DATASET_FORMAT_VERSION,
  MANIFEST_FILE,
  familyEntry,
  labelTensorName,
  packRows,
  shardFileName,
  splitRanges,
  type DatasetManifest,
  type DatasetShardEntry,
  type DatasetSourceKind,
} from './format.js';

export interface DatasetSource {
  kind: DatasetSourceKind;
  /** Free-form provenance (generator options, input file and its sha256, ...). */
  details: Record<string, unknown>;
  seed: number | null;
  /** Token ids of each game, untruncated (the writer cuts rows to tokensPerGame). */
  games: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Counters to record in the manifest (duplicates, too short, skipped bad games, ...). */
  stats?: () => Record<string, number>;
  /** What the progress bar counts: default the number of games against `expectedGames`. */
  progress?: { total: number; unit: string; value: () => number };
  expectedGames?: number;
  /** Human label for the progress bar ("generate othello"). */
  label?: string;
}

export interface WriteDatasetOptions {
  out: string;
  adapter: GameAdapter;
  families: readonly BspFamily<never>[];
  source: DatasetSource;
  /** Dataset name (default: the output directory's base name). */
  name?: string;
  /** Fraction of games (the last ones) in the test split (default 0.2). */
  testFraction?: number;
  /** Games per shard (default: sized so a shard's packed labels stay near 64 MiB). */
  shardGames?: number;
  tokensPerGame?: number;
  overwrite?: boolean;
  /** false: silent. Default: a bar when stderr is a TTY, a plain line every ~10 s otherwise. */
  showProgress?: boolean;
}

const SHARD_LABEL_BYTES = 64 * 2 ** 20;
const CHUNK_LABEL_BYTES = 16 * 2 ** 20;

export function defaultShardGames(adapter: GameAdapter, families: readonly BspFamily<never>[], tokensPerGame: number): number {
  const positions = Number(adapter.positions.params.positionsPerGame ?? adapter.positions.params.maxDots ?? 60);
  const perGame = tokensPerGame + positions * families.reduce((a, f) => a + Math.ceil(f.cells / 8), 0);
  return Math.max(256, Math.min(50_000, Math.floor(SHARD_LABEL_BYTES / perGame)));
}

/** Write a dataset directory; returns its manifest. */
export async function writeDataset(opts: WriteDatasetOptions): Promise<DatasetManifest> {
  const { adapter, families, source } = opts;
  const T = opts.tokensPerGame ?? adapter.tokensPerGame;
  const shardGames = opts.shardGames ?? defaultShardGames(adapter, families, T);
  if (!Number.isInteger(shardGames) || shardGames < 1) throw new UserInputError(`shard size must be a positive integer, got ${shardGames}`);
  const testFraction = opts.testFraction ?? 0.2;
  splitRanges(0, testFraction); // validate early
  const name = opts.name ?? path.basename(path.resolve(opts.out));
  const positionsPerGame = Number(adapter.positions.params.positionsPerGame ?? adapter.positions.params.maxDots ?? 60);
  const chunkGames = Math.max(
    1,
    Math.floor(CHUNK_LABEL_BYTES / Math.max(1, positionsPerGame * families.reduce((a, f) => a + f.cells, 0))),
  );

  return writeDirAtomic(
    opts.out,
    async (tmp) => {
      const shards: DatasetShardEntry[] = [];
      const tokens = new Uint8Array(shardGames * T);
      const lengths = new Int32Array(shardGames);
      let inShard = 0;
      let games = 0;
      let positions = 0;
      let totalTokens = 0;
      let truncated = 0;

      const prog: Progress = opts.showProgress === false
        ? { tick() {}, update() {}, resumeAt() {}, stop() {} }
        : source.progress
        ? makeProgress({ label: source.label ?? 'dataset', total: source.progress.total, unit: source.progress.unit })
        : makeProgress({ label: source.label ?? 'dataset', total: source.expectedGames ?? 0, unit: 'games' });

      const flush = async () => {
        if (inShard === 0) return;
        const entry = await writeShard(tmp, shards.length, adapter, families, {
          tokens: tokens.subarray(0, inShard * T),
          lengths: lengths.subarray(0, inShard),
          nGames: inShard,
          stride: T,
          gameOffset: games - inShard,
        }, positions, chunkGames);
        shards.push(entry);
        positions = entry.positions.end;
        inShard = 0;
        tokens.fill(0);
      };

      try {
        let sinceTick = 0;
        for await (const game of source.games) {
          const n = Math.min(game.length, T);
          if (game.length > T) truncated++;
          tokens.set(n === game.length ? game : game.subarray(0, n), inShard * T);
          lengths[inShard] = n;
          totalTokens += n;
          inShard++;
          games++;
          if (++sinceTick >= 64) {
            sinceTick = 0;
            // Synchronous sources never leave the microtask queue: give the event loop a turn so
            // signals (Ctrl-C cleanup) and timers are handled promptly.
            if ((games & 1023) === 0) await new Promise((resolve) => setImmediate(resolve));
            if (source.progress) prog.update(source.progress.value(), { shards: shards.length });
            else prog.update(games, { shards: shards.length });
          }
          if (inShard === shardGames) await flush();
        }
        await flush();
        if (source.progress) prog.update(source.progress.value(), { shards: shards.length });
        else prog.update(games, { shards: shards.length });
      } finally {
        prog.stop();
      }
      if (games === 0) throw new UserInputError(`no games to write (the source produced none)`);

      const manifest: DatasetManifest = {
        format: DATASET_FORMAT,
        formatVersion: DATASET_FORMAT_VERSION,
        name,
        game: adapter.game,
        createdAt: new Date().toISOString(),
        codeVersion: codeVersionString(),
        source: { kind: source.kind, details: source.details },
        seed: source.seed,
        tokenizer: adapter.tokenizer,
        ctxLen: adapter.ctxLen,
        tokensPerGame: T,
        positions: adapter.positions,
        counts: {
          games,
          positions,
          tokens: totalTokens,
          source: { ...(source.stats?.() ?? {}), truncatedToTokensPerGame: truncated },
        },
        splits: splitRanges(games, testFraction),
        families: families.map((f) => familyEntry(f)),
        shards,
      };
      await writeFileSynced(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
      return manifest;
    },
    { overwrite: opts.overwrite },
  );
}

async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const h = await fs.open(file, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

async function writeShard(
  dir: string,
  index: number,
  adapter: GameAdapter,
  families: readonly BspFamily<never>[],
  chunk: TokenChunk,
  positionStart: number,
  chunkGames: number,
): Promise<DatasetShardEntry> {
  // Label in chunks of games so unpacked label memory stays bounded; pack each chunk at once.
  const parts: { n: number; game: Int32Array; index: Int16Array; packed: Uint8Array[] }[] = [];
  for (let from = 0; from < chunk.nGames; from += chunkGames) {
    const to = Math.min(chunk.nGames, from + chunkGames);
    const sub: TokenChunk = {
      tokens: chunk.tokens.subarray(from * chunk.stride, to * chunk.stride),
      lengths: chunk.lengths.subarray(from, to),
      nGames: to - from,
      stride: chunk.stride,
      gameOffset: chunk.gameOffset + from,
    };
    // Even with no families this replays every game: positions are listed and illegal moves caught.
    const res = adapter.label(sub, families);
    const packed = families.map((f, k) => {
      const out = new Uint8Array(res.nPositions * Math.ceil(f.cells / 8));
      packRows(res.labels[k], res.nPositions, f.cells, out);
      return out;
    });
    parts.push({ n: res.nPositions, game: res.positionGame, index: res.positionIndex, packed });
  }
  const nPos = parts.reduce((a, p) => a + p.n, 0);
  const concat = <A extends Int32Array | Int16Array | Uint8Array>(make: (n: number) => A, pick: (p: (typeof parts)[number]) => A, n: number): A => {
    const out = make(n);
    let o = 0;
    for (const p of parts) {
      const a = pick(p);
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  const gameIndex = new Int32Array(chunk.nGames);
  for (let g = 0; g < chunk.nGames; g++) gameIndex[g] = chunk.gameOffset + g;
  const tensors: Record<string, { data: TensorData; shape: number[] }> = {
    tokens: { data: chunk.tokens, shape: [chunk.nGames, chunk.stride] },
    lengths: { data: Int32Array.from(chunk.lengths), shape: [chunk.nGames] },
    game_index: { data: gameIndex, shape: [chunk.nGames] },
    position_game: { data: concat((n) => new Int32Array(n), (p) => p.game, nPos), shape: [nPos] },
    position_index: { data: concat((n) => new Int16Array(n), (p) => p.index, nPos), shape: [nPos] },
  };
  families.forEach((f, k) => {
    const bpr = Math.ceil(f.cells / 8);
    tensors[labelTensorName(f.shortName)] = { data: concat((n) => new Uint8Array(n), (p) => p.packed[k], nPos * bpr), shape: [nPos, bpr] };
  });
  const bytes = encodeSafetensors(tensors, {
    format: DATASET_FORMAT,
    formatVersion: String(DATASET_FORMAT_VERSION),
    game: adapter.game,
    shard: String(index),
    labelBitOrder: 'little',
    families: JSON.stringify(families.map((f) => ({ shortName: f.shortName, cells: f.cells }))),
  });
  const file = shardFileName(index);
  await writeFileSynced(path.join(dir, file), bytes);
  return {
    file,
    games: { start: chunk.gameOffset, end: chunk.gameOffset + chunk.nGames },
    positions: { start: positionStart, end: positionStart + nPos },
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
