import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType, EdgeType } from '../common/connection.js';
import { DateTime } from '../common/scalars.js';
import type {
  BspAnalysisRecord,
  BspLearningRecord,
  ComparisonRecord,
  ComparisonSummaryRecord,
  ExplainedShareRecord,
  ExplanationRecord,
  FeatureHistoryRecord,
  HistoryPointRecord,
  LinkKindName,
  LinkRecord,
} from '../../services/analyses.service.js';

export enum LinkKind {
  MATCH = 'MATCH',
  SPLIT = 'SPLIT',
  MERGE = 'MERGE',
  DEATH = 'DEATH',
  BIRTH = 'BIRTH',
}
registerEnumType(LinkKind, {
  name: 'LinkKind',
  description:
    'MATCH: one-to-one pair; SPLIT: a feature of A linked to several of B; MERGE: several of A linked to one of B; DEATH: a feature of A without counterpart; BIRTH: a feature of B without counterpart',
});

export enum ExplanationKind {
  SINGLE = 'single',
  AND = 'and',
  OR = 'or',
}
registerEnumType(ExplanationKind, { name: 'ExplanationKind', description: 'One board property, or the AND / OR of two' });

@ObjectType({ description: 'A link between a feature of checkpoint A and one of checkpoint B (decoder cosine), or a birth / death' })
export class FeatureLink implements Omit<LinkRecord, 'kind'> {
  @Field(() => LinkKind)
  kind!: LinkKindName;

  checkpointA!: number;
  checkpointB!: number;

  @Field(() => Int, { nullable: true, description: 'Feature index in A (null for a birth)' })
  featureA!: number | null;

  @Field(() => Int, { nullable: true, description: 'Feature index in B (null for a death)' })
  featureB!: number | null;

  @Field(() => Float, { nullable: true, description: 'Cosine similarity of the two decoder vectors' })
  cosine!: number | null;

  @Field(() => Boolean, { description: 'Part of the optimal one-to-one assignment' })
  matched!: boolean;

  @Field(() => Float, { nullable: true, description: 'Best board-property F1 of the feature in A' })
  f1A!: number | null;

  @Field(() => Float, { nullable: true, description: 'Best board-property F1 of the feature in B' })
  f1B!: number | null;

  bspA!: number | null;
  bspB!: number | null;
}

@ObjectType()
export class FeatureLinkEdge extends EdgeType(FeatureLink) {}

@ObjectType({ description: 'Counts of a checkpoint comparison' })
export class ComparisonSummary implements ComparisonSummaryRecord {
  @Field(() => Int)
  aliveA!: number;
  @Field(() => Int)
  aliveB!: number;
  @Field(() => Int, { description: 'One-to-one pairs at cosine ≥ the match threshold' })
  matched!: number;
  @Field(() => Float)
  meanMatchedCosine!: number;
  @Field(() => Int, { description: 'Features of A linked to two or more of B' })
  splits!: number;
  @Field(() => Int, { description: 'Features of B linked to two or more of A' })
  merges!: number;
  @Field(() => Int)
  deaths!: number;
  @Field(() => Int)
  births!: number;
}

@ObjectType({ description: 'Features of checkpoint A matched to those of checkpoint B: a Relay connection of links, with the counts' })
export class CheckpointComparison extends ConnectionType(FeatureLinkEdge) implements Omit<ComparisonRecord, 'edges' | 'pageInfo' | 'totalCount'> {
  checkpointA!: number;
  checkpointB!: number;

  @Field(() => ComparisonSummary)
  summary!: ComparisonSummaryRecord;

  @Field(() => DateTime)
  createdAt!: Date;
}

@InputType({ description: 'Which links of a comparison' })
export class LinkFilter {
  @Field(() => [LinkKind], { nullable: true })
  kinds?: LinkKindName[] | null;

  @Field(() => Float, { nullable: true })
  minCosine?: number | null;
}

@ObjectType({ description: "A feature's F1 with its final board property at one checkpoint" })
export class HistoryPoint implements HistoryPointRecord {
  @Field(() => Float)
  step!: number;

  saeCheckpointId!: number;

  @Field(() => Float)
  f1!: number;
}

@ObjectType({ description: 'How one feature came to track its final board property over the SAE’s checkpoints' })
export class FeatureHistory implements FeatureHistoryRecord {
  saeId!: number;

  @Field(() => Int)
  featureIndex!: number;

  finalCheckpointId!: number;
  bspId!: number;

  @Field(() => Float, { description: 'F1 level a feature must reach to count as tracking its property' })
  level!: number;

  @Field(() => Float, { nullable: true, description: 'First step with F1 ≥ level' })
  firstStep!: number | null;

  @Field(() => Float, { nullable: true, description: 'From this step on F1 stays ≥ level' })
  stableStep!: number | null;

  @Field(() => Float)
  finalF1!: number;

  @Field(() => [HistoryPoint])
  points!: HistoryPointRecord[];
}

