import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { GameId } from '../game/game.type.js';
import * as lms from '../../services/lm.service.js';
import type { LanguageModelRecord, LmCheckpointRecord } from '../../services/records.js';
import { ActivationSet, Dataset, LanguageModel, LmCheckpoint, ProbeResult } from './lm.type.js';
import { toActivationSet } from '../../services/records.js';

@Resolver(() => LanguageModel)
export class LanguageModelResolver {
  @Query(() => [LanguageModel], { description: 'Registered language models, of one game or all' })
  languageModels(@Arg('game', () => GameId, { nullable: true }) game: GameId | null, @Ctx() ctx: Context): Promise<LanguageModelRecord[]> {
    return lms.languageModels(ctx.pool, ctx.loaders, game);
  }

  @Query(() => LanguageModel, { description: 'One language model by id or name; NOT_FOUND if unknown' })
  languageModel(@Arg('ref', () => String, { description: 'id or name, e.g. "othello-small"' }) ref: string, @Ctx() ctx: Context): Promise<LanguageModelRecord> {
    return lms.languageModel(ctx.pool, ref);
  }

  @Query(() => [Dataset], { description: 'Registered datasets, of one game or all' })
  datasets(@Arg('game', () => GameId, { nullable: true }) game: GameId | null, @Ctx() ctx: Context) {
    return lms.datasets(ctx.pool, game);
  }

  @FieldResolver(() => [LmCheckpoint])
  checkpoints(@Root() m: LanguageModelRecord, @Ctx() ctx: Context): Promise<LmCheckpointRecord[]> {
    return lms.checkpointsOfModel(ctx.loaders, m.id);
  }

  @FieldResolver(() => LanguageModel, { nullable: true, description: 'For a random-init baseline: the trained model it is the twin of' })
  randomInitOf(@Root() m: LanguageModelRecord, @Ctx() ctx: Context): Promise<LanguageModelRecord | null> | null {
    return m.randomInitOfId == null ? null : lms.lmModelById(ctx.loaders, m.randomInitOfId);
  }
}

@Resolver(() => LmCheckpoint)
export class LmCheckpointResolver {
  @Query(() => LmCheckpoint)
  lmCheckpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<LmCheckpointRecord> {
    return lms.lmCheckpoint(ctx.loaders, id);
  }

  @FieldResolver(() => LanguageModel)
  async model(@Root() c: LmCheckpointRecord, @Ctx() ctx: Context): Promise<LanguageModelRecord> {
    return (await lms.lmModelById(ctx.loaders, c.lmModelId))!;
  }

  @FieldResolver(() => [ActivationSet], { description: 'Activation sets collected from this checkpoint' })
  async activationSets(@Root() c: LmCheckpointRecord, @Ctx() ctx: Context) {
    return (await ctx.loaders.activationSetsOfLmCheckpoint.load(c.id)).map(toActivationSet);
  }

  @FieldResolver(() => [ProbeResult], { description: 'Linear probes trained on this checkpoint, per family and layer' })
  probeResults(@Root() c: LmCheckpointRecord, @Arg('family', () => String, { nullable: true }) family: string | null, @Ctx() ctx: Context) {
    return lms.probesOf(ctx.loaders, c.id, family);
  }
}
