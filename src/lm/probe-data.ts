/**
 * Probe inputs from a labelled game dataset: for every labelled position of a split (Othello:
 * every move; chess: the first 20 dots, games.md §1.4/§2.5), the activations of several layers
 * (one forward pass per batch of games, stopping after the deepest layer) and the labels of the
 * requested BSP families. Reads the dataset shard by shard.
 */
import { tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import { openDataset, type DatasetFamilyEntry } from '../games/dataset/index.js';
import { checkTokenizerMatch } from './data.js';
import { checkLayer, siteWidth, type Gpt, type Site } from './model.js';
import { trainProbe, type ProbeOptions, type ProbeResult } from './probe.js';

export interface ProbeDataset {
  /** Per requested layer: [n, d] activations. */
  acts: Map<number, Float32Array>;
  /** Per family short name: [n, cells] 0/1 labels. */
  labels: Map<string, Uint8Array>;
  families: DatasetFamilyEntry[];
  n: number;
  d: number;
}

export async function collectProbeData(opts: {
  model: Gpt;
  modelTokenizer: string;
  datasetDir: string;
  split: 'train' | 'test';
  layers: number[];
  families: string[];
  site?: Site;
  /** Stop after this many positions (default: all of the split). */
  maxPositions?: number;
  batchSize?: number;
  onProgress?: (positions: number) => void;
}): Promise<ProbeDataset> {
  const { model, layers } = opts;
  const site = opts.site ?? 'resid_post';
  for (const l of layers) checkLayer(model.config, l);
  const ds = await openDataset(opts.datasetDir);
  const m = ds.manifest;
  checkTokenizerMatch(model.config, opts.modelTokenizer, {
    game: m.game, tokenizer: m.tokenizer.id, count: 0, length: m.tokensPerGame, source: opts.datasetDir, read: async () => new Int32Array(0),
  });
  const families = opts.families.map((f) => ds.family(f));
  const range = m.splits[opts.split];
  const T = Math.min(model.config.nCtx, m.tokensPerGame);
  const d = siteWidth(model.config, site);
  const deepest = Math.max(...layers);
  const bs = opts.batchSize ?? 32;

  // count the positions first so the arrays are allocated once
  let total = 0;
  for (const e of m.shards) {
    if (e.games.end <= range.start || e.games.start >= range.end) continue;
    total += e.positions.end - e.positions.start; // upper bound; trimmed below
  }
  const cap = Math.min(total, opts.maxPositions ?? Number.MAX_SAFE_INTEGER);
  const acts = new Map(layers.map((l) => [l, new Float32Array(cap * d)]));
  const labels = new Map(families.map((f) => [f.shortName, new Uint8Array(cap * f.cells)]));
  let n = 0;

  outer: for (let s = 0; s < m.shards.length && n < cap; s++) {
    const e = m.shards[s];
    if (e.games.end <= range.start || e.games.start >= range.end) continue;
    const shard = await ds.readShard(s, { verify: false });
    const famLabels = families.map((f) => shard.labels(f.shortName));
    // positions of this shard, grouped by game (they are stored in game order)
    const g0 = Math.max(e.games.start, range.start);
    const g1 = Math.min(e.games.end, range.end);
    let p = 0;
    for (let gb = g0; gb < g1; gb += bs) {
      const ge = Math.min(g1, gb + bs);
      const B = ge - gb;
      const tokens = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const o = (gb + b - e.games.start) * m.tokensPerGame;
        for (let t = 0; t < T; t++) tokens[b * T + t] = shard.tokens[o + t];
      }
      const captured = new Map<number, Float32Array>();
      const kept: tf.Tensor[] = [];
      tf.tidy(() => {
        const out = model.forward(tf.tensor2d(tokens, [B, T], 'int32'), {
          stopAfterLayer: deepest,
          hook: (x, pt) => {
            if (pt.site === site && layers.includes(pt.layer)) kept[layers.indexOf(pt.layer)] = tf.keep(x.clone());
          },
        });
        out.dispose();
      });
      for (let i = 0; i < layers.length; i++) captured.set(layers[i], (await kept[i].data()) as Float32Array);
      tf.dispose(kept);
      // skip positions of games before gb
      while (p < shard.nPositions && shard.positionGame[p] < gb) p++;
      for (; p < shard.nPositions && shard.positionGame[p] < ge; p++) {
        const pos = shard.positionIndex[p];
        if (pos >= T) continue; // beyond the model's context
        const b = shard.positionGame[p] - gb;
        for (const l of layers) acts.get(l)!.set(captured.get(l)!.subarray((b * T + pos) * d, (b * T + pos + 1) * d), n * d);
        families.forEach((f, i) => labels.get(f.shortName)!.set(famLabels[i].subarray(p * f.cells, (p + 1) * f.cells), n * f.cells));
        n++;
        if (n >= cap) break outer;
      }
      opts.onProgress?.(n);
    }
  }
  if (n === 0) throw new UserInputError(`${opts.datasetDir}: the ${opts.split} split has no labelled positions within the model's context`);
  return {
    acts: new Map([...acts].map(([l, a]) => [l, a.subarray(0, n * d)])),
    labels: new Map([...labels].map(([f, y]) => [f, y.subarray(0, n * families.find((x) => x.shortName === f)!.cells)])),
    families,
    n,
    d,
  };
}

/** The board-state probe of each game: Othello mine/yours/empty (models.md §5), chess 13-way pieces. */
export const DEFAULT_PROBE_FAMILY: Record<'othello' | 'chess', string> = { othello: 'mine_yours', chess: 'piece' };

/**
 * Linear probes of `families` at each of `layers` (resid_post), trained on up to `maxTrain`
 * D_train positions and scored on up to `maxTest` D_test positions of a dataset.
 */
export async function trainLayerProbes(opts: {
  model: Gpt;
  modelTokenizer: string;
  datasetDir: string;
  layers: number[];
  families: string[];
  maxTrain: number;
  maxTest: number;
  probe?: ProbeOptions;
  onProgress?: (positions: number) => void;
}): Promise<(ProbeResult & { layer: number })[]> {
  const common = { model: opts.model, modelTokenizer: opts.modelTokenizer, datasetDir: opts.datasetDir, layers: opts.layers, families: opts.families };
  const train = await collectProbeData({ ...common, split: 'train', maxPositions: opts.maxTrain, onProgress: opts.onProgress });
  const test = await collectProbeData({ ...common, split: 'test', maxPositions: opts.maxTest, onProgress: (n) => opts.onProgress?.(train.n + n) });
  const results: (ProbeResult & { layer: number })[] = [];
  for (const layer of opts.layers) {
    for (const f of train.families) {
      const r = await trainProbe(
        f,
        train.d,
        { x: train.acts.get(layer)!, y: train.labels.get(f.shortName)!, n: train.n },
        { x: test.acts.get(layer)!, y: test.labels.get(f.shortName)!, n: test.n },
        opts.probe ?? {},
      );
      results.push({ ...r, layer });
    }
  }
  return results;
}
