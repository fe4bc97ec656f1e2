import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  OthelloBoard,
  RandomOthelloGames,
  absoluteBoardFamily,
  boardFromDiagram,
  boardStateFamily,
  encodeOthello,
  labelOthelloGames,
  lengthLinesFamily,
  linesMineFamily,
  linesYoursFamily,
  mineYoursFamily,
  opponentLengthLinesFamily,
  othelloBspFamilies,
  parseSquare,
  validMovesFamily,
  type OthelloBspFamily,
  type OthelloPosition,
} from '../../../src/games/othello/index.js';
import { reference } from './reference.js';

function labels(f: OthelloBspFamily, pos: OthelloPosition): Uint8Array {
  const out = new Uint8Array(f.cells + 2).fill(7); // guard bytes must stay untouched
  f.label(pos, out, 1);
  expect(out[0]).toBe(7);
  expect(out[f.cells + 1]).toBe(7);
  return out.subarray(1, 1 + f.cells);
}

/** Cells set, as "square:class" strings. */
function setCells(f: OthelloBspFamily, pos: OthelloPosition): string[] {
  const l = labels(f, pos);
  const d = f.describe();
  return d.filter((c) => l[c.cell] === 1).map((c) => `${c.square}:${c.className}`);
}

function cellOf(f: OthelloBspFamily, sq: string, k: number): number {
  return parseSquare(sq) * f.classes + k;
}

/** Board after c4 (black), i.e. position i = 0. */
function afterC4(): OthelloBoard {
  const b = new OthelloBoard();
  b.play(19);
  return b;
}

describe('Othello BSP families: shapes and catalogue', () => {
  it('have the shapes and coverage denominators of the paper\'s configs', () => {
    const shape = (f: OthelloBspFamily) => [f.rows, f.cols, f.classes, f.cells, f.coverageDenominator, f.maskIndex];
    expect(shape(boardStateFamily)).toEqual([8, 8, 3, 192, 192, null]);
    expect(shape(mineYoursFamily)).toEqual([8, 8, 3, 192, 192, null]);
    expect(shape(validMovesFamily)).toEqual([8, 8, 1, 64, 64, null]);
    expect(shape(linesMineFamily)).toEqual([8, 8, 8, 512, 512, null]);
    expect(shape(lengthLinesFamily)).toEqual([8, 8, 48, 3072, 3072, null]);
    expect(shape(opponentLengthLinesFamily)).toEqual([8, 8, 48, 3072, 3072, null]);
    expect(othelloBspFamilies.filter((f) => f.reported).map((f) => f.shortName)).toEqual(['board_state']);
    expect(othelloBspFamilies.filter((f) => f.inPipeline).map((f) => f.shortName)).toEqual(['board_state', 'mine_yours', 'valid_moves']);
    expect(new Set(othelloBspFamilies.map((f) => f.name)).size).toBe(othelloBspFamilies.length);
  });

  it('describe every cell with readable names; board_state marks its forced-zero empty channel', () => {
    const d = boardStateFamily.describe();
    expect(d).toHaveLength(192);
    expect(d[cellOf(boardStateFamily, 'd4', 2)]).toMatchObject({ square: 'd4', row: 3, col: 3, className: 'mine', name: 'd4 is mine', masked: false });
    expect(d[cellOf(boardStateFamily, 'd4', 0)].name).toBe('d4 is yours');
    expect(d[cellOf(boardStateFamily, 'd4', 1)]).toMatchObject({ name: 'd4 is empty (masked)', masked: true });
    expect(d.filter((c) => c.masked)).toHaveLength(64);
    expect(mineYoursFamily.describe().some((c) => c.masked)).toBe(false);
    expect(lengthLinesFamily.describe()[cellOf(lengthLinesFamily, 'c3', 2 * 8 + 3)].name).toBe('c3 SE: line of 3 mine capped by yours');
    expect(opponentLengthLinesFamily.describe()[cellOf(opponentLengthLinesFamily, 'c3', 40)].className).toBe('N len 0 or 6+');
    for (const f of othelloBspFamilies) {
      const cells = f.describe();
      expect(cells.map((c) => c.cell)).toEqual(cells.map((_, i) => i));
      expect(new Set(cells.map((c) => c.name)).size).toBe(f.cells);
    }
  });
});

