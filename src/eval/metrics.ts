/**
 * Precision / recall / F1 exactly as the paper's code computes them ([SBGE circuits/analysis.py
 * get_F1_per_feature], [SBGE circuits/eval_board_reconstruction.py calculate_F1_scores]), with the
 * same ε = 1e-8 in every denominator. We compute in float64 where the code uses float32; the
 * difference is below 1e-6 on every value.
 */
export const EPSILON = 1e-8;

export function precisionOf(tp: number, onCount: number): number {
  return tp / (onCount + EPSILON);
}

export function recallOf(tp: number, truthCount: number): number {
  return tp / (truthCount + EPSILON);
}

export function f1Of(precision: number, recall: number): number {
  return (2 * precision * recall) / (precision + recall + EPSILON);
}

/** F1 from counts: TP, predicted positives (TP+FP), actual positives (TP+FN). */
export function f1FromCounts(tp: number, predicted: number, actual: number): number {
  return f1Of(precisionOf(tp, predicted), recallOf(tp, actual));
}

