import { Field, Float, ObjectType } from 'type-graphql';
import { JSON } from '../common/scalars.js';
import type { ProvenanceRecord } from '../../services/provenance.service.js';

@ObjectType({
  description:
    'How a result was made: the job that produced it (null when the CLI made it outside the queue), its config and config hash, seed, code version and the hashes of its inputs',
})
export class Provenance implements Omit<ProvenanceRecord, 'jobId'> {
  jobId!: number | null;

  @Field(() => JSON, { nullable: true, description: "The row's own config (training options, hyperparameters, eval config, dataset generation)" })
  config!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  configHash!: string | null;

  @Field(() => Float, { nullable: true })
  seed!: number | null;

  @Field(() => String, { nullable: true, description: 'saeboard version and git commit that wrote it' })
  codeVersion!: string | null;

  @Field(() => JSON, { description: 'sha256 of what it was made from, by role: weights, datasetManifest, sourceFile, saeWeights, ...' })
  inputHashes!: Record<string, string>;
}
