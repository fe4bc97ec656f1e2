/**
 * The paper's reproduction as one pipeline of queued jobs (issue 16): per game, an evaluation
 * dataset (D_train + D_test) and a training dataset; activations of the shipped trained LM and of
 * its random-init twin at the paper's depth (block 5 of 8 = round(¾·n_layer) − 1); sweeps of the
 * paper's trainers over their penalty ranges (trainers.md §6) at two dictionary sizes; every SAE
 * and its log-spaced checkpoints evaluated (unsupervised metrics with loss recovered, coverage,
 * board reconstruction, the chess strategy concepts); linear probes at every block as the ceiling.
 *
 * Resumable: re-running queues the same configs, and every stage that already succeeded is reused
 * (the queue's config-hash reuse); a half-done sweep resumes from its last resume point.
 * `docs/reproduction.md` is then written from the database by `npm run report`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { UserInputError } from '../errors.js';
import { log } from '../log.js';
import { adapterFor, resolveFamilies } from '../games/dataset/index.js';
import { resolveModelPath } from '../lm/models.js';
import { PAPER_RANGES } from '../sae/sweepConfig.js';
import type { JobRow } from '../db/repos/jobs.js';
import { submitPipeline, type Queue, type StageInput } from './queue.js';

export type ReproGame = 'othello' | 'chess';

/** The LMs the reproduction reads: the shipped ones that know the board, and their random-init twins. */
export const REPRO_MODELS: Record<ReproGame, { trained: string; random: string }> = {
  othello: { trained: 'othello-board', random: 'othello-board-random' },
  chess: { trained: 'chess-small', random: 'chess-small-random' },
};

/** The paper's trainers (trainer registry names, src/sae/trainers). */
export const REPRO_TRAINERS = ['standard', 'p_anneal', 'gated', 'gated_anneal', 'top_k'] as const;
/** The paper trained only Standard SAEs on the random-init LMs (models.md §4). */
export const RANDOM_INIT_TRAINERS = ['standard'] as const;

export interface ReproScale {
  /** What the scale is called (sweep and pipeline names carry it). */
  label: string;
  /** Games of the evaluation dataset (half D_train, half D_test). */
  evalGames: number;
  /** Games whose activations the SAEs train on (and the unsupervised metrics sample). */
  trainGames: Record<ReproGame, number>;
  /** Training steps and batch (tokens = steps × batch). */
  steps: number;
  batchSize: number;
  /** Penalty values per trainer (linspace over the paper's range) or k values for top-k. */
  perTrainer: number;
  /** Two dictionary sizes (expansion factors); the paper's are 8 and 16. */
  expansions: [number, number];
  /** Intermediate checkpoints kept per SAE, log-spaced (steps/4^i); the paper's code keeps powers of 2. */
  checkpoints: number;
  /** Paper-sized runs stream activations from the LM instead of storing them. */
  streamFromLm: boolean;
  probeTrain: number;
  probeTest: number;
  probeEpochs: number;
  /** Contexts scored for loss recovered (the paper: 25). */
  lossContexts: number;
  unsupervisedVectors: number;
}

// Sized by estimate for about an hour on 2 cores (to be timed on a quiet machine): per game 24 SAEs
// × ~0.3M tokens of training (d·m·batch·steps ≈ 14 TFLOP for Othello) and 72 evaluated checkpoints.
const SMALL: ReproScale = {
  label: 'small',
  evalGames: 200,
  trainGames: { othello: 3000, chess: 1000 },
  steps: 600,
  batchSize: 512,
  perTrainer: 2,
  expansions: [2, 4],
  checkpoints: 2,
  streamFromLm: false,
  probeTrain: 4000,
  probeTest: 2000,
  probeEpochs: 20,
  lossContexts: 25,
  unsupervisedVectors: 4096,
};

export const REPRO_SCALES: Record<'tiny' | 'small' | 'paper', ReproScale> = {
  // seconds per stage: for tests and a first look
  tiny: {
    label: 'tiny',
    evalGames: 16,
    trainGames: { othello: 24, chess: 12 },
    steps: 16,
    batchSize: 64,
    perTrainer: 1,
    expansions: [1, 2],
    checkpoints: 1,
    streamFromLm: false,
    probeTrain: 200,
    probeTest: 200,
    probeEpochs: 3,
    lossContexts: 4,
    unsupervisedVectors: 256,
  },
  small: SMALL,
  // trainers.md §6: 300M tokens (36,621 steps of 8192), 20 penalties × expansion {8, 16} = 40 SAEs a trainer, 1000 + 1000 eval games
  paper: {
    label: 'paper',
    evalGames: 2000,
    trainGames: { othello: Math.ceil(300e6 / 59), chess: Math.ceil(300e6 / 256) },
    steps: 36_621,
    batchSize: 8192,
    perTrainer: 20,
    expansions: [8, 16],
    checkpoints: 7,
    streamFromLm: true,
    probeTrain: 20_000,
    probeTest: 20_000,
    probeEpochs: 40,
    lossContexts: 25,
    unsupervisedVectors: 25,
  },
};

