/**
 * NaN/inf weights are rejected by every loader, once (src/util/finite.ts): `sae info`, `lm info`,
 * `lm import` and `eval` exit 1 with one line naming the file and the tensor, whatever the layout
 * (saeboard, dictionary_learning ae.pt, SAELens) and whether the file says NaN or Infinity.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { createDictionary, dictionaryConfig, initDictionaryTensors, Rng } from '../../src/sae/index.js';
import { exportSae } from '../../src/sae/interop.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { makeLm, makeOthelloDataset, makeSae } from '../eval/fixtures.js';

const exec = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-nonfinite-'));
const p = (...parts: string[]) => path.join(tmp, ...parts);

async function saeboard(args: string[]) {
  try {
    await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: '' },
      timeout: 120_000,
    });
    return { code: 0, line: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    const lines = e.stderr.trim().split('\n');
    expect(lines, e.stderr).toHaveLength(1);
    return { code: e.code, line: lines[0] };
  }
}

/** Damage a safetensors file in place: element `index` of tensor `name` becomes `value`. */
function damage(file: string, name: string, index: number, value: number): void {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  expect(header[name].dtype).toBe('F32');
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  const fd = openSync(file, 'r+');
  writeSync(fd, b, 0, 4, 8 + n + header[name].data_offsets[0] + 4 * index);
  closeSync(fd);
}

const nanLine = (file: string, tensor: string, what = 'NaN', index: string | number = '\\d+') =>
  new RegExp(`^saeboard: error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor "${tensor}" holds ${what} at index ${index}; NaN/inf weights \\(a damaged file or a diverged run\\) cannot be used$`);

beforeAll(async () => {
  await initBackend();
  await makeOthelloDataset(p('data'), 12);
  await makeLm(p('lm'), 'othello', 1);
  await makeLm(p('lm-nan'), 'othello', 1, 'nan', true);
  await makeSae(p('sae'), { lmDir: p('lm'), layer: 1 });
  await makeSae(p('sae-nan'), { lmDir: p('lm'), layer: 1, poison: true });
  await makeSae(p('sae-on-nan-lm'), { lmDir: p('lm-nan'), layer: 1 });
  cpSync(p('sae'), p('sae-inf'), { recursive: true });
  damage(p('sae-inf', 'ae.safetensors'), 'b_dec', 2, Infinity);
  // the same damage in the other layouts saeboard reads
  const tensors = initDictionaryTensors('relu', 16, 48, new Rng(5));
  tensors.W_enc[3] = NaN;
  const dict = createDictionary('relu', 16, 48, tensors);
  const cfg = dictionaryConfig(dict, null, { step: 1 });
  await exportSae(dict, cfg, p('dl-nan'), 'dictionary_learning');
  await exportSae(dict, cfg, p('saelens-nan'), 'saelens');
  dict.dispose();
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('NaN/inf weights: one line naming file and tensor, exit 1', () => {
  it('sae info: saeboard (NaN, Infinity), dictionary_learning and SAELens layouts', async () => {
    const [nan, inf, dl, lens, good] = await Promise.all([
      saeboard(['sae', 'info', p('sae-nan')]),
      saeboard(['sae', 'info', p('sae-inf')]),
      saeboard(['sae', 'info', p('dl-nan')]),
      saeboard(['sae', 'info', p('saelens-nan')]),
      saeboard(['sae', 'info', p('sae')]),
    ]);
    expect(nan.code).toBe(1);
    expect(nan.line).toMatch(nanLine(p('sae-nan', 'ae.safetensors'), 'W_enc', 'NaN', 3));
    expect(inf.code).toBe(1);
    expect(inf.line).toMatch(nanLine(p('sae-inf', 'ae.safetensors'), 'b_dec', 'Infinity', 2));
    expect(dl.code).toBe(1);
    expect(dl.line).toMatch(nanLine(p('dl-nan', 'ae.pt'), 'encoder\\.weight'));
    expect(lens.code).toBe(1);
    expect(lens.line).toMatch(nanLine(p('saelens-nan', 'sae_weights.safetensors'), 'W_enc', 'NaN', 3));
    expect(good.code).toBe(0);
  }, 180_000);

  it('lm info and lm import reject a damaged LM (nothing is written)', async () => {
    const [info, imp, good] = await Promise.all([
      saeboard(['lm', 'info', p('lm-nan')]),
      saeboard(['lm', 'import', p('lm-nan'), '--out', p('imported'), '--no-register']),
      saeboard(['lm', 'info', p('lm')]),
    ]);
    expect(info.code).toBe(1);
    expect(info.line).toMatch(nanLine(p('lm-nan', 'model.safetensors'), '[^"]+', 'NaN', 5));
    expect(imp.code).toBe(1);
    expect(imp.line).toMatch(nanLine(p('lm-nan', 'model.safetensors'), '[^"]+', 'NaN', 5));
    expect(existsSync(p('imported'))).toBe(false);
    expect(good.code).toBe(0);
  }, 180_000);

  it('eval rejects a damaged SAE and a damaged LM before any work', async () => {
    const base = ['eval', '--dataset', p('data'), '--no-db', '--export', p('results')];
    const [sae, lm] = await Promise.all([
      saeboard([...base, '--sae', p('sae'), p('sae-nan')]),
      saeboard([...base, '--sae', p('sae-on-nan-lm')]),
    ]);
    expect(sae.code).toBe(1);
    expect(sae.line).toMatch(nanLine(p('sae-nan', 'ae.safetensors'), 'W_enc', 'NaN', 3));
    expect(lm.code).toBe(1);
    expect(lm.line).toMatch(nanLine(p('lm-nan', 'model.safetensors'), '[^"]+', 'NaN', 5));
    expect(existsSync(p('results'))).toBe(false);
  }, 180_000);
});
