/**
 * Reading and writing SAEs in other libraries' layouts (docs/sae.md, "Interop"):
 *
 * dictionary_learning (saprmarks/dictionary_learning; state-dict names of its classes as of 2025,
 * plus the c52ff00 top-k layout), a directory with `ae.pt` (torch.save of the state dict) and/or
 * `ae.safetensors` (same names), and `config.json` = {"trainer": {...}, "buffer": {...}}:
 *   AutoEncoder          bias [d], encoder.weight [F,d], encoder.bias [F], decoder.weight [d,F]
 *   GatedAutoEncoder     decoder_bias [d], encoder.weight [F,d], r_mag, gate_bias, mag_bias [F], decoder.weight [d,F]
 *   AutoEncoderTopK      encoder.weight, encoder.bias, decoder.weight [d,F] (c52ff00: W_dec [F,d]), b_dec, k, threshold
 *   BatchTopKSAE         encoder.weight, encoder.bias, decoder.weight [d,F], b_dec, k, threshold
 *   JumpReluAutoEncoder  W_enc [d,F], b_enc, W_dec [F,d], b_dec, threshold [F]  (no b_dec on the input)
 *
 * SAELens (jbloomAus/SAELens, v3–v6 cfg fields), a directory with `sae_weights.safetensors` and
 * `cfg.json` {architecture, d_in, d_sae, apply_b_dec_to_input, normalize_activations, k?, ...}:
 *   standard / topk  W_enc [d,F], b_enc [F], W_dec [F,d], b_dec [d]
 *   gated            W_enc, b_gate, b_mag, r_mag, W_dec, b_dec
 *   jumprelu         W_enc, b_enc, W_dec, b_dec, threshold [F]
 * `apply_b_dec_to_input = false` is folded into the encoder biases (exact) for standard, top-k and
 * gated SAEs; JumpReLU keeps it as a flag. Batch-top-k SAEs are exported as SAELens `jumprelu`
 * with their global threshold in every feature (the same function at inference).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError, oneLine } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../util/safetensors.js';
import { codeVersionString } from '../version.js';
import { resolveTrainerConfig, type DictionaryName, type TrainerConfig, type TrainerName } from './config.js';
import { createDictionary, type Dictionary, type DictionaryMeta } from './dictionary.js';
import { transposeHost } from './dictionaries/init.js';
import { CONFIG_FILE, loadSaeDir, SAE_FORMAT, WEIGHTS_FILE, type SaeDirConfig } from './storage.js';
import { torchSaveStateDict, type TorchTensorOut } from './torchSave.js';
import { assertFiniteTensors } from '../util/finite.js';

export type SaeFormat = 'saeboard' | 'dictionary_learning' | 'saelens';
export const SAE_FORMATS: SaeFormat[] = ['saeboard', 'dictionary_learning', 'saelens'];

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserInputError(`${file}: cannot read JSON (${oneLine((err as Error).message)})`);
  }
}

export async function detectSaeFormat(dir: string): Promise<SaeFormat> {
  if (await exists(path.join(dir, 'sae_weights.safetensors'))) return 'saelens';
  if (await exists(path.join(dir, CONFIG_FILE))) {
    const cfg = await readJson(path.join(dir, CONFIG_FILE));
    if (cfg.format === SAE_FORMAT) return 'saeboard';
    if (cfg.trainer && typeof cfg.trainer === 'object') return 'dictionary_learning';
  }
  if (await exists(path.join(dir, 'ae.pt'))) return 'dictionary_learning';
  throw new UserInputError(`${dir}: not an SAE directory (expected saeboard ae.safetensors + config.json, dictionary_learning ae.pt + config.json, or SAELens sae_weights.safetensors + cfg.json)`);
}

// ---------------------------------------------------------------------------------------------
// dictionary_learning

const DL_DICT_CLASS: Record<DictionaryName, string> = {
  relu: 'AutoEncoder',
  gated: 'GatedAutoEncoder',
  top_k: 'AutoEncoderTopK',
  batch_top_k: 'BatchTopKSAE',
  jump_relu: 'JumpReluAutoEncoder',
};
const DL_TRAINER_CLASS: Record<TrainerName, string> = {
  standard: 'StandardTrainer',
  p_anneal: 'PAnnealTrainer',
  gated: 'GatedSAETrainer',
  gated_anneal: 'GatedAnnealTrainer',
  top_k: 'TrainerTopK',
  batch_top_k: 'BatchTopKTrainer',
  jump_relu: 'JumpReluTrainer',
};

function dictNameFromDl(cls: unknown, names: Set<string>): DictionaryName {
  const byClass = Object.entries(DL_DICT_CLASS).find(([, c]) => c === cls)?.[0] as DictionaryName | undefined;
  if (byClass) return byClass;
  if (cls === 'TopKSAE' || cls === 'AutoEncoderTopK') return 'top_k';
  if (cls === 'JumpReLUSAE') return 'jump_relu';
  // no (known) class: infer from the tensor names
  if (names.has('r_mag')) return 'gated';
  if (names.has('W_enc') && names.has('threshold')) return 'jump_relu';
  if (names.has('k')) return 'top_k';
  if (names.has('bias') && names.has('encoder.weight')) return 'relu';
  throw new UserInputError(`cannot tell the dictionary class (dict_class ${JSON.stringify(cls)}, tensors ${[...names].join(', ')})`);
}

/** Host tensors by state-dict name from ae.safetensors or ae.pt. */
async function readDlStateDict(dir: string): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  const st = path.join(dir, 'ae.safetensors');
  if (await exists(st)) {
    const { tensors } = await readSafetensors(st);
    for (const [k, t] of Object.entries(tensors)) out.set(k, { data: t.dtype === 'I32' || t.dtype === 'I64' ? Float32Array.from(t.data as ArrayLike<number>, Number) : toFloat32(t), shape: t.shape });
    assertFiniteTensors(st, out);
    return out;
  }
  const pt = path.join(dir, 'ae.pt');
  if (!(await exists(pt))) throw new UserInputError(`${dir}: no ae.pt or ae.safetensors`);
  const { loadTorchFile, toPlain, TorchTensor } = await import('../lm/import/torch-pickle.js');
  const root = toPlain(await loadTorchFile(pt)) as Record<string, unknown>;
  const sd = (root && typeof root === 'object' && 'state_dict' in root ? root.state_dict : root) as Record<string, unknown>;
  for (const [k, v] of Object.entries(sd ?? {})) {
    if (v instanceof TorchTensor) out.set(k, { data: v.toFloat32(), shape: [...v.shape] });
  }
  if (!out.size) throw new UserInputError(`${pt}: no tensors found in the state dict`);
  assertFiniteTensors(pt, out);
  return out;
}

