import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPythonPeer } from '../../bench/lib/peer.js';
import { adapterFor, openDataset, othelloRandomSource, resolveFamilies, writeDataset } from '../../src/games/dataset/index.js';
import { RandomOthelloGames, SQUARE_TO_TOKEN, boardStateFamily, labelOthelloGames } from '../../src/games/othello/index.js';
import { PROJECT_ROOT } from '../../src/version.js';

// The benches' Python peers do the same work as our side, so their timings compare: here they are
// driven as the benches drive them and must compute what we compute.
function hasNumpy(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // the reference interpreter is part of the dev machine, not of CI necessarily
  }
}
const peerScript = (name: string) => path.join(PROJECT_ROOT, 'bench', 'peers', name);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-peers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.runIf(hasNumpy())('bench peers', () => {
  it('othello: the Python peer labels board_state of our token rows exactly as we do, and generates the games asked for', async () => {
    const games = 6;
    const buf = new Uint8Array(60);
    const tokens = new Uint8Array(games * 60);
    const g = new RandomOthelloGames({ seed: 3, minMoves: 60 });
    for (let i = 0; i < games; i++) {
      const n = g.next(buf);
      for (let k = 0; k < n; k++) tokens[i * 60 + k] = SQUARE_TO_TOKEN[buf[k]];
    }
    const ours = labelOthelloGames({ tokens, nGames: games, stride: 60 }, [boardStateFamily]);
    const { peer, error } = await startPythonPeer(peerScript('othello_reference_peer.py'));
    expect(error).toBeNull();
    try {
      const rows = Array.from({ length: games }, (_, i) => Array.from(tokens.subarray(i * 60, i * 60 + 60)));
      expect(await peer!.setup({ tokens: rows, positions: 59 })).toMatchObject({ ready: true, games });
      const labelled = await peer!.request({ step: 'label' });
      expect(labelled.positions).toBe(games * 59);
      expect(ours.nPositions).toBe(games * 59);
      expect(labelled.labelSum).toBe(ours.labels[0].reduce((a, x) => a + x, 0));
      expect(labelled.ms).toBeGreaterThan(0);
      const generated = await peer!.request({ step: 'generate', games: 3, seed: 1 });
      expect(generated.games).toBe(3);
      expect(generated.moves).toBeGreaterThanOrEqual(3 * 9); // the shortest Othello game has 9 moves
      await expect(peer!.request({ step: 'nonsense-is-hello' })).resolves.toMatchObject({ ok: true });
    } finally {
      await peer!.close();
    }
  });

  it('dataset: the numpy peer reads, verifies and unpacks the same shards as our reader', async () => {
    const out = path.join(tmp, 'ds');
    const oth = adapterFor('othello');
    await writeDataset({ out, adapter: oth, families: resolveFamilies(oth, 'default'), source: othelloRandomSource({ games: 120, seed: 1, minMoves: 59 }), showProgress: false, shardGames: 50 });
    let positions = 0;
    let last: Uint8Array = new Uint8Array(0);
    for await (const shard of (await openDataset(out)).shards()) {
      last = shard.labels('board_state');
      positions += last.length / 192;
    }
    const { peer, error } = await startPythonPeer(peerScript('numpy_read_dataset_peer.py'));
    expect(error).toBeNull();
    try {
      expect(await peer!.setup({ dir: out, family: 'board_state', cells: 192 })).toMatchObject({ ready: true });
      const r = await peer!.request({ step: true });
      expect(r.positions).toBe(positions);
      expect(r.lastShardLabelSum).toBe(last.reduce((a, x) => a + x, 0));
      // a dataset it cannot read is an error answer, not a timing
      await expect(peer!.setup({ dir: path.join(tmp, 'missing'), family: 'board_state', cells: 192 })).rejects.toThrow(/FileNotFoundError/);
    } finally {
      await peer!.close();
    }
  });
});
