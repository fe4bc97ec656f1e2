import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { ServerStatus, VersionInfo } from './system.type.js';
import * as system from '../../services/system.service.js';

@Resolver()
export class SystemResolver {
  @Query(() => String, { description: '"ok" when the server and its database answer, else "degraded"' })
  async health(@Ctx() ctx: Context): Promise<string> {
    return (await ctx.once('status', () => system.status(ctx.pool))).ok ? 'ok' : 'degraded';
  }

  @Query(() => ServerStatus, { description: 'Detailed liveness: database reachability, latency, migrations, uptime' })
  status(@Ctx() ctx: Context): Promise<ServerStatus> {
    return ctx.once('status', () => system.status(ctx.pool));
  }

  @Query(() => VersionInfo)
  version(): VersionInfo {
    return system.version();
  }
}
