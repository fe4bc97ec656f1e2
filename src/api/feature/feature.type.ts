import type { SquareF1Record } from '../../services/feature.service.js';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType, EdgeType } from '../common/connection.js';
import { GameId } from '../game/game.type.js';
import type { AlignmentRecord, FeatureExampleRecord, FeatureRecord } from '../../services/records.js';
import type { ActivationRecord } from '../../services/activation.service.js';

@ObjectType({ description: 'One feature (dictionary direction) of an evaluated SAE checkpoint' })
export class Feature implements FeatureRecord {
  @Field(() => ID, { description: '"<saeCheckpointId>:<index>"' })
  id!: string;

  @Field(() => Int)
  index!: number;

  saeCheckpointId!: number;
  saeId!: number;
  featureIndex!: number;

  @Field(() => Boolean, { description: 'Fired at least once on the sample the maxima come from' })
  alive!: boolean;

  @Field(() => Float)
  maxActivation!: number;

  @Field(() => Float, { description: 'Firing rate over the evaluation sample' })
  density!: number;

  @Field(() => [Float], { nullable: true, description: 'Activation histogram (fractions of the maximum, evenly binned)' })
  histogram!: number[] | null;

  bestBspId!: number | null;

  @Field(() => Float, { nullable: true, description: 'F1 of the best-aligned board property' })
  bestF1!: number | null;

  @Field(() => Float, { nullable: true, description: 'Threshold (fraction of the maximum activation) of that alignment' })
  bestThreshold!: number | null;
}

@ObjectType({ description: 'A feature × board property alignment at one threshold: the feature "on" as a classifier of the property' })
export class Alignment implements AlignmentRecord {
  saeCheckpointId!: number;
  featureIndex!: number;
  bspId!: number;

  @Field(() => Int)
  thresholdIndex!: number;

  @Field(() => Float, { description: 'Fraction of the feature maximum above which it counts as on' })
  threshold!: number;

  @Field(() => Int)
  tp!: number;

  @Field(() => Int)
  fp!: number;

  @Field(() => Int)
  fn!: number;

  @Field(() => Float)
  precision!: number;

  @Field(() => Float)
  recall!: number;

  @Field(() => Float)
  f1!: number;
}

@ObjectType({ description: 'A top-activating evaluation position of a feature' })
export class FeatureExample implements FeatureExampleRecord {
  saeCheckpointId!: number;
  featureIndex!: number;

  @Field(() => Int, { description: '0 = highest activation' })
  rank!: number;

  @Field(() => String, { description: 'train or test split of the evaluation dataset' })
  split!: 'train' | 'test';

  @Field(() => Int)
  gameIndex!: number;

  @Field(() => Int, { description: 'Token index in the game' })
  positionIndex!: number;

  @Field(() => Float)
  activation!: number;

  @Field(() => String, { description: 'Chess: FEN. Othello: 64 characters a1..h8 row-major, X black, O white, . empty' })
  board!: string;
}

@ObjectType({ description: 'A stored (non-zero) feature activation at an evaluation position' })
export class FeatureActivation implements ActivationRecord {
  saeCheckpointId!: number;

  @Field(() => Int)
  featureIndex!: number;

  @Field(() => Int)
  gameIndex!: number;

  @Field(() => Int)
  positionIndex!: number;

  @Field(() => Float)
  value!: number;
}

@ObjectType()
export class FeatureEdge extends EdgeType(Feature) {
  @Field(() => Alignment, { nullable: true, description: 'With a board-property filter: the (feature, property) pair this edge is about, at its best threshold (or the threshold asked for)' })
  alignment!: AlignmentRecord | null;
}

@ObjectType()
export class FeatureConnection extends ConnectionType(FeatureEdge) {}

@ObjectType()
export class FeatureActivationEdge extends EdgeType(FeatureActivation) {}

@ObjectType()
export class FeatureActivationConnection extends ConnectionType(FeatureActivationEdge) {}

export enum FeatureOrder {
  F1 = 'F1',
  PRECISION = 'PRECISION',
  RECALL = 'RECALL',
  MAX_ACTIVATION = 'MAX_ACTIVATION',
  DENSITY = 'DENSITY',
}
registerEnumType(FeatureOrder, {
  name: 'FeatureOrder',
  description: 'F1/PRECISION/RECALL of the matched alignment (with a board-property filter) or of the best one (F1 only, without); all descending',
});

@InputType({ description: 'Which features: by board property, checkpoint, SAE, LM, scores. Without a checkpoint, step or allCheckpoints, only final checkpoints count.' })
export class FeatureFilter {
  @Field(() => GameId, { nullable: true })
  game?: GameId | null;

  @Field(() => String, { nullable: true, description: 'Board property id or readable name, e.g. "white knight on f3"' })
  boardProperty?: string | null;

  @Field(() => String, { nullable: true, description: 'BSP family, short ("board_state") or code name' })
  family?: string | null;

  @Field(() => String, { nullable: true, description: 'Square, e.g. "f3"' })
  square?: string | null;

  @Field(() => Float, { nullable: true })
  minF1?: number | null;

  @Field(() => Float, { nullable: true })
  minPrecision?: number | null;

  @Field(() => Float, { nullable: true, description: 'Alignments at this threshold only (0, 0.1, …, 1) instead of each pair’s best' })
  threshold?: number | null;

  @Field(() => ID, { nullable: true })
  sae?: string | null;

  @Field(() => ID, { nullable: true })
  saeCheckpoint?: string | null;

  @Field(() => Float, { nullable: true, description: 'Checkpoints at this training step' })
  step?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Every checkpoint, not only final ones' })
  allCheckpoints?: boolean | null;

  @Field(() => String, { nullable: true })
  trainer?: string | null;

  @Field(() => Int, { nullable: true })
  layer?: number | null;

  @Field(() => String, { nullable: true, description: 'LM id or name' })
  lm?: string | null;

  @Field(() => Boolean, { nullable: true })
  alive?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Features whose explanation (ANALYZE job) contains this text, case-insensitive, e.g. "knight on f3" or "AND"' })
  explanationContains?: string | null;
}

@ObjectType({ description: "A feature's best F1 on one square of a square-wise family (over the family's classes and thresholds)" })
export class SquareF1 implements SquareF1Record {
  @Field(() => String, { description: 'e.g. "f3"' })
  square!: string;

  @Field(() => Int)
  row!: number;

  @Field(() => Int)
  column!: number;

  @Field(() => Float)
  f1!: number;

  bspId!: number;
}
