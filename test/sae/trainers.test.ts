/** Every trainer: live tensor count stays flat over steps, state round trip continues identically. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { resolveTrainerConfig, Rng, TRAINER_NAMES } from '../../src/sae/index.js';
import { createTrainer, initDictionary } from '../../src/sae/trainers/index.js';
import { createDictionary } from '../../src/sae/dictionary.js';

beforeAll(async () => {
  await initBackend();
});

const knob: Record<string, Record<string, unknown>> = {
  standard: { l1Penalty: 0.1 },
  gated: { l1Penalty: 0.5 },
  p_anneal: { initialSparsityPenalty: 0.1, annealStart: 2, nSparsityUpdates: 4 },
  gated_anneal: { initialSparsityPenalty: 0.3, annealStart: 2, nSparsityUpdates: 4 },
  top_k: { k: 3, deadTokensThreshold: 32 },
  batch_top_k: { k: 3, deadTokensThreshold: 32, thresholdStartStep: 2 },
  jump_relu: { targetL0: 3, sparsityWarmupSteps: 2 },
};

function batches(n: number, B: number, d: number) {
  const rng = new Rng(4);
  return Array.from({ length: n }, () => rng.fillNormal(new Float32Array(B * d)));
}

describe.each(TRAINER_NAMES)('%s trainer', (name) => {
  const cfg = () => resolveTrainerConfig({ trainer: name, dIn: 8, dictSize: 24, steps: 12, batchSize: 16, warmupSteps: 2, ...knob[name] });

  it('does not leak tensors and keeps finite parameters', () => {
    const t = createTrainer(cfg());
    const xs = batches(8, 16, 8);
    const x0 = tf.tensor2d(xs[0], [16, 8]);
    t.update(x0); // first step may create cached constants
    const before = tf.memory().numTensors;
    for (const h of xs.slice(1)) {
      const x = tf.tensor2d(h, [16, 8]);
      const s = t.update(x);
      x.dispose();
      expect(Number.isFinite(s.loss)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    t.dispose();
  });

  it('state() + loadState() resume exactly', () => {
    const xs = batches(10, 16, 8);
    const run = (from: number, t: ReturnType<typeof createTrainer>) => {
      for (const h of xs.slice(from)) {
        const x = tf.tensor2d(h, [16, 8]);
        t.update(x);
        x.dispose();
      }
    };
    const a = createTrainer(cfg());
    run(0, a);
    const b = createTrainer(cfg());
    for (const h of xs.slice(0, 4)) {
      const x = tf.tensor2d(h, [16, 8]);
      b.update(x);
      x.dispose();
    }
    const st = b.state();
    const host = b.dictionary.toHost();
    const c = createTrainer(cfg(), createDictionary(b.dictionary.name, 8, 24, Object.fromEntries(Object.entries(host).map(([k, v]) => [k, v.data])), b.dictionary.meta));
    c.loadState({ json: JSON.parse(JSON.stringify(st.json)), tensors: Object.fromEntries(Object.entries(st.tensors).map(([k, v]) => [k, v.data])) });
    run(4, c);
    expect(c.step).toBe(a.step);
    const ha = a.dictionary.toHost();
    const hc = c.dictionary.toHost();
    for (const k of Object.keys(ha)) expect(hc[k].data, k).toEqual(ha[k].data);
    [a, b, c].forEach((t) => t.dispose());
  });

  it('rejects a batch of the wrong width, naming d_in', () => {
    const t = createTrainer(cfg());
    const x = tf.zeros([4, 5]) as tf.Tensor2D;
    expect(() => t.update(x)).toThrow(/expected \[B, 8\] \(d_in mismatch\)/);
    x.dispose();
    t.dispose();
  });
});

describe('registry', () => {
  it('knows every trainer and builds the matching dictionary', () => {
    for (const name of TRAINER_NAMES) {
      const c = resolveTrainerConfig({ trainer: name, dIn: 4, dictSize: 8, steps: 5000, ...knob[name] });
      const d = initDictionary(c);
      expect(d.name).toBe(c.dictionary);
      d.dispose();
    }
    expect(() => resolveTrainerConfig({ trainer: 'nope', dIn: 4, dictSize: 8, steps: 10 })).toThrow('config.trainer: unknown trainer "nope"');
  });
});
