/**
 * Trained vs random-init LM (metrics.md §8, the paper's Table 1 baseline), end to end:
 *  1. the random-init twin of the trained LM (same config, random weights) unless --random is given;
 *  2. Standard SAEs for each LM — one per --l1 value (a small sweep, same values for both LMs) —
 *     trained here on all token positions of train-split games that are *not* D_train (games after
 *     the first --train-games);
 *  3. `saeboard eval` on all of them (no database), JSON exports in --out, and a side-by-side table
 *     of the best value over each LM's sweep (the paper reports best-of-sweep, metrics.md §8).
 * The supervised metrics must come out higher for the trained LM (they do in the paper: Othello
 * coverage 0.52 vs 0.27, reconstruction 0.95 vs 0.08 for the best SAEs of whole sweeps).
 *
 *   npx tsx scripts/eval-trained-vs-random.ts --trained models/othello-small --dataset DIR --layer 5 \
 *     [--random LMDIR] [--out DIR] [--dict 2048] [--l1 0.02,0.05,0.1] [--steps 3000] [--batch 1024] [--sae-games 2000]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, tf } from '../src/tensor/backend.js';
import { createTrainer } from '../src/sae/trainers/index.js';
import { dictionaryConfig, resolveTrainerConfig, saveDictionary, Rng } from '../src/sae/index.js';
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
    l1: { type: 'string', default: '0.02,0.05,0.1' },
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

async function trainSaes(lmDir: string, name: string): Promise<string[]> {
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
  const dirs: string[] = [];
  for (const l1 of a.l1!.split(',').map(Number)) dirs.push(await trainOne(x, n, d, lmDir, `${name}-l1_${l1}`, l1));
  return dirs;
}

async function trainOne(x: Float32Array, n: number, d: number, lmDir: string, name: string, l1: number): Promise<string> {
  const steps = Number(a.steps);
  const config = resolveTrainerConfig({ trainer: 'standard', dIn: d, dictSize: Number(a.dict), l1Penalty: l1, steps, warmupSteps: Math.min(1000, Math.floor(steps / 10)), batchSize: Number(a.batch), seed: 0 });
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
const trainedSaes = await trainSaes(a.trained, 'trained');
const randomSaes = await trainSaes(randomDir, 'random');

// 3. evaluate all, best of each sweep side by side
const results = await runEvaluation({
  saeDirs: [...trainedSaes, ...randomSaes],
  datasetDir: a.dataset,
  trainGames,
  testGames: Number(a['test-games']),
  exportDir: path.join(out, 'export'),
});
const tr = results.slice(0, trainedSaes.length).map((r) => r.result);
const rd = results.slice(trainedSaes.length).map((r) => r.result);
const best = (rs: typeof tr, k: number, metric: 'coverage' | 'reconstruction') =>
  Math.max(...rs.map((r) => (metric === 'coverage' ? r.families[k].coverage.coverage : (r.families[k].reconstruction?.reconstruction ?? 0))));
process.stdout.write(`\nper SAE (l1, alive, ${tr[0].families.map((f) => `${f.shortName} cov/rec`).join(', ')}):\n`);
for (const [label, rs, dirs] of [['trained', tr, trainedSaes], ['random', rd, randomSaes]] as const) {
  rs.forEach((r, i) =>
    process.stdout.write(`  ${label.padEnd(8)} ${path.basename(dirs[i]).padEnd(24)} alive ${r.aliveFeatures}/${r.features}  ${r.families.map((f) => `${f.coverage.coverage.toFixed(4)}/${(f.reconstruction?.reconstruction ?? 0).toFixed(4)}`).join('  ')}\n`),
  );
}
process.stdout.write(`\nbest of sweep   ${'family'.padEnd(16)} ${'coverage trained / random'.padEnd(28)} reconstruction trained / random\n`);
const verdicts: boolean[] = [];
tr[0].families.forEach((f, k) => {
  const c = [best(tr, k, 'coverage'), best(rd, k, 'coverage')];
  const r = [best(tr, k, 'reconstruction'), best(rd, k, 'reconstruction')];
  process.stdout.write(`                ${f.shortName.padEnd(16)} ${`${c[0].toFixed(4)} / ${c[1].toFixed(4)}`.padEnd(28)} ${r[0].toFixed(4)} / ${r[1].toFixed(4)}\n`);
  if (f.group === 'board_state') verdicts.push(c[0] > c[1], r[0] > r[1]);
});
process.stdout.write(verdicts.every(Boolean) ? 'board state: trained > random on coverage and reconstruction\n' : 'board state: trained is NOT above random on every metric — investigate\n');
await fs.writeFile(
  path.join(out, 'summary.json'),
  JSON.stringify(
    results.map((r) => ({ sae: r.saeDir, lm: r.lmDir, origin: r.lmOrigin, alive: r.result.aliveFeatures, families: r.result.families.map((f) => [f.shortName, f.coverage.coverage, f.reconstruction?.reconstruction]) })),
    null,
    2,
  ),
);
