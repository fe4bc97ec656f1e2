import { describe, expect, it } from 'vitest';
import {
  ChessPosition,
  chessBoardStateFamily,
  chessBspFamilies,
  chessFamily,
  chessOtherFamilies,
  chessStrategyFamilies,
  labelChessPositions,
  replayTranscript,
} from '../../../src/games/chess/index.js';
import type { BspFamily } from '../../../src/games/types.js';

const fen = (f: string) => ChessPosition.fromFen(f);
const INITIAL = () => ChessPosition.initial();
/** The position after all of a transcript's moves. */
const after = (t: string) => {
  const r = replayTranscript(t);
  return r.states[r.states.length - 1];
};
const sq = (name: string) => name.charCodeAt(0) - 97 + 8 * (name.charCodeAt(1) - 49);

function labels(name: string, p: ChessPosition): Uint8Array {
  const f = chessFamily(name);
  const out = new Uint8Array(f.cells).fill(7); // label() must overwrite stale data
  f.label(p, out, 0);
  return out;
}
const bit = (name: string, p: ChessPosition) => labels(name, p)[0];
const squaresOf = (name: string, p: ChessPosition) =>
  [...labels(name, p)].flatMap((v, i) => (v ? [String.fromCharCode(97 + (i & 7)) + String((i >> 3) + 1)] : [])).sort();

describe('family catalogue (bsp.md §2)', () => {
  it('has the paper sets with their sizes and coverage denominators', () => {
    expect(chessBoardStateFamily.name).toBe('board_to_piece_masked_blank_and_initial_state');
    expect(chessBoardStateFamily.cells).toBe(832);
    expect(chessBoardStateFamily.coverageDenominator).toBe(768);
    expect(chessBoardStateFamily.maskIndex).toBe(6);
    expect(chessStrategyFamilies.map((f) => f.shortName)).toEqual([
      'check', 'can_check', 'can_capture_queen', 'queen', 'bishop_pair', 'castling_rights', 'kingside_castling_rights',
      'queenside_castling_rights', 'fork', 'pin', 'legal_en_passant', 'ambiguous_moves', 'threatened_squares', 'legal_moves',
    ]);
    // 14 concepts, 140 BSPs.
    expect(chessStrategyFamilies.reduce((s, f) => s + f.cells, 0)).toBe(140);
    expect(chessStrategyFamilies.every((f) => f.group === 'strategy')).toBe(true);
    const other = Object.fromEntries(chessOtherFamilies.map((f) => [f.name, f.coverageDenominator]));
    expect(other).toEqual({
      board_to_piece_state: 832,
      board_to_piece_masked_blank_state: 768,
      board_to_piece_color_state: 192,
      board_to_specific_fork: 1,
      board_to_pseudo_legal_moves_state: 64,
      board_to_can_claim_draw: 1,
      board_to_has_mate_threat: 1,
      board_to_has_connected_rooks: 1,
    });
    expect(new Set(chessBspFamilies.map((f) => f.shortName)).size).toBe(chessBspFamilies.length);
  });

  it('describes cells in readable words, masked channel included', () => {
    const cells = chessBoardStateFamily.describe();
    expect(cells.length).toBe(832);
    const f3 = cells.find((c) => c.square === 'f3' && c.className === 'white knight')!;
    expect(f3.name).toBe('white knight on f3');
    expect(f3.cell).toBe(sq('f3') * 13 + 8);
    expect(f3.row).toBe(2);
    expect(f3.col).toBe(5);
    expect(cells.filter((c) => c.masked).length).toBe(64);
    expect(chessFamily('check').describe()[0]).toMatchObject({ square: null, name: 'mover is in check', masked: false });
    expect(chessFamily('threatened_squares').describe()[sq('f3')].name).toBe('f3 attacked by black');
    expect(chessFamily('legal_moves').describe()[sq('e4')].name).toBe('white can move to e4');
    expect(() => chessFamily('nope')).toThrow(/unknown chess BSP family "nope"/);
  });
});

