/**
 * IMPORT through the queue with a real worker process: the paper's chess transcripts (a cut last
 * move kept and reported, a bad game skipped) and Othello token lines, each into a registered
 * dataset; an identical config reused; bad configs rejected with one line per field.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, othelloRandomSource } from '../../src/games/dataset/index.js';
import { decodeChess } from '../../src/games/chess/index.js';
import { listJobs } from '../../src/db/repos/jobs.js';
import { submitPipeline } from '../../src/jobs/queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { Workers } from './workers.js';

let db: TestDatabase;
let tmp: string;
let workers: Workers;

const FULL = ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6';
const CUT = ';1.d4 d5 2.c4 e6 3.Nc3 Nf';
const ILLEGAL = ';1.e4 e5 2.Ke3 Nc6 3.Nf3';

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-import-job-'));
  workers = new Workers(db.url, db.pool, tmp);
}, 60_000);

afterAll(async () => {
  workers?.killAll();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('IMPORT job', () => {
  it('rejects bad configs with a line per field, queueing nothing', async () => {
    const err = (config: unknown) => submitPipeline(null, db.pool, 'bad', [{ kind: 'IMPORT', config }]).catch((e: Error) => e.message);
    expect(await err({ format: 'pgn', game: 'othello', file: 'x.pgn', out: path.join(tmp, 'x') })).toMatch(/^invalid IMPORT config: format: pgn holds chess games/);
    const two = await err({ game: 'chess', file: 'x.txt', out: path.join(tmp, 'x'), numbering: 'square', testFraction: 2 });
    expect(two).toMatch(/numbering: applies to othello only, not chess/);
    expect(two).toMatch(/testFraction: /);
    expect(await err({ game: 'chess', out: path.join(tmp, 'x') })).toMatch(/file: /);
    expect(await listJobs(db.pool, { limit: 10 })).toHaveLength(0);
  });

  it("imports the paper's chess transcripts and Othello token lines in a worker; datasets registered; identical configs reused", async () => {
    const chessFile = path.join(tmp, 'chess.txt');
    writeFileSync(chessFile, [FULL, CUT, '', ILLEGAL].join('\n') + '\n');
    const othelloFile = path.join(tmp, 'othello.txt');
    const games: string[] = [];
    for (const g of othelloRandomSource({ games: 6, seed: 9 }).games as Iterable<Uint8Array>) games.push(Array.from(g).join(' '));
    writeFileSync(othelloFile, games.join('\n') + '\n');

    const stages = [
      { kind: 'IMPORT', config: { game: 'chess', file: chessFile, skipBad: true, maxChars: 64, families: 'none', testFraction: 0.5, out: path.join(tmp, 'chess-ds'), name: 'paper-chess' } },
      { kind: 'IMPORT', config: { game: 'othello', file: othelloFile, numbering: 'token', families: 'board_state', out: path.join(tmp, 'othello-ds'), name: 'imported-othello' } },
    ];
    const rows = await submitPipeline(null, db.pool, 'imports', stages);
    workers.start();
    const chess = await workers.finished(rows[0].id);
    expect(chess.status, chess.error ?? '').toBe('succeeded');
    const othello = await workers.finished(rows[1].id);
    expect(othello.status, othello.error ?? '').toBe('succeeded');

    const cr = chess.result as { datasetId: number; games: number; notes: string[] };
    expect(cr.games).toBe(2);
    expect(cr.notes.join('\n')).toMatch(/1 game\(s\) end in a cut-off move/);
    expect(cr.notes.join('\n')).toMatch(/skipped 1 bad game\(s\); first: .*line 4.*Ke3/);
    expect(chess.log.join('\n')).toMatch(/cut-off move/);
    const ds = await openDataset(path.join(tmp, 'chess-ds'));
    const chunk = await ds.readTokens();
    const texts = Array.from({ length: chunk.nGames }, (_, g) => decodeChess(chunk.tokens.subarray(g * chunk.stride, g * chunk.stride + chunk.lengths[g])));
    expect(texts).toEqual([FULL, CUT]);

    const { rows: datasets } = await db.pool.query(`SELECT id, name, game, n_games, path FROM datasets ORDER BY id`);
    expect(datasets.map((d) => [Number(d.id), d.name, d.game, d.n_games, d.path])).toEqual([
      [cr.datasetId, 'paper-chess', 'chess', 2, path.join(tmp, 'chess-ds')],
      [(othello.result as { datasetId: number }).datasetId, 'imported-othello', 'othello', 6, path.join(tmp, 'othello-ds')],
    ]);

    // Provenance: the producing job and the imported file's sha256.
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    const { rows: prov } = await db.pool.query(`SELECT name, job_id, input_hashes FROM datasets ORDER BY id`);
    expect(prov).toEqual([
      { name: 'paper-chess', job_id: rows[0].id, input_hashes: { sourceFile: sha(chessFile) } },
      { name: 'imported-othello', job_id: rows[1].id, input_hashes: { sourceFile: sha(othelloFile) } },
    ]);

    const again = await submitPipeline(null, db.pool, 'imports-again', stages);
    expect(again.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(again[0].result).toEqual(chess.result);
  }, 180_000);
});
