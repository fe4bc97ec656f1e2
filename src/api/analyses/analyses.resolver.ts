import { Arg, Args, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { PageArgs } from '../common/page.js';
import { BoardProperty } from '../boardProperty/boardProperty.type.js';
import { Feature } from '../feature/feature.type.js';
import { SaeCheckpoint } from '../sae/sae.type.js';
import * as analyses from '../../services/analyses.service.js';
import * as saeService from '../../services/sae.service.js';
import { toBoardProperty, toFeature, type FeatureRecord, type SaeCheckpointRecord } from '../../services/records.js';
import type { BspAnalysisRecord, BspLearningRecord, ComparisonRecord, ExplanationRecord, FeatureHistoryRecord, HistoryPointRecord, LinkRecord } from '../../services/analyses.service.js';
import { BspAnalysis, BspAnalysisConnection, BspAnalysisOrder, BspLearning, BspLearningConnection, CheckpointComparison, ExplainedShare, FeatureExplanation, FeatureHistory, FeatureLink, HistoryPoint, LinkFilter } from './analyses.type.js';

async function featureAt(ctx: Context, saeCheckpointId: number, featureIndex: number | null) {
  if (featureIndex === null) return null;
  const row = await ctx.loaders.feature.load({ saeCheckpointId, featureIndex });
  return row ? toFeature(row) : null;
}

async function bsp(ctx: Context, id: number | null) {
  if (id === null) return null;
  const row = await ctx.loaders.boardProperty.load(id);
  return row ? toBoardProperty(row) : null;
}

@Resolver(() => CheckpointComparison)
export class CheckpointComparisonResolver {
  @Query(() => CheckpointComparison, {
    description: 'Features of checkpoint a matched to those of b by decoder cosine (one-to-one assignment + one-to-many links: splits, merges, deaths, births); NOT_FOUND until an ANALYZE job compared them',
  })
  compareCheckpoints(
    @Arg('a', () => ID) a: string,
    @Arg('b', () => ID) b: string,
    @Arg('filter', () => LinkFilter, { nullable: true }) filter: LinkFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return analyses.compareCheckpoints(ctx.pool, a, b, filter ?? {}, page.first, page.after);
  }

  @FieldResolver(() => SaeCheckpoint)
  a(@Root() c: ComparisonRecord, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, c.checkpointA);
  }

  @FieldResolver(() => SaeCheckpoint)
  b(@Root() c: ComparisonRecord, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, c.checkpointB);
  }
}

@Resolver(() => FeatureLink)
export class FeatureLinkResolver {
  @FieldResolver(() => Feature, { nullable: true, description: 'The feature in checkpoint A (null for a birth)' })
  a(@Root() l: LinkRecord, @Ctx() ctx: Context) {
    return featureAt(ctx, l.checkpointA, l.featureA);
  }

  @FieldResolver(() => Feature, { nullable: true, description: 'The feature in checkpoint B (null for a death)' })
  b(@Root() l: LinkRecord, @Ctx() ctx: Context) {
    return featureAt(ctx, l.checkpointB, l.featureB);
  }

  @FieldResolver(() => Number, { nullable: true, description: 'f1B − f1A: how the best alignment changed' })
  deltaF1(@Root() l: LinkRecord) {
    return l.f1A === null || l.f1B === null ? null : l.f1B - l.f1A;
  }

  @FieldResolver(() => BoardProperty, { nullable: true, description: 'Best board property of the feature in A' })
  boardPropertyA(@Root() l: LinkRecord, @Ctx() ctx: Context) {
    return bsp(ctx, l.bspA);
  }

  @FieldResolver(() => BoardProperty, { nullable: true, description: 'Best board property of the feature in B' })
  boardPropertyB(@Root() l: LinkRecord, @Ctx() ctx: Context) {
    return bsp(ctx, l.bspB);
  }
}

@Resolver(() => FeatureHistory)
export class FeatureHistoryResolver {
  @Query(() => FeatureHistory, {
    nullable: true,
    description: "A feature's F1 with its final board property at each of the SAE's evaluated checkpoints, and when it first tracks it (null: no final property); NOT_FOUND until an ANALYZE job ran on the SAE",
  })
  featureHistory(@Arg('sae', () => ID) sae: string, @Arg('feature', () => Int) feature: number, @Ctx() ctx: Context) {
    return analyses.featureHistory(ctx.pool, sae, feature);
  }

