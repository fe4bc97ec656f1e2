/** Schedules, p/λ adaptation and loss values against the hand-computed numbers of trainers.md. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { resolveTrainerConfig, Rng } from '../../src/sae/index.js';
import {
  advancePAnneal,
  f32Linspace,
  initialPAnnealState,
  intLinspace,
  lrFactor,
  pAnnealSchedule,
} from '../../src/sae/schedule.js';
import { createTrainer } from '../../src/sae/trainers/index.js';
import type { LossAndGrads, StepStats } from '../../src/sae/trainer.js';

beforeAll(async () => {
  await initBackend();
});

describe('p-annealing schedule (trainers.md §5.2)', () => {
  it('update points for 36,621 steps with anneal_end = steps', () => {
    const c = resolveTrainerConfig({ trainer: 'p_anneal', dIn: 512, expansion: 8, steps: 36_621, initialSparsityPenalty: 0.03 });
    expect(c.trainer === 'p_anneal' && [c.annealStart, c.annealEnd, c.pEnd, c.nSparsityUpdates]).toEqual([10_000, 36_621, 0.2, 10]);
    const s = pAnnealSchedule(c as Parameters<typeof pAnnealSchedule>[0]);
    expect(s.updateSteps).toEqual([10000, 12957, 15915, 18873, 21831, 24789, 27747, 30705, 33663, 36621]);
    expect(s.pValues.map((p) => Number(p.toFixed(4)))).toEqual([1, 0.9111, 0.8222, 0.7333, 0.6444, 0.5556, 0.4667, 0.3778, 0.2889, 0.2]);
  });

  it('the d173235 variant (anneal_end = steps − 1) shifts the second half by one', () => {
    expect(intLinspace(10_000, 36_620, 10)).toEqual([10000, 12957, 15915, 18873, 21831, 24788, 27746, 30704, 33662, 36620]);
  });

  it('the last update point is never reached: training ends at p ≈ 0.289', () => {
    const s = pAnnealSchedule({ annealStart: 10_000, annealEnd: 36_621, nSparsityUpdates: 10, pStart: 1, pEnd: 0.2 });
    // steps run 0 … 36620; p after each update point < 36621
    const applied = s.updateSteps.filter((u) => u < 36_621).length;
    expect(s.pValues[applied - 1]).toBeCloseTo(0.2889, 4);
    expect(f32Linspace(1, 0.2, 10)[9]).toBe(Math.fround(0.2));
  });

  it('λ ← λ · mean(Σf^p) / mean(Σf^next_p) over the queue, p moves at each update point', () => {
    // update points intLinspace(2, 8, 3) = [2, 5, 8]; p values [1, 0.6, 0.2]; queue length 2.
    const sched = pAnnealSchedule({ annealStart: 2, annealEnd: 8, nSparsityUpdates: 3, pStart: 1, pEnd: 0.2 });
    expect(sched.updateSteps).toEqual([2, 5, 8]);
    let st = initialPAnnealState(1, 0.8);
    const trace: [number, number | null, number][] = [];
    for (let step = 0; step <= 8; step++) {
      // pretend the batch gives Σf^p = step and Σf^next_p = 2·step
      st = advancePAnneal(st, sched, step, step, st.nextP === null ? null : 2 * step, 2, 0.2);
      trace.push([st.p, st.nextP, st.lambda]);
    }
    // step 2: first update point only sets p = 1 and starts the queue; λ unchanged
    expect(trace[2][0]).toBe(1);
    expect(trace[2][1]).toBeCloseTo(0.6, 6);
    expect(trace[2][2]).toBe(0.8);
    // step 5: queue = [(4,8), (5,10)] → λ = 0.8 · 4.5/9 = 0.4, p = 0.6
    expect(trace[5][2]).toBeCloseTo(0.4, 12);
    expect(trace[5][0]).toBeCloseTo(0.6, 6);
    expect(trace[4][0]).toBe(1);
    // step 8: queue = [(7,14), (8,16)] → λ = 0.4 · 7.5/15 = 0.2, p = 0.2, next_p = p_end
    expect(trace[8][2]).toBeCloseTo(0.2, 12);
    expect(trace[8][0]).toBeCloseTo(0.2, 6);
    expect(trace[8][1]).toBe(0.2);
  });
});

describe('learning-rate schedules', () => {
  it('linear warm-up lr·min(step/1000, 1) from step 0 (the first update uses lr 0)', () => {
    expect(lrFactor(0, 1000, null, 36_621)).toBe(0);
    expect(lrFactor(250, 1000, null, 36_621)).toBe(0.25);
    expect(lrFactor(1000, 1000, null, 36_621)).toBe(1);
    expect(lrFactor(36_620, 1000, null, 36_621)).toBe(1);
  });

  it('top-k: lr 2e-4/√(m/16384), constant then linear decay from 24,000 to 0 at 36,621', () => {
    const c = resolveTrainerConfig({ trainer: 'top_k', dIn: 512, expansion: 8, k: 40, steps: 36_621 });
    expect(c.lr).toBeCloseTo(4e-4, 12);
    expect(resolveTrainerConfig({ trainer: 'top_k', dIn: 512, expansion: 16, k: 40, steps: 36_621 }).lr).toBeCloseTo(2.828427e-4, 9);
    expect([c.warmupSteps, c.decayStart]).toEqual([0, 24_000]);
    expect(lrFactor(23_999, 0, 24_000, 36_621)).toBe(1);
    expect(lrFactor(24_000, 0, 24_000, 36_621)).toBe(1);
    expect(lrFactor(30_310, 0, 24_000, 36_621)).toBeCloseTo(6311 / 12621, 12);
    // scaled to a shorter run
    expect(resolveTrainerConfig({ trainer: 'top_k', dIn: 8, dictSize: 16, k: 2, steps: 1000 }).decayStart).toBe(655);
  });

  it('paper-trainer defaults: lr 3e-4, eps 1e-8, betas (0.9, 0.999) or (0, 0.999) for gated', () => {
    const s = resolveTrainerConfig({ trainer: 'standard', dIn: 512, expansion: 8, steps: 36_621, l1Penalty: 0.05 });
    const g = resolveTrainerConfig({ trainer: 'gated_anneal', dIn: 512, expansion: 8, steps: 36_621, initialSparsityPenalty: 0.1 });
    expect([s.lr, s.eps, s.betas, s.warmupSteps, s.decayStart, s.batchSize, s.seed]).toEqual([3e-4, 1e-8, [0.9, 0.999], 1000, null, 8192, 42]);
    expect(g.betas).toEqual([0, 0.999]);
  });
});

type Internals = { lossAndGrads(x: tf.Tensor2D, step: number): LossAndGrads };
function lossParts(t: ReturnType<typeof createTrainer>, x: number[][]): Record<string, number> {
  const xt = tf.tensor2d(x);
  const out = (t as unknown as Internals).lossAndGrads(xt, 0);
  const r = Object.fromEntries(Object.entries(out.scalars).map(([k, v]) => [k, v.dataSync()[0]]));
  tf.dispose([xt, ...Object.values(out.grads), ...Object.values(out.scalars), ...(out.fired_F ? [out.fired_F] : [])]);
  return r;
}

describe('loss values by hand', () => {
  const f32 = (a: number[]) => new Float32Array(a);
  const W_enc = f32([1, 0, -1, 0, 1, 1]);
  const W_dec = f32([1, 0, 0, 1, 0.6, 0.8]);
  const b_dec = f32([1, 0]);
  const X = [
    [2, 1],
    [0, 0],
  ];

  it('standard: mean ‖x − x̂‖₂ (un-squared) + λ mean ‖f‖₁', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'standard', dIn: 2, dictSize: 3, steps: 10, warmupSteps: 0, l1Penalty: 0.1 }));
    t.dictionary.load({ W_enc, b_enc: f32([0, -0.5, 0.1]), W_dec, b_dec });
    const p = lossParts(t, X);
    // row 0: f = (1, .5, .1), x̂ = (2.06, .58), ‖e‖ = √0.18; row 1: f = (0, 0, 1.1), x̂ = (1.66, .88), ‖e‖ = √3.53
    expect(p.recon).toBeCloseTo((Math.sqrt(0.18) + Math.sqrt(3.53)) / 2, 5);
    expect(p.sparsity).toBeCloseTo((0.1 * (1.6 + 1.1)) / 2, 6);
    expect(p.loss).toBeCloseTo(1.2865465, 5);
    t.dispose();
  });

  it('gated: squared recon + λ‖ReLU(π_gate)‖₁ + frozen-decoder aux', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'gated', dIn: 2, dictSize: 3, steps: 10, warmupSteps: 0, l1Penalty: 0.1 }));
    t.dictionary.load({ W_enc, r_mag: f32([0, Math.log(2), 0]), b_gate: f32([0, 0, -2]), b_mag: f32([0.5, 0, 0]), W_dec, b_dec });
    const p = lossParts(t, X);
    // row 0: g = (1,1,0), f = (1.5,2,0): x̂ = (2.5,2) → ‖e‖² = 1.25; x̂_aux = (2,1) → 0
    // row 1: g = 0, f = 0: x̂ = x̂_aux = (1,0) → 1 and 1
    expect(p.recon).toBeCloseTo(1.125, 5);
    expect(p.aux).toBeCloseTo(0.5, 5);
    expect(p.sparsity).toBeCloseTo(0.1, 6);
    expect(p.loss).toBeCloseTo(1.725, 5);
    t.dispose();
  });
});

describe('p-anneal trainer bookkeeping', () => {
  it('the loss of an update step uses the old p and λ; the new ones apply from the next step', () => {
    const cfg = resolveTrainerConfig({
      trainer: 'p_anneal',
      dIn: 6,
      dictSize: 12,
      steps: 9,
      warmupSteps: 2,
      batchSize: 16,
      initialSparsityPenalty: 0.05,
      annealStart: 2,
      annealEnd: 8,
      nSparsityUpdates: 3,
      sparsityQueueLength: 2,
    });
    const t = createTrainer(cfg);
    const rng = new Rng(7);
    const stats: StepStats[] = [];
    for (let s = 0; s < 8; s++) {
      const x = tf.tensor2d(rng.fillNormal(new Float32Array(16 * 6)), [16, 6]);
      stats.push(t.update(x));
      x.dispose();
    }
    expect(stats.map((s) => s.extra.p !== null && Number(s.extra.p.toFixed(4)))).toEqual([1, 1, 1, 1, 1, 1, 0.6, 0.6]);
    // λ used from step 6 = λ0 · mean(lp over steps 4,5) / mean(lpNext over steps 4,5)
    const lam = 0.05 * ((stats[4].parts.lp + stats[5].parts.lp) / 2) / ((stats[4].parts.lpNext + stats[5].parts.lpNext) / 2);
    expect(stats[5].extra.lambda).toBe(0.05);
    expect(stats[6].extra.lambda).toBeCloseTo(lam, 10);
    // the reported sparsity part is λ·Σf^p with the λ and p of that step
    expect(stats[6].parts.sparsity).toBeCloseTo(lam * stats[6].parts.lp, 6);
    t.dispose();
  });
});
