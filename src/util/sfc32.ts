/**
 * sfc32, seeded through splitmix32: the one small, fast, seedable PRNG every part of saeboard
 * builds on (game generators, weight init, data order, SAE init and sampling). Its whole state is
 * four uint32 words, so a checkpoint can save it and a resumed run draws exactly the numbers an
 * uninterrupted one would; it is independent of tfjs' RNG, whose state cannot be saved.
 * Not cryptographic.
 */
export type Sfc32State = [number, number, number, number];

export class Sfc32 {
  protected a = 0;
  protected b = 0;
  protected c = 0;
  protected d = 0;

  /** `warmup` draws decorrelate the words (12 everywhere, except the chess generators: 0). */
  constructor(seed: number, warmup = 12) {
    let s = seed >>> 0;
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < warmup; i++) this.nextUint32();
  }

  protected setWords(words: Sfc32State): void {
    [this.a, this.b, this.c, this.d] = words.map((w) => w >>> 0) as Sfc32State;
  }

  protected words(): Sfc32State {
    return [this.a, this.b, this.c, this.d];
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

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
