import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Alignment } from '../feature/feature.type.js';
import type { ActiveFeatureRecord, PositionAnalysisRecord, SaeAnalysisRecord } from '../../services/analysis.service.js';
import type { AlignmentRecord } from '../../services/records.js';

@ObjectType({ description: 'A feature active at the analysed position' })
export class ActiveFeature implements ActiveFeatureRecord {
  saeCheckpointId!: number;

  @Field(() => Int)
  featureIndex!: number;

  @Field(() => Float)
  value!: number;

  @Field(() => Float, { nullable: true, description: "value / the feature's maximum activation on the evaluation sample" })
  relativeActivation!: number | null;

  @Field(() => [Alignment], { description: 'Its stored alignments with board properties that hold in this position' })
  trueAlignments!: AlignmentRecord[];
}

@ObjectType({ description: 'One SAE run live on the analysed position' })
export class SaeAnalysis implements SaeAnalysisRecord {
  saeId!: number;
  saeCheckpointId!: number;

  @Field(() => Int, { description: 'Features with a non-zero activation' })
  activeFeatureCount!: number;

  @Field(() => [ActiveFeature], { description: 'The strongest active features, strongest first' })
  features!: ActiveFeatureRecord[];
}

@ObjectType({ description: 'A position played from a move list, the board properties that hold there, and the SAEs run live on it' })
export class PositionAnalysis implements PositionAnalysisRecord {
  @Field(() => String)
  game!: string;

  @Field(() => [String], { description: 'The moves as played: Othello square names, chess canonical SAN' })
  moves!: string[];

  @Field(() => String, { description: 'Othello: 64 characters a1..h8 row-major, X black, O white, . empty. Chess: FEN' })
  board!: string;

  @Field(() => String, { description: 'black or white' })
  toMove!: string;

  @Field(() => [String], { description: 'Moves legal here: Othello square names (the opponent’s when the side to move must pass; none when the game is over); chess UCI, castling as e1g1' })
  legalMoves!: string[];

  trueBoardPropertyIds!: number[];

  @Field(() => [SaeAnalysis])
  saes!: SaeAnalysisRecord[];
}
