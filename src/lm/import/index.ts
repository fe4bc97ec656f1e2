/**
 * Import GPT weights from other tools into saeboard naming (params.ts):
 *
 *  - nanoGPT checkpoints (`.pt`, torch.save zip): `model` state dict (nn.Linear [out, in]), with
 *    `_orig_mod.` prefixes (torch.compile) stripped; `model_args` gives nHead etc. when present.
 *  - TransformerLens state dicts (`.pt` or `.safetensors`): per-head W_Q/W_K/W_V [H, d, dh],
 *    W_O [H, dh, d], W_in/W_out, W_U/b_U; LayerNorm weights present (unfolded) or folded away
 *    (LNPre: then the LayerNorms are imported as weight 1 / bias 0, which is exactly LNPre).
 *  - HF GPT-2 (`GPT2LMHeadModel`) safetensors: Conv1D weights already [in, out]; reads a sibling
 *    `config.json` (or `<stem>.config.json`) for n_head and activation_function.
 *  - saeboard checkpoints (a directory, or its model.safetensors).
 *
 * The format is recognised from tensor names and shapes. Nothing is inferred silently that the
 * file cannot support: a missing head count or a config that contradicts the tensors is an error
 * that names the field and the tensor.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError, oneLine } from '../../errors.js';
import { readSafetensors, toFloat32 } from '../../util/safetensors.js';
import { ACTIVATIONS, makeConfig, type Activation, type GptConfig } from '../config.js';
import { checkParams, type HostTensor } from '../params.js';
import { loadTorchFile, TorchTensor, toPlain } from './torch-pickle.js';
import { assertFiniteTensors } from '../../util/finite.js';

export type ImportFormat = 'nanogpt' | 'transformerlens' | 'hf-gpt2' | 'saeboard';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['nanogpt', 'transformerlens', 'hf-gpt2', 'saeboard'];

export interface ImportOptions {
  format?: ImportFormat;
  /** Override the activation (files rarely record it; see docs/lm.md for the defaults). */
  activation?: Activation;
  /** Number of attention heads when the file does not say. */
  nHead?: number;
  /** A JSON config to use instead of/in addition to what the file carries (HF config.json or saeboard GptConfig). */
  configFile?: string;
}

export interface ImportedWeights {
  format: ImportFormat;
  config: GptConfig;
  tensors: Record<string, HostTensor>;
  source: string;
  /** Extra facts found in the file (iter_num, best_val_loss, ...). */
  info: Record<string, unknown>;
  /** Decisions taken (folded LayerNorm, tied head detected, ...), for logs and provenance. */
  notes: string[];
}

type Raw = Record<string, HostTensor>;

/** Keys that hold buffers, not weights: causal masks and constants. */
const IGNORED = [/\.attn\.bias$/, /\.attn\.masked_bias$/, /\.attn\.mask$/, /\.attn\.IGNORE$/, /(^|\.)mask$/];

interface Declared {
  nHead?: number;
  nLayer?: number;
  dModel?: number;
  nCtx?: number;
  vocabSize?: number;
  bias?: boolean;
  activation?: Activation;
  lnEps?: number;
  tiedHead?: boolean;
  /** Where these came from, for messages. */
  origin: string;
  /** The names the origin uses for each field, for messages. */
  names: Partial<Record<keyof Omit<Declared, 'origin' | 'names'>, string>>;
}

