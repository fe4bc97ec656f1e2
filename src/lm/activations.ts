/**
 * Activation collection: stream residual-stream (or other site) activations of a GPT over a token
 * source, batch by batch, with bounded memory whatever the dataset size; optionally write them to
 * a sharded directory (manifest.json + safetensors shards) that other tools can read back.
 *
 * Positions (games.md §1.4, §2.3, §2.5):
 *   'all'  every token position of every row (SAE training; Othello evaluation; chess with rows
 *          cut to 256 characters for SAE training),
 *   'dots' the first `maxDots` (default 20) '.' characters of each chess row (chess evaluation).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../tensor/backend.js';
import { UserInputError, oneLine } from '../errors.js';
import { writeDirAtomic } from '../util/atomic.js';
import {
  encodeSafetensors,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  openSafetensors,
  toFloat32,
} from '../util/safetensors.js';
import { checkTokenizerMatch, type TokenSequences } from './data.js';
import { checkLayer, siteWidth, type Gpt, type Site } from './model.js';
import { tokenizerInfo } from './tokenizers.js';

export type PositionSelection = 'all' | 'dots';

export interface ActivationBatch {
  /** [n, d] row-major. */
  acts_ND: Float32Array;
  n: number;
  d: number;
  /** Row index in the token source of each vector. */
  gameIndex: Int32Array;
  /** Token position of each vector within its row. */
  position: Int32Array;
}

export interface ActivationStreamOptions {
  model: Gpt;
  /** Block index, 0-based ("layer 6" of the paper = block 5 resid_post, models.md §3). */
  layer: number;
  /** Default 'resid_post'. */
  site?: Site;
  data: TokenSequences;
  /** The model's tokenizer id; when given, the data must use the same (clear error otherwise). */
  tokenizer?: string;
  positions?: PositionSelection;
  /** For 'dots': how many dots per row (games.md §2.5: 20). */
  maxDots?: number;
  /** Tokens per row fed to the model; default min(row length, nCtx). Chess SAE data: 256. */
  contextLength?: number;
  /** Rows per LM forward pass (default 32). */
  batchSize?: number;
  /** Row range of the source (default: all rows). */
  start?: number;
  count?: number;
}

/** Positions of the first `maxDots` occurrences of `dot` in row (length T). */
export function dotPositions(row: ArrayLike<number>, dot: number, maxDots: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < row.length && out.length < maxDots; i++) if (row[i] === dot) out.push(i);
  return out;
}

function validate(opts: ActivationStreamOptions) {
  const { model, data } = opts;
  const c = model.config;
  checkLayer(c, opts.layer);
  if (opts.tokenizer) checkTokenizerMatch(c, opts.tokenizer, data);
  const T = opts.contextLength ?? Math.min(data.length, c.nCtx);
  if (!Number.isInteger(T) || T < 1 || T > data.length || T > c.nCtx) {
    throw new UserInputError(`context length ${T} must be in 1..min(row length ${data.length}, model context ${c.nCtx})`);
  }
  const start = opts.start ?? 0;
  const count = opts.count ?? data.count - start;
  if (start < 0 || count < 0 || start + count > data.count) {
    throw new UserInputError(`rows ${start}..${start + count} are outside ${data.source} (${data.count} rows)`);
  }
  const positions = opts.positions ?? 'all';
  let dot: number | null = null;
  if (positions === 'dots') {
    dot = tokenizerInfo(data.tokenizer).dotToken;
    if (dot === null) throw new UserInputError(`positions "dots" need a tokenizer with a '.' token; ${data.tokenizer} has none`);
  }
  return { T, start, count, positions, dot, batchSize: opts.batchSize ?? 32, site: opts.site ?? 'resid_post', maxDots: opts.maxDots ?? 20 };
}

/**
 * Yields one batch per LM forward pass (≤ batchSize rows). Memory: one batch of tokens, one
 * forward pass up to `layer`, and the yielded arrays.
 */
export async function* activationBatches(opts: ActivationStreamOptions): AsyncGenerator<ActivationBatch> {
  const { T, start, count, positions, dot, batchSize, site, maxDots } = validate(opts);
  const { model, data, layer } = opts;
  const d = siteWidth(model.config, site);
  for (let r0 = 0; r0 < count; r0 += batchSize) {
    const B = Math.min(batchSize, count - r0);
    const rows = await data.read(start + r0, B);
    const tokens = new Int32Array(B * T);
    for (let b = 0; b < B; b++) tokens.set(rows.subarray(b * data.length, b * data.length + T), b * T);

    // which (row, position) pairs to keep
    let sel: { row: number; pos: number }[] | null = null;
    if (positions === 'dots') {
      sel = [];
      for (let b = 0; b < B; b++) for (const p of dotPositions(tokens.subarray(b * T, (b + 1) * T), dot!, maxDots)) sel.push({ row: b, pos: p });
    }

    const acts_BTD = tf.tidy(() => {
      const toks = tf.tensor2d(tokens, [B, T], 'int32');
      let captured: tf.Tensor | null = null;
      const out = model.forward(toks, {
        stopAfterLayer: layer,
        hook: site === 'resid_post' ? undefined : (x, p) => {
          if (p.layer === layer && p.site === site) captured = tf.keep(x.clone());
        },
      });
      return (captured ?? out) as tf.Tensor3D;
    });
    const all = (await acts_BTD.data()) as Float32Array;
    acts_BTD.dispose();

    if (!sel) {
      const gameIndex = new Int32Array(B * T);
      const position = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          gameIndex[b * T + t] = start + r0 + b;
          position[b * T + t] = t;
        }
      }
      yield { acts_ND: all, n: B * T, d, gameIndex, position };
    } else {
      const n = sel.length;
      const acts_ND = new Float32Array(n * d);
      const gameIndex = new Int32Array(n);
      const position = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const { row, pos } = sel[i];
        acts_ND.set(all.subarray((row * T + pos) * d, (row * T + pos + 1) * d), i * d);
        gameIndex[i] = start + r0 + row;
        position[i] = pos;
      }
      yield { acts_ND, n, d, gameIndex, position };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Activation directories: manifest.json + shard-00000.safetensors, ... Each shard holds
