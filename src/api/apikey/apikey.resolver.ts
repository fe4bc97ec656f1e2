import { Ctx, Query, Resolver } from 'type-graphql';
import { requireKey, type Context } from '../context.js';
import { ApiKeyInfo } from './apikey.type.js';

@Resolver()
export class ApiKeyResolver {
  @Query(() => ApiKeyInfo, { description: 'The API key this request was made with; UNAUTHENTICATED without one' })
  apiKey(@Ctx() ctx: Context): ApiKeyInfo {
    const key = requireKey(ctx);
    return { id: String(key.id), name: key.name, prefix: key.prefix, createdAt: key.createdAt };
  }
}
