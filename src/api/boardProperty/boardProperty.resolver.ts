import { Arg, Args, Ctx, FieldResolver, Float, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { GameId } from '../game/game.type.js';
import { Alignment } from '../feature/feature.type.js';
import { ProbeResult } from '../lm/lm.type.js';
import { toProbeResult } from '../../services/records.js';
import { PageArgs } from '../common/page.js';
import * as bsps from '../../services/boardProperty.service.js';
import type { BoardPropertyRecord } from '../../services/records.js';
import { BoardProperty, BoardPropertyConnection, BoardPropertyFilter, BoardPropertyOrder } from './boardProperty.type.js';

@Resolver(() => BoardProperty)
export class BoardPropertyResolver {
  @Query(() => BoardPropertyConnection, { description: 'The BSP catalogue, with how well SAE features track each property' })
  boardProperties(
    @Arg('filter', () => BoardPropertyFilter, { nullable: true }) filter: BoardPropertyFilter | null,
    @Arg('orderBy', () => BoardPropertyOrder, { defaultValue: BoardPropertyOrder.ID }) orderBy: BoardPropertyOrder,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Context,
  ) {
    return bsps.boardProperties(ctx.pool, ctx.loaders, filter ?? {}, orderBy === BoardPropertyOrder.BEST_F1, page.first, page.after);
  }

  @Query(() => BoardProperty, { description: 'One board property by id or readable name (BAD_USER_INPUT with the closest names if unknown)' })
  boardProperty(
    @Arg('id', () => ID, { nullable: true }) id: string | null,
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @Arg('game', () => GameId, { nullable: true }) game: GameId | null,
    @Ctx() ctx: Context,
  ): Promise<BoardPropertyRecord> {
    return bsps.boardProperty(ctx.pool, ctx.loaders, { id, name, game });
  }

  @FieldResolver(() => [Alignment], { description: 'Its best features over the final checkpoints of every SAE, best F1 first' })
  bestFeatures(@Root() b: BoardPropertyRecord, @Arg('first', () => Int, { defaultValue: 5 }) first: number, @Ctx() ctx: Context) {
    return bsps.bestFeaturesOf(ctx.loaders, b.id, first);
  }

  @FieldResolver(() => ProbeResult, { nullable: true, description: "The best linear probe of this property's family on a trained LM (probes are per family): the ceiling" })
  async bestProbe(@Root() b: BoardPropertyRecord, @Ctx() ctx: Context) {
    const row = await ctx.loaders.bestProbeOfFamily.load(`${b.game}|${b.family}`);
    return row ? toProbeResult(row) : null;
  }

  @FieldResolver(() => Float, { nullable: true, description: 'Best F1 of any feature of a final SAE checkpoint (null: none aligned)' })
  bestF1(@Root() b: BoardPropertyRecord) {
    return b.bestF1;
  }
}
