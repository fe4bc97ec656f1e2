/**
 * `saeboard lm ...`: the board-game GPT — import weights, make random-init models, train, evaluate
 * (held-out loss + legal-move rate), collect activations, train linear probes.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { backendInfo, initBackend } from '../../tensor/backend.js';
import { UserInputError } from '../../errors.js';
import { GAMES, type GameName } from '../../games/types.js';
import { log } from '../../log.js';
import { formatNumber, progress } from '../../progress.js';
import { writeActivations } from '../../lm/activations.js';
import { loadModelDir, readMeta, readModelTensors, saveModelDir, type CheckpointMeta } from '../../lm/checkpoint.js';
import { ACTIVATIONS, makeConfig, parameterCount, type Activation, type GptConfig } from '../../lm/config.js';
import { datasetSequences } from '../../lm/dataset.js';
import { importWeights, IMPORT_FORMATS, type ImportFormat } from '../../lm/import/index.js';
import { chessLegalMoveRate, othelloLegalMoveRate } from '../../lm/legal.js';
import { randomInitHost, parseSite, SITES, type Gpt, type Site } from '../../lm/model.js';
import { resolveModelPath } from '../../lm/models.js';
import { DEFAULT_PROBE_FAMILY, trainLayerProbes } from '../../lm/probe-data.js';
import { DEFAULT_TOKENIZER, tokenizerForVocab, tokenizerInfo } from '../../lm/tokenizers.js';
import { evaluateLoss, trainLm } from '../../lm/train.js';
import { lmTrainSpecSchema, prepareTrainRun, type LmTrainSpec } from '../../lm/train-run.js';
import { sha256 } from '../../util/hash.js';
import { action, intOption } from '../action.js';
import { exitInterrupted, onInterrupt } from '../signals.js';

const REGISTER_HELP = 'register in the database (default: only when DATABASE_URL is set)';

function numberOption(name: string, min: number, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`--${name} must be a number in [${min}, ${max}], got "${value}"`);
    return n;
  };
}

function gameOption(value: string): GameName {
  if (!(GAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`--game must be one of ${GAMES.join(', ')}, got "${value}"`);
  return value as GameName;
}

function activationOption(value: string): Activation {
  if (!(ACTIVATIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--activation must be one of ${ACTIVATIONS.join(', ')}, got "${value}"`);
  return value as Activation;
}

/** "all", "5", "0-3", "1,3,5" → layer list (validated against the model later). */
export function parseLayers(spec: string, nLayer: number): number[] {
  if (spec === 'all') return Array.from({ length: nLayer }, (_, i) => i);
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new UserInputError(`--layers: cannot read "${part}" (use all, 5, 0-3 or 1,3,5)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let l = Math.min(a, b); l <= Math.max(a, b); l++) {
      if (l >= nLayer) throw new UserInputError(`layer ${l} does not exist: the model has ${nLayer} blocks (0..${nLayer - 1})`);
      out.add(l);
    }
  }
  return [...out].sort((x, y) => x - y);
}

async function wantRegister(flag: boolean | undefined): Promise<boolean> {
  return flag ?? Boolean(process.env.DATABASE_URL);
}

async function withDb<T>(fn: (pool: import('pg').Pool) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../../db/pool.js');
  const db = await openDatabase();
  try {
    return await fn(db.pool);
  } finally {
    await db.close();
  }
}

/** Register a checkpoint directory just written, when --register (or DATABASE_URL) says so. */
async function maybeRegisterCheckpoint(flag: boolean | undefined, dir: string, origin: 'imported' | 'random-init'): Promise<void> {
  if (!(await wantRegister(flag))) return;
  const { registerLmCheckpointDir } = await import('../../jobs/lm.js');
  const r = await withDb((pool) => registerLmCheckpointDir(pool, dir, { origin }));
  process.stdout.write(`registered lm_model #${r.modelId} checkpoint #${r.checkpointId}\n`);
}

/** A new checkpoint's config.json; the model is named after its directory unless --name. */
function checkpointMeta(opts: { out: string; name?: string }, game: GameName, tokenizer: string, model: GptConfig, provenance: CheckpointMeta['provenance']): CheckpointMeta {
  return { format: 'saeboard-lm/1', name: opts.name ?? path.basename(opts.out), game, tokenizer, model, provenance };
}

/** Load a model (checkpoint dir, run dir or shipped name) on the compute backend for `fn`, then free it. */
async function withModel<T>(spec: string, fn: (m: { dir: string; model: Gpt; meta: CheckpointMeta }) => Promise<T>): Promise<T> {
  await initBackend();
  const dir = resolveModelPath(spec);
  const { model, meta } = await loadModelDir(dir);
  try {
    return await fn({ dir, model, meta });
  } finally {
    model.dispose();
  }
}

function describe(cfg: GptConfig): string {
  return `${cfg.nLayer}L/${cfg.dModel}d/${cfg.nHead}H ctx ${cfg.nCtx} vocab ${cfg.vocabSize} ${cfg.activation}${cfg.bias ? '' : ' no-bias'}${cfg.tiedHead ? ' tied' : ''} (${formatNumber(parameterCount(cfg))} params)`;
}

// ---------------------------------------------------------------------------------------------

interface ImportOpts {
  out: string;
  format?: ImportFormat;
  activation?: Activation;
  nHead?: number;
  config?: string;
  game?: GameName;
  name?: string;
  force?: boolean;
  register?: boolean;
}

async function importCmd(file: string, opts: ImportOpts): Promise<void> {
  const imp = await importWeights(file, { format: opts.format, activation: opts.activation, nHead: opts.nHead, configFile: opts.config });
  const tok = opts.game ? tokenizerInfo(DEFAULT_TOKENIZER[opts.game]) : tokenizerForVocab(imp.config.vocabSize);
  if (!tok) throw new UserInputError(`${file}: vocabulary of ${imp.config.vocabSize} tokens matches no known game tokenizer; pass --game`);
  if (tok.vocabSize !== imp.config.vocabSize) {
    throw new UserInputError(`${file}: the weights have a vocabulary of ${imp.config.vocabSize} tokens but ${tok.game}'s tokenizer "${tok.id}" has ${tok.vocabSize}`);
  }
  const { readFile } = await import('node:fs/promises');
  const meta = checkpointMeta(opts, tok.game, tok.id, imp.config, {
    kind: 'imported', format: imp.format, file: path.resolve(file), sha256: sha256(new Uint8Array(await readFile(imp.source))), notes: imp.notes, info: imp.info,
  });
  for (const n of imp.notes) log.info(n);
  await saveModelDir(opts.out, meta, imp.tensors, { overwrite: opts.force });
  process.stdout.write(`imported ${imp.format} ${file} → ${opts.out}: ${tok.game} ${describe(imp.config)}\n`);
  await maybeRegisterCheckpoint(opts.register, opts.out, 'imported');
}

interface InitOpts {
  game: GameName;
  out: string;
  like?: string;
  layers: number;
  heads: number;
  dModel: number;
  ctx?: number;
  activation: Activation;
  bias: boolean;
  seed: number;
  name?: string;
  force?: boolean;
  register?: boolean;
}

async function initCmd(opts: InitOpts): Promise<void> {
  let cfg: GptConfig;
  let game = opts.game;
  let twinOf: string | undefined;
  if (opts.like) {
    const dir = resolveModelPath(opts.like);
    const meta = await readMeta(dir);
    cfg = meta.model;
    game = meta.game;
    twinOf = meta.name;
  } else {
    const tok = tokenizerInfo(DEFAULT_TOKENIZER[opts.game]);
    cfg = makeConfig({
      nLayer: opts.layers, nHead: opts.heads, dModel: opts.dModel, nCtx: opts.ctx ?? tok.paperCtx, vocabSize: tok.vocabSize,
      activation: opts.activation, bias: opts.bias,
    });
  }
  const meta = checkpointMeta(opts, game, DEFAULT_TOKENIZER[game], cfg, {
    kind: 'random-init', seed: opts.seed, init: 'nanoGPT/HF GPT-2: N(0, 0.02), residual projections N(0, 0.02/sqrt(2·nLayer)), biases 0, LayerNorm 1', ...(twinOf ? { randomInitOf: twinOf } : {}),
  });
  await saveModelDir(opts.out, meta, randomInitHost(cfg, opts.seed), { overwrite: opts.force });
  process.stdout.write(`random-init ${game} model → ${opts.out}: ${describe(cfg)}${twinOf ? ` (twin of ${twinOf})` : ''}\n`);
  await maybeRegisterCheckpoint(opts.register, opts.out, 'random-init');
}

interface TrainOpts extends Omit<LmTrainSpec, 'bias'> {
  bias: boolean;
  register?: boolean;
  progress?: boolean;
}

async function trainCmd(opts: TrainOpts): Promise<void> {
  const { register: registerFlag, progress: progressFlag, ...rest } = opts;
  const spec = lmTrainSpecSchema.parse(rest);
  const { cfg, meta, train, heldOut, options, initialWeights, tokensPerRow: T } = await prepareTrainRun(spec);
  const info = await initBackend();
  process.stderr.write(`training ${opts.game} GPT ${describe(cfg)} on ${train.count} games (${opts.steps} steps × ${opts.batchSize} × ${T} tokens) with ${info.name}\n`);
  const register = await wantRegister(registerFlag);
  let registrar: ((c: import('../../lm/train.js').CheckpointInfo) => Promise<void>) | undefined;
  let closeDb: (() => Promise<void>) | undefined;
  if (register) {
    const { openDatabase } = await import('../../db/pool.js');
    const { registerLmCheckpointDir } = await import('../../jobs/lm.js');
    const db = await openDatabase();
    closeDb = () => db.close();
    registrar = async (c) => {
      await registerLmCheckpointDir(db.pool, c.dir, { origin: 'trained', datasetPath: opts.dataset });
    };
  }
  let stop = false;
  const release = onInterrupt((signal) => {
    if (stop) exitInterrupted(signal, 'the last checkpoint is kept');
    stop = true;
    process.stderr.write('\nstopping after this step (checkpointing; press Ctrl-C again to abort)\n');
  });
  const bar = progress({ label: 'train', total: opts.steps * opts.batchSize * T, unit: 'tok', enabled: progressFlag === false ? false : undefined });
  let lastEval: number | null = null;
  let firstStep = true;
  try {
    const r = await trainLm({
      outDir: opts.out,
      meta,
      train,
      heldOut,
      options,
      initialWeights,
      onStep: (s) => {
        // a resumed run: the rate counts this run's tokens only
        if (firstStep) bar.resumeAt(s.tokensSeen - opts.batchSize * T);
        firstStep = false;
        bar.update(s.tokensSeen, { step: s.step, loss: s.loss, lr: s.lr, ...(lastEval !== null ? { eval: lastEval } : {}) });
      },
      onEval: (e) => {
        lastEval = e.evalLoss;
      },
      onCheckpoint: registrar,
      shouldStop: () => stop,
    });
    bar.stop();
    process.stdout.write(
      `${r.stoppedEarly ? 'stopped' : 'finished'} at step ${r.state.step}${r.resumedFrom !== null ? ` (resumed from ${r.resumedFrom})` : ''}: ` +
        `train loss ${formatNumber(r.state.lastLoss ?? NaN)}, held-out loss ${formatNumber(r.evalLoss ?? NaN)}, ${formatNumber(r.tokensPerSec)} tok/s; checkpoint ${r.finalCheckpoint}\n`,
    );
  } finally {
    release();
    await closeDb?.();
  }
}

interface EvalOpts {
  dataset: string;
  split: 'train' | 'test';
  games: number;
  lossGames: number;
  json?: boolean;
  register?: boolean;
}

async function evalCmd(modelSpec: string, opts: EvalOpts): Promise<void> {
  await withModel(modelSpec, async ({ dir, model, meta }) => {
    const tok = tokenizerInfo(meta.tokenizer);
    const minLength = tok.padToken === null ? Math.min(256, model.config.nCtx) : undefined;
    const data = await datasetSequences(opts.dataset, { split: opts.split, minLength });
    if (data.tokenizer !== meta.tokenizer) {
      throw new UserInputError(`tokenizer mismatch: the model uses "${meta.tokenizer}" but dataset ${opts.dataset} uses "${data.tokenizer}"`);
    }
    const lossData = tok.padToken === null ? await datasetSequences(opts.dataset, { split: opts.split, minLength: model.config.nCtx + 1 }).catch(() => data) : data;
    const heldOutLoss = await evaluateLoss(model, lossData, opts.lossGames, tok.padToken);
    const legal = meta.game === 'othello' ? await othelloLegalMoveRate(model, data, { games: opts.games }) : await chessLegalMoveRate(model, data, { games: opts.games });
    const result = { model: meta.name, dir, dataset: opts.dataset, split: opts.split, heldOutLoss, legalMoveRate: legal.rate, legalMoves: legal, backend: backendInfo()?.name };
    if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      process.stdout.write(
        `${meta.name} on ${opts.dataset} (${opts.split}): held-out loss ${formatNumber(heldOutLoss)} over ${Math.min(opts.lossGames, lossData.count)} games; ` +
          `legal-move rate of greedy predictions ${(100 * legal.rate).toFixed(2)}% (${legal.legal}/${legal.predictions} over ${legal.games} games` +
          `${legal.bySide ? `; white ${(100 * legal.bySide.white).toFixed(1)}%, black ${(100 * legal.bySide.black).toFixed(1)}%` : ''})\n`,
      );
      const unit = meta.game === 'chess' ? 'half-moves' : 'moves';
      process.stdout.write(`by move number (${unit}, 1-based): ${legal.byPly.map((b) => `${b.from + 1}–${b.to + 1} ${(100 * b.rate).toFixed(1)}%`).join(', ')}\n`);
    }
    if (await wantRegister(opts.register)) {
      const { registerLmCheckpointDir } = await import('../../jobs/lm.js');
      await withDb((pool) => registerLmCheckpointDir(pool, dir, { extraMetrics: { heldOutLoss, legalMoveRate: legal.rate, legalMoveEval: { ...legal, dataset: path.resolve(opts.dataset), split: opts.split } } }));
    }
  });
}

