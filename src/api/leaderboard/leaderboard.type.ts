import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { LeaderboardEntryRecord, LeaderboardRecord } from '../../services/leaderboard.service.js';

@ObjectType({ description: 'An SAE (its final checkpoint) on a leaderboard: a point of the metric-vs-L0 plot' })
export class LeaderboardEntry implements LeaderboardEntryRecord {
  @Field(() => Int)
  rank!: number;

  saeId!: number;
  saeCheckpointId!: number;

  @Field(() => String)
  trainer!: string;

  lmModelId!: number;

  @Field(() => String, { description: 'Origin of the LM: trained, imported or random-init' })
  lmOrigin!: string;

  @Field(() => Float)
  value!: number;

  @Field(() => Float, { nullable: true, description: 'L0 of the same checkpoint (unsupervised metrics), if measured' })
  l0!: number | null;

  @Field(() => String)
  evalConfigHash!: string;
}

@ObjectType({ description: 'SAEs ranked by one metric, with the random-init floor and the linear-probe ceiling' })
export class Leaderboard implements Omit<LeaderboardRecord, 'probeFamily'> {
  @Field(() => String)
  game!: string;

  @Field(() => Int, { nullable: true })
  layer!: number | null;

  @Field(() => String)
  metric!: string;

  @Field(() => String, { nullable: true })
  family!: string | null;

  @Field(() => [LeaderboardEntry], { description: 'SAEs on trained or imported LMs, best first' })
  entries!: LeaderboardEntryRecord[];

  @Field(() => [LeaderboardEntry], { description: 'SAEs on random-init LMs, best first (the floor)' })
  randomInit!: LeaderboardEntryRecord[];
}
