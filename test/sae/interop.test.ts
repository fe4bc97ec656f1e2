/**
 * Interop: SAEs written by (the conventions of) dictionary_learning and SAELens load here and
 * encode exactly as those libraries do; ours written in their layouts load back unchanged, and
 * our ae.pt is readable by real PyTorch (when /usr/bin/python3 has torch).
 * Fixtures: scripts/sae-make-interop-fixtures.py.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { detectSaeFormat, exportSae, loadSae, SAE_FORMATS } from '../../src/sae/interop.js';
import { PROJECT_ROOT } from '../../src/version.js';

const FIX = path.join(PROJECT_ROOT, 'test', 'fixtures', 'sae');
const fixtures = readdirSync(FIX)
  .filter((n) => statSync(path.join(FIX, n)).isDirectory())
  .sort();
let tmp: string;

beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sae-interop-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expected(dir: string): { x: number[][]; features: number[][]; reconstruction: number[][] } {
  return JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8'));
}

function run(dict: Awaited<ReturnType<typeof loadSae>>['dictionary'], x: number[][]) {
  const xt = tf.tensor2d(x);
  const { xHat_BD, feats_BF } = dict.forward(xt);
  const out = { f: feats_BF.arraySync(), r: xHat_BD.arraySync() };
  tf.dispose([xt, xHat_BD, feats_BF]);
  return out;
}

function close(a: number[][], b: number[][], tol = 1e-5) {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i][j]), `[${i}][${j}] ${v} vs ${b[i][j]}`).toBeLessThan(tol)));
}

const hasTorch = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('loading other libraries’ SAEs', () => {
  it.each(fixtures)('%s encodes and decodes as the library does', async (name) => {
    const dir = path.join(FIX, name);
    const e = expected(dir);
    const { dictionary, format } = await loadSae(dir);
    expect(format).toBe(name.startsWith('dl_') ? 'dictionary_learning' : 'saelens');
    const { f, r } = run(dictionary, e.x);
    close(f, e.features);
    close(r, e.reconstruction);
    dictionary.dispose();
  });

  it('keeps what it can of the dictionary_learning trainer config', async () => {
    const { config } = await loadSae(path.join(FIX, 'dl_topk'));
    expect(config.trainer?.trainer).toBe('top_k');
    expect(config.meta.k).toBe(2);
    expect(config.provenance?.layer).toBe(5);
    const g = await loadSae(path.join(FIX, 'dl_gated'));
    expect(g.config.trainer?.trainer === 'gated' && g.config.trainer.l1Penalty).toBe(1);
    g.dictionary.dispose();
  });

  it('rejects directories that are no SAE, naming what is expected', async () => {
    await expect(detectSaeFormat(tmp)).rejects.toThrow(/not an SAE directory/);
  });
});

describe('writing our SAEs in other layouts', () => {
  const sources = ['dl_relu', 'dl_gated', 'dl_topk', 'dl_batchtopk', 'dl_jumprelu', 'saelens_standard_no_bdec'];
  for (const src of sources) {
    for (const fmt of SAE_FORMATS) {
      it(`${src} → ${fmt} → back: same function`, async () => {
        const dir = path.join(FIX, src);
        const e = expected(dir);
        const a = await loadSae(dir);
        const out = path.join(tmp, `${src}-${fmt}`);
        await exportSae(a.dictionary, a.config, out, fmt);
        const b = await loadSae(out);
        expect(b.format).toBe(fmt);
        close(run(b.dictionary, e.x).f, e.features);
        close(run(b.dictionary, e.x).r, e.reconstruction);
        a.dictionary.dispose();
        b.dictionary.dispose();
      });
    }
  }

  it.skipIf(!hasTorch)('our ae.pt loads in PyTorch (weights_only) with dictionary_learning names and shapes', async () => {
    const a = await loadSae(path.join(FIX, 'dl_topk'));
    const out = path.join(tmp, 'torch-check');
    await exportSae(a.dictionary, a.config, out, 'dictionary_learning');
    a.dictionary.dispose();
    const py = `
import json, sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
print(json.dumps({k: [str(v.dtype), list(v.shape)] for k, v in sd.items()}))
x = torch.tensor(json.load(open(sys.argv[2]))['x'])
post = torch.relu((x - sd['b_dec']) @ sd['encoder.weight'].T + sd['encoder.bias'])
v, i = post.topk(int(sd['k']), dim=-1)
f = torch.zeros_like(post).scatter_(-1, i, v)
print(json.dumps(f.tolist()))
`;
    const lines = execFileSync('/usr/bin/python3', ['-c', py, path.join(out, 'ae.pt'), path.join(FIX, 'dl_topk', 'expected.json')]).toString().trim().split('\n');
    const shapes = JSON.parse(lines[0]) as Record<string, [string, number[]]>;
    expect(shapes['encoder.weight']).toEqual(['torch.float32', [6, 4]]);
    expect(shapes['decoder.weight']).toEqual(['torch.float32', [4, 6]]);
    expect(shapes.k).toEqual(['torch.int32', []]);
    close(JSON.parse(lines[1]) as number[][], expected(path.join(FIX, 'dl_topk')).features);
  });
});
