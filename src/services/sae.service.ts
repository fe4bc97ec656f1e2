import type pg from 'pg';
import { NotFoundError, UserInputError } from '../errors.js';
import { TRAINER_NAMES } from '../sae/config.js';
import { listSaes, type MetricBound, type SaeRow } from '../db/repos/sae.js';
import type { Loaders } from './loaders.js';
import { decodeCursor, pageSize, toConnection, type Connection } from './pagination.js';
import { toEvaluation, toMetricResult, toSae, toSaeCheckpoint, type EvaluationRecord, type MetricResultRecord, type SaeCheckpointRecord, type SaeRecord } from './records.js';
import { parseId, resolveFamily, resolveLm } from './refs.js';

export interface MetricBoundInput {
  metric: string;
  /** BSP family (short or function name) for supervised metrics; empty or absent for unsupervised ones. */
  family?: string | null;
  min?: number | null;
  max?: number | null;
}

export interface SaeFilter {
  game?: string | null;
  lm?: string | null;
  trainer?: string | null;
  layer?: number | null;
  dictionarySize?: number | null;
  sweep?: string | null;
  l0Min?: number | null;
  l0Max?: number | null;
  metrics?: MetricBoundInput[] | null;
}

export interface SaeOrder {
  metric: string;
  family?: string | null;
  direction: 'ASC' | 'DESC';
}

/** metric_results.family of a family named by short or function name ('' for none). */
export async function metricFamily(loaders: Loaders, family: string | null | undefined, game?: string | null): Promise<string> {
  if (!family) return '';
  return (await resolveFamily(loaders, family, game)).family;
}

export async function saes(pool: pg.Pool, loaders: Loaders, filter: SaeFilter, order: SaeOrder | null, first: number | null | undefined, after: string | null | undefined): Promise<Connection<SaeRecord>> {
  const limit = pageSize(first);
  if (filter.trainer && !(TRAINER_NAMES as readonly string[]).includes(filter.trainer)) throw new UserInputError(`unknown trainer "${filter.trainer}" (one of ${TRAINER_NAMES.join(', ')})`);
  const bounds: MetricBound[] = [];
  if (filter.l0Min != null || filter.l0Max != null) bounds.push({ metric: 'l0', family: '', min: filter.l0Min, max: filter.l0Max });
  for (const b of filter.metrics ?? []) bounds.push({ metric: b.metric, family: await metricFamily(loaders, b.family, filter.game), min: b.min, max: b.max });
  if (bounds.length > 8) throw new UserInputError('at most 8 metric bounds per query');
  const orderMetric = order ? { metric: order.metric, family: await metricFamily(loaders, order.family, filter.game), direction: order.direction } : null;
  const lmModelId = filter.lm ? (await resolveLm(pool, filter.lm)).id : null;
  const tag = `saes:${orderMetric ? `${orderMetric.metric}/${orderMetric.family}/${orderMetric.direction}` : 'id'}`;
  const rows = await listSaes(pool, {
    game: filter.game,
    lmModelId,
    trainer: filter.trainer,
    layer: filter.layer,
    dictionarySize: filter.dictionarySize,
    sweep: filter.sweep,
    bounds,
    orderMetric,
    after: decodeCursor(tag, after, orderMetric ? 2 : 1),
    limit,
  });
  for (const r of rows) loaders.sae.prime(r.row.id, r.row);
  return toConnection(tag, rows, limit, (r) => r.sortKey, (r: { row: SaeRow }, cursor) => ({ cursor, node: toSae(r.row) }));
}

export async function sae(loaders: Loaders, id: string): Promise<SaeRecord> {
  const row = await loaders.sae.load(parseId('SAE', id));
  if (!row) throw new NotFoundError(`no SAE with id ${id}`);
  return toSae(row);
}

export async function saeCheckpoint(loaders: Loaders, id: string | number): Promise<SaeCheckpointRecord> {
  const row = await loaders.saeCheckpoint.load(parseId('SAE checkpoint', id));
  if (!row) throw new NotFoundError(`no SAE checkpoint with id ${id}`);
  return toSaeCheckpoint(row);
}

export async function checkpointsOf(loaders: Loaders, saeId: number): Promise<SaeCheckpointRecord[]> {
  const rows = await loaders.checkpointsOfSae.load(saeId);
  for (const r of rows) loaders.saeCheckpoint.prime(r.id, r);
  return rows.map(toSaeCheckpoint);
}

export async function finalCheckpointOf(loaders: Loaders, saeId: number): Promise<SaeCheckpointRecord | null> {
  const all = await checkpointsOf(loaders, saeId);
  return all.find((c) => c.isFinal) ?? all[all.length - 1] ?? null;
}

/** Metric rows of a checkpoint, optionally of one metric / family / eval config; newest first per (metric, family). */
export async function metricsOf(
  loaders: Loaders,
  ckptId: number,
  opts: { metric?: string | null; family?: string | null; evalConfigHash?: string | null; latestOnly?: boolean },
): Promise<MetricResultRecord[]> {
  const family = opts.family != null ? await metricFamily(loaders, opts.family) : null;
  const seen = new Set<string>();
  return (await loaders.metricsOfCheckpoint.load(ckptId))
    .filter((m) => (opts.metric == null || m.metric === opts.metric) && (family == null || m.family === family) && (opts.evalConfigHash == null || m.eval_config_hash === opts.evalConfigHash))
    .filter((m) => {
      if (opts.latestOnly === false) return true;
      const key = `${m.metric}|${m.family}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(toMetricResult);
}

export async function evaluationsOf(loaders: Loaders, ckptId: number): Promise<EvaluationRecord[]> {
  return (await loaders.evaluationsOfCheckpoint.load(ckptId)).map(toEvaluation);
}
