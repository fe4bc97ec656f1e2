/**
 * The dictionary interface every SAE architecture implements, and the registry of architectures.
 *
 * saeboard's canonical parameter layout (one orientation for all architectures, SAELens-style):
 *   W_enc [d, F]  (x @ W_enc; dictionary_learning's `encoder.weight` is its transpose)
 *   b_enc [F], W_dec [F, d] (one row per feature = the dictionary vector), b_dec [d]
 * plus architecture-specific tensors (gated: r_mag, b_gate, b_mag and no b_enc; jump_relu:
 * threshold [F]; batch_top_k: threshold []). Interop with other layouts lives in `interop.ts`.
 *
 * `encode` returns the features *as the paper evaluates them* (metrics.md §2: f = ae.encode(x)).
 * All tensors returned by these methods belong to the caller (dispose them); the dictionary's own
 * variables are freed by `dispose()`.
 */
import { tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import type { DictionaryName } from './config.js';
import { mm } from './ops.js';

export type { DictionaryName } from './config.js';

export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

/** Scalar settings that are part of the function but not trained by gradient. */
export interface DictionaryMeta {
  /** top_k / batch_top_k: features kept per row (per sample on average for batch_top_k). */
  k?: number;
  /** jump_relu: subtract b_dec before encoding (false for dictionary_learning, SAELens default true). */
  applyBDecToInput?: boolean;
}

export interface Dictionary {
  readonly name: DictionaryName;
  readonly dIn: number;
  readonly dictSize: number;
  readonly meta: Readonly<DictionaryMeta>;
  /** Parameters (and trained buffers such as batch_top_k's threshold) in the canonical layout. */
  readonly params: Readonly<Record<string, tf.Variable>>;
  /** Features f(x) [B, F] as evaluated in the paper. */
  encode(x_BD: tf.Tensor2D): tf.Tensor2D;
  /** Reconstruction x̂ [B, d] from features. */
  decode(f_BF: tf.Tensor2D): tf.Tensor2D;
  /** One encode, both outputs. */
  forward(x_BD: tf.Tensor2D): { xHat_BD: tf.Tensor2D; feats_BF: tf.Tensor2D };
  /** Host copies of all parameters (canonical names). */
  toHost(): Record<string, HostTensor>;
  /** Overwrite parameters from host arrays (shapes must match). */
  load(tensors: Record<string, HostTensor | Float32Array>): void;
  dispose(): void;
}

export interface DictionarySpec {
  name: DictionaryName;
  /** Canonical tensor names and shapes for (d, F). */
  shapes(dIn: number, dictSize: number): Record<string, number[]>;
  create(dIn: number, dictSize: number, tensors: Record<string, Float32Array>, meta: DictionaryMeta): Dictionary;
}

/** Shared plumbing: variables from host arrays, decode, host export. Subclasses define encode. */
export abstract class BaseDictionary implements Dictionary {
  abstract readonly name: DictionaryName;
  readonly params: Record<string, tf.Variable>;
  readonly meta: DictionaryMeta;

  constructor(
    readonly dIn: number,
    readonly dictSize: number,
    shapes: Record<string, number[]>,
    tensors: Record<string, Float32Array>,
    meta: DictionaryMeta,
    trainable: (name: string) => boolean = () => true,
  ) {
    this.meta = { ...meta };
    this.params = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const data = tensors[name];
      const numel = shape.reduce((a, b) => a * b, 1);
      if (!data) throw new UserInputError(`dictionary: missing tensor ${name} ${JSON.stringify(shape)}`);
      if (data.length !== numel) {
        throw new UserInputError(`dictionary: tensor ${name} has ${data.length} values, expected shape ${JSON.stringify(shape)} (${numel})`);
      }
      const init = tf.tensor(data, shape, 'float32');
      this.params[name] = tf.variable(init, trainable(name), undefined, 'float32');
      init.dispose(); // the variable keeps its own reference to the data
    }
  }

  abstract encode(x_BD: tf.Tensor2D): tf.Tensor2D;

  /** (x − b_dec) W_enc, plus `bias` when given: the encoders' shared first step. */
  protected centeredAffine(x_BD: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor2D {
    const p = this.params;
    return tf.tidy(() => {
      const z = mm(tf.sub(x_BD, p.b_dec) as tf.Tensor2D, p.W_enc as tf.Tensor2D);
      return bias ? (tf.add(z, bias) as tf.Tensor2D) : z;
    });
  }

  decode(f_BF: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(mm(f_BF, this.params.W_dec as tf.Tensor2D), this.params.b_dec));
  }

  forward(x_BD: tf.Tensor2D): { xHat_BD: tf.Tensor2D; feats_BF: tf.Tensor2D } {
    const feats_BF = this.encode(x_BD);
    const xHat_BD = this.decode(feats_BF);
    return { xHat_BD, feats_BF };
  }

  toHost(): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {};
    for (const [name, v] of Object.entries(this.params)) {
      out[name] = { data: new Float32Array(v.dataSync() as Float32Array), shape: [...v.shape] };
    }
    return out;
  }

  load(tensors: Record<string, HostTensor | Float32Array>): void {
    for (const [name, v] of Object.entries(this.params)) {
      const t = tensors[name];
      if (!t) throw new UserInputError(`dictionary ${this.name}: missing tensor ${name}`);
      const data = t instanceof Float32Array ? t : t.data;
      if (data.length !== v.size) throw new UserInputError(`dictionary ${this.name}: tensor ${name} has ${data.length} values, expected ${v.size}`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}

/** meta.k of a top-k style dictionary, checked to lie in [1, dictSize]. */
export function checkedK(name: DictionaryName, meta: DictionaryMeta, dictSize: number): number {
  if (!meta.k || meta.k < 1 || meta.k > dictSize) throw new UserInputError(`${name} dictionary: k must be in [1, ${dictSize}], got ${meta.k}`);
  return meta.k;
}

const registry = new Map<DictionaryName, DictionarySpec>();

export function registerDictionary(spec: DictionarySpec): void {
  registry.set(spec.name, spec);
}

export function dictionarySpec(name: string): DictionarySpec {
  const spec = registry.get(name as DictionaryName);
  if (!spec) throw new UserInputError(`unknown dictionary "${name}" (known: ${[...registry.keys()].join(', ')})`);
  return spec;
}

export function createDictionary(
  name: DictionaryName,
  dIn: number,
  dictSize: number,
  tensors: Record<string, Float32Array>,
  meta: DictionaryMeta = {},
): Dictionary {
  return dictionarySpec(name).create(dIn, dictSize, tensors, meta);
}

export function knownDictionaries(): DictionaryName[] {
  return [...registry.keys()];
}
