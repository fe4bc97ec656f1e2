import type pg from 'pg';
import { NotFoundError, UserInputError } from '../errors.js';
import { listBoardPropertyPage } from '../db/repos/datasets.js';
import type { Loaders } from './loaders.js';
import { decodeCursor, pageSize, toConnection, type Connection } from './pagination.js';
import { toAlignment, toBoardProperty, type AlignmentRecord, type BoardPropertyRecord } from './records.js';
import { parseId, resolveBoardProperty, resolveFamily } from './refs.js';

/** A board property counts as covered when some final SAE checkpoint has a feature with F1 ≥ this. */
export const COVERED_F1 = 0.5;

export interface BoardPropertyFilter {
  game?: string | null;
  family?: string | null;
  group?: string | null;
  square?: string | null;
  covered?: boolean | null;
  minBestF1?: number | null;
}

export async function boardProperties(
  pool: pg.Pool,
  loaders: Loaders,
  filter: BoardPropertyFilter,
  orderByBestF1: boolean,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<BoardPropertyRecord>> {
  const limit = pageSize(first);
  const family = filter.family ? await resolveFamily(loaders, filter.family, filter.game) : null;
  if (filter.group && !['board_state', 'strategy', 'other'].includes(filter.group)) throw new UserInputError(`group must be board_state, strategy or other (got "${filter.group}")`);
  if (filter.square && !/^[a-h][1-8]$/i.test(filter.square)) throw new UserInputError(`square must be like "f3"; got "${filter.square.slice(0, 10)}"`);
  let minBestF1 = filter.minBestF1 ?? null;
  let maxBestF1: number | null = null;
  if (filter.covered === true) minBestF1 = Math.max(minBestF1 ?? 0, COVERED_F1);
  if (filter.covered === false) maxBestF1 = COVERED_F1;
  const tag = `boardProperties:${orderByBestF1 ? 'f1' : 'id'}`;
  const rows = await listBoardPropertyPage(pool, {
    game: filter.game,
    family: family?.family,
    group: filter.group,
    square: filter.square,
    minBestF1,
    maxBestF1,
    orderByBestF1,
    after: decodeCursor(tag, after, orderByBestF1 ? 2 : 1),
    limit,
  });
  for (const r of rows) loaders.boardProperty.prime(r.row.id, r.row);
  return toConnection(tag, rows, limit, (r) => r.sortKey, (r, cursor) => ({ cursor, node: toBoardProperty(r.row) }));
}

export async function boardProperty(pool: pg.Pool, loaders: Loaders, ref: { id?: string | null; name?: string | null; game?: string | null }): Promise<BoardPropertyRecord> {
  if (ref.id) {
    const row = await loaders.boardProperty.load(parseId('board property', ref.id));
    if (!row) throw new NotFoundError(`no board property with id ${ref.id}`);
    return toBoardProperty(row);
  }
  if (!ref.name) throw new UserInputError('give the board property id or name');
  const rows = await resolveBoardProperty(pool, loaders, ref.name, ref.game);
  if (rows.length > 1) throw new UserInputError(`"${ref.name}" names a board property in several games (${rows.map((r) => r.game).join(', ')}); give the game`);
  return toBoardProperty(rows[0]);
}

export async function bestFeaturesOf(loaders: Loaders, bspId: number, first: number): Promise<AlignmentRecord[]> {
  if (!Number.isInteger(first) || first < 0 || first > 50) throw new UserInputError('bestFeatures(first) must be an integer from 0 to 50');
  return (await loaders.bestFeaturesOfBsp(first).load(bspId)).map(toAlignment);
}
