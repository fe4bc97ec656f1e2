import type pg from 'pg';
import { NotFoundError, UserInputError } from '../errors.js';
import { TRAINER_NAMES } from '../sae/config.js';
import { listBoardPropertyPage } from '../db/repos/datasets.js';
import { listFeatures, type FeatureOrder, type FeaturePageRow } from '../db/repos/features.js';
import { openDataset } from '../games/dataset/index.js';
import { decodeChess } from '../games/chess/vocab.js';
import { squareName, tokenToSquare } from '../games/othello/index.js';
import type { Loaders } from './loaders.js';
import { decodeCursor, pageSize, toConnection, type Connection, type Edge } from './pagination.js';
import { toAlignment, toFeature, type AlignmentRecord, type FeatureExampleRecord, type FeatureRecord } from './records.js';
import { parseFeatureId, parseId, resolveBoardProperty, resolveFamily, resolveLm, thresholdIndex } from './refs.js';

export interface FeatureFilter {
  game?: string | null;
  /** Board property id or readable name. */
  boardProperty?: string | null;
  family?: string | null;
  square?: string | null;
  minF1?: number | null;
  minPrecision?: number | null;
  threshold?: number | null;
  sae?: string | null;
  saeCheckpoint?: string | null;
  step?: number | null;
  allCheckpoints?: boolean | null;
  trainer?: string | null;
  layer?: number | null;
  lm?: string | null;
  alive?: boolean | null;
  explanationContains?: string | null;
}

export interface FeatureEdge extends Edge<FeatureRecord> {
  /** The (feature, board property) pair this edge is about, when the query filters by BSPs. */
  alignment: AlignmentRecord | null;
}

const MAX_BSPS_PER_QUERY = 4096;

