/**
 * Datasets and the BSP catalogue. Plain functions over a pool or a transaction client; the
 * catalogue's cells go through COPY into a temp table and one upsert, so board_properties ids stay
 * stable across re-registrations (feature alignments reference them).
 */
import type pg from 'pg';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { BspFamily } from '../../games/types.js';
import { copyRows } from '../copy.js';
import type { Queryable } from '../pool.js';
import { keysetCondition, orderByClause, param, type SortColumn } from '../keyset.js';

export interface BspFamilyRow {
  game: string;
  family: string;
  short_name: string;
  family_group: 'board_state' | 'strategy' | 'other';
  rows: number;
  cols: number;
  classes: number;
  cells: number;
  mask_index: number | null;
  coverage_denominator: number;
  reported: boolean;
  description: string | null;
}

export interface BoardPropertyRow {
  id: number;
  game: string;
  family: string;
  short_name: string;
  family_group: string;
  cell_index: number;
  row_index: number;
  col_index: number;
  class_index: number;
  square: string | null;
  class_name: string;
  name: string;
  masked: boolean;
  /** Best F1 of any feature of a final SAE checkpoint (migration 0013's triggers keep it); null: none aligned. */
  best_f1: number | null;
}

export interface DatasetRow {
  id: number;
  name: string;
  game: string;
  source: string;
  path: string;
  manifest: Record<string, unknown>;
  manifest_sha256: string;
  n_games: number;
  n_positions: number;
  code_version: string;
  created_at: Date;
}

/**
 * Insert or update the catalogue of `families` of one game: one bsp_families row per family and
 * one board_properties row per cell. Must run on a client inside a transaction (temp table).
 */
export async function upsertBspCatalogue(
  client: pg.ClientBase,
  game: string,
  families: readonly BspFamily<never>[],
): Promise<{ families: number; properties: number }> {
  for (const f of families) {
    await client.query(
      `INSERT INTO bsp_families (game, family, short_name, family_group, rows, cols, classes, cells, mask_index, coverage_denominator, reported, description)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (game, family) DO UPDATE SET
         short_name = EXCLUDED.short_name, family_group = EXCLUDED.family_group, rows = EXCLUDED.rows, cols = EXCLUDED.cols,
         classes = EXCLUDED.classes, cells = EXCLUDED.cells, mask_index = EXCLUDED.mask_index,
         coverage_denominator = EXCLUDED.coverage_denominator, reported = EXCLUDED.reported, description = EXCLUDED.description`,
      [
        game,
        f.name,
        f.shortName,
        f.group,
        f.rows,
        f.cols,
        f.classes,
        f.cells,
        f.maskIndex,
        f.coverageDenominator,
        f.reported ?? f.group !== 'other',
        f.description ?? null,
      ],
    );
  }
  await client.query(
    `CREATE TEMP TABLE bsp_catalogue_in ON COMMIT DROP AS
       SELECT game, family, short_name, family_group, cell_index, row_index, col_index, class_index, square, class_name, name, masked
       FROM board_properties WITH NO DATA`,
  );
  const properties = await copyRows(
    client,
    'bsp_catalogue_in',
    ['game', 'family', 'short_name', 'family_group', 'cell_index', 'row_index', 'col_index', 'class_index', 'square', 'class_name', 'name', 'masked'],
    (function* () {
      for (const f of families) {
        for (const c of f.describe()) {
          yield [game, f.name, f.shortName, f.group, c.cell, c.row, c.col, c.classIndex, c.square, c.className, c.name, c.masked];
        }
      }
    })(),
  );
  await client.query(
    `INSERT INTO board_properties (game, family, short_name, family_group, cell_index, row_index, col_index, class_index, square, class_name, name, masked)
     SELECT game, family, short_name, family_group, cell_index, row_index, col_index, class_index, square, class_name, name, masked
     FROM bsp_catalogue_in
     ON CONFLICT (game, family, cell_index) DO UPDATE SET
       short_name = EXCLUDED.short_name, family_group = EXCLUDED.family_group, row_index = EXCLUDED.row_index,
       col_index = EXCLUDED.col_index, class_index = EXCLUDED.class_index, square = EXCLUDED.square,
       class_name = EXCLUDED.class_name, name = EXCLUDED.name, masked = EXCLUDED.masked`,
  );
  await client.query('DROP TABLE bsp_catalogue_in');
  return { families: families.length, properties };
}

