/**
 * analyzePosition: play the moves, run the LM and the SAEs live on that position, and line the
 * active features up with the board properties that hold there (labelled by the evaluation's own
 * family code) and with the alignments stored for those features.
 *
 * LMs and SAEs are loaded once and kept (a small LRU per process): a request costs one forward
 * pass per (LM, layer, site) and one encode per SAE.
 */
import type pg from 'pg';
import { tf } from '../tensor/backend.js';
import { UnavailableError, UserInputError } from '../errors.js';
import { labelPosition } from '../eval/position.js';
import { loadModelDir, type LoadedModel } from '../lm/checkpoint.js';
import { parseSite, pointKey } from '../lm/model.js';
import { loadSae } from '../sae/interop.js';
import type { Dictionary } from '../sae/dictionary.js';
import type { GameName } from '../games/types.js';
import { boardPropertyIds } from '../db/repos/datasets.js';
import type { Loaders } from './loaders.js';
import { toAlignment, type AlignmentRecord } from './records.js';
import { parseId } from './refs.js';

export const MAX_SAES_PER_ANALYSIS = 8;
/** Live analyses run at once per process (each is CPU-bound); more wait, and past the queue are refused. */
export const MAX_CONCURRENT_ANALYSES = 2;
export const MAX_WAITING_ANALYSES = 16;

let running = 0;
const waiting: (() => void)[] = [];

async function withAnalysisSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_ANALYSES) {
    if (waiting.length >= MAX_WAITING_ANALYSES) throw new UnavailableError(`the server is busy with ${running + waiting.length} live analyses; retry in a moment`);
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}
export const MAX_FEATURES_PER_SAE = 200;

export interface ActiveFeatureRecord {
  saeCheckpointId: number;
  featureIndex: number;
  value: number;
  /** value / the feature's maximum activation on the evaluation sample (null if not evaluated). */
  relativeActivation: number | null;
  /** Its stored alignments (best threshold per property) with properties that hold here. */
  trueAlignments: AlignmentRecord[];
}

export interface SaeAnalysisRecord {
  saeId: number;
  saeCheckpointId: number;
  /** Features with a non-zero activation at the position. */
  activeFeatureCount: number;
  /** The strongest of them, strongest first. */
  features: ActiveFeatureRecord[];
}

export interface PositionAnalysisRecord {
  game: string;
  moves: string[];
  board: string;
  toMove: string;
  legalMoves: string[];
  trueBoardPropertyIds: number[];
  saes: SaeAnalysisRecord[];
}

/** A tiny LRU of loaded artefacts; evicted entries are disposed. */
class Lru<T> {
  private readonly items = new Map<string, Promise<T>>();
  constructor(
    private readonly capacity: number,
    private readonly dispose: (t: T) => void,
  ) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.items.get(key);
    if (p) {
      this.items.delete(key);
      this.items.set(key, p);
      return p;
    }
    p = load();
    p.catch(() => this.items.delete(key));
    this.items.set(key, p);
    while (this.items.size > this.capacity) {
      const [oldKey, old] = this.items.entries().next().value as [string, Promise<T>];
      this.items.delete(oldKey);
      old.then(this.dispose, () => {});
    }
    return p;
  }
}

const models = new Lru<LoadedModel>(4, (m) => m.model.dispose());
const dictionaries = new Lru<Dictionary>(32, (d) => d.dispose());
const bspIdCache = new Map<string, Promise<Int32Array>>();

function bspIdsOf(pool: pg.Pool, game: string, family: string): Promise<Int32Array> {
  const key = `${game}|${family}`;
  let p = bspIdCache.get(key);
  if (!p) {
    p = boardPropertyIds(pool, game, family);
    p.catch(() => bspIdCache.delete(key));
    bspIdCache.set(key, p);
  }
  return p;
}

interface Planned {
  saeId: number;
  saeCheckpointId: number;
  saePath: string;
  lmPath: string;
  layer: number;
  site: string;
}

export function analyzePosition(
  pool: pg.Pool,
  loaders: Loaders,
  q: { game: GameName; moves: string; saes: readonly string[]; maxFeatures?: number | null },
): Promise<PositionAnalysisRecord> {
  return withAnalysisSlot(() => analyze(pool, loaders, q));
}