export async function features(
  pool: pg.Pool,
  loaders: Loaders,
  filter: FeatureFilter,
  order: FeatureOrder,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<FeatureRecord, FeatureEdge>> {
  const limit = pageSize(first);
  const f = filter;
  if (f.trainer && !(TRAINER_NAMES as readonly string[]).includes(f.trainer)) throw new UserInputError(`unknown trainer "${f.trainer}" (one of ${TRAINER_NAMES.join(', ')})`);
  for (const [name, v] of [['minF1', f.minF1], ['minPrecision', f.minPrecision]] as const) {
    if (v != null && !(v >= 0 && v <= 1)) throw new UserInputError(`${name} must be between 0 and 1 (got ${v})`);
  }

  if (f.explanationContains != null && (f.explanationContains.trim() === '' || f.explanationContains.length > 200)) {
    throw new UserInputError('explanationContains must be 1–200 characters of an explanation, e.g. "knight on f3" or "AND"');
  }

  // Pairs (feature, board property) exactly when one of these is given.
  const hasBspFilter = Boolean(f.boardProperty || f.family || f.square);
  if (!hasBspFilter && (order === 'PRECISION' || order === 'RECALL')) {
    throw new UserInputError(`orderBy ${order} needs a board-property filter (boardProperty, family or square): precision and recall belong to a (feature, property) pair`);
  }
  if (!hasBspFilter && (f.minPrecision != null || f.threshold != null)) {
    throw new UserInputError('minPrecision and threshold need a board-property filter (boardProperty, family or square)');
  }

  // What the filter names (board properties, checkpoints, an LM) is looked up concurrently: the
  // lookups are independent, and each is a round trip to Postgres. Errors are reported in this
  // order whichever lookup fails first.
  const bspScope = async (): Promise<number[] | null> => {
    let bspIds: number[] | null = null;
    if (f.boardProperty) {
      const named = await resolveBoardProperty(pool, loaders, f.boardProperty, f.game);
      // The edges' alignment { boardProperty } are these rows: no second read of them.
      for (const r of named) loaders.boardProperty.prime(r.id, r);
      bspIds = named.map((r) => r.id);
    }
    if (f.family || f.square) {
      const family = f.family ? await resolveFamily(loaders, f.family, f.game) : null;
      if (f.square && !/^[a-h][1-8]$/i.test(f.square)) throw new UserInputError(`square must be like "f3" (a–h, 1–8); got "${f.square.slice(0, 10)}"`);
      const rows = await listBoardPropertyPage(pool, {
        game: f.game ?? family?.game,
        family: family?.family,
        square: f.square,
        ids: bspIds,
        orderByBestF1: false,
        after: null,
        limit: MAX_BSPS_PER_QUERY,
      });
      if (rows.length > MAX_BSPS_PER_QUERY) throw new UserInputError(`the filter matches more than ${MAX_BSPS_PER_QUERY} board properties; narrow it (game, family, square or boardProperty)`);
      for (const r of rows) loaders.boardProperty.prime(r.row.id, r.row);
      bspIds = rows.map((r) => r.row.id);
    }
    return bspIds;
  };
  const checkpointScope = async (): Promise<number[] | null> => {
    let saeCheckpointIds: number[] | null = null;
    if (f.saeCheckpoint) saeCheckpointIds = [parseId('SAE checkpoint', f.saeCheckpoint)];
    else if (f.sae) {
      const saeId = parseId('SAE', f.sae);
      const ckpts = await loaders.checkpointsOfSae.load(saeId);
      if (!ckpts.length) throw new NotFoundError(`no SAE with id ${saeId} (or it has no checkpoints)`);
      const chosen = f.step != null ? ckpts.filter((c) => c.step === f.step) : f.allCheckpoints ? ckpts : ckpts.filter((c) => c.is_final).slice(-1);
      saeCheckpointIds = (chosen.length ? chosen : ckpts.slice(-1)).map((c) => c.id);
      if (f.step != null && !chosen.length) throw new UserInputError(`SAE ${saeId} has no checkpoint at step ${f.step} (steps: ${ckpts.map((c) => c.step).join(', ')})`);
    }
    return saeCheckpointIds;
  };
  const lmScope = async (): Promise<number | null> => (f.lm ? (await resolveLm(pool, f.lm)).id : null);
  const settled = await Promise.allSettled([bspScope(), checkpointScope(), lmScope()] as const);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  const [bspIds, saeCheckpointIds, lmModelId] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [number[] | null, number[] | null, number | null];

  const tag = `features:${order}:${bspIds ? 'pairs' : 'features'}`;
  const arity = bspIds ? 4 : 3;
  const rows = await listFeatures(pool, {
    game: f.game,
    bspIds,
    saeCheckpointIds,
    step: f.step,
    allCheckpoints: Boolean(f.allCheckpoints),
    trainer: f.trainer,
    layer: f.layer,
    lmModelId,
    alive: f.alive,
    explanationContains: f.explanationContains,
    minF1: f.minF1,
    minPrecision: f.minPrecision,
    thresholdIndex: f.threshold != null ? thresholdIndex(f.threshold) : null,
    order,
    after: decodeCursor(tag, after, arity),
    limit,
  });
  for (const r of rows) loaders.feature.prime(r.feature, r.feature);
  return toConnection(
    tag,
    rows,
    limit,
    (r: FeaturePageRow) => r.sortKey,
    (r, cursor) => ({ cursor, node: toFeature(r.feature), alignment: r.alignment ? toAlignment(r.alignment) : null }),
  );
}

export async function feature(loaders: Loaders, id: string): Promise<FeatureRecord> {
  const key = parseFeatureId(id);
  const row = await loaders.feature.load(key);
  if (!row) throw new NotFoundError(`no feature ${id} (SAE checkpoint ${key.saeCheckpointId} is not evaluated, or has fewer features)`);
  return toFeature(row);
}

/** A feature × board property pair at every stored threshold (precision/recall/F1 curve), in threshold order. */
export async function alignmentCurve(loaders: Loaders, f: FeatureRecord, boardProperty: string): Promise<AlignmentRecord[]> {
  const bspId = parseId('board property', boardProperty);
  const rows = await loaders.alignmentCurve.load({ saeCheckpointId: f.saeCheckpointId, featureIndex: f.featureIndex, bspId });
  return rows.map(toAlignment);
}

export interface SquareF1Record {
  square: string;
  row: number;
  column: number;
  f1: number;
  bspId: number;
}

async function gameOfCheckpoint(loaders: Loaders, id: number): Promise<string | null> {
  const c = await loaders.saeCheckpoint.load(id);
  const s = c ? await loaders.sae.load(c.sae_id) : null;
  const lc = s ? await loaders.lmCheckpoint.load(s.lm_checkpoint_id) : null;
  const lm = lc ? await loaders.lmModel.load(lc.lm_model_id) : null;
  return lm?.game ?? null;
}

/** Best F1 per square of one square-wise family (short or code name): the feature's heatmap. */
export async function squareF1(loaders: Loaders, f: FeatureRecord, family: string): Promise<SquareF1Record[]> {
  const game = (await gameOfCheckpoint(loaders, f.saeCheckpointId)) ?? undefined;
  const fam = await resolveFamily(loaders, family, game);
  return loaders.bestF1PerSquare(fam.family).load(f);
}

export interface DensityHistogramRecord {
  /** Features that never fired on the evaluation sample. */
  dead: number;
  bins: { log10Low: number; log10High: number; count: number }[];
}

/**
 * Histogram of log10(feature density) of one evaluated checkpoint, `bins` even bins from 10^-6 (or
 * the rarest live feature) to 1; dead features counted apart.
 */
export async function densityHistogram(loaders: Loaders, saeCheckpointId: number, bins: number): Promise<DensityHistogramRecord> {
  if (!Number.isInteger(bins) || bins < 1 || bins > 200) throw new UserInputError('densityHistogram(bins) must be an integer from 1 to 200');
  const densities = await loaders.densitiesOfCheckpoint.load(saeCheckpointId);
  const live = densities.filter((d) => d > 0).map((d) => Math.log10(d));
  const low = Math.min(-6, ...live.map((l) => Math.floor(l)));
  const width = (0 - low) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const l of live) counts[Math.min(bins - 1, Math.max(0, Math.floor((l - low) / width)))]++;
  return {
    dead: densities.length - live.length,
    bins: counts.map((count, i) => ({ log10Low: low + i * width, log10High: low + (i + 1) * width, count })),
  };
}

