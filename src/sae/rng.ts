import { Sfc32, type Sfc32State } from '../util/sfc32.js';

/**
 * Seedable PRNG for SAE initialisation and activation-buffer sampling. The whole state is four
 * uint32 words (sfc32), so it goes into `trainer_state.json` and a resumed run draws exactly the
 * numbers an uninterrupted one would. Independent of tfjs' RNG, whose state cannot be saved.
 *
 * We cannot reproduce PyTorch's Mersenne-Twister draws bit for bit; we match the *distributions*
 * of dictionary_learning's inits (documented per dictionary).
 */
export type RngState = Sfc32State;

export class Rng extends Sfc32 {
  /** Box–Muller yields pairs; the spare is part of the state so resume stays exact. */
  private spare: number | null = null;

  static fromState(state: { words: RngState; spare: number | null }): Rng {
    const r = new Rng(0);
    r.setWords(state.words);
    r.spare = state.spare;
    return r;
  }

  state(): { words: RngState; spare: number | null } {
    return { words: this.words(), spare: this.spare };
  }

  /** Uniform in [0, 1) with 53 random bits. */
  override next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal() * std;
    return out;
  }

  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    const w = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + w * this.next();
    return out;
  }

  /** The first `k` entries of a uniformly random permutation of [0, n) (partial Fisher–Yates). */
  sampleWithoutReplacement(n: number, k: number, scratch?: Int32Array): Int32Array {
    const perm = scratch && scratch.length >= n ? scratch : new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return perm.slice(0, m);
  }
}
