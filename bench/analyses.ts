/**
 * The three analyses of issue 17 on the chess evaluation set's shape: an SAE with F = 4096 (d = 512)
 * and 2,896 BSPs over 20,000 D_train + 20,000 D_test positions (synthetic: board-state one-hot
 * squares, 64-square strategy maps and global properties, with their base rates; features tied to
 * BSPs, noisy, plus free features). Times checkpoint matching (decoder cosines + Jonker–Volgenant +
 * links) against a second checkpoint, absorption + splitting, and explanations; goal: all three
 * together under 60 s on 2 cores.
 *   npm run bench -- analyses [--features 4096] [--positions 20000] [--d 512] [--tied 1000]
 */
import type { Bench } from './harness.js';
import { labelSetFromDense, type EvalFamily } from '../src/eval/labels.js';
import { CsrBuilder, type CsrActivations } from '../src/eval/sparse.js';
import { compareCheckpointFeatures } from '../src/eval/analyses/matching.js';
import { analyzeGroundTruth } from '../src/eval/analyses/groundtruth.js';
import { loadNative } from '../src/tensor/kernels/native.js';

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fam = (name: string, rows: number, cols: number, classes: number, maskIndex: number | null, group: EvalFamily['group']): EvalFamily => ({
  game: 'chess',
  name,
  shortName: name,
  group,
  rows,
  cols,
  classes,
  maskIndex,
  cells: rows * cols * classes,
  coverageDenominator: rows * cols * (maskIndex === null ? classes : classes - 1),
});

// 832 + 32·64 + 16 = 2,896 cells, as the chess evaluation set
const FAMILIES: EvalFamily[] = [fam('board_state', 8, 8, 13, 6, 'board_state'), ...Array.from({ length: 32 }, (_, i) => fam(`square_map_${i}`, 8, 8, 1, null, 'strategy')), ...Array.from({ length: 16 }, (_, i) => fam(`global_${i}`, 1, 1, 1, null, 'strategy'))];

function makeLabels(n: number, r: () => number) {
  const mats = FAMILIES.map((f) => new Uint8Array(n * f.cells));
  const mapRate = Array.from({ length: 32 }, () => 0.02 + 0.2 * r());
  const globalRate = Array.from({ length: 16 }, () => 0.05 + 0.5 * r());
  for (let p = 0; p < n; p++) {
    // board: each square one class; half blank (class 6), the rest one of 12 pieces
    for (let s = 0; s < 64; s++) {
      const cls = r() < 0.5 ? 6 : Math.floor(r() * 12);
      mats[0][p * 832 + s * 13 + (cls >= 6 ? cls + 1 : cls)] = 1;
    }
    for (let m = 0; m < 32; m++) for (let s = 0; s < 64; s++) if (r() < mapRate[m]) mats[1 + m][p * 64 + s] = 1;
    for (let g = 0; g < 16; g++) if (r() < globalRate[g]) mats[33 + g][p] = 1;
  }
  return labelSetFromDense(FAMILIES, mats, n);
}

/** Features 0..tied-1 fire (p = 0.8) where their BSP holds, plus 0.5 % noise; the rest fire at 1 %. */
function makeActivations(labels: ReturnType<typeof makeLabels>, F: number, tiedTo: Int32Array, r: () => number): CsrActivations {
  const byCell = new Map<number, number[]>();
  tiedTo.forEach((c, f) => byCell.set(c, [...(byCell.get(c) ?? []), f]));
  const b = new CsrBuilder(F, labels.positions, labels.positions * 160);
  const row = new Float32Array(F);
  const free = F - tiedTo.length;
  for (let p = 0; p < labels.positions; p++) {
    const idx: number[] = [];
    for (let j = labels.ptr[p]; j < labels.ptr[p + 1]; j++) for (const f of byCell.get(labels.cells[j]) ?? []) if (r() < 0.8) idx.push(f);
    const noisy = Math.round(tiedTo.length * 0.005 + free * 0.01);
    for (let k = 0; k < noisy; k++) idx.push(Math.floor(r() * F));
    for (const f of idx) row[f] = 0.5 + r();
    const sorted = [...new Set(idx)].sort((x, y) => x - y);
    b.appendSparseRow(sorted, sorted.map((f) => row[f]));
    for (const f of sorted) row[f] = 0;
  }
  return b.finish();
}

