/**
 * Supervised evaluation throughput (src/eval) and the database writes of `saeboard eval`.
 *
 * Cases (real BSP labels from random legal games, synthetic SAE activations of the paper's shape:
 * F features, L0 ≈ --l0 active per position, part of them aligned with a BSP cell):
 *  - chess: every chess family (23 functions, 2,896 BSPs) × 11 thresholds, 1000 D_train games ×
 *    20 dots = 20,000 positions (+ 20,000 D_test for reconstruction), F = 4096. Goal < 20 s.
 *  - othello: board_state + valid_moves (192 + 64 BSPs), 1000 × 59 = 59,000 positions per split.
 *  - copy: feature_alignments rows/s through the binary COPY writer (goal ≥ 500,000 rows/s), the
 *    text COPY writer on the same rows, and one Othello SAE's feature_activations partition
 *    (rows/s, bytes per row incl. indexes, DROP time).
 * Peer (interleaved with ours, A, B, A, B, …, --reps each, default 5): the paper's own evaluation algorithm (dense einops-style tensors, 25 games × 25 features
 * per step, PyTorch on CPU) from scripts/eval-paper-peer.py, timed on a few steps in the same run
 * and extrapolated linearly to the full sizes (the code's cost is linear in steps).
 *
 * The chess case also times the dense alternative (0/1 GEMMs per threshold on the native matmul
 * kernels, one block extrapolated) that the sparse kernel replaces.
 *
 *   npm run bench -- eval [--features 4096] [--l0 100] [--reps 5] [--skip-copy] [--skip-peer] [--skip-gemm] [--games 1000]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { COMPARE_REPS, type Bench, type SideStats } from './harness.js';
import { adapterFor, chessRandomSource, othelloRandomSource, resolveFamilies, type GameAdapter } from '../src/games/dataset/index.js';
import type { BspFamily } from '../src/games/types.js';
import { CsrBuilder, FiringStats, evaluateSupervised, labelSetFromDense, type LabelSet, type SupervisedEvalResult } from '../src/eval/index.js';
import { copyBinary } from '../src/db/copy-binary.js';
import { copyRows } from '../src/db/copy.js';
import { withTransaction } from '../src/db/pool.js';
import { activationPartition, activationPartitionSize, dropFeatureActivations, ensureSaeCheckpoint, writeActivationPartition, writeAlignmentPartition } from '../src/db/repos/eval.js';
import { PROJECT_ROOT } from '../src/version.js';
import { initBackend, tf } from '../src/tensor/backend.js';
import { scratchDatabase } from './lib/scratch-db.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Label `games` token rows with `families` through the dataset adapter (as the dataset writer does). */
function labelGames(adapter: GameAdapter, families: BspFamily<never>[], games: Iterable<Uint8Array>, stride: number): LabelSet {
  const rows = [...games];
  const tokens = new Uint8Array(rows.length * stride);
  const lengths = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    tokens.set(r.subarray(0, stride), i * stride);
    lengths[i] = Math.min(stride, r.length);
  });
  const lab = adapter.label({ tokens, lengths, nGames: rows.length, stride, gameOffset: 0 }, families);
  return labelSetFromDense(families, lab.labels, lab.nPositions);
}

/**
 * Synthetic SAE activations for labelled positions: every feature watches one cell and fires
 * (value in [0.5, 2)) at a fraction of the positions where it is true; the rest of the L0 budget is
 * background firing (value in [0, 1)). Roughly L0 active features per position.
 */
function syntheticActivations(labels: LabelSet, F: number, l0: number, seed: number) {
  const rand = rng(seed);
  const cells = labels.totalCells;
  const watched = new Int32Array(F);
  for (let f = 0; f < F; f++) watched[f] = Math.floor(rand() * cells);
  const byCell: number[][] = Array.from({ length: cells }, () => []);
  for (let f = 0; f < F; f++) byCell[watched[f]].push(f);
  const meanTrue = labels.cells.length / labels.positions;
  const alignedRate = Math.min(1, (l0 / 2) / Math.max(1, (meanTrue * F) / cells));
  const background = l0 / 2;
  const b = new CsrBuilder(F, labels.positions, labels.positions * (l0 + 8));
  const vals = new Map<number, number>();
  for (let p = 0; p < labels.positions; p++) {
    vals.clear();
    for (let q = labels.ptr[p]; q < labels.ptr[p + 1]; q++) for (const f of byCell[labels.cells[q]]) if (rand() < alignedRate) vals.set(f, 0.5 + 1.5 * rand());
    for (let k = 0; k < background; k++) {
      const f = Math.floor(rand() * F);
      if (!vals.has(f)) vals.set(f, rand());
    }
    const fs = [...vals.keys()].sort((x, y) => x - y);
    b.appendSparseRow(fs, fs.map((f) => vals.get(f)!));
  }
  return b.finish();
}

