/**
 * The paper's Table 5 (random-init ChessGPT, results.md §3) as a check of the metric code, as far
 * as it allows (docs/reproduction.md says why no column can be recomputed). For a one-cell concept
 * with base rate p, a feature that is on at every position has precision p and recall 1, so its
 * F1 is 2p/(1+p) at every threshold below 1 (metrics.md §3), and the coverage — max over alive
 * features, then over thresholds (§4) — is at least that. The random-init SAEs' coverages of
 * concepts such a model cannot know are of that form: for each, some count of positives out of the
 * paper's 20,000 D_train dots makes saeboard's coverage code return the published 3 decimals, with
 * an always-on feature next to a feature that is on at random where the concept is false.
 */
import { describe, expect, it } from 'vitest';
import { FiringStats, denseToCsr, evaluateSupervised, labelSetFromDense } from '../../src/eval/index.js';
import { PAPER_TABLE5_COVERAGE } from '../../scripts/report/paper.js';
import { denseActs, denseLabels, family, rng } from '../eval/helpers.js';

const N = 20_000; // 1000 D_train games × 20 dots (metrics.md §1)
/** Concepts a random-init LM cannot know; their published random-init reconstruction is 0.00 (results.md §3). */
const UNKNOWABLE = ['check', 'can_capture_queen', 'fork', 'pin', 'legal_en_passant'];

function coverageOf(positives: number, seed: number): number {
  const flag = family('flag', 1, 1, 1, null, 'strategy');
  const r = rng(seed);
  // feature 0 on everywhere (value 1); feature 1 on at random where the concept is false (it must not win the max)
  const entries: Record<number, Record<number, number>> = {};
  for (let i = 0; i < N; i++) entries[i] = i >= positives && r() < 0.3 ? { 0: 1, 1: 0.5 + r() } : { 0: 1 };
  const acts = denseActs(N, 2, entries);
  const truth = denseLabels(N, 1, Array.from({ length: N }, (_, i) => (i < positives ? [0] : [])));
  const s = new FiringStats(2);
  s.addDense(acts, N);
  const res = evaluateSupervised({ maxima: s.finish(), train: { activations: denseToCsr(acts, N, 2), labels: labelSetFromDense([flag], [truth], N) }, test: null });
  return res.families[0].coverage.coverage;
}

describe("the paper's Table 5 and saeboard's coverage", () => {
  it('an always-on feature has coverage 2p/(1+p) (F1 with the code ε, max over features and thresholds)', () => {
    for (const positives of [1, 137, 1344, 9000, 19_999]) {
      const p = positives / N;
      expect(coverageOf(positives, positives)).toBeCloseTo((2 * p) / (1 + p), 6);
    }
  });

  it("each unknowable concept's published random-init coverage is an always-on feature's F1 at some base rate", () => {
    for (const concept of UNKNOWABLE) {
      const published = PAPER_TABLE5_COVERAGE[concept];
      const p = published / (2 - published); // inverse of c = 2p/(1+p)
      expect(p).toBeGreaterThan(0);
      // precision p < 0.95: such a feature labels nothing (metrics.md §5), consistent with the published reconstruction 0.00
      expect(p).toBeLessThan(0.95);
      const positives = Math.round(p * N);
      expect(coverageOf(positives, 7).toFixed(3)).toBe(published.toFixed(3));
    }
  });
});
