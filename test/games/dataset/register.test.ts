import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardPropertyIds, getDatasetByName, listBoardProperties, listBspFamilies, listDatasets, registerDataset } from '../../../src/db/repos/datasets.js';
import { adapterFor, othelloRandomSource, resolveFamilies, writeDataset } from '../../../src/games/dataset/index.js';
import { chessBspFamilies } from '../../../src/games/chess/index.js';
import { othelloBspFamilies } from '../../../src/games/othello/index.js';
import { registerBspCatalogue, registerDatasetDir } from '../../../src/jobs/datasets.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-reg-'));
const dir = path.join(tmp, 'oth');

beforeAll(async () => {
  db = await createTestDatabase();
  await writeDataset({
    out: dir,
    adapter: adapterFor('othello'),
    families: resolveFamilies(adapterFor('othello'), 'default'),
    source: othelloRandomSource({ games: 40, seed: 3, minMoves: 59 }),
    showProgress: false,
  });
});
afterAll(async () => {
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('registering datasets and the BSP catalogue', () => {
  it('registers a dataset with its game catalogue, in one go', async () => {
    const r = await registerDatasetDir(db.pool, dir);
    expect(r.created).toBe(true);
    expect(r.dataset).toMatchObject({ name: 'oth', game: 'othello', source: 'synthetic-random', path: dir, n_games: 40, n_positions: 40 * 59 });
    expect(r.dataset.manifest_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((r.dataset.manifest as { seed: number }).seed).toBe(3);
    const cells = othelloBspFamilies.reduce((a, f) => a + f.cells, 0);
    expect(r.catalogue).toEqual({ families: othelloBspFamilies.length, properties: cells });

    const fams = await listBspFamilies(db.pool, 'othello');
    const bs = fams.find((f) => f.short_name === 'board_state')!;
    expect(bs).toMatchObject({ family: 'games_batch_to_state_stack_mine_yours_blank_mask_BLRRC', cells: 192, coverage_denominator: 192, mask_index: null, reported: true });
    expect(fams.filter((f) => f.reported).map((f) => f.short_name)).toEqual(['board_state']);

    const props = await listBoardProperties(db.pool, 'othello', 'board_state');
    expect(props).toHaveLength(192);
    expect(props.filter((p) => p.masked)).toHaveLength(64);
    const d4mine = props.find((p) => p.name === 'd4 is mine')!;
    expect(d4mine).toMatchObject({ square: 'd4', row_index: 3, col_index: 3, class_index: 2, class_name: 'mine', cell_index: (3 * 8 + 3) * 3 + 2 });
    const ids = await boardPropertyIds(db.pool, 'othello', 'board_state');
    expect(ids[d4mine.cell_index]).toBe(d4mine.id);
  });

  it('is idempotent: the same dataset again changes nothing and keeps property ids', async () => {
    const before = await boardPropertyIds(db.pool, 'othello', 'valid_moves');
    const r = await registerDatasetDir(db.pool, dir);
    expect(r.created).toBe(false);
    expect(Array.from(await boardPropertyIds(db.pool, 'othello', 'valid_moves'))).toEqual(Array.from(before));
    expect(await listDatasets(db.pool, 'othello')).toHaveLength(1);
  });

  it('a different dataset under a taken name is a conflict unless replaced', async () => {
    const other = path.join(tmp, 'other');
    await writeDataset({ out: other, adapter: adapterFor('othello'), families: [], source: othelloRandomSource({ games: 3, seed: 9 }), showProgress: false });
    await expect(registerDatasetDir(db.pool, other, { name: 'oth' })).rejects.toThrow(/a different dataset is already registered as "oth"/);
    const r = await registerDatasetDir(db.pool, other, { name: 'oth', replace: true });
    expect(r.dataset.n_games).toBe(3);
    expect((await getDatasetByName(db.pool, 'oth'))!.path).toBe(other);
  });

  it('a corrupted shard is refused before anything is written', async () => {
    const bad = path.join(tmp, 'bad');
    await fs.cp(dir, bad, { recursive: true });
    const shard = path.join(bad, 'shard-00000.safetensors');
    const bytes = await fs.readFile(shard);
    bytes[100] ^= 1;
    await fs.writeFile(shard, bytes);
    await expect(registerDatasetDir(db.pool, bad, { name: 'bad' })).rejects.toThrow(/sha256 mismatch/);
    expect(await getDatasetByName(db.pool, 'bad')).toBeNull();
  });

  it('writes the chess catalogue too', async () => {
    const r = await registerBspCatalogue(db.pool, ['chess']);
    expect(r.chess.properties).toBe(chessBspFamilies.reduce((a, f) => a + f.cells, 0));
    const board = await listBoardProperties(db.pool, 'chess', 'board_state');
    expect(board).toHaveLength(832);
    expect((await listBspFamilies(db.pool, 'chess')).find((f) => f.short_name === 'board_state')).toMatchObject({ mask_index: 6, coverage_denominator: 768 });
  });
});

describe('concurrent registration', () => {
  it('two commands registering the same dataset at once both succeed, with one row', async () => {
    // registerDataset outside a transaction: the SELECT-then-INSERT window two commands can hit
    const d = { name: `race-${Date.now()}`, game: 'othello', source: 'synthetic-random', path: dir, manifest: {}, manifestSha256: 'f'.repeat(64), nGames: 1, nPositions: 59, codeVersion: 'test' };
    const results = await Promise.all(Array.from({ length: 8 }, () => registerDataset(db.pool, d)));
    expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});