interface ActsOpts {
  model: string;
  layer: number;
  site: Site;
  dataset: string;
  out: string;
  split: 'train' | 'test' | 'all';
  positions: 'all' | 'dots';
  dtype: 'float32' | 'float16';
  context?: number;
  maxGames?: number;
  batchSize: number;
  shardSize: number;
  force?: boolean;
  register?: boolean;
  progress?: boolean;
}

async function activationsCmd(opts: ActsOpts): Promise<void> {
  await withModel(opts.model, async ({ dir, model, meta }) => {
    const tok = tokenizerInfo(meta.tokenizer);
    const T = opts.context ?? (tok.game === 'chess' ? Math.min(256, model.config.nCtx) : model.config.nCtx);
    const data = await datasetSequences(opts.dataset, { split: opts.split, minLength: tok.padToken === null ? T : undefined, limit: opts.maxGames });
    const contextLength = Math.min(T, data.length);
    const bar = progress({ label: 'activations', total: data.count, unit: 'games', enabled: opts.progress === false ? false : undefined });
    const manifest = await writeActivations({
      model,
      tokenizer: meta.tokenizer,
      layer: opts.layer,
      site: opts.site,
      data,
      positions: opts.positions,
      contextLength,
      batchSize: opts.batchSize,
      outDir: opts.out,
      dtype: opts.dtype,
      shardSize: opts.shardSize,
      overwrite: opts.force,
      modelInfo: { name: meta.name, dir: path.resolve(dir), config: meta.model, tokenizer: meta.tokenizer },
      onProgress: (rows) => bar.update(rows),
    });
    bar.stop();
    process.stdout.write(`wrote ${manifest.count} × ${manifest.d} ${manifest.dtype} activations (${meta.name} block ${opts.layer} ${opts.site}, ${opts.positions} positions, ctx ${contextLength}) in ${manifest.shards.length} shard(s) → ${opts.out}\n`);
    if (await wantRegister(opts.register)) {
      const { registerActivationDir } = await import('../../jobs/lm.js');
      const id = await withDb((pool) => registerActivationDir(pool, opts.out, { checkpointDir: dir, datasetDir: opts.dataset }));
      process.stdout.write(`registered activation_set #${id}\n`);
    }
  });
}

