/**
 * saeboard's on-disk SAE format: a directory with
 *   ae.safetensors  canonical tensors (dictionary.ts), F32, metadata {format, dictionary, k, ...}
 *   config.json     { format, dictionary, dIn, dictSize, meta, trainer config + hash, step, ... }
 * Both files are written atomically (temp + rename); config.json is written last, so a directory
 * with a config.json always has a complete ae.safetensors next to it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../util/safetensors.js';
import { codeVersionString } from '../version.js';
import { DICTIONARY_NAMES, resolveTrainerConfig, trainerConfigHash, type DictionaryName, type TrainerConfig } from './config.js';
import { createDictionary, dictionarySpec, type Dictionary, type DictionaryMeta, type HostTensor } from './dictionary.js';
import './dictionaries/index.js';
import { assertFiniteTensors } from '../util/finite.js';

export const SAE_FORMAT = 'saeboard-sae/1';
export const WEIGHTS_FILE = 'ae.safetensors';
export const CONFIG_FILE = 'config.json';

export interface SaeDirConfig {
  format: typeof SAE_FORMAT;
  dictionary: DictionaryName;
  dIn: number;
  dictSize: number;
  meta: DictionaryMeta;
  /** The resolved trainer config (null for SAEs imported without one). */
  trainer: TrainerConfig | null;
  configHash: string | null;
  /**
   * Identity of the trained SAE: the trainer config *and* the activation stream it saw (source,
   * buffer seed and size). Two SAEs with one config trained on different data differ here; this
   * is what the database's saes.config_hash holds for SAEs trained by saeboard.
   */
  identityHash?: string | null;
  /** Number of completed training steps (updates) these weights have seen. */
  step: number | null;
  tokensSeen: number | null;
  codeVersion: string;
  /** Free-form provenance: activation source, sweep name, import origin... */
  provenance?: Record<string, unknown>;
}

export function dictionaryConfig(
  dict: Dictionary,
  trainer: TrainerConfig | null,
  extra: { step?: number | null; tokensSeen?: number | null; provenance?: Record<string, unknown>; identityHash?: string | null } = {},
): SaeDirConfig {
  return {
    format: SAE_FORMAT,
    dictionary: dict.name,
    dIn: dict.dIn,
    dictSize: dict.dictSize,
    meta: { ...dict.meta },
    trainer,
    configHash: trainer ? trainerConfigHash(trainer) : null,
    ...(extra.identityHash ? { identityHash: extra.identityHash } : {}),
    step: extra.step ?? null,
    tokensSeen: extra.tokensSeen ?? null,
    codeVersion: codeVersionString(),
    ...(extra.provenance ? { provenance: extra.provenance } : {}),
  };
}

/** Write weights + config into `dir` (created if needed). */
export async function writeSaeDir(dir: string, tensors: Record<string, HostTensor>, config: SaeDirConfig): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const metadata: Record<string, string> = { format: SAE_FORMAT, dictionary: config.dictionary };
  if (config.meta.k !== undefined) metadata.k = String(config.meta.k);
  if (config.meta.applyBDecToInput !== undefined) metadata.applyBDecToInput = String(config.meta.applyBDecToInput);
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors, metadata);
  await writeFileAtomic(path.join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

export async function saveDictionary(dir: string, dict: Dictionary, config: SaeDirConfig): Promise<void> {
  await writeSaeDir(dir, dict.toHost(), config);
}

export async function readSaeConfig(dir: string): Promise<SaeDirConfig> {
  const file = path.join(dir, CONFIG_FILE);
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UserInputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let parsed: SaeDirConfig;
  try {
    parsed = JSON.parse(raw) as SaeDirConfig;
  } catch {
    throw new UserInputError(`${file}: not valid JSON`);
  }
  if (parsed.format !== SAE_FORMAT) throw new UserInputError(`${file}: not a saeboard SAE config (format ${JSON.stringify(parsed.format)})`);
  if (!(DICTIONARY_NAMES as readonly string[]).includes(parsed.dictionary)) {
    throw new UserInputError(`${file}: unknown dictionary "${parsed.dictionary}"`);
  }
  // Re-validate the stored trainer config so a hand-edited file cannot smuggle in bad values.
  if (parsed.trainer) parsed.trainer = resolveTrainerConfig(parsed.trainer, `${file}: trainer`);
  return parsed;
}

/** Host tensors of a saeboard SAE directory, checked against the architecture's shapes. */
export async function readSaeTensors(dir: string, config: SaeDirConfig): Promise<Record<string, Float32Array>> {
  const file = path.join(dir, WEIGHTS_FILE);
  const { tensors } = await readSafetensors(file);
  const shapes = dictionarySpec(config.dictionary).shapes(config.dIn, config.dictSize);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const t = tensors[name];
    if (!t) throw new UserInputError(`${file}: missing tensor ${name} for a ${config.dictionary} SAE`);
    if (JSON.stringify(t.shape) !== JSON.stringify(shape)) {
      throw new UserInputError(`${file}: tensor ${name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
    }
    out[name] = toFloat32(t);
  }
  assertFiniteTensors(file, out);
  return out;
}

/** Load a saeboard SAE directory (ae.safetensors + config.json). */
export async function loadSaeDir(dir: string): Promise<{ dictionary: Dictionary; config: SaeDirConfig }> {
  const config = await readSaeConfig(dir);
  const tensors = await readSaeTensors(dir, config);
  return { dictionary: createDictionary(config.dictionary, config.dIn, config.dictSize, tensors, config.meta), config };
}
