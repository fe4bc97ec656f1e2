/**
 * Finding LM checkpoints by path or by name: `--model X` accepts a checkpoint directory, a
 * training run directory (its newest checkpoint), or the name of a shipped model under models/.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../errors.js';
import { PROJECT_ROOT } from '../version.js';

export const SHIPPED_MODELS_DIR = path.join(PROJECT_ROOT, 'models');

export function shippedModelNames(): string[] {
  if (!existsSync(SHIPPED_MODELS_DIR)) return [];
  return readdirSync(SHIPPED_MODELS_DIR).filter((n) => existsSync(path.join(SHIPPED_MODELS_DIR, n, 'config.json'))).sort();
}

export function resolveModelPath(spec: string): string {
  if (existsSync(path.join(spec, 'config.json'))) return spec;
  if (existsSync(spec)) {
    const ckpts = readdirSync(spec).filter((n) => /^ckpt-\d{8}$/.test(n)).sort();
    if (ckpts.length) return path.join(spec, ckpts[ckpts.length - 1]);
    throw new UserInputError(`${spec}: not an LM checkpoint (no config.json) and not a training run (no ckpt-* directories)`);
  }
  const shipped = path.join(SHIPPED_MODELS_DIR, spec);
  if (!spec.includes('/') && existsSync(path.join(shipped, 'config.json'))) return shipped;
  const names = shippedModelNames();
  throw new UserInputError(`model "${spec}" not found: not a directory, and not a shipped model${names.length ? ` (shipped: ${names.join(', ')})` : ''}`);
}
