/**
 * The board-game GPT: nanoGPT's architecture in TensorFlow.js.
 *
 *   x = wte[tokens] + wpe[0..T)
 *   for each block:  x = x + attn(ln1(x));  x = x + mlp(ln2(x))      (pre-LayerNorm)
 *   logits = ln_f(x) @ W_U (+ b_U)                                      (W_U = wteᵀ when tied)
 *
 * attn is causal multi-head softmax attention with a fused qkv projection; mlp is
 * Linear(d, dMlp) → GELU (exact or tanh, `config.activation`) → Linear(dMlp, d). LayerNorm eps
 * comes from the config (1e-5 for every model we know of).
 *
 * Layout: the residual stream is kept as a 2-D [N = B·T, d] tensor so every projection is one big
 * matmul; heads use a [H·B, T, Dh] layout (one 4-D transpose in, one out, per block) — no 5-D
 * transposes and no `pow` (perf.md §3).
 *
 * Hooks: every block exposes six sites (TransformerLens names in brackets):
 *   resid_pre  [hook_resid_pre]   input of the block
 *   attn_out   [hook_attn_out]    attention output (after W_O and its bias)
 *   resid_mid  [hook_resid_mid]   resid_pre + attn_out
 *   mlp_post   [mlp.hook_post]    GELU output, dMlp wide
 *   mlp_out    [hook_mlp_out]     MLP output
 *   resid_post [hook_resid_post]  resid_mid + mlp_out = output of the block
 * A hook sees the site's tensor as [B, T, width] and may return a replacement of the same shape;
 * that is how the SAE loss-recovered splice (metrics.md §7) replaces the block-5 output.
 */
import { tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import { headDim, parseConfig, type GptConfig } from './config.js';
import {
  causalAttention,
  causalMask,
  crossEntropy,
  embed,
  fromHeads,
  fusedCausalAttentionActive,
  gelu,
  layerNorm,
  linear,
  ownedVariable,
  softmax,
  toHeads,
} from './ops.js';
import { checkParams, expectedParamShapes, type HostTensor } from './params.js';
import { Rng } from './rng.js';

export const SITES = ['resid_pre', 'attn_out', 'resid_mid', 'mlp_post', 'mlp_out', 'resid_post'] as const;
export type Site = (typeof SITES)[number];

export interface HookPoint {
  layer: number;
  site: Site;
}

/** Return nothing to only observe (call `tf.keep` on what you want to outlive the forward pass). */
export type Hook = (x_BTX: tf.Tensor3D, point: HookPoint) => tf.Tensor | void;

export interface ForwardOptions {
  hook?: Hook;
  /** Run blocks 0..L only and return resid_post of block L, [B, T, d], instead of logits. */
  stopAfterLayer?: number;
}

/** How a forward pass attends: see Gpt.run. */
export interface AttentionContext {
  /** Additive bias broadcastable to [H·B, T, S]: 0 where a query may attend, −1e9 where not. */
  bias: tf.Tensor;
  /**
   * The bias is exactly the plain causal mask over S = T (no past): attention may then run as one
   * fused kernel that never forms the scores (causalAttention).
   */
  causal?: boolean;
  /** [B, T] int32 position of every token (default 0..T−1 in every row). */
  positions_BT?: tf.Tensor2D;
  /** Per layer, keys and values [H·B, S − T, Dh] of the earlier positions. */
  past?: readonly { k: tf.Tensor3D; v: tf.Tensor3D }[];
  /** Receives each layer's keys and values [H·B, S, Dh] (kept: the receiver disposes them). */
  keep?: (layer: number, k_XSDh: tf.Tensor3D, v_XSDh: tf.Tensor3D) => void;
}

export function siteWidth(c: GptConfig, site: Site): number {
  return site === 'mlp_post' ? c.dMlp : c.dModel;
}

export function parseSite(s: string): Site {
  if ((SITES as readonly string[]).includes(s)) return s as Site;
  throw new UserInputError(`unknown site "${s}" (expected one of ${SITES.join(', ')})`);
}

export function checkLayer(c: GptConfig, layer: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.nLayer) {
    throw new UserInputError(`layer ${layer} does not exist: the model has ${c.nLayer} blocks (0..${c.nLayer - 1})`);
  }
}