async function analyze(
  pool: pg.Pool,
  loaders: Loaders,
  q: { game: GameName; moves: string; saes: readonly string[]; maxFeatures?: number | null },
): Promise<PositionAnalysisRecord> {
  const maxFeatures = q.maxFeatures ?? 20;
  if (!Number.isInteger(maxFeatures) || maxFeatures < 0 || maxFeatures > MAX_FEATURES_PER_SAE) throw new UserInputError(`maxFeatures must be an integer from 0 to ${MAX_FEATURES_PER_SAE}`);
  if (q.saes.length > MAX_SAES_PER_ANALYSIS) throw new UserInputError(`at most ${MAX_SAES_PER_ANALYSIS} SAEs per analysis (got ${q.saes.length})`);

  // Resolve every SAE to its final checkpoint and LM before any compute.
  const plans: Planned[] = [];
  for (const ref of q.saes) {
    const id = parseId('SAE', ref);
    const sae = await loaders.sae.load(id);
    if (!sae) throw new UserInputError(`no SAE with id ${id}`);
    const ckpts = await loaders.checkpointsOfSae.load(id);
    const ckpt = ckpts.find((c) => c.is_final) ?? ckpts[ckpts.length - 1];
    if (!ckpt) throw new UserInputError(`SAE ${id} has no checkpoint to run`);
    const lmCkpt = await loaders.lmCheckpoint.load(sae.lm_checkpoint_id);
    const lm = lmCkpt ? await loaders.lmModel.load(lmCkpt.lm_model_id) : null;
    if (!lmCkpt || !lm) throw new UserInputError(`SAE ${id}: its LM checkpoint is not registered`);
    if (lm.game !== q.game) throw new UserInputError(`SAE ${id} reads a ${lm.game} LM, not ${q.game}`);
    plans.push({ saeId: id, saeCheckpointId: ckpt.id, saePath: ckpt.path, lmPath: lmCkpt.path, layer: sae.layer, site: sae.site });
  }

  // The position and its true board properties (nCtx of the first LM bounds the moves).
  const firstModel = plans.length ? await models.get(plans[0].lmPath, () => loadModelDir(plans[0].lmPath)) : null;
  const catalogue = (await loaders.bspFamilies()).filter((f) => f.game === q.game).map((f) => f.family);
  const position = labelPosition(q.game, q.moves, firstModel?.model.config.nCtx ?? 1024, catalogue);
  const trueIds: number[] = [];
  for (const { family, cells } of position.labels) {
    const ids = await bspIdsOf(pool, q.game, family.name);
    for (let c = 0; c < cells.length; c++) if (cells[c]) trueIds.push(ids[c]);
  }
  const holds = new Set(trueIds);

  // One forward pass per LM (to the deepest layer any of its SAEs reads), one encode per SAE.
  const T = position.tokens.length;
  const caches = new Map<string, Map<string, tf.Tensor3D>>(); // LM path → pointKey → activations
  const encoded: { p: Planned; values: Float32Array; active: number[] }[] = [];
  try {
    for (const lmPath of new Set(plans.map((p) => p.lmPath))) {
      const loaded = await models.get(lmPath, () => loadModelDir(lmPath));
      const mine = plans.filter((p) => p.lmPath === lmPath);
      if (T > loaded.model.config.nCtx) throw new UserInputError(`moves: ${T} tokens, but the LM of SAE ${mine[0].saeId} reads at most ${loaded.model.config.nCtx}`);
      const tokens_BT = tf.tensor2d(position.tokens, [1, T], 'int32');
      try {
        caches.set(lmPath, loaded.model.runWithCache(tokens_BT, mine.map((p) => ({ layer: p.layer, site: parseSite(p.site) }))));
      } finally {
        tokens_BT.dispose();
      }
    }
    for (const p of plans) {
      const dict = await dictionaries.get(p.saePath, async () => (await loadSae(p.saePath)).dictionary);
      const x_1TD = caches.get(p.lmPath)!.get(pointKey({ layer: p.layer, site: parseSite(p.site) }))!;
      const feats = tf.tidy(() => dict.encode(x_1TD.slice([0, T - 1, 0], [1, 1, -1]).reshape([1, -1]) as tf.Tensor2D));
      const values = (await feats.data()) as Float32Array;
      feats.dispose();
      const active: number[] = [];
      for (let i = 0; i < values.length; i++) if (values[i] !== 0) active.push(i);
      active.sort((a, b) => values[b] - values[a] || a - b);
      encoded.push({ p, values, active });
    }
  } finally {
    for (const cache of caches.values()) for (const t of cache.values()) t.dispose(); // kept by runWithCache, outside any tidy
  }

  // The stored rows of every SAE's top features at once (the loaders batch them into one query each).
  const saes: SaeAnalysisRecord[] = await Promise.all(
    encoded.map(async ({ p, values, active }) => {
      const top = active.slice(0, maxFeatures);
      const keys = top.map((featureIndex) => ({ saeCheckpointId: p.saeCheckpointId, featureIndex }));
      const [rows, alignments] = await Promise.all([Promise.all(keys.map((k) => loaders.feature.load(k))), Promise.all(keys.map((k) => loaders.alignmentsOfFeature(20).load(k)))]);
      return {
        saeId: p.saeId,
        saeCheckpointId: p.saeCheckpointId,
        activeFeatureCount: active.length,
        features: top.map((featureIndex, j) => ({
          saeCheckpointId: p.saeCheckpointId,
          featureIndex,
          value: values[featureIndex],
          relativeActivation: rows[j] && rows[j]!.maxActivation > 0 ? values[featureIndex] / rows[j]!.maxActivation : null,
          trueAlignments: alignments[j].filter((a) => holds.has(a.bspId)).map(toAlignment),
        })),
      };
    }),
  );
  return { game: q.game, moves: position.moves, board: position.board, toMove: position.toMove, legalMoves: position.legalMoves, trueBoardPropertyIds: trueIds, saes };
}