/** `--scale tiny|small|paper|N`: N multiplies the small scale's tokens (games, steps) and its SAEs. */
export function parseScale(s: string): ReproScale {
  if (s in REPRO_SCALES) return REPRO_SCALES[s as keyof typeof REPRO_SCALES];
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s.trim()) || !Number.isFinite(n) || n <= 0 || n > 1000) {
    throw new UserInputError(`--scale must be tiny, small, paper or a positive number (a multiple of small), got "${s}"`);
  }
  if (n === 1) return SMALL;
  return {
    ...SMALL,
    label: `x${n}`,
    trainGames: { othello: Math.max(1, Math.round(SMALL.trainGames.othello * n)), chess: Math.max(1, Math.round(SMALL.trainGames.chess * n)) },
    steps: Math.max(10, Math.round(SMALL.steps * n)),
    perTrainer: Math.max(1, Math.round(SMALL.perTrainer * n)),
  };
}

function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [(a + b) / 2];
  return Array.from({ length: n }, (_, i) => Number((a + ((b - a) * i) / (n - 1)).toPrecision(6)));
}

/** k values: the paper's int(linspace(10, 400, n)) (trainers.md §6), capped by the smaller dictionary. */
export function topKValues(n: number, minDictSize: number): number[] {
  const hi = Math.min(400, Math.floor(minDictSize / 2));
  const lo = Math.min(10, hi);
  return [...new Set(Array.from({ length: n }, (_, i) => Math.max(1, Math.trunc(n === 1 ? (lo + hi) / 4 : lo + ((hi - lo) * i) / (n - 1)))))];
}

/** Log-spaced intermediate checkpoint steps: steps/4, steps/16, … (n of them, ≥ 1, distinct). */
export function logCheckpointSteps(steps: number, n: number): number[] {
  const out = new Set<number>();
  for (let i = 1; i <= n; i++) out.add(Math.max(1, Math.round(steps / 4 ** i)));
  return [...out].filter((s) => s < steps).sort((a, b) => a - b);
}

/** The families the paper reports (board state and, for chess, the 14 strategy concepts), as a list the evaluation accepts. */
function reportedFamilies(game: ReproGame): string {
  return resolveFamilies(adapterFor(game), 'reported')
    .map((f) => f.shortName)
    .join(',');
}

function modelLayers(name: string): { nLayer: number; dModel: number } {
  const cfg = JSON.parse(readFileSync(path.join(resolveModelPath(name), 'config.json'), 'utf8')) as { model: { nLayer: number; dModel: number } };
  return cfg.model;
}

/** The block the SAEs read: the paper's block 5 of 8, or the same depth (round(¾·n_layer) − 1). */
export function reproLayer(nLayer: number): number {
  return Math.max(0, Math.round(0.75 * nLayer) - 1);
}

export function reproSweepName(scale: ReproScale, model: string): string {
  return `repro-${scale.label}-${model}`;
}

/** The trainer entries of one LM's sweep. */
export function reproTrainers(game: ReproGame, scale: ReproScale, trainers: readonly string[], dIn: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const trainer of trainers) {
    // expansion is the outer axis, like the paper's folders (trainer0..19 EF 8, 20..39 EF 16)
    for (const expansion of scale.expansions) {
      if (trainer === 'top_k') {
        for (const k of topKValues(scale.perTrainer, scale.expansions[0] * dIn)) out.push({ trainer, expansion, k });
        continue;
      }
      const [a, b] = PAPER_RANGES[trainer][game];
      const knob = trainer === 'standard' || trainer === 'gated' ? 'l1Penalty' : 'initialSparsityPenalty';
      for (const v of linspace(a, b, scale.perTrainer)) out.push({ trainer, expansion, [knob]: v });
    }
  }
  return out;
}

