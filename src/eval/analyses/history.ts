/**
 * Feature history of one SAE over its (log-spaced) checkpoints: for every feature of the final
 * checkpoint with a best BSP, its F1 with that final BSP at each earlier step, and the first step
 * at which it tracks it at F1 ≥ `level` (docs/analyses.md §1). A feature keeps its index across the
 * checkpoints of one training run (it is the same parameter row), so no matching is needed here;
 * "which board properties are learnt first" is then the order of the BSPs by their earliest step.
 */
import { UserInputError } from '../../errors.js';

export interface HistoryInput {
  /** Checkpoint steps, ascending; the last is the final checkpoint. */
  steps: readonly number[];
  /** Final best BSP per feature (-1 = none or dead). */
  finalBsp: Int32Array;
  /** f1[s][feature]: F1 of the feature with its final BSP at checkpoint s (best over thresholds; 0 if none). */
  f1: readonly Float32Array[];
  /** Tracking level (default 0.5). */
  level?: number;
}

export interface FeatureHistory {
  feature: number;
  bsp: number;
  /** F1 per checkpoint, in step order. */
  f1: number[];
  /** First step with F1 ≥ level (null: never, even at the final step). */
  firstStep: number | null;
  /** First step from which F1 stays ≥ level up to the final checkpoint (null: not at the final one). */
  stableStep: number | null;
  finalF1: number;
}

export const DEFAULT_HISTORY_LEVEL = 0.5;

export function featureHistories(input: HistoryInput): FeatureHistory[] {
  const { steps, finalBsp, f1 } = input;
  const level = input.level ?? DEFAULT_HISTORY_LEVEL;
  if (steps.length === 0) throw new UserInputError('feature history: no checkpoints');
  if (f1.length !== steps.length) throw new UserInputError(`feature history: ${f1.length} F1 rows for ${steps.length} checkpoints`);
  for (let s = 1; s < steps.length; s++) if (!(steps[s] > steps[s - 1])) throw new UserInputError('feature history: checkpoint steps must increase');
  const F = finalBsp.length;
  for (const row of f1) if (row.length !== F) throw new UserInputError(`feature history: an F1 row has ${row.length} features, expected ${F}`);
  const out: FeatureHistory[] = [];
  const S = steps.length;
  for (let i = 0; i < F; i++) {
    if (finalBsp[i] < 0) continue;
    const series = f1.map((r) => r[i]);
    let first: number | null = null;
    for (let s = 0; s < S; s++) {
      if (series[s] >= level) {
        first = steps[s];
        break;
      }
    }
    let stable: number | null = null;
    for (let s = S - 1; s >= 0 && series[s] >= level; s--) stable = steps[s];
    out.push({ feature: i, bsp: finalBsp[i], f1: series, firstStep: first, stableStep: stable, finalF1: series[S - 1] });
  }
  return out;
}

export interface BspLearningOrder {
  bsp: number;
  /** Earliest first step of a feature tracking it (null when no feature reaches the level). */
  firstStep: number | null;
  features: number;
}

/** BSPs by the earliest step at which some feature tracks them, earliest first. */
export function learningOrder(histories: readonly FeatureHistory[]): BspLearningOrder[] {
  const by = new Map<number, BspLearningOrder>();
  for (const h of histories) {
    const e = by.get(h.bsp) ?? { bsp: h.bsp, firstStep: null, features: 0 };
    e.features++;
    if (h.firstStep !== null && (e.firstStep === null || h.firstStep < e.firstStep)) e.firstStep = h.firstStep;
    by.set(h.bsp, e);
  }
  return [...by.values()].sort((x, y) => (x.firstStep ?? Infinity) - (y.firstStep ?? Infinity) || x.bsp - y.bsp);
}