export async function listBspFamilies(db: Queryable, game?: string): Promise<BspFamilyRow[]> {
  const { rows } = await db.query<BspFamilyRow>(
    `SELECT game, family, short_name, family_group, rows, cols, classes, cells, mask_index, coverage_denominator, reported, description
     FROM bsp_families WHERE ($1::text IS NULL OR game = $1) ORDER BY game, reported DESC, family_group, short_name`,
    [game ?? null],
  );
  return rows;
}

/** Board properties of a game, optionally of one family (code or short name), in cell order. */
export async function listBoardProperties(db: Queryable, game: string, family?: string): Promise<BoardPropertyRow[]> {
  const { rows } = await db.query<BoardPropertyRow>(
    `SELECT id, game, family, short_name, family_group, cell_index, row_index, col_index, class_index, square, class_name, name, masked
     FROM board_properties
     WHERE game = $1 AND ($2::text IS NULL OR family = $2 OR short_name = $2)
     ORDER BY family, cell_index`,
    [game, family ?? null],
  );
  return rows;
}

/** Map cell index → board_properties id for one family (to write feature alignments by id). */
export async function boardPropertyIds(db: Queryable, game: string, family: string): Promise<Int32Array> {
  const { rows } = await db.query<{ id: number; cell_index: number }>(
    `SELECT id, cell_index FROM board_properties WHERE game = $1 AND (family = $2 OR short_name = $2) ORDER BY cell_index`,
    [game, family],
  );
  if (rows.length === 0) throw new NotFoundError(`no board properties registered for ${game} family ${JSON.stringify(family)}`);
  const out = new Int32Array(rows.length);
  for (const r of rows) out[r.cell_index] = r.id;
  return out;
}

export interface NewDataset {
  name: string;
  game: string;
  source: string;
  path: string;
  manifest: unknown;
  manifestSha256: string;
  nGames: number;
  nPositions: number;
  codeVersion: string;
}

const DATASET_COLUMNS = 'id, name, game, source, path, manifest, manifest_sha256, n_games, n_positions, code_version, created_at';

/**
 * Register a dataset. Registering the same manifest again (same name, same sha256) returns the
 * existing row; a different dataset under a taken name is a ConflictError unless `replace`.
 */
export async function registerDataset(db: Queryable, d: NewDataset, opts: { replace?: boolean } = {}): Promise<{ row: DatasetRow; created: boolean }> {
  const reuse = async (existing: DatasetRow): Promise<{ row: DatasetRow; created: boolean }> => {
    if (existing.manifest_sha256 === d.manifestSha256 && existing.path === d.path) return { row: existing, created: false };
    if (!opts.replace) {
      throw new ConflictError(
        `a different dataset is already registered as ${JSON.stringify(d.name)} (${existing.path}); choose another --name or pass --replace`,
      );
    }
    const { rows } = await db.query<DatasetRow>(
      `UPDATE datasets SET game = $2, source = $3, path = $4, manifest = $5, manifest_sha256 = $6, n_games = $7, n_positions = $8, code_version = $9
       WHERE id = $1 RETURNING ${DATASET_COLUMNS}`,
      [existing.id, d.game, d.source, d.path, JSON.stringify(d.manifest), d.manifestSha256, d.nGames, d.nPositions, d.codeVersion],
    );
    return { row: rows[0], created: false };
  };
  const existing = await getDatasetByName(db, d.name);
  if (existing) return reuse(existing);
  const { rows } = await db.query<DatasetRow>(
    `INSERT INTO datasets (name, game, source, path, manifest, manifest_sha256, n_games, n_positions, code_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING RETURNING ${DATASET_COLUMNS}`,
    [d.name, d.game, d.source, d.path, JSON.stringify(d.manifest), d.manifestSha256, d.nGames, d.nPositions, d.codeVersion],
  );
  if (rows[0]) return { row: rows[0], created: true };
  // another command registered the same name between our SELECT and INSERT
  return reuse((await getDatasetByName(db, d.name))!);
}

export async function getDatasetByName(db: Queryable, name: string): Promise<DatasetRow | null> {
  const { rows } = await db.query<DatasetRow>(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE name = $1`, [name]);
  return rows[0] ?? null;
}

export async function getDatasetsByIds(db: Queryable, ids: readonly number[]): Promise<DatasetRow[]> {
  const { rows } = await db.query<DatasetRow>(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE id = ANY($1)`, [ids]);
  return rows;
}

