import { describe, expect, it } from 'vitest';
import {
  CENTRE_SQUARES,
  OTHELLO_VOCAB_SIZE,
  decodeOthello,
  encodeOthello,
  othelloVocab,
  squareToToken,
  tokenToSquare,
} from '../../../src/games/othello/index.js';

describe('Othello tokenizer (vocab 61)', () => {
  it('round-trips all 60 non-centre squares, in increasing order', () => {
    const squares = Array.from({ length: 64 }, (_, p) => p).filter((p) => !CENTRE_SQUARES.includes(p));
    expect(squares).toHaveLength(60);
    squares.forEach((p, i) => {
      expect(squareToToken(p)).toBe(i + 1);
      expect(tokenToSquare(i + 1)).toBe(p);
    });
    for (let t = 1; t < OTHELLO_VOCAB_SIZE; t++) expect(squareToToken(tokenToSquare(t))).toBe(t);
  });

  it('follows the piecewise map of games.md §1.3 at its boundaries', () => {
    expect(tokenToSquare(1)).toBe(0);
    expect(tokenToSquare(27)).toBe(26);
    expect(tokenToSquare(28)).toBe(29);
    expect(tokenToSquare(33)).toBe(34);
    expect(tokenToSquare(34)).toBe(37);
    expect(tokenToSquare(60)).toBe(63);
  });

  it("decodes the paper's test sequence", () => {
    // circuits test_decoding: tokens → board squares.
    const tokens = [20, 21, 34, 19, 13, 40, 47, 28, 12, 41, 35, 5, 10];
    expect(decodeOthello(tokens)).toEqual([19, 20, 37, 18, 12, 43, 50, 29, 11, 44, 38, 4, 9]);
  });

  it('rejects centre squares, padding and out-of-range ids; pads and stops at padding', () => {
    for (const p of CENTRE_SQUARES) expect(() => squareToToken(p)).toThrow(/has no token/);
    expect(() => squareToToken(64)).toThrow();
    expect(() => tokenToSquare(0)).toThrow(/padding/);
    expect(() => tokenToSquare(61)).toThrow(/1\.\.60/);
    expect(Array.from(encodeOthello([19, 18], 4))).toEqual([20, 19, 0, 0]);
    expect(decodeOthello([20, 19, 0, 0])).toEqual([19, 18]);
    expect(() => encodeOthello([1, 2, 3], 2)).toThrow(/more than the 2 slots/);
  });

  it('lists a readable vocabulary', () => {
    const v = othelloVocab();
    expect(v).toHaveLength(61);
    expect(v[0]).toBe('<pad>');
    expect(v[1]).toBe('a1');
    expect(v[28]).toBe('d6');
    expect(v[60]).toBe('h8');
  });
});
