/** The `provenance` field of every result type, and the job behind it. */
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../context.js';
import { Job } from '../job/job.type.js';
import { ActivationSet, Dataset, LanguageModel, LmCheckpoint, ProbeResult } from '../lm/lm.type.js';
import { Evaluation, MetricResult, Sae, SaeCheckpoint } from '../sae/sae.type.js';
import type { ProvenanceTable } from '../../db/repos/provenance.js';
import { producingJob } from '../../services/job.service.js';
import { provenance, type ProvenanceRecord } from '../../services/provenance.service.js';
import { Provenance } from './provenance.type.js';

const DESCRIPTION = 'The job that produced it, its config and hash, seed, code version and input hashes';

@Resolver(() => Provenance)
export class ProvenanceResolver {
  @FieldResolver(() => Job, { nullable: true, description: 'The job that produced it; null when made by the CLI outside the queue' })
  job(@Root() p: ProvenanceRecord, @Ctx() ctx: Context) {
    return producingJob(ctx.loaders, p);
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function provenanceResolver(type: () => Function, table: ProvenanceTable) {
  @Resolver(type)
  class R {
    @FieldResolver(() => Provenance, { description: DESCRIPTION })
    provenance(@Root() row: { id: number }, @Ctx() ctx: Context): Promise<ProvenanceRecord> {
      return provenance(ctx.loaders, table, row.id);
    }
  }
  Object.defineProperty(R, 'name', { value: `${table}ProvenanceResolver` });
  return R;
}

export const provenanceResolvers = [
  ProvenanceResolver,
  provenanceResolver(() => Dataset, 'datasets'),
  provenanceResolver(() => LanguageModel, 'lm_models'),
  provenanceResolver(() => LmCheckpoint, 'lm_checkpoints'),
  provenanceResolver(() => ActivationSet, 'activation_sets'),
  provenanceResolver(() => ProbeResult, 'probe_results'),
  provenanceResolver(() => Sae, 'saes'),
  provenanceResolver(() => SaeCheckpoint, 'sae_checkpoints'),
  provenanceResolver(() => Evaluation, 'sae_evaluations'),
  provenanceResolver(() => MetricResult, 'metric_results'),
];
