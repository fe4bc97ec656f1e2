/**
 * Checkpoint files of one SAE inside a sweep directory:
 *
 *   <sweep>/<sae>/checkpoints/step_<n>/ae.safetensors + config.json   after n updates (kept)
 *   <sweep>/<sae>/final/ae.safetensors + config.json                   after all updates
 *   <sweep>/<sae>/resume/step_<n>/ae.safetensors + optimizer.safetensors + trainer_state.json
 *                                                       (exact-resume state; only the latest kept)
 *   <sweep>/<sae>/log.jsonl                              monitoring every 5 steps (trainers.md §7)
 *   <sweep>/<sae>/failed.json                            why training stopped (divergence)
 *
 * Every directory is built under a temporary name and renamed into place (writeDirAtomic), so a
 * kill or a full disk leaves either the previous complete state or the new one, never a mix.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../errors.js';
import { writeDirAtomic } from '../util/atomic.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../util/safetensors.js';
import type { TrainerConfig } from './config.js';
import { createDictionary, type Dictionary } from './dictionary.js';
import { dictionaryConfig, readSaeConfig, readSaeTensors, writeSaeDir, type SaeDirConfig } from './storage.js';
import type { Trainer, TrainerState } from './trainer.js';
import { assertFiniteTensors } from '../util/finite.js';

export const checkpointDir = (saeDir: string, step: number) => path.join(saeDir, 'checkpoints', `step_${step}`);
export const finalDir = (saeDir: string) => path.join(saeDir, 'final');
export const resumeDir = (saeDir: string, step: number) => path.join(saeDir, 'resume', `step_${step}`);

export async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Write the dictionary (weights + config) as a checkpoint or final directory. */
export async function writeSaeCheckpoint(
  dir: string,
  dict: Dictionary,
  config: TrainerConfig,
  extra: { step: number; tokensSeen: number; provenance?: Record<string, unknown>; identityHash?: string },
): Promise<SaeDirConfig> {
  const cfg = dictionaryConfig(dict, config, extra);
  const tensors = dict.toHost();
  await writeDirAtomic(dir, (tmp) => writeSaeDir(tmp, tensors, cfg), { overwrite: true });
  return cfg;
}

/** The full exact-resume state of a trainer after `step` updates. */
export async function writeResumeState(saeDir: string, trainer: Trainer, provenance?: Record<string, unknown>, identityHash?: string): Promise<string> {
  const step = trainer.step;
  const dir = resumeDir(saeDir, step);
  const st: TrainerState = trainer.state();
  const cfg = dictionaryConfig(trainer.dictionary, trainer.config, { step, tokensSeen: step * trainer.config.batchSize, provenance, identityHash });
  const tensors = trainer.dictionary.toHost();
  await writeDirAtomic(
    dir,
    async (tmp) => {
      await writeSaeDir(tmp, tensors, cfg);
      await writeSafetensors(path.join(tmp, 'optimizer.safetensors'), st.tensors);
      await fs.writeFile(path.join(tmp, 'trainer_state.json'), JSON.stringify(st.json) + '\n');
    },
    { overwrite: true },
  );
  return dir;
}

export interface LoadedResume {
  dictionary: Dictionary;
  config: SaeDirConfig;
  state: { json: TrainerState['json']; tensors: Record<string, Float32Array> };
}

export async function readResumeState(saeDir: string, step: number): Promise<LoadedResume> {
  const dir = resumeDir(saeDir, step);
  if (!(await exists(path.join(dir, 'trainer_state.json')))) {
    throw new UserInputError(`${dir}: missing resume state (trainer_state.json); the sweep directory is incomplete`);
  }
  const config = await readSaeConfig(dir);
  const tensors = await readSaeTensors(dir, config);
  const opt = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  const json = JSON.parse(await fs.readFile(path.join(dir, 'trainer_state.json'), 'utf8')) as TrainerState['json'];
  const optTensors: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(opt.tensors)) optTensors[k] = toFloat32(t);
  assertFiniteTensors(path.join(dir, 'optimizer.safetensors'), optTensors);
  return {
    dictionary: createDictionary(config.dictionary, config.dIn, config.dictSize, tensors, config.meta),
    config,
    state: { json, tensors: optTensors },
  };
}

/** Remove resume directories other than `keepStep`. */
export async function pruneResumeStates(saeDir: string, keepStep: number | null): Promise<void> {
  const root = path.join(saeDir, 'resume');
  if (!(await exists(root))) return;
  for (const name of await fs.readdir(root)) {
    if (keepStep !== null && name === `step_${keepStep}`) continue;
    await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
  if (keepStep === null) await fs.rm(root, { recursive: true, force: true });
}

/** The steps of the kept checkpoints of an SAE directory (sorted). */
export async function listCheckpoints(saeDir: string): Promise<number[]> {
  const root = path.join(saeDir, 'checkpoints');
  if (!(await exists(root))) return [];
  const steps: number[] = [];
  for (const name of await fs.readdir(root)) {
    const m = /^step_(\d+)$/.exec(name);
    if (m && (await exists(path.join(root, name, 'config.json')))) steps.push(Number(m[1]));
  }
  return steps.sort((a, b) => a - b);
}