interface ProbeOpts {
  model: string;
  dataset: string;
  layers: string;
  family?: string;
  maxTrain: number;
  maxTest: number;
  maxEpochs: number;
  tolerance: number;
  lr: number;
  json?: boolean;
  register?: boolean;
  progress?: boolean;
}


async function probeCmd(opts: ProbeOpts): Promise<void> {
  await withModel(opts.model, async ({ dir, model, meta }) => {
    const layers = parseLayers(opts.layers, model.config.nLayer);
    const families = (opts.family ?? DEFAULT_PROBE_FAMILY[meta.game]).split(',').map((f: string) => f.trim());
    const bar = progress({ label: 'probe activations', total: opts.maxTrain + opts.maxTest, unit: 'pos', enabled: opts.progress === false ? false : undefined });
    const results = await trainLayerProbes({
      model,
      modelTokenizer: meta.tokenizer,
      datasetDir: opts.dataset,
      layers,
      families,
      maxTrain: opts.maxTrain,
      maxTest: opts.maxTest,
      probe: { maxEpochs: opts.maxEpochs, tolerance: opts.tolerance, lr: opts.lr },
      onProgress: (n: number) => bar.update(n),
    });
    bar.stop();
    if (opts.json) for (const r of results) process.stdout.write(JSON.stringify({ model: meta.name, ...r }) + '\n');
    if (!opts.json) {
      process.stdout.write(`linear probes for ${meta.name} (${describe(meta.model)}) on ${opts.dataset}: ${results[0]?.nTrain ?? 0} train / ${results[0]?.nTest ?? 0} test positions\n`);
      const rows = [['layer', 'family', 'kind', 'test acc', 'train acc', 'majority', 'F1', 'epochs']];
      for (const r of results) {
        rows.push([`${r.layer}`, r.family, r.kind, (100 * r.accuracy).toFixed(2) + '%', (100 * r.trainAccuracy).toFixed(2) + '%', (100 * r.baselineAccuracy).toFixed(2) + '%', r.f1 === null ? '-' : r.f1.toFixed(3), `${r.epochs}${r.converged ? '' : ' (max)'}`]);
      }
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ') + '\n');
    }
    if (await wantRegister(opts.register)) {
      const { registerProbeResults } = await import('../../jobs/lm.js');
      const n = await withDb((pool) =>
        registerProbeResults(pool, dir, opts.dataset, results.map((r) => ({ ...r, site: 'resid_post' })), { maxEpochs: opts.maxEpochs, tolerance: opts.tolerance, lr: opts.lr, maxTrain: opts.maxTrain, maxTest: opts.maxTest }),
      );
      process.stdout.write(`registered ${n} probe result(s)\n`);
    }
  });
}

