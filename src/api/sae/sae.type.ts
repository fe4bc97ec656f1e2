import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType, EdgeType } from '../common/connection.js';
import { DateTime, JSON } from '../common/scalars.js';
import { GameId } from '../game/game.type.js';
import type { EvaluationRecord, MetricResultRecord, SaeCheckpointRecord, SaeRecord } from '../../services/records.js';

@ObjectType({ description: 'A sparse autoencoder trained on one hook site of one LM checkpoint' })
export class Sae implements Omit<SaeRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  @Field(() => String)
  name!: string;

  lmCheckpointId!: number;
  activationSetId!: number | null;

  @Field(() => Int, { description: 'Block whose activations the SAE reads' })
  layer!: number;

  @Field(() => String, { description: 'Hook site, e.g. resid_post' })
  site!: string;

  @Field(() => String, { description: 'standard, p_anneal, gated, gated_anneal, top_k, batch_top_k or jump_relu' })
  trainer!: string;

  @Field(() => String, { description: 'Dictionary architecture: relu, gated, top_k, batch_top_k, jump_relu' })
  dictionary!: string;

  @Field(() => Int, { description: 'Input width (the LM site width)' })
  dIn!: number;

  @Field(() => Int, { description: 'Number of features' })
  dictionarySize!: number;

  @Field(() => JSON, { description: 'The full trainer config: penalties, k, learning rate, schedule, steps, ...' })
  hyperparameters!: Record<string, unknown>;

  @Field(() => String)
  configHash!: string;

  @Field(() => String, { nullable: true, description: 'Sweep the SAE was trained in' })
  sweep!: string | null;

  path!: string | null;

  @Field(() => String, { description: 'training, finished, failed or imported' })
  status!: string;

  @Field(() => String)
  codeVersion!: string;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType({ description: 'A saved state of an SAE during training (log-spaced steps) or its final state' })
export class SaeCheckpoint implements Omit<SaeCheckpointRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  saeId!: number;

  @Field(() => Float)
  step!: number;

  @Field(() => Float)
  tokensSeen!: number;

  @Field(() => Boolean)
  isFinal!: boolean;

  path!: string;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType({ description: 'One metric of one SAE checkpoint under one evaluation config' })
export class MetricResult implements MetricResultRecord {
  id!: number;

  saeCheckpointId!: number;

  @Field(() => String, { description: 'l0, frac_variance_explained, frac_recovered, coverage, reconstruction, num_alive_features, ...' })
  metric!: string;

  @Field(() => String, { description: "BSP family code for supervised metrics, '' for unsupervised ones" })
  family!: string;

  @Field(() => Float)
  value!: number;

  @Field(() => JSON)
  details!: Record<string, unknown>;

  @Field(() => JSON)
  evalConfig!: Record<string, unknown>;

  @Field(() => String)
  evalConfigHash!: string;

  @Field(() => String)
  codeVersion!: string;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType({ description: 'One supervised evaluation run of a checkpoint (saeboard eval)' })
export class Evaluation implements Omit<EvaluationRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  saeCheckpointId!: number;

  @Field(() => String)
  datasetPath!: string;

  @Field(() => JSON)
  evalConfig!: Record<string, unknown>;

  @Field(() => String)
  evalConfigHash!: string;

  @Field(() => String)
  codeVersion!: string;

  @Field(() => Int)
  aliveFeatures!: number;

  @Field(() => Int)
  trainPositions!: number;

  @Field(() => Int)
  testPositions!: number;

  @Field(() => JSON, { description: 'Headline numbers per family' })
  summary!: Record<string, unknown>;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType()
export class SaeEdge extends EdgeType(Sae) {}

@ObjectType()
export class SaeConnection extends ConnectionType(SaeEdge) {}

@InputType({ description: 'Bounds on a metric of the final checkpoint' })
export class MetricBoundInput {
  @Field(() => String)
  metric!: string;

  @Field(() => String, { nullable: true, description: 'BSP family (short or code name) for coverage/reconstruction' })
  family?: string | null;

  @Field(() => Float, { nullable: true })
  min?: number | null;

  @Field(() => Float, { nullable: true })
  max?: number | null;
}

@InputType()
export class SaeFilter {
  @Field(() => GameId, { nullable: true })
  game?: GameId | null;

  @Field(() => String, { nullable: true, description: 'LM id or name' })
  lm?: string | null;

  @Field(() => String, { nullable: true })
  trainer?: string | null;

  @Field(() => Int, { nullable: true })
  layer?: number | null;

  @Field(() => Int, { nullable: true })
  dictionarySize?: number | null;

  @Field(() => String, { nullable: true })
  sweep?: string | null;

  @Field(() => Float, { nullable: true, description: 'Final checkpoint L0 at least' })
  l0Min?: number | null;

  @Field(() => Float, { nullable: true, description: 'Final checkpoint L0 at most' })
  l0Max?: number | null;

  @Field(() => [MetricBoundInput], { nullable: true })
  metrics?: MetricBoundInput[] | null;
}

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(SortDirection, { name: 'SortDirection' });

@InputType({ description: "Order SAEs by a metric of their final checkpoint (SAEs without it are left out)" })
export class SaeOrder {
  @Field(() => String)
  metric!: string;

  @Field(() => String, { nullable: true })
  family?: string | null;

  @Field(() => SortDirection, { defaultValue: SortDirection.DESC })
  direction!: SortDirection;
}

@ObjectType({ description: 'One bin of a log10(feature density) histogram' })
export class DensityBin {
  @Field(() => Float)
  log10Low!: number;

  @Field(() => Float)
  log10High!: number;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: "Histogram of a checkpoint's feature densities (firing rates) on the evaluation sample, log10-binned" })
export class DensityHistogram {
  @Field(() => Int, { description: 'Features that never fired' })
  dead!: number;

  @Field(() => [DensityBin])
  bins!: DensityBin[];
}
