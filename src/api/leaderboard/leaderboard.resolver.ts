import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { GameId } from '../game/game.type.js';
import { LanguageModel, ProbeResult } from '../lm/lm.type.js';
import { Sae, SaeCheckpoint } from '../sae/sae.type.js';
import * as leaderboards from '../../services/leaderboard.service.js';
import * as lms from '../../services/lm.service.js';
import * as saeService from '../../services/sae.service.js';
import type { LeaderboardEntryRecord, LeaderboardRecord } from '../../services/leaderboard.service.js';
import { Leaderboard, LeaderboardEntry } from './leaderboard.type.js';

@Resolver(() => Leaderboard)
export class LeaderboardResolver {
  @Query(() => Leaderboard, { description: 'SAEs of a game (and layer) ranked by a metric of their final checkpoint' })
  leaderboard(
    @Arg('game', () => GameId) game: GameId,
    @Arg('metric', () => String, { description: 'coverage, reconstruction, frac_recovered, frac_variance_explained, l0, absorption, splitting, ... (absorption and splitting rank lowest first)' }) metric: string,
    @Arg('family', () => String, { nullable: true, description: 'BSP family for coverage / reconstruction, e.g. board_state' }) family: string | null,
    @Arg('layer', () => Int, { nullable: true }) layer: number | null,
    @Arg('evalConfigHash', () => String, { nullable: true }) evalConfigHash: string | null,
    @Arg('first', () => Int, { nullable: true, description: 'Entries per list, 1–1000 (default 100)' }) first: number | null,
    @Ctx() ctx: Context,
  ) {
    return leaderboards.leaderboard(ctx.pool, ctx.loaders, { game, metric, family, layer, evalConfigHash, first });
  }

  @FieldResolver(() => ProbeResult, { nullable: true, description: 'Best linear probe of the family on a trained LM at that layer (the ceiling)' })
  probe(@Root() board: LeaderboardRecord, @Ctx() ctx: Context) {
    return leaderboards.leaderboardProbe(ctx.pool, board);
  }
}

@Resolver(() => LeaderboardEntry)
export class LeaderboardEntryResolver {
  @FieldResolver(() => Sae)
  sae(@Root() e: LeaderboardEntryRecord, @Ctx() ctx: Context) {
    return saeService.sae(ctx.loaders, String(e.saeId));
  }

  @FieldResolver(() => SaeCheckpoint)
  saeCheckpoint(@Root() e: LeaderboardEntryRecord, @Ctx() ctx: Context) {
    return saeService.saeCheckpoint(ctx.loaders, e.saeCheckpointId);
  }

  @FieldResolver(() => LanguageModel)
  languageModel(@Root() e: LeaderboardEntryRecord, @Ctx() ctx: Context) {
    return lms.lmModelById(ctx.loaders, e.lmModelId);
  }
}
