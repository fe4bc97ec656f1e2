/**
 * The analyses as the API serves them (docs/analyses.md): checkpoint comparisons with their links
 * (Relay connection), feature histories, the order in which an SAE learns board properties,
 * explanations of features and the share of features explained.
 */
import type pg from 'pg';
import { NotFoundError, UserInputError } from '../errors.js';
import {
  bspAbsorptionPage,
  featureHistory as readHistory,
  findComparison,
  learningOrderPage,
  linksPage,
  type BspAbsorptionRow,
  type BspAnalysisOrder,
  type ExplanationRow,
  type HistoryRow,
  type LearningOrderRow,
  type LinkRow,
  type SaeAnalysisRow,
} from '../db/repos/analyses.js';
import type { Loaders } from './loaders.js';
import { decodeCursor, pageSize, toConnection, type Connection, type Edge } from './pagination.js';
import { parseId } from './refs.js';

export const LINK_KINDS = ['MATCH', 'SPLIT', 'MERGE', 'DEATH', 'BIRTH'] as const;
export type LinkKindName = (typeof LINK_KINDS)[number];

export interface LinkRecord {
  kind: LinkKindName;
  checkpointA: number;
  checkpointB: number;
  featureA: number | null;
  featureB: number | null;
  cosine: number | null;
  matched: boolean;
  f1A: number | null;
  f1B: number | null;
  bspA: number | null;
  bspB: number | null;
}

export interface ComparisonSummaryRecord {
  aliveA: number;
  aliveB: number;
  matched: number;
  meanMatchedCosine: number;
  splits: number;
  merges: number;
  deaths: number;
  births: number;
}

export interface ComparisonRecord extends Connection<LinkRecord> {
  checkpointA: number;
  checkpointB: number;
  summary: ComparisonSummaryRecord;
  createdAt: Date;
}

export interface LinkFilterInput {
  kinds?: LinkKindName[] | null;
  minCosine?: number | null;
}

