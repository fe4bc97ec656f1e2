/**
 * Dataset reader: validates the manifest, then streams shards one at a time (memory = one shard),
 * checking each shard's size and sha256 against the manifest before trusting a byte of it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError, oneLine } from '../../errors.js';
import { decodeSafetensors, type NamedTensor } from '../../util/safetensors.js';
import { MANIFEST_FILE, labelTensorName, parseManifest, unpackRows, type DatasetFamilyEntry, type DatasetManifest, type DatasetShardEntry } from './format.js';

export interface DatasetShard {
  index: number;
  entry: DatasetShardEntry;
  /** [nGames, tokensPerGame] */
  tokens: Uint8Array;
  lengths: Int32Array;
  gameIndex: Int32Array;
  nGames: number;
  positionGame: Int32Array;
  positionIndex: Int16Array;
  nPositions: number;
  /** Packed labels per family short name: [nPositions, bytesPerRow]. */
  packedLabels: Record<string, Uint8Array>;
  /** (nPositions × cells) 0/1 bytes of one family. */
  labels(family: string): Uint8Array;
}

export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
  family(shortName: string): DatasetFamilyEntry;
  /** Shards in order. `verify` (default true) checks size + sha256 of each shard as it is read. */
  shards(opts?: { verify?: boolean }): AsyncGenerator<DatasetShard>;
  readShard(index: number, opts?: { verify?: boolean }): Promise<DatasetShard>;
  /** Check every shard's size and sha256; resolves when all match. */
  verify(onShard?: (i: number) => void): Promise<void>;
  /** All token rows of a game range (default: all games), e.g. a split. Memory: games × tokensPerGame. */
  readTokens(range?: { start: number; end: number }): Promise<{ tokens: Uint8Array; lengths: Int32Array; nGames: number; stride: number }>;
}