export class Gpt {
  readonly config: GptConfig;
  /**
   * Parameters as variables (so the trainer updates them in place), by saeboard name (params.ts)
   * except that the fused qkv projection is held as three variables `attn.w_q|w_k|w_v` (and
   * `b_q|b_k|b_v`): slicing q/k/v apart at run time would cost a full copy of the activations per
   * slice on the wasm backend. `toHost()` writes the fused file layout back.
   */
  readonly params: ReadonlyMap<string, tf.Variable>;
  private readonly masks = new Map<number, tf.Tensor2D>();
  private disposed = false;

  private constructor(config: GptConfig, params: Map<string, tf.Variable>) {
    this.config = config;
    this.params = params;
  }

  /** Build from host arrays (checkpoint or importer output). Shapes are checked against the config. */
  static fromHost(config: GptConfig, tensors: Record<string, HostTensor>, source = 'weights'): Gpt {
    config = parseConfig(config, `${source} config`);
    checkParams(config, tensors, source);
    const params = new Map<string, tf.Variable>();
    const d = config.dModel;
    for (const name of Object.keys(expectedParamShapes(config)).sort()) {
      const t = tensors[name]; // finite: every loader checks (src/util/finite.ts)
      if (name.endsWith('attn.w_qkv')) {
        const base = name.slice(0, -'w_qkv'.length);
        ['q', 'k', 'v'].forEach((part, i) => {
          const w = new Float32Array(d * d);
          for (let r = 0; r < d; r++) w.set(t.data.subarray(r * 3 * d + i * d, r * 3 * d + (i + 1) * d), r * d);
          params.set(`${base}w_${part}`, ownedVariable(() => tf.tensor2d(w, [d, d])));
        });
      } else if (name.endsWith('attn.b_qkv')) {
        const base = name.slice(0, -'b_qkv'.length);
        ['q', 'k', 'v'].forEach((part, i) => params.set(`${base}b_${part}`, ownedVariable(() => tf.tensor1d(t.data.slice(i * d, (i + 1) * d)))));
      } else {
        params.set(name, ownedVariable(() => tf.tensor(t.data, t.shape, 'float32')));
      }
    }
    return new Gpt(config, params);
  }

  /**
   * nanoGPT / HF GPT-2 initialisation: weights N(0, 0.02), the two residual-writing projections
   * (attn W_O, MLP W_out) N(0, 0.02/√(2·nLayer)), biases 0, LayerNorm weight 1. Deterministic in
   * `seed` (own PRNG, independent of tfjs). This is also the random-init baseline of models.md §4.
   */
  static random(config: GptConfig, seed: number): Gpt {
    config = parseConfig(config);
    return Gpt.fromHost(config, randomInitHost(config, seed), 'random init');
  }

