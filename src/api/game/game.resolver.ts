import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { Game, GameId } from './game.type.js';
import * as gameService from '../../services/game.service.js';
import type { GameInfo } from '../../services/game.service.js';

@Resolver(() => Game)
export class GameResolver {
  @Query(() => [Game], { description: 'All games, read from the database' })
  games(@Ctx() ctx: Context): Promise<GameInfo[]> {
    return gameService.games(ctx.pool);
  }

  @Query(() => Game, { description: 'One game; NOT_FOUND if it is not registered' })
  game(@Arg('id', () => GameId) id: GameId, @Ctx() ctx: Context): Promise<GameInfo> {
    return gameService.game(ctx.loaders, id);
  }

  @FieldResolver(() => Int, { description: 'Registered datasets of this game' })
  datasetCount(@Root() game: GameInfo, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.datasetCount.load(game.id);
  }

  @FieldResolver(() => Int, { description: 'Board state properties in the BSP catalogue' })
  boardPropertyCount(@Root() game: GameInfo, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.boardPropertyCount.load(game.id);
  }

  @FieldResolver(() => Int, { description: 'Registered language models' })
  lmModelCount(@Root() game: GameInfo, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.lmModelCount.load(game.id);
  }
}
