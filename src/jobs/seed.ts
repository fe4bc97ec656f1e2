/**
 * What `saeboard serve` puts in a database before serving: the BSP catalogue of every game and the
 * LMs shipped in models/ (with their random-init twins). Idempotent — registering twice changes
 * nothing — so it runs at every start and a fresh install answers with real content at once.
 */
import path from 'node:path';
import type pg from 'pg';
import { initBackend } from '../tensor/backend.js';
import { log } from '../log.js';
import { registerBspCatalogue } from './datasets.js';
import { registerShippedModels } from './lm.js';

export interface SeedResult {
  bsp: Record<string, { families: number; properties: number }>;
  models: string[];
}

export async function seedDatabase(pool: pg.Pool): Promise<SeedResult> {
  const t0 = Date.now();
  await initBackend(); // registering an LM checkpoint loads it through tfjs
  const bsp = await registerBspCatalogue(pool);
  const models = (await registerShippedModels(pool)).map((m) => m.name);
  log.info({ ms: Date.now() - t0, bsp, models }, 'database seeded (BSP catalogue, shipped models)');
  return { bsp, models };
}

/** The first-start pipeline's sizes: small enough for a 2-core machine to show results in a minute or two. */
export interface SeedSize {
  evalGames: number;
  trainGames: number;
  steps: number;
  batchSize: number;
  expansion: number;
}

export const SEED_SIZES: Record<'tiny' | 'default', SeedSize> = {
  tiny: { evalGames: 24, trainGames: 40, steps: 40, batchSize: 64, expansion: 2 },
  default: { evalGames: 100, trainGames: 300, steps: 300, batchSize: 128, expansion: 4 },
};

const SHIPPED: Record<'othello' | 'chess', { trained: string; random: string }> = {
  othello: { trained: 'othello-small', random: 'othello-small-random' },
  chess: { trained: 'chess-small', random: 'chess-small-random' },
};

/**
 * The seed as queued jobs: an evaluation dataset and a training dataset; activations of the
 * shipped LM and of its random-init twin (block ¾ deep, like the paper's layer 5 of 8); a sweep of
 * standard, p-annealing, gated and top-k SAEs (two sparsities each) on each; every kept checkpoint
 * evaluated (unsupervised metrics, coverage, board reconstruction, alignments, examples). The
 * trained LM's chain comes first so its results show up first.
 */
export function seedStages(home: string, game: 'othello' | 'chess', size: SeedSize, nLayer = 4): import('./queue.js').StageInput[] {
  const root = path.join(home, 'seed', game);
  const layer = Math.max(0, Math.round(0.75 * nLayer) - 1);
  const evalData = path.join(root, 'data', 'eval');
  const trainData = path.join(root, 'data', 'train');
  const stages: import('./queue.js').StageInput[] = [
    {
      kind: 'GENERATE_DATASET',
      stage: 'evaluation games',
      config: { game, games: size.evalGames, seed: 11, testFraction: 0.5, families: 'default', out: evalData, name: `seed-${game}-eval`, ...(game === 'othello' ? { minMoves: 59 } : {}) },
    },
    {
      kind: 'GENERATE_DATASET',
      stage: 'training games',
      config: { game, games: size.trainGames, seed: 12, testFraction: 0.05, families: 'none', out: trainData, name: `seed-${game}-train` },
    },
  ];
  const penalties = game === 'othello' ? { standard: [0.035, 0.08], p_anneal: [0.025, 0.05], gated: [1.0, 2.0] } : { standard: [0.03, 0.1], p_anneal: [0.02, 0.08], gated: [0.15, 1.0] };
  let previous = -1; // the random-init twin's chain waits for the trained LM's final results
  for (const which of ['trained', 'random'] as const) {
    const model = SHIPPED[game][which];
    const acts = path.join(root, 'activations', model);
    const sweepDir = path.join(root, 'sweeps', model);
    const a =
      stages.push({ kind: 'COLLECT_ACTIVATIONS', stage: `activations of ${model}`, config: { model, dataset: trainData, layer, split: 'all', out: acts }, dependsOn: previous < 0 ? [1] : [1, previous] }) - 1;
    const s =
      stages.push({
        kind: 'TRAIN_SAE_SWEEP',
        stage: `SAE sweep on ${model}`,
        config: {
          out: sweepDir,
          sweep: {
            name: `seed-${model}`,
            batchSize: size.batchSize,
            source: { type: 'activations', path: acts, repeat: true },
            defaults: { steps: size.steps, warmupSteps: Math.max(1, Math.round(size.steps / 20)), expansion: size.expansion },
            checkpoints: { logSpaced: false, steps: [Math.round(size.steps / 16), Math.round(size.steps / 4)] },
            trainers: [
              ...penalties.standard.map((l1Penalty) => ({ trainer: 'standard', l1Penalty })),
              ...penalties.p_anneal.map((initialSparsityPenalty) => ({ trainer: 'p_anneal', initialSparsityPenalty })),
              ...penalties.gated.map((l1Penalty) => ({ trainer: 'gated', l1Penalty })),
              { trainer: 'top_k', k: 8 },
              { trainer: 'top_k', k: 32 },
            ],
          },
        },
        dependsOn: [a],
      }) - 1;
    // Final checkpoints first (the leaderboard), then the intermediate ones (metrics over training).
    const e =
      stages.push({
        kind: 'EVALUATE',
        stage: `evaluation of the SAEs on ${model}`,
        config: { saes: [sweepDir], checkpoints: 'final', dataset: evalData, activations: acts, maxSampleGames: size.evalGames },
        dependsOn: [0, s],
      }) - 1;
    previous = e;
    if (which === 'trained') {
      // The ceiling of the leaderboard: linear probes of the board state at every block.
      stages.push({ kind: 'PROBE', stage: `linear probes of ${model}`, config: { model, dataset: evalData, maxTrain: 20 * size.evalGames, maxTest: 20 * size.evalGames }, dependsOn: [e] });
    }
    stages.push({
      kind: 'EVALUATE',
      stage: `evaluation of the training checkpoints on ${model}`,
      config: { saes: [sweepDir], checkpoints: 'intermediate', dataset: evalData, activations: acts, maxSampleGames: size.evalGames },
      dependsOn: [e],
    });
  }
  return stages;
}

/**
 * Queue the seed pipeline once per database (the first caller wins; later starts skip it).
 * `force` queues it again. Returns the jobs queued, or null when it was queued before.
 */
export async function queueSeed(
  queue: import('./queue.js').Queue | null,
  pool: pg.Pool,
  opts: { home: string; game?: 'othello' | 'chess'; size?: SeedSize; force?: boolean },
): Promise<import('../db/repos/jobs.js').JobRow[] | null> {
  const { setSettingOnce } = await import('../db/repos/jobs.js');
  const { submitPipeline } = await import('./queue.js');
  const game = opts.game ?? 'othello';
  const key = `seed:${game}`;
  if (!(await setSettingOnce(pool, key, { at: new Date().toISOString() })) && !opts.force) return null;
  const name = `seed-${game}-${Date.now().toString(36)}`;
  const rows = await submitPipeline(queue, pool, name, seedStages(opts.home, game, opts.size ?? SEED_SIZES.default), { force: opts.force });
  log.info({ pipeline: name, jobs: rows.length }, 'seed pipeline queued');
  return rows;
}
