/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** The board games saeboard knows */
export type GameId =
  | 'chess'
  | 'othello';

export type JobFilter = {
  kind?: string | null | undefined;
  pipeline?: string | null | undefined;
  status?: string | null | undefined;
};

export type PropertyPageQueryVariables = Exact<{
  id: string | number;
  ref: string;
}>;


export type PropertyPageQuery = { boardProperty: { id: string, name: string, game: string, family: string, group: string, square: string | null, className: string, masked: boolean, bestF1: number | null, bestProbe: { accuracy: number, f1: number | null, layer: number } | null }, features: { edges: Array<{ node: { id: string, index: number, sae: { id: string, name: string, trainer: string, layer: number }, saeCheckpoint: { id: string, step: number, isFinal: boolean } }, alignment: { f1: number, precision: number, recall: number, threshold: number } | null }> } };

export type ExplorerSaesQueryVariables = Exact<{
  game: GameId;
}>;


export type ExplorerSaesQuery = { saes: { edges: Array<{ node: { id: string, name: string, trainer: string, layer: number, languageModel: { name: string, origin: string } } }> } };

export type AnalyzeQueryVariables = Exact<{
  game: GameId;
  moves: string;
  saes: Array<string | number> | string | number;
}>;


export type AnalyzeQuery = { analyzePosition: { board: string, toMove: string, moves: Array<string>, legalMoves: Array<string>, trueProperties: Array<{ id: string, name: string, family: string }>, saes: Array<{ activeFeatureCount: number, sae: { id: string, name: string, trainer: string }, features: Array<{ featureIndex: number, value: number, relativeActivation: number | null, feature: { id: string } | null, trueAlignments: Array<{ f1: number, boardProperty: { id: string, name: string } }> }> }> } };

export type FeaturePageQueryVariables = Exact<{
  id: string | number;
  family: string;
}>;


export type FeaturePageQuery = { feature: { id: string, index: number, alive: boolean, maxActivation: number, density: number, histogram: Array<number> | null, bestF1: number | null, bestThreshold: number | null, sae: { id: string, name: string, trainer: string, layer: number, languageModel: { game: string, name: string } }, saeCheckpoint: { id: string, step: number, isFinal: boolean }, topExamples: Array<{ rank: number, activation: number, board: string, gameIndex: number, positionIndex: number, split: string, transcript: Array<string> | null }>, alignments: Array<{ threshold: number, precision: number, recall: number, f1: number, boardProperty: { id: string, name: string, family: string, square: string | null } }>, squareF1: Array<{ square: string, row: number, column: number, f1: number }> } };

export type FeatureCurveQueryVariables = Exact<{
  id: string | number;
  bsp: string | number;
}>;


export type FeatureCurveQuery = { feature: { id: string, alignmentCurve: Array<{ threshold: number, precision: number, recall: number, f1: number }> } };

export type JobFieldsFragment = { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null };

export type JobsQueryVariables = Exact<{
  filter?: JobFilter | null | undefined;
}>;


export type JobsQuery = { jobs: { edges: Array<{ node: { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null } }> } };

export type JobUpdatedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type JobUpdatedSubscription = { jobUpdated: { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null } };

export type StartJobMutationVariables = Exact<{
  kind: string;
  config: unknown;
}>;


export type StartJobMutation = { startJob: { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null } };

export type CancelJobMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelJobMutation = { cancelJob: Array<{ id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null }> };

export type LeaderboardOptionsQueryVariables = Exact<{
  game: GameId;
}>;


export type LeaderboardOptionsQuery = { saes: { edges: Array<{ node: { id: string, layer: number, metrics: Array<{ metric: string, family: string }> } }> } };

export type LeaderboardQueryVariables = Exact<{
  game: GameId;
  layer?: number | null | undefined;
  metric: string;
  family?: string | null | undefined;
}>;


export type LeaderboardQuery = { leaderboard: { game: string, layer: number | null, metric: string, family: string | null, entries: Array<{ rank: number, value: number, l0: number | null, trainer: string, sae: { id: string, name: string, layer: number, dictionarySize: number } }>, randomInit: Array<{ rank: number, value: number, l0: number | null, trainer: string, sae: { id: string, name: string, layer: number } }>, probe: { accuracy: number, f1: number | null, layer: number, family: string } | null } };

export type SaePageQueryVariables = Exact<{
  id: string | number;
}>;