export async function readManifest(dir: string): Promise<DatasetManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const exists = await fs.stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!exists) throw new UserInputError(`${dir}: no such dataset directory`);
    throw new UserInputError(`${dir} is not a saeboard dataset: cannot read ${MANIFEST_FILE} (${code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserInputError(`${file}: not valid JSON (${oneLine((err as Error).message)}) — truncated or edited by hand?`);
  }
  return parseManifest(raw, file);
}

function tensor<T>(t: Record<string, NamedTensor>, name: string, file: string, dtype: string): T {
  const x = t[name];
  if (!x) throw new UserInputError(`${file}: missing tensor ${name}`);
  if (x.dtype !== dtype) throw new UserInputError(`${file}: tensor ${name} is ${x.dtype}, expected ${dtype}`);
  return x.data as T;
}

export async function openDataset(dir: string): Promise<Dataset> {
  const manifest = await readManifest(dir);
  const families = new Map(manifest.families.map((f) => [f.shortName, f]));

  const readShard = async (index: number, opts: { verify?: boolean } = {}): Promise<DatasetShard> => {
    const entry = manifest.shards[index];
    if (!entry) throw new UserInputError(`${dir}: no shard ${index} (the dataset has ${manifest.shards.length})`);
    const file = path.join(dir, entry.file);
    const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new UserInputError(`${file}: cannot read shard (${err.code ?? err.message})`);
    });
    if (bytes.byteLength !== entry.bytes) {
      throw new UserInputError(`${file}: ${bytes.byteLength} bytes, but the manifest says ${entry.bytes} (truncated or replaced?)`);
    }
    if (opts.verify !== false) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== entry.sha256) throw new UserInputError(`${file}: sha256 mismatch (manifest ${entry.sha256.slice(0, 12)}…, file ${sha.slice(0, 12)}…): corrupted or modified`);
    }
    const { tensors } = decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
    const nGames = entry.games.end - entry.games.start;
    const nPositions = entry.positions.end - entry.positions.start;
    const tokens = tensor<Uint8Array>(tensors, 'tokens', file, 'U8');
    if (tokens.length !== nGames * manifest.tokensPerGame) throw new UserInputError(`${file}: tokens do not hold ${nGames} × ${manifest.tokensPerGame} ids`);
    const positionGame = tensor<Int32Array>(tensors, 'position_game', file, 'I32');
    if (positionGame.length !== nPositions) throw new UserInputError(`${file}: ${positionGame.length} positions, manifest says ${nPositions}`);
    const packedLabels: Record<string, Uint8Array> = {};
    for (const f of manifest.families) {
      const p = tensor<Uint8Array>(tensors, labelTensorName(f.shortName), file, 'U8');
      if (p.length !== nPositions * f.bytesPerRow) throw new UserInputError(`${file}: labels/${f.shortName} has ${p.length} bytes, expected ${nPositions * f.bytesPerRow}`);
      packedLabels[f.shortName] = p;
    }
    return {
      index,
      entry,
      tokens,
      lengths: tensor<Int32Array>(tensors, 'lengths', file, 'I32'),
      gameIndex: tensor<Int32Array>(tensors, 'game_index', file, 'I32'),
      nGames,
      positionGame,
      positionIndex: tensor<Int16Array>(tensors, 'position_index', file, 'I16'),
      nPositions,
      packedLabels,
      labels(name: string) {
        const f = families.get(name);
        if (!f) throw new UserInputError(`${dir}: no labels for family ${JSON.stringify(name)} (has: ${[...families.keys()].join(', ') || 'none'})`);
        return unpackRows(packedLabels[name], nPositions, f.cells);
      },
    };
  };

  return {
    dir,
    manifest,
    family(shortName) {
      const f = families.get(shortName);
      if (!f) throw new UserInputError(`${dir}: no labels for family ${JSON.stringify(shortName)} (has: ${[...families.keys()].join(', ') || 'none'})`);
      return f;
    },
    async *shards(opts = {}) {
      for (let i = 0; i < manifest.shards.length; i++) yield await readShard(i, opts);
    },
    readShard,
    async verify(onShard) {
      for (let i = 0; i < manifest.shards.length; i++) {
        const entry = manifest.shards[i];
        const file = path.join(dir, entry.file);
        const hash = createHash('sha256');
        let size = 0;
        const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
          throw new UserInputError(`${file}: cannot read shard (${err.code ?? err.message})`);
        });
        try {
          for await (const chunk of handle.createReadStream()) {
            hash.update(chunk as Buffer);
            size += (chunk as Buffer).length;
          }
        } finally {
          await handle.close().catch(() => {});
        }
        if (size !== entry.bytes) throw new UserInputError(`${file}: ${size} bytes, but the manifest says ${entry.bytes} (truncated or replaced?)`);
        const sha = hash.digest('hex');
        if (sha !== entry.sha256) throw new UserInputError(`${file}: sha256 mismatch (manifest ${entry.sha256.slice(0, 12)}…, file ${sha.slice(0, 12)}…): corrupted or modified`);
        onShard?.(i);
      }
    },
    async readTokens(range = { start: 0, end: manifest.counts.games }) {
      const { start, end } = range;
      if (start < 0 || end > manifest.counts.games || start > end) {
        throw new UserInputError(`${dir}: game range [${start}, ${end}) is outside [0, ${manifest.counts.games})`);
      }
      const T = manifest.tokensPerGame;
      const tokens = new Uint8Array((end - start) * T);
      const lengths = new Int32Array(end - start);
      for (let i = 0; i < manifest.shards.length; i++) {
        const e = manifest.shards[i];
        if (e.games.end <= start || e.games.start >= end) continue;
        const s = await readShard(i);
        const from = Math.max(start, e.games.start);
        const to = Math.min(end, e.games.end);
        tokens.set(s.tokens.subarray((from - e.games.start) * T, (to - e.games.start) * T), (from - start) * T);
        lengths.set(s.lengths.subarray(from - e.games.start, to - e.games.start), from - start);
      }
      return { tokens, lengths, nGames: end - start, stride: T };
    },
  };
}