export async function compareCheckpoints(
  pool: pg.Pool,
  a: string,
  b: string,
  filter: LinkFilterInput,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<ComparisonRecord> {
  const limit = pageSize(first);
  const ia = parseId('SAE checkpoint', a);
  const ib = parseId('SAE checkpoint', b);
  if (filter.minCosine != null && !(filter.minCosine >= -1 && filter.minCosine <= 1)) throw new UserInputError(`minCosine must be between -1 and 1 (got ${filter.minCosine})`);
  const cmp = await findComparison(pool, ia, ib);
  if (!cmp) throw new NotFoundError(`checkpoints ${ia} and ${ib} have not been compared: run an ANALYZE job with compare: [{ a: ${ia}, b: ${ib} }] (or saes: [...] for consecutive checkpoints)`);
  const kinds = filter.kinds?.length ? filter.kinds.map((k) => k.toLowerCase()) : null;
  const tag = `links:${cmp.id}:${kinds?.join(',') ?? ''}:${filter.minCosine ?? ''}`;
  const cursor = decodeCursor(tag, after, 1);
  const rows = await linksPage(pool, { comparisonId: cmp.id, kinds, minCosine: filter.minCosine ?? null, after: cursor ? Number(cursor[0]) : null, limit });
  const conn = toConnection<LinkRow, LinkRecord>(
    tag,
    rows,
    limit,
    (r) => [r.linkIndex],
    (r, c) => ({ cursor: c, node: { ...r, kind: r.kind.toUpperCase() as LinkKindName, checkpointA: ia, checkpointB: ib } }),
  );
  const s = cmp.summary;
  return {
    ...conn,
    checkpointA: ia,
    checkpointB: ib,
    summary: { aliveA: s.aliveA, aliveB: s.aliveB, matched: s.matched, meanMatchedCosine: s.meanMatchedCosine, splits: s.splits, merges: s.merges, deaths: s.deaths, births: s.births },
    createdAt: cmp.createdAt,
  };
}

export interface HistoryPointRecord {
  step: number;
  saeCheckpointId: number;
  f1: number;
}

export interface FeatureHistoryRecord {
  saeId: number;
  featureIndex: number;
  /** The feature in the SAE's final evaluated checkpoint. */
  finalCheckpointId: number;
  bspId: number;
  level: number;
  firstStep: number | null;
  stableStep: number | null;
  finalF1: number;
  points: HistoryPointRecord[];
}

const toHistory = (h: HistoryRow): FeatureHistoryRecord => ({
  saeId: h.saeId,
  featureIndex: h.featureIndex,
  finalCheckpointId: h.checkpointIds[h.checkpointIds.length - 1],
  bspId: h.bspId,
  level: h.level,
  firstStep: h.firstStep,
  stableStep: h.stableStep,
  finalF1: h.finalF1,
  points: h.steps.map((step, i) => ({ step, saeCheckpointId: h.checkpointIds[i], f1: h.f1[i] })),
});

/** A feature's history, or null when it has no final BSP (or is dead); NOT_FOUND when the SAE has no histories. */
export async function featureHistory(pool: pg.Pool, sae: string, feature: number): Promise<FeatureHistoryRecord | null> {
  const saeId = parseId('SAE', sae);
  if (!Number.isInteger(feature) || feature < 0) throw new UserInputError(`feature must be a non-negative integer (got ${feature})`);
  const h = await readHistory(pool, saeId, feature);
  if (h) return toHistory(h);
  const { rows } = await pool.query('SELECT 1 FROM feature_histories WHERE sae_id = $1 LIMIT 1', [saeId]);
  if (!rows.length) throw new NotFoundError(`SAE ${saeId} has no feature histories: run an ANALYZE job with saes: [${saeId}]`);
  return null;
}

export interface BspLearningRecord {
  bspId: number;
  firstStep: number | null;
  features: number;
  bestFinalF1: number;
}

/** "Which board properties does this SAE learn first": BSPs by the earliest step a feature tracks them. */
export async function learningOrder(pool: pg.Pool, sae: string, first: number | null | undefined, after: string | null | undefined): Promise<Connection<BspLearningRecord, Edge<BspLearningRecord>>> {
  const saeId = parseId('SAE', sae);
  const limit = pageSize(first);
  const tag = `learning:${saeId}`;
  const cursor = decodeCursor(tag, after, 2);
  // a never-learnt BSP's first step is encoded as the string "never" in its cursor
  const afterKey: [number | null, number] | null = cursor ? [cursor[0] === 'never' ? null : Number(cursor[0]), Number(cursor[1])] : null;
  const rows = await learningOrderPage(pool, { saeId, after: afterKey, limit });
  if (!rows.length && !cursor) {
    const { rows: any } = await pool.query('SELECT 1 FROM feature_histories WHERE sae_id = $1 LIMIT 1', [saeId]);
    if (!any.length) throw new NotFoundError(`SAE ${saeId} has no feature histories: run an ANALYZE job with saes: [${saeId}]`);
  }
  return toConnection<LearningOrderRow, BspLearningRecord>(
    tag,
    rows,
    limit,
    (r) => [r.firstStep ?? 'never', r.bspId],
    (r, c) => ({ cursor: c, node: r }),
  );
}

export interface ExplanationRecord extends ExplanationRow {
  threshold: number;
}

export async function explanationsOf(loaders: Loaders, key: { saeCheckpointId: number; featureIndex: number }, first: number): Promise<ExplanationRecord[]> {
  if (!Number.isInteger(first) || first < 0 || first > 3) throw new UserInputError('explanations(first) must be an integer from 0 to 3');
  const rows = await loaders.explanationsOfFeature.load(key);
  return rows.slice(0, first).map((r) => ({ ...r, threshold: r.thresholdIndex / 10 }));
}

export interface ExplainedShareRecord {
  atF1_50: number;
  atF1_80: number;
  aliveFeatures: number;
  explainedFeatures: number;
  absorption: number | null;
  splitting: number | null;
  evalConfigHash: string;
}

export async function explainedShare(loaders: Loaders, saeCheckpointId: number): Promise<ExplainedShareRecord | null> {
  const a: SaeAnalysisRow | null = await loaders.analysisOfCheckpoint.load(saeCheckpointId);
  if (!a) return null;
  return {
    atF1_50: a.explainedShare50,
    atF1_80: a.explainedShare80,
    aliveFeatures: a.aliveFeatures,
    explainedFeatures: a.explainedFeatures,
    absorption: a.absorption,
    splitting: a.splitting,
    evalConfigHash: a.evalConfigHash,
  };
}

export type BspAnalysisRecord = BspAbsorptionRow;

/** Per-BSP absorption and splitting of one checkpoint, as a connection. */
export async function bspAnalyses(
  pool: pg.Pool,
  saeCheckpointId: number,
  order: BspAnalysisOrder,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<BspAnalysisRecord, Edge<BspAnalysisRecord>>> {
  const limit = pageSize(first);
  const tag = `bsp-analyses:${saeCheckpointId}:${order}`;
  const rows = await bspAbsorptionPage(pool, { saeCheckpointId, order, after: decodeCursor(tag, after, order === 'BSP' ? 1 : 2), limit });
  return toConnection(
    tag,
    rows,
    limit,
    (r) => r.sortKey,
    (r, cursor) => ({ cursor, node: r.row }),
  );
}
