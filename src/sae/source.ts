/**
 * Activation sources for SAE training: a deterministic, random-access stream of d-dimensional
 * vectors grouped in contexts (one context = one token row of the LM). Random access is what makes
 * resume exact: the shuffle buffer stores which vectors it holds (by index), not the vectors, and a
 * resumed sweep re-reads exactly those.
 *
 *   memorySource      a Float32Array (tests, small experiments)
 *   activationSetSource  a directory written by `src/lm/activations.ts` (manifest + shards)
 *   lmSource          the GPT on the fly over a token dataset (src/lm)
 *   syntheticSource   sparse combinations of known unit vectors (synthetic.ts)
 */
import path from 'node:path';
import { UserInputError } from '../errors.js';
import { configHash } from '../util/hash.js';
import { float16BitsToFloat32, openSafetensors, toFloat32 } from '../util/safetensors.js';
import { readActivationManifest, activationBatches, type ActivationManifest } from '../lm/activations.js';
import type { TokenSequences } from '../lm/data.js';
import type { Gpt, Site } from '../lm/model.js';
import { Rng } from './rng.js';
import type { SourceSpec } from './sweepConfig.js';
import { randomUnitDictionary, sampleSparse, type SyntheticDictionary } from './synthetic.js';

export interface ActivationSource {
  readonly dIn: number;
  /** Vectors per context (the shuffle buffer holds `contexts × contextLength` vectors). */
  readonly contextLength: number;
  readonly totalVectors: number;
  /** Vectors [start, start + count) as [count, dIn] row-major; deterministic. */
  readVectors(start: number, count: number): Promise<Float32Array>;
  /** Provenance recorded with every SAE trained on this source. */
  describe(): Record<string, unknown>;
  /**
   * Which LM, block and site the vectors come from, when known; stored as the SAE's
   * `provenance.lm|layer|site`, which evaluation uses to find the LM (src/jobs/eval-inputs.ts).
   */
  lineage?(): SourceLineage;
  dispose?(): void;
}

export interface SourceLineage {
  lm?: { dir: string; configHash?: string; name?: string };
  layer?: number;
  site?: string;
}

function checkRange(src: ActivationSource, start: number, count: number) {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > src.totalVectors) {
    throw new UserInputError(`activation source: vectors ${start}..${start + count} are outside 0..${src.totalVectors}`);
  }
}

export function memorySource(data: Float32Array, dIn: number, contextLength = 1, info: Record<string, unknown> = {}): ActivationSource {
  if (data.length % dIn !== 0) throw new UserInputError(`activation array of ${data.length} values is not a multiple of d = ${dIn}`);
  const src: ActivationSource = {
    dIn,
    contextLength,
    totalVectors: data.length / dIn,
    async readVectors(start, count) {
      checkRange(src, start, count);
      return data.slice(start * dIn, (start + count) * dIn);
    },
    describe: () => ({ type: 'memory', vectors: data.length / dIn, ...info }),
  };
  return src;
}

/**
 * An activation directory (`saeboard-activations/1`). Contexts are the manifest's rows
 * (`contextLength` vectors each, positions "all"). One decoded shard is cached, so sequential
 * buffer refills read every shard once.
 */
export async function activationSetSource(dir: string): Promise<ActivationSource> {
  const m: ActivationManifest = await readActivationManifest(dir);
  if (m.positions !== 'all') {
    throw new UserInputError(`${dir}: SAE training needs activations at all positions, this set has positions "${m.positions}"`);
  }
  const starts: number[] = [];
  let total = 0;
  for (const s of m.shards) {
    starts.push(total);
    total += s.count;
  }
  let cached: { index: number; data: Float32Array } | null = null;
  const shardData = async (index: number): Promise<Float32Array> => {
    if (cached?.index === index) return cached.data;
    const file = path.join(dir, m.shards[index].file);
    const f = await openSafetensors(file);
    try {
      const acts = await f.read('acts');
      if (acts.shape[1] !== m.d) throw new UserInputError(`${file}: acts have width ${acts.shape[1]}, manifest says ${m.d}`);
      const data = acts.dtype === 'F16' ? float16BitsToFloat32(acts.data as Uint16Array) : toFloat32(acts);
      cached = { index, data };
      return data;
    } finally {
      await f.close();
    }
  };
  const src: ActivationSource = {
    dIn: m.d,
    contextLength: m.contextLength,
    totalVectors: total,
    async readVectors(start, count) {
      checkRange(src, start, count);
      const out = new Float32Array(count * m.d);
      let done = 0;
      while (done < count) {
        const g = start + done;
        let s = starts.length - 1;
        while (starts[s] > g) s--;
        const data = await shardData(s);
        const off = g - starts[s];
        const take = Math.min(count - done, m.shards[s].count - off);
        out.set(data.subarray(off * m.d, (off + take) * m.d), done * m.d);
        done += take;
      }
      return out;
    },
    describe: () => ({ type: 'activation-set', path: path.resolve(dir), layer: m.layer, site: m.site, rows: m.rows, model: m.model, dtype: m.dtype }),
    lineage: () => ({ lm: lmFromManifest(m), layer: m.layer, site: m.site }),
    dispose: () => {
      cached = null;
    },
  };
  return src;
}

