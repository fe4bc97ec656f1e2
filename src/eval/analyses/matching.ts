/**
 * Feature matching between two SAE checkpoints (the same SAE at two steps, two SAEs of a sweep,
 * SAEs on two LM checkpoints) by decoder cosine similarity (docs/analyses.md §1):
 *   - an optimal one-to-one assignment of the alive features (linear assignment maximising the
 *     summed cosine, Jonker–Volgenant), kept as a match where the cosine reaches `matchCosine`;
 *   - one-to-many links: every pair at cosine ≥ `linkCosine`, so one feature of A linked to two of
 *     B is a split, two of A linked to one of B a merge; a feature of A with no link is a death
 *     (it has no counterpart in B), one of B with no link a birth.
 * Per matched pair: the cosine and the change of the best BSP alignment (F1 at A vs at B).
 */
import { UserInputError } from '../../errors.js';
import { solveLap } from './lap.js';
import { matmulABt, normalizeRows, gatherRows } from './linalg.js';

export type LinkKind = 'match' | 'split' | 'merge' | 'death' | 'birth';

export interface CheckpointFeatures {
  /** Decoder rows, features × dIn, row-major (W_dec, one row per dictionary vector). */
  decoder: Float32Array;
  features: number;
  dIn: number;
  /** 1 for alive features (only these are matched); default all. */
  alive?: Uint8Array;
  /** Best BSP alignment F1 per feature (NaN = none) and its BSP id (-1 = none). */
  bestF1?: Float32Array;
  bestBsp?: Int32Array;
}

export interface MatchOptions {
  /** A one-to-one pair counts as a match from this cosine on (default 0.5). */
  matchCosine?: number;
  /** One-to-many links from this cosine on (default 0.5). */
  linkCosine?: number;
}

export const DEFAULT_MATCH_OPTIONS: Required<MatchOptions> = { matchCosine: 0.5, linkCosine: 0.5 };

export interface FeatureLink {
  /** Feature of A (null for a birth) and of B (null for a death). */
  a: number | null;
  b: number | null;
  cosine: number | null;
  /** Part of the optimal one-to-one assignment (and ≥ matchCosine). */
  matched: boolean;
  kind: LinkKind;
  f1A: number | null;
  f1B: number | null;
  bspA: number | null;
  bspB: number | null;
}

export interface MatchSummary {
  aliveA: number;
  aliveB: number;
  matched: number;
  meanMatchedCosine: number;
  splits: number;
  merges: number;
  deaths: number;
  births: number;
}

export interface CheckpointComparison {
  options: Required<MatchOptions>;
  links: FeatureLink[];
  summary: MatchSummary;
  timingsMs: { cosine: number; assignment: number; links: number };
}

function aliveIds(c: CheckpointFeatures): Int32Array {
  if (!c.alive) return Int32Array.from({ length: c.features }, (_, i) => i);
  if (c.alive.length !== c.features) throw new UserInputError(`alive mask has ${c.alive.length} entries for ${c.features} features`);
  const ids: number[] = [];
  for (let i = 0; i < c.features; i++) if (c.alive[i]) ids.push(i);
  return Int32Array.from(ids);
}

function check(c: CheckpointFeatures, what: string): void {
  if (c.decoder.length !== c.features * c.dIn) throw new UserInputError(`${what}: decoder has ${c.decoder.length} values, expected ${c.features}×${c.dIn}`);
  for (let i = 0; i < c.decoder.length; i++) if (!Number.isFinite(c.decoder[i])) throw new UserInputError(`${what}: non-finite decoder weight at feature ${Math.floor(i / c.dIn)}`);
}

function f1Of(c: CheckpointFeatures, i: number): number | null {
  const v = c.bestF1?.[i];
  return v === undefined || Number.isNaN(v) ? null : v;
}
function bspOf(c: CheckpointFeatures, i: number): number | null {
  const v = c.bestBsp?.[i];
  return v === undefined || v < 0 ? null : v;
}

