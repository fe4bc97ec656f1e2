/**
 * Chess ground-truth throughput (one core):
 *  - board per character: transcripts (cut to 256 chars) → token ids, states, char→state, dots;
 *  - BSP labelling of dot positions with all families (target: 100,000 positions < 30 s);
 *  - PGN import MB/s on a generated Lichess-style file (clock comments, NAGs, variations);
 *  - random legal-game generation.
 * There is no in-run peer: python-chess (the paper's library) is not installable on these machines.
 *
 *   npm run bench -- chess [--positions 100000] [--pgn-games 4000] [--stockfish-games 6]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './harness.js';
import {
  analyzeTranscript,
  chessBoardStateFamily,
  chessBspFamilies,
  chessStrategyFamilies,
  importPgn,
  labelChessPositions,
  randomChessGamesSync,
  stockfishChessGames,
  type ChessPosition,
} from '../src/games/chess/index.js';
import type { BspFamily } from '../src/games/types.js';

function lichessStyle(transcript: string, n: number): string {
  // Turn ";1.e4 e5 2.Nf3" into Lichess export movetext with clocks, a NAG and a short variation.
  const tokens = transcript.slice(1).split(' ');
  let body = '';
  let ply = 0;
  for (const t of tokens) {
    const san = t.includes('.') ? t.slice(t.indexOf('.') + 1) : t;
    const moveNo = Math.floor(ply / 2) + 1;
    body += ply % 2 === 0 ? `${moveNo}. ${san} { [%clk 0:02:5${ply % 10}] } ` : `${moveNo}... ${san} { [%clk 0:02:5${ply % 10}] } `;
    if (ply === 6) body += '$1 (4. h3 h6) ';
    ply++;
  }
  return `[Event "Rated Blitz game"]\n[Site "https://lichess.org/bench${n}"]\n[White "w${n}"]\n[Black "b${n}"]\n[Result "*"]\n[TimeControl "180+0"]\n\n${body}*\n\n`;
}

export default async function chess(h: Bench): Promise<void> {
  const target = Number(h.option('positions', '100000'));
  const pgnGames = Number(h.option('pgn-games', '4000'));

  // Games long enough for 20 dots in 256 characters, like the paper's evaluation sets.
  const games: string[] = [];
  for (const g of randomChessGamesSync({ seed: 1, minChars: 300 })) {
    const t = g.transcript.slice(0, 256);
    if (t.split('.').length - 1 < 20) continue;
    games.push(t);
    if (games.length * 20 >= target) break;
  }

  // 1. Board per character.
  const t0 = performance.now();
  const dotPositions: ChessPosition[] = [];
  let chars = 0;
  let states = 0;
  for (const t of games) {
    const a = analyzeTranscript(t);
    chars += t.length;
    states += a.states.length;
    for (const j of a.dotIndices) dotPositions.push(a.states[a.charState[j]]);
  }
  const replayS = (performance.now() - t0) / 1000;
  h.record('board_per_character', {
    games: games.length,
    chars,
    states,
    seconds: +replayS.toFixed(3),
    charsPerS: Math.round(chars / replayS),
    statesPerS: Math.round(states / replayS),
  });

  // 2. Labelling: fresh positions for each measurement (analyses are memoised per position).
  const fresh = (): ChessPosition[] => {
    const out: ChessPosition[] = [];
    for (const t of games) {
      const a = analyzeTranscript(t);
      for (const j of a.dotIndices) out.push(a.states[a.charState[j]]);
    }
    return out.slice(0, target);
  };
  const measure = (caseName: string, families: readonly BspFamily<ChessPosition>[]) => {
    const positions = fresh();
    const s0 = performance.now();
    labelChessPositions(positions, families);
    const s = (performance.now() - s0) / 1000;
    h.record(caseName, {
      positions: positions.length,
      families: families.length,
      cellsPerPosition: families.reduce((a, f) => a + f.cells, 0),
      seconds: +s.toFixed(3),
      positionsPerS: Math.round(positions.length / s),
      targetSeconds: 30 * (positions.length / 100_000),
    });
  };
  measure('label_board_state', [chessBoardStateFamily]);
  measure('label_strategy_14', chessStrategyFamilies);
  measure('label_all_families', chessBspFamilies);
  // End to end: transcripts → dot positions → all families.
  {
    const s0 = performance.now();
    const positions = fresh();
    labelChessPositions(positions, chessBspFamilies);
    const s = (performance.now() - s0) / 1000;
    h.record('transcripts_to_all_labels', { positions: positions.length, seconds: +s.toFixed(3), positionsPerS: Math.round(positions.length / s) });
  }

  // 3. PGN import.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-pgn-'));
  try {
    const file = path.join(dir, 'games.pgn');
    const parts: string[] = [];
    let n = 0;
    for (const g of randomChessGamesSync({ seed: 2, count: pgnGames, maxPlies: 160 })) parts.push(lichessStyle(g.transcript, n++));
    writeFileSync(file, parts.join(''));
    const bytes = statSync(file).size;
    const s0 = performance.now();
    const { games: stream, stats } = importPgn(file);
    let plies = 0;
    for await (const g of stream) plies += g.plies;
    const s = (performance.now() - s0) / 1000;
    h.record('pgn_import', {
      games: stats.imported,
      plies,
      megabytes: +(bytes / 1e6).toFixed(2),
      seconds: +s.toFixed(3),
      mbPerS: +(bytes / 1e6 / s).toFixed(2),
      gamesPerS: Math.round(stats.imported / s),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // 4. Random legal games.
  {
    const s0 = performance.now();
    let plies = 0;
    let count = 0;
    for (const g of randomChessGamesSync({ seed: 3, count: 300 })) {
      plies += g.plies;
      count++;
    }
    const s = (performance.now() - s0) / 1000;
    h.record('random_games', { games: count, plies, seconds: +s.toFixed(3), pliesPerS: Math.round(plies / s) });
  }

  // 5. Stockfish self-play (child process, UCI round trip per move), depth 3, MultiPV 5.
  {
    const count = Number(h.option('stockfish-games', '6'));
    const s0 = performance.now();
    let plies = 0;
    for await (const g of stockfishChessGames({ count, seed: 4, depth: 3 })) plies += g.plies;
    const s = (performance.now() - s0) / 1000;
    h.record('stockfish_games_depth3', { games: count, plies, seconds: +s.toFixed(3), pliesPerS: Math.round(plies / s) });
  }
}