export async function importWeights(file: string, opts: ImportOptions = {}): Promise<ImportedWeights> {
  const stat = await fs.stat(file).catch(() => {
    throw new UserInputError(`${file}: no such file or directory`);
  });
  let raw: Raw;
  let info: Record<string, unknown> = {};
  let declared: Declared | null = null;
  let source = file;

  if (stat.isDirectory()) {
    const st = path.join(file, 'model.safetensors');
    if (!existsSync(st)) throw new UserInputError(`${file}: directory has no model.safetensors`);
    source = st;
    raw = await readSafetensorsRaw(st);
    declared = await siblingConfig(file, st);
  } else if (file.endsWith('.safetensors')) {
    raw = await readSafetensorsRaw(file);
    declared = await siblingConfig(path.dirname(file), file);
  } else {
    const loaded = await loadTorch(file);
    raw = loaded.raw;
    info = loaded.info;
    declared = loaded.declared;
  }
  if (opts.configFile) declared = await readDeclared(opts.configFile);
  assertFiniteTensors(source, raw);

  const format = opts.format ?? detectFormat(raw, source);
  const notes: string[] = [];
  const declaredActivation = declared?.activation;
  let result: { config: GptConfig; tensors: Raw };
  switch (format) {
    case 'nanogpt':
      result = fromGpt2Like(raw, source, declared, opts, notes, 'linear');
      break;
    case 'hf-gpt2':
      result = fromGpt2Like(raw, source, declared, opts, notes, 'conv1d');
      break;
    case 'transformerlens':
      result = fromTransformerLens(raw, source, declared, opts, notes);
      break;
    case 'saeboard':
      result = fromSaeboard(raw, source, declared, opts);
      break;
  }
  if (!opts.activation && !declaredActivation && format !== 'saeboard') {
    notes.push(`activation not recorded in the file: using "${result.config.activation}" (override with --activation)`);
  }
  checkParams(result.config, result.tensors, source);
  return { format, config: result.config, tensors: result.tensors, source, info, notes };
}

