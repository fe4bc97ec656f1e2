/** Synthetic ground truth for the other trainers (a lower bar at these short, test-sized runs). */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { recover } from './synthetic.js';

beforeAll(async () => {
  await initBackend();
});

describe('recovery of a known sparse dictionary: gated, gated-anneal, batch-top-k, JumpReLU', () => {
  it('gated', () => {
    expect(recover({ trainer: 'gated', steps: 800, lr: 2e-2, warmupSteps: 100, l1Penalty: 0.8 }).mmcs).toBeGreaterThanOrEqual(0.8);
  });
  it('gated + p-annealing', () => {
    expect(recover({ trainer: 'gated_anneal', steps: 800, lr: 1e-2, warmupSteps: 100, initialSparsityPenalty: 0.6 }).mmcs).toBeGreaterThanOrEqual(0.8);
  });
  it('batch-top-k', () => {
    const r = recover({ trainer: 'batch_top_k', steps: 600, lr: 5e-3, warmupSteps: 100, k: 4, deadTokensThreshold: 256 * 50, thresholdStartStep: 100 });
    expect(r.mmcs).toBeGreaterThanOrEqual(0.8);
  });
  it('JumpReLU', () => {
    const r = recover({ trainer: 'jump_relu', steps: 800, lr: 1e-2, warmupSteps: 100, sparsityWarmupSteps: 100, targetL0: 4 });
    expect(r.mmcs).toBeGreaterThanOrEqual(0.8);
    expect(r.l0).toBeLessThan(8);
  });
});