  get nParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Trainable variables in a stable (sorted-name) order. */
  variables(): { name: string; variable: tf.Variable }[] {
    return [...this.params.keys()].sort().map((name) => ({ name, variable: this.params.get(name)! }));
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`internal: parameter ${name} missing`);
    return v;
  }

  private maybe(name: string): tf.Variable | undefined {
    return this.params.get(name);
  }

  /** The cached [t, t] causal bias (0 on and below the diagonal, −1e9 above); owned by the model. */
  mask(t: number): tf.Tensor2D {
    let m = this.masks.get(t);
    if (!m) {
      m = tf.tidy(() => causalMask(t));
      tf.keep(m);
      this.masks.set(t, m);
    }
    return m;
  }

  /**
   * tokens [B, T] (int32, T ≤ nCtx) → logits [B, T, V], or the block-L output [B, T, d] when
   * `stopAfterLayer` is set. Intermediate tensors are freed block by block, so memory stays at
   * about one block's worth even for ctx 1023.
   */
  forward(tokens_BT: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const T = tokens_BT.shape[1];
    if (T > this.config.nCtx) throw new UserInputError(`sequence length ${T} exceeds the model's context ${this.config.nCtx}`);
    return this.run(tokens_BT, { bias: this.mask(T), causal: true }, opts);
  }

  /**
   * The forward pass with an explicit attention context: `positions` (default 0..T−1 for every
   * row), an additive attention bias broadcastable to [H·B, T, S] and, for cached decoding, the
   * keys/values of S − T earlier positions per layer (`past`) plus a sink for this call's (`keep`).
   */
  private run(tokens_BT: tf.Tensor2D, attn: AttentionContext, opts: ForwardOptions = {}): tf.Tensor3D {
    if (this.disposed) throw new Error('Gpt: used after dispose()');
    const c = this.config;
    const [B, T] = tokens_BT.shape;
    if (opts.stopAfterLayer !== undefined) checkLayer(c, opts.stopAfterLayer);
    const lastLayer = opts.stopAfterLayer ?? c.nLayer - 1;
    const hook = opts.hook;
    const d = c.dModel;

    const at = (x_NX: tf.Tensor2D, layer: number, site: Site): tf.Tensor2D => {
      if (!hook) return x_NX;
      const width = x_NX.shape[1];
      const r = hook(x_NX.reshape([B, T, width]) as tf.Tensor3D, { layer, site });
      if (!r) return x_NX;
      if (r.size !== B * T * width) {
        throw new UserInputError(`hook at ${site} of layer ${layer} returned shape [${r.shape}], expected [${B}, ${T}, ${width}]`);
      }
      return r.reshape([B * T, width]) as tf.Tensor2D;
    };

    let x_ND = tf.tidy(() => {
      const idx_N = tokens_BT.reshape([B * T]).toInt() as tf.Tensor1D;
      const tok_ND = embed(this.p('wte') as tf.Tensor2D, idx_N);
      if (attn.positions_BT) return tf.add(tok_ND, embed(this.p('wpe') as tf.Tensor2D, attn.positions_BT.reshape([B * T]) as tf.Tensor1D)) as tf.Tensor2D;
      const pos_TD = this.p('wpe').slice([0, 0], [T, d]);
      return tf.add(tok_ND.reshape([B, T, d]), pos_TD).reshape([B * T, d]) as tf.Tensor2D;
    });

    for (let layer = 0; layer <= lastLayer; layer++) {
      const prev = x_ND;
      x_ND = tf.tidy(() => this.block(prev, layer, B, T, at, attn));
      prev.dispose();
    }

    if (opts.stopAfterLayer !== undefined) {
      const out = x_ND.reshape([B, T, d]) as tf.Tensor3D;
      x_ND.dispose();
      return out;
    }
    const logits = tf.tidy(() => {
      const h_ND = layerNorm(x_ND, this.p('ln_f.w') as tf.Tensor1D, this.maybe('ln_f.b') as tf.Tensor1D | undefined, c.lnEps);
      const head_b = this.maybe('lm_head.b') as tf.Tensor1D | undefined;
      const logits_NV = c.tiedHead
        ? (head_b
            ? tf.fused.matMul({ a: h_ND, b: this.p('wte'), transposeB: true, bias: head_b })
            : tf.matMul(h_ND, this.p('wte'), false, true))
        : linear(h_ND, this.p('lm_head.w') as tf.Tensor2D, head_b);
      return logits_NV.reshape([B, T, c.vocabSize]) as tf.Tensor3D;
    });
    x_ND.dispose();
    return logits;
  }

  /** Cached decoding (see CachedDecoder): one `run` over `tokens_BT` with the given attention context. */
  runCached(tokens_BT: tf.Tensor2D, attn: AttentionContext): tf.Tensor3D {
    return this.run(tokens_BT, attn);
  }

  private block(
    x_ND: tf.Tensor2D,
    layer: number,
    B: number,
    T: number,
    at: (x: tf.Tensor2D, layer: number, site: Site) => tf.Tensor2D,
    attn: AttentionContext,
  ): tf.Tensor2D {
    const c = this.config;
    const pre = `blocks.${layer}.`;
    const w = (n: string) => this.p(pre + n) as tf.Tensor2D;
    const b = (n: string) => this.maybe(pre + n) as tf.Tensor1D | undefined;

    x_ND = at(x_ND, layer, 'resid_pre');

    // --- attention
    const h_ND = layerNorm(x_ND, this.p(pre + 'ln1.w') as tf.Tensor1D, b('ln1.b'), c.lnEps);
    // the plain causal mask where native kernels take it (inference; training beyond ctx 64);
    // otherwise, and for cached decoding, the composed attention over the cached mask
    const fused = attn.causal && !attn.past && !attn.keep && fusedCausalAttentionActive(T);
    const y_ND = fused ? this.causalSelfAttention(h_ND, layer, B, T) : this.attention(h_ND, layer, B, T, attn);
    const attnOut_ND = at(linear(y_ND, w('attn.w_o'), b('attn.b_o')), layer, 'attn_out');
    const mid_ND = at(tf.add(x_ND, attnOut_ND), layer, 'resid_mid');

    // --- MLP
    const h2_ND = layerNorm(mid_ND, this.p(pre + 'ln2.w') as tf.Tensor1D, b('ln2.b'), c.lnEps);
    const post_NM = at(gelu(linear(h2_ND, w('mlp.w_in'), b('mlp.b_in')), c.activation), layer, 'mlp_post');
    const mlpOut_ND = at(linear(post_NM, w('mlp.w_out'), b('mlp.b_out')), layer, 'mlp_out');
    return at(tf.add(mid_ND, mlpOut_ND), layer, 'resid_post');
  }

  /** q, k or v of block `layer`: [N, d], head h in columns h·Dh..(h+1)·Dh. */
  private projection(h_ND: tf.Tensor2D, layer: number, part: 'q' | 'k' | 'v'): tf.Tensor2D {
    const pre = `blocks.${layer}.attn.`;
    return linear(h_ND, this.p(`${pre}w_${part}`) as tf.Tensor2D, this.maybe(`${pre}b_${part}`) as tf.Tensor1D | undefined);
  }

  /** Plain causal self-attention (no cache): one fused kernel on the [B, T, d] projections. */
  private causalSelfAttention(h_ND: tf.Tensor2D, layer: number, B: number, T: number): tf.Tensor2D {
    const c = this.config;
    const [q, k, v] = (['q', 'k', 'v'] as const).map((part) => this.projection(h_ND, layer, part).reshape([B, T, c.dModel]) as tf.Tensor3D);
    return causalAttention(q, k, v, c.nHead, 1 / Math.sqrt(headDim(c))).reshape([B * T, c.dModel]) as tf.Tensor2D;
  }

  /**
   * Attention under any additive bias, with cached keys/values of earlier positions (decoding):
   * softmax(q·kᵀ/√Dh + bias)·v over (head, batch) pairs X = H·B.
   */
  private attention(h_ND: tf.Tensor2D, layer: number, B: number, T: number, attn: AttentionContext): tf.Tensor2D {
    const c = this.config;
    const H = c.nHead;
    // [N, d] → [H·B, T, Dh]: (head, batch) pairs form one batch axis X = H·B
    const heads = (part: 'q' | 'k' | 'v') => toHeads(this.projection(h_ND, layer, part).reshape([B, T, c.dModel]) as tf.Tensor3D, H);
    const q_XTDh = heads('q');
    const past = attn.past?.[layer];
    // keys/values of the S = past + T positions this call attends over
    const k_XSDh = past ? (tf.concat([past.k, heads('k')], 1) as tf.Tensor3D) : heads('k');
    const v_XSDh = past ? (tf.concat([past.v, heads('v')], 1) as tf.Tensor3D) : heads('v');
    if (attn.keep) attn.keep(layer, tf.keep(k_XSDh), tf.keep(v_XSDh));
    // scale q rather than the T×S scores: cheaper whenever T > Dh
    const scores_XTS = tf.matMul(tf.mul(q_XTDh, 1 / Math.sqrt(headDim(c))), k_XSDh, false, true);
    const y_XTDh = tf.matMul(softmax(tf.add(scores_XTS, attn.bias) as tf.Tensor3D), v_XSDh);
    // back to [N, d] with head h in columns h·Dh..(h+1)·Dh
    return fromHeads(y_XTDh as tf.Tensor3D, H).reshape([B * T, c.dModel]) as tf.Tensor2D;
  }

  /** Logits for host token rows: tokens is [B·T] row-major. */
  logits(tokens: Int32Array, B: number, T: number): tf.Tensor3D {
    return tf.tidy(() => this.forward(tf.tensor2d(tokens, [B, T], 'int32')));
  }

  /**
   * Mean next-token cross-entropy: predict token j+1 from prefix 0..j for j = 0..T−2, over all
   * rows (metrics.md §7 `H_orig`). With `ignoreIndex`, targets equal to it are skipped (Othello
   * padding). `hook` allows the H_* / H_0 splices.
   */
  nextTokenLoss(tokens_BT: tf.Tensor2D, opts: { hook?: Hook; ignoreIndex?: number } = {}): tf.Scalar {
    return tf.tidy(() => {
      const [B, T] = tokens_BT.shape;
      const logits_BTV = this.forward(tokens_BT, { hook: opts.hook });
      const V = this.config.vocabSize;
      const pred_NV = logits_BTV.slice([0, 0, 0], [B, T - 1, V]).reshape([B * (T - 1), V]) as tf.Tensor2D;
      const tgt_N = tokens_BT.slice([0, 1], [B, T - 1]).reshape([B * (T - 1)]).toInt() as tf.Tensor1D;
      return crossEntropy(pred_NV, tgt_N, opts.ignoreIndex);
    });
  }

  /** Read the given sites (one forward pass, stopping after the deepest requested layer). */
  runWithCache(tokens_BT: tf.Tensor2D, points: HookPoint[]): Map<string, tf.Tensor3D> {
    for (const p of points) checkLayer(this.config, p.layer);
    const wanted = new Set(points.map(pointKey));
    const cache = new Map<string, tf.Tensor3D>();
    const deepest = Math.max(...points.map((p) => p.layer));
    const out = this.forward(tokens_BT, {
      stopAfterLayer: deepest,
      hook: (x, point) => {
        const key = pointKey(point);
        if (wanted.has(key)) cache.set(key, tf.keep(x.clone()));
      },
    });
    out.dispose();
    return cache;
  }

  /** Copy all parameters to host memory (saeboard naming, fused qkv). */
  async toHost(): Promise<Record<string, HostTensor>> {
    const out: Record<string, HostTensor> = {};
    const d = this.config.dModel;
    for (const [name, v] of this.params) {
      const m = /^(.*attn\.)([wb])_([qkv])$/.exec(name);
      if (!m) {
        out[name] = { shape: [...v.shape], data: (await v.data()) as Float32Array };
        continue;
      }
      const [, base, kind, part] = m;
      const i = 'qkv'.indexOf(part);
      const fused = `${base}${kind}_qkv`;
      const data = (await v.data()) as Float32Array;
      if (kind === 'w') {
        out[fused] ??= { shape: [d, 3 * d], data: new Float32Array(3 * d * d) };
        for (let r = 0; r < d; r++) out[fused].data.set(data.subarray(r * d, (r + 1) * d), r * 3 * d + i * d);
      } else {
        out[fused] ??= { shape: [3 * d], data: new Float32Array(3 * d) };
        out[fused].data.set(data, i * d);
      }
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}

/**
 * Greedy decoding with a key/value cache for a batch of prefixes of different lengths: the
 * prefixes are left-padded so every row's next token lands in the same cache column; each row's
 * positions count from its own first token, and padded columns are masked out as keys (with a
 * finite −1e9, so the padded rows' own outputs stay finite and weigh exactly 0). Each `next` call
 * costs one position per row instead of re-running the whole prefix.
 */
export class CachedDecoder {
  private kv: { k: tf.Tensor3D; v: tf.Tensor3D }[] = [];
  /** [H·B, 1, S] key mask of the columns so far. */
  private keyBias: tf.Tensor3D;
  private readonly nextPos: Int32Array;
  private readonly B: number;
  /** The padded prefixes until `start()` runs them. */
  private prefill: { tokens: Int32Array; positions: Int32Array } | null;

  /** Runs the prefixes (each ≥ 1 token); `start()` then returns their next-token logits. */
  constructor(
    private readonly model: Gpt,
    prefixes: readonly ArrayLike<number>[],
  ) {
    const c = model.config;
    const B = (this.B = prefixes.length);
    const W = Math.max(...prefixes.map((p) => p.length));
    if (B === 0 || prefixes.some((p) => p.length === 0)) throw new UserInputError('cached decoding needs at least one non-empty prefix');
    if (W > c.nCtx) throw new UserInputError(`sequence length ${W} exceeds the model's context ${c.nCtx}`);
    const tokens = new Int32Array(B * W);
    const positions = new Int32Array(B * W);
    const keyMask = new Float32Array(B * W);
    this.nextPos = new Int32Array(B);
    prefixes.forEach((p, b) => {
      const pad = W - p.length;
      for (let j = 0; j < W; j++) {
        tokens[b * W + j] = j < pad ? 0 : p[j - pad];
        positions[b * W + j] = Math.max(0, j - pad);
        keyMask[b * W + j] = j < pad ? -1e9 : 0;
      }
      this.nextPos[b] = p.length;
    });
    // rows are ordered x = h·B + b in attention: repeat the [B, W] mask for every head
    this.keyBias = tf.tidy(() => tf.tile(tf.tensor2d(keyMask, [B, W]), [c.nHead, 1]).reshape([c.nHead * B, 1, W]) as tf.Tensor3D);
    this.prefill = { tokens, positions };
  }

  /** Next-token logits [B, V] after each prefix. */
  async start(): Promise<Float32Array> {
    if (!this.prefill) throw new Error('CachedDecoder: start() called twice');
    const { tokens, positions } = this.prefill;
    this.prefill = null;
    const W = this.keyBias.shape[2];
    return this.runStep(tokens, positions, W, tf.tidy(() => tf.add(this.keyBias, this.model.mask(W)) as tf.Tensor3D));
  }

  /** Append one token per row (rows that are finished may append anything) → next-token logits [B, V]. */
  async next(tokens_B: Int32Array): Promise<Float32Array> {
    if (this.prefill) throw new Error('CachedDecoder: call start() first');
    if (this.nextPos.some((p) => p >= this.model.config.nCtx)) throw new UserInputError(`decoding past the model's context ${this.model.config.nCtx}`);
    const grown = tf.tidy(() => tf.concat([this.keyBias, tf.zeros([this.keyBias.shape[0], 1, 1])], 2) as tf.Tensor3D);
    this.keyBias.dispose();
    this.keyBias = grown;
    const positions = Int32Array.from(this.nextPos);
    for (let b = 0; b < this.B; b++) this.nextPos[b]++;
    return this.runStep(tokens_B, positions, 1, tf.clone(this.keyBias));
  }

  private async runStep(tokens: Int32Array, positions: Int32Array, T: number, bias: tf.Tensor3D): Promise<Float32Array> {
    const B = this.B;
    const fresh: { k: tf.Tensor3D; v: tf.Tensor3D }[] = [];
    const tok_BT = tf.tensor2d(tokens, [B, T], 'int32');
    const pos_BT = tf.tensor2d(positions, [B, T], 'int32');
    let logits_BTV: tf.Tensor3D;
    try {
      logits_BTV = this.model.runCached(tok_BT, { bias, positions_BT: pos_BT, past: this.kv.length ? this.kv : undefined, keep: (layer, k, v) => (fresh[layer] = { k, v }) });
    } catch (e) {
      for (const f of fresh) if (f) tf.dispose([f.k, f.v]);
      throw e;
    } finally {
      tf.dispose([tok_BT, pos_BT, bias]);
    }
    for (const { k, v } of this.kv) tf.dispose([k, v]);
    this.kv = fresh;
    const V = this.model.config.vocabSize;
    const last_BV = tf.tidy(() => logits_BTV.slice([0, T - 1, 0], [B, 1, V]).reshape([B, V]));
    logits_BTV.dispose();
    const out = (await last_BV.data()) as Float32Array;
    last_BV.dispose();
    return out;
  }

  dispose(): void {
    for (const { k, v } of this.kv) tf.dispose([k, v]);
    this.kv = [];
    this.keyBias.dispose();
  }
}

export function pointKey(p: HookPoint): string {
  return `blocks.${p.layer}.${p.site}`;
}

export function randomInitHost(config: GptConfig, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const residStd = 0.02 / Math.sqrt(2 * config.nLayer);
  const out: Record<string, HostTensor> = {};
  // Sorted order so the draw sequence (and thus the weights) depends only on the config and seed.
  for (const [name, shape] of Object.entries(expectedParamShapes(config)).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('ln1.w') || name.endsWith('ln2.w') || name === 'ln_f.w') data.fill(1);
    else if (/\.(b|b_\w+)$/.test(name) || name === 'lm_head.b') data.fill(0);
    else rng.fillNormal(data, 0, name.endsWith('attn.w_o') || name.endsWith('mlp.w_out') ? residStd : 0.02);
    out[name] = { shape, data };
  }
  return out;
}
