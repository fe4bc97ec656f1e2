import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import { labelPosition } from '../../src/eval/position.js';

describe('labelPosition', () => {
  it('plays chess moves given as SAN or as a transcript, to the same position and labels', () => {
    const a = labelPosition('chess', 'e4 e5 Nf3', 256);
    const b = labelPosition('chess', ';1.e4 e5 2.Nf3', 256);
    expect(a.board).toBe('rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 1 2');
    expect(b.board).toBe(a.board);
    expect(a.moves).toEqual(['e4', 'e5', 'Nf3']);
    expect(a.toMove).toBe('black');
    expect(a.labels.map((l) => Array.from(l.cells))).toEqual(b.labels.map((l) => Array.from(l.cells)));
    // board_state masks empty squares and pieces still on their initial square: only the three
    // moved pieces (pawns on e4 and e5, the knight on f3) are true cells.
    const boardState = a.labels.find((l) => l.family.shortName === 'board_state')!;
    expect(boardState.cells.reduce((s, v) => s + v, 0)).toBe(3);
  });

  it('names the first illegal or malformed move', () => {
    expect(() => labelPosition('chess', 'e4 e5 Ke3', 256)).toThrow(UserInputError);
    expect(() => labelPosition('chess', 'e4 e5 Ke3', 256)).toThrow(/Ke3/);
    expect(() => labelPosition('othello', 'd3 c5 a1', 59)).toThrow(/move 3 \(a1\): illegal move/);
    expect(() => labelPosition('othello', '', 59)).toThrow(/at least one move/);
    expect(() => labelPosition('othello', Array(60).fill('d3').join(' '), 59)).toThrow(/at most 59/);
  });

  it('renders the Othello board after the moves, black to move again after two moves', () => {
    const p = labelPosition('othello', 'd3 c5', 59);
    expect(p.toMove).toBe('black');
    expect(p.board).toHaveLength(64);
    expect([...p.board].filter((c) => c === 'X').length).toBe(3);
    expect([...p.board].filter((c) => c === 'O').length).toBe(3);
    expect(p.tokens.length).toBe(2);
  });
});