/** Token texts of evaluation games, by "<dataset dir>|<game index>": a few examples read each shard once. */
const transcripts = new Map<string, Promise<string[] | null>>();
const MAX_TRANSCRIPTS = 512;

/**
 * The game of an example as its tokens' texts (chess: one character each; Othello: square names),
 * read from the evaluation's dataset directory; null when that directory is gone.
 */
export function exampleTranscript(loaders: Loaders, e: FeatureExampleRecord): Promise<string[] | null> {
  return (async () => {
    const evaluations = await loaders.evaluationsOfCheckpoint.load(e.saeCheckpointId);
    const dir = evaluations[evaluations.length - 1]?.dataset_path;
    if (!dir) return null;
    const key = `${dir}|${e.gameIndex}`;
    let p = transcripts.get(key);
    if (!p) {
      p = readGameTokens(dir, e.gameIndex).catch(() => null);
      if (transcripts.size >= MAX_TRANSCRIPTS) transcripts.delete(transcripts.keys().next().value!);
      transcripts.set(key, p);
    }
    return p;
  })();
}

async function readGameTokens(dir: string, gameIndex: number): Promise<string[]> {
  const ds = await openDataset(dir);
  const { tokens, lengths } = await ds.readTokens({ start: gameIndex, end: gameIndex + 1 });
  const ids = Array.from(tokens.subarray(0, lengths[0]));
  return ds.manifest.game === 'chess' ? [...decodeChess(ids)] : ids.map((t) => squareName(tokenToSquare(t)));
}