function familySummary(r: SupervisedEvalResult) {
  const board = r.families.find((f) => f.group === 'board_state')!;
  return {
    boardCoverage: +board.coverage.coverage.toFixed(4),
    boardReconstruction: +(board.reconstruction?.reconstruction ?? 0).toFixed(4),
    strategyCoverage: r.strategy ? +r.strategy.coverage.toFixed(4) : null,
    alignmentRows: r.train.alignments.length,
    labels: r.train.labelCount.reduce((a, b) => a + b, 0),
  };
}

/**
 * The dense alternative the sparse kernel replaces: TP[t] = A_tᵀ·G as 0/1 GEMMs on the native
 * matmul backend, one (positions × 256 features)ᵀ(positions × cells) block timed and extrapolated to
 * 11 thresholds × F/256 blocks (the work is exactly linear in blocks).
 */
async function gemmAlternative(h: Bench, positions: number, cells: number, F: number): Promise<{ blockMs: number; extrapolatedSeconds: number; gflops: number }> {
  await initBackend();
  const block = 256;
  const a = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([positions, block]), 0.98), 'float32'));
  const g = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([positions, cells]), 0.9), 'float32'));
  const stats = await h.time(
    () => {
      const tp = tf.matMul(a, g, true, false);
      tp.dataSync();
      tp.dispose();
    },
    { reps: 2, warmup: 1 },
  );
  tf.dispose([a, g]);
  const flop = 2 * positions * block * cells;
  return { blockMs: stats.median, extrapolatedSeconds: (stats.median / 1000) * 11 * Math.ceil(F / block), gflops: flop / (stats.median / 1000) / 1e9 };
}

interface PeerTiming {
  statsSecondsPerStep: number;
  reconSecondsPerStep: number;
  statsSeconds: number;
  reconSeconds: number;
  totalSeconds: number;
  steps: number;
}

function paperPeer(h: Bench, args: { familyCells: number[]; positionsPerGame: number; games: number; features: number }): PeerTiming | null {
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      [
        path.join(PROJECT_ROOT, 'scripts', 'eval-paper-peer.py'),
        '--family-cells',
        args.familyCells.join(','),
        '--positions-per-game',
        String(args.positionsPerGame),
        '--games',
        String(args.games),
        '--features',
        String(args.features),
      ],
      { encoding: 'utf8', timeout: 600_000, env: { ...process.env, OMP_NUM_THREADS: '2' } },
    );
    return JSON.parse(out.trim().split('\n').pop()!) as PeerTiming;
  } catch (err) {
    h.record('peer-unavailable', { error: (err as Error).message.split('\n')[0] });
    return null;
  }
}

