import type pg from 'pg';
import { UserInputError } from '../errors.js';
import { param } from '../db/keyset.js';
import { decodeCursor, pageSize, toConnection, type Connection } from './pagination.js';
import { parseId } from './refs.js';

export interface ActivationRecord {
  saeCheckpointId: number;
  featureIndex: number;
  gameIndex: number;
  positionIndex: number;
  value: number;
}

/** Where a feature fires, strongest first (stored sparse activations of the evaluation positions). */
export async function featureActivations(pool: pg.Pool, ckptRef: string, feature: number, first: number | null | undefined, after: string | null | undefined): Promise<Connection<ActivationRecord>> {
  const ckpt = parseId('SAE checkpoint', ckptRef);
  if (!Number.isInteger(feature) || feature < 0) throw new UserInputError(`feature must be a non-negative integer (got ${feature})`);
  const limit = pageSize(first);
  const tag = 'featureActivations';
  const cursor = decodeCursor(tag, after, 2);
  const params: unknown[] = [ckpt, feature];
  const seek = cursor ? `AND (value < ${param(params, cursor[0])} OR (value = $${params.length} AND position_key > ${param(params, cursor[1])}))` : '';
  const { rows } = await pool.query<{ position_key: number; value: number }>(
    `SELECT position_key, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND feature_index = $2 ${seek}
     ORDER BY value DESC, position_key LIMIT ${param(params, limit + 1)}`,
    params,
  );
  return toConnection(
    tag,
    rows,
    limit,
    (r) => [r.value, r.position_key],
    (r, c) => ({ cursor: c, node: { saeCheckpointId: ckpt, featureIndex: feature, gameIndex: r.position_key >> 10, positionIndex: r.position_key & 1023, value: r.value } }),
  );
}

/** Every stored feature activation at one evaluation position, strongest first. */
export async function positionActivations(pool: pg.Pool, ckptRef: string, game: number, position: number): Promise<ActivationRecord[]> {
  const ckpt = parseId('SAE checkpoint', ckptRef);
  if (!Number.isInteger(game) || game < 0 || game >= 1 << 21) throw new UserInputError(`game must be a dataset game index (got ${game})`);
  if (!Number.isInteger(position) || position < 0 || position >= 1024) throw new UserInputError(`position must be a token index 0..1023 (got ${position})`);
  const { rows } = await pool.query<{ feature_index: number; value: number }>(
    `SELECT feature_index, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND position_key = $2 ORDER BY value DESC, feature_index LIMIT 1000`,
    [ckpt, game * 1024 + position],
  );
  return rows.map((r) => ({ saeCheckpointId: ckpt, featureIndex: r.feature_index, gameIndex: game, positionIndex: position, value: r.value }));
}
