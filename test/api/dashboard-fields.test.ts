/**
 * Fields the web dashboard reads beyond the core API, over HTTP against a database the project's
 * own pipeline filled: a feature's precision/recall/F1 over thresholds for one board property,
 * its best F1 per square (the heatmap), a checkpoint's density histogram, and the legal moves of
 * an analysed position. Checked against SQL written here and against the game engines.
 */
import type pg from 'pg';
import { makeUci } from 'chessops/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { OthelloBoard, parseOthelloLine, squareName } from '../../src/games/othello/index.js';
import { openDataset } from '../../src/games/dataset/index.js';
import { makeEvaluatedDatabase, type EvaluatedDatabase } from '../helpers/evaluated-db.js';

let env: EvaluatedDatabase;
let server: RunningServer;

async function ok(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const r = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(r.errors).toBeUndefined();
  return r.data;
}

async function sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await env.db.pool.query<T>(text, params)).rows;
}

beforeAll(async () => {
  env = await makeEvaluatedDatabase();
  server = await startServer({ pool: env.db.pool, port: 0 });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await env?.cleanup();
});

describe('dashboard fields', () => {
  it('alignmentCurve: every stored threshold of one pair, in order, equal to feature_alignments', async () => {
    const [best] = await sql(
      `SELECT sae_checkpoint_id AS c, feature_index AS i, bsp_id AS b FROM feature_alignments ORDER BY f1 DESC, sae_checkpoint_id, feature_index, bsp_id LIMIT 1`,
    );
    const id = `${best.c}:${best.i}`;
    const data = await ok(`query($id: ID!, $b: ID!) { feature(id: $id) { bestF1 alignmentCurve(boardProperty: $b) { threshold thresholdIndex precision recall f1 tp fp fn boardProperty { id } } } }`, {
      id,
      b: String(best.b),
    });
    const rows = await sql(`SELECT threshold_index, precision, recall, f1, tp, fp, fn FROM feature_alignments WHERE sae_checkpoint_id = $1 AND feature_index = $2 AND bsp_id = $3 ORDER BY threshold_index`, [
      best.c,
      best.i,
      best.b,
    ]);
    const curve = data.feature.alignmentCurve;
    expect(rows.length).toBeGreaterThan(0);
    expect(curve.map((a: any) => a.thresholdIndex)).toEqual(rows.map((r) => r.threshold_index));
    expect(curve.map((a: any) => [a.tp, a.fp, a.fn])).toEqual(rows.map((r) => [r.tp, r.fp, r.fn]));
    for (const [k, a] of curve.entries()) {
      expect(a.f1).toBeCloseTo(rows[k].f1, 6);
      expect(a.boardProperty.id).toBe(String(best.b));
    }
    expect(curve.map((a: any) => a.threshold)).toEqual([...curve.map((a: any) => a.threshold)].sort((x: number, y: number) => x - y));
    expect(Math.max(...curve.map((a: any) => a.f1))).toBeCloseTo(data.feature.bestF1, 6);
  });

  it('squareF1: per square, the best F1 over the family’s unmasked classes', async () => {
    const [f] = await sql(`SELECT sae_checkpoint_id AS c, feature_index AS i FROM features WHERE best_f1 IS NOT NULL ORDER BY best_f1 DESC LIMIT 1`);
    const data = await ok(`query($id: ID!) { feature(id: $id) { squareF1(family: "board_state") { square row column f1 } } }`, { id: `${f.c}:${f.i}` });
    const expected = await sql(
      `SELECT bp.square, max(a.f1) AS f1, min(bp.row_index) AS row, min(bp.col_index) AS col FROM feature_alignments a JOIN board_properties bp ON bp.id = a.bsp_id
       WHERE a.sae_checkpoint_id = $1 AND a.feature_index = $2 AND bp.short_name = 'board_state' AND NOT bp.masked GROUP BY bp.square ORDER BY bp.square`,
      [f.c, f.i],
    );
    const got = [...data.feature.squareF1].sort((a: any, b: any) => a.square.localeCompare(b.square));
    expect(expected.length).toBeGreaterThan(0);
    expect(got.map((s: any) => [s.square, s.row, s.column])).toEqual(expected.map((e) => [e.square, e.row, e.col]));
    for (const [k, s] of got.entries()) expect(s.f1).toBeCloseTo(expected[k].f1, 6);
  });

  it('densityHistogram: every feature counted once, dead ones apart, in the right log10 bin', async () => {
    const [c] = await sql(`SELECT sae_checkpoint_id AS c FROM features GROUP BY 1 ORDER BY 1 LIMIT 1`);
    const data = await ok(`query($id: ID!) { saeCheckpoint(id: $id) { densityHistogram(bins: 12) { dead bins { log10Low log10High count } } } }`, { id: String(c.c) });
    const h = data.saeCheckpoint.densityHistogram;
    const densities = (await sql(`SELECT density FROM features WHERE sae_checkpoint_id = $1`, [c.c])).map((r) => r.density as number);
    expect(h.bins).toHaveLength(12);
    expect(h.dead).toBe(densities.filter((d) => d === 0).length);
    expect(h.dead + h.bins.reduce((s: number, b: any) => s + b.count, 0)).toBe(densities.length);
    expect(h.bins[11].log10High).toBeCloseTo(0, 9);
    for (const d of densities.filter((x) => x > 0)) {
      const l = Math.log10(d);
      const bin = h.bins.find((b: any) => l >= b.log10Low - 1e-9 && l < b.log10High + 1e-9);
      expect(bin, `density ${d}`).toBeDefined();
    }
  });

  it('topExamples.transcript: the example’s game from the evaluation dataset, whose first positionIndex+1 moves make its board', async () => {
    const [e] = await sql(`SELECT sae_checkpoint_id AS c, feature_index AS i FROM feature_examples ORDER BY activation DESC LIMIT 1`);
    const data = await ok(`query($id: ID!) { feature(id: $id) { topExamples(first: 3) { gameIndex positionIndex board transcript } } }`, { id: `${e.c}:${e.i}` });
    const ds = await openDataset(env.datasetDir);
    expect(data.feature.topExamples.length).toBeGreaterThan(0);
    for (const ex of data.feature.topExamples) {
      const { tokens, lengths } = await ds.readTokens({ start: ex.gameIndex, end: ex.gameIndex + 1 });
      expect(ex.transcript).toHaveLength(lengths[0]);
      const board = new OthelloBoard();
      for (const sq of ex.transcript.slice(0, ex.positionIndex + 1)) board.play(parseOthelloLine(sq, 'move', 'token')[0]);
      let text = '';
      for (let p = 0; p < 64; p++) text += board.at(p) === 1 ? 'X' : board.at(p) === -1 ? 'O' : '.';
      expect(text).toBe(ex.board);
      expect(tokens[0]).toBeGreaterThan(0);
    }
  });

  it('analyzePosition.legalMoves: Othello squares of the side to move, chess UCI with castling to g1', async () => {
    const othello = await ok(`{ analyzePosition(game: othello, moves: "d3 c5", saes: []) { toMove legalMoves } }`);
    const board = new OthelloBoard();
    for (const p of parseOthelloLine('d3 c5', 'moves', 'token')) board.play(p);
    expect(othello.analyzePosition.legalMoves.sort()).toEqual(board.validMoves().map(squareName).sort());
    expect(othello.analyzePosition.legalMoves.length).toBeGreaterThan(0);

    const chess = await ok(`{ analyzePosition(game: chess, moves: "e4", saes: []) { legalMoves } }`);
    expect(chess.analyzePosition.legalMoves).toHaveLength(20);
    expect(chess.analyzePosition.legalMoves).toEqual(expect.arrayContaining(['e7e5', 'g8f6', 'b8c6']));
    const castle = await ok(`{ analyzePosition(game: chess, moves: "e4 e5 Nf3 Nc6 Bc4 Bc5", saes: []) { legalMoves } }`);
    expect(castle.analyzePosition.legalMoves).toContain('e1g1');
    expect(castle.analyzePosition.legalMoves).not.toContain('e1h1');
    expect(makeUci({ from: 4, to: 6 })).toBe('e1g1'); // the UCI spelling the dashboard sends back
  });
});
