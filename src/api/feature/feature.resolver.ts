import { Arg, Args, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { BoardProperty } from '../boardProperty/boardProperty.type.js';
import { PageArgs } from '../common/page.js';
import { Sae, SaeCheckpoint } from '../sae/sae.type.js';
import * as activations from '../../services/activation.service.js';
import * as featureService from '../../services/feature.service.js';
import * as saeService from '../../services/sae.service.js';
import { toAlignment, toBoardProperty, toFeature, type AlignmentRecord, type FeatureExampleRecord, type FeatureRecord } from '../../services/records.js';
import { UserInputError } from '../../errors.js';
import { Alignment, Feature, FeatureActivation, FeatureActivationConnection, FeatureConnection, FeatureExample, FeatureFilter, FeatureOrder, SquareF1 } from './feature.type.js';

@Resolver(() => Feature)
export class FeatureResolver {
  @Query(() => FeatureConnection, { description: 'Find features by board property, metric score or checkpoint: "which features track white knight on f3", best first' })
  features(
    @Arg('filter', () => FeatureFilter, { nullable: true }) filter: FeatureFilter | null,
    @Arg('orderBy', () => FeatureOrder, { defaultValue: FeatureOrder.F1 }) orderBy: FeatureOrder,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return featureService.features(ctx.pool, ctx.loaders, filter ?? {}, orderBy, page.first, page.after);
  }

  @Query(() => Feature, { description: 'One feature by id "<saeCheckpointId>:<index>"; NOT_FOUND if unknown' })
  feature(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<FeatureRecord> {
    return featureService.feature(ctx.loaders, id);
  }

  @Query(() => FeatureActivationConnection, { description: 'Where a feature fires on the evaluation positions, strongest first' })
  featureActivations(
    @Arg('saeCheckpoint', () => ID) saeCheckpoint: string,
    @Arg('feature', () => Int) feature: number,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return activations.featureActivations(ctx.pool, saeCheckpoint, feature, page.first, page.after);
  }

  @Query(() => [FeatureActivation], { description: 'Every stored feature activation at one evaluation position (game index, token index), strongest first' })
  positionActivations(
    @Arg('saeCheckpoint', () => ID) saeCheckpoint: string,
    @Arg('game', () => Int, { description: 'Game index in the evaluation dataset' }) game: number,
    @Arg('position', () => Int, { description: 'Token index in the game' }) position: number,
    @Ctx() ctx: Context,
  ) {
    return activations.positionActivations(ctx.pool, saeCheckpoint, game, position);
  }

  @FieldResolver(() => SaeCheckpoint)
  saeCheckpoint(@Root() f: FeatureRecord, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, f.saeCheckpointId);
  }

  @FieldResolver(() => Sae)
  sae(@Root() f: FeatureRecord, @Ctx() ctx: Context) {
    return saeService.sae(ctx.loaders, String(f.saeId));
  }

  @FieldResolver(() => BoardProperty, { nullable: true, description: 'The board property this feature aligns with best' })
  async bestBoardProperty(@Root() f: FeatureRecord, @Ctx() ctx: Context) {
    if (f.bestBspId == null) return null;
    const row = await ctx.loaders.boardProperty.load(f.bestBspId);
    return row ? toBoardProperty(row) : null;
  }

  @FieldResolver(() => [FeatureExample], { description: 'Top-activating evaluation positions, with their boards' })
  async topExamples(@Root() f: FeatureRecord, @Arg('first', () => Int, { defaultValue: 10 }) first: number, @Ctx() ctx: Context) {
    if (!Number.isInteger(first) || first < 0 || first > 100) throw new UserInputError('topExamples(first) must be an integer from 0 to 100');
    return (await ctx.loaders.examplesOfFeature.load(f)).slice(0, first);
  }

  @FieldResolver(() => [Alignment], { description: 'Best-aligned board properties (each at its best threshold), best F1 first' })
  async alignments(@Root() f: FeatureRecord, @Arg('first', () => Int, { defaultValue: 5 }) first: number, @Ctx() ctx: Context) {
    if (!Number.isInteger(first) || first < 0 || first > 50) throw new UserInputError('alignments(first) must be an integer from 0 to 50');
    return (await ctx.loaders.alignmentsOfFeature(first).load(f)).map(toAlignment);
  }

  @FieldResolver(() => [Alignment], { description: 'Its alignment with one board property at every stored threshold (precision/recall/F1 curve), in threshold order' })
  alignmentCurve(@Root() f: FeatureRecord, @Arg('boardProperty', () => ID) boardProperty: string, @Ctx() ctx: Context) {
    return featureService.alignmentCurve(ctx.loaders, f, boardProperty);
  }

  @FieldResolver(() => [SquareF1], { description: 'Best F1 per square of a square-wise family (short or code name, e.g. board_state): the 8×8 heatmap; squares without a stored alignment are left out' })
  squareF1(@Root() f: FeatureRecord, @Arg('family', () => String) family: string, @Ctx() ctx: Context) {
    return featureService.squareF1(ctx.loaders, f, family);
  }
}

@Resolver(() => FeatureExample)
export class FeatureExampleResolver {
  @FieldResolver(() => [String], { nullable: true, description: "The example's game as token texts (chess: one character each; Othello: square names), read from the evaluation dataset; the position is token positionIndex. Null if that dataset is no longer on disk" })
  transcript(@Root() e: FeatureExampleRecord, @Ctx() ctx: Context) {
    return featureService.exampleTranscript(ctx.loaders, e);
  }
}

@Resolver(() => Alignment)
export class AlignmentResolver {
  @FieldResolver(() => Feature)
  async feature(@Root() a: AlignmentRecord, @Ctx() ctx: Context) {
    const row = await ctx.loaders.feature.load(a);
    return row ? toFeature(row) : null;
  }

  @FieldResolver(() => BoardProperty)
  async boardProperty(@Root() a: AlignmentRecord, @Ctx() ctx: Context) {
    const row = await ctx.loaders.boardProperty.load(a.bspId);
    return row ? toBoardProperty(row) : null;
  }
}
