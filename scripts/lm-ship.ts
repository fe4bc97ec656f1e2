/**
 * Publish a trained LM run as a shipped model under models/, with its random-init twin, after
 * measuring both: held-out loss, legal-move rate of greedy predictions, per-layer board-state
 * probe accuracy. The numbers go into each model's config.json ("metrics") and docs/lm.md.
 *
 *   npx tsx scripts/lm-ship.ts --run RUN_DIR --name othello-small \
 *     --heldout DATASET_DIR --eval EVAL_DATASET_DIR [--twin-seed 7] [--legal-games 1000] [--out models] [--keep-twin]
 *
 * --heldout: the training dataset (its test split gives the held-out loss);
 * --eval:    a labelled dataset (legal-move rate on its test split; probes trained on its train
 *            split and scored on its test split).
 * --keep-twin: leave an already shipped random-init twin as it is (its weights depend only on the
 *            config and --twin-seed, so re-measuring it after more training gives the same numbers).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../src/tensor/backend.js';
import { loadModelDir, readMeta, saveModelDir, type CheckpointMeta } from '../src/lm/checkpoint.js';
import { datasetSequences } from '../src/lm/dataset.js';
import { chessLegalMoveRate, othelloLegalMoveRate } from '../src/lm/legal.js';
import { Gpt, randomInitHost } from '../src/lm/model.js';
import { resolveModelPath } from '../src/lm/models.js';
import { collectProbeData } from '../src/lm/probe-data.js';
import { trainProbe } from '../src/lm/probe.js';
import { tokenizerInfo } from '../src/lm/tokenizers.js';
import { evaluateLoss } from '../src/lm/train.js';
import { PROJECT_ROOT } from '../src/version.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}

const PROBE_FAMILY = { othello: 'mine_yours', chess: 'piece' } as const;

async function measure(model: Gpt, meta: CheckpointMeta, heldout: string, evalDir: string, legalGames: number) {
  const tok = tokenizerInfo(meta.tokenizer);
  const T = model.config.nCtx;
  const lossData = await datasetSequences(heldout, { split: 'test', minLength: tok.padToken === null ? T + 1 : undefined });
  const heldOutLoss = await evaluateLoss(model, lossData, 2000, tok.padToken);
  const legalData = await datasetSequences(evalDir, { split: 'test', minLength: tok.padToken === null ? 256 : undefined });
  const legal = meta.game === 'othello' ? await othelloLegalMoveRate(model, legalData, { games: legalGames }) : await chessLegalMoveRate(model, legalData, { games: legalGames });
  const layers = Array.from({ length: model.config.nLayer }, (_, i) => i);
  const family = PROBE_FAMILY[meta.game];
  const common = { model, modelTokenizer: meta.tokenizer, datasetDir: evalDir, layers, families: [family] };
  const train = await collectProbeData({ ...common, split: 'train', maxPositions: 30000 });
  const test = await collectProbeData({ ...common, split: 'test', maxPositions: 15000 });
  const probe: Record<string, unknown>[] = [];
  for (const layer of layers) {
    const f = train.families[0];
    const r = await trainProbe(f, train.d, { x: train.acts.get(layer)!, y: train.labels.get(family)!, n: train.n }, { x: test.acts.get(layer)!, y: test.labels.get(family)!, n: test.n }, {});
    probe.push({ layer, accuracy: r.accuracy, trainAccuracy: r.trainAccuracy, majority: r.baselineAccuracy, epochs: r.epochs });
    process.stderr.write(`  probe ${family} layer ${layer}: ${(100 * r.accuracy).toFixed(2)}% (majority ${(100 * r.baselineAccuracy).toFixed(2)}%)\n`);
  }
  return {
    heldOutLoss,
    heldOutGames: Math.min(2000, lossData.count),
    legalMoveRate: legal.rate,
    legalMoves: { ...legal, dataset: path.basename(evalDir), split: 'test' },
    probe: { family, dataset: path.basename(evalDir), trainPositions: train.n, testPositions: test.n, perLayer: probe },
  };
}

/** The training runs behind a model (shipped file or run directory), following --init-from chains. */
async function earlierRuns(dir: string): Promise<Record<string, unknown>[]> {
  const meta = await readMeta(dir);
  const p = meta.provenance as { trainingRuns?: Record<string, unknown>[]; trainingRun?: { options: unknown }; initFrom?: { name: string; dir: string; step: number | null } };
  if (p.trainingRuns) return p.trainingRuns;
  if (p.trainingRun) return [{ ...p.trainingRun, tokensSeen: meta.training?.tokensSeen ?? null }];
  const before = p.initFrom ? await earlierRuns(p.initFrom.dir) : [];
  for (const runJson of [path.join(dir, 'run.json'), path.join(dir, '..', 'run.json')]) {
    try {
      const r = JSON.parse(await fs.readFile(runJson, 'utf8')) as { options: unknown };
      const initFrom = p.initFrom ? { initFrom: { name: p.initFrom.name, step: p.initFrom.step } } : {};
      return [...before, { options: r.options, tokensSeen: meta.training?.tokensSeen ?? null, ...initFrom }];
    } catch {
      // not a run directory: try the next place
    }
  }
  return before;
}

