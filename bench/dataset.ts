/**
 * Dataset layer throughput, single core: end-to-end `games generate` (generate + label + bit-pack
 * + sha256 + write) for Othello and chess, and reading back (verify + decode + unpack labels).
 * Peer for reading: numpy via scripts/read_dataset.py (parse + sha256 + frombuffer + unpackbits,
 * bench/peers/numpy_read_dataset_peer.py), interleaved with ours (A, B, A, B, …, --reps each,
 * default 5) on the same files.
 *
 *   npm run bench -- dataset [--games 20000] [--chess-games 100] [--reps 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMPARE_REPS, loadFields, sideSummary, type Bench } from './harness.js';
import { startPythonPeer } from './lib/peer.js';
import { adapterFor, chessRandomSource, openDataset, othelloRandomSource, resolveFamilies, writeDataset } from '../src/games/dataset/index.js';
import { PROJECT_ROOT } from '../src/version.js';

export default async function datasetBench(h: Bench): Promise<void> {
  const nGames = Number(h.option('games', '20000'));
  const nChess = Number(h.option('chess-games', '100'));
  const reps = Number(h.option('reps', String(COMPARE_REPS)));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-ds-'));
  try {
    const oth = adapterFor('othello');
    for (const [label, spec, n] of [
      ['default', 'default', nGames],
      ['all', 'all', Math.max(1, Math.floor(nGames / 4))],
    ] as const) {
      const out = path.join(tmp, `othello-${label}`);
      const families = resolveFamilies(oth, spec);
      const t0 = performance.now();
      const m = await writeDataset({ out, adapter: oth, families, source: othelloRandomSource({ games: n, seed: 1, minMoves: 59 }), showProgress: false });
      const s = (performance.now() - t0) / 1000;
      const bytes = m.shards.reduce((a, x) => a + x.bytes, 0);
      h.record(`write-othello-${label}`, {
        games: n,
        families: families.map((f) => f.shortName),
        positions: m.counts.positions,
        shards: m.shards.length,
        MiB: +(bytes / 2 ** 20).toFixed(1),
        seconds: +s.toFixed(2),
        gamesPerSec: Math.round(n / s),
        positionsPerSec: Math.round(m.counts.positions / s),
      });
    }

    // Read back the default dataset: verify sha256, decode, unpack board_state; the numpy peer
    // (bench/peers/numpy_read_dataset_peer.py) does the same on the same files, interleaved.
    const dir = path.join(tmp, 'othello-default');
    let lastLabels: Uint8Array | null = null;
    const read = async () => {
      const ds = await openDataset(dir);
      let n = 0;
      for await (const shard of ds.shards()) {
        lastLabels = shard.labels('board_state');
        n += lastLabels.length / 192;
      }
      return n;
    };
    const positions = await read();
    const started = await startPythonPeer(path.join(PROJECT_ROOT, 'bench', 'peers', 'numpy_read_dataset_peer.py'), [], '/usr/bin/python3 with numpy');
    const peer = started.peer;
    try {
      let peerRead: Record<string, unknown> = {};
      if (peer) await peer.setup({ dir, family: 'board_state', cells: 192 });
      const cmp = peer
        ? await h.compare(
            [
              // (void: a number returned by a step would be taken as its own timing)
              { name: 'saeboard', step: async () => void (await read()) },
              {
                name: 'numpy',
                step: async () => {
                  peerRead = await peer.request({ step: true });
                  return peerRead.ms as number;
                },
              },
            ],
            { reps, warmup: 1 },
          )
        : null;
      if (cmp) {
        const ourSum = (lastLabels as Uint8Array | null)?.reduce((x, y) => x + y, 0) ?? 0;
        if (peerRead.positions !== positions || peerRead.lastShardLabelSum !== ourSum) {
          throw new Error(`saeboard and numpy read differently: ${positions} positions, label sum ${ourSum} vs ${JSON.stringify(peerRead)}`);
        }
      }
      const st = cmp ? cmp.sides.saeboard : await h.time(async () => void (await read()), { reps });
      const np = cmp?.sides.numpy;
      h.record('read-othello-verify-unpack', {
        positions,
        medianMs: st.median,
        positionsPerSec: Math.round(positions / (st.median / 1000)),
        ...(cmp && np
          ? {
              saeboard: sideSummary(st),
              numpy: sideSummary(np),
              numpyReadSeconds: +(np.median / 1000).toFixed(3),
              // ours / numpy, ratio of the medians: > 1 means numpy is faster
              ratioVsNumpy: +(st.median / np.median).toFixed(2),
              order: 'interleaved',
              ...loadFields(cmp),
            }
          : { saeboard: sideSummary(st), numpySkipped: started.error }),
      });
    } finally {
      await peer?.close();
    }

    // Chess: random legal games, the paper's reported families (board state + 14 strategy concepts).
    const ch = adapterFor('chess');
    const chFamilies = resolveFamilies(ch, 'default');
    const t0 = performance.now();
    const m = await writeDataset({
      out: path.join(tmp, 'chess'),
      adapter: ch,
      families: chFamilies,
      source: chessRandomSource({ games: nChess, seed: 1, minChars: 256 }),
      showProgress: false,
    });
    const s = (performance.now() - t0) / 1000;
    h.record('write-chess-random-default', {
      games: nChess,
      families: chFamilies.length,
      positions: m.counts.positions,
      seconds: +s.toFixed(2),
      gamesPerSec: +(nChess / s).toFixed(1),
      positionsPerSec: Math.round(m.counts.positions / s),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
