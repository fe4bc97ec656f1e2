/**
 * One position from a move list, labelled with the same family code as evaluation: what
 * analyzePosition shows next to the live feature activations. Pure: no LM, no database.
 */
import { UserInputError } from '../errors.js';
import { analyzeTranscript, chessBspFamilies, parseTranscript, type ChessPosition } from '../games/chess/index.js';
import { OTHELLO_CTX_LEN, OthelloBoard, othelloBspFamilies, parseOthelloLine, replayOthello, squareName, squareToToken } from '../games/othello/index.js';
import type { BspFamily, GameName } from '../games/types.js';

export interface LabelledPosition {
  game: GameName;
  /** The moves as played, normalised (Othello square names; chess canonical SAN). */
  moves: string[];
  /** LM input tokens, the position being the last one. */
  tokens: Int32Array;
  /** Othello: 64 characters a1..h8 row-major, X black, O white, . empty. Chess: FEN. */
  board: string;
  toMove: 'black' | 'white';
  /**
   * Moves legal here. Othello: square names of the side to move (the opponent's when it must
   * pass; none when the game is over). Chess: UCI, castling as king to its destination (e1g1).
   */
  legalMoves: string[];
  /** Per family, its cells' 0/1 labels in this position. */
  labels: { family: BspFamily<never>; cells: Uint8Array }[];
}

const FILES = 'abcdefgh';
const squareUci = (sq: number) => `${FILES[sq & 7]}${(sq >> 3) + 1}`;
const PROMOTION_LETTER: Record<string, string> = { queen: 'q', rook: 'r', bishop: 'b', knight: 'n' };

/** UCI of every legal move, with python-chess's castling destinations (e1g1, not e1h1). */
function chessLegalUci(state: ChessPosition): string[] {
  const legal = state.legalMoves();
  return legal.moves.map((m, i) => `${squareUci(m.from)}${squareUci(legal.pyTo[i])}${m.promotion ? PROMOTION_LETTER[m.promotion] : ''}`);
}

/** The game's families, or those of them named (code names). */
export function analysisFamilies(game: GameName, names?: readonly string[]): readonly BspFamily<never>[] {
  const all = (game === 'othello' ? othelloBspFamilies : chessBspFamilies) as readonly BspFamily<never>[];
  return names ? all.filter((f) => names.includes(f.name)) : all;
}

function label<P>(families: readonly BspFamily<never>[], position: P): LabelledPosition['labels'] {
  return families.map((family) => {
    const cells = new Uint8Array(family.cells);
    (family as unknown as BspFamily<P>).label(position, cells, 0);
    return { family, cells };
  });
}

/**
 * Validate and play `moves`; `maxTokens` is the LM context. Othello: square names or token ids
 * separated by spaces or commas ("d3 c5 f6", "d3c5f6"). Chess: a transcript in the paper's format
 * (";1.e4 e5 2.Nf3") or SAN moves ("e4 e5 Nf3"). A bad move is a UserInputError naming it.
 * `familyNames` (code names) limits the labelled families, e.g. to those in the BSP catalogue.
 */
export function labelPosition(game: GameName, moves: string, maxTokens: number, familyNames?: readonly string[]): LabelledPosition {
  if (moves.length > 4096) throw new UserInputError('moves: longer than 4096 characters');
  if (game === 'othello') {
    const squares = parseOthelloLine(moves, 'moves', 'token');
    if (!squares.length) throw new UserInputError('moves: give at least one move, e.g. "d3 c5"');
    const max = Math.min(maxTokens, OTHELLO_CTX_LEN);
    if (squares.length > max) throw new UserInputError(`moves: ${squares.length} moves, but the LM reads at most ${max}`);
    replayOthello(squares, 'moves');
    const board = new OthelloBoard();
    for (const p of squares) board.play(p);
    let text = '';
    for (let p = 0; p < 64; p++) text += board.at(p) === 1 ? 'X' : board.at(p) === -1 ? 'O' : '.';
    return {
      game,
      moves: squares.map(squareName),
      tokens: Int32Array.from(squares, squareToToken),
      board: text,
      toMove: board.nextColor === 1 ? 'black' : 'white',
      legalMoves: board.validMoves().map(squareName),
      labels: label(analysisFamilies(game, familyNames), board),
    };
  }
  const trimmed = moves.trim();
  let text = trimmed.startsWith(';') ? trimmed : /^\d+\./.test(trimmed) ? `;${trimmed}` : null;
  if (text === null) {
    // Bare SAN: number the moves ourselves.
    const sans = trimmed.split(/\s+/).filter(Boolean);
    if (!sans.length) throw new UserInputError('moves: give at least one move, e.g. "e4 e5 Nf3"');
    text = ';' + sans.map((s, i) => (i % 2 === 0 ? `${i / 2 + 1}.${s}` : s)).join(' ');
  }
  const parsed = parseTranscript(text, { where: 'moves' });
  if (!parsed.sans.length) throw new UserInputError('moves: give at least one move, e.g. "e4 e5 Nf3"');
  const a = analyzeTranscript(parsed.canonical, { maxDots: 1, where: 'moves' });
  if (a.tokenIds.length > maxTokens) throw new UserInputError(`moves: the transcript is ${a.tokenIds.length} characters, but the LM reads at most ${maxTokens}`);
  const state: ChessPosition = a.states[a.states.length - 1];
  return {
    game,
    moves: parsed.sans,
    tokens: Int32Array.from(a.tokenIds),
    board: state.fen(),
    toMove: parsed.sans.length % 2 === 0 ? 'white' : 'black',
    legalMoves: chessLegalUci(state),
    labels: label(analysisFamilies(game, familyNames), state),
  };
}