export default async function (h: Bench): Promise<void> {
  const F = Number(h.option('features', '4096'));
  const N = Number(h.option('positions', '20000'));
  const d = Number(h.option('d', '512'));
  const r = mulberry(17);
  const t0 = performance.now();
  const train = makeLabels(N, r);
  const test = makeLabels(N, r);
  // tie --tied features (default 1,000; sets L0 ≈ 80) to BSPs other than blank squares, rarer ones included
  const candidates: number[] = [];
  for (let c = 0; c < train.totalCells; c++) if (train.truthCount[c] > 20 && !(c < 832 && c % 13 === 6)) candidates.push(c);
  const tiedTo = Int32Array.from({ length: Math.min(Number(h.option('tied', '1000')), F) }, () => candidates[Math.floor(r() * candidates.length)]);
  const fit = makeActivations(train, F, tiedTo, r);
  const score = makeActivations(test, F, tiedTo, r);
  const maxima = new Float32Array(F);
  const alive = new Uint8Array(F);
  for (const c of [fit, score]) for (let j = 0; j < c.indices.length; j++) {
    alive[c.indices[j]] = 1;
    maxima[c.indices[j]] = Math.max(maxima[c.indices[j]], c.values[j]);
  }
  const decA = Float32Array.from({ length: F * d }, () => r() - 0.5);
  const decB = decA.map((x) => x + 0.3 * (r() - 0.5));
  for (let f = 0; f < F; f += 50) for (let t = 0; t < d; t++) decB[f * d + t] = r() - 0.5; // some features replaced
  const setupMs = performance.now() - t0;
  const l0 = fit.indices.length / N;
  const native = loadNative();
  process.stderr.write(`data ready in ${(setupMs / 1000).toFixed(1)} s: F=${F}, d=${d}, ${train.totalCells} BSPs, ${N}+${N} positions, L0 ${l0.toFixed(0)}, ${(train.cells.length / N).toFixed(0)} true BSPs a position; gemm: ${native.addon ? 'OpenBLAS' : 'JS (' + native.reason + ')'}\n`);

  let s = performance.now();
  const cmp = compareCheckpointFeatures({ decoder: decA, features: F, dIn: d, alive }, { decoder: decB, features: F, dIn: d, alive });
  const matchMs = performance.now() - s;
  s = performance.now();
  // absorption + splitting and explanations share one scan of D_train (as the ANALYZE job runs them)
  const { groundTruth: gt, explanations: ex } = analyzeGroundTruth({ maxima, alive, decoder: decA, dIn: d, fit: { activations: fit, labels: train }, score: { activations: score, labels: test } });
  const bothMs = performance.now() - s;
  const exMs = ex.timingsMs.fit + ex.timingsMs.score;
  const gtMs = bothMs - exMs;
  const totalMs = matchMs + gtMs + exMs;
  h.record(`F${F}-N${N}`, {
    features: F,
    d,
    bsps: train.totalCells,
    positions: { train: N, test: N },
    l0: Math.round(l0),
    gemm: native.addon ? (native.addon.info().blas ?? 'openblas') : 'js',
    matchingMs: Math.round(matchMs),
    matchingParts: Object.fromEntries(Object.entries(cmp.timingsMs).map(([k, v]) => [k, Math.round(v)])),
    absorptionSplittingMs: Math.round(gtMs),
    sharedScanIncludedIn: 'absorptionSplittingMs',
    absorptionSplittingParts: Object.fromEntries(Object.entries(gt.timingsMs).map(([k, v]) => [k, Math.round(v)])),
    explanationsMs: Math.round(exMs),
    totalMs: Math.round(totalMs),
    goalMs: 60_000,
    withinGoal: totalMs < 60_000,
    summary: { matched: cmp.summary.matched, splits: cmp.summary.splits, deaths: cmp.summary.deaths, absorption: gt.absorption, splitting: gt.splitting, explained80: ex.explainedShare80 },
  });
}
