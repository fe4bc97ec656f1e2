/**
 * Float64 reference implementations for the backend tests, written independently of the kernels
 * (plain loops, numpy broadcasting rules).
 */

export function seededRandom(seed: number): () => number {
  // mulberry32
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-1, 1). */
export function randomArray(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rnd() * 2 - 1;
  return out;
}

export function product(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export interface RefResult {
  shape: number[];
  values: Float64Array;
  /** Σ_k |a_ik|·|b_kj| per output element: the scale rounding error is relative to. */
  scale: Float64Array;
}

/** numpy-style matmul with optional transposes of the last two axes. */
export function refMatMul(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  transA: boolean,
  transB: boolean,
): RefResult {
  const ra = aShape.length;
  const rb = bShape.length;
  const M = transA ? aShape[ra - 1] : aShape[ra - 2];
  const K = transA ? aShape[ra - 2] : aShape[ra - 1];
  const N = transB ? bShape[rb - 2] : bShape[rb - 1];
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(aBatch);
  const pb = pad(bBatch);
  const outBatch = pa.map((d, i) => Math.max(d, pb[i]));
  const nBatch = product(outBatch);
  const values = new Float64Array(nBatch * M * N);
  const scale = new Float64Array(nBatch * M * N);
  for (let bi = 0; bi < nBatch; bi++) {
    // Decompose the output batch index and map it into each operand.
    let rem = bi;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outBatch[d];
      rem = Math.floor(rem / outBatch[d]);
      ia += (pa[d] === 1 ? 0 : idx) * strideA;
      ib += (pb[d] === 1 ? 0 : idx) * strideB;
      strideA *= pa[d];
      strideB *= pb[d];
    }
    const aBase = ia * M * K;
    const bBase = ib * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let sc = 0;
        for (let k = 0; k < K; k++) {
          const av = a[aBase + (transA ? k * M + i : i * K + k)];
          const bv = b[bBase + (transB ? j * K + k : k * N + j)];
          s += av * bv;
          sc += Math.abs(av * bv);
        }
        values[(bi * M + i) * N + j] = s;
        scale[(bi * M + i) * N + j] = sc;
      }
    }
  }
  return { shape: [...outBatch, M, N], values, scale };
}

/**
 * Largest error relative to the natural scale of each element (Σ|a||b| for a matmul, else |ref|),
 * with a floor so exact zeros compare sensibly.
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, scale?: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const denom = Math.max(scale ? scale[i] : Math.abs(expected[i]), 1e-6);
    const err = Math.abs(actual[i] - expected[i]) / denom;
    if (!(err <= worst)) worst = err; // NaN propagates as failure
  }
  return worst;
}

export const ACTIVATIONS: Record<string, (x: number, alpha: number, preluW: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(x, 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  leakyrelu: (x, alpha) => (x < 0 ? alpha * x : x),
  prelu: (x, _alpha, w) => (x < 0 ? w * x : x),
};

export function refGelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

export function refGeluGrad(x: number): number {
  const c = Math.sqrt(2 / Math.PI);
  const t = Math.tanh(c * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
}

/**
 * erfc(z) in float64: the Maclaurin series of erf below 3 (erfc(3) ≈ 2e-5, so the cancellation in
 * 1 − erf leaves ~1e-11 relative accuracy), the continued fraction of erfc above; erfc(−z) = 2 − erfc(z).
 */
export function refErfc(z: number): number {
  if (z < 0) return 2 - refErfc(-z);
  if (z < 3) {
    let sum = z;
    let term = z;
    for (let k = 1; k < 200; k++) {
      term *= (-z * z) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 80; k >= 1; k--) f = k / 2 / (z + f);
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
}

/** The standard normal CDF Φ(x) in float64. */
export function refNormalCdf(x: number): number {
  return 0.5 * refErfc(-x / Math.SQRT2);
}

/** Exact GELU x·Φ(x) and its derivative Φ(x) + x·φ(x), float64. */
export function refGeluErf(x: number): number {
  return x * refNormalCdf(x);
}

export function refGeluErfGrad(x: number): number {
  return refNormalCdf(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
}

/** LayerNorm rows of `cols` in float64; returns y plus the per-row mean and rstd. */
export function refLayerNorm(
  x: ArrayLike<number>,
  cols: number,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  eps: number,
): { y: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const rows = x.length / cols;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[r * cols + j];
    const m = s / cols;
    let v = 0;
    for (let j = 0; j < cols; j++) v += (x[r * cols + j] - m) ** 2;
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = m;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      y[r * cols + j] = (x[r * cols + j] - m) * rs * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
    }
  }
  return { y, mean, rstd };
}
