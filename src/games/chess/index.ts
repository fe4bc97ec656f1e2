/**
 * Public API of the chess ground truth (games.md §2, bsp.md §2). Consumers (dataset writer, CLI,
 * evaluation, GraphQL) import from here only.
 */
export { CHESS_VOCAB, CHESS_VOCAB_SIZE, CHESS_DELIMITER_ID, CHESS_DOT_ID, CHESS_SPACE_ID, encodeChess, decodeChess, isChessVocabChar, chessMeta } from './vocab.js';
export {
  CHESS_DOTS_PER_GAME,
  CHESS_EVAL_LENGTH,
  formatTranscript,
  movesToTranscript,
  replayTranscript,
  analyzeTranscript,
  charStateIndices,
  findDotIndices,
  dotPositions,
  parseTranscript,
  isEvaluableChessGame,
  type ReplayResult,
  type ChessTranscriptAnalysis,
  type ParsedTranscript,
} from './transcript.js';
export { ChessPosition, givesCheck, type LegalMoves } from './position.js';
export { parseSanCompat } from './san.js';
export {
  boardStateFamily as chessBoardStateFamily,
  strategyFamilies as chessStrategyFamilies,
  otherFamilies as chessOtherFamilies,
  chessBspFamilies,
  chessFamily,
  labelChessPositions,
  labelChessDots,
  type DotLabels,
  anyFork,
  specificFork,
  pieceClasses,
  PIECE_CLASS_NAMES,
  FORK_TABLE,
  type FamilyLabels,
} from './bsp.js';
export {
  randomChessGame,
  randomChessGames,
  randomChessGamesSync,
  randomGameSource,
  type GeneratedChessGame,
  type RandomGameOptions,
  type ChessTermination,
} from './random.js';
export { seededRng, type Rng } from './rng.js';
export {
  importPgn,
  parsePgnString,
  PgnStreamParser,
  type ImportedChessGame,
  type PgnImportOptions,
  type PgnImportStats,
} from './pgn.js';
export {
  stockfishChessGames,
  stockfishGameSource,
  UciEngine,
  pickCandidate,
  standardUci,
  DEFAULT_STOCKFISH_SCRIPT,
  type StockfishGameOptions,
  type UciCandidate,
} from './stockfish.js';
