import type { EvalFamily } from '../../src/eval/labels.js';
import { coverageDenominator } from '../../src/games/types.js';

export function family(name: string, rows: number, cols: number, classes: number, maskIndex: number | null, group: EvalFamily['group'] = 'other'): EvalFamily {
  return {
    game: 'othello',
    name,
    shortName: name,
    group,
    rows,
    cols,
    classes,
    maskIndex,
    cells: rows * cols * classes,
    coverageDenominator: coverageDenominator(rows, cols, classes, maskIndex),
  };
}

/** Dense positions × cells 0/1 matrix from lists of true cells per position. */
export function denseLabels(positions: number, cells: number, trueCells: number[][]): Uint8Array {
  const m = new Uint8Array(positions * cells);
  trueCells.forEach((list, p) => list.forEach((c) => (m[p * cells + c] = 1)));
  return m;
}

/** Dense positions × F activations from {position: {feature: value}}. */
export function denseActs(positions: number, features: number, entries: Record<number, Record<number, number>>): Float32Array {
  const a = new Float32Array(positions * features);
  for (const [p, row] of Object.entries(entries)) for (const [f, v] of Object.entries(row)) a[Number(p) * features + Number(f)] = v;
  return a;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
