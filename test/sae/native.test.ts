/**
 * The fused native SAE step against the pure-tfjs reference: same loss curve (to 1e-4) over 20
 * steps from the same initialisation and batches, and the same final weights, for every fused
 * trainer: standard, p-annealing (incl. p < 1 and λ adaptation), gated, gated-annealing, top-k and
 * batch-top-k (with dead features, so AuxK is on for most steps, and batch-top-k's threshold EMA),
 * JumpReLU (both b_dec conventions, straight-through threshold gradients). Builds the addon first when a compiler is there; skips otherwise.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { createDictionary, resolveTrainerConfig, Rng } from '../../src/sae/index.js';
import { chooseSaeEngine, loadSaeNative, saeNativeUnavailableReason } from '../../src/sae/native.js';
import { topKMask } from '../../src/sae/ops.js';
import type { StepStats } from '../../src/sae/trainer.js';
import { createTrainer, initDictionary } from '../../src/sae/trainers/index.js';
import type { Dictionary } from '../../src/sae/dictionary.js';
import { PROJECT_ROOT } from '../../src/version.js';

let available = false;
beforeAll(async () => {
  await initBackend();
  execFileSync(process.execPath, ['scripts/build-native.mjs', '--quiet'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  available = saeNativeUnavailableReason() === '';
}, 300_000);
afterEach(() => {
  delete process.env.SAEBOARD_SAE_ENGINE;
});

function trainRun(engine: 'tfjs' | 'native', cfgIn: Record<string, unknown>, steps = 20, dict?: Dictionary) {
  process.env.SAEBOARD_SAE_ENGINE = engine;
  expect(chooseSaeEngine()).toBe(engine);
  const cfg = resolveTrainerConfig(cfgIn);
  const t = createTrainer(cfg, dict);
  const rng = new Rng(3);
  const stats: StepStats[] = [];
  for (let s = 0; s < steps; s++) {
    const data = rng.fillNormal(new Float32Array(cfg.batchSize * cfg.dIn));
    for (let i = 0; i < data.length; i++) data[i] += 0.3;
    const x = tf.tensor2d(data, [cfg.batchSize, cfg.dIn]);
    stats.push(t.update(x));
    x.dispose();
  }
  const W = t.dictionary.params.W_dec.dataSync().slice();
  const final = t.dictionary.toHost();
  t.dispose();
  return { stats, W, final };
}

function sameCurve(a: StepStats[], b: StepStats[]) {
  a.forEach((s, i) => {
    expect(Math.abs(s.loss - b[i].loss) / Math.abs(s.loss), `step ${i}: loss ${s.loss} vs ${b[i].loss}`).toBeLessThan(1e-4);
    expect(b[i].l0).toBeCloseTo(s.l0, 2);
    expect(b[i].fve).toBeCloseTo(s.fve, 3);
  });
}

function maxAbsDiff(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
  return maxDiff;
}

/** Every parameter (and buffer, e.g. batch-top-k's threshold) within tol of the reference's. */
function sameWeights(a: ReturnType<typeof trainRun>, b: ReturnType<typeof trainRun>, tol: number) {
  for (const [name, ref] of Object.entries(a.final)) expect(maxAbsDiff(ref.data, b.final[name].data), name).toBeLessThan(tol);
}

type Run = ReturnType<typeof trainRun>;
type Check = (a: Run, b: Run) => void;

const finalWeights: Check = (a, b) => sameWeights(a, b, 1e-4);

/** p-annealing's schedule: the same p every step, λ after its updates to 1e-4, p annealed below 1. */
const annealing: Check = (a, b) => {
  expect(b.stats.map((s) => s.extra.p)).toEqual(a.stats.map((s) => s.extra.p));
  expect(Math.abs((b.stats[19].extra.lambda! - a.stats[19].extra.lambda!) / a.stats[19].extra.lambda!)).toBeLessThan(1e-4);
  expect(a.stats[19].extra.p).toBeLessThan(1);
};

/** AuxK on for most steps, with the same auxk part and dead count every step. */
const auxK: Check = (a, b) => {
  expect(a.stats.filter((s) => s.parts.auxk > 0).length).toBeGreaterThan(10);
  a.stats.forEach((s, i) => {
    expect(b.stats[i].parts.auxk).toBeCloseTo(s.parts.auxk, 5);
    expect(b.stats[i].dead).toBe(s.dead);
  });
};