async function infoCmd(spec: string, opts: { json?: boolean }): Promise<void> {
  const dir = resolveModelPath(spec);
  const meta = await readMeta(dir);
  await readModelTensors(dir); // the weights must be readable and finite, not just config.json
  if (opts.json) {
    process.stdout.write(JSON.stringify({ dir, ...meta }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${meta.name} (${dir})\n  game ${meta.game}, tokenizer ${meta.tokenizer}\n  ${describe(meta.model)}\n  provenance ${JSON.stringify(meta.provenance)}\n`);
  if (meta.training) process.stdout.write(`  training step ${meta.training.step}, tokens ${meta.training.tokensSeen}, train loss ${meta.training.trainLoss}, eval loss ${meta.training.evalLoss}\n`);
  if (meta.metrics) process.stdout.write(`  metrics ${JSON.stringify(meta.metrics)}\n`);
}

// ---------------------------------------------------------------------------------------------

export function register(program: Command): void {
  const lm = program
    .command('lm')
    .description('Board-game GPTs: import, random-init, train, evaluate, collect activations, linear probes')
    .addHelpText(
      'after',
      `
Examples:
  saeboard lm import lichess_8layers_ckpt_no_optimizer.pt --out models/chessgpt-paper
  saeboard lm import othello_gpt_tl.pt --format transformerlens --activation gelu --out models/othellogpt-paper
  saeboard lm init --like othello-small --seed 7 --out models/othello-small-random
  saeboard lm train --game othello --dataset data/othello-train --out runs/othello-small --layers 4 --d-model 256 --heads 8
  saeboard lm eval othello-small --dataset data/othello-eval
  saeboard lm activations --model othello-small --layer 2 --dataset data/othello-eval --out acts/othello-l2
  saeboard lm probe --model othello-small --dataset data/othello-eval --layers all`,
    );

  lm.command('import')
    .description('Import GPT weights: nanoGPT .pt checkpoints, TransformerLens state dicts (.pt/.safetensors), HF GPT-2 safetensors')
    .argument('<file>', 'weight file (.pt or .safetensors) or a directory with model.safetensors + config.json')
    .requiredOption('-o, --out <dir>', 'output checkpoint directory (config.json + model.safetensors)')
    .option('--format <format>', `force the format: ${IMPORT_FORMATS.join(', ')} (default: recognised from tensor names and shapes)`, (v: string) => {
      if (!(IMPORT_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`--format must be one of ${IMPORT_FORMATS.join(', ')}`);
      return v as ImportFormat;
    })
    .option('--activation <fn>', 'MLP activation: gelu (exact erf) or gelu_new (tanh); default: from the file, else gelu for nanoGPT/TransformerLens and gelu_new for HF GPT-2', activationOption)
    .option('--n-head <n>', 'number of attention heads, when the file does not record it', intOption('n-head', 1))
    .option('--config <file>', 'JSON config describing the weights (HF config.json or a saeboard config); checked against the tensors')
    .option('--game <game>', `game of the model (default: from the vocabulary size: 61 → othello, 32 → chess)`, gameOption)
    .option('--name <name>', 'model name (default: the output directory name)')
    .option('-f, --force', 'overwrite an existing output directory')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'never touch the database')
    .action(action(importCmd));

  lm.command('init')
    .description('Write a randomly initialised model (the paper\'s random-init baseline), from a shape or --like an existing model')
    .requiredOption('-o, --out <dir>', 'output checkpoint directory')
    .option('--like <model>', 'copy the config (and game) of this model: makes its random-init twin')
    .option('--game <game>', 'othello | chess (ignored with --like)', gameOption, 'othello')
    .option('--layers <n>', 'transformer blocks', intOption('layers', 1, 64), 8)
    .option('--heads <n>', 'attention heads', intOption('heads', 1, 64), 8)
    .option('--d-model <n>', 'residual width', intOption('d-model', 8, 8192), 512)
    .option('--ctx <n>', 'context length (default: the paper\'s, 59 Othello / 1023 chess)', intOption('ctx', 2, 4096))
    .option('--activation <fn>', 'gelu | gelu_new', activationOption, 'gelu')
    .option('--no-bias', 'no biases in linear layers and LayerNorms (nanoGPT bias=False)')
    .option('--seed <n>', 'initialisation seed', intOption('seed', 0), 0)
    .option('--name <name>', 'model name (default: the output directory name)')
    .option('-f, --force', 'overwrite an existing output directory')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'never touch the database')
    .action(action(initCmd));

  lm.command('train')
    .description('Train a GPT on a game dataset (AdamW, warm-up + cosine, clipping); rerun the same command to resume after a stop or kill')
    .requiredOption('--game <game>', 'othello | chess', gameOption)
    .requiredOption('--dataset <dir>', 'dataset directory (saeboard games generate/import); its train split trains, its test split gives the held-out loss')
    .requiredOption('-o, --out <dir>', 'run directory (checkpoints ckpt-*, metrics.jsonl, run.json)')
    .option('--name <name>', 'model name (default: the run directory name)')
    .option('--layers <n>', 'transformer blocks', intOption('layers', 1, 64), 4)
    .option('--heads <n>', 'attention heads', intOption('heads', 1, 64), 8)
    .option('--d-model <n>', 'residual width', intOption('d-model', 8, 8192), 256)
    .option('--ctx <n>', 'context length (default: Othello 59, chess 1023)', intOption('ctx', 2, 4096))
    .option('--activation <fn>', 'gelu (exact) | gelu_new (tanh, faster here: one native kernel)', activationOption, 'gelu_new')
    .option('--no-bias', 'no biases (nanoGPT bias=False, as the paper\'s chess model)')
    .option('--steps <n>', 'optimizer steps', intOption('steps', 1), 5000)
    .option('--batch-size <n>', 'sequences per step', intOption('batch-size', 1), 64)
    .option('--lr <x>', 'peak learning rate', numberOption('lr', 0), 1e-3)
    .option('--min-lr <x>', 'final learning rate of the cosine', numberOption('min-lr', 0), 1e-4)
    .option('--warmup <n>', 'linear warm-up steps', intOption('warmup', 0), 200)
    .option('--weight-decay <x>', 'AdamW weight decay (matrices and embeddings only)', numberOption('weight-decay', 0), 0.1)
    .option('--beta2 <x>', 'AdamW beta2', numberOption('beta2', 0, 1), 0.99)
    .option('--grad-clip <x>', 'global gradient-norm clip (0 = off)', numberOption('grad-clip', 0), 1)
    .option('--eval-interval <n>', 'steps between held-out evaluations', intOption('eval-interval', 1), 250)
    .option('--eval-rows <n>', 'held-out games per evaluation', intOption('eval-rows', 1), 512)
    .option('--checkpoint-interval <n>', 'steps between checkpoints', intOption('checkpoint-interval', 1), 500)
    .option('--min-length <n>', 'train only on games with at least n tokens (default: chess ctx+1, Othello all)', intOption('min-length', 1))
    .option('--seed <n>', 'seed for init and data order', intOption('seed', 0), 1)
    .option('--init-from <model>', 'start from this model\'s weights (and architecture) instead of a random init: continued training / fine-tuning')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'never touch the database')
    .option('--no-progress', 'no progress bar')
    .action(action(trainCmd));

  lm.command('eval')
    .description('Held-out loss and legal-move rate of greedy next-move predictions')
    .argument('<model>', 'checkpoint dir, run dir or shipped model name')
    .requiredOption('--dataset <dir>', 'dataset directory')
    .option('--split <split>', 'train | test', (v: string) => {
      if (v !== 'train' && v !== 'test') throw new InvalidArgumentError('--split must be train or test');
      return v;
    }, 'test')
    .option('--games <n>', 'games for the legal-move rate (chess decodes move by move: slower)', intOption('games', 1), 500)
    .option('--loss-games <n>', 'games for the held-out loss', intOption('loss-games', 1), 2000)
    .option('--json', 'print one JSON line')
    .option('--register', 'store the metrics with the checkpoint in the database (default: only when DATABASE_URL is set)')
    .option('--no-register', 'never touch the database')
    .action(action(evalCmd));

  lm.command('activations')
    .description('Collect activations of one layer/site over a dataset into a sharded directory (manifest.json + safetensors)')
    .requiredOption('--model <model>', 'checkpoint dir, run dir or shipped model name')
    .requiredOption('--layer <n>', 'block index, 0-based (the paper\'s "layer 6" is block 5)', intOption('layer', 0))
    .requiredOption('--dataset <dir>', 'dataset directory')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--site <site>', `one of ${SITES.join(', ')}`, parseSite, 'resid_post' as Site)
    .option('--split <split>', 'train | test | all', (v: string) => {
      if (!['train', 'test', 'all'].includes(v)) throw new InvalidArgumentError('--split must be train, test or all');
      return v;
    }, 'train')
    .option('--positions <which>', "all (every token) | dots (chess: the first 20 '.' per game)", (v: string) => {
      if (v !== 'all' && v !== 'dots') throw new InvalidArgumentError('--positions must be all or dots');
      return v;
    }, 'all')
    .option('--dtype <dtype>', 'float32 | float16', (v: string) => {
      if (v !== 'float32' && v !== 'float16') throw new InvalidArgumentError('--dtype must be float32 or float16');
      return v;
    }, 'float32')
    .option('--context <n>', 'tokens per game fed to the model (default: chess 256, Othello the model context)', intOption('context', 1))
    .option('--max-games <n>', 'use at most n games of the split', intOption('max-games', 1))
    .option('--batch-size <n>', 'games per forward pass', intOption('batch-size', 1), 32)
    .option('--shard-size <n>', 'vectors per shard file', intOption('shard-size', 1), 65536)
    .option('-f, --force', 'overwrite an existing output directory')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'never touch the database')
    .option('--no-progress', 'no progress bar')
    .action(action(activationsCmd));

  lm.command('probe')
    .description('Train logistic-regression probes per layer on a labelled dataset and print a per-layer accuracy table')
    .requiredOption('--model <model>', 'checkpoint dir, run dir or shipped model name')
    .requiredOption('--dataset <dir>', 'labelled dataset (train split trains the probes, test split scores them)')
    .option('--layers <spec>', 'all | 5 | 0-3 | 1,3,5', 'all')
    .option('--family <names>', 'BSP families, comma-separated (default: Othello mine_yours, chess piece)')
    .option('--max-train <n>', 'training positions', intOption('max-train', 1), 20000)
    .option('--max-test <n>', 'test positions', intOption('max-test', 1), 10000)
    .option('--max-epochs <n>', 'at most this many passes over the training positions', intOption('max-epochs', 1), 40)
    .option('--tolerance <x>', 'stop once an epoch lowers the mean training loss by less than this fraction', numberOption('tolerance', 0), 2e-3)
    .option('--lr <x>', 'AdamW learning rate', numberOption('lr', 0), 1e-3)
    .option('--json', 'print JSON lines instead of a table')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'never touch the database')
    .option('--no-progress', 'no progress bar')
    .action(action(probeCmd));

  lm.command('info')
    .description('Show a model\'s config, provenance, training state and metrics')
    .argument('<model>', 'checkpoint dir, run dir or shipped model name')
    .option('--json', 'print the whole config.json')
    .action(action(infoCmd));
}
