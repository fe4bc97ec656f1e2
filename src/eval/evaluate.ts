/**
 * The supervised evaluation of one SAE (metrics.md §1 steps 2–6), over plain typed arrays:
 *   feature maxima + alive mask  →  D_train counts  →  coverage, high-precision labels, alignments
 *   →  board reconstruction on D_test  →  strategy averages.
 * Independent of where the activations come from (an SAE encoder, MLP neurons, a file).
 */
import { UserInputError } from '../errors.js';
import { NUM_THRESHOLDS, THRESHOLD_VALUES } from './thresholds.js';
import { toFeatureLevels, type CsrActivations } from './sparse.js';
import type { LabelSet, EvalFamily } from './labels.js';
import type { FeatureMaxima } from './maxima.js';
import { trainStatistics, DEFAULT_TRAIN_OPTIONS, type FamilyCoverage, type TrainStatistics, type TrainStatsOptions } from './supervised.js';
import { reconstructBoards, type FamilyReconstruction } from './reconstruction.js';
import { strategyAverage, type StrategyAverage } from './strategy.js';

export interface SplitData {
  activations: CsrActivations;
  labels: LabelSet;
}

export interface SupervisedEvalInput {
  maxima: FeatureMaxima;
  /** D_train: statistics, coverage, labels. */
  train: SplitData;
  /** D_test: board reconstruction (skipped when absent). */
  test?: SplitData | null;
  options?: TrainStatsOptions;
}

export interface FamilyResult {
  name: string;
  shortName: string;
  group: EvalFamily['group'];
  cells: number;
  coverageDenominator: number;
  coverage: FamilyCoverage;
  reconstruction: FamilyReconstruction | null;
}

export interface SupervisedEvalResult {
  thresholds: readonly number[];
  features: number;
  aliveFeatures: number;
  maximaSamples: number;
  trainPositions: number;
  testPositions: number;
  options: Required<TrainStatsOptions>;
  families: FamilyResult[];
  strategy: StrategyAverage | null;
  train: TrainStatistics;
  timingsMs: { levels: number; counts: number; reconstruction: number };
}

/** Check every input before any work (and before anything could be written). */
export function validateCsr(csr: CsrActivations, what: string): void {
  const { indptr, indices, values, positions, features } = csr;
  if (positions === 0) throw new UserInputError(`${what}: no positions (empty dataset?)`);
  if (indptr.length !== positions + 1 || indptr[0] !== 0) throw new UserInputError(`${what}: malformed CSR (indptr)`);
  const n = indptr[positions];
  if (indices.length < n || values.length < n) throw new UserInputError(`${what}: malformed CSR (${n} entries announced)`);
  for (let p = 0; p < positions; p++) if (indptr[p + 1] < indptr[p]) throw new UserInputError(`${what}: malformed CSR (row ${p})`);
  for (let j = 0; j < n; j++) {
    const v = values[j];
    if (!Number.isFinite(v)) throw new UserInputError(`${what}: ${v} activation (feature ${indices[j]}); check the SAE weights and LM inputs`);
    const f = indices[j];
    if (f < 0 || f >= features) throw new UserInputError(`${what}: feature index ${f} out of range [0, ${features})`);
  }
}

function sameFamilies(a: LabelSet, b: LabelSet): boolean {
  return a.families.length === b.families.length && a.families.every((f, i) => f.name === b.families[i].name && f.cells === b.families[i].cells);
}

export function validateSupervisedInput(input: SupervisedEvalInput): void {
  const { maxima, train, test } = input;
  const F = maxima.features;
  for (const [name, split] of [['D_train', train], ['D_test', test]] as const) {
    if (!split) continue;
    validateCsr(split.activations, `${name} activations`);
    if (split.activations.features !== F) {
      throw new UserInputError(`${name} activations have ${split.activations.features} features but the feature maxima ${F}`);
    }
    if (split.labels.positions !== split.activations.positions) {
      throw new UserInputError(`${name}: ${split.activations.positions} activation rows but ${split.labels.positions} labelled positions`);
    }
  }
  if (test && !sameFamilies(train.labels, test.labels)) throw new UserInputError('D_train and D_test are labelled with different BSP families');
  if (maxima.aliveCount === 0) throw new UserInputError('every feature is dead in the feature-maximum sample (no feature ever fired)');
}

export function evaluateSupervised(input: SupervisedEvalInput): SupervisedEvalResult {
  validateSupervisedInput(input);
  const { maxima, train, test } = input;
  const options = { ...DEFAULT_TRAIN_OPTIONS, ...input.options } as Required<TrainStatsOptions>;
  const t0 = performance.now();
  const levels = toFeatureLevels(train.activations, maxima.maxima, maxima.alive);
  const t1 = performance.now();
  const stats = trainStatistics(levels, train.labels, options);
  const t2 = performance.now();
  const recon = test ? reconstructBoards(test.activations, maxima.maxima, maxima.alive, stats.labels, test.labels) : null;
  const t3 = performance.now();

  const families: FamilyResult[] = train.labels.families.map((fam, k) => ({
    name: fam.name,
    shortName: fam.shortName,
    group: fam.group,
    cells: fam.cells,
    coverageDenominator: fam.coverageDenominator,
    coverage: stats.coverage[k],
    reconstruction: recon ? recon[k] : null,
  }));
  const strategy = strategyAverage(
    families.map((f) => ({ name: f.name, group: f.group, coverage: f.coverage.coverage, reconstruction: f.reconstruction?.reconstruction ?? null })),
  );
  return {
    thresholds: THRESHOLD_VALUES.slice(0, NUM_THRESHOLDS),
    features: maxima.features,
    aliveFeatures: maxima.aliveCount,
    maximaSamples: maxima.samples,
    trainPositions: train.activations.positions,
    testPositions: test ? test.activations.positions : 0,
    options,
    families,
    strategy,
    train: stats,
    timingsMs: { levels: t1 - t0, counts: t2 - t1, reconstruction: t3 - t2 },
  };
}
