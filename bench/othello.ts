/**
 * Othello ground truth throughput, single core:
 *  - random legal games generated per second (uniform over get_valid_moves, passes folded in);
 *  - BSP labelling throughput (positions/s) from token rows, for the reported family alone, the
 *    paper's pipeline families, and every family; the 1M-positions target is < 30 s;
 *  - perft nodes/s.
 * Peer: the engine of scripts/othello_reference.py (a plain Python/numpy engine + per-position
 * one-hot labels, the style of the paper's code) through bench/peers/othello_reference_peer.py,
 * interleaved with ours (A, B, A, B, …, --reps each, default 5) on the same work per repetition:
 * --peer-games random games generated, and board_state labels of --peer-games token rows.
 *
 *   npm run bench -- othello [--games 20000] [--positions 1000000] [--peer-games 200] [--reps 5]
 */
import path from 'node:path';
import { COMPARE_REPS, loadFields, sideSummary, type Bench } from './harness.js';
import { startPythonPeer } from './lib/peer.js';
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
  const peerReps = Number(h.option('reps', String(COMPARE_REPS)));

  // 1. Generator.
  const buf = new Uint8Array(OTHELLO_MAX_MOVES);
  const gen = (minMoves: number, games = nGames) => {
    const g = new RandomOthelloGames({ seed: 1, minMoves });
    for (let i = 0; i < games; i++) g.next(buf);
    return g;
  };
  const gen0 = (games: number) => void gen(0, games);
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

  // 4. Peer: the Python reference (bench/peers/othello_reference_peer.py), interleaved with ours
  //    (A, B, A, B, …, --reps each): the same work per repetition on both sides — generate
  //    --peer-games random games; label board_state of the same --peer-games token rows (59 positions each).
  const peerRows = new Uint8Array(peerGames * 60);
  const gPeer = new RandomOthelloGames({ seed: 3, minMoves: 60 });
  for (let i = 0; i < peerGames; i++) {
    const n = gPeer.next(buf);
    for (let k = 0; k < n; k++) peerRows[i * 60 + k] = SQUARE_TO_TOKEN[buf[k]];
  }
  const started = await startPythonPeer(path.join(PROJECT_ROOT, 'bench', 'peers', 'othello_reference_peer.py'), [], '/usr/bin/python3 with numpy');
  if (!started.peer) {
    h.record('peer-python-reference', { skipped: `python peer failed: ${started.error}` });
    return;
  }
  const peer = started.peer;
  try {
    const rows = Array.from({ length: peerGames }, (_, i) => Array.from(peerRows.subarray(i * 60, i * 60 + 60)));
    await peer.setup({ tokens: rows, positions: 59 });
    const labelOut = [new Uint8Array(peerGames * 59 * boardStateFamily.cells)];
    let oursLabelled = { positions: 0, sum: 0 };
    let peerLabelled = { positions: 0, sum: 0 };
    let peerMoves = 0;
    const peerStep = async (req: Record<string, unknown>) => {
      const r = await peer.request(req);
      if (typeof r.ms !== 'number') throw new Error('the Python peer answered without "ms"');
      if (req.step === 'label') peerLabelled = { positions: Number(r.positions), sum: Number(r.labelSum) };
      else peerMoves = Number(r.moves);
      return r.ms;
    };
    const cmp = await h.compare(
      [
        { name: 'generate', step: () => gen0(peerGames) },
        { name: 'peer-generate', step: () => peerStep({ step: 'generate', games: peerGames, seed: 1 }) },
        {
          name: 'label',
          step: () => {
            const n = labelOthelloGames({ tokens: peerRows, nGames: peerGames, stride: 60 }, [boardStateFamily], { out: labelOut }).nPositions;
            oursLabelled = { positions: n, sum: 0 };
          },
        },
        { name: 'peer-label', step: () => peerStep({ step: 'label' }) },
      ],
      { reps: peerReps, warmup: 1 },
    );
    // both sides labelled the same rows alike (checked on the last repetition)
    oursLabelled.sum = labelOut[0].subarray(0, oursLabelled.positions * boardStateFamily.cells).reduce((a, x) => a + x, 0);
    if (oursLabelled.positions !== peerLabelled.positions || oursLabelled.sum !== peerLabelled.sum) {
      throw new Error(`ours and the Python peer labelled differently: ${JSON.stringify(oursLabelled)} vs ${JSON.stringify(peerLabelled)}`);
    }
    const s = cmp.sides;
    const positions = oursLabelled.positions;
    const perSec = (n: number, ms: number) => Math.round(n / (ms / 1000));
    h.record('peer-python-reference', {
      peerGames,
      peerPositions: positions,
      peerGamesPerSec: perSec(peerGames, s['peer-generate'].median),
      peerBoardStatePositionsPerSec: perSec(positions, s['peer-label'].median),
      oursGamesPerSec: perSec(peerGames, s.generate.median),
      oursBoardStatePositionsPerSec: perSec(positions, s.label.median),
      // ratio of the medians (peer / ours, same work per repetition): > 1 means ours is faster
      generateSpeedup: +(s['peer-generate'].median / s.generate.median).toFixed(1),
      boardStateLabelSpeedup: +(s['peer-label'].median / s.label.median).toFixed(1),
      generate: { ours: sideSummary(s.generate), peer: sideSummary(s['peer-generate']), peerMovesLastRep: peerMoves },
      label: { ours: sideSummary(s.label), peer: sideSummary(s['peer-label']) },
      order: 'interleaved',
      ...loadFields(cmp),
    });
  } catch (err) {
    h.record('peer-python-reference', { skipped: `python peer failed: ${(err as Error).message.split('\n')[0]}` });
  } finally {
    await peer.close();
  }
}
