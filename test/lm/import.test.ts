import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { importWeights } from '../../src/lm/import/index.js';
import { loadTorchFile, TorchTensor } from '../../src/lm/import/torch-pickle.js';
import { Gpt } from '../../src/lm/model.js';
import { readSafetensors, writeSafetensors } from '../../src/util/safetensors.js';

// Fixtures made once with PyTorch 1.13 by scripts/lm-make-fixtures.py.
const FIX = path.join(import.meta.dirname, '..', 'fixtures', 'lm');
const expected = JSON.parse(readFileSync(path.join(FIX, 'expected.json'), 'utf8')) as {
  tokens: number[][];
  models: Record<string, { logits: number[][][]; logsoftmax: number[][][]; config: { activation: string; bias: boolean; tied: boolean } }>;
};
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-import-'));

beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function maxAbsDiff(a: number[][][], b: number[][][]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) for (let k = 0; k < a[i][j].length; k++) m = Math.max(m, Math.abs(a[i][j][k] - b[i][j][k]));
  return m;
}

async function run(model: Gpt, what: 'logits' | 'logsoftmax'): Promise<number[][][]> {
  const toks = tf.tensor2d(expected.tokens.flat(), [2, 8], 'int32');
  const logits = model.forward(toks);
  const out = what === 'logits' ? logits : tf.logSoftmax(logits);
  return (await out.array()) as number[][][];
}

describe('weight import matches PyTorch', () => {
  const cases: [string, string, 'logits' | 'logsoftmax', string, Record<string, unknown>][] = [
    ['nanoGPT .pt, bias, exact GELU, tied', 'nanogpt-bias.pt', 'logits', 'nanogpt', { bias: true, tiedHead: true, activation: 'gelu', nHead: 2 }],
    ['nanoGPT .pt, no bias, _orig_mod. prefixes', 'nanogpt-nobias.pt', 'logits', 'nanogpt', { bias: false, tiedHead: true }],
    ['TransformerLens .pt, unfolded', 'tl-unfolded.pt', 'logits', 'transformerlens', { bias: true, tiedHead: false, nHead: 2 }],
    ['TransformerLens .safetensors, unfolded', 'tl-unfolded.safetensors', 'logits', 'transformerlens', { nHead: 2 }],
    ['TransformerLens .pt, folded + centred', 'tl-folded.pt', 'logsoftmax', 'transformerlens', { headBias: true }],
    ['HF GPT-2 safetensors, gelu_new', 'hf-gelu-new.safetensors', 'logits', 'hf-gpt2', { activation: 'gelu_new', tiedHead: false, nHead: 2 }],
  ];
  for (const [title, file, what, format, cfg] of cases) {
    it(`${title} → logits within 1e-4`, async () => {
      const imp = await importWeights(path.join(FIX, file));
      expect(imp.format).toBe(format);
      expect(imp.config).toMatchObject({ nLayer: 2, dModel: 16, nCtx: 8, vocabSize: 11, dMlp: 64, ...cfg });
      const model = Gpt.fromHost(imp.config, imp.tensors, file);
      const key = file.replace(/\.(pt|safetensors)$/, '');
      const ref = expected.models[key][what];
      const diff = maxAbsDiff(await run(model, what), ref);
      expect(diff).toBeLessThan(1e-4);
      // and a wrong activation would be visibly off: the fixture really tests the GELU choice
      const other = Gpt.fromHost({ ...imp.config, activation: imp.config.activation === 'gelu' ? 'gelu_new' : 'gelu' }, imp.tensors);
      expect(maxAbsDiff(await run(other, what), ref)).toBeGreaterThan(1e-4);
      model.dispose();
      other.dispose();
    });
  }

  it('reads the rest of a nanoGPT checkpoint: model_args, iter_num, best_val_loss, optimizer state', async () => {
    const imp = await importWeights(path.join(FIX, 'nanogpt-bias.pt'));
    expect(imp.info.iter_num).toBe(1);
    expect(typeof imp.info.best_val_loss).toBe('number');
    const root = (await loadTorchFile(path.join(FIX, 'nanogpt-bias.pt'))) as Map<string, unknown>;
    const opt = root.get('optimizer') as Map<string, unknown>;
    const state = opt.get('state') as Map<number, Map<string, unknown>>;
    expect(state.size).toBeGreaterThan(10);
    expect(state.get(0)!.get('exp_avg')).toBeInstanceOf(TorchTensor);
    const groups = opt.get('param_groups') as Map<string, unknown>[];
    expect(groups[0].get('lr')).toBe(0.001);
    expect((root.get('config') as Map<string, unknown>).get('dataset')).toBe('fixture');
  });
});

describe('bad weight files give errors that name the tensor or field', () => {
  it('missing tensor', async () => {
    const { tensors } = await readSafetensors(path.join(FIX, 'hf-gelu-new.safetensors'));
    delete tensors['transformer.h.1.mlp.c_fc.weight'];
    const f = path.join(tmp, 'missing.safetensors');
    await writeSafetensors(f, tensors);
    copyFileSync(path.join(FIX, 'hf-gelu-new.config.json'), path.join(tmp, 'missing.config.json'));
    await expect(importWeights(f)).rejects.toThrow(/missing tensor "transformer\.h\.1\.mlp\.c_fc\.weight"/);
  });

  it('mis-shaped tensor', async () => {
    const { tensors } = await readSafetensors(path.join(FIX, 'hf-gelu-new.safetensors'));
    const t = tensors['transformer.h.0.attn.c_proj.weight'];
    tensors['transformer.h.0.attn.c_proj.weight'] = { ...t, shape: [8, 32] };
    const f = path.join(tmp, 'misshaped.safetensors');
    await writeSafetensors(f, tensors);
    copyFileSync(path.join(FIX, 'hf-gelu-new.config.json'), path.join(tmp, 'misshaped.config.json'));
    await expect(importWeights(f)).rejects.toThrow(/tensor "transformer\.h\.0\.attn\.c_proj\.weight" has shape \[8,32\], expected \[16,16\]/);
  });

  it('config that does not match the file', async () => {
    const cfg = JSON.parse(readFileSync(path.join(FIX, 'hf-gelu-new.config.json'), 'utf8'));
    const f = path.join(tmp, 'wrongcfg.json');
    writeFileSync(f, JSON.stringify({ ...cfg, n_layer: 3 }));
    await expect(importWeights(path.join(FIX, 'hf-gelu-new.safetensors'), { configFile: f })).rejects.toThrow(
      /field "n_layer" = 3 does not match the weights: blocks transformer\.h\.0\.\.1 implies 2/,
    );
    writeFileSync(f, JSON.stringify({ ...cfg, n_embd: 32 }));
    await expect(importWeights(path.join(FIX, 'hf-gelu-new.safetensors'), { configFile: f })).rejects.toThrow(/field "n_embd" = 32/);
  });

  it('no head count anywhere', async () => {
    const f = path.join(tmp, 'noconfig.safetensors');
    copyFileSync(path.join(FIX, 'hf-gelu-new.safetensors'), f);
    await expect(importWeights(f)).rejects.toThrow(/number of attention heads; pass --n-head/);
    const imp = await importWeights(f, { nHead: 2, activation: 'gelu_new' });
    expect(imp.config.nHead).toBe(2);
  });

  it('not a checkpoint at all', async () => {
    const f = path.join(tmp, 'junk.pt');
    writeFileSync(f, 'hello');
    await expect(importWeights(f)).rejects.toThrow(/not a PyTorch zip checkpoint/);
    await expect(importWeights(path.join(tmp, 'nope.pt'))).rejects.toThrow(/no such file/);
  });
});
