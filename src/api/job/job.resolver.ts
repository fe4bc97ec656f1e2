import { Arg, Args, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../context.js';
import { requireKey } from '../context.js';
import { PageArgs } from '../common/page.js';
import { JSON } from '../common/scalars.js';
import * as jobs from '../../services/job.service.js';
import { jobEvents } from '../../services/jobEvents.js';
import { parseId } from '../../services/refs.js';
import { Job, JobConnection, JobFilter } from './job.type.js';

@Resolver(() => Job)
export class JobResolver {
  @Query(() => Job, { description: 'One job; NOT_FOUND if unknown' })
  job(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return jobs.job(ctx.pool, id);
  }

  @Query(() => JobConnection, { description: 'Jobs, newest first' })
  jobs(@Arg('filter', () => JobFilter, { nullable: true }) filter: JobFilter | null, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: Context) {
    return jobs.jobs(ctx.pool, filter ?? {}, page.first, page.after);
  }

  @Mutation(() => Job, {
    description:
      'Validate a config and queue one job (API key required). BAD_USER_INPUT lists every bad field; nothing is queued then. A job of the same kind and config that succeeded before is reused (the new job is born succeeded with its result) unless force.',
  })
  startJob(
    @Arg('kind', () => String) kind: string,
    @Arg('config', () => JSON) config: unknown,
    @Arg('force', () => Boolean, { defaultValue: false }) force: boolean,
    @Ctx() ctx: Context,
  ) {
    requireKey(ctx);
    return jobs.startJob(ctx.pool, kind, config, force);
  }

  @Mutation(() => [Job], { description: 'Cancel a job and what waits on it (API key required); a running job stops within seconds' })
  cancelJob(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    requireKey(ctx);
    return jobs.cancelJob(ctx.pool, id);
  }

  @Subscription(() => Job, {
    description: 'Every change of a job (or of all jobs): status, stage, progress, log — pushed over WebSocket (graphql-ws) from Postgres LISTEN/NOTIFY',
    subscribe: ({ args, context }) => jobEvents((context as Context).pool).events(args.id != null ? parseId('job', args.id as string) : null),
  })
  jobUpdated(@Root() jobId: number, @Arg('id', () => ID, { nullable: true, description: 'Only this job' }) _id: string | null, @Ctx() ctx: Context) {
    return jobs.job(ctx.pool, String(jobId));
  }
}