export type SaePageQuery = { sae: { id: string, name: string, trainer: string, dictionary: string, dictionarySize: number, dIn: number, layer: number, site: string, status: string, sweep: string | null, hyperparameters: unknown, languageModel: { id: string, name: string, game: string, origin: string }, checkpoints: Array<{ id: string, step: number, isFinal: boolean, metrics: Array<{ metric: string, family: string, value: number }> }>, finalCheckpoint: { id: string, step: number, densityHistogram: { dead: number, bins: Array<{ log10Low: number, log10High: number, count: number }> }, features: { edges: Array<{ node: { id: string, index: number, bestF1: number | null, density: number, maxActivation: number, bestBoardProperty: { id: string, name: string } | null } }> } } | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const JobFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}
    `, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const PropertyPageDocument = new TypedDocumentString(`
    query PropertyPage($id: ID!, $ref: String!) {
  boardProperty(id: $id) {
    id
    name
    game
    family
    group
    square
    className
    masked
    bestF1
    bestProbe {
      accuracy
      f1
      layer
    }
  }
  features(
    filter: {boardProperty: $ref, allCheckpoints: true}
    first: 100
    orderBy: F1
  ) {
    edges {
      node {
        id
        index
        sae {
          id
          name
          trainer
          layer
        }
        saeCheckpoint {
          id
          step
          isFinal
        }
      }
      alignment {
        f1
        precision
        recall
        threshold
      }
    }
  }
}
    `) as unknown as TypedDocumentString<PropertyPageQuery, PropertyPageQueryVariables>;
export const ExplorerSaesDocument = new TypedDocumentString(`
    query ExplorerSaes($game: GameId!) {
  saes(filter: {game: $game}, first: 100) {
    edges {
      node {
        id
        name
        trainer
        layer
        languageModel {
          name
          origin
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerSaesQuery, ExplorerSaesQueryVariables>;
export const AnalyzeDocument = new TypedDocumentString(`
    query Analyze($game: GameId!, $moves: String!, $saes: [ID!]!) {
  analyzePosition(game: $game, moves: $moves, saes: $saes, maxFeatures: 12) {
    board
    toMove
    moves
    legalMoves
    trueProperties {
      id
      name
      family
    }
    saes {
      sae {
        id
        name
        trainer
      }
      activeFeatureCount
      features {
        featureIndex
        value
        relativeActivation
        feature {
          id
        }
        trueAlignments {
          f1
          boardProperty {
            id
            name
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AnalyzeQuery, AnalyzeQueryVariables>;
export const FeaturePageDocument = new TypedDocumentString(`
    query FeaturePage($id: ID!, $family: String!) {
  feature(id: $id) {
    id
    index
    alive
    maxActivation
    density
    histogram
    bestF1
    bestThreshold
    sae {
      id
      name
      trainer
      layer
      languageModel {
        game
        name
      }
    }
    saeCheckpoint {
      id
      step
      isFinal
    }
    topExamples(first: 6) {
      rank
      activation
      board
      gameIndex
      positionIndex
      split
      transcript
    }
    alignments(first: 10) {
      threshold
      precision
      recall
      f1
      boardProperty {
        id
        name
        family
        square
      }
    }
    squareF1(family: $family) {
      square
      row
      column
      f1
    }
  }
}
    `) as unknown as TypedDocumentString<FeaturePageQuery, FeaturePageQueryVariables>;
export const FeatureCurveDocument = new TypedDocumentString(`
    query FeatureCurve($id: ID!, $bsp: ID!) {
  feature(id: $id) {
    id
    alignmentCurve(boardProperty: $bsp) {
      threshold
      precision
      recall
      f1
    }
  }
}
    `) as unknown as TypedDocumentString<FeatureCurveQuery, FeatureCurveQueryVariables>;
export const JobsDocument = new TypedDocumentString(`
    query Jobs($filter: JobFilter) {
  jobs(filter: $filter, first: 50) {
    edges {
      node {
        ...JobFields
      }
    }
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<JobsQuery, JobsQueryVariables>;
export const JobUpdatedDocument = new TypedDocumentString(`
    subscription JobUpdated {
  jobUpdated {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<JobUpdatedSubscription, JobUpdatedSubscriptionVariables>;
export const StartJobDocument = new TypedDocumentString(`
    mutation StartJob($kind: String!, $config: JSON!) {
  startJob(kind: $kind, config: $config) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<StartJobMutation, StartJobMutationVariables>;
export const CancelJobDocument = new TypedDocumentString(`
    mutation CancelJob($id: ID!) {
  cancelJob(id: $id) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<CancelJobMutation, CancelJobMutationVariables>;
export const LeaderboardOptionsDocument = new TypedDocumentString(`
    query LeaderboardOptions($game: GameId!) {
  saes(filter: {game: $game}, first: 100) {
    edges {
      node {
        id
        layer
        metrics {
          metric
          family
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<LeaderboardOptionsQuery, LeaderboardOptionsQueryVariables>;
export const LeaderboardDocument = new TypedDocumentString(`
    query Leaderboard($game: GameId!, $layer: Int, $metric: String!, $family: String) {
  leaderboard(
    game: $game
    layer: $layer
    metric: $metric
    family: $family
    first: 50
  ) {
    game
    layer
    metric
    family
    entries {
      rank
      value
      l0
      trainer
      sae {
        id
        name
        layer
        dictionarySize
      }
    }
    randomInit {
      rank
      value
      l0
      trainer
      sae {
        id
        name
        layer
      }
    }
    probe {
      accuracy
      f1
      layer
      family
    }
  }
}
    `) as unknown as TypedDocumentString<LeaderboardQuery, LeaderboardQueryVariables>;
export const SaePageDocument = new TypedDocumentString(`
    query SaePage($id: ID!) {
  sae(id: $id) {
    id
    name
    trainer
    dictionary
    dictionarySize
    dIn
    layer
    site
    status
    sweep
    hyperparameters
    languageModel {
      id
      name
      game
      origin
    }
    checkpoints {
      id
      step
      isFinal
      metrics {
        metric
        family
        value
      }
    }
    finalCheckpoint {
      id
      step
      densityHistogram(bins: 24) {
        dead
        bins {
          log10Low
          log10High
          count
        }
      }
      features(first: 10, orderBy: F1) {
        edges {
          node {
            id
            index
            bestF1
            density
            maxActivation
            bestBoardProperty {
              id
              name
            }
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<SaePageQuery, SaePageQueryVariables>;