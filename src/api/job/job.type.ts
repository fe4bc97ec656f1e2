import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType, EdgeType } from '../common/connection.js';
import { DateTime, JSON } from '../common/scalars.js';
import type { JobRecord } from '../../services/job.service.js';

@ObjectType({ description: 'A queued unit of work (dataset, activations, SAE sweep, evaluation) and what it produced' })
export class Job implements Omit<JobRecord, 'id' | 'dependsOn'> {
  @Field(() => ID)
  id!: number;

  @Field(() => String, { description: 'GENERATE_DATASET, TRAIN_LM, COLLECT_ACTIVATIONS, TRAIN_SAE_SWEEP, EVALUATE, PROBE, IMPORT or ANALYZE' })
  kind!: string;

  @Field(() => String, { description: 'waiting (on other jobs), queued, running, succeeded, failed or cancelled' })
  status!: string;

  @Field(() => JSON, { description: 'The validated config' })
  config!: Record<string, unknown>;

  @Field(() => String, { nullable: true })
  configHash!: string | null;

  @Field(() => String, { nullable: true, description: 'The pipeline it belongs to' })
  pipeline!: string | null;

  @Field(() => String, { nullable: true })
  stage!: string | null;

  @Field(() => [ID])
  dependsOn!: number[];

  @Field(() => Float, { description: '0..1' })
  progress!: number;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => Float, { nullable: true, description: 'Items per second of the current stage (vectors, games, ...)' })
  throughput!: number | null;

  @Field(() => Float, { nullable: true })
  etaSeconds!: number | null;

  @Field(() => [String], { description: 'The last log lines' })
  logTail!: string[];

  @Field(() => JSON, { nullable: true, description: 'What it produced: ids and paths of datasets, SAEs, evaluations' })
  result!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Int)
  attempts!: number;

  @Field(() => String, { nullable: true, description: 'host:pid of the worker that ran it last' })
  worker!: string | null;

  @Field(() => String, { nullable: true })
  codeVersion!: string | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime, { nullable: true })
  startedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType()
export class JobEdge extends EdgeType(Job) {}

@ObjectType()
export class JobConnection extends ConnectionType(JobEdge) {}

@InputType()
export class JobFilter {
  @Field(() => String, { nullable: true })
  status?: string | null;

  @Field(() => String, { nullable: true })
  kind?: string | null;

  @Field(() => String, { nullable: true })
  pipeline?: string | null;
}
