/**
 * Othello ground truth throughput, single core:
 *  - random legal games generated per second (uniform over get_valid_moves, passes folded in);
 *  - BSP labelling throughput (positions/s) from token rows, for the reported family alone, the
 *    paper's pipeline families, and every family; the 1M-positions target is < 30 s;
 *  - perft nodes/s.
 * Peer: scripts/othello_reference.py --bench (a plain Python/numpy engine + per-position one-hot
 * labels, the style of the paper's code), measured in the same run.
 *
 *   npm run bench -- othello [--games 20000] [--positions 1000000] [--peer-games 200]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Bench } from './harness.js';
import {
  OTHELLO_MAX_MOVES,
  OthelloBoard,
  RandomOthelloGames,
  SQUARE_TO_TOKEN,
  boardStateFamily,
  labelOthelloGames,
  othelloBspFamilies,
  perft,
} from '../src/games/othello/index.js';
import { PROJECT_ROOT } from '../src/version.js';

export default async function othelloBench(h: Bench): Promise<void> {
  const nGames = Number(h.option('games', '20000'));
  const nPositions = Number(h.option('positions', '1000000'));
  const peerGames = Number(h.option('peer-games', '200'));

  // 1. Generator.
  const buf = new Uint8Array(OTHELLO_MAX_MOVES);
  const gen = (minMoves: number) => {
    const g = new RandomOthelloGames({ seed: 1, minMoves });
    for (let i = 0; i < nGames; i++) g.next(buf);
    return g;
  };
  const genStats = await h.time(() => gen(0), { reps: 3 });
  let last = gen(0);
  h.record('generate', {
    games: nGames,
    medianMs: genStats.median,
    gamesPerSec: Math.round(nGames / (genStats.median / 1000)),
    keptWithPassPct: +((100 * last.stats.keptWithPass) / last.stats.kept).toFixed(2),
  });
  const genMinStats = await h.time(() => (last = gen(59)), { reps: 3 });
  h.record('generate-min59', {
    games: nGames,
    medianMs: genMinStats.median,
    gamesPerSec: Math.round(nGames / (genMinStats.median / 1000)),
    keptPct: +((100 * last.stats.kept) / last.stats.played).toFixed(2),
  });

  // 2. Labelling from token rows: 59 positions per game.
  const gamesForLabels = Math.ceil(nPositions / 59);
  const tokens = new Uint8Array(gamesForLabels * 60);
  const g59 = new RandomOthelloGames({ seed: 2, minMoves: 60 });
  for (let i = 0; i < gamesForLabels; i++) {
    const n = g59.next(buf);
    for (let k = 0; k < n; k++) tokens[i * 60 + k] = SQUARE_TO_TOKEN[buf[k]];
  }
  const chunkGames = 1000; // bounded memory: label in chunks, like the dataset writer
  const sets: [string, typeof othelloBspFamilies][] = [
    ['board_state', [boardStateFamily]],
    ['pipeline', othelloBspFamilies.filter((f) => f.inPipeline)],
    ['all', othelloBspFamilies],
  ];
  let boardStatePerSec = 0;
  for (const [name, families] of sets) {
    const out = families.map((f) => new Uint8Array(chunkGames * 59 * f.cells));
    const run = () => {
      let total = 0;
      for (let from = 0; from < gamesForLabels; from += chunkGames) {
        const to = Math.min(gamesForLabels, from + chunkGames);
        total += labelOthelloGames({ tokens, nGames: gamesForLabels, stride: 60 }, families, { from, to, out }).nPositions;
      }
      return total;
    };
    const positions = run();
    const st = await h.time(run, { reps: name === 'all' ? 1 : 3, warmup: 0 });
    if (name === 'board_state') boardStatePerSec = positions / (st.median / 1000);
    h.record(`label-${name}`, {
      families: families.map((f) => f.shortName),
      cellsPerPosition: families.reduce((a, f) => a + f.cells, 0),
      positions,
      medianMs: st.median,
      positionsPerSec: Math.round(positions / (st.median / 1000)),
      secondsPer1MPositions: +((st.median / 1000) * (1e6 / positions)).toFixed(2),
    });
  }

  // 3. perft(8) from the start.
  const b = new OthelloBoard();
  const pst = await h.time(() => perft(b, 8), { reps: 3 });
  h.record('perft8', { nodes: 390216, medianMs: pst.median, nodesPerSec: Math.round(390216 / (pst.median / 1000)) });

  // 4. Peer: the Python reference, same machine, same run.
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'scripts', 'othello_reference.py'), '--bench', String(peerGames)], {
      encoding: 'utf8',
    });
    const peer = JSON.parse(out.trim().split('\n').pop()!) as { gamesPerSec: number; labelPositionsPerSec: number };
    const ours = nGames / (genStats.median / 1000);
    h.record('peer-python-reference', {
      peerGames,
      peerGamesPerSec: Math.round(peer.gamesPerSec),
      peerBoardStatePositionsPerSec: Math.round(peer.labelPositionsPerSec),
      generateSpeedup: +(ours / peer.gamesPerSec).toFixed(1),
      boardStateLabelSpeedup: +(boardStatePerSec / peer.labelPositionsPerSec).toFixed(1),
    });
  } catch (err) {
    h.record('peer-python-reference', { skipped: `python peer failed: ${(err as Error).message.split('\n')[0]}` });
  }
}
