import { describe, expect, it } from 'vitest';
import {
  BLACK,
  OthelloBoard,
  WHITE,
  boardFromDiagram,
  parseSquare,
  perft,
  squareName,
} from '../../../src/games/othello/index.js';
import { reference } from './reference.js';

describe('Othello engine', () => {
  it('names squares with the row letter and column digit (games.md §1.1)', () => {
    expect(squareName(28)).toBe('d5');
    expect(squareName(35)).toBe('e4');
    expect(parseSquare('d5')).toBe(28);
    expect(parseSquare('E4')).toBe(35);
    expect(parseSquare('i1')).toBe(-1);
    expect(parseSquare('a9')).toBe(-1);
  });

  it('starts with d4/e5 white, d5/e4 black, black to move', () => {
    const b = new OthelloBoard();
    expect(b.at(27)).toBe(WHITE);
    expect(b.at(36)).toBe(WHITE);
    expect(b.at(28)).toBe(BLACK);
    expect(b.at(35)).toBe(BLACK);
    expect(b.nextColor).toBe(BLACK);
    expect(b.count(BLACK) + b.count(WHITE)).toBe(4);
    expect(b.validMoves()).toEqual([19, 26, 37, 44]); // c4, d3, e6, f5
  });

  it('perft from the start position: 1, 4, 12, 56, 244, 1396, 8200, 55092', () => {
    const b = new OthelloBoard();
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((d) => perft(b, d))).toEqual([1, 4, 12, 56, 244, 1396, 8200, 55092]);
  });

  it('flips in every direction that is capped, and only those', () => {
    // Black plays d4 from the centre of a star of white discs; some lines are capped by black.
    const b = boardFromDiagram(`
      X . . X . . X .
      . O . O . O . .
      . . O O O . . .
      X O O . O O X .
      . . O O O . . .
      . O . O . O . .
      X . . O . . X .
      . . . . . . . .`);
    // d4 = p27. Capped lines: N (c4 b4 → a4 X), NE (c5 b6 → a7 X), E (d5 d6 → d7 X),
    // SE (e5 f6 → g7 X), NW (c3 b2 → a1 X), W (d3 d2 → d1 X), SW (e3 f2 → g1 X).
    // S (e4 f4 g4 → h4 empty) is not capped.
    expect(b.play(27)).toBe(BLACK);
    for (const sq of ['c4', 'b4', 'c5', 'b6', 'd5', 'd6', 'e5', 'f6', 'c3', 'b2', 'd3', 'd2', 'e3', 'f2']) {
      expect(b.at(parseSquare(sq)), sq).toBe(BLACK);
    }
    for (const sq of ['e4', 'f4', 'g4']) expect(b.at(parseSquare(sq)), sq).toBe(WHITE);
    expect(b.nextColor).toBe(WHITE);
  });

  it('rejects occupied squares and moves that flip nothing for either side', () => {
    const b = new OthelloBoard();
    expect(() => b.play(27)).toThrow(/d4 is already occupied/);
    expect(() => b.play(0)).toThrow(/a1 flips nothing for either side/);
    expect(b.ply).toBe(0);
  });

  it('handles a forced pass: valid moves fall back to the opponent, and the move is played for them', () => {
    // White to move has no move (its only disc a2 is flanked by the edge); black can play a3.
    const b = boardFromDiagram(`
      X O . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .`, WHITE);
    expect(b.validMoves()).toEqual([2]);
    expect(b.play(2)).toBe(BLACK);
    expect(b.at(1)).toBe(BLACK);
    expect(b.nextColor).toBe(WHITE);
    expect(b.count(WHITE)).toBe(0);
    expect(b.isGameOver()).toBe(true);
    expect(b.validMoves()).toEqual([]);
  });

  it('umpire accepts pass-then-move even when the mover had moves; playStrict does not', () => {
    // Row a: a1 O, a2 X, a4 O, a5 X. Black to move; its only move is a3 (flipping a4).
    // a6 flips a5 for white but nothing for black: a square only the opponent could use.
    const diagram = `
      O X . O X . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .
      . . . . . . . .`;
    const loose = boardFromDiagram(diagram, BLACK);
    expect(loose.validMoves()).toEqual([2]);
    const strict = boardFromDiagram(diagram, BLACK);
    expect(loose.play(5)).toBe(WHITE);
    expect(loose.at(4)).toBe(WHITE);
    expect(() => strict.playStrict(5)).toThrow(/a6 is not a legal move for black/);
    expect(strict.playStrict(2)).toBe(BLACK);
  });

  it('replays the reference games: colours, disc counts, passes and valid moves after every move', () => {
    expect(reference.games.length).toBeGreaterThanOrEqual(16);
    let sawPass = false;
    let sawShort = false;
    for (const g of reference.games) {
      const b = new OthelloBoard();
      g.squares.forEach((sq, i) => {
        expect(b.playStrict(sq)).toBe(g.colors[i]);
        expect(b.count(BLACK)).toBe(g.blackDiscs[i]);
        expect(b.count(WHITE)).toBe(g.whiteDiscs[i]);
        expect(b.count(BLACK) + b.count(WHITE)).toBe(5 + i);
        expect(b.validMoves()).toEqual(g.validMoves[i]);
      });
      expect(b.passes).toBe(g.passes);
      expect(b.isGameOver()).toBe(true);
      sawPass ||= g.passes > 0;
      sawShort ||= g.squares.length < 60;
    }
    expect(sawPass && sawShort).toBe(true);
  });
});