describe('board state (bsp.md §2.1)', () => {
  it('keeps only pieces off their initial squares, empty channel masked', () => {
    const l = labels('board_state', after(';1.e4 e5 2.Nf3'));
    const on = [...l].flatMap((v, i) => (v ? [i] : []));
    expect(on).toEqual([sq('e4') * 13 + 7, sq('f3') * 13 + 8, sq('e5') * 13 + 5].sort((a, b) => a - b));
    expect([...labels('board_state', INITIAL())].every((v) => v === 0)).toBe(true);
  });

  it('drops a piece that returned to its initial square, whatever its history', () => {
    const l = labels('board_state', after(';1.Nf3 Nf6 2.Ng1'));
    expect([...l].flatMap((v, i) => (v ? [i] : []))).toEqual([sq('f6') * 13 + 4]);
  });

  it('other piece encodings: full one-hot, blank-masked, colour', () => {
    const p = after(';1.e4');
    const full = labels('piece', p);
    expect(full.reduce((a, b) => a + b, 0)).toBe(64);
    expect(full[sq('e4') * 13 + 7]).toBe(1);
    expect(full[sq('e2') * 13 + 6]).toBe(1);
    expect(full[sq('e8') * 13 + 0]).toBe(1); // black king = class 0
    const masked = labels('piece_masked_blank', p);
    expect(masked.reduce((a, b) => a + b, 0)).toBe(32);
    expect(masked[sq('e1') * 13 + 12]).toBe(1); // initial pieces are kept here
    const color = labels('piece_color', p);
    expect([color[sq('e4') * 3 + 2], color[sq('e2') * 3 + 1], color[sq('a8') * 3 + 0]]).toEqual([1, 1, 1]);
  });
});

