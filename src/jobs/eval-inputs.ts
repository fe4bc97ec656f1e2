/**
 * Inputs of `saeboard eval`, loaded and checked before any compute or database write:
 * the dataset's splits, labels and token rows; each SAE with the LM (checkpoint dir, layer, site)
 * it reads from; and the consistency checks between them (game, tokenizer, layer, width,
 * the LM the SAE was trained on, finite weights).
 *
 * Which LM an SAE belongs to: `--lm/--layer/--site`, or the SAE config's `provenance`:
 *   provenance.lm        string (LM checkpoint dir) or { dir | path, configHash?, name? }
 *   provenance.layer     block index;   provenance.site   hook site (default resid_post)
 * When both are given they must agree; a provenance `lm.configHash` must match the LM found.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../errors.js';
import { adapterFor } from '../games/dataset/adapters.js';
import { openDataset, type Dataset } from '../games/dataset/reader.js';
import type { BspFamily, GameName } from '../games/types.js';
import { labelSetFromDense, type LabelSet } from '../eval/labels.js';
import { readMeta, readModelTensors, modelConfigHash, type CheckpointMeta } from '../lm/checkpoint.js';
import { SITES, siteWidth, type Site } from '../lm/model.js';
import { detectSaeFormat, loadSae, type SaeFormat } from '../sae/interop.js';
import { readSaeConfig, readSaeTensors, type SaeDirConfig } from '../sae/storage.js';
import { sha256 } from '../util/hash.js';

/**
 * The paper's sizes (metrics.md §1): 1000 D_train games, 1000 D_test games, maxima from 500·ctx
 * vectors (the code's `min(int(0.5·n_inputs), 1000)·ctx_len`; CODE≠PAPER: the blog's 256k tokens).
 * CHOICE: the code draws those vectors shuffled from a buffer over the D_train games; we take all
 * positions of the first 500 D_train games — the same count, deterministic, no torch RNG to match.
 */
export const DEFAULT_TRAIN_GAMES = 1000;
export const DEFAULT_TEST_GAMES = 1000;
/**
 * D_train games whose every position feeds the feature maxima and the alive set: the paper's code
 * draws min(int(0.5·n), 1000)·ctx_len activation vectors from n D_train games (metrics.md §2);
 * all positions of that many games are exactly that many vectors (a deterministic choice).
 */
export function defaultSampleGames(nTrainGames: number): number {
  return Math.max(1, Math.min(Math.floor(0.5 * nTrainGames), 1000));
}
/** Tokens fed to the LM per game: Othello 59 (all positions), chess 256 characters (games.md §2.3). */
export const DEFAULT_CONTEXT: Record<GameName, number> = { othello: 59, chess: 256 };

export interface SplitInputs {
  name: 'train' | 'test';
  /** Global game indices [start, end) evaluated. */
  games: { start: number; end: number };
  /** Token rows [games × stride] and the stride (tokensPerGame). */
  tokens: Uint8Array;
  stride: number;
  /** Labelled positions in dataset order: global game index and token index. */
  positionGame: Int32Array;
  positionIndex: Int32Array;
  labels: LabelSet;
}

export interface DatasetInputs {
  dir: string;
  dataset: Dataset;
  game: GameName;
  tokenizer: string;
  manifestSha256: string;
  families: BspFamily<never>[];
  contextLength: number;
  train: SplitInputs;
  test: SplitInputs;
}

export interface DatasetInputOptions {
  families?: string;
  trainGames?: number;
  testGames?: number;
  contextLength?: number;
}

/** Resolve the family selection against what the dataset actually holds. */
export function selectFamilies(dataset: Dataset, spec: string | undefined): BspFamily<never>[] {
  const m = dataset.manifest;
  const adapter = adapterFor(m.game);
  const stored = new Set(m.families.map((f) => f.shortName));
  const byName = new Map<string, BspFamily<never>>();
  for (const f of adapter.families) {
    byName.set(f.shortName, f);
    byName.set(f.name, f);
  }
  const s = (spec ?? 'default').trim();
  let wanted: BspFamily<never>[];
  if (s === 'all') wanted = adapter.families.filter((f) => stored.has(f.shortName));
  else if (s === 'default') wanted = adapter.families.filter((f) => stored.has(f.shortName) && adapter.defaultFamilies.includes(f.shortName));
  else {
    wanted = [];
    for (const name of s.split(',').map((x) => x.trim()).filter(Boolean)) {
      const f = byName.get(name);
      if (!f) throw new UserInputError(`--bsp: unknown ${m.game} BSP family "${name}" (known: ${adapter.families.map((x) => x.shortName).join(', ')})`);
      if (!stored.has(f.shortName)) {
        throw new UserInputError(`--bsp: BSP family "${f.shortName}" is not labelled in dataset ${dataset.dir} (it has: ${[...stored].join(', ') || 'none'})`);
      }
      if (!wanted.includes(f)) wanted.push(f);
    }
  }
  if (wanted.length === 0) throw new UserInputError(`no BSP family to evaluate in ${dataset.dir} (selection "${s}"; it has: ${[...stored].join(', ') || 'none'})`);
  for (const f of wanted) {
    const entry = dataset.family(f.shortName);
    if (entry.cells !== f.cells || entry.name !== f.name) {
      throw new UserInputError(`${dataset.dir}: family ${f.shortName} has ${entry.cells} cells in the manifest but ${f.cells} in this saeboard (dataset from another version?)`);
    }
  }
  return wanted;
}

