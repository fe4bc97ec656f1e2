/**
 * Dataset layer throughput, single core: end-to-end `games generate` (generate + label + bit-pack
 * + sha256 + write) for Othello and chess, and reading back (verify + decode + unpack labels).
 * Peer for reading: numpy via scripts/read_dataset.py (parse + sha256 + frombuffer), same run.
 *
 *   npm run bench -- dataset [--games 20000] [--chess-games 100]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './harness.js';
import { adapterFor, chessRandomSource, openDataset, othelloRandomSource, resolveFamilies, writeDataset } from '../src/games/dataset/index.js';
import { PROJECT_ROOT } from '../src/version.js';

export default async function datasetBench(h: Bench): Promise<void> {
  const nGames = Number(h.option('games', '20000'));
  const nChess = Number(h.option('chess-games', '100'));
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

    // Read back the default dataset: verify sha256, decode, unpack board_state.
    const dir = path.join(tmp, 'othello-default');
    const read = async () => {
      const ds = await openDataset(dir);
      let n = 0;
      for await (const shard of ds.shards()) {
        n += shard.labels('board_state').length / 192;
      }
      return n;
    };
    const positions = await read();
    const st = await h.time(read, { reps: 3 });
    let peer: Record<string, unknown> = {};
    try {
      const code = [
        'import sys, time, json, os',
        `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'scripts'))})`,
        'import numpy as np, read_dataset as r',
        `d = ${JSON.stringify(dir)}`,
        'm = json.load(open(os.path.join(d, "manifest.json")))',
        'best = 1e9',
        'for _ in range(3):',
        '    t = time.perf_counter()',
        '    for s in m["shards"]:',
        '        x, sha = r.load_safetensors(os.path.join(d, s["file"]))',
        '        assert sha == s["sha256"]',
        '        lab = r.unpack_labels(x["labels/board_state"], 192)',
        '    best = min(best, time.perf_counter() - t)',
        'print(best)',
      ].join('\n');
      const sec = Number(execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' }).trim());
      peer = { numpyReadSeconds: +sec.toFixed(3), ratioVsNumpy: +(st.median / 1000 / sec).toFixed(2) };
    } catch (err) {
      peer = { numpySkipped: (err as Error).message.split('\n')[0] };
    }
    h.record('read-othello-verify-unpack', {
      positions,
      medianMs: st.median,
      positionsPerSec: Math.round(positions / (st.median / 1000)),
      ...peer,
    });

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
