import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { BoardProperty } from '../boardProperty/boardProperty.type.js';
import { Feature } from '../feature/feature.type.js';
import { GameId } from '../game/game.type.js';
import { Sae, SaeCheckpoint } from '../sae/sae.type.js';
import * as analysis from '../../services/analysis.service.js';
import * as saeService from '../../services/sae.service.js';
import { toBoardProperty, toFeature } from '../../services/records.js';
import type { ActiveFeatureRecord, PositionAnalysisRecord, SaeAnalysisRecord } from '../../services/analysis.service.js';
import { ActiveFeature, PositionAnalysis, SaeAnalysis } from './analysis.type.js';

@Resolver(() => PositionAnalysis)
export class PositionAnalysisResolver {
  @Query(() => PositionAnalysis, {
    // Runs the LM and SAEs live: priced for the cost limit by the SAEs it runs, not by its fields.
    complexity: ({ args, childComplexity }) => 1000 * ((args.saes as unknown[] | undefined)?.length ?? 1) + childComplexity,
    description:
      'Play the moves, run the LM and the SAEs live, and return the active features, the board properties that hold, and which active features are aligned with them. A malformed or illegal move list is BAD_USER_INPUT naming the first bad move.',
  })
  analyzePosition(
    @Arg('game', () => GameId) game: GameId,
    @Arg('moves', () => String, { description: 'Othello: "d3 c5 f6" (square names or token ids). Chess: ";1.e4 e5 2.Nf3" or "e4 e5 Nf3"' }) moves: string,
    @Arg('saes', () => [ID], { description: `SAE ids (at most ${analysis.MAX_SAES_PER_ANALYSIS}); each runs at its final checkpoint` }) saes: string[],
    @Arg('maxFeatures', () => Int, { nullable: true, description: 'Active features returned per SAE (default 20, at most 200)' }) maxFeatures: number | null,
    @Ctx() ctx: Context,
  ) {
    return analysis.analyzePosition(ctx.pool, ctx.loaders, { game, moves, saes, maxFeatures });
  }

  @FieldResolver(() => [BoardProperty], { description: 'Board properties that hold in this position (the families evaluation labels)' })
  async trueProperties(@Root() a: PositionAnalysisRecord, @Ctx() ctx: Context) {
    const rows = await Promise.all(a.trueBoardPropertyIds.map((id) => ctx.loaders.boardProperty.load(id)));
    return rows.flatMap((r) => (r ? [toBoardProperty(r)] : []));
  }
}

@Resolver(() => SaeAnalysis)
export class SaeAnalysisResolver {
  @FieldResolver(() => Sae)
  sae(@Root() s: SaeAnalysisRecord, @Ctx() ctx: Context) {
    return saeService.sae(ctx.loaders, String(s.saeId));
  }

  @FieldResolver(() => SaeCheckpoint)
  saeCheckpoint(@Root() s: SaeAnalysisRecord, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, s.saeCheckpointId);
  }
}

@Resolver(() => ActiveFeature)
export class ActiveFeatureResolver {
  @FieldResolver(() => Feature, { nullable: true, description: 'The stored feature (null if this checkpoint was not evaluated)' })
  async feature(@Root() f: ActiveFeatureRecord, @Ctx() ctx: Context) {
    const row = await ctx.loaders.feature.load(f);
    return row ? toFeature(row) : null;
  }
}