describe('board_state (G_boardstate, mine/yours by parity, empty masked)', () => {
  it('after c4 (i = 0): black discs are mine, white yours, empty channel all 0', () => {
    const cells = setCells(boardStateFamily, afterC4());
    expect(cells.sort()).toEqual(['c4:mine', 'd4:mine', 'd5:mine', 'e4:mine', 'e5:yours'].sort());
  });

  it('one move later (i = 1) the perspective flips: c4 "becomes your piece"', () => {
    const b = afterC4();
    b.play(18); // white c3 flips d4
    const l = labels(boardStateFamily, b);
    expect(l[cellOf(boardStateFamily, 'c4', 0)]).toBe(1); // yours
    expect(l[cellOf(boardStateFamily, 'c4', 2)]).toBe(0); // not mine
    expect(l[cellOf(boardStateFamily, 'c3', 2)]).toBe(1); // white just moved: mine
    expect(l[cellOf(boardStateFamily, 'a1', 1)]).toBe(0); // empty channel forced to 0
  });

  it('is not pass-aware: after a pass, the mover\'s own disc lands in "yours" (faithful to the code)', () => {
    const g = reference.games.find((x) => x.passes > 0)!;
    const b = new OthelloBoard();
    let checkedPass = false;
    g.squares.forEach((sq, i) => {
      b.play(sq);
      const expectedMover = i % 2 === 0 ? 1 : -1; // who "should" have moved without passes
      const l = labels(boardStateFamily, b);
      const mine = l[sq * 3 + 2];
      const yours = l[sq * 3];
      if (g.colors[i] === expectedMover) expect([mine, yours]).toEqual([1, 0]);
      else {
        expect([mine, yours]).toEqual([0, 1]);
        checkedPass = true;
      }
    });
    expect(checkedPass).toBe(true);
  });

  it('holds 5 + i true cells at position i (the D_test disc-count check)', () => {
    const gen = new RandomOthelloGames({ seed: 5 });
    const buf = new Uint8Array(60);
    const b = new OthelloBoard();
    for (let k = 0; k < 20; k++) {
      const n = gen.next(buf);
      b.reset();
      for (let i = 0; i < n; i++) {
        b.play(buf[i]);
        expect(labels(boardStateFamily, b).reduce((a, x) => a + x, 0)).toBe(5 + i);
      }
    }
  });
});

describe('mine_yours and absolute_board', () => {
  it('mine_yours keeps the empty channel; absolute_board ignores parity', () => {
    const b = afterC4();
    b.play(18);
    const my = labels(mineYoursFamily, b);
    expect(my[cellOf(mineYoursFamily, 'a1', 1)]).toBe(1);
    expect(my[cellOf(mineYoursFamily, 'c4', 1)]).toBe(0);
    expect(my.reduce((a, x) => a + x, 0)).toBe(64);
    const ab = labels(absoluteBoardFamily, b);
    expect(ab[cellOf(absoluteBoardFamily, 'c4', 2)]).toBe(1); // black
    expect(ab[cellOf(absoluteBoardFamily, 'c3', 0)]).toBe(1); // white
    expect(ab[cellOf(absoluteBoardFamily, 'c3', 2)]).toBe(0);
    expect(ab[cellOf(absoluteBoardFamily, 'h8', 1)]).toBe(1);
  });
});

describe('valid_moves', () => {
  it("after c4 they are white's replies c3, c5, e3 (the paper's test) and nothing else", () => {
    expect(setCells(validMovesFamily, afterC4()).sort()).toEqual(['c3:valid', 'c5:valid', 'e3:valid']);
  });

  it('falls back to the opponent when the next player must pass', () => {
    const b = boardFromDiagram(`
      X O . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .`, -1, 1);
    expect(setCells(validMovesFamily, b)).toEqual(['a3:valid']);
    b.play(2);
    expect(setCells(validMovesFamily, b)).toEqual([]); // game over: empty
  });
});

