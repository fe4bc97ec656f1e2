import type { NonEmptyArray } from 'type-graphql';
import { ApiKeyResolver } from './apikey/apikey.resolver.js';
import { GameResolver } from './game/game.resolver.js';
import { SystemResolver } from './system/system.resolver.js';
import { ActiveFeatureResolver, PositionAnalysisResolver, SaeAnalysisResolver } from './analysis/analysis.resolver.js';
import { JobResolver } from './job/job.resolver.js';
import { BoardPropertyResolver } from './boardProperty/boardProperty.resolver.js';
import { AlignmentResolver, FeatureExampleResolver, FeatureResolver } from './feature/feature.resolver.js';
import { LeaderboardEntryResolver, LeaderboardResolver } from './leaderboard/leaderboard.resolver.js';
import { LanguageModelResolver, LmCheckpointResolver } from './lm/lm.resolver.js';
import { SaeCheckpointResolver, SaeResolver } from './sae/sae.resolver.js';
import { provenanceResolvers } from './provenance/provenance.resolver.js';
import {
  BspAnalysisResolver,
  BspLearningResolver,
  CheckpointComparisonResolver,
  FeatureExplanationResolver,
  FeatureExplanationsResolver,
  FeatureHistoryResolver,
  FeatureLinkResolver,
  HistoryPointResolver,
  SaeCheckpointAnalysisResolver,
} from './analyses/analyses.resolver.js';

/** Every resolver class of the API; add a domain's resolver here. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resolvers: NonEmptyArray<Function> = [
  SystemResolver,
  GameResolver,
  LanguageModelResolver,
  LmCheckpointResolver,
  SaeResolver,
  SaeCheckpointResolver,
  FeatureResolver,
  AlignmentResolver,
  FeatureExampleResolver,
  BoardPropertyResolver,
  LeaderboardResolver,
  LeaderboardEntryResolver,
  PositionAnalysisResolver,
  SaeAnalysisResolver,
  ActiveFeatureResolver,
  JobResolver,
  ApiKeyResolver,
  ...provenanceResolvers,
  CheckpointComparisonResolver,
  FeatureLinkResolver,
  FeatureHistoryResolver,
  HistoryPointResolver,
  BspLearningResolver,
  FeatureExplanationResolver,
  FeatureExplanationsResolver,
  SaeCheckpointAnalysisResolver,
  BspAnalysisResolver,
];
