/**
 * Every hand-written backward pass checked against central finite differences of its own loss
 * (float32, tiny shapes, points away from ReLU / top-k / gate kinks). Straight-through and
 * stop-gradient terms, which are not true derivatives, are checked against hand-computed formulas.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { resolveTrainerConfig, Rng } from '../../src/sae/index.js';
import { createTrainer } from '../../src/sae/trainers/index.js';
import type { LossAndGrads, Trainer } from '../../src/sae/trainer.js';

beforeAll(async () => {
  await initBackend();
});

const D = 4;
const F = 8;
const B = 6;

function batch(seed: number, scale = 1, shift = 0.3): tf.Tensor2D {
  const r = new Rng(seed);
  const x = new Float32Array(B * D);
  for (let i = 0; i < x.length; i++) x[i] = r.normal() * scale + shift;
  return tf.tensor2d(x, [B, D]);
}

type Internals = { lossAndGrads(x: tf.Tensor2D, step: number): LossAndGrads };

function lossAt(trainer: Trainer, x: tf.Tensor2D, step: number): number {
  const out = (trainer as unknown as Internals).lossAndGrads(x, step);
  const l = out.scalars.loss.dataSync()[0];
  tf.dispose([...Object.values(out.grads), ...Object.values(out.scalars), ...(out.fired_F ? [out.fired_F] : [])]);
  return l;
}

function gradsAt(trainer: Trainer, x: tf.Tensor2D, step: number): Record<string, Float32Array> {
  const out = (trainer as unknown as Internals).lossAndGrads(x, step);
  const g: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(out.grads)) g[k] = t.dataSync() as Float32Array;
  tf.dispose([...Object.values(out.grads), ...Object.values(out.scalars), ...(out.fired_F ? [out.fired_F] : [])]);
  return g;
}

/**
 * Compare analytic gradients with (L(θ+ε) − L(θ−ε)) / 2ε on a few coordinates of each parameter.
 * `objective` replaces the trainer's loss (e.g. a surrogate with stop-gradient terms frozen).
 */
function checkFiniteDifferences(
  trainer: Trainer,
  x: tf.Tensor2D,
  names: string[],
  opts: { step?: number; eps?: number; coords?: number; objective?: () => number } = {},
) {
  const step = opts.step ?? 0;
  const eps = opts.eps ?? 2e-3;
  const analytic = gradsAt(trainer, x, step);
  const rng = new Rng(99);
  let checked = 0;
  for (const name of names) {
    const v = trainer.dictionary.params[name];
    const base = new Float32Array(v.dataSync() as Float32Array);
    const n = opts.coords ?? Math.min(base.length, 8);
    for (let c = 0; c < n; c++) {
      const i = base.length <= n ? c : rng.int(base.length);
      const set = (val: number) => {
        const d = base.slice();
        d[i] = val;
        v.assign(tf.tensor(d, v.shape));
      };
      const objective = opts.objective ?? (() => lossAt(trainer, x, step));
      set(base[i] + eps);
      const lp = objective();
      set(base[i] - eps);
      const lm = objective();
      set(base[i]);
      const fd = (lp - lm) / (2 * eps);
      const g = analytic[name][i];
      expect(Math.abs(fd - g), `${name}[${i}]: finite difference ${fd} vs analytic ${g}`).toBeLessThanOrEqual(3e-3 + 2e-2 * Math.abs(g));
      checked++;
    }
  }
  return checked;
}

const common = { dIn: D, dictSize: F, steps: 100, warmupSteps: 0 };

/**
 * The gated loss with its stop-gradient made explicit: the aux term decodes the gate activations
 * with the decoder frozen at its current value, so the finite difference of this surrogate is the
 * gradient the trainer must produce.
 */
function gatedSurrogate(t: Trainer, x: tf.Tensor2D): () => number {
  const W0 = tf.clone(t.dictionary.params.W_dec);
  const b0 = tf.clone(t.dictionary.params.b_dec);
  return () => {
    const out = (t as unknown as Internals).lossAndGrads(x, 0);
    const full = out.scalars.loss.dataSync()[0] - out.scalars.aux.dataSync()[0];
    tf.dispose([...Object.values(out.grads), ...Object.values(out.scalars), ...(out.fired_F ? [out.fired_F] : [])]);
    const aux = tf.tidy(() => {
      const g = (t.dictionary as unknown as { gateActivations(x: tf.Tensor2D): tf.Tensor2D }).gateActivations(x);
      const xAux = tf.add(tf.matMul(g, W0 as tf.Tensor2D), b0);
      return tf.div(tf.sum(tf.square(tf.sub(x, xAux))), x.shape[0]).dataSync()[0];
    });
    return full + aux;
  };
}

