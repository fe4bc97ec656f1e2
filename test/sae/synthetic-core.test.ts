/**
 * Synthetic ground truth (the correctness bar): standard, p-annealing and top-k must
 * recover a known sparse dictionary with mean max cosine similarity ≥ 0.9. Deterministic seeds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { recover } from './synthetic.js';

beforeAll(async () => {
  await initBackend();
});

describe('recovery of a known sparse dictionary (d = 64, 256 unit vectors, 4 active)', () => {
  it('standard (L1) recovers it', () => {
    const r = recover({ trainer: 'standard', steps: 600, lr: 1e-2, warmupSteps: 100, l1Penalty: 0.15 });
    expect(r.mmcs).toBeGreaterThanOrEqual(0.9);
    expect(r.fve).toBeGreaterThan(0.7);
  });

  it('p-annealing recovers it (p annealed to ≈ 0.29, λ adapted)', () => {
    const r = recover({ trainer: 'p_anneal', steps: 600, lr: 1e-2, warmupSteps: 100, initialSparsityPenalty: 0.15 });
    expect(r.mmcs).toBeGreaterThanOrEqual(0.9);
    // p-annealing reaches a sparser code than L1 at the same starting penalty
    expect(r.l0).toBeLessThan(12);
  });

  it('top-k recovers it', () => {
    const r = recover({ trainer: 'top_k', steps: 400, lr: 5e-3, k: 4, deadTokensThreshold: 256 * 50 });
    expect(r.mmcs).toBeGreaterThanOrEqual(0.9);
    expect(r.l0).toBe(4);
  });
});