/** The pipeline of one game. `home` holds the data (datasets, activations, sweeps). */
export function reproduceStages(home: string, game: ReproGame, scale: ReproScale): StageInput[] {
  const root = path.join(home, 'reproduce', scale.label, game);
  const evalData = path.join(root, 'data', 'eval');
  const trainData = path.join(root, 'data', 'train');
  const stages: StageInput[] = [
    {
      kind: 'GENERATE_DATASET',
      stage: `${game}: evaluation games (D_train + D_test)`,
      // chess: 'all' so the piece probe (the ceiling, models.md §5) has its labels too
      config: { game, games: scale.evalGames, seed: 1601, testFraction: 0.5, families: game === 'chess' ? 'all' : 'default', out: evalData, name: `repro-${scale.label}-${game}-eval`, ...(game === 'othello' ? { minMoves: 59 } : {}) },
    },
    {
      kind: 'GENERATE_DATASET',
      stage: `${game}: training games`,
      config: { game, games: scale.trainGames[game], seed: 1602, testFraction: 0.01, families: 'none', out: trainData, name: `repro-${scale.label}-${game}-train`, ...(game === 'othello' ? { minMoves: 59 } : {}) },
    },
  ];
  const models = REPRO_MODELS[game];
  for (const which of ['trained', 'random'] as const) {
    const model = models[which];
    const { nLayer, dModel } = modelLayers(model);
    const layer = reproLayer(nLayer);
    const acts = path.join(root, 'activations', model);
    const sweepDir = path.join(root, 'sweeps', model);
    // Paper-sized sweeps stream from the LM; the stored set then only feeds the unsupervised metrics.
    const a =
      stages.push({
        kind: 'COLLECT_ACTIVATIONS',
        stage: `${game}: activations of ${model} (block ${layer})`,
        config: { model, dataset: trainData, layer, split: 'all', out: acts, ...(scale.streamFromLm ? { maxGames: 2000 } : {}) },
        dependsOn: [1],
      }) - 1;
    const source = scale.streamFromLm ? { type: 'lm', model, dataset: trainData, split: 'all', layer } : { type: 'activations', path: acts, repeat: true };
    const s =
      stages.push({
        kind: 'TRAIN_SAE_SWEEP',
        stage: `${game}: SAE sweep on ${model}`,
        config: {
          out: sweepDir,
          sweep: {
            name: reproSweepName(scale, model),
            batchSize: scale.batchSize,
            seed: 42,
            source,
            meta: { reproduction: scale.label, lmName: model, lmOrigin: which },
            defaults: { steps: scale.steps, seed: 42 },
            checkpoints: { logSpaced: false, steps: logCheckpointSteps(scale.steps, scale.checkpoints) },
            limits: { maxSaes: 1000, maxWork: 1e15 },
            trainers: reproTrainers(game, scale, which === 'trained' ? REPRO_TRAINERS : RANDOM_INIT_TRAINERS, dModel),
          },
        },
        dependsOn: [a],
      }) - 1;
    const evalConfig = {
      saes: [sweepDir],
      dataset: evalData,
      activations: acts,
      // Othello: the board state and the valid moves of results.md §2; chess: board state and the 14 strategy concepts
      families: game === 'othello' ? 'board_state,valid_moves' : reportedFamilies('chess'),
      unsupervisedVectors: scale.unsupervisedVectors,
      lossRecovered: { model, layer, contexts: scale.lossContexts },
    };
    // final checkpoints first (the tables), then the intermediate ones (coverage over training)
    const e = stages.push({ kind: 'EVALUATE', stage: `${game}: evaluation of the SAEs on ${model}`, config: { ...evalConfig, checkpoints: 'final' }, dependsOn: [0, s] }) - 1;
    stages.push({ kind: 'EVALUATE', stage: `${game}: evaluation of the training checkpoints on ${model}`, config: { ...evalConfig, checkpoints: 'intermediate' }, dependsOn: [e] });
    if (which === 'trained') {
      stages.push({
        kind: 'PROBE',
        stage: `${game}: linear probes of ${model} at every block`,
        config: { model, dataset: evalData, maxTrain: scale.probeTrain, maxTest: scale.probeTest, maxEpochs: scale.probeEpochs },
        dependsOn: [0],
      });
    }
  }
  return stages;
}

export function reproducePipelineName(game: ReproGame, scale: ReproScale): string {
  return `reproduce-${scale.label}-${game}`;
}

/** Queue the reproduction of each game; stages that already succeeded are reused unless `force`. */
export async function queueReproduction(
  queue: Queue | null,
  pool: pg.Pool,
  opts: { home: string; games: readonly ReproGame[]; scale: ReproScale; force?: boolean },
): Promise<{ pipeline: string; jobs: JobRow[] }[]> {
  const out: { pipeline: string; jobs: JobRow[] }[] = [];
  for (const game of opts.games) {
    const pipeline = reproducePipelineName(game, opts.scale);
    const jobs = await submitPipeline(queue, pool, pipeline, reproduceStages(opts.home, game, opts.scale), { force: opts.force });
    log.info({ pipeline, jobs: jobs.length, reused: jobs.filter((j) => j.status === 'succeeded').length }, 'reproduction queued');
    out.push({ pipeline, jobs });
  }
  return out;
}
