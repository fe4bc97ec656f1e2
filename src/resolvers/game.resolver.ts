import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../api/context.js';
import { Game, GameId } from '../schema/game.js';
import * as gameService from '../services/game.service.js';

@Resolver(() => Game)
export class GameResolver {
  @Query(() => [Game], { description: 'All games, read from the database' })
  games(@Ctx() ctx: Context): Promise<Game[]> {
    return gameService.games(ctx.pool);
  }

  @Query(() => Game, { description: 'One game; NOT_FOUND if it is not registered' })
  game(@Arg('id', () => GameId) id: GameId, @Ctx() ctx: Context): Promise<Game> {
    return gameService.game(ctx.loaders, id);
  }

  @FieldResolver(() => Int, { description: 'Registered datasets of this game' })
  datasetCount(@Root() game: Game, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.datasetCount.load(game.id);
  }

  @FieldResolver(() => Int, { description: 'Board state properties in the BSP catalogue' })
  boardPropertyCount(@Root() game: Game, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.boardPropertyCount.load(game.id);
  }

  @FieldResolver(() => Int, { description: 'Registered language models' })
  lmModelCount(@Root() game: Game, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.lmModelCount.load(game.id);
  }
}