export function compareCheckpointFeatures(A: CheckpointFeatures, B: CheckpointFeatures, options: MatchOptions = {}): CheckpointComparison {
  const opts = { ...DEFAULT_MATCH_OPTIONS, ...options };
  check(A, 'checkpoint A');
  check(B, 'checkpoint B');
  if (A.dIn !== B.dIn) throw new UserInputError(`the two checkpoints read different widths (${A.dIn} vs ${B.dIn}): decoders cannot be compared`);
  const d = A.dIn;
  const idsA = aliveIds(A);
  const idsB = aliveIds(B);
  const nA = idsA.length;
  const nB = idsB.length;

  const t0 = performance.now();
  const unitA = normalizeRows(gatherRows(A.decoder, d, idsA), nA, d).unit;
  const unitB = normalizeRows(gatherRows(B.decoder, d, idsB), nB, d).unit;
  const cos = matmulABt(unitA, nA, d, unitB, nB); // nA × nB
  const t1 = performance.now();

  // square cost matrix, padded with cosine 0 (a dummy partner is as good as an orthogonal one)
  const n = Math.max(nA, nB);
  const cost = new Float32Array(n * n).fill(1);
  for (let i = 0; i < nA; i++) {
    const r = i * nB;
    const c = i * n;
    for (let j = 0; j < nB; j++) cost[c + j] = 1 - cos[r + j];
  }
  const { rowToCol } = solveLap(cost, n);
  const t2 = performance.now();

  // one-to-many links and the degrees that name splits and merges
  const linkI: number[] = [];
  const linkJ: number[] = [];
  const degA = new Int32Array(nA);
  const degB = new Int32Array(nB);
  for (let i = 0; i < nA; i++) {
    const r = i * nB;
    for (let j = 0; j < nB; j++) {
      if (cos[r + j] >= opts.linkCosine) {
        linkI.push(i);
        linkJ.push(j);
        degA[i]++;
        degB[j]++;
      }
    }
  }
  const matchedB = new Int32Array(nB).fill(-1);
  const matchOfA = new Int32Array(nA).fill(-1);
  for (let i = 0; i < nA; i++) {
    const j = rowToCol[i];
    if (j >= 0 && j < nB && cos[i * nB + j] >= opts.matchCosine) {
      matchOfA[i] = j;
      matchedB[j] = i;
    }
  }
  const links: FeatureLink[] = [];
  const kindOf = (i: number, j: number): LinkKind => (degA[i] >= 2 ? 'split' : degB[j] >= 2 ? 'merge' : 'match');
  const row = (i: number | null, j: number | null, c: number | null, matched: boolean, kind: LinkKind): FeatureLink => ({
    a: i === null ? null : idsA[i],
    b: j === null ? null : idsB[j],
    cosine: c,
    matched,
    kind,
    f1A: i === null ? null : f1Of(A, idsA[i]),
    f1B: j === null ? null : f1Of(B, idsB[j]),
    bspA: i === null ? null : bspOf(A, idsA[i]),
    bspB: j === null ? null : bspOf(B, idsB[j]),
  });
  let splits = 0;
  let merges = 0;
  let deaths = 0;
  let births = 0;
  let matched = 0;
  let cosSum = 0;
  const seen = new Set<number>();
  for (let k = 0; k < linkI.length; k++) {
    const i = linkI[k];
    const j = linkJ[k];
    const isMatch = matchOfA[i] === j;
    if (isMatch) {
      matched++;
      cosSum += cos[i * nB + j];
      seen.add(i * nB + j);
    }
    links.push(row(i, j, cos[i * nB + j], isMatch, kindOf(i, j)));
  }
  // matches below linkCosine but above matchCosine (when matchCosine < linkCosine)
  for (let i = 0; i < nA; i++) {
    const j = matchOfA[i];
    if (j < 0 || seen.has(i * nB + j)) continue;
    matched++;
    cosSum += cos[i * nB + j];
    links.push(row(i, j, cos[i * nB + j], true, 'match'));
  }
  for (let i = 0; i < nA; i++) {
    if (degA[i] >= 2) splits++;
    if (degA[i] === 0 && matchOfA[i] < 0) {
      deaths++;
      links.push(row(i, null, null, false, 'death'));
    }
  }
  for (let j = 0; j < nB; j++) {
    if (degB[j] >= 2) merges++;
    if (degB[j] === 0 && matchedB[j] < 0) {
      births++;
      links.push(row(null, j, null, false, 'birth'));
    }
  }
  const t3 = performance.now();
  return {
    options: opts,
    links,
    summary: { aliveA: nA, aliveB: nB, matched, meanMatchedCosine: matched ? cosSum / matched : 0, splits, merges, deaths, births },
    timingsMs: { cosine: t1 - t0, assignment: t2 - t1, links: t3 - t2 },
  };
}