describe('finite-difference gradient checks', () => {
  it('standard: ‖x − x̂‖₂ + λ‖f‖₁', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'standard', ...common, l1Penalty: 0.3 }));
    const x = batch(1);
    expect(checkFiniteDifferences(t, x, ['W_enc', 'b_enc', 'W_dec', 'b_dec'])).toBe(8 + 8 + 8 + D);
    t.dispose();
    x.dispose();
  });

  it('p-anneal with p < 1: Lp^p penalty (gradient only where f > 0)', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'p_anneal', ...common, initialSparsityPenalty: 0.2, annealStart: 10 }));
    (t as unknown as { anneal: { p: number } }).anneal.p = 0.5;
    const x = batch(2);
    checkFiniteDifferences(t, x, ['W_enc', 'b_enc', 'W_dec', 'b_dec'], { eps: 1e-3 });
    t.dispose();
    x.dispose();
  });

  it('gated: squared recon + λ‖ReLU(π_gate)‖₁ + aux (decoder in the aux term is stop-gradient)', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'gated', ...common, l1Penalty: 0.4 }));
    // non-zero r_mag, b_mag so every path matters
    t.dictionary.params.r_mag.assign(tf.tensor1d(Array.from({ length: F }, (_, i) => 0.1 * (i - 3))));
    t.dictionary.params.b_mag.assign(tf.tensor1d(Array.from({ length: F }, (_, i) => 0.05 * i)));
    const x = batch(3);
    checkFiniteDifferences(t, x, ['W_enc', 'r_mag', 'b_gate', 'b_mag', 'W_dec', 'b_dec'], { objective: gatedSurrogate(t, x) });
    t.dispose();
    x.dispose();
  });

  it('gated-anneal with p < 1', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'gated_anneal', ...common, initialSparsityPenalty: 0.3, annealStart: 10 }));
    (t as unknown as { anneal: { p: number } }).anneal.p = 0.6;
    const x = batch(4);
    checkFiniteDifferences(t, x, ['W_enc', 'r_mag', 'b_gate', 'b_mag', 'W_dec', 'b_dec'], { eps: 1e-3, objective: gatedSurrogate(t, x) });
    t.dispose();
    x.dispose();
  });

  it('top-k: squared recon + AuxK over dead features (decode with b_dec)', () => {
    // deadTokensThreshold 1: after the first batch every feature that did not fire is dead
    const t = createTrainer(resolveTrainerConfig({ trainer: 'top_k', ...common, k: 2, deadTokensThreshold: 1, auxKCoeff: 0.5 }));
    const x = batch(5, 1, 0);
    lossAt(t, x, 1); // populate the firing tracker
    const dead = (t as unknown as { firing: { countDead(n: number): number } }).firing.countDead(1);
    expect(dead).toBeGreaterThan(0);
    const out = (t as unknown as Internals).lossAndGrads(x, 1);
    expect(out.scalars.auxk.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([...Object.values(out.grads), ...Object.values(out.scalars)]);
    checkFiniteDifferences(t, x, ['W_enc', 'b_enc', 'W_dec', 'b_dec'], { step: 1 });
    t.dispose();
    x.dispose();
  });

  it('batch-top-k: recon part by finite differences; AuxK with the detached residual by hand', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'batch_top_k', ...common, k: 2, deadTokensThreshold: 1, auxKCoeff: 0 }));
    const x = batch(6, 1, 0);
    checkFiniteDifferences(t, x, ['W_enc', 'b_enc', 'W_dec', 'b_dec'], { step: 1 });
    t.dispose();
    x.dispose();
  });

  it('JumpReLU: finite differences for W_enc, b_enc, W_dec, b_dec (θ away from the data)', () => {
    const t = createTrainer(resolveTrainerConfig({ trainer: 'jump_relu', ...common, sparsityWarmupSteps: 0, targetL0: 3 }));
    t.dictionary.params.threshold.assign(tf.fill([F], 0.05));
    const x = batch(7);
    checkFiniteDifferences(t, x, ['W_enc', 'b_enc', 'W_dec', 'b_dec'], { eps: 1e-3 });
    t.dispose();
    x.dispose();
  });
});

