/**
 * LM checkpoint directories:
 *
 *   config.json            { format, game, tokenizer, model: GptConfig, provenance, training?, metrics? }
 *   model.safetensors      weights in saeboard naming (params.ts), F32
 *   optimizer.safetensors  AdamW moments (training checkpoints only): "m.<param>", "v.<param>"
 *   trainer_state.json     step, data cursor, RNG state, schedule (training checkpoints only)
 *
 * Every file is written temp-then-rename, and a whole checkpoint directory is built under a temp
 * name and renamed into place, so a kill leaves either the previous checkpoint or the new one.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserInputError } from '../errors.js';
import type { GameName } from '../games/types.js';
import { GAMES } from '../games/types.js';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { configHash } from '../util/hash.js';
import { encodeSafetensors, readSafetensors, toFloat32 } from '../util/safetensors.js';
import { parseConfig, type GptConfig } from './config.js';
import { Gpt } from './model.js';
import type { HostTensor } from './params.js';
import { tokenizerInfo } from './tokenizers.js';
import { assertFiniteTensors } from '../util/finite.js';

export const CHECKPOINT_FORMAT = 'saeboard-lm/1';

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  /** Short model name, e.g. "othello-small". */
  name: string;
  game: GameName;
  tokenizer: string;
  model: GptConfig;
  /** Where the weights came from: "random-init", "trained", "imported:nanogpt", ... and details. */
  provenance: Record<string, unknown>;
  /** Training run description (trainer config, step, tokens seen), for trained checkpoints. */
  training?: Record<string, unknown>;
  /** Measured quality: heldOutLoss, legalMoveRate, probe accuracy... */
  metrics?: Record<string, unknown>;
}

const metaSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  name: z.string().min(1),
  game: z.enum(GAMES as unknown as [GameName, ...GameName[]]),
  tokenizer: z.string(),
  model: z.unknown(),
  provenance: z.record(z.string(), z.unknown()),
  training: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
});

export function parseMeta(raw: unknown, where: string): CheckpointMeta {
  const r = metaSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserInputError(`${where}: field "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  const model = parseConfig(r.data.model, `${where} field "model"`);
  const tok = tokenizerInfo(r.data.tokenizer);
  if (tok.game !== r.data.game) throw new UserInputError(`${where}: tokenizer "${tok.id}" belongs to ${tok.game}, not ${r.data.game}`);
  if (tok.vocabSize !== model.vocabSize) {
    throw new UserInputError(`${where}: field "model.vocabSize" is ${model.vocabSize} but tokenizer "${tok.id}" has ${tok.vocabSize} tokens`);
  }
  return { ...(r.data as Omit<CheckpointMeta, 'model'>), model };
}

/** Hash identifying the architecture + weights file: used to recognise the same model twice. */
export function modelConfigHash(meta: CheckpointMeta): string {
  return configHash({ model: meta.model, tokenizer: meta.tokenizer });
}

export function encodeWeights(tensors: Record<string, HostTensor>): Uint8Array {
  const out: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = { data: t.data, shape: t.shape };
  return encodeSafetensors(out, { format: CHECKPOINT_FORMAT });
}

/** Write config.json + model.safetensors into `dir` (a directory being built, or a final one). */
export async function writeModelFiles(dir: string, meta: CheckpointMeta, tensors: Record<string, HostTensor>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'model.safetensors'), encodeWeights(tensors));
  await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(meta, null, 2) + '\n');
}

/** Save a model as a new checkpoint directory (atomically; refuses to overwrite unless asked). */
export async function saveModelDir(dir: string, meta: CheckpointMeta, tensors: Record<string, HostTensor>, opts: { overwrite?: boolean } = {}): Promise<void> {
  await writeDirAtomic(dir, (tmp) => writeModelFiles(tmp, meta, tensors), opts);
}

export async function readMeta(dir: string): Promise<CheckpointMeta> {
  const file = path.join(dir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserInputError(e.code === 'ENOENT' ? `${dir}: not an LM checkpoint (no config.json)` : `${file}: ${e.message}`);
  }
  return parseMeta(raw, file);
}

export async function readModelTensors(dir: string): Promise<Record<string, HostTensor>> {
  const file = path.join(dir, 'model.safetensors');
  const { tensors } = await readSafetensors(file);
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = { shape: t.shape, data: toFloat32(t) };
  assertFiniteTensors(file, out);
  return out;
}

export interface LoadedModel {
  model: Gpt;
  meta: CheckpointMeta;
  dir: string;
}

/** Load a checkpoint directory; the weights must match config.json exactly (names and shapes). */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const meta = await readMeta(dir);
  const tensors = await readModelTensors(dir);
  return { model: Gpt.fromHost(meta.model, tensors, path.join(dir, 'model.safetensors')), meta, dir };
}