describe('strategy concepts (bsp.md §2.2), hand-checked true and false cases', () => {
  it('check', () => {
    expect(bit('check', after(';1.f3 e5 2.g4 Qh4#'))).toBe(1);
    expect(bit('check', INITIAL())).toBe(0);
  });

  it('can_check, including a check only an under-promotion gives', () => {
    expect(bit('can_check', fen('4k3/8/8/8/8/8/8/4K2R w K - 0 1'))).toBe(1); // Rh8+? no: Re1? → Rh8 is check on rank 8
    expect(bit('can_check', fen('8/4k1P1/8/8/8/8/8/K7 w - - 0 1'))).toBe(1); // only g8=N+
    expect(bit('can_check', fen('8/4k3/6P1/8/8/8/8/K7 w - - 0 1'))).toBe(0);
    expect(bit('can_check', INITIAL())).toBe(0);
  });

  it('can_capture_queen checks only the first queen of piece_map() order (highest square)', () => {
    expect(bit('can_capture_queen', fen('4k3/8/8/q7/8/8/8/R5K1 w - - 0 1'))).toBe(1);
    // Queens on h8 and a5: python-chess finds h8 first, which cannot be taken, so 0 although Rxa5 exists.
    expect(bit('can_capture_queen', fen('4k2q/8/8/q7/8/8/8/R5K1 w - - 0 1'))).toBe(0);
    expect(bit('can_capture_queen', fen('4k3/8/8/8/8/8/8/R5K1 w - - 0 1'))).toBe(0);
  });

  it('queen and bishop_pair count the mover\'s pieces (bishop colours not checked)', () => {
    expect(bit('queen', INITIAL())).toBe(1);
    expect(bit('queen', fen('rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNB1KBNR w KQkq - 0 1'))).toBe(0);
    expect(bit('queen', fen('rnb1kbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR b KQkq - 0 1'))).toBe(0); // mover = Black
    expect(bit('bishop_pair', INITIAL())).toBe(1);
    expect(bit('bishop_pair', fen('4k3/8/8/8/8/4B3/8/2B1K3 w - - 0 1'))).toBe(1); // c1 and e3: both dark
    expect(bit('bishop_pair', fen('4k3/8/8/8/8/8/8/2B1K3 w - - 0 1'))).toBe(0);
  });

  it('castling rights are bookkeeping: lost after a rook moves away and back, after the king moves, after the rook is captured', () => {
    const start = INITIAL();
    expect([bit('castling_rights', start), bit('kingside_castling_rights', start), bit('queenside_castling_rights', start)]).toEqual([1, 1, 1]);
    const rookBack = after(';1.h4 a5 2.Rh3 a4 3.Rh1 a3');
    expect([bit('castling_rights', rookBack), bit('kingside_castling_rights', rookBack), bit('queenside_castling_rights', rookBack)]).toEqual([1, 0, 1]);
    const kingWalk = after(';1.e4 e5 2.Ke2 Ke7 3.Ke1 Ke8');
    expect([bit('castling_rights', kingWalk), bit('kingside_castling_rights', kingWalk), bit('queenside_castling_rights', kingWalk)]).toEqual([0, 0, 0]);
    const rookTaken = after(';1.b4 g6 2.b5 Bg7 3.b6 Bxa1');
    expect([bit('castling_rights', rookTaken), bit('kingside_castling_rights', rookTaken), bit('queenside_castling_rights', rookTaken)]).toEqual([1, 1, 0]);
    // Rights, not legality: blocked castling still counts.
    expect(bit('kingside_castling_rights', after(';1.e4 e5'))).toBe(1);
  });

  it('fork: the code quirk — one attacker type, one target type, summed over attackers', () => {
    expect(bit('fork', fen('r3q2k/2N5/8/8/8/8/8/6K1 w - - 0 1'))).toBe(0); // knight hits rook + queen: different types
    expect(bit('fork', fen('r6r/8/1N4N1/8/8/8/8/1K1k4 w - - 0 1'))).toBe(1); // two knights, one rook each
    expect(bit('fork', fen('4k3/8/2n1n3/3P4/8/8/8/4K3 w - - 0 1'))).toBe(1); // pawn forks two knights
    expect(bit('fork', fen('4k3/8/2n1b3/3P4/8/8/8/4K3 w - - 0 1'))).toBe(0); // knight + bishop: different types
    // The g6 knight is pinned to the king by the g8 queen and is skipped: only one rook is hit.
    expect(bit('fork', fen('r5qr/8/1N4N1/8/8/8/8/3k2K1 w - - 0 1'))).toBe(0);
    expect(bit('fork', INITIAL())).toBe(0);
  });

  it('specific_fork: non-pinned knights hitting ≥ 2 rooks/queens/kings in total', () => {
    expect(bit('specific_fork', fen('r3q2k/2N5/8/8/8/8/8/6K1 w - - 0 1'))).toBe(1);
    expect(bit('specific_fork', fen('4k3/8/2n1n3/3P4/8/8/8/4K3 w - - 0 1'))).toBe(0);
  });

  it('pin: an absolute pin of a piece of either colour', () => {
    expect(bit('pin', fen('r5qr/8/1N4N1/8/8/8/8/3k2K1 w - - 0 1'))).toBe(1); // white knight pinned
    expect(bit('pin', fen('4k3/4n3/8/8/8/8/4R3/K7 w - - 0 1'))).toBe(1); // black knight pinned
    expect(bit('pin', fen('4k3/4n3/4n3/8/8/8/4R3/K7 w - - 0 1'))).toBe(0); // two blockers: no pin
    expect(bit('pin', fen('4k3/8/8/8/8/8/R7/K7 w - - 0 1'))).toBe(0);
    expect(bit('pin', after(';1.e4 e5 2.d4 Bb4+'))).toBe(0); // a check is not a pin
    expect(bit('pin', after(';1.e4 e5 2.d3 Bb4+ 3.c3'))).toBe(1); // c3 blocks the check and is now pinned
    expect(bit('pin', after(';1.d4 e5 2.Nc3 Bb4'))).toBe(1); // Nc3 pinned to e1
  });

  it('legal_en_passant: right after a double step, and not when it would expose the king', () => {
    expect(bit('legal_en_passant', after(';1.e4 a6 2.e5 d5'))).toBe(1);
    expect(bit('legal_en_passant', after(';1.e4 a6 2.e5 d6'))).toBe(0);
    expect(bit('legal_en_passant', after(';1.e4 d5 2.e5 a6 3.a3 f5 4.a4 a5'))).toBe(0); // the chance has passed
    expect(bit('legal_en_passant', fen('7k/8/8/KPp4r/8/8/8/8 w - c6 0 2'))).toBe(0); // horizontal pin
    expect(bit('legal_en_passant', fen('7k/8/8/1Pp4r/8/K7/8/8 w - c6 0 2'))).toBe(1);
  });

  it('ambiguous_moves: two pawns capturing on one square count; promotions from one square do not', () => {
    expect(bit('ambiguous_moves', after(';1.e4 d5 2.c4 a6'))).toBe(1); // exd5 / cxd5
    expect(bit('ambiguous_moves', INITIAL())).toBe(0);
    expect(bit('ambiguous_moves', after(';1.e4 a6 2.Nc3 a5'))).toBe(1); // Nc3-e2 and Ng1-e2
    expect(bit('ambiguous_moves', fen('8/4P3/8/8/8/8/8/k1K5 w - - 0 1'))).toBe(0);
  });

  it('threatened_squares: every square Black attacks, empty or occupied', () => {
    const attacked = squaresOf('threatened_squares', INITIAL());
    // Rank 6 (pawns), all of rank 7, rank 8 except the corners.
    const expected = [...'abcdefgh'].flatMap((f) => [`${f}6`, `${f}7`]).concat(['b8', 'c8', 'd8', 'e8', 'f8', 'g8']).sort();
    expect(attacked).toEqual(expected);
    expect(attacked.length).toBe(22);
    // Hard-coded Black: with Black to move it still reports Black's attacks.
    expect(squaresOf('threatened_squares', after(';1.e4'))).toEqual(expected);
  });

  it('legal_moves: White destinations only; castling marks g1, not the rook square', () => {
    const dests = squaresOf('legal_moves', INITIAL());
    expect(dests).toEqual([...'abcdefgh'].flatMap((f) => [`${f}3`, `${f}4`]).sort());
    expect(squaresOf('legal_moves', after(';1.e4'))).toEqual([]); // Black to move: nothing (hard-coded WHITE)
    const castle = squaresOf('legal_moves', fen('4k3/8/8/8/8/8/8/4K2R w K - 0 1'));
    expect(castle).toContain('g1');
    expect(castle).not.toContain('h1');
    // Legal vs pseudo-legal: the king cannot step onto rank 2 (black rook on a2).
    const p = fen('4k3/8/8/8/8/8/r7/4K3 w - - 0 1');
    expect(squaresOf('legal_moves', p)).toEqual(['d1', 'f1']);
    expect(squaresOf('pseudo_legal_moves', p)).toEqual(['d1', 'd2', 'e2', 'f1', 'f2']);
    expect(squaresOf('pseudo_legal_moves', after(';1.e4'))).toContain('e5'); // mover = Black here
  });
});

