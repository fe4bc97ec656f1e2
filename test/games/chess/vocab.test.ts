import { describe, expect, it } from 'vitest';
import { CHESS_VOCAB, CHESS_VOCAB_SIZE, chessMeta, decodeChess, encodeChess } from '../../../src/games/chess/index.js';
import { UserInputError } from '../../../src/errors.js';

describe('chess vocabulary (games.md §2.2)', () => {
  it('is the 32 sorted unique characters of meta.pkl', () => {
    expect(CHESS_VOCAB.length).toBe(CHESS_VOCAB_SIZE);
    expect([...CHESS_VOCAB].sort().join('')).toBe(CHESS_VOCAB.join(''));
    expect(CHESS_VOCAB.join('')).toBe(' #+-.0123456789;=BKNOQRabcdefghx');
  });

  it('encodes the spec worked examples', () => {
    expect(Array.from(encodeChess(';1.e4 e5 2.Nf'))).toEqual([15, 6, 4, 27, 9, 0, 27, 10, 0, 7, 4, 19, 28]);
    expect(Array.from(encodeChess(';1.e4 c5 2.N'))).toEqual([15, 6, 4, 27, 9, 0, 25, 10, 0, 7, 4, 19]);
  });

  it('round-trips every character and a full game', () => {
    const all = CHESS_VOCAB.join('');
    expect(decodeChess(encodeChess(all))).toBe(all);
    const game = ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6 4.Ba4 Nf6 5.O-O Be7 6.Re1 b5 7.Bb3 d6 8.c3 O-O 9.h3 Nb8 10.d4 Nbd7 11.c4 c6 12.cxb5 axb5 13.Nc3 Bb7 14.Bg5 b4 15.Nb1 h6 16.Bh4 c5 17.dxe5 Nxe4 18.Bxe7 Qxe7 19.exd6 Qf6 20.Nbd2 Nxd6 21.Nc4 Nxc4 22.Bxc4 Nb6 23.Ne5 Rae8 24.Bxf7+ Rxf7 25.Nxf7 Rxe1+ 26.Qxe1 Kxf7 27.Qe3 Qg5 28.Qxg5 hxg5 29.b3 Ke6 30.a3 Kd6 31.axb4 cxb4 32.Ra5 Nd5 33.f3 Bc8 34.Kf2 Bf5 35.Ra7 g6 36.Ra6+ Kc5 37.Ke1 Nf4 38.g3 Nxh3 39.Kd2 Kb5 40.Rd6 Kc5 41.Ra6 Nf2 42.g4 Bd3 43.Re6 e8=Q#';
    const ids = encodeChess(game);
    expect(ids.length).toBe(game.length);
    expect(decodeChess(ids)).toBe(game);
    const meta = chessMeta();
    expect(meta.stoi[';']).toBe(15);
    expect(meta.itos[31]).toBe('x');
  });

  it('rejects characters outside the vocabulary, naming what and where', () => {
    expect(() => encodeChess(';1.e4 e5 2.Nf3 {', 'games.txt line 3')).toThrow(UserInputError);
    expect(() => encodeChess(';1.e4 e5 2.Nf3 {', 'games.txt line 3')).toThrow(/games\.txt line 3: character "\{" at index 15/);
    expect(() => encodeChess(';1.é4')).toThrow(/index 3/);
    expect(() => encodeChess('1.e4 P')).toThrow(/"P"/);
    expect(() => decodeChess([0, 32])).toThrow(/token id 32 at index 1/);
  });
});