@ObjectType({ description: 'When an SAE learns a board property: the earliest step at which one of its features tracks it' })
export class BspLearning implements BspLearningRecord {
  bspId!: number;

  @Field(() => Float, { nullable: true, description: 'Null: no feature reaches the level' })
  firstStep!: number | null;

  @Field(() => Int, { description: 'Features whose final best property it is' })
  features!: number;

  @Field(() => Float)
  bestFinalF1!: number;
}

@ObjectType()
export class BspLearningEdge extends EdgeType(BspLearning) {}

@ObjectType()
export class BspLearningConnection extends ConnectionType(BspLearningEdge) {}

@ObjectType({ description: 'A readable explanation of a feature ("white knight on f3 AND black to move"), chosen on D_train and scored on held-out D_test positions' })
export class FeatureExplanation implements Omit<ExplanationRecord, 'kind'> {
  saeCheckpointId!: number;
  featureIndex!: number;

  @Field(() => Int, { description: '0 = the explanation (best fitted F1); 1, 2 = the best of the other kinds' })
  rank!: number;

  @Field(() => ExplanationKind)
  kind!: string;

  bspA!: number;
  bspB!: number | null;

  @Field(() => String)
  text!: string;

  @Field(() => Int)
  thresholdIndex!: number;

  @Field(() => Float, { description: 'Fraction of the maximum activation above which the feature counts as on' })
  threshold!: number;

  @Field(() => Float)
  fitPrecision!: number;
  @Field(() => Float)
  fitRecall!: number;
  @Field(() => Float)
  fitF1!: number;

  @Field(() => Float, { description: 'Held out' })
  precision!: number;
  @Field(() => Float, { description: 'Held out' })
  recall!: number;
  @Field(() => Float, { description: 'Held out' })
  f1!: number;

  @Field(() => Int)
  tp!: number;
  @Field(() => Int)
  onCount!: number;
  @Field(() => Int)
  truthCount!: number;
}

@ObjectType({ description: 'Share of alive features whose explanation reaches a held-out F1 (a ground-truth stand-in for auto-interpretability), with the checkpoint’s absorption and splitting' })
export class ExplainedShare implements ExplainedShareRecord {
  @Field(() => Float, { description: 'Share of alive features explained at held-out F1 ≥ 0.5' })
  atF1_50!: number;

  @Field(() => Float, { description: 'Share of alive features explained at held-out F1 ≥ 0.8' })
  atF1_80!: number;

  @Field(() => Int)
  aliveFeatures!: number;

  @Field(() => Int)
  explainedFeatures!: number;

  @Field(() => Float, { nullable: true, description: 'Mean absorption rate over board properties with a strong feature (lower is better)' })
  absorption!: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean number of features whose OR reaches F1 ≥ 0.9 on a property (1 is best)' })
  splitting!: number | null;

  @Field(() => String)
  evalConfigHash!: string;
}

export enum BspAnalysisOrder {
  ABSORPTION = 'ABSORPTION',
  SPLITTING = 'SPLITTING',
  BSP = 'BSP',
}
registerEnumType(BspAnalysisOrder, { name: 'BspAnalysisOrder', description: 'Most absorbed first, most split first (unscored last), or by board-property id' });

@ObjectType({ description: "A board property in one checkpoint: its main features, how often they miss it because another feature absorbs it, and how many features its OR needs to reach F1 ≥ 0.9" })
export class BspAnalysis implements BspAnalysisRecord {
  saeCheckpointId!: number;
  bspId!: number;

  @Field(() => Int, { description: 'Held-out positions where it holds' })
  positives!: number;

  bestFeature!: number | null;

  @Field(() => Float, { description: 'Held-out F1 of its best feature (chosen on D_train)' })
  bestF1!: number;

  @Field(() => [Int], { description: 'Feature indices with F1 ≥ the main-feature level' })
  mainFeatures!: number[];

  @Field(() => Int, { description: 'Positions where it holds and every main feature is off' })
  missed!: number;

  @Field(() => Int)
  absorbed!: number;

  @Field(() => Float, { nullable: true, description: 'absorbed / missed; null: no strong feature' })
  absorption!: number | null;

  @Field(() => Float)
  meanAbsorbingShare!: number;

  topAbsorber!: number | null;

  @Field(() => Int)
  topAbsorberCount!: number;

  @Field(() => [Int], { description: 'Greedy OR, in order' })
  splitFeatures!: number[];

  @Field(() => [Float], { description: 'F1 of the OR after each feature' })
  splitF1s!: number[];

  @Field(() => Int, { nullable: true, description: 'Features needed for F1 ≥ 0.9; null: not within the cap' })
  splitting!: number | null;
}

@ObjectType()
export class BspAnalysisEdge extends EdgeType(BspAnalysis) {}

@ObjectType()
export class BspAnalysisConnection extends ConnectionType(BspAnalysisEdge) {}
