/**
 * The paper's numbers the report puts beside ours, copied from ../shared/spec/results.md (the
 * paper's Table 1, the per-trainer bests of §2, Table 4). They are the paper's, so they are typed
 * here; every number of ours in the report comes from the database.
 */
export type Game = 'othello' | 'chess';

/** Table 1: G_boardstate, best over all SAEs, layer 6 (block index 5). */
export const PAPER_TABLE1: Record<'random' | 'trained' | 'probe', Record<Game, { coverage: number; reconstruction: number }>> = {
  random: { chess: { coverage: 0.11, reconstruction: 0.01 }, othello: { coverage: 0.27, reconstruction: 0.08 } },
  trained: { chess: { coverage: 0.48, reconstruction: 0.85 }, othello: { coverage: 0.52, reconstruction: 0.95 } },
  probe: { chess: { coverage: 0.98, reconstruction: 0.98 }, othello: { coverage: 0.99, reconstruction: 0.99 } },
};

export interface PaperTrainerRow {
  coverage: number;
  coverageL0?: number;
  reconstruction: number;
  reconstructionL0?: number;
  /** Othello: best valid-moves reconstruction. */
  validMovesReconstruction?: number;
  /** Chess: mean of the 14 strategy concepts. */
  strategyCoverage?: number;
  strategyReconstruction?: number;
  saes?: number;
}

/** results.md §2 (Othello from the CSVs; chess read from figures, ±0.01). */
export const PAPER_TRAINERS: Record<Game, Record<string, PaperTrainerRow>> = {
  othello: {
    gated: { saes: 80, coverage: 0.519, coverageL0: 128.7, reconstruction: 0.913, reconstructionL0: 102.8, validMovesReconstruction: 0.793 },
    gated_anneal: { saes: 40, coverage: 0.509, coverageL0: 53.0, reconstruction: 0.883, reconstructionL0: 47.4, validMovesReconstruction: 0.787 },
    p_anneal: { saes: 40, coverage: 0.454, coverageL0: 195.6, reconstruction: 0.953, reconstructionL0: 63.2, validMovesReconstruction: 0.918 },
    standard: { saes: 80, coverage: 0.403, coverageL0: 425.6, reconstruction: 0.954, reconstructionL0: 457.4, validMovesReconstruction: 0.939 },
    top_k: { saes: 40, coverage: 0.494, reconstruction: 0.87 },
  },
  chess: {
    p_anneal: { coverage: 0.475, coverageL0: 30, reconstruction: 0.85, reconstructionL0: 25, strategyCoverage: 0.65, strategyReconstruction: 0.66 },
    standard: { coverage: 0.43, reconstruction: 0.835, strategyCoverage: 0.61, strategyReconstruction: 0.66 },
    gated: { coverage: 0.45, reconstruction: 0.8, strategyCoverage: 0.675, strategyReconstruction: 0.645 },
    gated_anneal: { coverage: 0.44, reconstruction: 0.69, strategyCoverage: 0.675, strategyReconstruction: 0.65 },
    top_k: { coverage: 0.465, reconstruction: 0.83, strategyCoverage: 0.69, strategyReconstruction: 0.655 },
  },
};

/** Table 4 (trained ChessGPT), best SAE coverage per concept; keys are saeboard's family short names. */
export const PAPER_TABLE4_COVERAGE: Record<string, number> = {
  check: 1.0,
  can_check: 0.54,
  can_capture_queen: 0.48,
  queen: 0.96,
  bishop_pair: 0.86,
  castling_rights: 0.82,
  kingside_castling_rights: 0.81,
  queenside_castling_rights: 0.81,
  fork: 0.38,
  pin: 0.33,
  legal_en_passant: 0.9,
  ambiguous_moves: 0.57,
  threatened_squares: 0.71,
  legal_moves: 0.63,
};

/** Table 5 (random-init ChessGPT): best SAE coverage per concept, the CSV's three decimals (results.md §3). */
export const PAPER_TABLE5_COVERAGE: Record<string, number> = {
  check: 0.126,
  can_check: 0.523,
  can_capture_queen: 0.094,
  queen: 0.93,
  bishop_pair: 0.808,
  castling_rights: 0.653,
  kingside_castling_rights: 0.647,
  queenside_castling_rights: 0.643,
  fork: 0.066,
  pin: 0.252,
  legal_en_passant: 0.062,
  ambiguous_moves: 0.523,
  threatened_squares: 0.596,
  legal_moves: 0.452,
};

/** Where the paper's metrics peak (results.md §2 claim 3). */
export const PAPER_PEAK_L0: Record<Game, string> = { othello: 'coverage peaks around L0 50–200', chess: 'the best SAEs have L0 ≈ 20–60' };