export function detectFormat(raw: Raw, source: string): ImportFormat {
  const keys = Object.keys(raw);
  if (keys.includes('embed.W_E')) return 'transformerlens';
  if (keys.includes('wte') && keys.some((k) => k.endsWith('attn.w_qkv'))) return 'saeboard';
  const cAttn = keys.find((k) => /(^|\.)h\.0\.attn\.c_attn\.weight$/.test(k));
  if (cAttn) {
    const [r, c] = raw[cAttn].shape;
    if (r === 3 * c) return 'nanogpt';
    if (c === 3 * r) return 'hf-gpt2';
    throw new UserInputError(`${source}: tensor "${cAttn}" has shape [${raw[cAttn].shape}], which is neither [3d, d] (nanoGPT) nor [d, 3d] (HF Conv1D)`);
  }
  throw new UserInputError(
    `${source}: unrecognised weight naming (no embed.W_E, transformer.h.0.attn.c_attn.weight or wte + blocks.*): first tensors are ${keys.slice(0, 5).join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// file readers

async function readSafetensorsRaw(file: string): Promise<Raw> {
  const { tensors } = await readSafetensors(file);
  const out: Raw = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (IGNORED.some((re) => re.test(k))) continue;
    if (t.dtype === 'BOOL' || t.dtype.startsWith('I') || t.dtype.startsWith('U')) continue; // buffers
    out[k] = { shape: t.shape, data: toFloat32(t) };
  }
  return out;
}

async function loadTorch(file: string): Promise<{ raw: Raw; info: Record<string, unknown>; declared: Declared | null }> {
  const root = await loadTorchFile(file);
  let sd: unknown = root;
  const info: Record<string, unknown> = {};
  let declared: Declared | null = null;
  if (root instanceof Map && ['model', 'state_dict', 'model_state_dict'].some((k) => root.get(k) instanceof Map)) {
    for (const key of ['model', 'state_dict', 'model_state_dict']) {
      if (root.get(key) instanceof Map) {
        sd = root.get(key);
        break;
      }
    }
    const args = root.get('model_args');
    if (args instanceof Map) declared = declaredFromNanoGpt(toPlain(args) as Record<string, unknown>, `${file} model_args`);
    for (const key of ['iter_num', 'best_val_loss']) {
      const v = root.get(key);
      if (typeof v === 'number') info[key] = v;
      else if (v instanceof TorchTensor && v.numel === 1) info[key] = v.toFloat32()[0];
    }
  }
  if (!(sd instanceof Map)) throw new UserInputError(`${file}: no state dict found (expected a dict of tensors or a checkpoint with "model")`);
  const raw: Raw = {};
  for (const [k0, v] of sd) {
    const k = String(k0).replace(/^(_orig_mod\.|module\.)+/, '');
    if (IGNORED.some((re) => re.test(k))) continue;
    if (!(v instanceof TorchTensor)) continue;
    if (!['float32', 'float64', 'float16', 'bfloat16'].includes(v.dtype)) continue; // int/bool buffers
    raw[k] = { shape: v.shape, data: v.toFloat32() };
  }
  return { raw, info, declared };
}

async function siblingConfig(dir: string, weightsFile: string): Promise<Declared | null> {
  const stemConfig = weightsFile.replace(/\.safetensors$/, '.config.json');
  for (const f of [stemConfig, path.join(dir, 'config.json')]) {
    if (existsSync(f)) return readDeclared(f);
  }
  return null;
}

async function readDeclared(file: string): Promise<Declared> {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserInputError(`${file}: cannot read config (${oneLine((err as Error).message)})`);
  }
  if (j.format === 'saeboard-lm/1' && j.model && typeof j.model === 'object') j = j.model as Record<string, unknown>;
  if ('nLayer' in j || 'dModel' in j) {
    return {
      origin: file,
      nHead: num(j.nHead),
      nLayer: num(j.nLayer),
      dModel: num(j.dModel),
      nCtx: num(j.nCtx),
      vocabSize: num(j.vocabSize),
      bias: typeof j.bias === 'boolean' ? j.bias : undefined,
      activation: act(j.activation, file),
      lnEps: num(j.lnEps),
      tiedHead: typeof j.tiedHead === 'boolean' ? j.tiedHead : undefined,
      names: { nHead: 'nHead', nLayer: 'nLayer', dModel: 'dModel', nCtx: 'nCtx', vocabSize: 'vocabSize', bias: 'bias', tiedHead: 'tiedHead' },
    };
  }
  // HF GPT2Config
  return {
    origin: file,
    nHead: num(j.n_head),
    nLayer: num(j.n_layer),
    dModel: num(j.n_embd),
    nCtx: num(j.n_positions ?? j.n_ctx),
    vocabSize: num(j.vocab_size),
    activation: j.activation_function === undefined ? undefined : act(j.activation_function, file),
    lnEps: num(j.layer_norm_epsilon),
    tiedHead: typeof j.tie_word_embeddings === 'boolean' ? j.tie_word_embeddings : undefined,
    names: { nHead: 'n_head', nLayer: 'n_layer', dModel: 'n_embd', nCtx: 'n_positions', vocabSize: 'vocab_size', tiedHead: 'tie_word_embeddings' },
  };
}

function declaredFromNanoGpt(a: Record<string, unknown>, origin: string): Declared {
  return {
    origin,
    nHead: num(a.n_head),
    nLayer: num(a.n_layer),
    dModel: num(a.n_embd),
    nCtx: num(a.block_size),
    vocabSize: num(a.vocab_size),
    bias: typeof a.bias === 'boolean' ? a.bias : undefined,
    names: { nHead: 'n_head', nLayer: 'n_layer', dModel: 'n_embd', nCtx: 'block_size', vocabSize: 'vocab_size', bias: 'bias' },
  };
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

function act(x: unknown, file: string): Activation | undefined {
  if (x === undefined || x === null) return undefined;
  // HF names: gelu_new / gelu_pytorch_tanh / gelu_fast are tanh approximations; gelu is exact.
  const s = String(x);
  if (s === 'gelu') return 'gelu';
  if (s === 'gelu_new' || s === 'gelu_pytorch_tanh' || s === 'gelu_fast') return 'gelu_new';
  throw new UserInputError(`${file}: activation "${s}" is not supported (expected one of ${ACTIVATIONS.join(', ')}, gelu_pytorch_tanh)`);
}

// ---------------------------------------------------------------------------------------------
// shape helpers

function get(raw: Raw, name: string, source: string, shape?: number[]): HostTensor {
  const t = raw[name];
  if (!t) throw new UserInputError(`${source}: missing tensor "${name}"${shape ? ` (expected shape [${shape}])` : ''}`);
  if (shape && (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))) {
    throw new UserInputError(`${source}: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  return t;
}

function transpose2d(t: HostTensor): HostTensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

function countLayers(raw: Raw, re: RegExp): number {
  let n = 0;
  for (const k of Object.keys(raw)) {
    const m = re.exec(k);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

function allEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compare declared config fields with what the tensors say; the error names both. */
function reconcile(
  declared: Declared | null,
  inferred: { nLayer: number; dModel: number; nCtx: number; vocabSize: number; bias?: boolean },
  evidence: Record<string, string>,
): void {
  if (!declared) return;
  for (const key of ['nLayer', 'dModel', 'nCtx', 'vocabSize', 'bias'] as const) {
    const want = declared[key];
    const have = inferred[key];
    if (want !== undefined && have !== undefined && want !== have) {
      throw new UserInputError(
        `${declared.origin}: field "${declared.names[key] ?? key}" = ${want} does not match the weights: ${evidence[key]} implies ${have}`,
      );
    }
  }
}

function requireHeads(declared: Declared | null, opts: ImportOptions, dModel: number, source: string): number {
  const nHead = opts.nHead ?? declared?.nHead;
  if (!nHead) throw new UserInputError(`${source}: the file does not record the number of attention heads; pass --n-head (or --config)`);
  if (dModel % nHead !== 0) throw new UserInputError(`${source}: n_head ${nHead} does not divide d_model ${dModel}`);
  return nHead;
}

// ---------------------------------------------------------------------------------------------
// converters

/** nanoGPT (nn.Linear [out, in]) and HF GPT-2 (Conv1D [in, out]) share tensor names. */
function fromGpt2Like(raw: Raw, source: string, declared: Declared | null, opts: ImportOptions, notes: string[], layout: 'linear' | 'conv1d') {
  // HF files may lack the "transformer." prefix (GPT2Model rather than GPT2LMHeadModel)
  const pre = raw['transformer.wte.weight'] ? 'transformer.' : '';
  const wte = get(raw, `${pre}wte.weight`, source);
  if (wte.shape.length !== 2) throw new UserInputError(`${source}: tensor "${pre}wte.weight" has shape [${wte.shape}], expected [vocab, d]`);
  const [vocabSize, d] = wte.shape;
  const wpe = get(raw, `${pre}wpe.weight`, source);
  if (wpe.shape.length !== 2 || wpe.shape[1] !== d) throw new UserInputError(`${source}: tensor "${pre}wpe.weight" has shape [${wpe.shape}], expected [n_ctx, ${d}]`);
  const nCtx = wpe.shape[0];
  const nLayer = countLayers(raw, new RegExp(`^${pre.replace('.', '\\.')}h\\.(\\d+)\\.`));
  if (nLayer === 0) throw new UserInputError(`${source}: no transformer blocks (${pre}h.0.*) found`);
  const bias = raw[`${pre}h.0.attn.c_attn.bias`] !== undefined;
  const fc = get(raw, `${pre}h.0.mlp.c_fc.weight`, source);
  const dMlp = layout === 'linear' ? fc.shape[0] : fc.shape[1];
  reconcile(declared, { nLayer, dModel: d, nCtx, vocabSize, bias }, {
    nLayer: `blocks ${pre}h.0..${nLayer - 1}`,
    dModel: `tensor "${pre}wte.weight" [${wte.shape}]`,
    nCtx: `tensor "${pre}wpe.weight" [${wpe.shape}]`,
    vocabSize: `tensor "${pre}wte.weight" [${wte.shape}]`,
    bias: `the ${bias ? 'presence' : 'absence'} of "${pre}h.0.attn.c_attn.bias"`,
  });
  const nHead = requireHeads(declared, opts, d, source);

  const lmHead = raw['lm_head.weight'];
  let tiedHead = !lmHead;
  if (lmHead) {
    if (lmHead.shape[0] !== vocabSize || lmHead.shape[1] !== d) {
      throw new UserInputError(`${source}: tensor "lm_head.weight" has shape [${lmHead.shape}], expected [${vocabSize}, ${d}]`);
    }
    tiedHead = allEqual(lmHead.data, wte.data);
  }
  if (tiedHead) notes.push(lmHead ? 'lm_head.weight equals wte: imported as a tied head' : 'no lm_head.weight: head tied to wte');

  const defaultAct: Activation = layout === 'linear' ? 'gelu' : 'gelu_new';
  const config = makeConfig({
    nLayer, nHead, dModel: d, nCtx, vocabSize, dMlp, bias, tiedHead, headBias: false,
    activation: opts.activation ?? declared?.activation ?? defaultAct,
    lnEps: declared?.lnEps ?? 1e-5,
  });
  // nn.Linear stores [out, in]; we want [in, out]
  const mat = (name: string, inDim: number, outDim: number) => {
    const t = get(raw, name, source, layout === 'linear' ? [outDim, inDim] : [inDim, outDim]);
    return layout === 'linear' ? transpose2d(t) : t;
  };
  const vec = (name: string, n: number) => get(raw, name, source, [n]);
  const tensors: Raw = { wte, wpe };
  const used = new Set([`${pre}wte.weight`, `${pre}wpe.weight`, 'lm_head.weight']);
  const take = (ours: string, theirs: string, t: () => HostTensor) => {
    tensors[ours] = t();
    used.add(theirs);
  };
  for (let i = 0; i < nLayer; i++) {
    const h = `${pre}h.${i}.`;
    const o = `blocks.${i}.`;
    take(o + 'ln1.w', h + 'ln_1.weight', () => vec(h + 'ln_1.weight', d));
    take(o + 'ln2.w', h + 'ln_2.weight', () => vec(h + 'ln_2.weight', d));
    take(o + 'attn.w_qkv', h + 'attn.c_attn.weight', () => mat(h + 'attn.c_attn.weight', d, 3 * d));
    take(o + 'attn.w_o', h + 'attn.c_proj.weight', () => mat(h + 'attn.c_proj.weight', d, d));
    take(o + 'mlp.w_in', h + 'mlp.c_fc.weight', () => mat(h + 'mlp.c_fc.weight', d, dMlp));
    take(o + 'mlp.w_out', h + 'mlp.c_proj.weight', () => mat(h + 'mlp.c_proj.weight', dMlp, d));
    if (bias) {
      take(o + 'ln1.b', h + 'ln_1.bias', () => vec(h + 'ln_1.bias', d));
      take(o + 'ln2.b', h + 'ln_2.bias', () => vec(h + 'ln_2.bias', d));
      take(o + 'attn.b_qkv', h + 'attn.c_attn.bias', () => vec(h + 'attn.c_attn.bias', 3 * d));
      take(o + 'attn.b_o', h + 'attn.c_proj.bias', () => vec(h + 'attn.c_proj.bias', d));
      take(o + 'mlp.b_in', h + 'mlp.c_fc.bias', () => vec(h + 'mlp.c_fc.bias', dMlp));
      take(o + 'mlp.b_out', h + 'mlp.c_proj.bias', () => vec(h + 'mlp.c_proj.bias', d));
    }
  }
  take('ln_f.w', `${pre}ln_f.weight`, () => vec(`${pre}ln_f.weight`, d));
  if (bias) take('ln_f.b', `${pre}ln_f.bias`, () => vec(`${pre}ln_f.bias`, d));
  if (!tiedHead) tensors['lm_head.w'] = transpose2d(lmHead!);
  rejectLeftovers(raw, used, source);
  return { config, tensors };
}

function fromTransformerLens(raw: Raw, source: string, declared: Declared | null, opts: ImportOptions, notes: string[]) {
  const WE = get(raw, 'embed.W_E', source);
  const [vocabSize, d] = WE.shape;
  const Wpos = get(raw, 'pos_embed.W_pos', source);
  if (Wpos.shape[1] !== d) throw new UserInputError(`${source}: tensor "pos_embed.W_pos" has shape [${Wpos.shape}], expected [n_ctx, ${d}]`);
  const nCtx = Wpos.shape[0];
  const nLayer = countLayers(raw, /^blocks\.(\d+)\./);
  if (nLayer === 0) throw new UserInputError(`${source}: no transformer blocks (blocks.0.*) found`);
  const WQ0 = get(raw, 'blocks.0.attn.W_Q', source);
  if (WQ0.shape.length !== 3 || WQ0.shape[1] !== d) throw new UserInputError(`${source}: tensor "blocks.0.attn.W_Q" has shape [${WQ0.shape}], expected [n_heads, ${d}, d_head]`);
  const [H, , dh] = WQ0.shape;
  if (H * dh !== d) throw new UserInputError(`${source}: n_heads·d_head = ${H}·${dh} ≠ d_model ${d} (attention with d_head·n_heads ≠ d_model is not supported)`);
  if (opts.nHead && opts.nHead !== H) throw new UserInputError(`${source}: --n-head ${opts.nHead} contradicts tensor "blocks.0.attn.W_Q" [${WQ0.shape}]`);
  reconcile(declared, { nLayer, dModel: d, nCtx, vocabSize }, {
    nLayer: `blocks 0..${nLayer - 1}`,
    dModel: `tensor "embed.W_E" [${WE.shape}]`,
    nCtx: `tensor "pos_embed.W_pos" [${Wpos.shape}]`,
    vocabSize: `tensor "embed.W_E" [${WE.shape}]`,
  });
  if (declared?.nHead && declared.nHead !== H) {
    throw new UserInputError(`${declared.origin}: field "${declared.names.nHead ?? 'nHead'}" = ${declared.nHead} does not match tensor "blocks.0.attn.W_Q" [${WQ0.shape}] (${H} heads)`);
  }
  const dMlp = get(raw, 'blocks.0.mlp.W_in', source).shape[1];
  const folded = raw['blocks.0.ln1.w'] === undefined;
  if (folded) notes.push('LayerNorm weights are folded (LNPre): imported as weight 1, bias 0');
  const WU = get(raw, 'unembed.W_U', source, [d, vocabSize]);
  const bU = raw['unembed.b_U'];
  const headBias = bU !== undefined && bU.data.some((x) => x !== 0);
  const config = makeConfig({
    nLayer, nHead: H, dModel: d, nCtx, vocabSize, dMlp, bias: true, tiedHead: false, headBias,
    activation: opts.activation ?? declared?.activation ?? 'gelu',
    lnEps: declared?.lnEps ?? 1e-5,
  });
  const used = new Set(['embed.W_E', 'pos_embed.W_pos', 'unembed.W_U', 'unembed.b_U']);
  const g = (name: string, shape: number[]) => {
    used.add(name);
    return get(raw, name, source, shape);
  };
  const lnPair = (w: string, b: string) => {
    if (folded) {
      if (raw[w] || raw[b]) throw new UserInputError(`${source}: tensor "${raw[w] ? w : b}" present although blocks.0.ln1.w is absent (mixed folded/unfolded LayerNorms)`);
      return { w: { shape: [d], data: new Float32Array(d).fill(1) }, b: { shape: [d], data: new Float32Array(d) } };
    }
    return { w: g(w, [d]), b: g(b, [d]) };
  };
  const tensors: Raw = { wte: WE, wpe: Wpos, 'lm_head.w': WU };
  if (headBias) tensors['lm_head.b'] = bU!;
  for (let i = 0; i < nLayer; i++) {
    const p = `blocks.${i}.`;
    const ln1 = lnPair(p + 'ln1.w', p + 'ln1.b');
    const ln2 = lnPair(p + 'ln2.w', p + 'ln2.b');
    tensors[p + 'ln1.w'] = ln1.w;
    tensors[p + 'ln1.b'] = ln1.b;
    tensors[p + 'ln2.w'] = ln2.w;
    tensors[p + 'ln2.b'] = ln2.b;
    // W_Q/K/V [H, d, dh] → columns h·dh + e of the [d, 3d] qkv matrix
    const wqkv = new Float32Array(d * 3 * d);
    const bqkv = new Float32Array(3 * d);
    ['Q', 'K', 'V'].forEach((x, part) => {
      const W = g(`${p}attn.W_${x}`, [H, d, dh]).data;
      const bname = `${p}attn.b_${x}`;
      const b = raw[bname] ? g(bname, [H, dh]).data : new Float32Array(H * dh);
      for (let h = 0; h < H; h++) {
        for (let e = 0; e < dh; e++) {
          const col = part * d + h * dh + e;
          bqkv[col] = b[h * dh + e];
          for (let r = 0; r < d; r++) wqkv[r * 3 * d + col] = W[(h * d + r) * dh + e];
        }
      }
    });
    tensors[p + 'attn.w_qkv'] = { shape: [d, 3 * d], data: wqkv };
    tensors[p + 'attn.b_qkv'] = { shape: [3 * d], data: bqkv };
    // W_O [H, dh, d] is already [H·dh, d] in row-major order
    tensors[p + 'attn.w_o'] = { shape: [d, d], data: g(p + 'attn.W_O', [H, dh, d]).data };
    tensors[p + 'attn.b_o'] = raw[p + 'attn.b_O'] ? g(p + 'attn.b_O', [d]) : { shape: [d], data: new Float32Array(d) };
    tensors[p + 'mlp.w_in'] = g(p + 'mlp.W_in', [d, dMlp]);
    tensors[p + 'mlp.b_in'] = raw[p + 'mlp.b_in'] ? g(p + 'mlp.b_in', [dMlp]) : { shape: [dMlp], data: new Float32Array(dMlp) };
    tensors[p + 'mlp.w_out'] = g(p + 'mlp.W_out', [dMlp, d]);
    tensors[p + 'mlp.b_out'] = raw[p + 'mlp.b_out'] ? g(p + 'mlp.b_out', [d]) : { shape: [d], data: new Float32Array(d) };
  }
  const lnf = lnPair('ln_final.w', 'ln_final.b');
  tensors['ln_f.w'] = lnf.w;
  tensors['ln_f.b'] = lnf.b;
  rejectLeftovers(raw, used, source);
  return { config, tensors };
}

function fromSaeboard(raw: Raw, source: string, declared: Declared | null, opts: ImportOptions) {
  if (!declared || declared.nLayer === undefined) throw new UserInputError(`${source}: saeboard-named weights need their config.json (or --config)`);
  const d = raw['wte']?.shape[1];
  const config = makeConfig({
    nLayer: declared.nLayer,
    nHead: requireHeads(declared, opts, d ?? declared.dModel ?? 1, source),
    dModel: declared.dModel ?? d ?? 0,
    nCtx: declared.nCtx ?? raw['wpe']?.shape[0] ?? 0,
    vocabSize: declared.vocabSize ?? raw['wte']?.shape[0] ?? 0,
    dMlp: raw['blocks.0.mlp.w_in']?.shape[1],
    bias: declared.bias ?? raw['blocks.0.attn.b_qkv'] !== undefined,
    tiedHead: declared.tiedHead ?? raw['lm_head.w'] === undefined,
    headBias: raw['lm_head.b'] !== undefined,
    activation: opts.activation ?? declared.activation ?? 'gelu',
    lnEps: declared.lnEps ?? 1e-5,
  });
  return { config, tensors: raw };
}

function rejectLeftovers(raw: Raw, used: Set<string>, source: string): void {
  for (const k of Object.keys(raw)) {
    if (!used.has(k)) throw new UserInputError(`${source}: unexpected tensor "${k}" (not part of a GPT-2/nanoGPT/TransformerLens model)`);
  }
}