describe('straight-through and stop-gradient terms against hand computation', () => {
  it('JumpReLU threshold gradient = −(θ/ε)Σ rect((pre−θ)/ε)·∂L/∂f − (1/ε)Σ rect((f−θ)/ε)·∂L/∂L0/B', () => {
    // d = 1, F = 2, B = 2: W_enc = [1, 1], b_enc = 0, W_dec = [[1],[1]], b_dec = 0, θ = (0.5, 0.8)
    const cfg = resolveTrainerConfig({ trainer: 'jump_relu', dIn: 1, dictSize: 2, steps: 10, warmupSteps: 0, sparsityWarmupSteps: 0, targetL0: 0.5, bandwidth: 0.2, sparsityPenalty: 2 });
    const t = createTrainer(cfg);
    t.dictionary.load({
      W_enc: new Float32Array([1, 1]),
      b_enc: new Float32Array([0, 0]),
      W_dec: new Float32Array([1, 1]),
      b_dec: new Float32Array([0]),
      threshold: new Float32Array([0.5, 0.8]),
    });
    const x = tf.tensor2d([[0.55], [0.85]]);
    const g = gradsAt(t, x, 0).threshold;
    // pre = x for both features. f = pre·1[pre > θ]:
    //   row0: f = (0.55, 0)   row1: f = (0.85, 0.85)
    // x̂ = f0 + f1: row0 0.55, row1 1.7. ∂L/∂x̂ = −2(x − x̂)/B: row0 0, row1 −2(0.85−1.7)/2 = 0.85
    // ∂L/∂f = ∂L/∂x̂ · W_decᵀ: row0 (0,0), row1 (0.85, 0.85)
    // L0 = mean_b Σ 1[f > θ] = (1 + 2)/2 = 1.5; ∂L/∂L0 = 2·2·(1.5/0.5 − 1)/0.5 = 16; per element /B = 8
    // jump term: rect((pre−θ)/0.2): θ0: row0 (0.05/0.2=0.25 → 1), row1 (0.35/0.2 → 0); θ1: row0 (−1.25 → 0), row1 (0.25 → 1)
    //   θ0: −(0.5/0.2)·(1·0 + 0·0.85) = 0;  θ1: −(0.8/0.2)·(0 + 1·0.85) = −3.4
    // step term: rect((f−θ)/0.2): θ0: row0 (0.25 → 1), row1 (1.75 → 0); θ1: row0 ((0−0.8)/0.2 → 0), row1 (0.25 → 1)
    //   θ0: −(1/0.2)·1·8 = −40;  θ1: −(1/0.2)·1·8 = −40
    expect(g[0]).toBeCloseTo(-40, 3);
    expect(g[1]).toBeCloseTo(-43.4, 3);
    t.dispose();
    x.dispose();
  });

  it('batch-top-k AuxK gradient treats the residual as a constant', () => {
    // d = 2, F = 2, k = 1, identity decoder, b = 0. Feature 1 never makes the batch top-2 → dead.
    const cfg = resolveTrainerConfig({ trainer: 'batch_top_k', dIn: 2, dictSize: 2, k: 1, steps: 10, warmupSteps: 0, deadTokensThreshold: 1, auxKCoeff: 1, thresholdStartStep: 100 });
    const t = createTrainer(cfg);
    t.dictionary.load({
      W_enc: new Float32Array([1, 0, 0, 0.5]),
      b_enc: new Float32Array([0, 0]),
      W_dec: new Float32Array([1, 0, 0, 1]),
      b_dec: new Float32Array([0, 0]),
      threshold: new Float32Array([-1]),
    });
    const x = tf.tensor2d([
      [2, 1],
      [3, 2],
    ]);
    lossAt(t, x, 1); // first call: feature 1 did not fire → dead (2 tokens ≥ 1)
    const out = (t as unknown as Internals).lossAndGrads(x, 1);
    // pre: row0 (2, 0.5), row1 (3, 1); batch top-2 = {3, 2} → f row0 (2, 0), row1 (3, 0)
    // e = x − x̂ = (0,1), (0,2); recon = (1 + 4)/2 = 2.5
    // aux: a = feature 1's activations (0.5, 1) → x_aux = (0,0.5), (0,1); r − x_aux = (0,0.5), (0,1)
    //   l2_aux = (0.25 + 1)/2 = 0.625; denom = mean ‖e − ē‖² = 0.25 → AuxK = 2.5
    expect(out.scalars.recon.dataSync()[0]).toBeCloseTo(2.5, 5);
    expect(out.scalars.auxk.dataSync()[0]).toBeCloseTo(2.5, 5);
    const g = Object.fromEntries(Object.entries(out.grads).map(([k, v]) => [k, Array.from(v.dataSync())]));
    tf.dispose([...Object.values(out.grads), ...Object.values(out.scalars)]);
    // ∂/∂x̂ = −e (B = 2); ∂/∂x_aux = −2(r − x_aux)/(B·denom) = (0,−2), (0,−4) (r held constant)
    // dW_dec = fᵀ∂x̂ + aᵀ∂x_aux = feature0: 2(0,−1) + 3(0,−2) = (0,−8); feature1: 0.5(0,−2) + 1(0,−4) = (0,−5)
    expect(g.W_dec).toEqual([0, -8, 0, -5].map((v) => expect.closeTo(v, 4)));
    // db_enc: the recon path is masked to feature 0, whose decoder row is orthogonal to ∂x̂ → 0;
    // the aux path reaches feature 1: (−2) + (−4) = −6
    expect(g.b_enc).toEqual([0, -6].map((v) => expect.closeTo(v, 4)));
    t.dispose();
    x.dispose();
  });
});