// a wide bandwidth and a threshold near the activations so the rect windows catch many entries
const jumpReluCfg = { trainer: 'jump_relu', dIn: 24, dictSize: 96, steps: 40, batchSize: 64, warmupSteps: 3, lr: 3e-3, bandwidth: 0.5, targetL0: 8, sparsityPenalty: 1, sparsityWarmupSteps: 10 };
function jumpReluDict(applyBDecToInput: boolean): Dictionary {
  const init = initDictionary(resolveTrainerConfig(jumpReluCfg));
  const tensors = Object.fromEntries(Object.entries(init.toHost()).map(([k, v]) => [k, v.data]));
  init.dispose();
  tensors.threshold.fill(0.2);
  tensors.b_dec.fill(0.1);
  return createDictionary('jump_relu', 24, 96, tensors, { applyBDecToInput });
}

/**
 * Every fused trainer, both engines 20 steps from the same initialisation (`dict`, made afresh for
 * each engine, else the trainer's own) and batches: the same loss curve, then `checks` (b native, a
 * the reference). `name` is the test's, so it names the trainer.
 */
const engineCases: { name: string; cfg: Record<string, unknown>; dict?: () => Dictionary; checks: Check[] }[] = [
  {
    name: 'standard: same loss curve as the tfjs reference over 20 steps',
    cfg: { trainer: 'standard', dIn: 24, dictSize: 96, steps: 100, batchSize: 64, warmupSteps: 5, lr: 3e-3, l1Penalty: 0.05 },
    checks: [(a, b) => expect(maxAbsDiff(a.W, b.W)).toBeLessThan(1e-4)],
  },
  {
    name: 'p-annealing with p < 1 and λ adaptation: same loss curve and schedule',
    cfg: { trainer: 'p_anneal', dIn: 24, dictSize: 96, steps: 20, batchSize: 64, warmupSteps: 2, lr: 3e-3, initialSparsityPenalty: 0.1, annealStart: 4, nSparsityUpdates: 6, sparsityQueueLength: 3 },
    checks: [annealing],
  },
  {
    name: 'gated (β1 = 0, stop-gradient aux loss): same loss curve, parts and weights',
    cfg: { trainer: 'gated', dIn: 24, dictSize: 96, steps: 100, batchSize: 64, warmupSteps: 5, lr: 3e-3, l1Penalty: 0.3 },
    checks: [
      (a, b) =>
        a.stats.forEach((s, i) => {
          for (const part of ['recon', 'aux', 'sparsity']) expect(Math.abs(b.stats[i].parts[part] - s.parts[part]) / Math.abs(s.parts[part]), `${part} ${i}`).toBeLessThan(1e-4);
        }),
      finalWeights,
    ],
  },
  {
    name: 'gated-annealing with p < 1 and λ adaptation: same loss curve, schedule and weights',
    cfg: { trainer: 'gated_anneal', dIn: 24, dictSize: 96, steps: 20, batchSize: 64, warmupSteps: 2, lr: 3e-3, initialSparsityPenalty: 0.1, annealStart: 4, nSparsityUpdates: 6, sparsityQueueLength: 3 },
    checks: [annealing, finalWeights],
  },
  ...[false, true].map((applyBDecToInput) => ({
    name: `JumpReLU (applyBDecToInput ${applyBDecToInput}): same loss curve, parts and weights`,
    cfg: jumpReluCfg,
    dict: () => jumpReluDict(applyBDecToInput),
    checks: [
      (a: Run, b: Run) => {
        a.stats.forEach((s, i) => {
          expect(Math.abs(b.stats[i].parts.sparsity - s.parts.sparsity), `sparsity ${i}`).toBeLessThan(1e-4 * Math.max(1, s.parts.sparsity));
          expect(b.stats[i].parts.l0Step).toBeCloseTo(s.parts.l0Step, 4);
        });
        expect(a.stats[19].parts.sparsity).toBeGreaterThan(0);
      },
      finalWeights,
    ],
  })),
  {
    name: 'top-k with AuxK (dead features from step 2): same loss curve, parts and weights',
    // a feature is dead after 2 batches without firing: AuxK (with its scale < 1 and = 1) is on;
    // its TotVar normalisation makes it ~1e-4 of the loss here, so a large coefficient (not 1/32)
    // makes an error in its gradient show in the curve
    cfg: { trainer: 'top_k', dIn: 24, dictSize: 96, steps: 30, batchSize: 64, k: 4, lr: 3e-3, deadTokensThreshold: 128, decayStart: 10, auxKCoeff: 3000 },
    checks: [auxK, finalWeights],
  },
  {
    name: 'batch-top-k with AuxK and the threshold EMA: same loss curve, threshold and weights',
    cfg: { trainer: 'batch_top_k', dIn: 24, dictSize: 96, steps: 30, batchSize: 64, k: 4, lr: 3e-3, warmupSteps: 3, deadTokensThreshold: 128, thresholdStartStep: 5, auxKCoeff: 1 },
    checks: [
      auxK,
      (a, b) => {
        expect(a.stats[19].extra.threshold).toBeGreaterThan(0);
        expect(Math.abs(b.stats[19].extra.threshold! - a.stats[19].extra.threshold!)).toBeLessThan(1e-5);
      },
      finalWeights,
    ],
  },
];

