export const METRICS: Record<string, string> = {
  coverage: 'Coverage',
  reconstruction: 'Board reconstruction',
  frac_recovered: 'Loss recovered',
  frac_variance_explained: 'Variance explained',
};
export const SUPERVISED = new Set(['coverage', 'reconstruction']);
export const TRAINER_SYMBOLS: Record<string, string> = {
  standard: 'circle',
  p_anneal: 'triangle',
  gated: 'square',
  gated_anneal: 'diamond',
  top_k: 'star',
  batch_top_k: 'cross',
  jump_relu: 'wye',
};
export const metricName = (m: string, family?: string | null) => `${METRICS[m] ?? m}${family ? ` (${familyLabel(family)})` : ''}`;
/** A family's code name made readable: games_batch_to_valid_moves_BLRRC → valid_moves. */
export const familyLabel = (f: string) => f.replace(/^games_batch_to_/, '').replace(/^board_to_/, '').replace(/_B?L?R+C+$/, '');
