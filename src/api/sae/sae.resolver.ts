import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { PageArgs } from '../common/page.js';
import { ActivationSet, LanguageModel, LmCheckpoint } from '../lm/lm.type.js';
import { toActivationSet } from '../../services/records.js';
import { FeatureConnection, FeatureFilter, FeatureOrder } from '../feature/feature.type.js';
import * as saeService from '../../services/sae.service.js';
import * as featureService from '../../services/feature.service.js';
import * as lms from '../../services/lm.service.js';
import type { SaeCheckpointRecord, SaeRecord } from '../../services/records.js';
import { DensityHistogram, Evaluation, MetricResult, Sae, SaeCheckpoint, SaeConnection, SaeFilter, SaeOrder } from './sae.type.js';

@ArgsType()
class MetricArgs {
  @Field(() => String, { nullable: true })
  metric?: string | null;

  @Field(() => String, { nullable: true, description: 'BSP family, short or code name' })
  family?: string | null;

  @Field(() => String, { nullable: true })
  evalConfigHash?: string | null;
}

@Resolver(() => Sae)
export class SaeResolver {
  @Query(() => SaeConnection, { description: 'SAEs, filtered, ordered by a metric of their final checkpoint (or by id)' })
  saes(
    @Arg('filter', () => SaeFilter, { nullable: true }) filter: SaeFilter | null,
    @Arg('orderBy', () => SaeOrder, { nullable: true }) orderBy: SaeOrder | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return saeService.saes(ctx.pool, ctx.loaders, filter ?? {}, orderBy, page.first, page.after);
  }

  @Query(() => Sae, { description: 'One SAE; NOT_FOUND if unknown' })
  sae(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<SaeRecord> {
    return saeService.sae(ctx.loaders, id);
  }

  @FieldResolver(() => LmCheckpoint)
  lmCheckpoint(@Root() s: SaeRecord, @Ctx() ctx: Context) {
    return lms.lmCheckpoint(ctx.loaders, s.lmCheckpointId);
  }

  @FieldResolver(() => LanguageModel)
  async languageModel(@Root() s: SaeRecord, @Ctx() ctx: Context) {
    const c = await lms.lmCheckpoint(ctx.loaders, s.lmCheckpointId);
    return lms.lmModelById(ctx.loaders, c.lmModelId);
  }

  @FieldResolver(() => ActivationSet, { nullable: true, description: 'The activation set it was trained on, if registered' })
  async activationSet(@Root() s: SaeRecord, @Ctx() ctx: Context) {
    if (s.activationSetId == null) return null;
    const row = await ctx.loaders.activationSet.load(s.activationSetId);
    return row ? toActivationSet(row) : null;
  }

  @FieldResolver(() => [SaeCheckpoint], { description: 'Every kept checkpoint, in step order' })
  checkpoints(@Root() s: SaeRecord, @Ctx() ctx: Context) {
    return saeService.checkpointsOf(ctx.loaders, s.id);
  }

  @FieldResolver(() => SaeCheckpoint, { nullable: true })
  finalCheckpoint(@Root() s: SaeRecord, @Ctx() ctx: Context) {
    return saeService.finalCheckpointOf(ctx.loaders, s.id);
  }

  @FieldResolver(() => [MetricResult], { description: 'Metrics of the final checkpoint (newest per metric and family)' })
  async metrics(@Root() s: SaeRecord, @Args(() => MetricArgs) a: MetricArgs, @Ctx() ctx: Context) {
    const final = await saeService.finalCheckpointOf(ctx.loaders, s.id);
    return final ? saeService.metricsOf(ctx.loaders, final.id, a) : [];
  }
}

@Resolver(() => SaeCheckpoint)
export class SaeCheckpointResolver {
  @Query(() => SaeCheckpoint)
  saeCheckpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, id);
  }

  @FieldResolver(() => Sae)
  sae(@Root() c: SaeCheckpointRecord, @Ctx() ctx: Context) {
    return saeService.sae(ctx.loaders, String(c.saeId));
  }

  @FieldResolver(() => [MetricResult], { description: 'Metrics of this checkpoint (newest per metric and family unless allConfigs)' })
  metrics(
    @Root() c: SaeCheckpointRecord,
    @Args(() => MetricArgs) a: MetricArgs,
    @Arg('allConfigs', () => Boolean, { defaultValue: false }) allConfigs: boolean,
    @Ctx() ctx: Context,
  ) {
    return saeService.metricsOf(ctx.loaders, c.id, { ...a, latestOnly: !allConfigs });
  }

  @FieldResolver(() => DensityHistogram, { description: "Histogram of its features' log10 density (evaluated checkpoints; empty bins otherwise)" })
  densityHistogram(@Root() c: SaeCheckpointRecord, @Arg('bins', () => Int, { defaultValue: 20 }) bins: number, @Ctx() ctx: Context) {
    return featureService.densityHistogram(ctx.loaders, c.id, bins);
  }

  @FieldResolver(() => [Evaluation])
  evaluations(@Root() c: SaeCheckpointRecord, @Ctx() ctx: Context) {
    return saeService.evaluationsOf(ctx.loaders, c.id);
  }

  @FieldResolver(() => FeatureConnection, { description: "This checkpoint's features (the features query with saeCheckpoint set)" })
  features(
    @Root() c: SaeCheckpointRecord,
    @Arg('filter', () => FeatureFilter, { nullable: true }) filter: FeatureFilter | null,
    @Arg('orderBy', () => FeatureOrder, { defaultValue: FeatureOrder.MAX_ACTIVATION }) orderBy: FeatureOrder,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return featureService.features(ctx.pool, ctx.loaders, { ...filter, saeCheckpoint: String(c.id), sae: null, step: null }, orderBy, page.first, page.after);
  }
}
