import { Sfc32, type Sfc32State } from '../util/sfc32.js';

/**
 * A small seedable PRNG (sfc32) whose whole state is four uint32s, so it can be saved in a
 * checkpoint and resumed bit-exactly. Used for weight init and data shuffling; independent of
 * tfjs' internal RNG so that weights are reproducible across tfjs versions and backends.
 */
export type RngState = Sfc32State;

export class Rng extends Sfc32 {
  constructor(seedOrState: number | RngState) {
    super(typeof seedOrState === 'number' ? seedOrState : 0);
    if (typeof seedOrState !== 'number') this.setWords(seedOrState);
  }

  state(): RngState {
    return this.words();
  }

  /** Fill with N(mean, std) samples (Box–Muller, both outputs used). */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const u1 = 1 - this.next(); // (0, 1]: log stays finite
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }
}

/** A permutation of 0..n-1 determined by (seed, epoch) alone: the data order for exact resume. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0).shuffle(perm);
}
