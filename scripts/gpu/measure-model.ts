/**
 * Measure a model directory written by scripts/gpu/train_othello_lm.py with saeboard itself and
 * ship it with its random-init twin: held-out loss, legal-move rate of greedy predictions and the
 * per-layer mine/yours/empty probe, the same measurements (and probe sizes) as scripts/lm-ship.ts.
 * The numbers go into config.json ("metrics"); model.safetensors is left as it is (F16). The twin
 * is saeboard's own seeded init (randomInitHost, as `lm init` / lm-ship.ts make it), stored F16.
 *
 *   npx tsx scripts/gpu/measure-model.ts --model models/othello-board \
 *     --heldout DATA/othello-train-1m --eval DATA/othello-eval-3k [--legal-games 1000] [--twin-seed 9]
 *
 * lm-ship.ts itself does not fit: it expects a saeboard training run directory and rewrites the
 * weights as F32 (twice the size of this model's F16 file).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/tensor/backend.js';
import { loadModelDir, readMeta, type CheckpointMeta } from '../../src/lm/checkpoint.js';
import { datasetSequences } from '../../src/lm/dataset.js';
import { othelloLegalMoveRate } from '../../src/lm/legal.js';
import { randomInitHost, type Gpt } from '../../src/lm/model.js';
import { collectProbeData } from '../../src/lm/probe-data.js';
import { trainProbe } from '../../src/lm/probe.js';
import { evaluateLoss } from '../../src/lm/train.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { encodeSafetensors, float32ToFloat16Bits } from '../../src/util/safetensors.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}

async function measure(model: Gpt, heldout: string, evalDir: string, legalGames: number) {
  const lossData = await datasetSequences(heldout, { split: 'test' });
  const heldOutLoss = await evaluateLoss(model, lossData, 2000, 0);
  const legalData = await datasetSequences(evalDir, { split: 'test' });
  const legal = await othelloLegalMoveRate(model, legalData, { games: legalGames });
  process.stderr.write(`  legal-move rate ${(100 * legal.rate).toFixed(2)}% (${legal.legal}/${legal.predictions}), held-out loss ${heldOutLoss.toFixed(4)}\n`);
  const layers = Array.from({ length: model.config.nLayer }, (_, i) => i);
  const family = 'mine_yours';
  const common = { model, modelTokenizer: 'othello-61', datasetDir: evalDir, layers, families: [family] };
  const train = await collectProbeData({ ...common, split: 'train', maxPositions: 30000 });
  const test = await collectProbeData({ ...common, split: 'test', maxPositions: 15000 });
  const perLayer: Record<string, unknown>[] = [];
  for (const layer of layers) {
    const f = train.families[0];
    const r = await trainProbe(f, train.d, { x: train.acts.get(layer)!, y: train.labels.get(family)!, n: train.n }, { x: test.acts.get(layer)!, y: test.labels.get(family)!, n: test.n }, {});
    perLayer.push({ layer, accuracy: r.accuracy, trainAccuracy: r.trainAccuracy, majority: r.baselineAccuracy, epochs: r.epochs });
    process.stderr.write(`  probe ${family} layer ${layer}: ${(100 * r.accuracy).toFixed(2)}% (majority ${(100 * r.baselineAccuracy).toFixed(2)}%)\n`);
  }
  return {
    heldOutLoss,
    heldOutGames: Math.min(2000, lossData.count),
    legalMoveRate: legal.rate,
    legalMoves: { ...legal, dataset: path.basename(evalDir), split: 'test' },
    probe: { family, dataset: path.basename(evalDir), trainPositions: train.n, testPositions: test.n, perLayer },
  };
}

async function writeConfig(dir: string, meta: CheckpointMeta): Promise<void> {
  await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(meta, null, 2) + '\n');
}

async function main(): Promise<void> {
  const info = await initBackend();
  const dir = arg('model');
  const heldout = arg('heldout');
  const evalDir = arg('eval');
  const legalGames = Number(arg('legal-games', '1000'));
  const twinSeed = Number(arg('twin-seed', '9'));
  const { model, meta } = await loadModelDir(dir);
  process.stderr.write(`${meta.name}: measuring ${dir} (${info.name})\n`);
  const metrics = { ...(await measure(model, heldout, evalDir, legalGames)), heldOutDataset: path.basename(heldout), measuredWith: info.name };
  model.dispose();
  await writeConfig(dir, { ...meta, metrics });

  const twinName = `${meta.name}-random`;
  const twinDir = arg('twin-out', path.join(path.dirname(dir), twinName));
  const host = randomInitHost(meta.model, twinSeed);
  const f16: Record<string, { data: Uint16Array; shape: number[]; dtype: 'F16' }> = {};
  for (const [k, t] of Object.entries(host)) f16[k] = { data: float32ToFloat16Bits(t.data), shape: t.shape, dtype: 'F16' };
  const twinMeta: CheckpointMeta = {
    format: 'saeboard-lm/1',
    name: twinName,
    game: meta.game,
    tokenizer: meta.tokenizer,
    model: meta.model,
    provenance: {
      kind: 'random-init',
      seed: twinSeed,
      randomInitOf: meta.name,
      init: 'nanoGPT/HF GPT-2: N(0, 0.02), residual projections N(0, 0.02/sqrt(2·nLayer)), biases 0, LayerNorm 1',
      storage: 'F16 (saeboard randomInitHost float32 draw, rounded to half precision)',
      description: `random-init twin of ${meta.name} (the paper's random-weights baseline, models.md §4)`,
    },
  };
  await fs.mkdir(twinDir, { recursive: true });
  await writeFileAtomic(path.join(twinDir, 'model.safetensors'), encodeSafetensors(f16, { format: 'saeboard-lm/1' }));
  await writeConfig(twinDir, twinMeta);
  const twin = await loadModelDir(twinDir); // measure the stored (F16) weights
  process.stderr.write(`${twinName}: measuring\n`);
  twinMeta.metrics = { ...(await measure(twin.model, heldout, evalDir, legalGames)), heldOutDataset: path.basename(heldout), measuredWith: info.name };
  twin.model.dispose();
  await writeConfig(twinDir, twinMeta);
  await readMeta(twinDir);
  process.stdout.write(JSON.stringify({ [meta.name]: metrics, [twinName]: twinMeta.metrics }, null, 2) + '\n');
}

await main();
