import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DateTime, JSON } from '../common/scalars.js';
import type { ActivationSetRecord, DatasetRecord, LanguageModelRecord, LmCheckpointRecord, ProbeResultRecord } from '../../services/records.js';

@ObjectType({ description: 'A board-game GPT: trained, imported, or the random-init twin of a trained one' })
export class LanguageModel implements Omit<LanguageModelRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  game!: string;

  @Field(() => String, { description: 'trained, imported or random-init' })
  origin!: string;

  @Field(() => JSON, { description: 'Typed GPT config: nLayer, nHead, dModel, nCtx, vocabSize, ...' })
  config!: Record<string, unknown>;

  @Field(() => String)
  configHash!: string;

  randomInitOfId!: number | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType({ description: 'A saved state of an LM (step, tokens seen, measured metrics such as the legal-move rate)' })
export class LmCheckpoint implements Omit<LmCheckpointRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  lmModelId!: number;

  @Field(() => Float)
  step!: number;

  @Field(() => Float)
  tokensSeen!: number;

  @Field(() => JSON)
  metrics!: Record<string, unknown>;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType({ description: 'A linear probe of a BSP family on one layer of an LM checkpoint: the ceiling SAEs are compared with' })
export class ProbeResult implements ProbeResultRecord {
  id!: number;

  lmCheckpointId!: number;

  @Field(() => Int)
  layer!: number;

  @Field(() => String)
  site!: string;

  @Field(() => String, { description: 'BSP family short name' })
  family!: string;

  @Field(() => String, { description: 'softmax (one class per cell) or sigmoid (independent labels)' })
  kind!: string;

  @Field(() => Float, { description: 'Held-out accuracy' })
  accuracy!: number;

  @Field(() => Float, { nullable: true })
  f1!: number | null;

  @Field(() => Float)
  trainAccuracy!: number;

  @Field(() => Float, { description: 'Majority-class accuracy on the same positions' })
  baselineAccuracy!: number;

  @Field(() => Int)
  nTrain!: number;

  @Field(() => Int)
  nTest!: number;

  @Field(() => String)
  configHash!: string;
}

@ObjectType({ description: 'A registered dataset of games with board-state labels' })
export class Dataset implements Omit<DatasetRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  game!: string;

  @Field(() => String)
  source!: string;

  @Field(() => Int)
  nGames!: number;

  @Field(() => Float)
  nPositions!: number;

  @Field(() => String)
  codeVersion!: string;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType({ description: "An LM checkpoint's activations at one layer and hook site over a dataset, stored for SAE training" })
export class ActivationSet implements Omit<ActivationSetRecord, 'id'> {
  @Field(() => ID)
  id!: number;

  lmCheckpointId!: number;

  @Field(() => Int)
  layer!: number;

  @Field(() => String)
  site!: string;

  @Field(() => String, { description: 'all or dots (chess: the positions after each full move)' })
  positions!: string;

  @Field(() => String)
  dtype!: string;

  @Field(() => Float)
  nVectors!: number;

  @Field(() => Int)
  dModel!: number;

  @Field(() => String)
  path!: string;

  @Field(() => String)
  codeVersion!: string;

  @Field(() => DateTime)
  createdAt!: Date;
}