function need(sd: Map<string, { data: Float32Array; shape: number[] }>, name: string, shape: number[], where: string): Float32Array {
  const t = sd.get(name);
  if (!t) throw new UserInputError(`${where}: missing tensor ${name}`);
  if (JSON.stringify(t.shape) !== JSON.stringify(shape)) throw new UserInputError(`${where}: tensor ${name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
  return t.data;
}

/** Our TrainerConfig from a dictionary_learning trainer config, when it can be mapped. */
function trainerFromDl(t: Record<string, unknown>, dIn: number, F: number): TrainerConfig | null {
  if (t.saeboard && typeof t.saeboard === 'object') {
    try {
      return resolveTrainerConfig(t.saeboard, 'config.json trainer.saeboard');
    } catch {
      return null;
    }
  }
  const cls = t.trainer_class;
  const trainer = Object.entries(DL_TRAINER_CLASS).find(([, c]) => c === cls)?.[0] ?? (cls === 'TopKTrainer' ? 'top_k' : null);
  if (!trainer || typeof t.steps !== 'number') return null;
  const num = (k: string) => (typeof t[k] === 'number' ? (t[k] as number) : undefined);
  const cfg: Record<string, unknown> = { trainer, dIn, dictSize: F, steps: t.steps, lr: num('lr'), warmupSteps: num('warmup_steps'), seed: num('seed') };
  if (trainer === 'standard' || trainer === 'gated') cfg.l1Penalty = num('l1_penalty');
  if (trainer === 'p_anneal' || trainer === 'gated_anneal') {
    Object.assign(cfg, {
      initialSparsityPenalty: num('sparsity_penalty') ?? num('initial_sparsity_penalty'),
      pStart: num('p_start'),
      pEnd: num('p_end'),
      annealStart: num('anneal_start'),
      annealEnd: num('anneal_end'),
      nSparsityUpdates: num('n_sparsity_updates'),
      sparsityQueueLength: num('sparsity_queue_length'),
    });
  }
  if (trainer === 'top_k' || trainer === 'batch_top_k') Object.assign(cfg, { k: num('k'), auxKCoeff: num('auxk_alpha'), decayStart: t.decay_start ?? undefined });
  if (trainer === 'batch_top_k') Object.assign(cfg, { thresholdBeta: num('threshold_beta'), thresholdStartStep: num('threshold_start_step') });
  if (trainer === 'jump_relu') Object.assign(cfg, { sparsityPenalty: num('sparsity_penalty'), targetL0: num('target_l0'), bandwidth: num('bandwidth'), sparsityWarmupSteps: num('sparsity_warmup_steps') });
  for (const k of Object.keys(cfg)) if (cfg[k] === undefined) delete cfg[k];
  try {
    return resolveTrainerConfig(cfg, 'config.json trainer');
  } catch {
    return null; // hyperparameters we cannot express: keep the weights, drop the config
  }
}

async function loadDictionaryLearning(dir: string): Promise<{ dictionary: Dictionary; config: SaeDirConfig }> {
  const sd = await readDlStateDict(dir);
  const cfgFile = path.join(dir, CONFIG_FILE);
  const cfgJson = (await exists(cfgFile)) ? await readJson(cfgFile) : {};
  const trainer = (cfgJson.trainer ?? {}) as Record<string, unknown>;
  const name = dictNameFromDl(trainer.dict_class, new Set(sd.keys()));
  const where = `${dir} (dictionary_learning ${DL_DICT_CLASS[name]})`;
  let dIn: number;
  let F: number;
  const tensors: Record<string, Float32Array> = {};
  const meta: DictionaryMeta = {};
  if (name === 'jump_relu') {
    const w = sd.get('W_enc');
    if (!w) throw new UserInputError(`${where}: missing tensor W_enc`);
    [dIn, F] = w.shape;
    tensors.W_enc = need(sd, 'W_enc', [dIn, F], where);
    tensors.b_enc = need(sd, 'b_enc', [F], where);
    tensors.W_dec = need(sd, 'W_dec', [F, dIn], where);
    tensors.b_dec = need(sd, 'b_dec', [dIn], where);
    tensors.threshold = need(sd, 'threshold', [F], where);
    meta.applyBDecToInput = Boolean(trainer.apply_b_dec_to_input ?? false);
  } else {
    const enc = sd.get('encoder.weight');
    if (!enc) throw new UserInputError(`${where}: missing tensor encoder.weight`);
    [F, dIn] = enc.shape;
    tensors.W_enc = transposeHost(enc.data, F, dIn);
    const decoderDF = sd.get('decoder.weight');
    if (decoderDF) tensors.W_dec = transposeHost(need(sd, 'decoder.weight', [dIn, F], where), dIn, F);
    else tensors.W_dec = need(sd, 'W_dec', [F, dIn], where); // c52ff00 top-k: one row per feature
    if (name === 'relu') {
      tensors.b_enc = need(sd, 'encoder.bias', [F], where);
      tensors.b_dec = need(sd, 'bias', [dIn], where);
    } else if (name === 'gated') {
      tensors.r_mag = need(sd, 'r_mag', [F], where);
      tensors.b_gate = need(sd, 'gate_bias', [F], where);
      tensors.b_mag = need(sd, 'mag_bias', [F], where);
      tensors.b_dec = need(sd, 'decoder_bias', [dIn], where);
    } else {
      tensors.b_enc = need(sd, 'encoder.bias', [F], where);
      tensors.b_dec = need(sd, 'b_dec', [dIn], where);
      const k = sd.get('k')?.data[0] ?? (typeof trainer.k === 'number' ? trainer.k : undefined);
      if (!k) throw new UserInputError(`${where}: no k (neither a "k" buffer nor trainer.k in config.json)`);
      meta.k = k;
      if (name === 'batch_top_k') tensors.threshold = new Float32Array([sd.get('threshold')?.data[0] ?? -1]);
    }
  }
  const dictionary = createDictionary(name, dIn, F, tensors, meta);
  const trainerCfg = trainerFromDl(trainer, dIn, F);
  const prov: Record<string, unknown> = { importedFrom: { format: 'dictionary_learning', dir: path.resolve(dir) } };
  if (typeof trainer.layer === 'number') prov.layer = trainer.layer;
  if (typeof trainer.lm_name === 'string') prov.lmName = trainer.lm_name;
  const config: SaeDirConfig = {
    format: SAE_FORMAT,
    dictionary: name,
    dIn,
    dictSize: F,
    meta,
    trainer: trainerCfg,
    configHash: null,
    step: typeof trainer.steps === 'number' ? trainer.steps : null,
    tokensSeen: null,
    codeVersion: codeVersionString(),
    provenance: prov,
  };
  return { dictionary, config };
}

// ---------------------------------------------------------------------------------------------
// SAELens

async function loadSaeLens(dir: string): Promise<{ dictionary: Dictionary; config: SaeDirConfig }> {
  const cfg = await readJson(path.join(dir, 'cfg.json'));
  const where = `${dir} (SAELens)`;
  const weightsFile = path.join(dir, 'sae_weights.safetensors');
  const { tensors: raw } = await readSafetensors(weightsFile);
  assertFiniteTensors(weightsFile, Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, toFloat32(v)])));
  const t = (n: string) => {
    const x = raw[n];
    if (!x) throw new UserInputError(`${where}: missing tensor ${n}`);
    return { data: toFloat32(x), shape: x.shape };
  };
  const norm = cfg.normalize_activations ?? 'none';
  if (norm !== 'none' && norm !== null) throw new UserInputError(`${where}: normalize_activations "${String(norm)}" is not supported (only "none")`);
  if (cfg.rescale_acts_by_decoder_norm) throw new UserInputError(`${where}: rescale_acts_by_decoder_norm is not supported`);
  const fnKwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  let arch = String(cfg.architecture ?? 'standard');
  if (arch === 'standard' && cfg.activation_fn_str === 'topk') arch = 'topk';
  const W_enc = t('W_enc');
  const [dIn, F] = W_enc.shape;
  if ((typeof cfg.d_in === 'number' && cfg.d_in !== dIn) || (typeof cfg.d_sae === 'number' && cfg.d_sae !== F)) {
    throw new UserInputError(`${where}: W_enc is ${dIn}×${F} but cfg.json says d_in ${String(cfg.d_in)}, d_sae ${String(cfg.d_sae)}`);
  }
  const W_dec = t('W_dec').data;
  const b_dec = t('b_dec').data;
  const apply = cfg.apply_b_dec_to_input === undefined ? true : Boolean(cfg.apply_b_dec_to_input);
  // b_dec · W_enc: folds "no b_dec on the input" into the encoder biases
  const bdecW = new Float32Array(F);
  if (!apply) for (let d = 0; d < dIn; d++) for (let f = 0; f < F; f++) bdecW[f] += b_dec[d] * W_enc.data[d * F + f];
  let name: DictionaryName;
  const tensors: Record<string, Float32Array> = { W_enc: W_enc.data, W_dec, b_dec };
  const meta: DictionaryMeta = {};
  if (arch === 'standard' || arch === 'topk') {
    const b = t('b_enc').data.slice();
    for (let f = 0; f < F; f++) b[f] += bdecW[f];
    tensors.b_enc = b;
    name = arch === 'topk' ? 'top_k' : 'relu';
    if (name === 'top_k') {
      const k = (cfg.k ?? fnKwargs.k) as number | undefined;
      if (!k) throw new UserInputError(`${where}: a topk SAE without k in cfg.json`);
      meta.k = k;
    }
  } else if (arch === 'gated') {
    const r = t('r_mag').data;
    const bg = t('b_gate').data.slice();
    const bm = t('b_mag').data.slice();
    for (let f = 0; f < F; f++) {
      bg[f] += bdecW[f];
      bm[f] += Math.exp(r[f]) * bdecW[f];
    }
    Object.assign(tensors, { r_mag: r, b_gate: bg, b_mag: bm });
    name = 'gated';
  } else if (arch === 'jumprelu') {
    tensors.b_enc = t('b_enc').data;
    tensors.threshold = t('threshold').data;
    meta.applyBDecToInput = apply;
    name = 'jump_relu';
  } else {
    throw new UserInputError(`${where}: architecture "${arch}" is not supported (standard, gated, jumprelu, topk)`);
  }
  const m = (cfg.meta ?? cfg.metadata ?? {}) as Record<string, unknown>;
  const hookLayer = cfg.hook_layer ?? m.hook_layer;
  const prov: Record<string, unknown> = {
    importedFrom: { format: 'saelens', dir: path.resolve(dir), architecture: arch },
    ...(typeof hookLayer === 'number' ? { layer: hookLayer } : {}),
    ...(typeof (cfg.hook_name ?? m.hook_name) === 'string' ? { hookName: cfg.hook_name ?? m.hook_name } : {}),
    ...(typeof (cfg.model_name ?? m.model_name) === 'string' ? { lmName: cfg.model_name ?? m.model_name } : {}),
  };
  const dictionary = createDictionary(name, dIn, F, tensors, meta);
  return {
    dictionary,
    config: { format: SAE_FORMAT, dictionary: name, dIn, dictSize: F, meta, trainer: null, configHash: null, step: null, tokensSeen: null, codeVersion: codeVersionString(), provenance: prov },
  };
}

/** Load an SAE directory in any supported layout. */
export async function loadSae(dir: string, format?: SaeFormat): Promise<{ dictionary: Dictionary; config: SaeDirConfig; format: SaeFormat }> {
  const f = format ?? (await detectSaeFormat(dir));
  if (f === 'saeboard') return { ...(await loadSaeDir(dir)), format: f };
  if (f === 'dictionary_learning') return { ...(await loadDictionaryLearning(dir)), format: f };
  return { ...(await loadSaeLens(dir)), format: f };
}

// ---------------------------------------------------------------------------------------------
// export

function dlTrainerConfig(cfg: SaeDirConfig): Record<string, unknown> {
  const t = cfg.trainer;
  const p = (cfg.provenance ?? {}) as Record<string, unknown>;
  const base: Record<string, unknown> = {
    dict_class: DL_DICT_CLASS[cfg.dictionary],
    activation_dim: cfg.dIn,
    dict_size: cfg.dictSize,
    device: 'cpu',
    layer: typeof p.layer === 'number' ? p.layer : null,
    lm_name: (p.lm as { name?: string } | undefined)?.name ?? null,
    submodule_name: typeof p.site === 'string' ? p.site : null,
    wandb_name: t ? DL_TRAINER_CLASS[t.trainer] : DL_DICT_CLASS[cfg.dictionary],
  };
  if (cfg.meta.k !== undefined) base.k = cfg.meta.k;
  if (!t) return base;
  Object.assign(base, { trainer_class: DL_TRAINER_CLASS[t.trainer], lr: t.lr, steps: t.steps, seed: t.seed, warmup_steps: t.warmupSteps, resample_steps: null });
  switch (t.trainer) {
    case 'standard':
    case 'gated':
      base.l1_penalty = t.l1Penalty;
      break;
    case 'p_anneal':
    case 'gated_anneal':
      Object.assign(base, {
        sparsity_function: 'Lp^p',
        sparsity_penalty: t.initialSparsityPenalty, // written before training in dictionary_learning: the initial λ
        p_start: t.pStart,
        p_end: t.pEnd,
        anneal_start: t.annealStart,
        anneal_end: t.annealEnd,
        n_sparsity_updates: t.nSparsityUpdates,
        sparsity_queue_length: t.sparsityQueueLength,
      });
      break;
    case 'top_k':
    case 'batch_top_k':
      Object.assign(base, { auxk_alpha: t.auxKCoeff, decay_start: t.decayStart });
      if (t.trainer === 'batch_top_k') Object.assign(base, { threshold_beta: t.thresholdBeta, threshold_start_step: t.thresholdStartStep });
      break;
    case 'jump_relu':
      Object.assign(base, { bandwidth: t.bandwidth, sparsity_penalty: t.sparsityPenalty, target_l0: t.targetL0, sparsity_warmup_steps: t.sparsityWarmupSteps, decay_start: t.decayStart });
      break;
  }
  base.saeboard = t; // the exact config, so a round trip loses nothing
  return base;
}

function dlStateDict(dict: Dictionary): [string, TorchTensorOut][] {
  const h = dict.toHost();
  const d = dict.dIn;
  const F = dict.dictSize;
  const encW = { data: transposeHost(h.W_enc.data, d, F), shape: [F, d] };
  const decW = { data: transposeHost(h.W_dec.data, F, d), shape: [d, F] };
  switch (dict.name) {
    case 'relu':
      return [
        ['bias', h.b_dec],
        ['encoder.weight', encW],
        ['encoder.bias', h.b_enc],
        ['decoder.weight', decW],
      ];
    case 'gated':
      return [
        ['decoder_bias', h.b_dec],
        ['encoder.weight', encW],
        ['r_mag', h.r_mag],
        ['gate_bias', h.b_gate],
        ['mag_bias', h.b_mag],
        ['decoder.weight', decW],
      ];
    case 'top_k':
    case 'batch_top_k':
      return [
        ['k', { data: new Int32Array([dict.meta.k ?? 0]), shape: [] }],
        ['threshold', { data: new Float32Array([dict.name === 'batch_top_k' ? h.threshold.data[0] : -1]), shape: [] }],
        ['decoder.weight', decW],
        ['encoder.weight', encW],
        ['encoder.bias', h.b_enc],
        ['b_dec', h.b_dec],
      ];
    case 'jump_relu':
      return [
        ['W_enc', h.W_enc],
        ['b_enc', h.b_enc],
        ['W_dec', h.W_dec],
        ['b_dec', h.b_dec],
        ['threshold', h.threshold],
      ];
  }
}

function saelensTensors(dict: Dictionary): { tensors: Record<string, { data: Float32Array; shape: number[] }>; architecture: string } {
  const h = dict.toHost();
  switch (dict.name) {
    case 'relu':
    case 'top_k':
      return { tensors: { W_enc: h.W_enc, b_enc: h.b_enc, W_dec: h.W_dec, b_dec: h.b_dec }, architecture: dict.name === 'relu' ? 'standard' : 'topk' };
    case 'gated':
      return { tensors: { W_enc: h.W_enc, b_gate: h.b_gate, b_mag: h.b_mag, r_mag: h.r_mag, W_dec: h.W_dec, b_dec: h.b_dec }, architecture: 'gated' };
    case 'jump_relu':
      return { tensors: { W_enc: h.W_enc, b_enc: h.b_enc, W_dec: h.W_dec, b_dec: h.b_dec, threshold: h.threshold }, architecture: 'jumprelu' };
    case 'batch_top_k': {
      const th = new Float32Array(dict.dictSize).fill(Math.max(h.threshold.data[0], 0));
      return { tensors: { W_enc: h.W_enc, b_enc: h.b_enc, W_dec: h.W_dec, b_dec: h.b_dec, threshold: { data: th, shape: [dict.dictSize] } }, architecture: 'jumprelu' };
    }
  }
}

/** Write an SAE in another library's layout into `outDir`. */
export async function exportSae(dict: Dictionary, cfg: SaeDirConfig, outDir: string, format: SaeFormat): Promise<string[]> {
  await fs.mkdir(outDir, { recursive: true });
  if (format === 'saeboard') {
    const { writeSaeDir } = await import('./storage.js');
    await writeSaeDir(outDir, dict.toHost(), cfg);
    return [WEIGHTS_FILE, CONFIG_FILE];
  }
  const p = (cfg.provenance ?? {}) as Record<string, unknown>;
  if (format === 'dictionary_learning') {
    const sd = dlStateDict(dict);
    await writeFileAtomic(path.join(outDir, 'ae.pt'), torchSaveStateDict(sd));
    const trainer = dlTrainerConfig(cfg);
    if (dict.name === 'jump_relu') trainer.apply_b_dec_to_input = Boolean(dict.meta.applyBDecToInput);
    const buffer = { d_submodule: cfg.dIn, io: 'out', out_batch_size: cfg.trainer?.batchSize ?? null, device: 'cpu' };
    await writeFileAtomic(path.join(outDir, CONFIG_FILE), JSON.stringify({ trainer, buffer }, null, 2) + '\n');
    return ['ae.pt', CONFIG_FILE];
  }
  const { tensors, architecture } = saelensTensors(dict);
  await writeSafetensors(path.join(outDir, 'sae_weights.safetensors'), tensors);
  const layer = typeof p.layer === 'number' ? p.layer : null;
  const site = typeof p.site === 'string' ? p.site : 'resid_post';
  const hookName = layer !== null ? `blocks.${layer}.hook_${site}` : null;
  const lmName = (p.lm as { name?: string } | undefined)?.name ?? null;
  const apply = dict.name === 'jump_relu' ? Boolean(dict.meta.applyBDecToInput) : true;
  const cfgJson: Record<string, unknown> = {
    architecture,
    d_in: cfg.dIn,
    d_sae: cfg.dictSize,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: apply,
    normalize_activations: 'none',
    reshape_activations: 'none',
    ...(dict.name === 'top_k' ? { k: dict.meta.k, activation_fn_str: 'topk', activation_fn_kwargs: { k: dict.meta.k } } : { activation_fn_str: 'relu', activation_fn_kwargs: {} }),
    // legacy (SAELens ≤ 5) fields, ignored by v6 loaders
    model_name: lmName,
    hook_name: hookName,
    hook_layer: layer,
    hook_head_index: null,
    context_size: null,
    prepend_bos: false,
    finetuning_scaling_factor: false,
    sae_lens_training_version: null,
    meta: { model_name: lmName, hook_name: hookName, hook_layer: layer, context_size: null, prepend_bos: false, sae_lens_version: null, sae_lens_training_version: null },
    saeboard: { dictionary: cfg.dictionary, trainer: cfg.trainer, provenance: cfg.provenance ?? null },
  };
  await writeFileAtomic(path.join(outDir, 'cfg.json'), JSON.stringify(cfgJson, null, 2) + '\n');
  return ['sae_weights.safetensors', 'cfg.json'];
}