export default async function evalBench(h: Bench): Promise<void> {
  const F = Number(h.option('features', '4096'));
  const l0 = Number(h.option('l0', '100'));
  const reps = Number(h.option('reps', String(COMPARE_REPS)));
  const games = Number(h.option('games', '1000'));
  const skipCopy = h.args.includes('--skip-copy');
  const skipPeer = h.args.includes('--skip-peer');

  const cases: { name: string; game: 'chess' | 'othello'; families: string; stride: number }[] = [
    { name: 'chess-all-families', game: 'chess', families: 'all', stride: 256 },
    { name: 'othello-board-valid', game: 'othello', families: 'board_state,valid_moves', stride: 60 },
  ];
  let othelloResult: { result: SupervisedEvalResult; test: ReturnType<typeof syntheticActivations> } | null = null;
  let chessRows: SupervisedEvalResult | null = null;
  for (const c of cases) {
    const adapter = adapterFor(c.game);
    const families = resolveFamilies(adapter, c.families);
    const source = (seed: number) =>
      c.game === 'chess' ? chessRandomSource({ games, seed, minChars: 256 }).games : othelloRandomSource({ games, seed, minMoves: 59 }).games;
    const t0 = performance.now();
    const trainLabels = labelGames(adapter, families, source(11) as Iterable<Uint8Array>, c.stride);
    const testLabels = labelGames(adapter, families, source(12) as Iterable<Uint8Array>, c.stride);
    const train = syntheticActivations(trainLabels, F, l0, 1);
    const test = syntheticActivations(testLabels, F, l0, 2);
    const fire = new FiringStats(F);
    fire.addCsr(train);
    const maxima = fire.finish();
    const setupMs = performance.now() - t0;
    let last: SupervisedEvalResult | null = null;
    const ours = () => {
      last = evaluateSupervised({ maxima, train: { activations: train, labels: trainLabels }, test: { activations: test, labels: testLabels } });
    };
    const peerArgs = {
      familyCells: trainLabels.families.map((f) => f.cells),
      positionsPerGame: c.game === 'chess' ? 20 : 59,
      games,
      features: F,
    };
    // one warm-up round; a peer that cannot run is recorded once and left out
    ours();
    let peer = skipPeer ? null : paperPeer(h, peerArgs);
    let stats: SideStats;
    let peerStats: SideStats | null = null;
    let load: Record<string, unknown> = {};
    if (peer) {
      // ours and the peer interleaved (A, B, A, B, …); the peer's sample is its extrapolated total
      const cmp = await h.compare(
        [
          { name: 'saeboard', step: ours },
          {
            name: 'paper-code',
            step: () => {
              const p = paperPeer(h, peerArgs);
              if (!p) throw new Error('the paper-code peer stopped working');
              peer = p;
              return p.totalSeconds * 1000;
            },
          },
        ],
        { reps, warmup: 0 },
      );
      stats = cmp.sides.saeboard;
      peerStats = cmp.sides['paper-code'];
      load = { order: 'interleaved', load1Before: cmp.load1Before, load1After: cmp.load1After, loaded: cmp.loaded };
    } else {
      stats = await h.time(ours, { reps, warmup: 0 });
    }
    const r = last! as SupervisedEvalResult;
    const nnzTrain = train.indptr[train.positions];
    const gemm = c.game === 'chess' && !h.args.includes('--skip-gemm') ? await gemmAlternative(h, trainLabels.positions, trainLabels.totalCells, F) : null;
    h.record(c.name, {
      features: F,
      bsps: trainLabels.totalCells,
      families: trainLabels.families.length,
      thresholds: 11,
      trainPositions: trainLabels.positions,
      testPositions: testLabels.positions,
      meanL0: +(nnzTrain / train.positions).toFixed(1),
      trueCellsPerPosition: +(trainLabels.cells.length / trainLabels.positions).toFixed(1),
      medianMs: Math.round(stats.median),
      minMs: Math.round(stats.min),
      spread: stats.spread,
      reps: stats.reps,
      phasesMs: Object.fromEntries(Object.entries(r.timingsMs).map(([k, v]) => [k, Math.round(v)])),
      setupMs: Math.round(setupMs),
      ...familySummary(r),
      peerPaperCodeSeconds: peerStats ? Math.round(peerStats.median / 1000) : null,
      peerPaperCodeMinSeconds: peerStats ? Math.round(peerStats.min / 1000) : null,
      peerSpread: peerStats?.spread ?? null,
      peerPaperStatsSeconds: peer ? Math.round(peer.statsSeconds) : null,
      peerPaperReconSeconds: peer ? Math.round(peer.reconSeconds) : null,
      peerMeasuredSteps: peer?.steps ?? null,
      // ratio of the medians, interleaved in this run
      speedupVsPaperCode: peerStats ? Math.round(peerStats.median / stats.median) : null,
      denseGemmCountsSeconds: gemm ? +gemm.extrapolatedSeconds.toFixed(1) : null,
      denseGemmGflops: gemm ? +gemm.gflops.toFixed(1) : null,
      ...load,
    });
    if (c.game === 'othello') othelloResult = { result: r, test };
    else chessRows = r;
  }

  if (skipCopy) return;
  const db = await scratchDatabase();
  try {
    // 1. feature_alignments: the chess case's rows, repeated up to ≥ 1M rows over several checkpoints
    const a = chessRows!.train.alignments;
    const perCkpt = a.length;
    const copies = Math.max(1, Math.ceil(1_000_000 / perCkpt)); // ≥ 1M rows, over several checkpoints
    const bsp = await db.pool.query<{ id: number }>(
      `INSERT INTO board_properties (game, family, short_name, family_group, cell_index, row_index, col_index, class_index, class_name, name)
       SELECT 'chess', 'bench', 'bench', 'other', g, 0, 0, 0, 'x', 'x' FROM generate_series(0, ${chessRows!.train.totalCells - 1}) g RETURNING id`,
    );
    const bspIds = Int32Array.from(bsp.rows.map((r) => r.id));
    const ckpts: number[] = [];
    for (let i = 0; i < copies + 1; i++) {
      ckpts.push(
        await ensureSaeCheckpoint(db.pool, {
          game: 'chess',
          lm: { name: 'bench-lm', config: {}, configHash: 'bench', origin: 'random-init', path: '/bench/lm', step: 0 },
          sae: { name: `bench-${i}`, layer: 5, site: 'resid_post', trainer: 'standard', dictionary: 'relu', dIn: 512, dSae: F, hyperparameters: {}, configHash: `bench-${i}`, path: `/bench/sae-${i}`, step: 0, codeVersion: 'bench' },
        }),
      );
    }
    const fp = Int32Array.from({ length: perCkpt }, (_, i) => a.onCount[i] - a.tp[i]);
    const fn = Int32Array.from({ length: perCkpt }, (_, i) => a.truthCount[i] - a.tp[i]);
    const bspCol = Int32Array.from({ length: perCkpt }, (_, i) => bspIds[a.cell[i]]);
    const thresholdCol = Float32Array.from(a.thresholdIndex.subarray(0, perCkpt), (t) => t / 10);
    const payload = { count: perCkpt, feature: a.feature, bspId: bspCol, thresholdIndex: a.thresholdIndex, tp: a.tp, fp, fn, precision: a.precision, recall: a.recall, f1: a.f1 };
    const names = ['sae_checkpoint_id', 'feature_index', 'bsp_id', 'threshold_index', 'threshold', 'tp', 'fp', 'fn', 'precision', 'recall', 'f1'];
    const bare = (ck: number) => `bench_bare_${ck}`;
    const resetBare = async (client: import('pg').PoolClient, ck: number) => {
      await client.query(`DROP TABLE IF EXISTS ${bare(ck)}`);
      await client.query(`CREATE TABLE ${bare(ck)} (LIKE feature_alignments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    };
    // (a) the COPY alone, binary vs text, into bare tables (what the wire + server parsing cost)
    const binary = await h.time(
      () =>
        withTransaction(db.pool, async (client) => {
          for (let k = 0; k < copies; k++) {
            await resetBare(client, ckpts[k]);
            await copyBinary(
              client,
              bare(ckpts[k]),
              names.map((name, j) => ({
                name,
                type: (['int8', 'int4', 'int4', 'int2', 'float4', 'int4', 'int4', 'int4', 'float4', 'float4', 'float4'] as const)[j],
                values: [ckpts[k], a.feature, bspCol, a.thresholdIndex, thresholdCol, a.tp, fp, fn, a.precision, a.recall, a.f1][j],
              })),
              perCkpt,
            );
          }
        }),
      { reps: 3, warmup: 1 },
    );
    const text = await h.time(
      () =>
        withTransaction(db.pool, async (client) => {
          for (let k = 0; k < copies; k++) {
            const ck = ckpts[k];
            await resetBare(client, ck);
            await copyRows(
              client,
              bare(ck),
              names,
              (function* () {
                for (let i = 0; i < perCkpt; i++) yield [ck, a.feature[i], bspCol[i], a.thresholdIndex[i], a.thresholdIndex[i] / 10, a.tp[i], fp[i], fn[i], a.precision[i], a.recall[i], a.f1[i]];
              })(),
            );
          }
        }),
      { reps: 2, warmup: 0 },
    );
    // (b) the writer's whole path: COPY + primary key + 2 indexes + ATTACH (foreign keys checked)
    const full = await h.time(
      () =>
        withTransaction(db.pool, async (client) => {
          for (let k = 0; k < copies; k++) await writeAlignmentPartition(client, ckpts[k], payload);
        }),
      { reps: 3, warmup: 1 },
    );
    // (c) the peer design: one plain table with its 3 btrees and 2 foreign keys maintained per row
    await db.pool.query(`CREATE TABLE bench_plain_alignments (LIKE feature_alignments INCLUDING ALL,
      FOREIGN KEY (sae_checkpoint_id) REFERENCES sae_checkpoints (id), FOREIGN KEY (bsp_id) REFERENCES board_properties (id))`);
    const plainRows = Math.min(perCkpt, 200_000);
    const plain = await h.time(
      () =>
        withTransaction(db.pool, async (client) => {
          await client.query('TRUNCATE bench_plain_alignments');
          await copyBinary(
            client,
            'bench_plain_alignments',
            names.map((name, j) => ({
              name,
              type: (['int8', 'int4', 'int4', 'int2', 'float4', 'int4', 'int4', 'int4', 'float4', 'float4', 'float4'] as const)[j],
              values: [ckpts[0], a.feature, bspCol, a.thresholdIndex, thresholdCol, a.tp, fp, fn, a.precision, a.recall, a.f1][j],
            })),
            plainRows,
          );
        }),
      { reps: 1, warmup: 0 },
    );
    const rows = perCkpt * copies;
    h.record('copy-feature-alignments', {
      server: db.server,
      rows,
      rowsPerCheckpoint: perCkpt,
      binaryCopyRowsPerSec: Math.round(rows / (binary.median / 1000)),
      textCopyRowsPerSec: Math.round(rows / (text.median / 1000)),
      binaryVsText: +(text.median / binary.median).toFixed(2),
      writerRowsPerSec: Math.round(rows / (full.median / 1000)),
      writerMedianMs: Math.round(full.median),
      plainTableRowsPerSec: Math.round(plainRows / (plain.median / 1000)),
      writerVsPlainTable: +(rows / (full.median / 1000) / (plainRows / (plain.median / 1000))).toFixed(1),
    });

    // 2. feature_activations: one Othello SAE's non-zero activations on both splits
    const { test } = othelloResult!;
    const n = test.indptr[test.positions];
    const positionKey = new Int32Array(n);
    for (let p = 0; p < test.positions; p++) positionKey.fill(Math.floor(p / 59) * 1024 + (p % 59), test.indptr[p], test.indptr[p + 1]);
    const ck = ckpts[copies];
    const ingest = await h.time(
      () => withTransaction(db.pool, (client) => writeActivationPartition(client, ck, { count: n, positionKey, feature: test.indices, value: test.values })),
      { reps: 2, warmup: 0 },
    );
    const copyOnly = await h.time(
      () =>
        withTransaction(db.pool, async (client) => {
          await client.query(`DROP TABLE IF EXISTS ${activationPartition(ck)}`);
          await client.query(`CREATE TABLE ${activationPartition(ck)} PARTITION OF feature_activations FOR VALUES IN (${ck})`);
          await copyBinary(
            client,
            activationPartition(ck),
            [
              { name: 'sae_checkpoint_id', type: 'int4', values: ck },
              { name: 'position_key', type: 'int4', values: positionKey },
              { name: 'feature_index', type: 'int4', values: test.indices },
              { name: 'value', type: 'float4', values: test.values },
            ],
            n,
          );
        }),
      { reps: 2, warmup: 0 },
    );
    await withTransaction(db.pool, (client) => writeActivationPartition(client, ck, { count: n, positionKey, feature: test.indices, value: test.values }));
    await db.pool.query(`VACUUM ANALYZE ${activationPartition(ck)}`);
    const size = await activationPartitionSize(db.pool, ck);
    const q0 = performance.now();
    const where = await db.pool.query(`SELECT position_key, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND feature_index = 7 ORDER BY value DESC LIMIT 20`, [ck]);
    const q1 = performance.now();
    const what = await db.pool.query(`SELECT feature_index, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND position_key = $2`, [ck, 500 * 1024 + 30]);
    const q2 = performance.now();
    const d0 = performance.now();
    await dropFeatureActivations(db.pool, ck);
    const dropMs = performance.now() - d0;
    h.record('feature-activations-partition', {
      server: db.server,
      rows: n,
      positions: test.positions,
      meanL0: +(n / test.positions).toFixed(1),
      ingestWithIndexesMs: Math.round(ingest.median),
      ingestRowsPerSec: Math.round(n / (ingest.median / 1000)),
      copyOnlyRowsPerSec: Math.round(n / (copyOnly.median / 1000)),
      heapBytesPerRow: +(size.heapBytes / n).toFixed(1),
      indexBytesPerRow: +(size.indexBytes / n).toFixed(1),
      totalBytesPerRow: +((size.heapBytes + size.indexBytes) / n).toFixed(1),
      projected240MRowsGiB: +(((size.heapBytes + size.indexBytes) / n) * 240e6 / 2 ** 30).toFixed(1),
      whereFeatureFiresMs: +(q1 - q0).toFixed(2),
      whereRows: where.rowCount,
      whatFiresAtPositionMs: +(q2 - q1).toFixed(2),
      whatRows: what.rowCount,
      dropPartitionMs: +dropMs.toFixed(1),
    });
  } finally {
    await db.close();
  }
}
