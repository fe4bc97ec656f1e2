/**
 * Turning what a client names (ids, readable BSP names, family short names, LM names) into rows,
 * with a BAD_USER_INPUT that says what would have worked.
 */
import type pg from 'pg';
import { UserInputError } from '../errors.js';
import { closest } from '../util/suggest.js';
import { boardPropertyNames, getBoardPropertiesByIds, type BoardPropertyRow, type BspFamilyRow } from '../db/repos/datasets.js';
import { findLmModels, type LmModelRow } from '../db/repos/lm.js';
import type { Loaders } from './loaders.js';

/** A numeric database id given as a GraphQL ID. */
export function parseId(kind: string, id: string | number): number {
  const s = String(id).trim();
  if (!/^\d{1,15}$/.test(s)) throw new UserInputError(`invalid ${kind} id "${String(id).slice(0, 40)}": expected a number`);
  return Number(s);
}

/** A feature id "<saeCheckpointId>:<featureIndex>". */
export function parseFeatureId(id: string): { saeCheckpointId: number; featureIndex: number } {
  const m = /^(\d{1,15}):(\d{1,9})$/.exec(id.trim());
  if (!m) throw new UserInputError(`invalid feature id "${id.slice(0, 40)}": expected "<saeCheckpointId>:<featureIndex>"`);
  return { saeCheckpointId: Number(m[1]), featureIndex: Number(m[2]) };
}

/** A BSP family by short name ("board_state") or the paper's function name, of one game or any. */
export async function resolveFamily(loaders: Loaders, family: string, game?: string | null): Promise<BspFamilyRow> {
  const all = (await loaders.bspFamilies()).filter((f) => !game || f.game === game);
  const hit = all.find((f) => f.short_name === family || f.family === family);
  if (hit) return hit;
  const names = [...new Set(all.map((f) => f.short_name))];
  throw new UserInputError(`unknown board-property family "${family.slice(0, 80)}"${game ? ` for ${game}` : ''}; did you mean ${closest(family, names).map((n) => `"${n}"`).join(', ')}?`);
}

/** Board properties named by id or readable name ("white knight on f3", case-insensitive). */
export async function resolveBoardProperty(pool: pg.Pool, loaders: Loaders, ref: string, game?: string | null): Promise<BoardPropertyRow[]> {
  if (/^\d+$/.test(ref.trim())) {
    const [row] = await getBoardPropertiesByIds(pool, [parseId('board property', ref)]);
    if (!row || (game && row.game !== game)) throw new UserInputError(`no board property with id ${ref}${game ? ` in ${game}` : ''}`);
    return [row];
  }
  const rows = await loaders.boardPropertiesNamed(ref, game);
  if (rows.length) return rows;
  const suggestions = closest(ref, await boardPropertyNames(pool, game));
  throw new UserInputError(`unknown board property "${ref.slice(0, 80)}"${game ? ` for ${game}` : ''}; closest known: ${suggestions.map((n) => `"${n}"`).join(', ')}`);
}

/** An LM by id or name. */
export async function resolveLm(pool: pg.Pool, ref: string): Promise<LmModelRow> {
  const [row] = await findLmModels(pool, [ref.trim()]);
  if (!row) throw new UserInputError(`unknown language model "${ref.slice(0, 80)}" (give its id or name; query languageModels to list them)`);
  return row;
}

/** A threshold of the evaluation grid 0, 0.1, …, 1 → its index. */
export function thresholdIndex(t: number): number {
  const i = Math.round(t * 10);
  if (!(t >= 0 && t <= 1) || Math.abs(i / 10 - t) > 1e-6) throw new UserInputError(`threshold must be one of 0, 0.1, …, 1 (fractions of the feature's maximum activation); got ${t}`);
  return i;
}
