/**
 * Seedable PRNG for SAE initialisation and activation-buffer sampling. The whole state is four
 * uint32 words (sfc32), so it goes into `trainer_state.json` and a resumed run draws exactly the
 * numbers an uninterrupted one would. Independent of tfjs' RNG, whose state cannot be saved.
 *
 * We cannot reproduce PyTorch's Mersenne-Twister draws bit for bit; we match the *distributions*
 * of dictionary_learning's inits (documented per dictionary).
 */
export type RngState = [number, number, number, number];

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /** Box–Muller yields pairs; the spare is part of the state so resume stays exact. */
  private spare: number | null = null;

  constructor(seed: number) {
    // splitmix32 spreads the seed over the four words; warm-up draws decorrelate them.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  static fromState(state: { words: RngState; spare: number | null }): Rng {
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = state.words.map((w) => w >>> 0) as RngState;
    r.spare = state.spare;
    return r;
  }

  state(): { words: RngState; spare: number | null } {
    return { words: [this.a, this.b, this.c, this.d], spare: this.spare };
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
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
