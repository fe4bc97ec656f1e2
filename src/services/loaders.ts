import DataLoader from 'dataloader';
import type pg from 'pg';
import { countPerGame, getGamesByIds, type GameRow } from '../db/repos/games.js';
import { findBoardPropertiesByName, getBoardPropertiesByIds, listBspFamilies } from '../db/repos/datasets.js';
import type { ProcessCaches } from './catalogue.js';
import { featureExamplesFor } from '../db/repos/eval.js';
import { alignmentCurves, bestAlignmentsOfFeatures, bestF1PerSquare, bestFeaturesOfBsps, densitiesOfCheckpoints, getFeatures, type AlignmentCurveKey, type FeatureKey } from '../db/repos/features.js';
import { activationSetsOfLmCheckpoints, bestProbeAccuracyOfFamilies, checkpointsOfLmModels, getActivationSetsByIds, getLmCheckpointsByIds, getLmModelsByIds, probesOfLmCheckpoints } from '../db/repos/lm.js';
import { createProvenanceLoaders } from './provenance.service.js';
import { checkpointsOfSaes, evaluationsOfCheckpoints, getSaeCheckpointsByIds, getSaesByIds, metricsOfCheckpoints } from '../db/repos/sae.js';
import { analysesOfCheckpoints, explanationsOfFeatures } from '../db/repos/analyses.js';

const featureKey = (k: FeatureKey) => `${k.saeCheckpointId}:${k.featureIndex}`;

/** A loader per argument value (e.g. a list limit), made on first use within the request. */
function perArgument<A, L>(make: (arg: A) => L): (arg: A) => L {
  const made = new Map<A, L>();
  return (arg) => {
    let l = made.get(arg);
    if (!l) made.set(arg, (l = make(arg)));
    return l;
  };
}

/**
 * One DataLoader set per request: every field resolver that would query per parent row goes
 * through a loader, so a list of N parents costs one query per field, not N. The BSP catalogue,
 * SAE rows and SAE checkpoint lists come from the server's process caches when it has them.
 */
export function createLoaders(pool: pg.Pool, caches: ProcessCaches | null = null) {
  const catalogue = caches?.catalogue;
  const counter = (table: 'datasets' | 'board_properties' | 'lm_models') =>
    new DataLoader<string, number>(async (ids) => {
      const counts = await countPerGame(pool, table, ids);
      return ids.map((id) => counts.get(id) ?? 0);
    });
  let families: ReturnType<typeof listBspFamilies> | null = null;
  return {
    provenance: createProvenanceLoaders(pool),
    game: new DataLoader<string, GameRow | null>(async (ids) => {
      const rows = await getGamesByIds(pool, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    datasetCount: counter('datasets'),
    boardPropertyCount: counter('board_properties'),
    lmModelCount: counter('lm_models'),
    /** The BSP family catalogue, read once per request (or not at all, from the catalogue cache). */
    bspFamilies: () => (families ??= catalogue ? catalogue.bspFamilies() : listBspFamilies(pool)),
    /** Board properties with a readable name (case-insensitive), of one game or any. */
    boardPropertiesNamed: (name: string, game?: string | null) => (catalogue ? catalogue.boardPropertiesNamed(name, game) : findBoardPropertiesByName(pool, name, game)),
    sae: new DataLoader((ids: readonly number[]) => (caches ? caches.saes.loadMany(ids) : getSaesByIds(pool, ids))),
    saeCheckpoint: new DataLoader((ids: readonly number[]) => getSaeCheckpointsByIds(pool, ids)),
    checkpointsOfSae: new DataLoader((ids: readonly number[]) => (caches ? caches.checkpointsOfSae.loadMany(ids) : checkpointsOfSaes(pool, ids))),
    metricsOfCheckpoint: new DataLoader((ids: readonly number[]) => metricsOfCheckpoints(pool, ids)),
    evaluationsOfCheckpoint: new DataLoader((ids: readonly number[]) => evaluationsOfCheckpoints(pool, ids)),
    feature: new DataLoader((keys: readonly FeatureKey[]) => getFeatures(pool, keys), { cacheKeyFn: featureKey }),
    examplesOfFeature: new DataLoader((keys: readonly FeatureKey[]) => featureExamplesFor(pool, keys), { cacheKeyFn: featureKey }),
    alignmentsOfFeature: perArgument(
      (limit: number) => new DataLoader((keys: readonly FeatureKey[]) => bestAlignmentsOfFeatures(pool, keys, limit), { cacheKeyFn: featureKey }),
    ),
    /** Every stored threshold of one (feature, board property) pair. */
    alignmentCurve: new DataLoader((keys: readonly AlignmentCurveKey[]) => alignmentCurves(pool, keys), { cacheKeyFn: (k) => `${featureKey(k)}:${k.bspId}` }),
    /** Best F1 per square of one family (code name), per feature. */
    bestF1PerSquare: perArgument((family: string) => new DataLoader((keys: readonly FeatureKey[]) => bestF1PerSquare(pool, keys, family), { cacheKeyFn: featureKey })),
    densitiesOfCheckpoint: new DataLoader((ids: readonly number[]) => densitiesOfCheckpoints(pool, ids)),
    boardProperty: new DataLoader((ids: readonly number[]) => getBoardPropertiesByIds(pool, ids)),
    bestFeaturesOfBsp: perArgument((limit: number) => new DataLoader((ids: readonly number[]) => bestFeaturesOfBsps(pool, ids, limit))),
    lmModel: new DataLoader((ids: readonly number[]) => getLmModelsByIds(pool, ids)),
    lmCheckpoint: new DataLoader((ids: readonly number[]) => getLmCheckpointsByIds(pool, ids)),
    checkpointsOfLmModel: new DataLoader((ids: readonly number[]) => checkpointsOfLmModels(pool, ids)),
    probesOfLmCheckpoint: new DataLoader((ids: readonly number[]) => probesOfLmCheckpoints(pool, ids)),
    activationSetsOfLmCheckpoint: new DataLoader((ids: readonly number[]) => activationSetsOfLmCheckpoints(pool, ids)),
    activationSet: new DataLoader((ids: readonly number[]) => getActivationSetsByIds(pool, ids)),
    explanationsOfFeature: new DataLoader((keys: readonly FeatureKey[]) => explanationsOfFeatures(pool, keys), { cacheKeyFn: featureKey }),
    analysisOfCheckpoint: new DataLoader((ids: readonly number[]) => analysesOfCheckpoints(pool, ids)),
    /** Keyed "<game>|<family short name>". */
    bestProbeOfFamily: new DataLoader((keys: readonly string[]) => bestProbeAccuracyOfFamilies(pool, keys)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
