/**
 * One LM training run as `saeboard lm train` and the `TRAIN_LM` job describe it: a flat, validated
 * spec (the CLI's options) turned into what `trainLm` needs — model config (or the weights to
 * continue from), train and held-out rows, training options and the checkpoint metadata. One code
 * path for both, so a job and the CLI train the same model from the same options.
 */
import path from 'node:path';
import { z } from 'zod';
import { UserInputError } from '../errors.js';
import { GAMES, type GameName } from '../games/types.js';
import { CHECKPOINT_FORMAT, readMeta, readModelTensors, type CheckpointMeta } from './checkpoint.js';
import { ACTIVATIONS, makeConfig, type GptConfig } from './config.js';
import { datasetSequences, type DatasetSequences } from './dataset.js';
import { resolveModelPath } from './models.js';
import type { HostTensor } from './params.js';
import { DEFAULT_TOKENIZER, tokenizerInfo } from './tokenizers.js';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from './train.js';

/** The CLI's options and defaults (`saeboard lm train --help`). */
export const lmTrainSpecSchema = z
  .object({
    game: z.enum(GAMES as unknown as [GameName, ...GameName[]]),
    /** Dataset directory: its train split trains, its test split gives the held-out loss. */
    dataset: z.string().min(1, 'a dataset directory'),
    /** Run directory (ckpt-*, metrics.jsonl, run.json); rerunning with the same options resumes. */
    out: z.string().min(1, 'a run directory'),
    name: z.string().min(1).optional(),
    layers: z.number().int().min(1).max(64).default(4),
    heads: z.number().int().min(1).max(64).default(8),
    dModel: z.number().int().min(8).max(8192).default(256),
    ctx: z.number().int().min(2).max(4096).optional(),
    activation: z.enum(ACTIVATIONS).default('gelu_new'),
    bias: z.boolean().default(true),
    steps: z.number().int().min(1).default(5000),
    batchSize: z.number().int().min(1).default(64),
    lr: z.number().positive().default(1e-3),
    minLr: z.number().nonnegative().default(1e-4),
    warmup: z.number().int().nonnegative().default(200),
    weightDecay: z.number().nonnegative().default(0.1),
    gradClip: z.number().nonnegative().default(1),
    beta2: z.number().min(0).max(1).default(0.99),
    evalInterval: z.number().int().min(1).default(250),
    evalRows: z.number().int().min(1).default(512),
    checkpointInterval: z.number().int().min(1).default(500),
    seed: z.number().int().min(0).default(1),
    minLength: z.number().int().min(1).optional(),
    /** Start from this model's weights (and architecture): continued training / fine-tuning. */
    initFrom: z.string().min(1).optional(),
  })
  .strict();
export type LmTrainSpec = z.output<typeof lmTrainSpecSchema>;

export interface PreparedTrainRun {
  cfg: GptConfig;
  meta: CheckpointMeta;
  train: DatasetSequences;
  heldOut: DatasetSequences;
  options: TrainOptions;
  initialWeights?: Record<string, HostTensor>;
  /** Tokens per sequence a step trains on (context or shorter games). */
  tokensPerRow: number;
}

/** Read the datasets (and the model to continue from) of a run; nothing is written. */
export async function prepareTrainRun(spec: LmTrainSpec): Promise<PreparedTrainRun> {
  const tok = tokenizerInfo(DEFAULT_TOKENIZER[spec.game]);
  let cfg: GptConfig;
  let initialWeights: Record<string, HostTensor> | undefined;
  let initFrom: Record<string, unknown> | undefined;
  if (spec.initFrom) {
    // continue training an existing model: its architecture wins over the shape options
    const dir = resolveModelPath(spec.initFrom);
    const init = await readMeta(dir);
    if (init.game !== spec.game) throw new UserInputError(`--init-from ${spec.initFrom} is a ${init.game} model, not ${spec.game}`);
    cfg = init.model;
    initialWeights = await readModelTensors(dir);
    initFrom = { name: init.name, dir: path.resolve(dir), step: init.training?.step ?? null, tokensSeen: init.training?.tokensSeen ?? null };
  } else {
    cfg = makeConfig({ nLayer: spec.layers, nHead: spec.heads, dModel: spec.dModel, nCtx: spec.ctx ?? tok.paperCtx, vocabSize: tok.vocabSize, activation: spec.activation, bias: spec.bias });
  }
  // chess has no padding token: only games long enough for a whole window train (games.md §2.2)
  const minLength = spec.minLength ?? (tok.padToken === null ? cfg.nCtx + 1 : undefined);
  const train = await datasetSequences(spec.dataset, { split: 'train', inMemory: true, minLength });
  if (train.game !== spec.game) throw new UserInputError(`dataset ${spec.dataset} holds ${train.game} games, not ${spec.game}`);
  const heldOut = await datasetSequences(spec.dataset, { split: 'test', minLength, limit: spec.evalRows });
  const options: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    steps: spec.steps,
    batchSize: spec.batchSize,
    lr: spec.lr,
    minLr: spec.minLr,
    warmupSteps: spec.warmup,
    weightDecay: spec.weightDecay,
    gradClip: spec.gradClip,
    beta2: spec.beta2,
    evalInterval: spec.evalInterval,
    evalRows: spec.evalRows,
    checkpointInterval: spec.checkpointInterval,
    seed: spec.seed,
    ignoreIndex: tok.padToken,
  };
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    name: spec.name ?? path.basename(path.resolve(spec.out)),
    game: spec.game,
    tokenizer: tok.id,
    model: cfg,
    provenance: {
      kind: 'trained',
      dataset: path.resolve(spec.dataset),
      datasetName: train.manifest.name,
      datasetSource: train.manifest.source.kind,
      ...(initFrom ? { initFrom } : {}),
    },
  };
  return { cfg, meta, train, heldOut, options, initialWeights, tokensPerRow: Math.min(cfg.nCtx, train.length - 1) };
}