export async function listDatasets(db: Queryable, game?: string): Promise<DatasetRow[]> {
  const { rows } = await db.query<DatasetRow>(
    `SELECT ${DATASET_COLUMNS} FROM datasets WHERE ($1::text IS NULL OR game = $1) ORDER BY created_at DESC, id DESC`,
    [game ?? null],
  );
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Reads for the API

const BP_COLUMNS = `bp.id, bp.game, bp.family, bp.short_name, bp.family_group, bp.cell_index, bp.row_index, bp.col_index, bp.class_index, bp.square, bp.class_name, bp.name, bp.masked, bp.best_f1`;

/**
 * Best F1 of any feature of a final SAE checkpoint for the board property `bp`, kept in
 * board_properties.best_f1 by the triggers of migration 0013. Computed per request (one
 * feature_bsp_best probe per property) it cost ~16 ms of Postgres CPU per page ordered by it at
 * 1,000 SAEs (bench/api-scale); read from the column, a page is an index walk.
 */
const BEST_F1 = 'bp.best_f1';

export interface BoardPropertyQuery {
  game?: string | null;
  /** Family code or short name. */
  family?: string | null;
  group?: string | null;
  square?: string | null;
  ids?: readonly number[] | null;
  minBestF1?: number | null;
  maxBestF1?: number | null;
  orderByBestF1: boolean;
  after: readonly unknown[] | null;
  limit: number;
}

export async function listBoardPropertyPage(db: Queryable, q: BoardPropertyQuery): Promise<{ row: BoardPropertyRow; sortKey: unknown[] }[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (q.game) where.push(`bp.game = ${param(params, q.game)}`);
  if (q.family) {
    const f = param(params, q.family);
    where.push(`(bp.family = ${f} OR bp.short_name = ${f})`);
  }
  if (q.group) where.push(`bp.family_group = ${param(params, q.group)}`);
  if (q.square) where.push(`bp.square = ${param(params, q.square.toLowerCase())}`);
  if (q.ids) where.push(`bp.id = ANY(${param(params, q.ids)}::int[])`);
  if (q.minBestF1 != null) where.push(`${BEST_F1} >= ${param(params, q.minBestF1)}`);
  if (q.maxBestF1 != null) where.push(`coalesce(${BEST_F1}, 0) < ${param(params, q.maxBestF1)}`);
  const cols: SortColumn[] = q.orderByBestF1
    ? [
        { expr: `coalesce(${BEST_F1}, 0)`, dir: 'DESC' },
        { expr: 'bp.id', dir: 'ASC' },
      ]
    : [{ expr: 'bp.id', dir: 'ASC' }];
  where.push(keysetCondition(cols, q.after, params));
  const { rows } = await db.query<BoardPropertyRow & { sort: number }>(
    `SELECT ${BP_COLUMNS}, ${cols[0].expr} AS sort FROM board_properties bp
     WHERE ${where.join(' AND ')} ORDER BY ${orderByClause(cols)} LIMIT ${param(params, q.limit + 1)}`,
    params,
  );
  return rows.map(({ sort, ...row }) => ({ row: row as BoardPropertyRow, sortKey: q.orderByBestF1 ? [sort, row.id] : [row.id] }));
}

export async function getBoardPropertiesByIds(db: Queryable, ids: readonly number[]): Promise<(BoardPropertyRow | null)[]> {
  const { rows } = await db.query<BoardPropertyRow>(`SELECT ${BP_COLUMNS} FROM board_properties bp WHERE bp.id = ANY($1::int[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Board properties whose readable name is `name` (case-insensitive), of one game or all. */
export async function findBoardPropertiesByName(db: Queryable, name: string, game?: string | null): Promise<BoardPropertyRow[]> {
  const { rows } = await db.query<BoardPropertyRow>(
    `SELECT ${BP_COLUMNS} FROM board_properties bp WHERE lower(bp.name) = lower($1) AND ($2::text IS NULL OR bp.game = $2) ORDER BY bp.id`,
    [name.trim(), game ?? null],
  );
  return rows;
}

/** Every readable BSP name (for "did you mean" suggestions). */
export async function boardPropertyNames(db: Queryable, game?: string | null): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(`SELECT DISTINCT name FROM board_properties WHERE ($1::text IS NULL OR game = $1)`, [game ?? null]);
  return rows.map((r) => r.name);
}

