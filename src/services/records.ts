/**
 * What the services hand to the API: plain camelCase records made from repository rows. The
 * GraphQL types in src/api/<domain>/ declare the same fields (and implement these interfaces).
 */
import type { BoardPropertyRow, DatasetRow } from '../db/repos/datasets.js';
import type { AlignmentReadRow, FeatureExampleRow } from '../db/repos/eval.js';
import type { FeatureRow } from '../db/repos/features.js';
import type { ActivationSetRow, LmCheckpointRow, LmModelRow, ProbeResultRow } from '../db/repos/lm.js';
import type { EvaluationRow, MetricResultRow, SaeCheckpointRow, SaeRow } from '../db/repos/sae.js';
import { THRESHOLD_OF_INDEX } from '../db/repos/eval.js';

export interface SaeRecord {
  id: number;
  name: string;
  lmCheckpointId: number;
  activationSetId: number | null;
  layer: number;
  site: string;
  trainer: string;
  dictionary: string;
  dIn: number;
  dictionarySize: number;
  hyperparameters: Record<string, unknown>;
  configHash: string;
  sweep: string | null;
  path: string | null;
  status: string;
  codeVersion: string;
  createdAt: Date;
}

export const toSae = (r: SaeRow): SaeRecord => ({
  id: r.id,
  name: r.name,
  lmCheckpointId: r.lm_checkpoint_id,
  activationSetId: r.activation_set_id,
  layer: r.layer,
  site: r.site,
  trainer: r.trainer,
  dictionary: r.dictionary,
  dIn: r.d_in,
  dictionarySize: r.d_sae,
  hyperparameters: r.hyperparameters,
  configHash: r.config_hash,
  sweep: r.sweep,
  path: r.path,
  status: r.status,
  codeVersion: r.code_version,
  createdAt: r.created_at,
});

export interface SaeCheckpointRecord {
  id: number;
  saeId: number;
  step: number;
  tokensSeen: number;
  isFinal: boolean;
  path: string;
  createdAt: Date;
}

export const toSaeCheckpoint = (r: SaeCheckpointRow): SaeCheckpointRecord => ({
  id: r.id,
  saeId: r.sae_id,
  step: r.step,
  tokensSeen: r.tokens_seen,
  isFinal: r.is_final,
  path: r.path,
  createdAt: r.created_at,
});

export interface MetricResultRecord {
  id: number;
  saeCheckpointId: number;
  metric: string;
  family: string;
  value: number;
  details: Record<string, unknown>;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
  codeVersion: string;
  createdAt: Date;
}

export const toMetricResult = (r: MetricResultRow): MetricResultRecord => ({
  id: r.id,
  saeCheckpointId: r.sae_checkpoint_id,
  metric: r.metric,
  family: r.family,
  value: r.value,
  details: r.details,
  evalConfig: r.eval_config,
  evalConfigHash: r.eval_config_hash,
  codeVersion: r.code_version,
  createdAt: r.created_at,
});

export interface EvaluationRecord {
  id: number;
  saeCheckpointId: number;
  datasetPath: string;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
  codeVersion: string;
  aliveFeatures: number;
  trainPositions: number;
  testPositions: number;
  summary: Record<string, unknown>;
  createdAt: Date;
}

export const toEvaluation = (r: EvaluationRow): EvaluationRecord => ({
  id: r.id,
  saeCheckpointId: r.sae_checkpoint_id,
  datasetPath: r.dataset_path,
  evalConfig: r.eval_config,
  evalConfigHash: r.eval_config_hash,
  codeVersion: r.code_version,
  aliveFeatures: r.alive_features,
  trainPositions: r.train_positions,
  testPositions: r.test_positions,
  summary: r.summary,
  createdAt: r.created_at,
});

export interface FeatureRecord extends FeatureRow {
  /** "<saeCheckpointId>:<featureIndex>" */
  id: string;
  index: number;
}

export const toFeature = (r: FeatureRow): FeatureRecord => ({ ...r, id: `${r.saeCheckpointId}:${r.featureIndex}`, index: r.featureIndex });

