import { describe, expect, it } from 'vitest';
import {
  analyzeTranscript,
  charStateIndices,
  dotPositions,
  findDotIndices,
  formatTranscript,
  parseTranscript,
  replayTranscript,
} from '../../../src/games/chess/index.js';
import { UserInputError } from '../../../src/errors.js';

const RUY = ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6 4.Ba4';

describe('transcript format (games.md §2.1)', () => {
  it('formats half-moves with numbered White moves and no space after the dot', () => {
    expect(formatTranscript(['e4', 'e5', 'Nf3', 'Nc6', 'Bb5', 'a6', 'Ba4'])).toBe(RUY);
    expect(formatTranscript([])).toBe(';');
    expect(formatTranscript(['d4'])).toBe(';1.d4');
  });

  it('strictly parses, canonicalises and locates errors', () => {
    const p = parseTranscript(RUY);
    expect(p.sans).toEqual(['e4', 'e5', 'Nf3', 'Nc6', 'Bb5', 'a6', 'Ba4']);
    expect(p.canonical).toBe(RUY);
    // python-chess accepts digit-zero castling and redundant disambiguation; we canonicalise.
    const q = parseTranscript(';1.e4 e5 2.Nf3 Nc6 3.Bc4 Bc5 4.0-0 Ngf6');
    expect(q.canonical).toBe(';1.e4 e5 2.Nf3 Nc6 3.Bc4 Bc5 4.O-O Nf6');
    expect(() => parseTranscript(';1.e4 e5 2.Ke3', { where: 'row 7' })).toThrow(UserInputError);
    expect(() => parseTranscript(';1.e4 e5 2.Ke3', { where: 'row 7' })).toThrow(/row 7: illegal or unparseable move "Ke3" at index 9 \(move 2\.\)/);
    expect(() => parseTranscript(';1.e4 e5 3.Nf3')).toThrow(/expected move number "2\."/);
    expect(() => parseTranscript('1.e4 e5')).toThrow(/must start with ';'/);
    expect(() => parseTranscript(';1.e4  e5')).toThrow(/empty move|illegal/);
    expect(() => parseTranscript(';1.e4 e5 2.Nf3 Z')).toThrow(/character "Z" at index 15/);
  });

  it('accepts a cut-off last move only when asked', () => {
    expect(() => parseTranscript(';1.e4 e5 2.Nf')).toThrow(/"Nf"/);
    const p = parseTranscript(';1.e4 e5 2.Nf', { allowTruncatedEnd: true });
    expect(p.sans).toEqual(['e4', 'e5']);
    expect(p.truncatedEnd).toBe(true);
    expect(parseTranscript(';1.e4 e5 2', { allowTruncatedEnd: true }).truncatedEnd).toBe(true);
  });
});

describe('board per character (games.md §2.4)', () => {
  it('maps each character to the board after s(j) half-moves', () => {
    const a = analyzeTranscript(RUY);
    expect(a.states.length).toBe(8);
    // ";1.e4" → 0, " e5" → 1, " 2.Nf3" → 2, ...: a space counts for itself.
    expect(Array.from(a.charState).join('')).toBe('000001112222223333444444555666666');
    // The characters of "2.Nf3" still see the board before Nf3; the following space sees it played.
    expect(a.states[a.charState[RUY.indexOf('Nf3')]].fen()).toBe('rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2');
    expect(a.states[a.charState[RUY.indexOf(' Nc6')]].fen()).toBe('rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 1 2');
  });

  it('puts the k-th dot on the board after 2(k-1) half-moves, White to move', () => {
    const a = analyzeTranscript(RUY);
    expect(a.dotIndices).toEqual([2, 10, 20, 29]);
    a.dotIndices.forEach((j, k) => {
      expect(a.charState[j]).toBe(2 * k);
      expect(a.states[a.charState[j]].turn).toBe('white');
    });
    const dots = dotPositions(RUY);
    expect(dots.map((p) => p.ply)).toEqual([0, 2, 4, 6]);
  });

  it('takes only the first 20 dots', () => {
    const sans: string[] = [];
    for (let i = 0; i < 30; i++) sans.push(...(i % 2 === 0 ? ['Nf3', 'Nf6'] : ['Ng1', 'Ng8']));
    const t = formatTranscript(sans);
    expect(findDotIndices(t).length).toBe(20);
    expect(findDotIndices(t, 5)).toEqual([2, 12, 22, 32, 42]);
    expect(dotPositions(t).map((p) => p.ply)).toEqual(Array.from({ length: 20 }, (_, k) => 2 * k));
  });

  it('stops at a truncated last move and repeats the last good board', () => {
    const t = ';1.e4 e5 2.Nf';
    const a = analyzeTranscript(t);
    expect(a.states.length).toBe(3);
    expect(a.charState[t.length - 1]).toBe(2); // "Nf" chars keep the board after 1...e5
    expect(replayTranscript(t).parsedTokens).toBe(2);
  });

  it('does not skip an empty piece such as "2." (CORRECTED rule): parsing stops there', () => {
    // pgn_string_to_board would skip "2." and play Nf3; create_state_stack (the labels) stops.
    const r = replayTranscript(';1.e4 e5 2. Nf3');
    expect(r.states.length).toBe(3);
    expect(r.parsedTokens).toBe(2);
    const a = analyzeTranscript(';1.e4 e5 2.');
    expect(a.states.length).toBe(3);
    expect(Array.from(a.charState.slice(-3))).toEqual([2, 2, 2]);
  });

  it('plays a cut "O-O-O" as kingside castling, changing only the boards after the last space', () => {
    const full = ';1.d4 d5 2.Nc3 Nc6 3.Bf4 Bf5 4.Qd2 Qd7 5.e3 e6 6.Bd3 Bd6 7.Nf3 Nf6 8.O-O-O';
    const cut = full.slice(0, -2); // "...8.O-O"
    const a = replayTranscript(full);
    const b = replayTranscript(cut);
    expect(a.states.length).toBe(16);
    expect(b.states.length).toBe(16);
    expect(a.states[15].pos.board.kingOf('white')).toBe(2); // c1
    expect(b.states[15].pos.board.kingOf('white')).toBe(6); // g1
    const ca = charStateIndices(full, a.states.length);
    const dot8 = full.lastIndexOf('.');
    expect(ca[dot8]).toBe(14); // the dot's board is after 14 half-moves either way
    expect(analyzeTranscript(cut).states[14].fen()).toBe(analyzeTranscript(full).states[14].fen());
    expect(analyzeTranscript(cut).states[15].fen()).not.toBe(analyzeTranscript(full).states[15].fen());
  });

  it('follows python-chess SAN leniency: digit-zero castling and fully specified moves', () => {
    const r = replayTranscript(';1.e4 e5 2.g1f3 Nc6 3.Bc4 Nf6 4.0-0');
    expect(r.states.length).toBe(8);
    expect(r.states[7].pos.board.kingOf('white')).toBe(6);
    // An ambiguous SAN fails in python-chess, so the replay stops there.
    const amb = replayTranscript(';1.e4 a6 2.Nc3 a5 3.Ne2 a4');
    expect(amb.states.length).toBe(5);
  });
});