describe('other pipeline functions (bsp.md §2.3)', () => {
  it('can_claim_draw: threefold repetition over the move history, and the fifty-move rule', () => {
    const t = ';1.Nf3 Nf6 2.Ng1 Ng8 3.Nf3 Nf6 4.Ng1 Ng8';
    const { states } = replayTranscript(t);
    expect(states.map((p) => bit('can_claim_draw', p))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(bit('can_claim_draw', fen('4k3/8/8/8/8/8/8/4K2R w - - 100 80'))).toBe(1);
    expect(bit('can_claim_draw', fen('4k3/8/8/8/8/8/8/4K2R w - - 99 80'))).toBe(1);
    expect(bit('can_claim_draw', fen('4k3/8/8/8/8/8/8/4K2R w - - 98 80'))).toBe(0);
  });

  it('a pawn move resets the repetition window', () => {
    const { states } = replayTranscript(';1.Nf3 Nf6 2.Ng1 Ng8 3.e3 e6 4.Nf3 Nf6 5.Ng1 Ng8 6.Nf3');
    expect(states.map((p) => bit('can_claim_draw', p)).slice(-3)).toEqual([0, 0, 0]);
  });

  it('mate_threat = the mover has a mate in one (the code mirrors the board)', () => {
    expect(bit('mate_threat', fen('6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1'))).toBe(1);
    expect(bit('mate_threat', fen('6k1/5pp1/8/8/8/8/8/R5K1 w - - 0 1'))).toBe(0);
    expect(bit('mate_threat', INITIAL())).toBe(0);
  });

  it('connected_rooks: same rank or file with nothing between', () => {
    expect(bit('connected_rooks', fen('4k3/8/8/8/8/8/8/R3K2R w KQ - 0 1'))).toBe(0);
    expect(bit('connected_rooks', fen('4k3/8/8/8/8/8/8/R4RK1 w - - 0 1'))).toBe(1);
    expect(bit('connected_rooks', fen('4k3/8/8/R7/8/8/8/R5K1 w - - 0 1'))).toBe(1);
  });
});

describe('vectorised labelling', () => {
  it('labels many positions into (positions × cells) matrices equal to per-position labels', () => {
    const positions = replayTranscript(';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6 4.Ba4 Nf6 5.O-O Be7').states;
    const all = labelChessPositions(positions);
    expect(all.length).toBe(chessBspFamilies.length);
    for (const { family, labels: m } of all) {
      expect(m.length).toBe(positions.length * family.cells);
      positions.forEach((p, i) => {
        const one = new Uint8Array(family.cells);
        (family as BspFamily<ChessPosition>).label(p, one, 0);
        expect(m.subarray(i * family.cells, (i + 1) * family.cells)).toEqual(one);
      });
    }
  });
});

describe('labelChessDots (the evaluation labelling)', () => {
  it('takes 20 dots of each 256-char game, White to move, in game order', async () => {
    const { randomChessGamesSync, isEvaluableChessGame, labelChessDots, dotPositions } = await import('../../../src/games/chess/index.js');
    const games = [...randomChessGamesSync({ seed: 9, count: 3, minChars: 400 })].map((g) => g.transcript);
    expect(games.every((t) => isEvaluableChessGame(t))).toBe(true);
    expect(isEvaluableChessGame(';1.e4 e5')).toBe(false);
    const r = labelChessDots(games, { families: [chessFamily('legal_moves'), chessFamily('check')] });
    expect(r.positions).toBe(60);
    expect(Array.from(r.gameIndex.slice(18, 22))).toEqual([0, 0, 1, 1]);
    expect(r.charIndex[0]).toBe(2);
    for (let i = 0; i < 60; i++) expect(games[r.gameIndex[i]][r.charIndex[i]]).toBe('.');
    // Same labels as labelling the dot positions one by one.
    const first = dotPositions(games[0].slice(0, 256));
    const lm = chessFamily('legal_moves');
    const one = new Uint8Array(64);
    lm.label(first[5], one, 0);
    expect(r.labels[0].labels.subarray(5 * 64, 6 * 64)).toEqual(one);
    // At dots White is to move, so legal_moves is never empty before the game ends.
    expect(r.labels[0].labels.subarray(0, 64).reduce((a, b) => a + b, 0)).toBe(16);
  });
});

describe('givesCheck (bitboard shortcut used by can_check and mate_threat)', () => {
  it('agrees with clone-and-play on every legal move of many random positions', async () => {
    const { givesCheck, randomChessGamesSync } = await import('../../../src/games/chess/index.js');
    let moves = 0;
    let checks = 0;
    for (const g of randomChessGamesSync({ seed: 11, count: 40 })) {
      for (const p of replayTranscript(g.transcript).states) {
        for (const m of p.legalMoves().moves) {
          const after = p.pos.clone();
          after.play(m);
          const expected = after.isCheck();
          expect(givesCheck(p.pos, m)).toBe(expected);
          moves++;
          if (expected) checks++;
        }
      }
    }
    expect(moves).toBeGreaterThan(100_000);
    expect(checks).toBeGreaterThan(1000);
  });

  it('handles discovered, castling, en-passant and promotion checks', async () => {
    const { givesCheck } = await import('../../../src/games/chess/index.js');
    const move = (from: string, to: string, promotion?: 'queen' | 'knight') => ({ from: sq(from), to: sq(to), promotion });
    expect(givesCheck(fen('5k2/8/8/8/8/8/8/4K2R w K - 0 1').pos, move('e1', 'h1'))).toBe(true); // O-O, rook to f1
    expect(givesCheck(fen('4k3/8/8/8/8/8/4N3/4R1K1 w - - 0 1').pos, move('e2', 'c3'))).toBe(true); // discovered
    expect(givesCheck(fen('8/8/8/k2pP2R/8/8/8/6K1 w - d6 0 2').pos, move('e5', 'd6'))).toBe(true); // ep uncovers the rank
    expect(givesCheck(fen('8/4k1P1/8/8/8/8/8/K7 w - - 0 1').pos, move('g7', 'g8', 'knight'))).toBe(true);
    expect(givesCheck(fen('8/4k1P1/8/8/8/8/8/K7 w - - 0 1').pos, move('g7', 'g8', 'queen'))).toBe(false);
  });
});