async function main(): Promise<void> {
  const info = await initBackend();
  const run = arg('run');
  const name = arg('name');
  const heldout = arg('heldout');
  const evalDir = arg('eval');
  const twinSeed = Number(arg('twin-seed', '7'));
  const legalGames = Number(arg('legal-games', '1000'));
  const outRoot = arg('out', path.join(PROJECT_ROOT, 'models'));
  const ckpt = resolveModelPath(run);
  const { model, meta } = await loadModelDir(ckpt);
  process.stderr.write(`${name}: measuring ${ckpt} (${info.name})\n`);
  const metrics = await measure(model, meta, heldout, evalDir, legalGames);
  process.stderr.write(`${name}: ${JSON.stringify({ heldOutLoss: metrics.heldOutLoss, legalMoveRate: metrics.legalMoveRate })}\n`);
  const runJson = JSON.parse(await fs.readFile(path.join(run, 'run.json'), 'utf8')) as Record<string, unknown>;
  const { initFrom, ...provenance } = meta.provenance as { initFrom?: { name: string; dir: string; step: number | null; tokensSeen: number | null } };
  // a continued run lists the runs before it, so the shipped file tells the whole training history
  const runs = [...(initFrom ? await earlierRuns(initFrom.dir) : []), { options: runJson.options, tokensSeen: meta.training?.tokensSeen ?? null, ...(initFrom ? { initFrom: { name: initFrom.name, step: initFrom.step } } : {}) }];
  const shipped: CheckpointMeta = {
    ...meta,
    name,
    provenance: {
      ...provenance,
      kind: 'trained',
      description: `${meta.game} GPT trained by saeboard (scripts/train-shipped-models.sh) on synthetic ${meta.game === 'othello' ? 'uniformly random legal games' : 'random legal-move games (not human games)'}`,
      dataset: path.basename(String(meta.provenance.dataset ?? '')),
      trainingRuns: runs,
      totalTokensSeen: runs.reduce((n, r) => n + (Number(r.tokensSeen) || 0), 0),
    },
    metrics: { ...metrics, measuredWith: info.name },
  };
  await saveModelDir(path.join(outRoot, name), shipped, await model.toHost(), { overwrite: true });
  model.dispose();

  const twinName = `${name}-random`;
  if (process.argv.includes('--keep-twin')) {
    const twin = await readMeta(path.join(outRoot, twinName)).catch(() => null);
    if (twin?.provenance.seed === twinSeed && JSON.stringify(twin.model) === JSON.stringify(meta.model)) {
      process.stdout.write(JSON.stringify({ [name]: shipped.metrics }, null, 2) + '\n');
      return;
    }
    process.stderr.write(`${twinName}: no shipped twin with seed ${twinSeed} and this config: measuring it\n`);
  }
  const twinHost = randomInitHost(meta.model, twinSeed);
  const twin = Gpt.fromHost(meta.model, twinHost);
  const twinMeta: CheckpointMeta = {
    format: 'saeboard-lm/1',
    name: twinName,
    game: meta.game,
    tokenizer: meta.tokenizer,
    model: meta.model,
    provenance: {
      kind: 'random-init',
      seed: twinSeed,
      randomInitOf: name,
      init: 'nanoGPT/HF GPT-2: N(0, 0.02), residual projections N(0, 0.02/sqrt(2·nLayer)), biases 0, LayerNorm 1',
      description: `random-init twin of ${name} (the paper's random-weights baseline, models.md §4)`,
    },
  };
  process.stderr.write(`${twinName}: measuring\n`);
  twinMeta.metrics = { ...(await measure(twin, twinMeta, heldout, evalDir, legalGames)), measuredWith: info.name };
  process.stderr.write(`${twinName}: ${JSON.stringify({ heldOutLoss: twinMeta.metrics.heldOutLoss, legalMoveRate: twinMeta.metrics.legalMoveRate })}\n`);
  await saveModelDir(path.join(outRoot, twinName), twinMeta, twinHost, { overwrite: true });
  twin.dispose();
  process.stdout.write(JSON.stringify({ [name]: shipped.metrics, [twinName]: twinMeta.metrics }, null, 2) + '\n');
}

await main();