function lmFromManifest(m: ActivationManifest): SourceLineage['lm'] {
  const info = m.model as { dir?: unknown; name?: unknown; config?: unknown; tokenizer?: unknown };
  if (typeof info.dir !== 'string') return undefined;
  return {
    dir: info.dir,
    ...(typeof info.name === 'string' ? { name: info.name } : {}),
    // the same hash as src/lm/checkpoint.ts modelConfigHash (config + tokenizer)
    ...(info.config && typeof info.tokenizer === 'string' ? { configHash: configHash({ model: info.config, tokenizer: info.tokenizer }) } : {}),
  };
}

/**
 * The LM on the fly: context c is row c of `data` (cut to `contextLength` tokens) run through
 * `model` up to `layer`. Reading a range recomputes the rows it touches (deterministic).
 */
export function lmSource(opts: {
  model: Gpt;
  data: TokenSequences;
  layer: number;
  site?: Site;
  contextLength?: number;
  /** Rows per forward pass (trainers.md §1: 256). */
  lmBatchSize?: number;
  info?: Record<string, unknown>;
  lm?: SourceLineage['lm'];
}): ActivationSource {
  const T = opts.contextLength ?? Math.min(opts.data.length, opts.model.config.nCtx);
  const d = opts.model.config.dModel;
  const src: ActivationSource = {
    dIn: d,
    contextLength: T,
    totalVectors: opts.data.count * T,
    async readVectors(start, count) {
      checkRange(src, start, count);
      const out = new Float32Array(count * d);
      const row0 = Math.floor(start / T);
      const row1 = Math.ceil((start + count) / T);
      let rowBase = row0;
      for await (const batch of activationBatches({
        model: opts.model,
        data: opts.data,
        layer: opts.layer,
        site: opts.site ?? 'resid_post',
        contextLength: T,
        batchSize: opts.lmBatchSize ?? 32,
        start: row0,
        count: row1 - row0,
      })) {
        // batch covers vectors [rowBase·T, rowBase·T + n)
        const bStart = rowBase * T;
        const lo = Math.max(start, bStart);
        const hi = Math.min(start + count, bStart + batch.n);
        if (hi > lo) out.set(batch.acts_ND.subarray((lo - bStart) * d, (hi - bStart) * d), (lo - start) * d);
        rowBase += batch.n / T;
      }
      return out;
    },
    describe: () => ({ type: 'lm', layer: opts.layer, site: opts.site ?? 'resid_post', contextLength: T, data: opts.data.source, ...opts.info }),
    lineage: () => ({ ...(opts.lm ? { lm: opts.lm } : {}), layer: opts.layer, site: opts.site ?? 'resid_post' }),
  };
  return src;
}

/** Synthetic sparse data; context c is generated from its own seed, so access is random. */
export function syntheticSource(opts: { dict: SyntheticDictionary; active: number; contexts: number; contextLength: number; seed: number }): ActivationSource {
  const { dict, contextLength: T } = opts;
  const src: ActivationSource = {
    dIn: dict.dIn,
    contextLength: T,
    totalVectors: opts.contexts * T,
    async readVectors(start, count) {
      checkRange(src, start, count);
      const d = dict.dIn;
      const out = new Float32Array(count * d);
      const c0 = Math.floor(start / T);
      const c1 = Math.ceil((start + count) / T);
      const ctx = new Float32Array(T * d);
      for (let c = c0; c < c1; c++) {
        sampleSparse(dict, T, new Rng((opts.seed * 1_000_003 + c) >>> 0), { active: opts.active }, ctx);
        const lo = Math.max(start, c * T);
        const hi = Math.min(start + count, (c + 1) * T);
        out.set(ctx.subarray((lo - c * T) * d, (hi - c * T) * d), (lo - start) * d);
      }
      return out;
    },
    describe: () => ({ type: 'synthetic', dIn: dict.dIn, features: dict.nFeatures, active: opts.active, seed: opts.seed }),
  };
  return src;
}

/** Build the source a sweep config names (sweepConfig.ts `source`). */
export async function openSource(spec: SourceSpec): Promise<ActivationSource> {
  switch (spec.type) {
    case 'activations':
      return activationSetSource(spec.path);
    case 'synthetic':
      return syntheticSource({
        dict: randomUnitDictionary(spec.dIn, spec.features, spec.seed ?? 0),
        active: spec.active,
        contexts: spec.contexts,
        contextLength: spec.contextLength ?? 1,
        seed: (spec.seed ?? 0) + 1,
      });
    case 'lm': {
      const { loadModelDir, modelConfigHash } = await import('../lm/checkpoint.js');
      const { resolveModelPath } = await import('../lm/models.js');
      const { datasetSequences } = await import('../lm/dataset.js');
      const { checkTokenizerMatch } = await import('../lm/data.js');
      const { parseSite } = await import('../lm/model.js');
      const dir = resolveModelPath(spec.model);
      const { model, meta } = await loadModelDir(dir);
      const data = await datasetSequences(spec.dataset, { split: spec.split ?? 'train' });
      checkTokenizerMatch(model.config, meta.tokenizer, data);
      const site = parseSite(spec.site ?? 'resid_post');
      const contextLength = spec.contextLength ?? Math.min(data.length, model.config.nCtx);
      const src = lmSource({
        model,
        data,
        layer: spec.layer,
        site,
        contextLength,
        lmBatchSize: spec.lmBatchSize,
        info: { model: meta.name, dataset: spec.dataset, split: spec.split ?? 'train' },
        lm: { dir: path.resolve(dir), name: meta.name, configHash: modelConfigHash(meta) },
      });
      return { ...src, dispose: () => model.dispose() };
    }
  }
}
