import { describe, expect, it } from 'vitest';
import { parseOthelloLine, replayOthello } from '../../../src/games/othello/index.js';

describe('Othello transcripts', () => {
  it('parses square names, compact notation, token ids and square indices', () => {
    expect(parseOthelloLine('c4 c3 d3', 'x')).toEqual([19, 18, 26]);
    expect(parseOthelloLine('C4,c3, d3', 'x')).toEqual([19, 18, 26]);
    expect(parseOthelloLine('c4c3d3', 'x')).toEqual([19, 18, 26]);
    expect(parseOthelloLine('20 19 27 0 0', 'x', 'token')).toEqual([19, 18, 26]);
    expect(parseOthelloLine('19 18 26', 'x', 'square')).toEqual([19, 18, 26]);
    expect(parseOthelloLine('   ', 'x')).toEqual([]);
  });

  it('names the place of unknown characters and bad numbers', () => {
    expect(() => parseOthelloLine('c4 z9 d3', 'games.txt line 3')).toThrow(/games\.txt line 3, move 2 \("z9"\): not a square name/);
    expect(() => parseOthelloLine('20 61', 'f:1', 'token')).toThrow(/f:1, move 2 \("61"\): token ids are 1\.\.60/);
    expect(() => parseOthelloLine('20 0 19', 'f:1', 'token')).toThrow(/move 3: a move follows padding/);
    expect(() => parseOthelloLine('64', 'f:1', 'square')).toThrow(/square indices are 0\.\.63/);
  });

  it('rejects illegal moves with the move number and square', () => {
    expect(() => replayOthello([19, 18, 0], 'g.txt line 2')).toThrow(/g\.txt line 2, move 3 \(a1\): illegal move/);
    expect(() => replayOthello([19, 19], 'g')).toThrow(/move 2 \(c4\): illegal move: c4 is already occupied/);
    // c4 (black), then e6: legal for black only — white to move has moves, so strict replay refuses
    // the "pass-then-move" that the paper's engine would accept.
    expect(() => replayOthello([19, 44], 'g')).toThrow(/move 2 \(f5\): illegal move: f5 is not a legal move for white/);
  });

  it('reports disc counts and whether the game is finished', () => {
    const r = replayOthello([19, 18, 26], 'g');
    expect(r.colors).toEqual([1, -1, 1]);
    expect(r.blackDiscs + r.whiteDiscs).toBe(7);
    expect(r.finished).toBe(false);
  });
});