describe('lines families', () => {
  it("lines_mine after c4: exactly c3 SE, c5 S, e3 E (the paper's test)", () => {
    expect(setCells(linesMineFamily, afterC4()).sort()).toEqual(['c3:SE', 'c5:S', 'e3:E']);
  });

  it("lines_yours after c4: exactly e6 W, f5 N, f6 NW (the paper's test)", () => {
    expect(setCells(linesYoursFamily, afterC4()).sort()).toEqual(['e6:W', 'f5:N', 'f6:NW']);
  });

  it('length_lines encodes the run length; a run not capped by "yours" is not a line', () => {
    // Position i = 0 (ply 1): mine = black (X), yours = white (O).
    // From a1 going E: b... a2 X, a3 X, a4 O → capped run of 2. From a8 going W: a7 X, a6 X, a5 . → not capped.
    // From h1 going N: g1 X, f1 X, e1 X, d1 O → run of 3.
    const b = boardFromDiagram(`
      . X X O . X X .
      . . . . . . . .
      . . . . . . . .
      O . . . . . . .
      X . . . . . . .
      X . . . . . . .
      X . . . . . . .
      . . . . . . . .`, -1, 1);
    expect(setCells(lengthLinesFamily, b).sort()).toEqual(['a1:E len 2', 'h1:N len 3']);
    expect(setCells(linesMineFamily, b).sort()).toEqual(['a1:E', 'h1:N']);
    // At the next ply the parity flips: mine = white, yours = black. a5 W: a4 O then a3 X → capped
    // run of 1; c1 S: d1 O then e1 X → capped run of 1.
    const odd = boardFromDiagram(b.toString(), 1, 2);
    expect(setCells(linesMineFamily, odd).sort()).toEqual(['a5:W', 'c1:S']);
    expect(setCells(lengthLinesFamily, odd).sort()).toEqual(['a5:W len 1', 'c1:S len 1']);
  });

  it('opponent_length_lines: one channel per empty square and direction, len 0 wrapping to the len-6 group', () => {
    const b = afterC4();
    const l = labels(opponentLengthLinesFamily, b);
    expect(l.reduce((a, x) => a + x, 0)).toBe(59 * 8); // 59 empty squares × 8 directions
    expect(l[cellOf(opponentLengthLinesFamily, 'c3', 0 * 8 + 3)]).toBe(1); // SE: d4 mine (then e5) → len 1
    expect(l[cellOf(opponentLengthLinesFamily, 'c3', 5 * 8 + 0)]).toBe(1); // N: b3 empty → len 0 → channel 40
    expect(l[cellOf(opponentLengthLinesFamily, 'a1', 5 * 8 + 0)]).toBe(1); // N: off the board → len 0
    expect(l[cellOf(opponentLengthLinesFamily, 'c4', 5 * 8 + 0)]).toBe(0); // occupied: nothing
    expect(l[cellOf(opponentLengthLinesFamily, 'f4', 2 * 8 + 0)]).toBe(1); // N: e4, d4, c4 mine, b4 empty → len 3
    expect(l[cellOf(opponentLengthLinesFamily, 'f4', 5 * 8 + 0)]).toBe(0);
  });
});

describe('agreement with the Python reference (scripts/othello_reference.py)', () => {
  it('every family matches the reference label matrices on full, passing and short games', () => {
    const byShort = new Map(othelloBspFamilies.map((f) => [f.shortName, f]));
    for (const g of reference.games) {
      const tokens = encodeOthello(g.squares, 60);
      const names = Object.keys(g.families);
      const fams = names.map((n) => byShort.get(n)!);
      expect(fams.every(Boolean)).toBe(true);
      const res = labelOthelloGames({ tokens, nGames: 1, stride: 60 }, fams, { positionsPerGame: 60 });
      expect(res.nPositions).toBe(g.squares.length);
      names.forEach((n, k) => {
        const f = fams[k];
        const rowSums = Array.from({ length: res.nPositions }, (_, r) =>
          res.labels[k].subarray(r * f.cells, (r + 1) * f.cells).reduce((a, x) => a + x, 0),
        );
        expect(rowSums, n).toEqual(g.families[n].rowSums);
        expect(createHash('sha256').update(res.labels[k]).digest('hex'), n).toBe(g.families[n].sha256);
      });
    }
  });
});

describe('labelOthelloGames (batch fast path)', () => {
  it('labels 59 positions per full game, fewer for short or padded rows, same as per-position labelling', () => {
    const rows = new Uint8Array(3 * 60);
    const gen = new RandomOthelloGames({ seed: 9, minMoves: 60 });
    const buf = new Uint8Array(60);
    gen.next(buf);
    rows.set(encodeOthello(buf, 60), 0);
    rows.set(encodeOthello(buf.subarray(0, 10), 60), 60); // truncated to 10 moves
    gen.next(buf);
    rows.set(encodeOthello(buf, 60), 120);
    const res = labelOthelloGames({ tokens: rows, nGames: 3, stride: 60 }, [boardStateFamily, validMovesFamily], { gameOffset: 100 });
    expect(res.nPositions).toBe(59 + 10 + 59);
    expect(res.positionGame[0]).toBe(100);
    expect(res.positionGame[59]).toBe(101);
    expect(res.positionGame[69]).toBe(102);
    expect(Array.from(res.positionIndex.subarray(59, 69))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Row 70 = game 102 after move 1: compare with a fresh replay.
    const b = new OthelloBoard();
    b.play(buf[0]);
    b.play(buf[1]);
    expect(Array.from(res.labels[0].subarray(70 * 192, 71 * 192))).toEqual(Array.from(labels(boardStateFamily, b)));
    expect(Array.from(res.labels[1].subarray(70 * 64, 71 * 64))).toEqual(Array.from(labels(validMovesFamily, b)));
  });

  it('names the game and move of an illegal token', () => {
    const rows = encodeOthello([19, 0 + 1], 60); // a2 after c4 is illegal for both sides
    expect(() => labelOthelloGames({ tokens: rows, nGames: 1, stride: 60 }, [boardStateFamily], { gameOffset: 4 })).toThrow(
      /game 4, move 2: illegal move/,
    );
  });
});
