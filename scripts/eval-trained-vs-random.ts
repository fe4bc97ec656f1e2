/**
 * Trained vs random-init LM (metrics.md §8, the paper's Table 1 baseline), end to end:
 *  1. the random-init twin of the trained LM (same config, random weights) unless --random is given;
 *  2. one Standard SAE per LM, trained here on all token positions of dataset train-split games
 *     that are *not* D_train (games after the first --train-games), same hyperparameters for both;
 *  3. `saeboard eval` on both (no database), JSON exports in --out, and a side-by-side table.
 * The supervised metrics must come out higher for the trained LM (they do in the paper: Othello
 * coverage 0.52 vs 0.27, reconstruction 0.95 vs 0.08 for the best SAEs of whole sweeps).
 *
 *   npx tsx scripts/eval-trained-vs-random.ts --trained models/othello-small --dataset DIR --layer 5 \
 *     [--random LMDIR] [--out DIR] [--dict 2048] [--l1 0.05] [--steps 3000] [--batch 1024] [--sae-games 2000]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, tf } from '../src/compute/backend.js';
import { createTrainer } from '../src/compute/sae/trainers/index.js';
import { dictionaryConfig, resolveTrainerConfig, saveDictionary, Rng } from '../src/compute/sae/index.js';
import { openDataset } from '../src/games/dataset/index.js';
import { activationBatches } from '../src/lm/activations.js';
import { loadModelDir, readMeta, readModelTensors, saveModelDir } from '../src/lm/checkpoint.js';
import { inMemorySequences, truncateSequences } from '../src/lm/data.js';
import { randomInitHost } from '../src/lm/model.js';
import { runEvaluation } from '../src/jobs/eval.js';
import { DEFAULT_CONTEXT } from '../src/jobs/eval-inputs.js';

const { values: a } = parseArgs({
  options: {
    trained: { type: 'string' },
    random: { type: 'string' },
    dataset: { type: 'string' },
    layer: { type: 'string' },
    out: { type: 'string', default: '.saeboard/trained-vs-random' },
    dict: { type: 'string', default: '2048' },
    l1: { type: 'string', default: '0.05' },
    steps: { type: 'string', default: '3000' },
    batch: { type: 'string', default: '1024' },
    'sae-games': { type: 'string', default: '2000' },
    'train-games': { type: 'string', default: '1000' },
    'test-games': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
  },
});
if (!a.trained || !a.dataset || a.layer === undefined) {
  process.stderr.write('usage: npx tsx scripts/eval-trained-vs-random.ts --trained LMDIR --dataset DIR --layer N [--random LMDIR] [--out DIR]\n');
  process.exit(2);
}
await initBackend();
const out = path.resolve(a.out!);
await fs.mkdir(out, { recursive: true });
const layer = Number(a.layer);
const trainGames = Number(a['train-games']);

// 1. the random-init twin
let randomDir = a.random;
if (!randomDir) {
  randomDir = path.join(out, 'random-lm');
  const meta = await readMeta(a.trained);
  await fs.rm(randomDir, { recursive: true, force: true });
  const tensors = randomInitHost(meta.model, Number(a.seed));
  void (await readModelTensors(a.trained)); // fail early if the trained weights are unreadable
  await saveModelDir(randomDir, { ...meta, name: `${meta.name}-random-init`, provenance: { kind: 'random-init', seed: Number(a.seed), twinOf: path.resolve(a.trained) }, training: undefined, metrics: undefined }, tensors);
}

// 2. one Standard SAE per LM on games outside D_train
const ds = await openDataset(a.dataset);
const m = ds.manifest;
const ctx = Math.min(DEFAULT_CONTEXT[m.game], m.tokensPerGame);
const from = m.splits.train.start + Math.min(trainGames, m.splits.train.end - m.splits.train.start);
const to = Math.min(m.splits.train.end, from + Number(a['sae-games']));
if (to <= from) throw new Error(`the train split has no games beyond the first ${trainGames} (D_train) to train SAEs on`);
const rows = await ds.readTokens({ start: from, end: to });
const seq = truncateSequences(inMemorySequences({ game: m.game, tokenizer: m.tokenizer.id, tokens: Int32Array.from(rows.tokens), length: rows.stride }), ctx);

async function trainSae(lmDir: string, name: string): Promise<string> {
  const { model, meta } = await loadModelDir(lmDir);
  const d = meta.model.dModel;
  const chunks: Float32Array[] = [];
  for await (const b of activationBatches({ model, layer, data: seq, positions: 'all', contextLength: ctx, batchSize: 32 })) chunks.push(b.acts_ND.slice());
  model.dispose();
  const n = chunks.reduce((s, c) => s + c.length / d, 0);
  const x = new Float32Array(n * d);
  let off = 0;
  for (const c of chunks) {
    x.set(c, off);
    off += c.length;
  }
  const steps = Number(a.steps);
  const config = resolveTrainerConfig({ trainer: 'standard', dIn: d, dictSize: Number(a.dict), l1Penalty: Number(a.l1), steps, warmupSteps: Math.min(1000, Math.floor(steps / 10)), batchSize: Number(a.batch), seed: 0 });
  const trainer = createTrainer(config);
  const rng = new Rng(7);
  const B = config.batchSize;
  const batch = new Float32Array(B * d);
  let last = '';
  for (let s = 0; s < config.steps; s++) {
    for (let i = 0; i < B; i++) {
      const r = rng.int(n);
      batch.set(x.subarray(r * d, (r + 1) * d), i * d);
    }
    const x_BD = tf.tensor2d(batch, [B, d]);
    const stats = trainer.update(x_BD);
    x_BD.dispose();
    if (s % 500 === 0 || s === config.steps - 1) {
      last = JSON.stringify(stats);
      process.stderr.write(`${name} step ${s}: ${last}\n`);
    }
  }
  const dir = path.join(out, `${name}-sae`);
  await fs.rm(dir, { recursive: true, force: true });
  await saveDictionary(dir, trainer.dictionary, dictionaryConfig(trainer.dictionary, config, { step: config.steps, provenance: { lm: { dir: path.resolve(lmDir) }, layer, site: 'resid_post' } }));
  trainer.dispose();
  return dir;
}
const trainedSae = await trainSae(a.trained, 'trained');
const randomSae = await trainSae(randomDir, 'random');

// 3. evaluate both, side by side
const results = await runEvaluation({
  saeDirs: [trainedSae, randomSae],
  datasetDir: a.dataset,
  trainGames,
  testGames: Number(a['test-games']),
  exportDir: path.join(out, 'export'),
});
const [tr, rd] = results.map((r) => r.result);
process.stdout.write(`\n${'family'.padEnd(28)} ${'coverage trained / random'.padEnd(28)} reconstruction trained / random\n`);
const verdicts: boolean[] = [];
tr.families.forEach((f, k) => {
  const g = rd.families[k];
  const c = `${f.coverage.coverage.toFixed(4)} / ${g.coverage.coverage.toFixed(4)}`;
  const r = `${(f.reconstruction?.reconstruction ?? 0).toFixed(4)} / ${(g.reconstruction?.reconstruction ?? 0).toFixed(4)}`;
  process.stdout.write(`${f.shortName.padEnd(28)} ${c.padEnd(28)} ${r}\n`);
  if (f.group === 'board_state') verdicts.push(f.coverage.coverage > g.coverage.coverage, (f.reconstruction?.reconstruction ?? 0) > (g.reconstruction?.reconstruction ?? 0));
});
process.stdout.write(`\nalive features: trained ${tr.aliveFeatures}/${tr.features}, random ${rd.aliveFeatures}/${rd.features}\n`);
process.stdout.write(verdicts.every(Boolean) ? 'board state: trained > random on coverage and reconstruction\n' : 'board state: trained is NOT above random on every metric — investigate\n');
await fs.writeFile(
  path.join(out, 'summary.json'),
  JSON.stringify({ trained: { lm: a.trained, sae: trainedSae, families: tr.families.map((f) => [f.shortName, f.coverage.coverage, f.reconstruction?.reconstruction]) }, random: { lm: randomDir, sae: randomSae, families: rd.families.map((f) => [f.shortName, f.coverage.coverage, f.reconstruction?.reconstruction]) } }, null, 2),
);