//   acts       [n, d]  F32 or F16
//   game_index [n]     I32   (row of the token source)
//   position   [n]     I32   (token position in the row)

export const ACTIVATION_FORMAT = 'saeboard-activations/1';

export interface ActivationManifest {
  format: typeof ACTIVATION_FORMAT;
  layer: number;
  site: Site;
  d: number;
  dtype: 'float32' | 'float16';
  count: number;
  positions: PositionSelection;
  contextLength: number;
  rows: { source: string; start: number; count: number };
  tokenizer: string;
  /** Free-form description of the model (checkpoint path, name, config hash...). */
  model: Record<string, unknown>;
  shards: { file: string; count: number }[];
  createdAt: string;
}

export interface WriteActivationsOptions extends ActivationStreamOptions {
  outDir: string;
  dtype?: 'float32' | 'float16';
  /** Vectors per shard (default 65,536). */
  shardSize?: number;
  model: Gpt;
  modelInfo?: Record<string, unknown>;
  overwrite?: boolean;
  onProgress?: (rowsDone: number, vectors: number) => void;
}

/** Stream activations into a sharded directory (written under a temp name, renamed at the end). */
export async function writeActivations(opts: WriteActivationsOptions): Promise<ActivationManifest> {
  const v = validate(opts);
  const dtype = opts.dtype ?? 'float32';
  const shardSize = opts.shardSize ?? 65_536;
  const d = siteWidth(opts.model.config, v.site);
  return writeDirAtomic(
    opts.outDir,
    async (tmp) => {
      const shards: { file: string; count: number }[] = [];
      let pending: ActivationBatch[] = [];
      let pendingN = 0;
      let total = 0;
      const flush = async (n: number) => {
        // take exactly n vectors from the pending batches
        const acts = new Float32Array(n * d);
        const gi = new Int32Array(n);
        const pos = new Int32Array(n);
        let filled = 0;
        while (filled < n) {
          const b = pending[0];
          const take = Math.min(b.n, n - filled);
          acts.set(b.acts_ND.subarray(0, take * d), filled * d);
          gi.set(b.gameIndex.subarray(0, take), filled);
          pos.set(b.position.subarray(0, take), filled);
          filled += take;
          if (take === b.n) pending.shift();
          else pending[0] = { ...b, n: b.n - take, acts_ND: b.acts_ND.subarray(take * d), gameIndex: b.gameIndex.subarray(take), position: b.position.subarray(take) };
        }
        pendingN -= n;
        const file = `shard-${String(shards.length).padStart(5, '0')}.safetensors`;
        const data = dtype === 'float16' ? float32ToFloat16Bits(acts) : acts;
        await fs.writeFile(
          path.join(tmp, file),
          encodeSafetensors({
            acts: { data, shape: [n, d], dtype: dtype === 'float16' ? 'F16' : 'F32' },
            game_index: { data: gi, shape: [n] },
            position: { data: pos, shape: [n] },
          }),
        );
        shards.push({ file, count: n });
      };
      let rowsDone = 0;
      for await (const batch of activationBatches(opts)) {
        pending.push(batch);
        pendingN += batch.n;
        total += batch.n;
        rowsDone = Math.min(v.count, rowsDone + v.batchSize);
        while (pendingN >= shardSize) await flush(shardSize);
        opts.onProgress?.(rowsDone, total);
      }
      if (pendingN > 0) await flush(pendingN);
      pending = [];
      const manifest: ActivationManifest = {
        format: ACTIVATION_FORMAT,
        layer: opts.layer,
        site: v.site,
        d,
        dtype,
        count: total,
        positions: v.positions,
        contextLength: v.T,
        rows: { source: opts.data.source, start: v.start, count: v.count },
        tokenizer: opts.data.tokenizer,
        model: opts.modelInfo ?? {},
        shards,
        createdAt: new Date().toISOString(),
      };
      await fs.writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      return manifest;
    },
    { overwrite: opts.overwrite },
  );
}

export async function readActivationManifest(dir: string): Promise<ActivationManifest> {
  const file = path.join(dir, 'manifest.json');
  let m: ActivationManifest;
  try {
    m = JSON.parse(await fs.readFile(file, 'utf8')) as ActivationManifest;
  } catch (err) {
    throw new UserInputError(`${dir}: not an activation directory (cannot read manifest.json: ${oneLine((err as Error).message)})`);
  }
  if (m.format !== ACTIVATION_FORMAT) throw new UserInputError(`${file}: format "${m.format}" is not ${ACTIVATION_FORMAT}`);
  return m;
}

/** Read an activation directory back shard by shard (f16 shards are widened to f32). */
export async function* readActivations(dir: string): AsyncGenerator<ActivationBatch> {
  const m = await readActivationManifest(dir);
  for (const shard of m.shards) {
    const f = await openSafetensors(path.join(dir, shard.file));
    try {
      const acts = await f.read('acts');
      const gi = await f.read('game_index');
      const pos = await f.read('position');
      const acts_ND = acts.dtype === 'F16' ? float16BitsToFloat32(acts.data as Uint16Array) : toFloat32(acts);
      yield { acts_ND, n: acts.shape[0], d: acts.shape[1], gameIndex: gi.data as Int32Array, position: pos.data as Int32Array };
    } finally {
      await f.close();
    }
  }
}