export async function loadDatasetInputs(dir: string, opts: DatasetInputOptions = {}): Promise<DatasetInputs> {
  const dataset = await openDataset(dir);
  const m = dataset.manifest;
  const families = selectFamilies(dataset, opts.families);
  const contextLength = opts.contextLength ?? Math.min(DEFAULT_CONTEXT[m.game], m.tokensPerGame);
  if (contextLength > m.tokensPerGame) throw new UserInputError(`--context ${contextLength} exceeds the ${m.tokensPerGame} tokens stored per game in ${dir}`);

  const pick = (name: 'train' | 'test', want: number) => {
    const r = m.splits[name];
    const n = Math.min(want, r.end - r.start);
    if (n <= 0) throw new UserInputError(`dataset ${dir} has no ${name === 'train' ? 'D_train' : 'D_test'} games (its ${name} split is empty)`);
    return { start: r.start, end: r.start + n };
  };
  const trainGames = pick('train', opts.trainGames ?? DEFAULT_TRAIN_GAMES);
  const testGames = pick('test', opts.testGames ?? DEFAULT_TEST_GAMES);

  // One pass over the shards: keep the labelled positions of the selected games.
  const acc = { train: newAcc(families), test: newAcc(families) };
  for await (const shard of dataset.shards()) {
    const { start, end } = shard.entry.games;
    const hitsTrain = start < trainGames.end && end > trainGames.start;
    const hitsTest = start < testGames.end && end > testGames.start;
    if (!hitsTrain && !hitsTest) continue;
    const labels = families.map((f) => shard.labels(f.shortName));
    for (let p = 0; p < shard.nPositions; p++) {
      const g = shard.positionGame[p];
      const which = g >= trainGames.start && g < trainGames.end ? acc.train : g >= testGames.start && g < testGames.end ? acc.test : null;
      if (!which) continue;
      const pos = shard.positionIndex[p];
      if (pos >= contextLength) {
        throw new UserInputError(`${dir}: game ${g} has a labelled position at token ${pos}, beyond the evaluated context of ${contextLength} tokens (--context)`);
      }
      which.game.push(g);
      which.index.push(pos);
      families.forEach((f, k) => which.rows[k].push(labels[k].subarray(p * f.cells, (p + 1) * f.cells)));
    }
  }
  const split = async (name: 'train' | 'test', games: { start: number; end: number }, a: Acc): Promise<SplitInputs> => {
    const n = a.game.length;
    if (n === 0) throw new UserInputError(`dataset ${dir}: the ${name} games ${games.start}..${games.end - 1} have no labelled positions (empty dataset?)`);
    const mats = families.map((f, k) => {
      const out = new Uint8Array(n * f.cells);
      a.rows[k].forEach((r, i) => out.set(r, i * f.cells));
      return out;
    });
    const t = await dataset.readTokens(games);
    return {
      name,
      games,
      tokens: t.tokens,
      stride: t.stride,
      positionGame: Int32Array.from(a.game),
      positionIndex: Int32Array.from(a.index),
      labels: labelSetFromDense(families, mats, n),
    };
  };
  const manifestText = await fs.readFile(path.join(dir, 'manifest.json'));
  return {
    dir,
    dataset,
    game: m.game,
    tokenizer: m.tokenizer.id,
    manifestSha256: sha256(manifestText),
    families,
    contextLength,
    train: await split('train', trainGames, acc.train),
    test: await split('test', testGames, acc.test),
  };
}

interface Acc {
  game: number[];
  index: number[];
  rows: Uint8Array[][];
}

function newAcc(families: readonly unknown[]): Acc {
  return { game: [], index: [], rows: families.map(() => []) };
}

// ---------------------------------------------------------------------------------------------
// SAEs and their LMs

export interface SaeInput {
  dir: string;
  /** saeboard, dictionary_learning or SAELens layout (src/sae/interop.ts). */
  format: SaeFormat;
  config: SaeDirConfig;
  lmDir: string;
  lmMeta: CheckpointMeta;
  lmConfigHash: string;
  layer: number;
  site: Site;
}

export interface SaeInputOptions {
  lmDir?: string;
  layer?: number;
  site?: Site;
}

interface LmProvenance {
  dir: string | null;
  configHash: string | null;
  layer: number | null;
  site: string | null;
}

