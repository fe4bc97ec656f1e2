import type { NonEmptyArray } from 'type-graphql';
import { ApiKeyResolver } from './apikey/apikey.resolver.js';
import { GameResolver } from './game/game.resolver.js';
import { SystemResolver } from './system/system.resolver.js';

/** Every resolver class of the API; add a domain's resolver here. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resolvers: NonEmptyArray<Function> = [SystemResolver, GameResolver, ApiKeyResolver];
