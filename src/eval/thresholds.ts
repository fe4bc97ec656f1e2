/**
 * Thresholds and binarisation (metrics.md §2).
 *
 * A feature i is "on" at threshold index t when  f_i(x) > thr[t] · max_i  (strict). The paper's code
 * builds `torch.arange(0.0, 1.1, 0.1)` (float32) and multiplies by the float32 maxima, then compares
 * float32 activations, so we reproduce exactly those float32 roundings with Math.fround: an
 * activation sitting exactly on a threshold is classified the same way as in the paper's code.
 *
 * Because the thresholds increase with t, each activation maps to one *level*
 *   level(i, x) = #{ t : f_i(x) > thr[t] · max_i }  ∈ {0..11},
 * and "on at t" ⇔ level > t. Every count over thresholds is then a suffix sum over levels.
 *
 * CODE≠PAPER (minor): the paper lists t ∈ {0, 0.1, …, 0.9}; the code has 11 values. Coverage
 * maximises over all 11 (incl. 1.0), reconstruction's best index over 0..9 only (index 10 is
 * the "last" column) — both as in the code.
 */

export const NUM_THRESHOLDS = 11;

/** fround(k · 0.1) for k = 0..10 — bit-identical to torch.arange(0.0, 1.1, 0.1) in float32. */
export const THRESHOLDS: Float32Array = Float32Array.from({ length: NUM_THRESHOLDS }, (_, k) => k * 0.1);

/** The thresholds as plain numbers (rounded for display/storage: 0, 0.1, … 1). */
export const THRESHOLD_VALUES: readonly number[] = Array.from({ length: NUM_THRESHOLDS }, (_, k) => k / 10);

/**
 * Per-feature absolute thresholds, row-major (F × 11): fround(THRESHOLDS[t] · max_f).
 * `maxima` must be the |max| of metrics.md §2 (non-negative), so every row is non-decreasing.
 */
export function thresholdTable(maxima: Float32Array): Float32Array {
  const F = maxima.length;
  const out = new Float32Array(F * NUM_THRESHOLDS);
  for (let f = 0; f < F; f++) {
    const m = maxima[f];
    for (let t = 0; t < NUM_THRESHOLDS; t++) out[f * NUM_THRESHOLDS + t] = Math.fround(THRESHOLDS[t] * m);
  }
  return out;
}

/** Level of one activation value against one feature's threshold row starting at `row`. */
export function levelOf(value: number, table: Float32Array, row: number): number {
  // thr[0] = 0·max = 0, so non-positive values (and therefore 0) are level 0.
  if (!(value > table[row])) return 0;
  let k = 1;
  while (k < NUM_THRESHOLDS && value > table[row + k]) k++;
  return k;
}