function readProvenance(cfg: SaeDirConfig): LmProvenance {
  const p = (cfg.provenance ?? {}) as Record<string, unknown>;
  const lm = p.lm;
  let dir: string | null = null;
  let hash: string | null = null;
  if (typeof lm === 'string') dir = lm;
  else if (lm && typeof lm === 'object') {
    const o = lm as Record<string, unknown>;
    dir = typeof o.dir === 'string' ? o.dir : typeof o.path === 'string' ? o.path : null;
    hash = typeof o.configHash === 'string' ? o.configHash : null;
  }
  return {
    dir,
    configHash: hash,
    layer: typeof p.layer === 'number' ? p.layer : null,
    site: typeof p.site === 'string' ? p.site : null,
  };
}

/** Load and cross-check one SAE directory against the dataset (no weights kept in memory). */
export async function resolveSae(dir: string, data: Pick<DatasetInputs, 'game' | 'tokenizer' | 'dir' | 'contextLength'>, opts: SaeInputOptions = {}): Promise<SaeInput> {
  const format = await detectSaeFormat(dir);
  // Foreign layouts (dictionary_learning, SAELens) are converted by the SAE area's importers.
  const config = format === 'saeboard' ? await readSaeConfig(dir) : await loadSae(dir, format).then(({ dictionary, config }) => (dictionary.dispose(), config));
  const prov = readProvenance(config);
  const where = `SAE ${dir}`;
  // A different path may still hold the same model (copied checkpoint): when the provenance has
  // the LM's config hash, that decides (below); without it, the paths must agree.
  if (opts.lmDir && prov.dir && !prov.configHash && path.resolve(prov.dir) !== path.resolve(opts.lmDir)) {
    throw new UserInputError(`${where} was trained on the LM at ${prov.dir}, not ${opts.lmDir} (--lm)`);
  }
  const lmDir = opts.lmDir ?? prov.dir;
  if (!lmDir) throw new UserInputError(`${where}: no LM given; pass --lm DIR (its config.json has no provenance.lm)`);
  const lmMeta = await readMeta(lmDir);
  const lmConfigHash = modelConfigHash(lmMeta);
  if (prov.configHash && prov.configHash !== lmConfigHash) {
    throw new UserInputError(`${where} was trained on an LM with config hash ${prov.configHash.slice(0, 12)}…, but ${lmDir} has ${lmConfigHash.slice(0, 12)}… (different model)`);
  }
  const layer = opts.layer ?? prov.layer;
  if (layer === null || layer === undefined) throw new UserInputError(`${where}: no layer given; pass --layer N (its config.json has no provenance.layer)`);
  if (opts.layer !== undefined && prov.layer !== null && prov.layer !== opts.layer) {
    throw new UserInputError(`${where} was trained on layer ${prov.layer}, not --layer ${opts.layer}`);
  }
  const siteRaw = opts.site ?? prov.site ?? 'resid_post';
  if (!(SITES as readonly string[]).includes(siteRaw)) throw new UserInputError(`${where}: unknown site "${siteRaw}" (one of ${SITES.join(', ')})`);
  const site = siteRaw as Site;
  if (opts.site && prov.site && prov.site !== opts.site) throw new UserInputError(`${where} was trained on site ${prov.site}, not --site ${opts.site}`);
  const c = lmMeta.model;
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.nLayer) throw new UserInputError(`${where}: layer ${layer} does not exist in ${lmDir} (${c.nLayer} blocks, 0-based)`);
  if (lmMeta.game !== data.game) throw new UserInputError(`${where} reads a ${lmMeta.game} LM (${lmDir}) but dataset ${data.dir} is ${data.game}`);
  if (lmMeta.tokenizer !== data.tokenizer) {
    throw new UserInputError(`tokenizer mismatch: LM ${lmDir} uses "${lmMeta.tokenizer}" but dataset ${data.dir} uses "${data.tokenizer}"`);
  }
  const width = siteWidth(c, site);
  if (config.dIn !== width) throw new UserInputError(`${where} expects ${config.dIn}-dim inputs but ${lmDir} ${site} at layer ${layer} has width ${width}`);
  if (data.contextLength > c.nCtx) throw new UserInputError(`--context ${data.contextLength} exceeds the context of ${lmDir} (${c.nCtx})`);
  return { dir, format, config, lmDir, lmMeta, lmConfigHash, layer, site };
}

/**
 * Read every SAE's and LM's weights before anything runs: the loaders reject NaN/inf weights
 * (src/util/finite.ts), which would otherwise only show up as NaN features mid-run.
 */
export async function checkFiniteWeights(sae: SaeInput): Promise<void> {
  if (sae.format === 'saeboard') await readSaeTensors(sae.dir, sae.config);
  else (await loadSae(sae.dir, sae.format)).dictionary.dispose();
}

export async function checkFiniteLmWeights(lmDir: string): Promise<void> {
  await readModelTensors(lmDir);
}
