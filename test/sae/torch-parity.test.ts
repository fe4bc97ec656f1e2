/**
 * Our trainers against PyTorch: the same initial weights and batches, the losses and final
 * weights of a few steps of dictionary_learning's trainer logic run with autograd and
 * torch.optim.Adam (fixture: scripts/sae-make-trainer-fixtures.py). Covers the un-squared L2,
 * ConstrainedAdam, the warm-up starting at lr 0, p-annealing's schedule and λ rescaling, the gated
 * stop-gradients with β1 = 0, top-k's geometric median, AuxK, clipping and decay, batch-top-k's
 * threshold EMA and detached AuxK, and JumpReLU's straight-through threshold gradients.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { createDictionary, resolveTrainerConfig } from '../../src/sae/index.js';
import { saeNativeUnavailableReason } from '../../src/sae/native.js';
import { createTrainer } from '../../src/sae/trainers/index.js';
import { PROJECT_ROOT } from '../../src/version.js';

interface Case {
  config: Record<string, unknown>;
  init: Record<string, number[]>;
  losses: number[];
  final: Record<string, number[]>;
}
const fx = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/sae/trainers.json'), 'utf8')) as Record<string, Case> & { batches: number[][]; B: number; d: number };

beforeAll(async () => {
  await initBackend();
});
afterEach(() => {
  delete process.env.SAEBOARD_SAE_ENGINE;
});

function replay(name: string, engine: 'tfjs' | 'native') {
  process.env.SAEBOARD_SAE_ENGINE = engine;
  const c = fx[name];
  const cfg = resolveTrainerConfig(c.config);
  const init = Object.fromEntries(Object.entries(c.init).map(([k, v]) => [k, Float32Array.from(v)]));
  const dict = createDictionary(cfg.dictionary, cfg.dIn, cfg.dictSize, init, 'k' in cfg ? { k: cfg.k } : {});
  const t = createTrainer(cfg, dict);
  const losses = fx.batches.map((b) => {
    const x = tf.tensor2d(b, [fx.B, fx.d]);
    const s = t.update(x);
    x.dispose();
    return s.loss;
  });
  const final = t.dictionary.toHost();
  t.dispose();
  return { losses, final };
}

// every trainer has a fused native step: replay each on both engines when it is built
const engines = (): ('tfjs' | 'native')[] => (saeNativeUnavailableReason() === '' ? ['tfjs', 'native'] : ['tfjs']);

describe.each(['standard', 'p_anneal', 'gated', 'gated_anneal', 'top_k', 'batch_top_k', 'jump_relu'])('%s trainer matches PyTorch', (name) => {
  it('losses step by step and the final weights', () => {
    for (const engine of engines()) {
      const { losses, final } = replay(name, engine);
      const want = fx[name];
      losses.forEach((l, i) => expect(Math.abs(l - want.losses[i]) / Math.max(1, Math.abs(want.losses[i])), `${engine} step ${i}: ${l} vs ${want.losses[i]}`).toBeLessThan(2e-5));
      for (const [k, v] of Object.entries(want.final)) {
        const got = final[k].data;
        let maxDiff = 0;
        for (let i = 0; i < v.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - v[i]));
        expect(maxDiff, `${engine} ${k}`).toBeLessThan(5e-5);
      }
    }
  });
});