describe('fused native SAE step', () => {
  // (a loop, not it.for: '$name' would quote and truncate the names)
  for (const c of engineCases) {
    it(c.name, (ctx) => {
      if (!available) ctx.skip();
      // the engine is set before the dictionary is made (trainRun sets it again)
      const run = (engine: 'tfjs' | 'native') => {
        process.env.SAEBOARD_SAE_ENGINE = engine;
        return trainRun(engine, c.cfg, 20, c.dict?.());
      };
      const a = run('tfjs');
      const b = run('native');
      sameCurve(a.stats, b.stats);
      for (const check of c.checks) check(a, b);
    });
  }

  it('standard, p-annealing, gated, gated-annealing and JumpReLU once f is sparse (L0 ≤ F/16, as after training): the sparse decoder path gives the reference\'s curve and weights, and the dense path\'s', (ctx) => {
    if (!available) ctx.skip();
    const addon = loadSaeNative()!;
    // the bias that decides which features fire: the ReLU encoder's, the gate's
    const cases = [
      { bias: 'b_enc', cfg: { trainer: 'standard', dIn: 24, dictSize: 96, steps: 100, batchSize: 64, warmupSteps: 5, lr: 3e-3, l1Penalty: 0.05 } },
      { bias: 'b_enc', cfg: { trainer: 'p_anneal', dIn: 24, dictSize: 96, steps: 20, batchSize: 64, warmupSteps: 2, lr: 3e-3, initialSparsityPenalty: 0.1, annealStart: 4, nSparsityUpdates: 6, sparsityQueueLength: 3 } },
      { bias: 'b_gate', cfg: { trainer: 'gated', dIn: 24, dictSize: 96, steps: 100, batchSize: 64, warmupSteps: 5, lr: 3e-3, l1Penalty: 0.3 } },
      { bias: 'b_gate', cfg: { trainer: 'gated_anneal', dIn: 24, dictSize: 96, steps: 20, batchSize: 64, warmupSteps: 2, lr: 3e-3, initialSparsityPenalty: 0.1, annealStart: 4, nSparsityUpdates: 6, sparsityQueueLength: 3 } },
      // batches smaller than d: ∂W_enc's [F, d] scratch does not fit in the dense buffers' room
      { bias: 'b_enc', cfg: { trainer: 'standard', dIn: 24, dictSize: 96, steps: 100, batchSize: 16, warmupSteps: 5, lr: 3e-3, l1Penalty: 0.05 } },
      { bias: 'b_gate', fill: -1.3, cfg: { trainer: 'gated', dIn: 24, dictSize: 96, steps: 100, batchSize: 16, warmupSteps: 5, lr: 3e-3, l1Penalty: 0.3 } },
      // JumpReLU: a high threshold; its wide rect windows (bandwidth 0.5) join the index too
      ...[true, false].map((applyBDecToInput) => ({ bias: 'threshold', fill: 2, meta: { applyBDecToInput }, cfg: jumpReluCfg })),
    ];
    type SparseCase = { bias: string; cfg: Record<string, unknown> & { trainer: string }; fill?: number; meta?: Record<string, unknown> };
    for (const { bias, cfg, fill, meta } of cases as SparseCase[]) {
      // a negative bias: a few % of the features fire, as in a trained SAE
      const sparseDict = () => {
        const resolved = resolveTrainerConfig(cfg);
        const init = initDictionary(resolved);
        const tensors = Object.fromEntries(Object.entries(init.toHost()).map(([k, v]) => [k, v.data]));
        init.dispose();
        tensors[bias].fill(fill ?? -1);
        // gated: a magnitude path that is off for part of the open gates (∂f = 0 there)
        if (bias === 'b_gate') tensors.b_mag.fill(-1.2);
        return createDictionary(resolved.dictionary, 24, 96, tensors, meta);
      };
      const run = (engine: 'tfjs' | 'native', sparse = true) => {
        process.env.SAEBOARD_SAE_ENGINE = engine;
        if (!sparse) process.env.SAEBOARD_SAE_SPARSE = '0';
        try {
          return trainRun(engine, cfg, 20, sparseDict());
        } finally {
          delete process.env.SAEBOARD_SAE_SPARSE;
        }
      };
      const ref = run('tfjs');
      // every step in the sparse regime, and some features firing
      for (const s of ref.stats) expect(s.l0, cfg.trainer).toBeGreaterThan(0.5);
      for (const s of ref.stats) expect(s.l0).toBeLessThanOrEqual(96 / 16);
      addon.profile!(true);
      const sparse = run('native');
      const phases = addon.profile!(false).phases;
      expect(Object.keys(phases), cfg.trainer).toEqual(expect.arrayContaining(['sparse dec', 'sparse dWdec', 'sparse dWenc']));
      expect(Object.keys(phases), cfg.trainer).not.toContain('gemm dec');
      const dense = run('native', false);
      addon.setThreads(2); // the sparse products split over rows and features
      let twoThreads: Run;
      try {
        twoThreads = run('native');
      } finally {
        addon.setThreads(Number(process.env.SAEBOARD_THREADS ?? 1) || 1);
      }
      sameCurve(ref.stats, sparse.stats);
      sameWeights(ref, sparse, 1e-4);
      sameCurve(dense.stats, sparse.stats);
      sameWeights(dense, sparse, 1e-4);
      sameCurve(sparse.stats, twoThreads.stats);
      sameWeights(sparse, twoThreads, 1e-4);
    }
  });

  it('on two threads (row splits, per-thread partial sums, the threaded batch histogram): same curves and weights', (ctx) => {
    if (!available) ctx.skip();
    const addon = loadSaeNative()!;
    addon.setThreads(2); // vitest runs the addon on one thread otherwise
    try {
      const cfgs = [
        // B·F = 262144: the histogram select splits over both threads
        { trainer: 'batch_top_k', dIn: 16, dictSize: 512, steps: 30, batchSize: 512, k: 4, lr: 3e-3, warmupSteps: 3, deadTokensThreshold: 1024, thresholdStartStep: 2, auxKCoeff: 1 },
        { trainer: 'top_k', dIn: 16, dictSize: 128, steps: 30, batchSize: 128, k: 4, lr: 3e-3, deadTokensThreshold: 256, auxKCoeff: 3000 },
        { trainer: 'gated_anneal', dIn: 16, dictSize: 128, steps: 30, batchSize: 128, warmupSteps: 2, lr: 3e-3, initialSparsityPenalty: 0.1, annealStart: 2, nSparsityUpdates: 4, sparsityQueueLength: 2 },
        { trainer: 'jump_relu', dIn: 16, dictSize: 128, steps: 30, batchSize: 128, warmupSteps: 2, lr: 3e-3, bandwidth: 0.5, targetL0: 8, sparsityWarmupSteps: 3 },
        { trainer: 'p_anneal', dIn: 16, dictSize: 128, steps: 30, batchSize: 128, warmupSteps: 2, lr: 3e-3, initialSparsityPenalty: 0.1, annealStart: 2, nSparsityUpdates: 4, sparsityQueueLength: 2 },
      ];
      for (const cfg of cfgs) {
        const a = trainRun('tfjs', cfg, 8);
        const b = trainRun('native', cfg, 8);
        sameCurve(a.stats, b.stats);
        sameWeights(a, b, 1e-4);
      }
    } finally {
      addon.setThreads(Number(process.env.SAEBOARD_THREADS ?? 1) || 1);
    }
  });

  it('the native per-row top-k mask equals the reference, ties at zero included', (ctx) => {
    if (!available) ctx.skip();
    const rng = new Rng(8);
    // ReLU'd normals: rows with fewer than k positive entries tie at 0
    const v = tf.relu(tf.tensor2d(rng.fillNormal(new Float32Array(300 * 50)), [300, 50]).sub(1.2)) as tf.Tensor2D;
    for (const k of [1, 3, 7, 40]) {
      process.env.SAEBOARD_SAE_ENGINE = 'tfjs';
      const ref = topKMask(v, k);
      process.env.SAEBOARD_SAE_ENGINE = 'native';
      const nat = topKMask(v, k);
      expect(Array.from(nat.dataSync())).toEqual(Array.from(ref.dataSync()));
      tf.dispose([ref, nat]);
    }
    v.dispose();
    // rows of 4096 (k ≤ F/8: the sampled-threshold select): mostly zeros, a row with fewer positive
    // entries than k, an all-zero row, a row whose large entries all sit between the sample points
    // (every 16th), and one whose sample points are its only large entries (k 512: too few reach
    // the sample's threshold, the heap decides)
    const F = 4096;
    const wide = new Float32Array(7 * F);
    const normals = rng.fillNormal(new Float32Array(7 * F));
    for (let i = 0; i < 3 * F; i++) wide[i] = Math.max(0, normals[i] - 1.2);
    for (let i = 0; i < 5; i++) wide[3 * F + i * 97] = 1 + i;
    for (let i = 0; i < F; i++) wide[5 * F + i] = i % 16 === 0 ? 0.01 : 1 + normals[5 * F + i] * 0.01;
    for (let i = 0; i < F; i++) wide[6 * F + i] = i % 16 === 0 ? 2 + normals[6 * F + i] * 0.01 : Math.abs(normals[6 * F + i]) * 0.1;
    const w = tf.tensor2d(wide, [7, F]);
    for (const k of [1, 8, 64, 512]) {
      process.env.SAEBOARD_SAE_ENGINE = 'tfjs';
      const ref = topKMask(w, k);
      process.env.SAEBOARD_SAE_ENGINE = 'native';
      const nat = topKMask(w, k);
      expect(Array.from(nat.dataSync()), `k ${k}`).toEqual(Array.from(ref.dataSync()));
      tf.dispose([ref, nat]);
    }
    w.dispose();
  });

  it('the fused steps reject bad offsets, dims and arguments with a JS error', (ctx) => {
    if (!available) ctx.skip();
    const a = loadSaeNative()!;
    const heap = new ArrayBuffer(4096);
    const F = 8;
    const ok = (n: number) => new Float64Array(n);
    const far = new Float64Array(13).fill(1e9);
    const tsf = new Float64Array(F);
    const fired = new Float32Array(F);
    const hyper = new Float64Array([0, 2, 1 / 32, 1e7, 1, 0.9, 0.999, 1e-8, 1e-3, 1, 1e-7, 1e-6]);
    expect(() => a.topkStep(heap, far, new Float64Array([4, 4, F]), hyper, ok(10), fired, tsf)).toThrow(/outside the heap/);
    expect(() => a.topkStep(heap, ok(13), new Float64Array([4, 4, F]), hyper, ok(10), fired, tsf)).not.toThrow(/bad dims/);
    expect(() => a.topkStep(heap, ok(13), new Float64Array([1, 4, F]), hyper, ok(10), fired, tsf)).toThrow(/bad dims/);
    expect(() => a.topkStep(heap, ok(13), new Float64Array([4, 4, F]), hyper, ok(10), fired, new Float64Array(2))).toThrow(/length F/);
    const badK = hyper.slice();
    badK[1] = F + 1;
    expect(() => a.topkStep(heap, ok(13), new Float64Array([4, 4, F]), badK, ok(10), fired, tsf)).toThrow(/k must be/);
    expect(() => (a.topkStep as (...x: unknown[]) => void)(heap, ok(13))).toThrow(/expected 7 arguments/);
    const gHyper = new Float64Array([0.1, 1, -1, 0, 0.999, 1e-8, 1e-3, 1, 0]);
    expect(() => a.gatedStep(heap, new Float64Array(19).fill(1e9), new Float64Array([4, 4, F]), gHyper, ok(10), fired)).toThrow(/outside the heap/);
    expect(() => a.gatedStep(heap, new Float64Array(19).fill(-1), new Float64Array([4, 4, F]), gHyper, ok(10), fired)).toThrow(/outside the heap/);
    expect(() => a.gatedStep(heap, ok(19), new Float64Array([4, 4.5, F]), gHyper, ok(10), fired)).toThrow(/bad dims/);
    expect(() => a.gatedStep(heap, ok(13), new Float64Array([4, 4, F]), gHyper, ok(10), fired)).toThrow(/Float64Arrays/);
    const jHyper = new Float64Array([0, 0.001, 1, 20, 1, 1, 0, 0.999, 1e-8, 1e-3, 1, 1e-7, 1e-6]);
    expect(() => a.jumpReluStep(heap, new Float64Array(16).fill(1e9), new Float64Array([4, 4, F]), jHyper, ok(8), fired)).toThrow(/outside the heap/);
    expect(() => a.jumpReluStep(heap, ok(16), new Float64Array([4, 4, F]), jHyper, ok(8), new Float32Array(2))).toThrow(/length F/);
    expect(() => a.jumpReluStep(heap, ok(16), new Float64Array([0, 4, F]), jHyper, ok(8), fired)).toThrow(/bad dims/);
  });

  it('a non-finite batch leaves the parameters untouched', (ctx) => {
    if (!available) ctx.skip();
    process.env.SAEBOARD_SAE_ENGINE = 'native';
    const t = createTrainer(resolveTrainerConfig({ trainer: 'standard', dIn: 8, dictSize: 16, steps: 10, batchSize: 8, warmupSteps: 0, l1Penalty: 0.1 }));
    const before = t.dictionary.params.W_enc.dataSync().slice();
    const bad = new Float32Array(64).fill(1);
    bad[5] = NaN;
    const x = tf.tensor2d(bad, [8, 8]);
    expect(() => t.update(x)).toThrow(/loss became NaN at step 0/);
    expect(t.dictionary.params.W_enc.dataSync()).toEqual(before);
    expect(t.step).toBe(0);
    x.dispose();
    t.dispose();
  });

  it('profile(): phase times per kind (gemm, elementwise, adam, copy) summed over the steps since profile(true)', (ctx) => {
    if (!available) ctx.skip();
    const a = loadSaeNative()!;
    if (!a.profile) ctx.skip();
    process.env.SAEBOARD_SAE_ENGINE = 'native';
    const x = tf.tensor2d(new Rng(4).fillNormal(new Float32Array(64 * 24)), [64, 24]);
    const cfgs = [
      { trainer: 'standard', dIn: 24, dictSize: 96, steps: 10, batchSize: 64, warmupSteps: 0, l1Penalty: 0.05 },
      { trainer: 'top_k', dIn: 24, dictSize: 96, steps: 10, batchSize: 64, k: 4 },
    ] as const;
    for (const cfg of cfgs) {
      const t = createTrainer(resolveTrainerConfig(cfg));
      a.profile!(true);
      for (let i = 0; i < 3; i++) t.update(x);
      const { phases, kinds } = a.profile!(false);
      expect(Object.keys(kinds).sort()).toEqual(['adam', 'copy', 'elementwise', 'gemm']);
      expect(kinds.gemm, cfg.trainer).toBeGreaterThan(0);
      expect(phases['gemm enc'], cfg.trainer).toBeGreaterThan(0);
      expect(phases.adam, cfg.trainer).toBeGreaterThan(0);
      const sum = Object.values(phases).reduce((p, q) => p + q, 0);
      expect(Object.values(kinds).reduce((p, q) => p + q, 0)).toBeCloseTo(sum, 6);
      // stopped: further steps add nothing
      t.update(x);
      expect(Object.keys(a.profile!(false).phases)).toEqual([]);
      t.dispose();
    }
    x.dispose();
  });
});