export interface AlignmentRecord extends AlignmentReadRow {
  threshold: number;
}

export const toAlignment = (r: AlignmentReadRow): AlignmentRecord => ({ ...r, threshold: THRESHOLD_OF_INDEX(r.thresholdIndex) });

export type FeatureExampleRecord = FeatureExampleRow;

export interface BoardPropertyRecord {
  id: number;
  game: string;
  family: string;
  familyFunction: string;
  group: string;
  cellIndex: number;
  row: number;
  column: number;
  classIndex: number;
  square: string | null;
  className: string;
  name: string;
  masked: boolean;
  bestF1: number | null;
}

export const toBoardProperty = (r: BoardPropertyRow): BoardPropertyRecord => ({
  id: r.id,
  game: r.game,
  family: r.short_name,
  familyFunction: r.family,
  group: r.family_group,
  cellIndex: r.cell_index,
  row: r.row_index,
  column: r.col_index,
  classIndex: r.class_index,
  square: r.square,
  className: r.class_name,
  name: r.name,
  masked: r.masked,
  bestF1: r.best_f1,
});

export interface LanguageModelRecord {
  id: number;
  name: string;
  game: string;
  origin: string;
  config: Record<string, unknown>;
  configHash: string;
  randomInitOfId: number | null;
  description: string | null;
  createdAt: Date;
}

export const toLanguageModel = (r: LmModelRow): LanguageModelRecord => ({
  id: r.id,
  name: r.name,
  game: r.game,
  origin: r.origin,
  config: r.config,
  configHash: r.config_hash,
  randomInitOfId: r.random_init_of,
  description: r.description,
  createdAt: r.created_at,
});

export interface LmCheckpointRecord {
  id: number;
  lmModelId: number;
  step: number;
  tokensSeen: number;
  metrics: Record<string, unknown>;
  createdAt: Date;
}

export const toLmCheckpoint = (r: LmCheckpointRow): LmCheckpointRecord => ({
  id: r.id,
  lmModelId: r.lm_model_id,
  step: r.step,
  tokensSeen: r.tokens_seen,
  metrics: r.metrics,
  createdAt: r.created_at,
});

export interface ProbeResultRecord {
  id: number;
  lmCheckpointId: number;
  layer: number;
  site: string;
  family: string;
  kind: string;
  accuracy: number;
  f1: number | null;
  trainAccuracy: number;
  baselineAccuracy: number;
  nTrain: number;
  nTest: number;
  configHash: string;
}

export const toProbeResult = (r: ProbeResultRow): ProbeResultRecord => ({
  id: r.id,
  lmCheckpointId: r.lm_checkpoint_id,
  layer: r.layer,
  site: r.site,
  family: r.family,
  kind: r.kind,
  accuracy: r.accuracy,
  f1: r.f1,
  trainAccuracy: r.train_accuracy,
  baselineAccuracy: r.baseline_accuracy,
  nTrain: r.n_train,
  nTest: r.n_test,
  configHash: r.config_hash,
});

export interface DatasetRecord {
  id: number;
  name: string;
  game: string;
  source: string;
  nGames: number;
  nPositions: number;
  codeVersion: string;
  createdAt: Date;
}

export const toDataset = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  game: r.game,
  source: r.source,
  nGames: r.n_games,
  nPositions: r.n_positions,
  codeVersion: r.code_version,
  createdAt: r.created_at,
});

export interface ActivationSetRecord {
  id: number;
  lmCheckpointId: number;
  layer: number;
  site: string;
  positions: string;
  dtype: string;
  nVectors: number;
  dModel: number;
  path: string;
  codeVersion: string;
  createdAt: Date;
}

export const toActivationSet = (r: ActivationSetRow): ActivationSetRecord => ({
  id: r.id,
  lmCheckpointId: r.lm_checkpoint_id,
  layer: r.layer,
  site: r.site,
  positions: r.positions,
  dtype: r.dtype,
  nVectors: r.n_vectors,
  dModel: r.d_model,
  path: r.path,
  codeVersion: r.code_version,
  createdAt: r.created_at,
});