  @Query(() => BspLearningConnection, { description: 'Which board properties an SAE learns first: by the earliest checkpoint step at which one of its features tracks them (never-learnt last)' })
  learningOrder(@Arg('sae', () => ID) sae: string, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: Context) {
    return analyses.learningOrder(ctx.pool, sae, page.first, page.after);
  }

  @FieldResolver(() => Feature, { nullable: true, description: 'The feature in the final evaluated checkpoint' })
  feature(@Root() h: FeatureHistoryRecord, @Ctx() ctx: Context) {
    return featureAt(ctx, h.finalCheckpointId, h.featureIndex);
  }

  @FieldResolver(() => BoardProperty, { nullable: true })
  boardProperty(@Root() h: FeatureHistoryRecord, @Ctx() ctx: Context) {
    return bsp(ctx, h.bspId);
  }
}

@Resolver(() => HistoryPoint)
export class HistoryPointResolver {
  @FieldResolver(() => SaeCheckpoint)
  saeCheckpoint(@Root() p: HistoryPointRecord, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, p.saeCheckpointId);
  }
}

@Resolver(() => BspLearning)
export class BspLearningResolver {
  @FieldResolver(() => BoardProperty, { nullable: true })
  boardProperty(@Root() r: BspLearningRecord, @Ctx() ctx: Context) {
    return bsp(ctx, r.bspId);
  }
}

@Resolver(() => FeatureExplanation)
export class FeatureExplanationResolver {
  @FieldResolver(() => [BoardProperty], { description: 'The one or two board properties of the explanation' })
  async boardProperties(@Root() e: ExplanationRecord, @Ctx() ctx: Context) {
    const ids = e.bspB === null ? [e.bspA] : [e.bspA, e.bspB];
    return (await Promise.all(ids.map((id) => bsp(ctx, id)))).filter((x) => x !== null);
  }
}

/** Analysis fields on Feature and SaeCheckpoint. */
@Resolver(() => Feature)
export class FeatureExplanationsResolver {
  @FieldResolver(() => [FeatureExplanation], { description: 'Explanations scored against the labels (one BSP, AND or OR of two), the explanation first; empty until an ANALYZE job ran' })
  explanations(@Root() f: FeatureRecord, @Arg('first', () => Int, { defaultValue: 3 }) first: number, @Ctx() ctx: Context) {
    return analyses.explanationsOf(ctx.loaders, f, first);
  }
}

@Resolver(() => SaeCheckpoint)
export class SaeCheckpointAnalysisResolver {
  @FieldResolver(() => ExplainedShare, { nullable: true, description: 'Share of alive features explained at held-out F1 ≥ 0.5 / 0.8, absorption and splitting (null until an ANALYZE job ran)' })
  explainedShare(@Root() c: SaeCheckpointRecord, @Ctx() ctx: Context) {
    return analyses.explainedShare(ctx.loaders, c.id);
  }

  @FieldResolver(() => BspAnalysisConnection, { description: 'Per board property: main features, absorption and splitting (empty until an ANALYZE job ran)' })
  boardPropertyAnalyses(
    @Root() c: SaeCheckpointRecord,
    @Arg('orderBy', () => BspAnalysisOrder, { defaultValue: BspAnalysisOrder.ABSORPTION }) orderBy: BspAnalysisOrder,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return analyses.bspAnalyses(ctx.pool, c.id, orderBy, page.first, page.after);
  }
}

@Resolver(() => BspAnalysis)
export class BspAnalysisResolver {
  @FieldResolver(() => BoardProperty, { nullable: true })
  boardProperty(@Root() r: BspAnalysisRecord, @Ctx() ctx: Context) {
    return bsp(ctx, r.bspId);
  }

  @FieldResolver(() => Feature, { nullable: true, description: 'Its best feature (chosen on D_train)' })
  bestFeature(@Root() r: BspAnalysisRecord, @Ctx() ctx: Context) {
    return featureAt(ctx, r.saeCheckpointId, r.bestFeature);
  }

  @FieldResolver(() => Feature, { nullable: true, description: 'The feature that absorbs it most often' })
  topAbsorber(@Root() r: BspAnalysisRecord, @Ctx() ctx: Context) {
    return featureAt(ctx, r.saeCheckpointId, r.topAbsorber);
  }
}
