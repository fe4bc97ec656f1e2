import { Sfc32 } from '../../util/sfc32.js';

/** Small seeded PRNG (sfc32 seeded through splitmix32): reproducible games from a seed. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function seededRng(seed: number): Rng {
  // no warm-up draws: the chess generators were seeded this way from the start
  return new Sfc32(seed, 0);
}
